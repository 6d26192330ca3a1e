"""Paths from event logs (variants, transition matrix, directly-follows graph with median gaps, last
events, Sankey links), new vs returning customers per calendar period, and abandonment per stage.

Everything is computed in the Rust core (``cx_metrics::paths`` and ``cx_metrics::activity``); this
module reads the columns, turns timestamps into UTC instants (time-zone-aware ones converted, naive
ones taken as UTC, a mix of the two refused) and holds the results.

Conventions (printed with every result):

* a **path** is one customer's events in time order, or one session's: a new session starts where the
  ``session`` column changes, or after a gap strictly longer than ``session_gap``; events at the same
  time keep the order of the rows;
* **transition probability** ``a -> b`` = transitions ``a -> b`` / occurrences of ``a`` (each is
  followed by a next event or by ``(end)``); from ``(start)``: the share of paths starting with ``b``;
* **median gap**: the exact median of every gap of the edge (mean of the two middle gaps for an even
  count, as numpy and pandas), in seconds;
* **variants** are counted exactly for paths of at most ``max_steps`` events (longer paths are counted
  in ``variants_dropped``); shares are over all paths.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from . import _native
from ._by_group import ResultsByGroup, group_rows, take_rows
from ._groups import key_columns, label_str
from ._results import (
    FrameColumn,
    Interval,
    NativeResult,
    Tabular,
    html_block,
    html_table,
    json_dict,
    level_text,
    pct,
    text_table,
)
from ._table import Table
from ._tally import _State
from .exceptions import InvalidArgumentError
from .retention import SameJson, _column, _ids, _instants

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "Abandonment",
    "AbandonmentByGroup",
    "NewVsReturning",
    "NewVsReturningByGroup",
    "PathResult",
    "PathResultByGroup",
    "PathTable",
    "PathTally",
    "abandonment",
    "new_vs_returning",
    "paths",
]

Period = Literal["day", "week", "month", "quarter", "year"]

_NS = 1_000_000_000


def _gap_ns(gap: object) -> int | None:
    """A session gap (``datetime.timedelta``, ``numpy.timedelta64``, pandas ``Timedelta``, or seconds
    as a number) in nanoseconds."""
    if gap is None:
        return None
    if isinstance(gap, bool):
        raise InvalidArgumentError(
            "invalid session_gap: give a duration (e.g. datetime.timedelta(minutes=30))"
        )
    if isinstance(gap, np.timedelta64):
        if np.isnat(gap):
            raise InvalidArgumentError("invalid session_gap: NaT is not a duration")
        return int(gap.astype("timedelta64[ns]").astype(np.int64))
    if isinstance(gap, datetime.timedelta):  # pandas.Timedelta is one too
        value = getattr(gap, "value", None)
        if isinstance(value, int):
            return value
        return (gap.days * 86_400 + gap.seconds) * _NS + gap.microseconds * 1_000
    if isinstance(gap, int | float) and np.isfinite(gap):
        return round(float(gap) * _NS)
    raise InvalidArgumentError(
        f"invalid session_gap: {gap!r} is not a duration; give a datetime.timedelta, numpy.timedelta64, "
        "pandas.Timedelta or seconds as a number"
    )


def _label_spec(data: object, value: object, name: str, n_rows: int) -> Any:
    """The native label spec of a column (or of the column ``value`` names in ``data``)."""
    if value is None:
        raise InvalidArgumentError(f"invalid {name}: give the column (or its name in the events)")
    table = Table(data) if isinstance(value, str) and data is not None else None
    raw = table._raw(value) if table is not None and isinstance(value, str) else value
    text = _as_arrow_text(raw)
    if text is not None:
        return key_columns(text, None, n_rows, what=name).specs[0]
    return key_columns(value, table, n_rows, what=name).specs[0]


def _as_arrow_text(raw: object) -> Any:
    """A column of Python strings (a pandas object column, a numpy object or unicode array) as an
    Arrow string array, whose buffers cross without a Python object per row; None for any other
    column (or when pyarrow is not installed, or the values are not all text or missing)."""
    dtype = getattr(raw, "dtype", None)
    if getattr(dtype, "kind", None) not in ("O", "U") or getattr(raw, "ndim", 1) != 1:
        return None
    if isinstance(raw, np.ma.MaskedArray):
        return None
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is optional
        return None
    try:
        arr = pa.array(raw, from_pandas=True)
    except (TypeError, ValueError, OverflowError, pa.ArrowException):
        return None
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def _times(data: object, time: object) -> npt.NDArray[np.int64]:
    ns: npt.NDArray[np.int64] = _instants(_column(data, time, "time"), "time").ns
    return ns


# ----- tables ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathTable(Tabular):
    """A table of a path result (variants, transitions, graph, exits or Sankey links): ``to_pandas()``,
    ``to_polars()``, ``to_dict()`` (column name -> list), ``len()``, and its columns by name
    (``table["count"]``)."""

    title: str
    columns: tuple[FrameColumn, ...]
    note: str = ""

    def _columns(self) -> list[FrameColumn]:
        return list(self.columns)

    def __len__(self) -> int:
        return len(self.columns[0][2]) if self.columns else 0

    def __getitem__(self, name: str) -> list[Any]:
        for n, _, values in self.columns:
            if n == name:
                return list(values)
        raise KeyError(name)

    def to_dict(self) -> dict[str, list[Any]]:
        """The columns as lists (NaN as None)."""
        return json_dict({n: list(v) for n, _, v in self.columns})

    def _cells(self) -> list[list[str]]:
        def cell(kind: str, v: Any) -> str:
            if kind == "float":
                return "n/a" if v is None or v != v else f"{float(v):.4g}"
            return str(v)

        return [[cell(k, v[i]) for _, k, v in self.columns] for i in range(len(self))]

    def __str__(self) -> str:
        lines = [self.title, *text_table([n for n, _, _ in self.columns], self._cells())]
        return "\n".join([*lines, self.note] if self.note else lines)

    def _repr_html_(self) -> str:
        return html_block(
            html_table(None, self._cells(), header=[n for n, _, _ in self.columns]), headline=self.title
        )


# ----- paths -----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PathResult(SameJson, NativeResult):
    """Paths of an event log.

    Attributes
    ----------
    n_paths, n_events, n_customers : int
        Paths (customers or sessions), events in them, customers.
    omitted : dict
        Rows left out, by what they missed (``customer``, ``event``, ``time``, ``session``).
    n_reordered : int
        Events that arrived earlier than their customer's latest event so far (sorted into place).
    variants_dropped : int
        Paths longer than ``max_steps`` (not among the variants nor in the Sankey links).
    session_gap : float or None
        Paths split after gaps longer than this many seconds (None: no split by gap).
    max_steps : int
        Longest path counted as a variant.

    Tables: :meth:`variants` (top-k), :attr:`transitions` (counts and probabilities, with the
    ``(start)`` and ``(end)`` pseudo-states), :attr:`graph` (edges with counts and median gaps),
    :attr:`exits` (last events), :meth:`sankey`; :meth:`matrix` gives the transition matrix as an
    array for :func:`cx_metrics.plot.transition_heatmap`.
    """

    _native_type: ClassVar[Any] = _native.PathResult
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> PathResult:
        return cls(native)

    @property
    def n_paths(self) -> int:
        return int(self._raw["n_paths"])

    @property
    def n_events(self) -> int:
        return int(self._raw["n_events"])

    @property
    def n_customers(self) -> int:
        return int(self._raw["n_customers"])

    @property
    def omitted(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._raw["omitted"].items()}

    @property
    def n_omitted(self) -> int:
        return sum(self.omitted.values())

    @property
    def n_reordered(self) -> int:
        return int(self._raw["n_reordered"])

    @property
    def variants_dropped(self) -> int:
        return int(self._raw["variants_dropped"])

    @property
    def session_gap(self) -> float | None:
        gap = self._raw["session_gap"]
        return None if gap is None else int(gap) / _NS

    @property
    def max_steps(self) -> int:
        return int(self._raw["max_steps"])

    @property
    def conventions(self) -> str:
        """The conventions of the figures, as one line (gaps in nanoseconds)."""
        return str(self._native.conventions())

    def variants(self, k: int | None = 10) -> PathTable:
        """The ``k`` most frequent variants (all when None), ties ordered by their steps: ``path``
        (steps joined by ``" > "``), ``steps``, ``count``, ``share`` (of all paths)."""
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 0):
            raise InvalidArgumentError(f"invalid k: {k!r}; give a number of variants >= 0 (or None for all)")
        steps, counts, shares = self._native.variants(k)
        return PathTable(
            f"Top {len(counts)} of {len(self._raw['variants'])} variants of {self.n_paths} paths",
            (
                ("path", "str", [" > ".join(s) for s in steps]),
                ("steps", "int", [len(s) for s in steps]),
                ("count", "int", counts.tolist()),
                ("share", "float", shares.tolist()),
            ),
            f"{self.variants_dropped} paths longer than {self.max_steps} events not counted as variants"
            if self.variants_dropped
            else "",
        )

    @property
    def transitions(self) -> PathTable:
        """The transition matrix, long: ``from``, ``to``, ``count``, ``probability`` (of ``to`` given
        ``from``), with the ``(start)`` and ``(end)`` pseudo-states."""
        a, b, counts, probs = self._native.transitions()
        return PathTable(
            "Transitions (probability = count / occurrences of from)",
            (
                ("from", "str", a),
                ("to", "str", b),
                ("count", "int", counts.tolist()),
                ("probability", "float", probs.tolist()),
            ),
        )

    def matrix(
        self, values: Literal["probability", "count"] = "probability"
    ) -> tuple[list[str], list[str], npt.NDArray[np.float64]]:
        """The transition matrix as rows (``(start)`` then the events), columns (the events then
        ``(end)``) and a 2-D array of ``values`` (0 where no transition)."""
        if values not in ("probability", "count"):
            raise InvalidArgumentError(f"invalid values: {values!r}; use 'probability' or 'count'")
        a, b, counts, probs = self._native.transitions()
        events = sorted({x for x in a if x != "(start)"} | {x for x in b if x != "(end)"})
        rows, cols = ["(start)", *events], [*events, "(end)"]
        ri, ci = {r: i for i, r in enumerate(rows)}, {c: i for i, c in enumerate(cols)}
        out = np.zeros((len(rows), len(cols)))
        src = probs if values == "probability" else counts
        for x, y, v in zip(a, b, src.tolist(), strict=True):
            out[ri[x], ci[y]] = v
        return rows, cols, out

    @property
    def graph(self) -> PathTable:
        """The directly-follows graph: ``from``, ``to``, ``count``, and the exact ``median_gap``,
        ``min_gap`` and ``max_gap`` in seconds."""
        a, b, counts, med, lo, hi = self._native.edges()
        return PathTable(
            "Directly-follows graph (gaps in seconds; median exact, mean of the two middle gaps when even)",
            (
                ("from", "str", a),
                ("to", "str", b),
                ("count", "int", counts.tolist()),
                ("median_gap", "float", (med / _NS).tolist()),
                ("min_gap", "float", (lo / _NS).tolist()),
                ("max_gap", "float", (hi / _NS).tolist()),
            ),
        )

    @property
    def exits(self) -> PathTable:
        """The last event before leaving: ``event``, ``count`` (paths ending with it), ``share`` (of
        all paths)."""
        e, counts, shares = self._native.exits()
        return PathTable(
            "Last event of each path",
            (("event", "str", e), ("count", "int", counts.tolist()), ("share", "float", shares.tolist())),
        )

    def sankey(self, depth: int = 5) -> PathTable:
        """Links of a Sankey diagram over the first ``depth`` steps: ``source_step`` (1 = first),
        ``source``, ``target_step``, ``target``, ``value`` (paths); node names for a plotting library
        are ``f"{step}. {event}"``."""
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2:
            raise InvalidArgumentError(f"invalid depth: {depth!r}; a Sankey diagram needs at least 2 steps")
        steps, src, dst, values = self._native.sankey(min(depth, 2**32 - 1))
        return PathTable(
            f"Sankey links over the first {depth} steps",
            (
                ("source_step", "int", steps.tolist()),
                ("source", "str", src),
                ("target_step", "int", (steps + 1).tolist()),
                ("target", "str", dst),
                ("value", "int", values.tolist()),
            ),
            f"{self.variants_dropped} paths longer than {self.max_steps} events left out"
            if self.variants_dropped
            else "",
        )

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict (gaps in nanoseconds)."""
        return json_dict(self._raw)

    def _headline(self) -> str:
        split = (
            f"sessions split after {self.session_gap:g} s of inactivity"
            if self.session_gap is not None
            else "no split by inactivity"
        )
        return (
            f"{self.n_paths} paths of {self.n_customers} customers ({self.n_events} events; {split}); "
            f"{self.n_omitted} rows left out, {self.n_reordered} reordered"
        )

    def __str__(self) -> str:
        return "\n\n".join([self._headline(), str(self.variants(5)), str(self.exits)])

    def _repr_html_(self) -> str:
        return html_block(self.variants(5)._repr_html_(), self.exits._repr_html_(), headline=self._headline())

    def plot(self, ax: Axes | None = None, values: Literal["probability", "count"] = "probability") -> Axes:
        """The transition heatmap (:func:`cx_metrics.plot.transition_heatmap`)."""
        from . import plot

        return plot.transition_heatmap(self, ax=ax, values=values)


class PathTally(_State):
    """Mergeable path counts (transitions with every gap, exact variant counts, exits), keyed by
    integer customer ids. Mergeable **only when each customer's events are in one partition**: a
    fold or a merge that meets a customer already in the tally is refused (partition the events by
    customer first). Picklable, bytes and JSON.

    >>> import cx_metrics as cx
    >>> t = cx.PathTally()
    >>> t.fold([1, 1, 2], ["home", "buy", "home"], ["2026-01-01 10:00", "2026-01-01 10:05", "2026-01-02"])
    >>> t.result().n_paths
    2
    """

    __slots__ = ()
    _native_type: ClassVar[Any] = _native.PathTally

    def __init__(self, session_gap: object = None, max_steps: int = 100) -> None:
        super().__init__(_gap_ns(session_gap), max_steps)

    def fold(self, customer_id: object, event: object, time: object, session: object = None) -> None:
        """Fold events: integer customer ids, events (any labels), timestamps and optional session ids
        (rows missing an event, time or session are left out and counted)."""
        ids = np.asarray(customer_id)
        if ids.dtype.kind not in "iu":
            raise InvalidArgumentError(
                f"invalid customer_id: a {ids.dtype} column; the tally keys customers by integer ids "
                "(map other ids to integers first)"
            )
        times = _times(None, time)
        n = len(times)
        ev = _label_spec(None, event, "event", n)
        ses = None if session is None else _label_spec(None, session, "session", n)
        self._inner.fold(np.ascontiguousarray(ids, dtype=np.int64), ev, times, ses)

    def result(self) -> PathResult:
        """The paths of the events folded."""
        return PathResult._from_native(self._inner.result())


def paths(
    events: object = None,
    *,
    customer: object,
    event: object,
    time: object,
    session: object = None,
    session_gap: object = None,
    max_steps: int = 100,
    by: object = None,
) -> PathResult | PathResultByGroup:
    """Paths of an event log: the most frequent variants, the transition matrix, the directly-follows
    graph with exact median gaps, the last events and Sankey links (see the module docs for the
    conventions). ``customer``, ``event``, ``time`` (and ``session``, ``by``) are columns of
    ``events`` (a pandas / polars DataFrame or Arrow table) or arrays; ``session_gap`` splits a
    customer's events into sessions after longer inactivity. With ``by``, a :class:`PathResultByGroup`
    (a mapping of each group's label to its result, with a summary table).

    >>> import cx_metrics as cx
    >>> r = cx.paths(customer=[1, 1, 2], event=["home", "buy", "home"],
    ...              time=["2026-01-01 10:00", "2026-01-01 10:05", "2026-01-02 09:00"])
    >>> r.variants(2)["path"]
    ['home', 'home > buy']
    """
    times = _times(events, time)
    n = len(times)
    cust = _label_spec(events, customer, "customer", n)
    ev = _label_spec(events, event, "event", n)
    ses = None if session is None else _label_spec(events, session, "session", n)
    spec = None if by is None else _label_spec(events, by, "by", n)
    out = _native.paths(
        cust, ev, times, sessions=ses, session_gap=_gap_ns(session_gap), max_steps=max_steps, by=spec
    )
    if not isinstance(out, list):
        return PathResult._from_native(out)
    return PathResultByGroup(
        by=_by_name(by),
        groups={(k[0] if len(k) == 1 else tuple(k)): PathResult._from_native(r) for k, r in out},
    )


def _by_name(by: object) -> str | tuple[str, ...]:
    if isinstance(by, str):
        return by
    if isinstance(by, (list, tuple)) and all(isinstance(b, str) for b in by):
        return tuple(by) if len(by) > 1 else str(by[0])
    return str(getattr(by, "name", None) or "by")


@dataclass(frozen=True)
class PathResultByGroup(ResultsByGroup[PathResult]):
    """Paths per group of ``by``: ``groups`` maps each label to its :class:`PathResult` (also
    ``result[label]``, ``len``, iteration over the labels); the table has one row per group: paths,
    customers, events, the most frequent variant and the most frequent last event with their shares."""

    no_rows: tuple[Any, ...] = ()
    _title: ClassVar[str] = "Paths"
    _result: ClassVar[Any] = PathResult

    def _level(self) -> str:
        return ""

    def _headline(self) -> str:
        paths = sum(r.n_paths for r in self.groups.values())
        customers = sum(r.n_customers for r in self.groups.values())
        groups = len(self.groups)
        return f"Paths by {label_str(self.by)}: {groups} groups, {paths} paths of {customers} customers"

    def _columns(self) -> list[FrameColumn]:
        res = list(self.groups.values())
        top = [r.variants(1) for r in res]
        ends = [r.exits for r in res]

        def first(t: PathTable, name: str, default: Any) -> Any:
            values = t[name]
            return values[0] if len(values) else default

        return [
            *self._label_columns(),
            ("n_paths", "int", [r.n_paths for r in res]),
            ("n_customers", "int", [r.n_customers for r in res]),
            ("n_events", "int", [r.n_events for r in res]),
            ("top_variant", "str", [first(t, "path", "") for t in top]),
            ("top_variant_share", "float", [first(t, "share", float("nan")) for t in top]),
            ("top_exit", "str", [first(t, "event", "") for t in ends]),
            ("top_exit_share", "float", [first(t, "share", float("nan")) for t in ends]),
        ]


# ----- new vs returning ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NewVsReturning(SameJson, NativeResult, Tabular):
    """New vs returning customers per calendar period.

    Every period from the first to the last with events (empty ones included): ``active`` customers
    split into ``new`` (their first period in the data), ``returning`` (active in an earlier period
    within the look-back) and ``reactivated`` (seen before, but not within the look-back; 0 with an
    unbounded look-back). ``to_pandas()`` / ``to_polars()``: period (first day), active, new,
    returning, reactivated, new_share.
    """

    _native_type: ClassVar[Any] = _native.NewVsReturning
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> NewVsReturning:
        return cls(native)

    @property
    def period(self) -> str:
        return str(self._raw["period"])

    @property
    def lookback(self) -> int | None:
        """Periods of look-back (None: unbounded within the data)."""
        lb = self._raw["lookback"]
        return None if lb == "unbounded" else int(lb["periods"])

    @property
    def starts(self) -> list[np.datetime64]:
        return [np.datetime64(int(p["start_day"]), "D") for p in self._raw["periods"]]

    def _col(self, key: str) -> list[int]:
        return [int(p[key]) for p in self._raw["periods"]]

    @property
    def active(self) -> list[int]:
        return self._col("active")

    @property
    def new(self) -> list[int]:
        return self._col("new")

    @property
    def returning(self) -> list[int]:
        return self._col("returning")

    @property
    def reactivated(self) -> list[int]:
        return self._col("reactivated")

    @property
    def customers(self) -> int:
        return int(self._raw["customers"])

    @property
    def n_omitted(self) -> int:
        return int(self._raw["n_omitted"])

    def _columns(self) -> list[FrameColumn]:
        active, new = self.active, self.new
        return [
            ("period", "str", [str(s) for s in self.starts]),
            ("active", "int", active),
            ("new", "int", new),
            ("returning", "int", self.returning),
            ("reactivated", "int", self.reactivated),
            ("new_share", "float", [n / a if a else float("nan") for n, a in zip(new, active, strict=True)]),
        ]

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict (periods by their first day, in days since 1970)."""
        return json_dict(self._raw)

    def _headline(self) -> str:
        back = "unbounded within the data" if self.lookback is None else f"{self.lookback} {self.period}s"
        return (
            f"New vs returning customers per {self.period} (look-back {back}): {self.customers} customers, "
            f"{self.n_omitted} rows left out"
        )

    def _rows(self) -> list[list[str]]:
        cols = self._columns()
        return [
            [str(c[2][i]) if c[1] != "float" else pct(c[2][i]) for c in cols] for i in range(len(self.active))
        ]

    def __str__(self) -> str:
        header = ["period", "active", "new", "returning", "reactivated", "new share"]
        return "\n".join([self._headline(), *text_table(header, self._rows())])

    def _repr_html_(self) -> str:
        header = ["period", "active", "new", "returning", "reactivated", "new share"]
        return html_block(html_table(None, self._rows(), header=header), headline=self._headline())


def new_vs_returning(
    events: object = None,
    *,
    customer: object,
    time: object,
    period: Period = "month",
    lookback: int | None = None,
    by: object = None,
) -> NewVsReturning | NewVsReturningByGroup:
    """New vs returning customers per calendar ``period`` (``"day"``, ``"week"`` from Monday,
    ``"month"``, ``"quarter"``, ``"year"``, of UTC time): "returning" = active in an earlier period,
    within ``lookback`` periods (None: any earlier period in the data); customers seen before but
    not within the look-back are "reactivated".

    >>> import cx_metrics as cx
    >>> r = cx.new_vs_returning(customer=[1, 1, 2], time=["2026-01-05", "2026-02-01", "2026-02-02"])
    >>> r.new, r.returning
    ([1, 1], [0, 1])
    """
    if lookback is not None and (isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1):
        raise InvalidArgumentError(f"invalid lookback: {lookback!r}; give a number of periods >= 1, or None")
    times = _times(events, time)

    def of_rows(ids: object, ns: npt.NDArray[np.int64]) -> NewVsReturning:
        spec = _ids(None, ids, "customer", len(ns))
        return NewVsReturning._from_native(
            _native.new_vs_returning(spec, ns, period=period, lookback=lookback)
        )

    ids = _column(events, customer, "customer")
    if by is None:
        return of_rows(ids, times)
    by_name, groups = group_rows(by, None if events is None else Table(events), len(times))
    return NewVsReturningByGroup.of(
        by_name, groups, lambda _, rows: of_rows(take_rows(ids, rows), times[rows])
    )


@dataclass(frozen=True)
class NewVsReturningByGroup(ResultsByGroup[NewVsReturning]):
    """New vs returning customers per period and group of ``by``: ``groups`` maps each label to its
    :class:`NewVsReturning` (a customer is new in a group in their first period in that group's
    rows); the table stacks the groups' period tables, label columns first."""

    no_rows: tuple[Any, ...] = ()
    _title: ClassVar[str] = "New vs returning customers"
    _result: ClassVar[Any] = NewVsReturning

    def _level(self) -> str:
        return ""

    def _headline(self) -> str:
        first = next(iter(self.groups.values()), None)
        per = "" if first is None else f" per {first.period}"
        customers = sum(r.customers for r in self.groups.values())
        return (
            f"New vs returning customers{per} by {label_str(self.by)}: {len(self.groups)} groups, "
            f"{customers} customers"
        )

    def _columns(self) -> list[FrameColumn]:
        return self._stack([r._columns() for r in self.groups.values()])


# ----- abandonment -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Abandonment(SameJson, NativeResult, Tabular):
    """Abandonment at each stage of an ordered list: per stage, the customers whose furthest stage it
    is (``last``: abandoned there, or completed for the last stage), their ``share`` of the customers
    with a stage event (Wilson interval ``share_ci``), and the customers who ``reached`` it.
    ``to_pandas()`` / ``to_polars()``: stage, reached, last, share, share_low, share_high.
    """

    _native_type: ClassVar[Any] = _native.Abandonment
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> Abandonment:
        return cls(native)

    @property
    def stages(self) -> list[str]:
        return [str(s["stage"]) for s in self._raw["stages"]]

    @property
    def reached(self) -> list[int]:
        return [int(s["reached"]) for s in self._raw["stages"]]

    @property
    def last(self) -> list[int]:
        return [int(s["last"]) for s in self._raw["stages"]]

    @property
    def share(self) -> list[float]:
        return [float(s["share"]) for s in self._raw["stages"]]

    @property
    def share_ci(self) -> list[Interval]:
        return [
            Interval(c["low"], c["high"], c["confidence_level"], "wilson", c["clipped"])
            for c in (s["share_ci"] for s in self._raw["stages"])
        ]

    @property
    def customers(self) -> int:
        return int(self._raw["customers"])

    @property
    def customers_without_stage(self) -> int:
        return int(self._raw["customers_without_stage"])

    @property
    def n_omitted(self) -> int:
        return int(self._raw["n_omitted"])

    def _columns(self) -> list[FrameColumn]:
        cis = self.share_ci
        return [
            ("stage", "str", self.stages),
            ("reached", "int", self.reached),
            ("last", "int", self.last),
            ("share", "float", self.share),
            ("share_low", "float", [c.low for c in cis]),
            ("share_high", "float", [c.high for c in cis]),
        ]

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def _headline(self) -> str:
        level = level_text(self.share_ci[0].confidence_level)
        return (
            f"Furthest stage reached by {self.customers} customers ({level} Wilson intervals); "
            f"{self.customers_without_stage} customers without a stage event, {self.n_omitted} rows left out"
        )

    def _rows(self) -> list[list[str]]:
        return [
            [s, str(r), str(la), pct(sh), f"{pct(c.low)} to {pct(c.high)}"]
            for s, r, la, sh, c in zip(
                self.stages, self.reached, self.last, self.share, self.share_ci, strict=True
            )
        ]

    def _header(self) -> list[str]:
        level = level_text(self.share_ci[0].confidence_level) if self.share_ci else "95%"
        return ["stage", "reached", "stopped here", "share", f"{level} CI"]

    def __str__(self) -> str:
        return "\n".join([self._headline(), *text_table(self._header(), self._rows())])

    def _repr_html_(self) -> str:
        return html_block(html_table(None, self._rows(), header=self._header()), headline=self._headline())


def abandonment(
    events: object = None,
    *,
    customer: object,
    event: object,
    stages: Sequence[str],
    confidence_level: float = 0.95,
    by: object = None,
) -> Abandonment | AbandonmentByGroup:
    """Abandonment at each of ``stages`` (in funnel order): each customer's furthest stage is the
    last stage of the list among their events, whatever the order of the events; per stage the
    share of customers stopping there (of those with any stage event), with Wilson intervals.
    A stage that is not an event in the data is an error naming it (a stage nobody reached cannot be
    told from a misspelt one).

    >>> import cx_metrics as cx
    >>> a = cx.abandonment(customer=[1, 1, 2, 3], event=["visit", "pay", "cart", "visit"],
    ...                    stages=["visit", "cart", "pay"])
    >>> a.last
    [1, 1, 1]
    """
    if isinstance(stages, str) or not all(isinstance(s, str) for s in stages):
        raise InvalidArgumentError("invalid stages: give a list of event names, in order")
    n = len(Table(events)._raw(event)) if isinstance(event, str) and events is not None else len(event)  # type: ignore[arg-type]
    cust = _ids(events, customer, "customer", n)
    ev = _label_spec(events, event, "event", n)
    # The whole log first: its stages are checked for spelling there, once.
    whole = _native.abandonment(cust, ev, n, list(stages), confidence_level=confidence_level)
    if by is None:
        return Abandonment._from_native(whole)
    ids, names = _column(events, customer, "customer"), _column(events, event, "event")
    by_name, groups = group_rows(by, None if events is None else Table(events), n)

    def one(_: Any, rows: npt.NDArray[np.intp]) -> Abandonment:
        c, e = take_rows(ids, rows), take_rows(names, rows)
        native = _native.abandonment(
            _ids(None, c, "customer", len(rows)),
            _label_spec(None, e, "event", len(rows)),
            len(rows),
            list(stages),
            confidence_level=confidence_level,
            stages_known=True,
        )
        return Abandonment._from_native(native)

    return AbandonmentByGroup.of(by_name, groups, one)


@dataclass(frozen=True)
class AbandonmentByGroup(ResultsByGroup[Abandonment]):
    """Abandonment at each stage per group of ``by``: ``groups`` maps each label to its
    :class:`Abandonment`; the table stacks the groups' stage tables, label columns first."""

    no_rows: tuple[Any, ...] = ()
    _title: ClassVar[str] = "Abandonment"
    _result: ClassVar[Any] = Abandonment

    def _level(self) -> str:
        first = next(iter(self.groups.values()), None)
        return level_text(
            first.share_ci[0].confidence_level if first is not None and first.share_ci else 0.95
        )

    def _headline(self) -> str:
        customers = sum(r.customers for r in self.groups.values())
        return (
            f"Furthest stage reached by {label_str(self.by)}: {len(self.groups)} groups, "
            f"{customers} customers ({self._level()} Wilson intervals)"
        )

    def _columns(self) -> list[FrameColumn]:
        return self._stack([r._columns() for r in self.groups.values()])
