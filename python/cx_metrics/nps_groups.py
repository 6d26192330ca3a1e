"""Scores by group (a wave, a segment, a brand): one result per group and one table shape for every
metric, from one pass of the Rust grouping engine over the rows.

``cx.nps(..., by=...)``, ``cx.csat(..., by=...)`` and ``cx.ces(..., by=...)`` return a :class:`ByGroup`;
``cx.nps_by_group`` is ``cx.nps(..., by=...)`` with a table's column names.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, Self, TypeVar

import numpy as np
import numpy.typing as npt

from . import _native
from ._convert import to_values, to_weights
from ._groups import key_columns, key_from_json, key_to_json, label_str
from ._json import read_document, write_document
from ._results import (
    FrameColumn,
    Interval,
    Tabular,
    html_block,
    html_table,
    level_text,
    pandas_available,
    pandas_frame,
    pct,
    points,
    polars_available,
    polars_frame,
    require_pandas,
    text_table,
)
from ._table import Table
from ._tally import NanPolicy
from .exceptions import InvalidArgumentError, SegmentError, UndefinedError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    from matplotlib.axes import Axes

    # Named as strings in the subclasses' bases below (ByGroup["NpsResult"]), which ruff does not see.
    from .ces import CesResult  # noqa: F401
    from .csat import CsatResult  # noqa: F401
    from .nps import NpsMethod, NpsResult  # noqa: F401

__all__ = [
    "ByGroup",
    "CesByGroup",
    "CsatByGroup",
    "MissingLabelWarning",
    "NpsByGroup",
    "group_scores",
    "nps_by_group",
    "plain_inputs",
]


class MissingLabelWarning(UserWarning):
    """Some rows have no label in a ``by=`` column: they form the group ``None``, shown last."""


class _Result(Protocol):
    @property
    def n(self) -> int: ...
    @property
    def n_omitted(self) -> int: ...
    @property
    def undefined(self) -> str | None: ...

    def _columns(self) -> list[FrameColumn]: ...

    def to_json(self) -> str: ...


R = TypeVar("R", bound=_Result)


@dataclass(frozen=True)
class _Metric:
    """What differs between metrics in a by-group result: the estimate and how it reads."""

    name: str
    estimate: str
    interval: Callable[[Any, float, str], Interval]
    text: Callable[[float], str]


def _interval(result: Any, level: float, method: str) -> Interval | None:
    try:
        return result.ci(level, method)  # type: ignore[no-any-return]
    except UndefinedError:
        # The core checks the level and the method before the estimate: only an undefined estimate
        # lands here.
        return None


_METRICS = {
    "NPS": _Metric("NPS", "score", lambda r, lv, m: r.ci(lv, m), points),
    "CSAT": _Metric("CSAT", "share_satisfied", lambda r, lv, m: r.ci(lv, m), pct),
    "CES": _Metric("CES", "share_agree", lambda r, lv, m: r.ci(lv, m), pct),
}


def _result_type(metric: str) -> Any:
    """The result class of a metric's groups (imported here: those modules import this one)."""
    if metric == "NPS":
        from .nps import NpsResult

        return NpsResult
    if metric == "CSAT":
        from .csat import CsatResult

        return CsatResult
    from .ces import CesResult

    return CesResult


Key = Any
"""A group's key: its label for one ``by`` column (None for the missing label), a tuple for several."""


@dataclass(frozen=True)
class ByGroup(Tabular, Generic[R]):
    """A score per group of rows: the shared shape of :class:`NpsByGroup` (``cx.nps(..., by=...)``,
    ``cx.nps_by_group``), :class:`CsatByGroup` (``cx.csat(..., by=...)``) and :class:`CesByGroup`
    (``cx.ces(..., by=...)``).

    Attributes
    ----------
    metric : str
        ``"NPS"``, ``"CSAT"`` or ``"CES"`` (a class attribute).
    outcome : str or None
        The rating column, when the ratings were named in a table.
    by : str or tuple of str
        The label column (``"group"`` for labels given as an unnamed array), or the columns.
    groups : tuple
        The groups' keys in order, typed as the labels are (an integer label is an ``int``, a date a
        ``datetime.date``, a datetime a ``numpy.datetime64``); a tuple per group for several columns.
        ``None`` is the missing label, last. Unused categorical levels are groups with n = 0.
    results : dict of key to result
        Each group's result (an :class:`NpsResult`, :class:`CsatResult` or :class:`CesResult`). A group
        whose ratings are all missing, or that has no rows, is undefined (``undefined`` says why).
    intervals : dict of key to Interval or None
        Each group's interval at ``confidence_level`` by ``method`` (None when undefined).
    overall : result
        All rows together (their ``n`` is the sum of the groups' ``n``; the result is the metric's
        own function of all rows, computed when first asked for).
    overall_interval : Interval or None
        Its interval.
    weighted : bool
        Whether survey weights were given.
    confidence_level : float
        Level of the intervals.
    method : str
        Interval method (that of the metric's ``.ci``).
    show_overall : bool
        Whether the table ends with the overall row (``overall=True``).

    ``result[key]`` is a group's result (``r[1]``, ``r["web"]``, ``r[("2026-Q1", "web")]``, ``r[None]``);
    iterating gives the keys. ``to_pandas()`` / ``to_polars()`` / :attr:`table` give one row per group,
    the same shape for every metric: the label columns named after ``by`` (typed), then ``estimate``
    (the NPS score, the CSAT satisfied share, the CES agree share, as fractions), ``ci_low``,
    ``ci_high``, ``n``, then the metric's own columns (those of its result's ``to_pandas()``, with its
    other intervals at 95%). With ``show_overall`` a last row holds all rows, its label columns
    ``"(all)"``. :meth:`plot` draws the estimates with their intervals.
    """

    metric: ClassVar[str] = ""
    outcome: str | None
    by: str | tuple[str, ...]
    groups: tuple[Key, ...]
    results: dict[Key, R] = field(repr=False)
    intervals: dict[Key, Interval | None] = field(repr=False)
    confidence_level: float
    method: str
    weighted: bool = field(default=False, repr=False)
    show_overall: bool = field(default=False, repr=False)
    # The overall result, or a function that computes it (pickling stores the result).
    _whole: Any = field(default=None, repr=False, compare=False)

    @cached_property
    def overall(self) -> R:
        """All rows together (see the class docstring)."""
        whole = self._whole
        return whole() if callable(whole) else whole  # type: ignore[no-any-return]

    @cached_property
    def overall_interval(self) -> Interval | None:
        """The overall result's interval at ``confidence_level`` by ``method`` (None when undefined)."""
        return _interval(self.overall, self.confidence_level, self.method)

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("overall", "overall_interval")}
        state["_whole"] = self.overall
        return state

    def __getitem__(self, key: Key) -> R:
        try:
            if key in self.results:
                return self.results[key]
        except TypeError:  # an unhashable key
            pass
        for g in self.groups:  # labels equal but hashed apart (a Timestamp and a datetime64)
            if _same(g, key):
                return self.results[g]
        shown = ", ".join(self._key_text(g) for g in self.groups)
        raise SegmentError(f"group {key!r} not found; groups: {shown}")

    def __iter__(self) -> Iterator[Key]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def by_columns(self) -> tuple[str, ...]:
        """The label columns' names (one name for one column)."""
        return self.by if isinstance(self.by, tuple) else (self.by,)

    @property
    def table(self) -> pd.DataFrame:
        """One row per group, as a pandas DataFrame (the same as :meth:`to_pandas`; :meth:`to_polars`
        when pandas is not installed)."""
        return labelled_frame(self._label_columns(), self._columns())

    def estimate(self, key: Key) -> float:
        """The estimate of group ``key`` (the NPS score, the satisfied share, the agree share)."""
        return float(getattr(self[key], _METRICS[self.metric].estimate))

    def _estimate(self, r: Any) -> float:
        return float(getattr(r, _METRICS[self.metric].estimate))

    # ----- tables ------------------------------------------------------------------------------------

    def _rows(self) -> list[tuple[Any, Any, Interval | None]]:
        rows = [(g, self.results[g], self.intervals[g]) for g in self.groups]
        if self.show_overall:
            rows.append(("(all)", self.overall, self.overall_interval))
        return rows

    def _columns(self) -> list[FrameColumn]:
        """The figure columns (without the label columns)."""
        rows = self._rows()
        own = _METRICS[self.metric].estimate
        skip = {"n", "ci_low", "ci_high", own}
        out: list[FrameColumn] = [
            ("estimate", "float", [self._estimate(r) for _, r, _ in rows]),
            ("ci_low", "float", [np.nan if ci is None else ci.low for _, _, ci in rows]),
            ("ci_high", "float", [np.nan if ci is None else ci.high for _, _, ci in rows]),
            ("n", "int", [r.n for _, r, _ in rows]),
        ]
        per_row = [r._columns() for _, r, _ in rows]
        if per_row:
            for j, (name, kind, _) in enumerate(per_row[0]):
                if name not in skip:
                    out.append((name, kind, [cols[j][2][0] for cols in per_row]))
        return out

    def _label_columns(self) -> list[tuple[str, list[Any]]]:
        return key_columns_of(self.by_columns, [k for k, _, _ in self._rows()])

    def to_pandas(self) -> pd.DataFrame:
        """The table as a pandas DataFrame: typed label columns, then the figures (see the class
        docstring); undefined figures are NaN."""
        return labelled_pandas(self._label_columns(), self._columns())

    def to_polars(self) -> pl.DataFrame:
        """The table as a polars DataFrame (the columns of :meth:`to_pandas`; undefined figures are
        null)."""
        return labelled_polars(self._label_columns(), self._columns())

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe builtins: options, then each group (its labels as text, missing as
        None, under ``"group"``) and the overall result (each its result's ``to_dict()`` whose ``ci``
        is the interval at this result's level and method)."""

        def entry(r: Any, ci: Interval | None) -> dict[str, Any]:
            out: dict[str, Any] = r.to_dict()
            out["ci"] = None if ci is None else ci.to_dict()
            return out

        return {
            "metric": self.metric,
            "outcome": self.outcome,
            "by": list(self.by_columns),
            "confidence_level": self.confidence_level,
            "method": self.method,
            "groups": [
                {"group": json_key(g), **entry(self.results[g], self.intervals[g])} for g in self.groups
            ],
            "overall": entry(self.overall, self.overall_interval),
        }

    def to_json(self) -> str:
        """The result as JSON text, for storage: its options, the groups' typed labels (dates and
        moments tagged, so that they come back as dates) and each group's result in the core's serde
        form. :meth:`from_json` reads it back with every figure and interval."""
        return write_document(
            type(self).__name__,
            {
                "outcome": self.outcome,
                "by": list(self.by_columns),
                "confidence_level": self.confidence_level,
                "method": self.method,
                "weighted": self.weighted,
                "show_overall": self.show_overall,
                "groups": [key_to_json(g) for g in self.groups],
                "results": [json.loads(self.results[g].to_json()) for g in self.groups],
                "overall": json.loads(self.overall.to_json()),
            },
        )

    @classmethod
    def from_json(cls, text: str) -> Self:
        """A result from the text written by :meth:`to_json`."""
        kind = cls.__name__
        d = read_document(text, kind)
        result_type = _result_type(cls.metric)
        try:
            groups = tuple(key_from_json(g) for g in d["groups"])
            stored = d["results"]
            if len(stored) != len(groups):
                raise InvalidArgumentError(
                    f"invalid {kind} JSON: {len(groups)} groups but {len(stored)} results"
                )
            results = {g: result_type.from_json(json.dumps(r)) for g, r in zip(groups, stored, strict=True)}
            level, method = float(d["confidence_level"]), str(d["method"])
            by = [str(b) for b in d["by"]]
            return cls(
                outcome=d["outcome"],
                by=by[0] if len(by) == 1 else tuple(by),
                groups=groups,
                results=results,
                intervals={g: _interval(r, level, method) for g, r in results.items()},
                confidence_level=level,
                method=method,
                weighted=bool(d["weighted"]),
                show_overall=bool(d["show_overall"]),
                _whole=result_type.from_json(json.dumps(d["overall"])),
            )
        except (KeyError, TypeError) as e:
            raise InvalidArgumentError(f"invalid {kind} JSON: {type(e).__name__} {e}") from None

    # ----- display -----------------------------------------------------------------------------------

    def _key_text(self, key: Key) -> str:
        return key_text(key)

    def _level(self) -> str:
        return f"{level_text(self.confidence_level)} CI"

    def _text_row(self, name: str, r: Any, ci: Interval | None) -> tuple[str, str, str, str]:
        if r.undefined is not None:
            return (name, str(r.n), "undefined", "-")
        text = _METRICS[self.metric].text
        return (
            name,
            str(r.n),
            text(self._estimate(r)),
            "-" if ci is None else f"{text(ci.low)} to {text(ci.high)}",
        )

    def _table_rows(self) -> list[tuple[str, str, str, str]]:
        return [self._text_row(self._key_text(g), self.results[g], self.intervals[g]) for g in self.groups]

    def _header(self) -> tuple[str, ...]:
        return (" / ".join(self.by_columns), "n", self.metric, self._level())

    def _headline(self) -> str:
        weighted = ", weighted" if self.weighted else ""
        of = f" of {self.outcome}" if self.outcome else ""
        return (
            f"{self.metric}{of} by {' / '.join(self.by_columns)}: {len(self.groups)} groups, "
            f"n = {self.overall.n} ({self.overall.n_omitted} omitted{weighted}); {self._level()} "
            f"{_method_text(self.method)}"
        )

    def _warnings(self) -> list[str]:
        out = [
            f"{self._key_text(g)}: {self.metric} undefined ({r.n_omitted} rows omitted): {r.undefined}"
            for g, r in self.results.items()
            if r.undefined is not None and r.n + r.n_omitted > 0
        ]
        missing = self.n_missing_label
        if missing:
            out.append(f"(missing): {missing} rows have no {' / '.join(self.by_columns)} label")
        return out

    @property
    def n_missing_label(self) -> int:
        """Rows without a label (in any ``by`` column), counted or omitted."""
        total = 0
        for g in self.groups:
            if has_missing_label(g):
                r = self.results[g]
                total += r.n + r.n_omitted
        return total

    def __str__(self) -> str:
        total = self._text_row("all", self.overall, self.overall_interval)
        lines = [self._headline(), "", *text_table(self._header(), [*self._table_rows(), total])]
        return "\n".join(lines + [f"warning: {w}" for w in self._warnings()])

    def _repr_html_(self) -> str:
        table = html_table(
            None,
            self._table_rows(),
            header=self._header(),
            total=self._text_row("all", self.overall, self.overall_interval),
            warnings=self._warnings(),
        )
        return html_block(table, headline=self._headline())

    def plot(self, **kwargs: Any) -> Axes:
        """The estimate of each group with its interval (:func:`cx_metrics.plot.nps_by_group`: ``ax``,
        ``kind="line"`` or ``"bar"``); needs matplotlib (the ``plot`` extra)."""
        from .plot import nps_by_group as draw

        return draw(self, **kwargs)


@dataclass(frozen=True, repr=True)
class NpsByGroup(ByGroup["NpsResult"]):
    """NPS per group (``cx.nps(..., by=...)``, ``cx.nps_by_group``): a :class:`ByGroup` of
    :class:`NpsResult`; its estimate is the score."""

    metric: ClassVar[str] = "NPS"


@dataclass(frozen=True, repr=True)
class CsatByGroup(ByGroup["CsatResult"]):
    """CSAT per group (``cx.csat(..., by=...)``): a :class:`ByGroup` of :class:`CsatResult`; its
    estimate is the satisfied share."""

    metric: ClassVar[str] = "CSAT"


@dataclass(frozen=True, repr=True)
class CesByGroup(ByGroup["CesResult"]):
    """CES per group (``cx.ces(..., by=...)``): a :class:`ByGroup` of :class:`CesResult`; its estimate
    is the agree share."""

    metric: ClassVar[str] = "CES"


def _method_text(method: str) -> str:
    from .nps import _method_name

    return _method_name(method).replace("_", " ")


"""The NPS by group (``cx.nps_by_group``): a :class:`ByGroup` of :class:`NpsResult`."""


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool | np.bool_) != isinstance(b, bool | np.bool_):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def json_key(key: Key) -> Any:
    if isinstance(key, tuple):
        return [_json_label(v) for v in key]
    return _json_label(key)


def _json_label(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return label_str(v)


def key_columns_of(names: Sequence[str], keys: Sequence[Key]) -> list[tuple[str, list[Any]]]:
    """The label columns of a table with one row per key: one column per ``by`` column, named after
    it (``"(all)"`` keys the overall row)."""
    if len(names) == 1:
        return [(names[0], list(keys))]
    return [(name, [("(all)" if k == "(all)" else k[j]) for k in keys]) for j, name in enumerate(names)]


def labelled_frame(labels: list[tuple[str, list[Any]]], figures: list[FrameColumn]) -> Any:
    """The table of a ``table`` property: pandas, or polars when pandas is not installed (when neither
    is, :class:`PandasMissingError` says how to get one)."""
    if pandas_available() or not polars_available():
        return labelled_pandas(labels, figures)
    return labelled_polars(labels, figures)


def labelled_pandas(labels: list[tuple[str, list[Any]]], figures: list[FrameColumn]) -> pd.DataFrame:
    """A pandas table: the typed label columns, then the figure columns."""
    pd = require_pandas()

    frame = pandas_frame(figures)
    return pd.concat([pd.DataFrame({name: _pandas_labels(v) for name, v in labels}), frame], axis=1)


def labelled_polars(labels: list[tuple[str, list[Any]]], figures: list[FrameColumn]) -> pl.DataFrame:
    """A polars table: the typed label columns, then the figure columns."""
    import polars as pl

    frame = polars_frame(figures)
    return pl.DataFrame([_polars_labels(name, v) for name, v in labels]).hstack(frame) if labels else frame


def _pandas_labels(values: list[Any]) -> Any:
    pd = require_pandas()

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return (
            pd.array(values, dtype="Int64")
            if len(present) < len(values)
            else np.array(values, dtype=np.int64)
        )
    if present and all(isinstance(v, float) for v in present):
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if present and all(isinstance(v, np.datetime64) for v in present):
        return pd.to_datetime(pd.Series([pd.NaT if v is None else v for v in values]))
    if present and all(isinstance(v, str) for v in present):
        text: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object
        return pd.Series(values, dtype=text)
    return pd.Series(values, dtype=object)


def _polars_labels(name: str, values: list[Any]) -> Any:
    import polars as pl

    if any(isinstance(v, np.datetime64) for v in values):
        # Through numpy, not pandas (a polars-only install has no pandas); NaT becomes null.
        moments = np.array([np.datetime64("NaT") if v is None else v for v in values], dtype="datetime64[ns]")
        return pl.Series(name, moments)
    return pl.Series(name, values, strict=False)


# ----- computing -------------------------------------------------------------------------------------


G = TypeVar("G", bound=ByGroup[Any])


def group_scores(
    kind: type[G],
    tally: Any,
    finish: Callable[[Any], Any],
    values: object,
    by: object,
    *,
    data: object = None,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    confidence_level: float = 0.95,
    method: str,
    overall: bool = False,
) -> G:
    """Fold ``values`` per group of ``by`` into tallies like ``tally`` (an empty public tally) in one
    pass, and finish each (``finish(tally)``) into the metric's result."""
    table = None if data is None else Table(data)
    outcome = values if isinstance(values, str) else None
    if isinstance(values, str):
        if table is None:
            raise InvalidArgumentError(
                f"invalid values: {values!r} names a column, but no data table was given; pass data=..."
            )
        values = table._raw(values)
    if isinstance(weights, str):
        if table is None:
            raise InvalidArgumentError(
                f"invalid weights: {weights!r} names a column, but no data table was given; pass data=..."
            )
        weights = table._raw(weights)
    arr = _ratings(values)
    w = to_weights(weights, arr.shape[0])
    keys = key_columns(by, table, arr.shape[0])
    labels, natives = _native.group_fold(tally._inner, arr, keys.specs, w, nan_policy)
    wrap = type(tally)._wrap

    def whole() -> Any:
        # Weighted sums merged group by group would round in another order than the ungrouped fold:
        # fold the rows once more (when first asked for), so that the overall result equals the
        # metric's own function of all rows.
        total = tally.copy()
        total.fold(arr, weights=w, nan_policy=nan_policy)
        return finish(total)

    out = grouped_result(
        kind,
        tally,
        finish,
        group_keys(labels, len(keys.names)),
        [wrap(t) for t in natives],
        outcome=outcome,
        by=keys.by_name,
        weighted=w is not None,
        confidence_level=confidence_level,
        method=method,
        overall=overall,
        whole=whole if w is not None else None,
    )
    warn_missing_labels(out.n_missing_label, keys.names, stacklevel=4)
    return out


def grouped_result(
    kind: type[G],
    tally: Any,
    finish: Callable[[Any], Any],
    keys: tuple[Key, ...],
    tallies: Sequence[Any],
    *,
    outcome: str | None,
    by: str | tuple[str, ...],
    weighted: bool,
    confidence_level: float,
    method: str,
    overall: bool,
    whole: Callable[[], Any] | None = None,
) -> G:
    """The result by group of the tallies of ``keys`` (in the engine's order), each finished by
    ``finish``; ``tally`` is an empty tally of the kind (the options are checked on it). The overall
    result is the merge of the tallies, unless ``whole`` computes it otherwise."""
    results = [finish(t) for t in tallies]
    # The options are checked now (the core checks the level and the method before the estimate).
    _interval(finish(tally.copy()), confidence_level, method)

    def merged() -> Any:
        total = tally.copy()
        for t in tallies:  # whole counts (or partitions' weighted sums) merged
            total.merge(t)
        return finish(total)

    return kind(
        outcome=outcome,
        by=by,
        groups=keys,
        results=dict(zip(keys, results, strict=True)),
        intervals={k: _interval(r, confidence_level, method) for k, r in zip(keys, results, strict=True)},
        confidence_level=float(confidence_level),
        method=method,
        weighted=weighted,
        show_overall=bool(overall),
        _whole=whole if whole is not None else (merged if weighted else merged()),
    )


def key_text(key: Key) -> str:
    """A group's key as text: labels joined by ``" / "``, the missing label ``"(missing)"``."""
    if isinstance(key, tuple):
        return " / ".join("(missing)" if v is None else label_str(v) for v in key)
    return "(missing)" if key is None else label_str(key)


def has_missing_label(key: Key) -> bool:
    """Whether a group's key has the missing label (in any ``by`` column)."""
    return key is None or (isinstance(key, tuple) and any(v is None for v in key))


def group_keys(labels: Sequence[tuple[Any, ...]], n_columns: int) -> tuple[Key, ...]:
    """The groups' keys from the engine's labels (a tuple per group): the label itself for one ``by``
    column, the tuple for several; two keys equal in Python (1 and 1.0, 1 and True) are an error."""
    keys = tuple(lab[0] if n_columns == 1 else tuple(lab) for lab in labels)
    try:
        distinct = len(set(keys)) == len(keys)
    except TypeError:  # pragma: no cover - the engine's labels are hashable
        distinct = True
    if not distinct:
        raise InvalidArgumentError(
            "invalid by: two labels are equal in Python though of different types (1 and 1.0, or 1 and "
            "True); make the labels of one type"
        )
    return keys


def find_key(groups: Sequence[Key], key: Key) -> Key:
    """The group of ``groups`` equal to ``key`` (typed: ``r[1]``, ``r["web"]``, ``r[None]``), or
    :class:`~cx_metrics.exceptions.SegmentError` listing the groups."""
    for g in groups:
        if _same(g, key):
            return g
    shown = ", ".join(key_text(g) for g in groups)
    raise SegmentError(f"group {key!r} not found; groups: {shown}")


def warn_missing_labels(n_rows: int, names: Sequence[str], *, stacklevel: int) -> None:
    """Warn (:class:`MissingLabelWarning`) that ``n_rows`` rows have no label in the ``by`` columns."""
    if n_rows:
        warnings.warn(
            f"{n_rows} rows have no {' / '.join(names)} label; they form the group None, shown last",
            MissingLabelWarning,
            stacklevel=stacklevel,
        )


def plain_inputs(values: object, weights: object, data: object) -> tuple[object, object]:
    """``values`` and ``weights`` read from ``data`` where they are column names (without ``by``); a
    table read through the Arrow PyCapsule interface (a DuckDB result, a nanoarrow stream, a pyarrow
    RecordBatchReader) becomes its columns to fold batch by batch."""
    if data is None:
        return values, weights
    from ._convert import arrow_columns, arrow_table

    if arrow_table(data):
        return arrow_columns(data, values, weights), None
    table = Table(data)
    return (
        table._raw(values) if isinstance(values, str) else values,
        table._raw(weights) if isinstance(weights, str) else weights,
    )


def _ratings(values: object) -> npt.NDArray[Any]:
    arr = to_values(values)
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return arr


def nps_by_group(
    data: object,
    outcome: str = "ltr",
    by: str | Sequence[str] | object = "wave",
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    confidence_level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
    overall: bool = False,
) -> NpsByGroup:
    """Net Promoter Score per period or segment, with an interval for each group: the same as
    ``cx.nps(outcome, by=by, data=data, ...)``.

    Parameters
    ----------
    data : table
        A pandas, polars or pyarrow table, or a dict of columns.
    outcome : str
        The 0-10 rating column (default ``"ltr"``). Values are validated as by :func:`nps`; an error
        names the row's position in ``data``.
    by : str, list of str, or array
        The label column (name, or one label per row), or several (``["wave", "segment"]``). Groups
        follow the engine's rules (categorical order, else numbers numerically, else text; the missing
        label last, as the group ``None``, with a :class:`MissingLabelWarning`).
    weights : str or array, optional
        Survey weights: a column name or one weight per row (finite, >= 0).
    nan_policy : {"omit", "raise"}
        Missing ratings: omitted and counted per group (``n_omitted``), or an error.
    confidence_level : float
        Level of the intervals.
    method : {"adjusted_wald", "wald", "tango", "dirichlet", "bootstrap"}
        Interval method, as in :meth:`NpsResult.ci`.
    overall : bool
        Whether the table ends with a row of all rows.

    Returns
    -------
    NpsByGroup
        One :class:`NpsResult` per group and the overall result.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> data = {"ltr": [10, 9, 3, 8, 10, 0, 7, 9], "wave": ["Q2", "Q1", "Q1", "Q2", "Q1", "Q2", "Q1", "Q2"]}
    >>> g = cx.nps_by_group(data, by="wave")
    >>> g.groups
    ('Q1', 'Q2')
    >>> [round(g[w].score, 2) for w in g], g.overall.n
    ([0.25, 0.25], 8)
    >>> g.table[["wave", "n", "estimate"]].to_dict("list")
    {'wave': ['Q1', 'Q2'], 'n': [4, 4], 'estimate': [0.25, 0.25]}
    """
    from .nps import NpsTally

    return group_scores(
        NpsByGroup,
        NpsTally(),
        lambda t: t.result(),
        outcome,
        by,
        data=data,
        weights=weights,
        nan_policy=nan_policy,
        confidence_level=confidence_level,
        method=method,
        overall=overall,
    )
