"""What a promoter is worth: survey answers joined by customer id to what the same customers did
afterwards (churn, revenue, lifetime value, time to churn), by NPS category, with intervals and the
differences between categories. An association, not an experiment. The join and the statistics are
computed in Rust (``cx_metrics::promoter_value``, which folds the joined rows into the mergeable state
``cx_metrics::nps_value_tally``); this module codes the ids, presents the result, and gives the state
(:class:`NpsValueTally`) and the plan that :mod:`cx_metrics.dask` and :mod:`cx_metrics.spark` fold
over partitions of the joined tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from . import _native
from ._groups import label_str
from ._partitions import Plan
from ._results import (
    FrameColumn,
    Interval,
    NativeResult,
    Tabular,
    fixed,
    html_block,
    html_table,
    json_dict,
    level_text,
)
from ._table import Table
from ._tally import _State
from .exceptions import ColumnError, InvalidArgumentError
from .retention import SameJson

__all__ = ["NpsValueTally", "PromoterValue", "PromoterValueByGroup", "nps_value"]

_CATEGORIES = ("detractor", "passive", "promoter")


def _interval(raw: dict[str, Any] | None, method: str) -> Interval | None:
    if raw is None:
        return None
    return Interval(raw["low"], raw["high"], raw["confidence_level"], method, raw["clipped"])


@dataclass(frozen=True, eq=False)
class PromoterValue(SameJson, NativeResult, Tabular):
    """Churn, revenue and lifetime value by NPS category, and the differences between categories.

    An association between the answers and what the customers did afterwards, not an experiment.

    Attributes
    ----------
    categories : dict
        Per category (``"detractor"``, ``"passive"``, ``"promoter"``): ``n``, ``churn`` with its Wilson
        ``churn_ci``, ``revenue`` and ``value`` (mean, sd, t interval) as the core's dicts.
    differences : list of dict
        ``a - b`` for promoter - detractor, passive - detractor, promoter - passive and each measure:
        churn with Newcombe's interval, revenue and value with Welch's.
    retention : dict or None
        Kaplan-Meier curve per category when durations were given.
    n_survey_unmatched, n_outcomes_unmatched, n_missing_score : int
        Answers without an outcome row, outcome rows without an answer, answers without a score: left
        out and counted.
    """

    _native_type: ClassVar[Any] = _native.PromoterValue
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> PromoterValue:
        return cls(native)

    @property
    def categories(self) -> dict[str, dict[str, Any]]:
        return {str(c["category"]): c for c in self._raw["categories"]}

    @property
    def differences(self) -> list[dict[str, Any]]:
        return list(self._raw["differences"])

    def worth(
        self, measure: str = "revenue", to: str = "promoter", from_: str = "detractor"
    ) -> tuple[float, Interval | None]:
        """The difference in mean ``measure`` between ``to`` and ``from_`` customers ("moving one
        detractor to promoter goes with ..."), with its interval: an association, not an effect."""
        for d in self.differences:
            if d["measure"] == measure and d["a"] == to and d["b"] == from_:
                return float(d["difference"]), _interval(d["ci"], str(d["method"]))
        raise InvalidArgumentError(
            f"invalid arguments: no {measure} difference {to} - {from_}; measures computed:"
            f" {sorted({d['measure'] for d in self.differences})}, pairs promoter-detractor,"
            " passive-detractor, promoter-passive"
        )

    @property
    def retention(self) -> dict[str, Any] | None:
        curves = self._native.retention
        if curves is None:
            return None
        return dict(zip(_CATEGORIES, curves, strict=True))

    @property
    def n_survey_unmatched(self) -> int:
        return int(self._raw["n_survey_unmatched"])

    @property
    def n_outcomes_unmatched(self) -> int:
        return int(self._raw["n_outcomes_unmatched"])

    @property
    def n_missing_score(self) -> int:
        return int(self._raw["n_missing_score"])

    @property
    def confidence_level(self) -> float:
        return float(self._raw["confidence_level"])

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def __str__(self) -> str:
        return str(self._native)

    def _columns(self) -> list[FrameColumn]:
        cats = list(self.categories.values())

        def mean(c: dict[str, Any], k: str, part: str) -> float:
            m = c[k]
            if m is None:
                return math.nan
            if part == "mean":
                return float(m["mean"])
            ci = m["ci"]
            return math.nan if ci is None else float(ci[part])

        def churn(c: dict[str, Any], part: str) -> float:
            if part == "churn":
                return math.nan if c["churn"] is None else float(c["churn"])
            ci = c["churn_ci"]
            return math.nan if ci is None else float(ci[part])

        cols: list[FrameColumn] = [
            ("category", "str", [str(c["category"]) for c in cats]),
            ("n", "int", [int(c["n"]) for c in cats]),
            ("churn", "float", [churn(c, "churn") for c in cats]),
            ("churn_low", "float", [churn(c, "low") for c in cats]),
            ("churn_high", "float", [churn(c, "high") for c in cats]),
        ]
        for k in ("revenue", "value"):
            if any(c[k] is not None for c in cats):
                cols += [
                    (k, "float", [mean(c, k, "mean") for c in cats]),
                    (f"{k}_low", "float", [mean(c, k, "low") for c in cats]),
                    (f"{k}_high", "float", [mean(c, k, "high") for c in cats]),
                ]
        return cols

    def _repr_html_(self) -> str:
        cols = self._columns()
        rows = [
            [v if isinstance(v, str) else fixed(float(v), 4) for v in r]
            for r in zip(*(c[2] for c in cols), strict=True)
        ]
        diffs = [
            [
                f"{d['measure']}: {d['a']} - {d['b']}",
                fixed(float(d["difference"]), 4),
                fixed(d["ci"]["low"], 4) if d["ci"] else "",
                fixed(d["ci"]["high"], 4) if d["ci"] else "",
            ]
            for d in self.differences
        ]
        level = level_text(self.confidence_level)
        return html_block(
            html_table(None, rows, header=[c[0] for c in cols]),
            html_table(None, diffs, header=["difference", "estimate", f"{level} CI low", "high"]),
            headline=f"What a promoter is worth (intervals {level}): {self._raw['note']}",
        )


@dataclass(frozen=True)
class PromoterValueByGroup(Tabular):
    """:class:`PromoterValue` per segment of ``by`` (a column of the survey)."""

    by: str
    groups: dict[Any, PromoterValue]

    def __str__(self) -> str:
        return "\n".join(f"{label_str(k)}: {v}" for k, v in self.groups.items())

    def _repr_html_(self) -> str:
        return "".join(v._repr_html_() for v in self.groups.values())

    def to_dict(self) -> dict[str, Any]:
        """One dict per segment."""
        return {label_str(k): v.to_dict() for k, v in self.groups.items()}

    def _columns(self) -> list[FrameColumn]:
        # Every segment is computed from the same columns, so their tables have the same columns.
        parts = [(k, v._columns()) for k, v in self.groups.items()]
        if not parts:
            return [(self.by, "str", [])]
        out: list[FrameColumn] = [(self.by, "str", [label_str(k) for k, cols in parts for _ in cols[0][2]])]
        for i, (name, kind, _) in enumerate(parts[0][1]):
            out.append((name, kind, [v for _, cols in parts for v in cols[i][2]]))
        return out


def _column(table: Table | None, c: object, name: str) -> Any:
    if c is None:
        return None
    return table._raw(c) if table is not None and isinstance(c, str) else c


def _churned(raw: Any, n: int) -> npt.NDArray[np.bool_] | None:
    if raw is None:
        return None
    a = np.asarray(raw)
    if a.shape != (n,):
        raise InvalidArgumentError(f"invalid churned: {a.shape} flags for {n} outcome rows")
    if a.dtype == np.bool_:
        return np.ascontiguousarray(a)
    if a.dtype.kind in "iuf" and np.isin(a, (0, 1)).all():
        return a.astype(np.bool_)
    raise InvalidArgumentError("invalid churned: use True (churned) or False (still a customer) in every row")


def nps_value(
    survey: object,
    outcomes: object,
    *,
    id: str,
    score: str = "ltr",
    churned: str | None = None,
    revenue: str | None = None,
    value: str | None = None,
    duration: str | None = None,
    by: str | None = None,
    confidence_level: float = 0.95,
) -> PromoterValue | PromoterValueByGroup:
    """What a promoter is worth: ``survey`` (one answer per customer: ``id`` and the 0-10 ``score``)
    joined by ``id`` to ``outcomes`` (one row per customer: ``churned``, ``revenue``, ``value``,
    ``duration``; any of them), by NPS category, with intervals and the differences between
    categories. ``by`` names a segment column of the survey. An association, not an experiment.

    Duplicate ids are errors naming the rows; answers without outcomes and outcomes without answers are
    left out and counted.

    The joined rows are folded into :class:`NpsValueTally` (the core's mergeable state), which
    :func:`cx_metrics.dask.nps_value` and :func:`cx_metrics.spark.nps_value` fold per partition of the
    joined tables and merge. A customer must not be split across states: the engines partition the
    joined rows by ``id`` first; a state keeps no ids, so states folded by hand from parts that share a
    customer would count that customer twice.

    >>> import cx_metrics as cx
    >>> s = {"customer": [1, 2, 3, 4], "ltr": [10, 9, 3, 6]}
    >>> o = {"customer": [1, 2, 3, 4], "revenue": [120.0, 100.0, 20.0, 40.0]}
    >>> cx.nps_value(s, o, id="customer", revenue="revenue").worth("revenue")[0]
    80.0
    """
    st, ot = Table(survey), Table(outcomes)
    s_ids = np.asarray(st._raw(id))
    o_ids = np.asarray(ot._raw(id))
    scores = np.asarray(st._raw(score), dtype=np.float64)
    try:
        labels, codes = np.unique(np.concatenate([s_ids, o_ids]), return_inverse=True)
    except TypeError:
        raise InvalidArgumentError(
            f"invalid id: the {id!r} columns mix types that cannot be compared; give both tables"
            " ids of one type"
        ) from None
    codes32: npt.NDArray[np.uint32] = codes.astype(np.uint32)
    s_codes, o_codes = codes32[: len(s_ids)], codes32[len(s_ids) :]
    n_out = len(o_ids)
    cols: dict[str, Any] = {
        "churned": _churned(_column(ot, churned, "churned"), n_out),
        "revenue": None if revenue is None else np.asarray(ot._raw(revenue), dtype=np.float64),
        "value": None if value is None else np.asarray(ot._raw(value), dtype=np.float64),
        "durations": None if duration is None else np.asarray(ot._raw(duration), dtype=np.float64),
    }

    def one(rows: npt.NDArray[np.intp] | slice) -> PromoterValue:
        native = _native.promoter_value(
            np.ascontiguousarray(s_codes[rows]),
            np.ascontiguousarray(scores[rows]),
            o_codes,
            len(labels),
            confidence_level=confidence_level,
            **cols,
        )
        return PromoterValue(native)

    if by is None:
        return one(slice(None))
    # The whole tables once first: a customer who answered in two segments is refused, and a bad id,
    # score or outcome is named by its position in the table, not in its segment.
    one(slice(None))
    seg = np.asarray(st._raw(by))
    groups = {}
    for key in sorted(set(seg.tolist()), key=str):
        groups[key] = one(np.flatnonzero(seg == key))
    return PromoterValueByGroup(by=by, groups=groups)


# ----- the mergeable state and the plan of the engines ------------------------------------------------

_MEASURES = ("churned", "revenue", "value", "duration")


class NpsValueTally(_State):
    """The mergeable state of :func:`nps_value`: the rows of the survey joined to the outcomes by
    customer id, folded into per-category counts (matched customers, churned), moments of revenue and
    of lifetime value, and event tables of the durations, with the answers without a score, the answers
    without an outcome and the outcome rows without an answer. :func:`nps_value` folds the joined rows
    of two in-memory tables through this state's code in the core; :mod:`cx_metrics.dask` and
    :mod:`cx_metrics.spark` fold the partitions of the joined tables and merge the states.

    A batch is a table of joined rows, one per customer, with the columns ``id`` (integer or text
    ids), ``answered`` and ``has_outcome`` (flags: True, or False / missing), ``score`` (0-10, NaN:
    missing) and the outcome columns the state was made with (``churned``: True / False or 1 / 0;
    ``revenue``, ``value``, ``duration``: numbers); values in rows without an outcome (and the score of
    a row without an answer) are ignored. A customer listed twice in a batch is an error naming both
    rows. **A customer must not be split across states**: the state keeps no ids, so two states that
    each hold the same customer merge without complaint (and count the customer twice). Join and
    partition by the id first, so that every row of a customer is in one fold (the engines do).

    >>> t = NpsValueTally(revenue=True)
    >>> t.fold({"id": [1, 2, 3], "answered": [True, True, False], "score": [10.0, 3.0, float("nan")],
    ...         "has_outcome": [True, True, True], "revenue": [120.0, 20.0, 5.0]})
    >>> r = (t + NpsValueTally(revenue=True)).result()
    >>> r.worth("revenue")[0], r.n_outcomes_unmatched
    (100.0, 1)
    """

    __slots__ = ()
    _native_type = _native.State
    _kind = "nps_value_tally"

    def __init__(
        self, *, churned: bool = False, revenue: bool = False, value: bool = False, duration: bool = False
    ) -> None:
        config = {"churned": churned, "revenue": revenue, "value": value, "duration": duration}
        for k, v in config.items():
            if not isinstance(v, bool):
                raise InvalidArgumentError(f"invalid {k}: {v!r}; say True to fold the {k} column")
        self._inner = _native.State(self._kind, config)

    @property
    def measures(self) -> tuple[str, ...]:
        """The outcome columns folded."""
        d = self._inner.data()["measures"]
        return tuple(m for m in _MEASURES if d[m])

    def fold(self, joined: object) -> None:
        """Fold a table of joined rows (see the class docstring); on error nothing changes."""
        self._fold(Table(joined), {c: c for c in ("id", "answered", "score", "has_outcome", *self.measures)})

    def _fold(self, table: Table, names: dict[str, str]) -> None:
        """Fold the columns ``names`` (the state's column -> the table's column) of ``table``."""
        columns: dict[str, Any] = {
            "id": _ids(table, names["id"]),
            "answered": _flags(table, names["answered"]),
            "has_outcome": _flags(table, names["has_outcome"]),
            "score": table.float_column(names["score"]),
        }
        for m in self.measures:
            columns[m] = table.float_column(names[m])
        self._inner.fold(columns)

    @property
    def n_answers(self) -> int:
        """Survey answers folded (scored or not)."""
        d = self._inner.data()
        matched = sum(int(c["n"]) for c in d["cells"])
        return matched + int(d["n_missing_score"]) + int(d["n_survey_unmatched"])

    @property
    def n_outcome_rows(self) -> int:
        """Outcome rows folded (with an answer or not)."""
        d = self._inner.data()
        matched = sum(int(c["n"]) for c in d["cells"])
        return matched + int(d["n_missing_matched"]) + int(d["n_outcomes_unmatched"])

    def result(self, confidence_level: float = 0.95, *, outcome_rows: int | None = None) -> PromoterValue:
        """The :class:`PromoterValue` of the rows folded. ``outcome_rows``: when the state holds one
        segment's answers joined to every outcome row, the outcome rows of the whole table (then
        ``n_outcomes_unmatched`` counts those not matched to an answer of the segment, as
        :func:`nps_value` with ``by=`` does)."""
        finished = self._inner.result(confidence_level=confidence_level, outcome_rows=outcome_rows)
        return PromoterValue(_native.PromoterValue.from_dict(finished.to_dict()))


def _flags(table: Table, name: str) -> npt.NDArray[np.bool_]:
    """A presence flag as the engines' joins give it: True where set, False or missing elsewhere."""
    x = table.float_column(name)
    return np.ascontiguousarray(np.nan_to_num(x, nan=0.0) != 0.0)


def _ids(table: Table, name: str) -> Any:
    """Customer ids as int64 (integer ids) or a list of str (any other ids); a missing id is an error."""
    try:
        x = table.numeric_column(name)
    except ColumnError:
        values = np.asarray(table._raw(name), dtype=object)
        missing = [i for i, v in enumerate(values) if v is None or (isinstance(v, float) and math.isnan(v))]
        if missing:
            _missing_ids(name, missing)
        return [str(v) for v in values]
    if isinstance(x, np.ma.MaskedArray):
        _missing_ids(name, np.flatnonzero(np.ma.getmaskarray(x)).tolist())
    if x.dtype.kind == "f":
        if np.isnan(x).any():
            _missing_ids(name, np.flatnonzero(np.isnan(x)).tolist())
        if (x == np.round(x)).all() and np.abs(x).max(initial=0.0) < 2.0**53:
            return x.astype(np.int64)
        return [repr(float(v)) for v in x]
    return np.ascontiguousarray(x, dtype=np.int64)


def _missing_ids(name: str, rows: Sequence[int]) -> None:
    raise InvalidArgumentError(
        f"invalid {name}: {len(rows)} rows have no customer id (first at row {rows[0]} of the joined"
        " rows); give every answer and every outcome row an id, or drop those rows"
    )


_ANSWERED = "__cx_answered"
_OUTCOME = "__cx_outcome"
"""The presence flags that the engines' joins add to the survey and to the outcomes."""


@dataclass(frozen=True)
class NpsValuePlan(Plan):
    """:func:`nps_value` over partitions of the survey joined to the outcomes (an outer join by ``id``
    with the presence flags ``__cx_answered`` and ``__cx_outcome``; every row of a customer in one
    partition): each partition folded into :class:`NpsValueTally` states (per segment with ``by``, a
    column of the survey), merged and finished into the in-memory result."""

    id: str = "id"
    score: str = "ltr"
    churned: str | None = None
    revenue: str | None = None
    value: str | None = None
    duration: str | None = None
    confidence_level: float = 0.95

    def __post_init__(self) -> None:
        self.empty()  # no outcome column, or durations without churned, are refused here

    @property
    def outcome_columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.churned, self.revenue, self.value, self.duration) if c is not None)

    @property
    def partition_key(self) -> str | None:
        return self.id

    def inputs(self) -> tuple[str, ...]:
        return (self.id, self.score, _ANSWERED, _OUTCOME, *self.outcome_columns)

    def empty(self) -> _State:
        return NpsValueTally(
            churned=self.churned is not None,
            revenue=self.revenue is not None,
            value=self.value is not None,
            duration=self.duration is not None,
        )

    def _names(self) -> dict[str, str]:
        names = {"id": self.id, "score": self.score, "answered": _ANSWERED, "has_outcome": _OUTCOME}
        for m, c in zip(_MEASURES, (self.churned, self.revenue, self.value, self.duration), strict=True):
            if c is not None:
                names[m] = c
        return names

    def fold(self, state: _State, table: Table) -> None:
        state._fold(table, self._names())  # type: ignore[attr-defined]

    def fold_groups(self, table: Table) -> tuple[list[tuple[Any, ...]], list[_State]]:
        # A customer answering in two segments is in two groups: the whole partition is folded once
        # first, so that its ids are checked together.
        self.fold(self.empty(), table)
        return super().fold_groups(table)

    def result(self, state: _State) -> PromoterValue:
        return state.result(self.confidence_level)  # type: ignore[attr-defined,no-any-return]

    def by_group(self, keys: tuple[Any, ...], states: list[_State]) -> PromoterValueByGroup:
        # Outcome rows without an answer are in the group of a missing label; each segment's
        # n_outcomes_unmatched counts every outcome row not matched to one of its answers, as in
        # memory. Groups without answers (outcome rows only, unused levels) are not segments.
        total = sum(s.n_outcome_rows for s in states)  # type: ignore[attr-defined]
        groups = {
            k: s.result(self.confidence_level, outcome_rows=total)  # type: ignore[attr-defined]
            for k, s in zip(keys, states, strict=True)
            if s.n_answers  # type: ignore[attr-defined]
        }
        by = self.by_name
        return PromoterValueByGroup(by=by if isinstance(by, str) else ", ".join(by), groups=groups)
