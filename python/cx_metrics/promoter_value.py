"""What a promoter is worth: survey answers joined by customer id to what the same customers did
afterwards (churn, revenue, lifetime value, time to churn), by NPS category, with intervals and the
differences between categories. An association, not an experiment. The join and the statistics are
computed in Rust (``cx_metrics::promoter_value``); this module codes the ids and presents the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from . import _native
from ._groups import label_str
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
from .exceptions import InvalidArgumentError
from .retention import SameJson

__all__ = ["PromoterValue", "PromoterValueByGroup", "nps_value"]

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
    seg = np.asarray(st._raw(by))
    groups = {}
    for key in sorted(set(seg.tolist()), key=str):
        groups[key] = one(np.flatnonzero(seg == key))
    return PromoterValueByGroup(by=by, groups=groups)
