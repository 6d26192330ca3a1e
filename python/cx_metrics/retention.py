"""Churn and retention: period churn, cohort retention tables, new vs returning customers and the
repeat-purchase rate, and the mergeable states behind them.

Everything is computed in the Rust core (``cx_metrics::churn``, ``cohorts``, ``customers``); this
module reads the columns, turns timestamps into UTC instants and holds the results.

Timestamps may be numpy ``datetime64``, pandas, polars or pyarrow datetime or date columns, or lists of
``datetime`` / ``date`` objects. Time-zone-aware timestamps are converted to UTC; naive ones are taken
as UTC. Mixing aware and naive timestamps (within a column, or between the columns and dates of one
call) is an error naming the row, since the two cannot be compared without a guess.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from . import _native
from ._by_group import ResultsByGroup, group_rows, take_rows
from ._groups import key_columns, key_from_json, key_to_json, label_str
from ._json import read_document, write_document
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
    require_pandas,
    text_table,
)
from ._table import Table
from ._tally import _State
from .exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "ChurnByGroup",
    "ChurnResult",
    "CohortTally",
    "CustomerSummary",
    "RepeatRate",
    "RetentionTable",
    "churn",
    "convert_churn",
    "repeat_rate",
    "retention_table",
]

Denominator = Literal["start", "average"]
Period = Literal["day", "week", "month", "quarter", "year"]
Definition = Literal["return_on", "return_on_or_after"]

_NAT = np.iinfo(np.int64).min


# ----- timestamps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Instants:
    """A column of UTC instants in nanoseconds (NaT = int64 min) and whether it was time-zone-aware
    (None when it held no timestamp to tell)."""

    ns: npt.NDArray[np.int64]
    aware: bool | None


def _mixed(name: str, aware_row: int, naive_row: int) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"invalid {name}: row {aware_row} is time-zone-aware but row {naive_row} is naive; they cannot "
        "be compared without a guess: localize the naive ones (or convert every timestamp to UTC) first"
    )


def _object_instants(values: Sequence[Any], name: str) -> _Instants:
    out = np.empty(len(values), dtype=np.int64)
    first_aware: int | None = None
    first_naive: int | None = None
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[i] = _NAT
            continue
        if isinstance(v, str):
            try:
                v = datetime.datetime.fromisoformat(v)
            except ValueError:
                raise InvalidArgumentError(
                    f"invalid {name}: row {i} holds {v!r}, not an ISO date or time (e.g. '2026-01-31')"
                ) from None
        if isinstance(v, np.datetime64):
            out[i] = _NAT if np.isnat(v) else int(v.astype("datetime64[ns]").astype(np.int64))
            first_naive = i if first_naive is None else first_naive
            continue
        if isinstance(v, datetime.datetime):
            if str(v) == "NaT":  # pandas.NaT is a datetime
                out[i] = _NAT
                continue
            if v.tzinfo is not None and v.tzinfo.utcoffset(v) is not None:
                first_aware = i if first_aware is None else first_aware
                v = v.astimezone(datetime.UTC).replace(tzinfo=None)
            else:
                first_naive = i if first_naive is None else first_naive
            out[i] = int(np.datetime64(v, "ns").astype(np.int64))
            continue
        if isinstance(v, datetime.date):
            first_naive = i if first_naive is None else first_naive
            out[i] = int(np.datetime64(v, "D").astype("datetime64[ns]").astype(np.int64))
            continue
        raise InvalidArgumentError(
            f"invalid {name}: row {i} holds {v!r}, not a timestamp; give datetimes or dates"
        )
    if first_aware is not None and first_naive is not None:
        raise _mixed(name, first_aware, first_naive)
    aware = True if first_aware is not None else (False if first_naive is not None else None)
    return _Instants(out, aware)


def _datetime64(a: npt.NDArray[Any], name: str) -> npt.NDArray[np.int64]:
    if a.dtype.kind != "M":
        raise InvalidArgumentError(
            f"invalid {name}: a {a.dtype} column is not a timestamp; give datetimes or dates "
            "(numpy datetime64, a pandas / polars / pyarrow datetime or date column)"
        )
    ns: npt.NDArray[np.int64] = np.ascontiguousarray(a.astype("datetime64[ns]", copy=False)).view(np.int64)
    return ns


def _instants(raw: Any, name: str) -> _Instants:
    """``raw`` as UTC nanoseconds, with whether it was time-zone-aware."""
    module = type(raw).__module__.split(".")[0]
    if module == "pandas":
        import pandas as pd

        s = pd.Series(raw) if not isinstance(raw, pd.Series) else raw
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            utc = s.dt.tz_convert("UTC").dt.tz_localize(None)
            return _Instants(_datetime64(utc.to_numpy("datetime64[ns]"), name), True)
        if s.dtype == object:
            return _object_instants(list(s), name)
        return _Instants(_datetime64(s.to_numpy(), name), False)
    if module == "polars":
        import polars as pl

        if isinstance(raw.dtype, pl.Datetime) and raw.dtype.time_zone is not None:
            utc = raw.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            return _Instants(_datetime64(utc.to_numpy(), name), True)
        if raw.dtype == pl.Object:
            return _object_instants(raw.to_list(), name)
        return _Instants(_datetime64(raw.to_numpy(), name), False)
    if module == "pyarrow":
        import pyarrow as pa

        typ = raw.type
        aware = bool(pa.types.is_timestamp(typ) and typ.tz is not None)
        values = raw.to_numpy(zero_copy_only=False)
        if values.dtype == object:
            return _object_instants(list(values), name)
        return _Instants(_datetime64(values, name), aware)
    if isinstance(raw, np.ndarray):
        if raw.dtype == object:
            return _object_instants(list(raw), name)
        return _Instants(_datetime64(raw, name), False)
    if isinstance(raw, list | tuple):
        return _object_instants(raw, name)
    raise InvalidArgumentError(
        f"invalid {name}: a {type(raw).__name__} is not a column of timestamps; give a list, numpy "
        "datetime64 array, or a pandas / polars / pyarrow column"
    )


def _instant(value: Any, name: str) -> _Instants:
    """One timestamp (a ``datetime``, ``date``, ISO text, ``numpy.datetime64``, pandas ``Timestamp``)."""
    out = _object_instants([value], name)
    if out.ns[0] == _NAT:
        raise InvalidArgumentError(f"invalid {name}: a date or time is required")
    return out


def _same_zone(parts: Sequence[tuple[str, _Instants]]) -> None:
    """Raise when some of the named timestamps are time-zone-aware and others naive."""
    aware = [n for n, p in parts if p.aware is True]
    naive = [n for n, p in parts if p.aware is False]
    if aware and naive:
        raise InvalidArgumentError(
            f"invalid {naive[0]}: {', '.join(aware)} time-zone-aware but {', '.join(naive)} naive; they "
            "cannot be compared without a guess: localize the naive ones (or convert all to UTC) first"
        )


def _column(data: object, value: object, name: str) -> Any:
    """``value`` itself, or the column it names in ``data``."""
    if isinstance(value, str):
        if data is None:
            raise InvalidArgumentError(f"invalid {name}: {value!r} names a column, but no data= was given")
        return Table(data)._raw(value)
    if value is None:
        raise InvalidArgumentError(f"invalid {name}: give a column (or the name of one in data=)")
    return value


def _ids(data: object, value: object, name: str, n_rows: int) -> Any:
    """The native label spec of a column of customer ids."""
    if value is None:
        raise InvalidArgumentError(f"invalid {name}: give the customer ids (or the name of their column)")
    table = Table(data) if isinstance(value, str) and data is not None else None
    return key_columns(value, table, n_rows, what=name).specs[0]


def _event_ids(data: object, value: object, n_rows: int, name: str = "customer_id") -> Any:
    """Customer ids of events for the native fold: an int64 array when they are integers without
    missing values (numbered in one hash pass, without sorting labels), else a label spec."""
    raw: Any = _column(data, value, "customer_id") if isinstance(value, str) else value
    module = type(raw).__module__.split(".")[0]
    arr: Any = None
    if isinstance(raw, np.ndarray):
        arr = raw
    elif module == "pandas" and getattr(raw, "dtype", None) is not None and not hasattr(raw, "columns"):
        if raw.dtype.kind in "iu" and isinstance(raw.dtype, np.dtype):
            arr = raw.to_numpy()
    elif module == "polars" and hasattr(raw, "dtype") and raw.dtype.is_integer() and raw.null_count() == 0:
        arr = raw.to_numpy()
    fits = arr is not None and arr.ndim == 1 and len(arr) == n_rows
    if fits and (arr.dtype.kind == "i" or (arr.dtype.kind == "u" and arr.dtype.itemsize < 8)):
        return np.ascontiguousarray(arr, dtype=np.int64)
    return _ids(data, value, name, n_rows)


def _datestr(ns: int) -> str:
    return str(np.datetime64(ns, "ns").astype("datetime64[s]")).replace("T00:00:00", "")


class SameJson:
    """Results equal when their native results serialise alike (the native classes hold plain data)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(self.to_dict() == other.to_dict())

    __hash__ = None  # type: ignore[assignment]


# ----- churn ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ChurnResult(SameJson, NativeResult):
    """The churn of one period.

    Attributes
    ----------
    churn, retention : float
        ``lost / denominator`` and ``1 - churn``.
    churn_ci, retention_ci : Interval or None
        Wilson intervals (None with ``denominator="average"``, which is not a count of trials).
    customers_start, lost, new, new_lost, customers_end : int
        Customers at the start; lost of them; new in the period; new and lost in it; at the end.
    denominator : str
        ``"start"`` (customers at the start) or ``"average"`` (of the start and end).
    retention_shortcut : float
        ``(end - new) / start``, the common shortcut: equal to ``retention`` only when no new customer
        left within the period.
    n_omitted, n_outside : int
        Customer rows without a start (omitted), and rows not active at any time of the period.
    period : tuple of str or None
        The period's start and end, when computed from customer rows.
    """

    _native_type: ClassVar[Any] = _native.ChurnResult
    _native: Any = field(repr=False)
    period: tuple[str, str] | None = None

    @classmethod
    def _from_native(cls, native: Any) -> ChurnResult:
        return cls(native)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_churn_result, (self._native, self.period))

    def to_json(self) -> str:
        """The result as JSON text, for storage: the period and the core's result."""
        core = json.loads(self._native.to_json())
        return write_document("ChurnResult", {"period": self.period, "core": core})

    @classmethod
    def from_json(cls, text: str) -> ChurnResult:
        """A result from the text written by :meth:`to_json`."""
        d = read_document(text, "ChurnResult")
        try:
            period = d["period"]
            native = _native.ChurnResult.from_json(json.dumps(d["core"]))
        except KeyError as e:
            raise InvalidArgumentError(f"invalid ChurnResult JSON: no {e}") from None
        if period is not None and not (isinstance(period, list) and len(period) == 2):
            raise InvalidArgumentError(f"invalid ChurnResult JSON: period {period!r} is not [start, end]")
        return cls(native, None if period is None else (str(period[0]), str(period[1])))

    def _get(self, key: str) -> Any:
        return self._raw[key]

    @property
    def churn(self) -> float:
        return float(self._get("churn"))

    @property
    def retention(self) -> float:
        return float(self._get("retention"))

    def _interval(self, key: str) -> Interval | None:
        raw = self._get(key)
        if raw is None:
            return None
        return Interval(raw["low"], raw["high"], raw["confidence_level"], self._get("method"), raw["clipped"])

    @property
    def churn_ci(self) -> Interval | None:
        return self._interval("churn_ci")

    @property
    def retention_ci(self) -> Interval | None:
        return self._interval("retention_ci")

    @property
    def customers_start(self) -> int:
        return int(self._get("customers_start"))

    @property
    def lost(self) -> int:
        return int(self._get("lost"))

    @property
    def new(self) -> int:
        return int(self._get("new"))

    @property
    def new_lost(self) -> int:
        return int(self._get("new_lost"))

    @property
    def customers_end(self) -> int:
        return int(self._get("customers_end"))

    @property
    def denominator(self) -> str:
        return str(self._get("denominator"))

    @property
    def retention_shortcut(self) -> float:
        v = self._get("retention_shortcut")
        return math.nan if v is None else float(v)

    @property
    def n_omitted(self) -> int:
        return int(self._get("n_omitted"))

    @property
    def n_outside(self) -> int:
        return int(self._get("n_outside"))

    def churn_over(self, ratio: float) -> float:
        """The churn over a period ``ratio`` times as long, with a constant hazard:
        ``1 - (1 - churn) ** ratio`` (12 from a month to a year; never ``12 * churn``)."""
        return float(self._native.churn_over(ratio))

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict (with the period, when known)."""
        out = json_dict(self._raw)
        out["period"] = list(self.period) if self.period else None
        return out

    def _headline(self) -> str:
        ci = self.churn_ci
        interval = (
            f" ({level_text(ci.confidence_level)} CI {pct(ci.low)} to {pct(ci.high)}, {ci.method})"
            if ci
            else ""
        )
        over = f" from {self.period[0]} to {self.period[1]}" if self.period else ""
        return (
            f"Churn {pct(self.churn)}{interval}, retention {pct(self.retention)}{over}\n"
            f"{self.lost} lost of {self.customers_start} customers at the start "
            f"(denominator: {self.denominator})"
        )

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("customers at the start", str(self.customers_start)),
            ("lost", str(self.lost)),
            ("new", str(self.new)),
            ("new and lost in the period", str(self.new_lost)),
            ("customers at the end", str(self.customers_end)),
            ("shortcut (end - new) / start", pct(self.retention_shortcut)),
        ]

    def __str__(self) -> str:
        return "\n".join([self._headline(), *text_table(("count", "value"), self._rows())[1:]])

    def _repr_html_(self) -> str:
        return html_block(html_table(None, self._rows()), headline=self._headline())


def _churn_result(native: Any, period: tuple[str, str] | None) -> ChurnResult:
    return ChurnResult(native, period)


@dataclass(frozen=True)
class ChurnByGroup(Tabular):
    """Churn per group of ``by=``: :attr:`results` maps each label (a tuple for several columns) to
    its :class:`ChurnResult`, or None for a group without customers at the start of the period.

    ``to_pandas()`` / ``to_polars()``: the label columns, ``estimate`` (the churn), ``ci_low``,
    ``ci_high``, ``n`` (customers at the start), ``lost``, ``new``, ``retention``."""

    by: str | tuple[str, ...]
    labels: tuple[Any, ...]
    results: tuple[ChurnResult | None, ...]

    def to_json(self) -> str:
        """The results as JSON text, for storage: ``by``, the groups' typed labels and each group's
        result (``null`` for a group without customers at the start)."""
        return write_document(
            "ChurnByGroup",
            {
                "by": [self.by] if isinstance(self.by, str) else list(self.by),
                "labels": [key_to_json(lab) for lab in self.labels],
                "results": [None if r is None else json.loads(r.to_json()) for r in self.results],
            },
        )

    @classmethod
    def from_json(cls, text: str) -> ChurnByGroup:
        """The results from the text written by :meth:`to_json`."""
        d = read_document(text, "ChurnByGroup")
        try:
            by = [str(b) for b in d["by"]]
            labels = tuple(key_from_json(lab) for lab in d["labels"])
            results = tuple(None if r is None else ChurnResult.from_json(json.dumps(r)) for r in d["results"])
        except (KeyError, TypeError) as e:
            raise InvalidArgumentError(f"invalid ChurnByGroup JSON: {type(e).__name__} {e}") from None
        if len(labels) != len(results):
            raise InvalidArgumentError(
                f"invalid ChurnByGroup JSON: {len(labels)} labels but {len(results)} results"
            )
        return cls(by[0] if len(by) == 1 else tuple(by), labels, results)

    def __getitem__(self, label: Any) -> ChurnResult | None:
        for lab, r in zip(self.labels, self.results, strict=True):
            if lab == label or (isinstance(lab, tuple) and len(lab) == 1 and lab[0] == label):
                return r
        raise KeyError(label)

    def _columns(self) -> list[FrameColumn]:
        names = [self.by] if isinstance(self.by, str) else list(self.by)
        cols: list[FrameColumn] = [
            (n, "str", [label_str(lab[i]) for lab in self.labels]) for i, n in enumerate(names)
        ]

        def figure(f: Any) -> list[float]:
            return [math.nan if r is None else float(f(r)) for r in self.results]

        cols += [
            ("estimate", "float", figure(lambda r: r.churn)),
            ("ci_low", "float", figure(lambda r: r.churn_ci.low if r.churn_ci else math.nan)),
            ("ci_high", "float", figure(lambda r: r.churn_ci.high if r.churn_ci else math.nan)),
            ("n", "int", [0 if r is None else r.customers_start for r in self.results]),
            ("lost", "int", [0 if r is None else r.lost for r in self.results]),
            ("new", "int", [0 if r is None else r.new for r in self.results]),
            ("retention", "float", figure(lambda r: r.retention)),
        ]
        return cols

    def to_dict(self) -> dict[str, Any]:
        """Every group's label and result as JSON-safe builtins."""
        return json_dict(
            {
                "by": self.by,
                "groups": [
                    {"label": [label_str(v) for v in lab], "result": None if r is None else r.to_dict()}
                    for lab, r in zip(self.labels, self.results, strict=True)
                ],
            }
        )

    def _rows(self) -> list[list[str]]:
        def ci(r: ChurnResult | None) -> str:
            c = None if r is None else r.churn_ci
            return "n/a" if c is None else f"{pct(c.low)} to {pct(c.high)}"

        return [
            [
                " / ".join(label_str(v) for v in lab),
                "n/a" if r is None else pct(r.churn),
                ci(r),
                "n/a" if r is None else str(r.customers_start),
                "n/a" if r is None else str(r.lost),
            ]
            for lab, r in zip(self.labels, self.results, strict=True)
        ]

    def _header(self) -> tuple[str, ...]:
        by = self.by if isinstance(self.by, str) else " / ".join(self.by)
        level = next(
            (r.churn_ci.confidence_level for r in self.results if r is not None and r.churn_ci), 0.95
        )
        return (by, "churn", f"{level_text(level)} CI", "start", "lost")

    def __str__(self) -> str:
        return "\n".join(text_table(self._header(), self._rows()))

    def _repr_html_(self) -> str:
        return html_table("Churn by group", self._rows(), header=self._header())


def churn(
    data: object = None,
    *,
    start: object = None,
    end: object = None,
    period_start: object = None,
    period_end: object = None,
    customer_id: object = None,
    customers_start: int | None = None,
    lost: int | None = None,
    new: int = 0,
    new_lost: int = 0,
    denominator: Denominator = "start",
    confidence_level: float = 0.95,
    by: object = None,
) -> ChurnResult | ChurnByGroup:
    """Period churn: customers lost during a period / customers at its start, with Wilson intervals.

    From counts (``customers_start``, ``lost``, and optionally ``new`` and ``new_lost``), or from a
    customer table: ``start`` and ``end`` (columns or names of columns of ``data``; a missing end means
    still active) and the period's instants ``period_start`` / ``period_end``. A customer is active from
    its start until its end; the customers at the start are those active at ``period_start``, lost
    those of them whose end is at or before ``period_end``. With ``customer_id`` the ids must be unique.

    ``denominator="average"`` divides by the average of the customers at the start and end instead (no
    binomial interval). ``by=`` (labels, or column names of ``data``) gives a :class:`ChurnByGroup`.

    >>> import cx_metrics as cx
    >>> r = cx.churn(customers_start=200, lost=30, new=50)
    >>> print(f"{r.churn:.2f} {r.retention:.2f} {r.customers_end}")
    0.15 0.85 220
    """
    if customers_start is not None or lost is not None:
        if customers_start is None or lost is None:
            raise InvalidArgumentError("invalid counts: give both customers_start and lost")
        if start is not None or end is not None or by is not None:
            raise InvalidArgumentError(
                "invalid arguments: give either counts (customers_start, lost) or a customer table "
                "(start, end, period_start, period_end), not both"
            )
        native = _native.churn_counts(
            customers_start, lost, new, new_lost, denominator=denominator, confidence_level=confidence_level
        )
        return ChurnResult(native)
    starts = _instants(_column(data, start, "start"), "start")
    ends = _instants(_column(data, end, "end"), "end")
    if period_start is None or period_end is None:
        raise InvalidArgumentError("invalid period: give period_start and period_end (dates or datetimes)")
    p0 = _instant(period_start, "period_start")
    p1 = _instant(period_end, "period_end")
    _same_zone([("start", starts), ("end", ends), ("period_start", p0), ("period_end", p1)])
    n = len(starts.ns)
    ids = None if customer_id is None else _ids(data, customer_id, "customer_id", n)
    groups = None
    by_name: str | tuple[str, ...] = ""
    if by is not None:
        keys = key_columns(by, Table(data) if data is not None else None, n)
        groups, by_name = keys.specs, keys.by_name
    results, labels = _native.churn_customers(
        starts.ns,
        ends.ns,
        int(p0.ns[0]),
        int(p1.ns[0]),
        denominator=denominator,
        confidence_level=confidence_level,
        ids=ids,
        groups=groups,
    )
    period = (_datestr(int(p0.ns[0])), _datestr(int(p1.ns[0])))
    wrapped = tuple(None if r is None else ChurnResult(r, period) for r in results)
    if labels is None:
        only = wrapped[0]
        assert only is not None
        return only
    return ChurnByGroup(by_name, tuple(labels), wrapped)


def convert_churn(rate: float, from_periods: float = 1.0, to_periods: float = 12.0) -> float:
    """A churn rate over ``from_periods`` converted to ``to_periods`` (same unit) with a constant
    hazard: ``1 - (1 - rate) ** (to_periods / from_periods)``. Monthly to annual by default.

    >>> import cx_metrics as cx
    >>> round(cx.convert_churn(0.03), 4)  # 3 % a month is 30.6 % a year, not 36 %
    0.3062
    >>> round(cx.convert_churn(0.30, 12, 1), 4)
    0.0293
    """
    return float(_native.convert_churn(rate, from_periods, to_periods))


# ----- cohort retention tables ----------------------------------------------------------------------


class CohortTally(_State):
    """Customers per cohort and period offset: the mergeable state of :func:`retention_table`.

    Fold activity events (:meth:`fold_events`; every event of a customer in the same fold and
    partition) or customer spans (:meth:`fold_spans`), merge (``+``, ``sum``), pickle, store as bytes or
    JSON, and finish with :meth:`table`.

    ``as_of``: fold only the activity up to the period of this date; what lies after it is left out
    and counted, and the tables are exactly those of the activity up to ``as_of`` (for every
    definition). Tallies merge only with tallies of the same ``as_of``. A tally folded without one and
    finished with an earlier ``as_of`` counts, under ``"return_on_or_after"``, a customer active after
    it as retained through it (``n_customers_active_after_as_of``; the printout says so).

    >>> import cx_metrics as cx
    >>> t = cx.CohortTally("month")
    >>> t.fold_events([1, 1, 2], ["2026-01-05", "2026-02-10", "2026-02-01"])
    >>> t.table().sizes
    [1, 1]
    """

    __slots__ = ()
    _native_type: ClassVar[Any] = _native.CohortTally

    def __init__(self, period: Period = "month", as_of: object = None) -> None:
        if as_of is None:
            super().__init__(period)
        else:
            self._inner = _native.CohortTally.until(period, int(_instant(as_of, "as_of").ns[0]), "ns")

    @property
    def as_of(self) -> np.datetime64 | None:
        """The first day of the last period folded (``None``: every period)."""
        day = self._inner.as_of_day
        return None if day is None else np.datetime64(int(day), "D")

    @property
    def period(self) -> str:
        """The calendar period of the cohorts."""
        return str(self._inner.period)

    @property
    def n_omitted(self) -> int:
        """Rows omitted for a missing customer id or time."""
        return int(self._inner.n_omitted)

    def fold_events(self, customers: object, times: object) -> None:
        """Fold activity events (one customer id and timestamp per event); rows without an id or a
        time are omitted and counted. All events of a customer must be in this call."""
        t = _instants(_as_column(times), "times")
        self._inner.fold_events(_event_ids(None, customers, len(t.ns)), t.ns, "ns")

    def fold_spans(self, starts: object, ends: object, customer_id: object = None) -> None:
        """Fold customer spans: a start and an end (missing: still active) per customer; with
        ``customer_id``, the ids must be unique."""
        s = _instants(_as_column(starts), "start")
        e = _instants(_as_column(ends), "end")
        _same_zone([("start", s), ("end", e)])
        ids = None if customer_id is None else _ids(None, customer_id, "customer_id", len(s.ns))
        self._inner.fold_spans(s.ns, e.ns, "ns", ids)

    def table(
        self,
        definition: Definition = "return_on",
        *,
        as_of: object = None,
        max_periods: int | None = None,
    ) -> RetentionTable:
        """The retention table (see :func:`retention_table` for the arguments)."""
        at = None if as_of is None else int(_instant(as_of, "as_of").ns[0])
        return RetentionTable._from_native(self._inner.table(definition, at, "ns", max_periods))


def _summary_ids(customer_id: object) -> Any:
    """Customer ids for a :class:`CustomerSummary`: an int64 array, or a list of str (None missing)."""
    ids = np.asarray(customer_id)
    if ids.dtype.kind in "iu":
        if ids.dtype == np.uint64 and ids.size and int(ids.max()) > np.iinfo(np.int64).max:
            raise InvalidArgumentError(
                "invalid customer_id: ids above 2^63 - 1; give them as text (the summary keeps int64 ids)"
            )
        return np.ascontiguousarray(ids, dtype=np.int64)
    if ids.dtype.kind in "OUT":
        out: list[str | None] = []
        for i, v in enumerate(ids.tolist()):
            if isinstance(v, str):
                out.append(v)
            elif v is None or (isinstance(v, float) and math.isnan(v)) or _is_na(v):
                out.append(None)
            else:
                raise InvalidArgumentError(
                    f"invalid customer_id: row {i} is {v!r} ({type(v).__name__}) among text ids; give "
                    "every id as text, or every id as an integer"
                )
        return out
    raise InvalidArgumentError(
        f"invalid customer_id: a {ids.dtype} column; give integer or text ids (float ids: cast them to "
        "integers, dropping the missing ones, or to text)"
    )


def _is_na(v: object) -> bool:
    """Whether ``v`` is pandas' or polars' missing value (without importing either)."""
    return type(v).__name__ in ("NAType", "NaTType")


def _as_column(x: object) -> Any:
    if isinstance(x, str):
        raise InvalidArgumentError(f"invalid column: {x!r} is text; give a column of timestamps")
    return x


@dataclass(frozen=True, eq=False)
class RetentionTable(SameJson, NativeResult, Tabular):
    """A cohort retention table: cohorts (rows, by the first day of their period) x periods since the
    cohort's own (columns 0, 1, ...).

    Attributes
    ----------
    period : str
        The calendar period (``"month"``, ``"week"``, ...).
    definition : str
        ``"return_on"`` (N-day: active in period k) or ``"return_on_or_after"`` (unbounded: active in
        period k or later).
    cohorts : list of numpy.datetime64
        First day of each cohort's period.
    sizes : list of int
        Customers per cohort.
    as_of : numpy.datetime64
        First day of the last observed period: cells after it are NaN ("not observed yet"), never 0;
        cells in it are flagged in :attr:`incomplete` (the period may be partial).
    average : numpy.ndarray
        Per period: retained / customers over the cohorts that reached it.

    ``rates`` and ``counts`` are 2-D arrays (NaN where not observed); :meth:`pivot` gives the rates as
    a wide DataFrame with the cohorts as the index; ``to_pandas()`` / ``to_polars()`` the long table
    (cohort, period, size, retained, rate, observed, incomplete; one row per cell).
    """

    _native_type: ClassVar[Any] = _native.CohortTable
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> RetentionTable:
        return cls(native)

    @property
    def period(self) -> str:
        return str(self._raw["unit"])

    @property
    def definition(self) -> str:
        return str(self._raw["definition"])

    @property
    def cohorts(self) -> list[np.datetime64]:
        return [np.datetime64(int(d), "D") for d in self._raw["cohort_start_days"]]

    @property
    def sizes(self) -> list[int]:
        return [int(s) for s in self._raw["sizes"]]

    @property
    def n_periods(self) -> int:
        return int(self._raw["n_periods"])

    def _matrix(self, key: str) -> npt.NDArray[np.float64]:
        values = [math.nan if v is None else float(v) for v in self._raw[key]]
        return np.asarray(values, dtype=np.float64).reshape(len(self.sizes), self.n_periods)

    @property
    def rates(self) -> npt.NDArray[np.float64]:
        return self._matrix("rates")

    @property
    def counts(self) -> npt.NDArray[np.float64]:
        return self._matrix("counts")

    @property
    def incomplete(self) -> npt.NDArray[np.bool_]:
        flags = np.asarray(self._raw["incomplete"], dtype=np.bool_)
        return flags.reshape(len(self.sizes), self.n_periods)

    @property
    def average(self) -> npt.NDArray[np.float64]:
        return np.asarray(
            [math.nan if v is None else float(v) for v in self._raw["average"]], dtype=np.float64
        )

    @property
    def as_of(self) -> np.datetime64:
        first = int(self._raw["cohort_start_days"][0])
        offset = int(self._raw["as_of"]) - int(self._raw["cohorts"][0])
        return _period_start(first, self.period, offset)

    @property
    def n_customers(self) -> int:
        return int(self._raw["n_customers"])

    @property
    def n_omitted(self) -> int:
        return int(self._raw["n_omitted"])

    @property
    def n_customers_after_as_of(self) -> int:
        """Customers left out because their first activity is after :attr:`as_of`'s period."""
        return int(self._raw.get("n_customers_after_as_of", 0))

    @property
    def n_customers_active_after_as_of(self) -> int:
        """Customers in the table with activity after :attr:`as_of`'s period (left out)."""
        return int(self._raw.get("n_customers_active_after_as_of", 0))

    @property
    def n_active_periods_after_as_of(self) -> int:
        """Activity left out for lying after :attr:`as_of`'s period, in (customer, period) pairs."""
        return int(self._raw.get("n_active_periods_after_as_of", 0))

    @property
    def as_of_in_fold(self) -> bool:
        """Whether the activity after :attr:`as_of` was left out while folding (``as_of`` given to
        :func:`retention_table`, or a :class:`CohortTally` made with one): the table is then exactly
        that of the activity up to ``as_of``. False for a tally folded without ``as_of`` and finished
        with one, where ``return_on_or_after`` counts :attr:`n_customers_active_after_as_of` customers as
        retained through ``as_of``."""
        return bool(self._raw.get("as_of_in_fold", False))

    def _after_as_of(self) -> str:
        parts = []
        if self.n_customers_after_as_of:
            parts.append(f"{self.n_customers_after_as_of} customers first active after it")
        if self.n_active_periods_after_as_of:
            approximate = self.definition == "return_on_or_after" and not self.as_of_in_fold
            parts.append(
                f"activity in {self.n_active_periods_after_as_of} (customer, {self.period}) pairs after it "
                f"({self.n_customers_active_after_as_of} customers of the table among them"
                + (
                    ", counted as retained through as_of by return_on_or_after: an approximation, as this"
                    " state was folded without as_of)"
                    if approximate
                    else ")"
                )
            )
        if not parts:
            return ""
        how = " (left out while folding: the table of the activity up to as_of)" if self.as_of_in_fold else ""
        return "; left out after as_of: " + ", ".join(parts) + how

    def pivot(self) -> pd.DataFrame:
        """The rates as the usual wide table: one row per cohort (index ``cohort``, the first day of its
        period), ``size``, then one column per period 0, 1, ... (NaN where not observed yet)."""
        pd = require_pandas(None)

        frame = pd.DataFrame(self.rates, columns=list(range(self.n_periods)))
        frame.insert(0, "size", self.sizes)
        frame.index = pd.DatetimeIndex(self.cohorts, name="cohort")
        return frame

    def _columns(self) -> list[FrameColumn]:
        k = self.n_periods
        rates, counts, incomplete = self.rates, self.counts, self.incomplete
        cohorts, sizes = self.cohorts, self.sizes
        rows = [(i, j) for i in range(len(sizes)) for j in range(k)]
        return [
            ("cohort", "str", [str(cohorts[i]) for i, _ in rows]),
            ("period", "int", [j for _, j in rows]),
            ("size", "int", [sizes[i] for i, _ in rows]),
            ("retained", "float", [counts[i, j] for i, j in rows]),
            ("rate", "float", [rates[i, j] for i, j in rows]),
            ("observed", "bool", [not math.isnan(counts[i, j]) for i, j in rows]),
            ("incomplete", "bool", [bool(incomplete[i, j]) for i, j in rows]),
        ]

    def to_dict(self) -> dict[str, Any]:
        """The core's table as a JSON-safe dict."""
        return json_dict(self._raw)

    def _headline(self) -> str:
        return (
            f"Retention by {self.period} cohort ({self.definition}), {self.n_customers} customers, "
            f"observed to the {self.period} of {self.as_of}"
            + self._after_as_of()
            + (f"; {self.n_omitted} rows omitted (no customer or time)" if self.n_omitted else "")
        )

    def _rows(self, limit: int = 12) -> tuple[list[str], list[list[str]]]:
        k = min(self.n_periods, limit)
        header = ["cohort", "size", *[str(j) for j in range(k)]]
        rates, incomplete = self.rates, self.incomplete
        body = []
        for i, (c, s) in enumerate(zip(self.cohorts, self.sizes, strict=True)):
            cells = []
            for j in range(k):
                v = rates[i, j]
                cells.append("" if math.isnan(v) else pct(v) + ("*" if incomplete[i, j] else ""))
            body.append([str(c), str(s), *cells])
        return header, body

    def __str__(self) -> str:
        header, body = self._rows()
        return "\n".join(
            [
                self._headline(),
                *text_table(header, body),
                "(blank: not observed yet; *: the period is in progress)",
            ]
        )

    def _repr_html_(self) -> str:
        header, body = self._rows()
        table = html_table(None, body, header=header)
        return html_block(table, headline=self._headline())

    def plot(self, **kwargs: Any) -> Axes:
        """The table as a heatmap (:func:`cx_metrics.plot.retention_heatmap`: ``ax``); needs matplotlib."""
        from .plot import retention_heatmap

        return retention_heatmap(self, **kwargs)


def _period_start(first_day: int, period: str, offset: int) -> np.datetime64:
    day = np.datetime64(first_day, "D")
    if period == "day":
        return day + np.timedelta64(offset, "D")
    if period == "week":
        return day + np.timedelta64(7 * offset, "D")
    months = {"month": 1, "quarter": 3, "year": 12}[period] * offset
    start: np.datetime64 = (day.astype("datetime64[M]") + np.timedelta64(months, "M")).astype("datetime64[D]")
    return start


@dataclass(frozen=True)
class RetentionTableByGroup(ResultsByGroup[RetentionTable]):
    """A cohort retention table per segment of ``by``: ``groups`` maps each label to its
    :class:`RetentionTable` (all observed to the same ``as_of``); ``no_rows`` lists the segments of
    the grouping rules without a row. The table stacks the segments' long tables; the printout shows
    each segment's average retention by period (over the cohorts that reached it)."""

    no_rows: tuple[Any, ...] = ()
    _title: ClassVar[str] = "Retention"
    _result: ClassVar[Any] = RetentionTable

    def _headline(self) -> str:
        first = next(iter(self.groups.values()), None)
        customers = sum(r.n_customers for r in self.groups.values())
        if first is None:
            return f"Retention by {label_str(self.by)}: no segment with rows"
        return (
            f"Retention by {first.period} cohort ({first.definition}) and {label_str(self.by)}: "
            f"{len(self.groups)} segments, {customers} customers, observed to the {first.period} of "
            f"{first.as_of}"
        )

    def _columns(self) -> list[FrameColumn]:
        return self._stack([r._columns() for r in self.groups.values()])

    def _average_table(self) -> tuple[list[str], list[list[str]]]:
        names = [self.by] if isinstance(self.by, str) else list(self.by)
        k = max((r.n_periods for r in self.groups.values()), default=0)
        head = [*names, "customers", *(str(j) for j in range(k))]
        body = []
        for key, r in self.groups.items():
            labels = [label_str(x) for x in (key if isinstance(key, tuple) else (key,))]
            rates = [
                pct(float(v)) if j < len(r.average) and not math.isnan(v) else "-"
                for j, v in enumerate(list(r.average) + [math.nan] * (k - len(r.average)))
            ]
            body.append([*labels, str(r.n_customers), *rates])
        return head, body

    def __str__(self) -> str:
        head, body = self._average_table()
        lines = [self._headline(), "average retention by period (cohorts that reached it):"]
        return "\n".join([*lines, *text_table(head, body), *self._empty_note()])

    def _repr_html_(self) -> str:
        head, body = self._average_table()
        notes = self._empty_note()
        return html_block(
            html_table(f"Average retention by {label_str(self.by)}", [tuple(b) for b in body], header=head),
            headline=self._headline() + ("; " + notes[0] if notes else ""),
        )


def retention_table(
    data: object = None,
    *,
    customer_id: object = None,
    time: object = None,
    start: object = None,
    end: object = None,
    period: Period = "month",
    definition: Definition = "return_on",
    as_of: object = None,
    max_periods: int | None = None,
    by: object = None,
) -> RetentionTable | RetentionTableByGroup:
    """A cohort retention table: customers by the calendar period of their first activity (their
    cohort), and the share active k periods later.

    From activity events (``customer_id`` and ``time`` per event, e.g. orders) or from customer spans
    (``start`` and ``end`` per customer, a missing end meaning still active; ``customer_id`` optional,
    then unique). Columns are arrays or Series, or names of columns of ``data``.

    ``definition`` (Amplitude's names): ``"return_on"`` ("N-day": active in period k) or
    ``"return_on_or_after"`` ("unbounded": active in period k or later). ``period``: ``"day"``,
    ``"week"`` (ISO, from Monday), ``"month"``, ``"quarter"``, ``"year"`` of UTC time. ``as_of``: the
    last observed date (default: the latest in the data); cohorts that have not reached a period by then
    have no figure there (NaN), not 0. Activity after ``as_of`` is left out while folding and counted
    (``n_customers_after_as_of``, ``n_customers_active_after_as_of``, ``n_active_periods_after_as_of``): the
    table is exactly that of the activity up to ``as_of``, for every definition.

    ``by`` (a column name, several, or a column labelling each row) gives one table per segment
    (:class:`RetentionTableByGroup`), all observed to the same ``as_of`` (default: the latest in all
    the data). Rows are grouped, not customers: label every row of a customer alike (a customer whose
    rows carry two labels is in both segments).

    >>> import cx_metrics as cx
    >>> days = ["2026-01-05", "2026-02-10", "2026-01-20", "2026-02-03"]
    >>> t = cx.retention_table(customer_id=[1, 1, 2, 3], time=days)
    >>> t.sizes, t.rates[0].tolist()
    ([2, 1], [1.0, 0.5])
    """
    tally = CohortTally(period, as_of=as_of)
    fold_cohorts(tally, data, customer_id=customer_id, time=time, start=start, end=end, as_of=as_of)
    overall = tally.table(definition, as_of=as_of, max_periods=max_periods)
    if by is None:
        return overall

    def moments(value: object, name: str) -> Any:
        # UTC instants (the cohorts are of UTC time), so each segment's rows need no parsing again.
        if value is None:
            return None
        return _instants(_column(data, value, name), name).ns.view("datetime64[ns]")

    columns = {
        "customer_id": None if customer_id is None else _column(data, customer_id, "customer_id"),
        "time": moments(time, "time"),
        "start": moments(start, "start"),
        "end": moments(end, "end"),
    }
    n = len(columns["time"] if time is not None else columns["start"])
    by_name, groups = group_rows(by, None if data is None else Table(data), n)
    at = as_of if as_of is not None else overall.as_of

    def one(_: Any, rows: npt.NDArray[np.intp]) -> RetentionTable:
        t = CohortTally(period, as_of=at)
        fold_cohorts(t, None, **{k: take_rows(v, rows) for k, v in columns.items()})
        return t.table(definition, as_of=at, max_periods=max_periods)

    return RetentionTableByGroup.of(by_name, groups, one)


def fold_cohorts(
    tally: CohortTally,
    data: object,
    *,
    customer_id: object = None,
    time: object = None,
    start: object = None,
    end: object = None,
    as_of: object = None,
) -> None:
    """Fold activity events or customer spans into ``tally`` as :func:`retention_table` reads them
    (``as_of`` only checked against the data's time zones)."""
    if time is not None:
        if start is not None or end is not None:
            raise InvalidArgumentError(
                "invalid arguments: give either activity events (customer_id, time) or customer spans "
                "(start, end), not both"
            )
        times = _instants(_column(data, time, "time"), "time")
        if customer_id is None:
            raise InvalidArgumentError("invalid customer_id: activity events need the customer of each event")
        tally._inner.fold_events(_event_ids(data, customer_id, len(times.ns)), times.ns, "ns")
        zones = [("time", times)]
    else:
        s = _instants(_column(data, start, "start"), "start")
        e = _instants(_column(data, end, "end"), "end")
        zones = [("start", s), ("end", e)]
        _same_zone(zones)
        ids = None if customer_id is None else _ids(data, customer_id, "customer_id", len(s.ns))
        tally._inner.fold_spans(s.ns, e.ns, "ns", ids)
    if as_of is not None:
        _same_zone([*zones, ("as_of", _instant(as_of, "as_of"))])


# ----- new vs returning customers, repeat purchases -------------------------------------------------


@dataclass(frozen=True, eq=False)
class RepeatRate(SameJson, NativeResult):
    """New vs returning customers and the repeat-purchase rate of a window.

    Attributes
    ----------
    rate : float
        Customers with two or more orders in the window / customers with at least one.
    rate_ci : Interval
        Wilson interval of the rate.
    customers, once, repeat : int
        Customers who ordered in the window; of them, once; two or more times.
    new, returning : int
        Of them, first order ever in the window; ordered before the window too.
    orders, n_omitted : int
        Orders in the window; order rows without a customer or time (omitted).
    window : tuple of str
        The window's start (included) and end (excluded).
    """

    _native_type: ClassVar[Any] = _native.RepeatRate
    _native: Any = field(repr=False)
    window: tuple[str, str] = ("", "")

    @classmethod
    def _from_native(cls, native: Any) -> RepeatRate:
        w = native.to_dict()["window"]
        return cls(native, (_datestr(int(w["start"])), _datestr(int(w["end"]))))

    @property
    def rate(self) -> float:
        return float(self._raw["rate"])

    @property
    def rate_ci(self) -> Interval:
        ci = self._raw["rate_ci"]
        return Interval(ci["low"], ci["high"], ci["confidence_level"], "wilson", ci["clipped"])

    @property
    def customers(self) -> int:
        return int(self._raw["customers"])

    @property
    def once(self) -> int:
        return int(self._raw["once"])

    @property
    def repeat(self) -> int:
        return int(self._raw["repeat"])

    @property
    def new(self) -> int:
        return int(self._raw["new"])

    @property
    def returning(self) -> int:
        return int(self._raw["returning"])

    @property
    def orders(self) -> int:
        return int(self._raw["orders"])

    @property
    def n_omitted(self) -> int:
        return int(self._raw["n_omitted"])

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict (window instants in nanoseconds since 1970, UTC)."""
        return json_dict(self._raw)

    def _headline(self) -> str:
        ci = self.rate_ci
        return (
            f"Repeat-purchase rate {pct(self.rate)} ({level_text(ci.confidence_level)} CI {pct(ci.low)} to "
            f"{pct(ci.high)}, wilson) from {self.window[0]} to {self.window[1]}\n"
            f"{self.repeat} of {self.customers} customers ordered twice or more; {self.new} new, "
            f"{self.returning} returning"
        )

    def __str__(self) -> str:
        return self._headline()

    def _repr_html_(self) -> str:
        rows = [
            ("customers who ordered", str(self.customers)),
            ("once", str(self.once)),
            ("twice or more", str(self.repeat)),
            ("new (first order in the window)", str(self.new)),
            ("returning", str(self.returning)),
            ("orders", str(self.orders)),
        ]
        return html_block(html_table(None, rows), headline=self._headline())


def repeat_rate(
    data: object = None,
    *,
    customer_id: object,
    time: object,
    window: tuple[object, object],
    confidence_level: float = 0.95,
    by: object = None,
) -> RepeatRate | RepeatRateByGroup:
    """New vs returning customers and the repeat-purchase rate of ``window`` (start included, end
    excluded) from order events: customers with two or more orders in the window / customers with at
    least one, both counted in the window. Orders before the window tell who is returning.

    ``by`` (a column name, several, or a column labelling each row) gives the rate of every segment
    (:class:`RepeatRateByGroup`); label every order of a customer alike.

    >>> import cx_metrics as cx
    >>> r = cx.repeat_rate(customer_id=[1, 1, 2, 3, 3], time=["2026-01-03", "2026-02-01", "2026-02-02",
    ...                    "2026-02-03", "2026-02-09"], window=("2026-02-01", "2026-03-01"))
    >>> r.repeat, r.customers, r.new, r.returning
    (1, 3, 2, 1)
    """
    times = _instants(_column(data, time, "time"), "time")
    w0 = _instant(window[0], "window start")
    w1 = _instant(window[1], "window end")
    _same_zone([("time", times), ("window start", w0), ("window end", w1)])

    def of_rows(ids: object, ns: npt.NDArray[np.int64]) -> RepeatRate:
        spec = _ids(None, ids, "customer_id", len(ns))
        native = _native.repeat_rate(
            spec, ns, int(w0.ns[0]), int(w1.ns[0]), confidence_level=confidence_level
        )
        return RepeatRate._from_native(native)

    ids = _column(data, customer_id, "customer_id")
    if by is None:
        return of_rows(ids, times.ns)
    by_name, groups = group_rows(by, None if data is None else Table(data), len(times.ns))
    return RepeatRateByGroup.of(
        by_name, groups, lambda _, rows: of_rows(take_rows(ids, rows), times.ns[rows])
    )


@dataclass(frozen=True)
class RepeatRateByGroup(ResultsByGroup[RepeatRate]):
    """The repeat-purchase rate per segment of ``by``: ``groups`` maps each label to its
    :class:`RepeatRate`; ``no_rows`` lists the segments of the grouping rules without an order."""

    no_rows: tuple[Any, ...] = ()
    _title: ClassVar[str] = "Repeat-purchase rate"
    _result: ClassVar[Any] = RepeatRate
    _empty_text: ClassVar[str] = "no orders"

    def _level(self) -> str:
        first = next(iter(self.groups.values()), None)
        return level_text(first.rate_ci.confidence_level if first is not None and first.rate_ci else 0.95)

    def _headline(self) -> str:
        first = next(iter(self.groups.values()), None)
        window = "" if first is None else f" from {first.window[0]} to {first.window[1]}"
        customers = sum(r.customers for r in self.groups.values())
        return (
            f"Repeat-purchase rate by {label_str(self.by)}{window}: {len(self.groups)} segments, "
            f"{customers} customers"
        )

    def _columns(self) -> list[FrameColumn]:
        res = list(self.groups.values())
        return [
            *self._label_columns(),
            ("rate", "float", [r.rate for r in res]),
            ("rate_low", "float", [r.rate_ci.low if r.rate_ci else math.nan for r in res]),
            ("rate_high", "float", [r.rate_ci.high if r.rate_ci else math.nan for r in res]),
            ("customers", "int", [r.customers for r in res]),
            ("repeat", "int", [r.repeat for r in res]),
            ("once", "int", [r.once for r in res]),
            ("new", "int", [r.new for r in res]),
            ("returning", "int", [r.returning for r in res]),
        ]


class CustomerSummary(_State):
    """Per-customer order summaries (recency / frequency / monetary): first and last order, orders and
    total value per customer id, integer or text (one kind per summary: summaries of integer ids and
    of text ids do not merge), and the orders at the first instant with their total, from which
    :func:`~cx_metrics.rfm_summary` takes the mean value of the repeat orders (the Gamma-Gamma model's
    ``monetary``). Frequency counts every order but one as a repeat (orders - 1); of several orders at
    a customer's first instant one is the first order, but the data do not say which, so the first
    order's value is taken as their mean. Mergeable over any split of the orders (``+``, ``sum``),
    exactly; picklable, bytes and JSON (format version 2; version 1, which did not keep the first
    orders, is read with them unknown).

    >>> import cx_metrics as cx
    >>> s = cx.CustomerSummary()
    >>> s.fold([7, 7, 9], ["2026-01-02", "2026-03-01", "2026-02-01"], [10.0, 5.0, 8.0])
    >>> s.to_pandas()["orders"].tolist()
    [2, 1]
    """

    __slots__ = ()
    _native_type: ClassVar[Any] = _native.CustomerSummary

    def __init__(self) -> None:
        super().__init__()

    @property
    def n_omitted(self) -> int:
        """Order rows omitted for a missing customer id (text ids), time or value."""
        return int(self._inner.n_omitted)

    def fold(self, customer_id: object, time: object, value: object = None) -> None:
        """Fold orders: customer ids (integers, or texts with missing ids omitted and counted),
        timestamps and optional values (missing time or value: omitted and counted)."""
        t = _instants(_as_column(time), "time")
        values = None if value is None else np.ascontiguousarray(np.asarray(value, dtype=np.float64))
        self._inner.fold(_summary_ids(customer_id), t.ns, values)

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer (ascending id): customer_id, first, last (UTC datetimes), orders, total,
        ``first_orders`` (orders at the first instant: 1 unless several share it) and ``first_value``
        (the value counted as the first order's: the mean of the orders at the first instant). A summary
        stored in format version 1 did not keep them: ``first_orders`` 0 and ``first_value`` NaN."""
        pd = require_pandas()

        ids, first, last, orders, total, first_orders, first_total = self._inner.columns()
        n_first = first_orders.astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            first_value = first_total / np.where(n_first > 0, n_first, 1)
        return pd.DataFrame(
            {
                "customer_id": ids,
                "first": first.view("datetime64[ns]"),
                "last": last.view("datetime64[ns]"),
                "orders": orders.astype(np.int64),
                "total": total,
                "first_orders": n_first,
                "first_value": first_value,
            }
        )
