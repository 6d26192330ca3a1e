"""Contact-centre queue figures: handling time (AHT with its components kept apart) and service level
under a named formula (ICMI's five, Cisco's three types), with ASA and the abandonment rate. The
statistics are computed in Rust (``cx_metrics::handling``, ``cx_metrics::service_level``); this module
converts columns and presents the results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from . import _native
from ._by_group import ResultsByGroup
from ._groups import key_columns
from ._results import (
    FrameColumn,
    Interval,
    NativeResult,
    fixed,
    html_block,
    html_table,
    json_dict,
    level_text,
    pct,
)
from ._table import Table
from ._tally import _State
from .exceptions import InvalidArgumentError
from .retention import SameJson

__all__ = [
    "Component",
    "Formula",
    "HandlingTally",
    "HandlingTime",
    "HandlingTimeByGroup",
    "ServiceLevel",
    "ServiceLevelByGroup",
    "ServiceLevelTally",
    "handling_time",
    "service_level",
]

Component = Literal["talk", "hold", "acw", "dial"]
"""A component of handling time: talk, hold, after-call work, dialling (outbound)."""

Formula = Literal[
    "icmi1", "icmi2", "icmi3", "icmi4", "icmi5", "cisco_ignored", "cisco_negative", "cisco_positive"
]
"""A service level formula (see docs/service-times.md): ICMI's five, numbered as ICMI lists them, and
Cisco Unified ICM/CCE's three types (abandons ignored, counted against, counted for)."""

_COMPONENTS: tuple[Component, ...] = ("talk", "hold", "acw", "dial")


def _column(table: Table | None, c: object, name: str, dtype: Any = np.float64) -> npt.NDArray[Any]:
    raw = table._raw(c) if table is not None and isinstance(c, str) else c
    try:
        return np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"invalid {name}: {e}; give a numeric column (seconds)") from None


def _interval(raw: dict[str, Any] | None, method: str) -> Interval | None:
    if raw is None:
        return None
    return Interval(raw["low"], raw["high"], raw["confidence_level"], method, raw["clipped"])


# ----- handling time -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HandlingTime(SameJson, NativeResult):
    """Handling time of a set of contacts.

    Attributes
    ----------
    aht : float
        Average handle time: the mean of the per-contact totals of ``components``.
    aht_ci : Interval or None
        Its Student's t interval (None with one contact).
    components : tuple of str
        The components counted (printed with the result).
    component_means : dict
        The mean of every component given, counted or not: another definition's AHT is the sum of its
        components' means.
    handled : int
        Contacts handled.
    sd : float
        Standard deviation of the per-contact totals.
    quantiles : tuple of (p, value)
        Quantiles of the totals (``quantile_method``); empty for a result finished from a
        :class:`HandlingTally`, which keeps no values.
    """

    _native_type: ClassVar[Any] = _native.HandlingResult
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> HandlingTime:
        return cls(native)

    @property
    def aht(self) -> float:
        return float(self._raw["aht"])

    @property
    def aht_ci(self) -> Interval | None:
        return _interval(self._raw["aht_ci"], "t")

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(self._raw["components"])

    @property
    def component_means(self) -> dict[str, float]:
        return {c: float(m) for c, m in self._raw["component_means"]}

    @property
    def handled(self) -> int:
        return int(self._raw["handled"])

    @property
    def sd(self) -> float:
        v = self._raw["sd"]
        return math.nan if v is None else float(v)

    @property
    def quantiles(self) -> tuple[tuple[float, float], ...]:
        return tuple((float(p), float(v)) for p, v in self._raw["quantiles"])

    @property
    def quantile_method(self) -> str | None:
        m = self._raw["quantile_method"]
        return None if m is None else str(m)

    @property
    def confidence_level(self) -> float:
        return float(self._raw["confidence_level"])

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def __str__(self) -> str:
        return str(self._native)

    def _rows(self) -> list[list[str]]:
        ci = self.aht_ci
        rows = [["AHT", fixed(self.aht), fixed(ci.low) if ci else "", fixed(ci.high) if ci else ""]]
        for c, m in self.component_means.items():
            rows.append([f"{c} (mean){'' if c in self.components else ', not counted'}", fixed(m), "", ""])
        rows += [[f"p{100 * p:g}", fixed(v), "", ""] for p, v in self.quantiles]
        return rows

    def _repr_html_(self) -> str:
        level = level_text(self.confidence_level)
        return html_block(
            html_table(None, self._rows(), header=["figure", "value", f"{level} CI low", "high"]),
            headline=f"AHT = ({' + '.join(self.components)}) / handled, {self.handled} contacts",
        )


@dataclass(frozen=True)
class HandlingTimeByGroup(ResultsByGroup[HandlingTime]):
    """Handling time per group of ``by``: ``groups`` maps each label (a tuple with several columns) to
    its :class:`HandlingTime`; the table has one row per group; ``no_contacts`` lists the groups of
    the grouping rules without a contact (unused categorical levels: no figure exists)."""

    no_contacts: tuple[Any, ...] = ()
    _empty_field: ClassVar[str] = "no_contacts"
    _empty_text: ClassVar[str] = "no contacts"

    _title: ClassVar[str] = "Handling time"
    _result: ClassVar[Any] = HandlingTime

    def _headline(self) -> str:
        handled = sum(r.handled for r in self.groups.values())
        first = next(iter(self.groups.values()), None)
        formula = f"AHT = ({' + '.join(first.components)}) / handled" if first is not None else "AHT"
        return f"Handling time by {self.by}: {len(self.groups)} groups, {handled} contacts; {formula}"

    def _columns(self) -> list[FrameColumn]:
        res = list(self.groups.values())
        cols = self._label_columns()
        cols += [
            ("handled", "int", [r.handled for r in res]),
            ("aht", "float", [r.aht for r in res]),
            ("aht_low", "float", [r.aht_ci.low if r.aht_ci else math.nan for r in res]),
            ("aht_high", "float", [r.aht_ci.high if r.aht_ci else math.nan for r in res]),
        ]
        for i, (p, _) in enumerate(res[0].quantiles if res else ()):
            cols.append((f"p{100 * p:g}", "float", [r.quantiles[i][1] for r in res]))
        return cols


class HandlingTally(_State):
    """The mergeable handling-time state: handled count, each component's sum and the totals' mean and
    squared deviations. Exact AHT, component means and interval after any merge; no quantiles (it
    keeps no values: use :func:`handling_time` on the rows for them).

    >>> t = HandlingTally(["talk", "acw"])
    >>> t.fold(talk=[300.0, 200.0], acw=[30.0, 40.0])
    >>> t.result().aht
    285.0
    """

    __slots__ = ()
    _native_type = _native.State
    _kind = "handling_tally"

    def __init__(self, components: Sequence[Component]) -> None:
        self._inner = _native.State(self._kind, {"components": list(components)})

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(self._inner.data()["components"])

    def fold(
        self,
        data: object = None,
        *,
        talk: object = None,
        hold: object = None,
        acw: object = None,
        dial: object = None,
    ) -> None:
        """Fold per-contact component durations (column names of ``data`` or arrays)."""
        table = Table(data) if data is not None else None
        given = zip(_COMPONENTS, (talk, hold, acw, dial), strict=True)
        self._inner.fold({n: _column(table, c, n) for n, c in given if c is not None})

    def result(self, confidence_level: float = 0.95) -> HandlingTime:
        """AHT with its t interval and the component means."""
        return HandlingTime(self._inner.result(confidence_level=confidence_level))


def handling_time(
    data: object = None,
    *,
    components: Sequence[Component],
    talk: object = None,
    hold: object = None,
    acw: object = None,
    dial: object = None,
    by: object = None,
    quantiles: Sequence[float] = (0.5, 0.9),
    quantile_method: Literal["type7", "nearest_rank"] = "type7",
    confidence_level: float = 0.95,
) -> HandlingTime | HandlingTimeByGroup:
    """Average handle time ``(sum of components) / handled`` with its t interval, the mean of every
    component given (counted or not), and the median, p90 (any ``quantiles``) of the per-contact totals
    (Hyndman-Fan type 7, numpy's default, or nearest rank: the quantile code of
    :func:`cx_metrics.response_times`).

    ``components`` (required) names the components counted, e.g. ``["talk", "hold", "acw"]``; the
    columns are names in ``data`` (pandas, polars, pyarrow) or arrays, one row per handled contact. A
    missing or negative duration is an error naming the component and the row. ``by`` groups through
    the grouping engine (agent, queue, channel ...).

    >>> import cx_metrics.contact_center as cc
    >>> r = cc.handling_time(components=["talk", "hold", "acw"], talk=[300, 200, 400],
    ...                      hold=[0, 60, 0], acw=[30, 40, 50], quantiles=(0.5,))
    >>> r.aht, r.quantiles
    (360.0, ((0.5, 330.0),))
    """
    table = Table(data) if data is not None else None
    cols: dict[str, Any] = {
        n: None if c is None else _column(table, c, n)
        for n, c in zip(_COMPONENTS, (talk, hold, acw, dial), strict=True)
    }
    opts: dict[str, Any] = {
        "components": list(components),
        "quantiles": [float(p) for p in quantiles],
        "quantile_method": quantile_method,
        "confidence_level": confidence_level,
    }
    if by is None:
        return HandlingTime(_native.handling_time(**cols, **opts))
    lengths = {len(c) for c in cols.values() if c is not None}
    n_rows = lengths.pop() if len(lengths) == 1 else 0
    if lengths:
        raise InvalidArgumentError(
            "invalid columns: the component columns differ in length; give one value per contact"
        )

    keys = key_columns(by, table, n_rows)
    labels, results = _native.handling_time_by_group(**cols, keys=keys.specs, **opts)
    return _grouped(
        HandlingTimeByGroup, keys.by_name, labels, [None if r is None else HandlingTime(r) for r in results]
    )


# ----- service level -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ServiceLevel(SameJson, NativeResult):
    """The service level under one named formula, every formula's value beside it, ASA and the
    abandonment rate.

    Attributes
    ----------
    service_level : float
        ``numerator / denominator`` under ``formula`` (its text in ``formula_text``).
    service_level_ci, abandonment_ci : Interval or None
        Wilson intervals.
    every_formula : dict
        Every formula's value on the same counts (``icmi5`` only with a short-abandon threshold).
    threshold, short_abandon : float
        ``T`` and the short-abandon threshold ``N`` (None: no exclusion).
    contacts, answered, answered_within, abandoned, abandoned_within, short_abandons_excluded : int
        The counts (short abandons are left out of every formula but ``icmi5``).
    abandonment_rate : float
        ``abandoned / (answered + abandoned)``.
    asa : float or None
        Average speed of answer (mean wait of the answered contacts), with ``asa_ci`` (t).
    """

    _native_type: ClassVar[Any] = _native.ServiceLevelResult
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> ServiceLevel:
        return cls(native)

    def _f(self, key: str) -> float:
        v = self._raw[key]
        return math.nan if v is None else float(v)

    @property
    def service_level(self) -> float:
        return self._f("service_level")

    @property
    def service_level_ci(self) -> Interval | None:
        return _interval(self._raw["service_level_ci"], "wilson")

    @property
    def formula(self) -> str:
        return str(self._raw["formula"])

    @property
    def formula_text(self) -> str:
        return str(self._raw["formula_text"])

    @property
    def every_formula(self) -> dict[str, float]:
        return {str(k): math.nan if v is None else float(v) for k, v in self._raw["every_formula"]}

    @property
    def threshold(self) -> float:
        return float(self._raw["threshold"])

    @property
    def short_abandon(self) -> float | None:
        v = self._raw["short_abandon"]
        return None if v is None else float(v)

    def _n(self, key: str) -> int:
        return int(self._raw[key])

    @property
    def numerator(self) -> int:
        return self._n("numerator")

    @property
    def denominator(self) -> int:
        return self._n("denominator")

    @property
    def contacts(self) -> int:
        return self._n("contacts")

    @property
    def answered(self) -> int:
        return self._n("answered")

    @property
    def answered_within(self) -> int:
        return self._n("answered_within")

    @property
    def abandoned(self) -> int:
        return self._n("abandoned")

    @property
    def abandoned_within(self) -> int:
        return self._n("abandoned_within")

    @property
    def short_abandons_excluded(self) -> int:
        return self._n("short_abandons_excluded")

    @property
    def abandonment_rate(self) -> float:
        return self._f("abandonment_rate")

    @property
    def abandonment_ci(self) -> Interval | None:
        return _interval(self._raw["abandonment_ci"], "wilson")

    @property
    def asa(self) -> float | None:
        v = self._raw["asa"]
        return None if v is None else float(v)

    @property
    def asa_ci(self) -> Interval | None:
        return _interval(self._raw["asa_ci"], "t")

    @property
    def confidence_level(self) -> float:
        return float(self._raw["confidence_level"])

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def __str__(self) -> str:
        return str(self._native)

    def _repr_html_(self) -> str:
        def ci(i: Interval | None, f: Any) -> list[str]:
            return [f(i.low), f(i.high)] if i else ["", ""]

        rows = [
            [f"service level ({self.formula})", pct(self.service_level), *ci(self.service_level_ci, pct)],
            ["abandonment rate", pct(self.abandonment_rate), *ci(self.abandonment_ci, pct)],
            ["ASA", fixed(self.asa), *ci(self.asa_ci, fixed)],
        ]
        rows += [[f"({k})", pct(v), "", ""] for k, v in self.every_formula.items() if k != self.formula]
        level = level_text(self.confidence_level)
        return html_block(
            html_table(None, rows, header=["figure", "value", f"{level} CI low", "high"]),
            headline=f"{self.formula}: {self.formula_text}; T = {self.threshold:g}, {self.contacts} contacts",
        )


@dataclass(frozen=True)
class ServiceLevelByGroup(ResultsByGroup[ServiceLevel]):
    """Service level per group of ``by``: ``groups`` maps each label to its :class:`ServiceLevel`;
    ``no_contacts`` lists the groups of the grouping rules without a contact."""

    no_contacts: tuple[Any, ...] = ()
    _empty_field: ClassVar[str] = "no_contacts"
    _empty_text: ClassVar[str] = "no contacts"

    _title: ClassVar[str] = "Service level"
    _result: ClassVar[Any] = ServiceLevel

    def _headline(self) -> str:
        contacts = sum(r.contacts for r in self.groups.values())
        first = next(iter(self.groups.values()), None)
        rule = f"formula {first.formula}, T = {first.threshold:g}" if first is not None else "no contacts"
        return f"Service level by {self.by}: {len(self.groups)} groups, {contacts} contacts; {rule}"

    def _columns(self) -> list[FrameColumn]:
        res = list(self.groups.values())
        nan = math.nan
        cols = self._label_columns()
        cols += [
            ("contacts", "int", [r.contacts for r in res]),
            ("service_level", "float", [r.service_level for r in res]),
            (
                "service_level_low",
                "float",
                [r.service_level_ci.low if r.service_level_ci else nan for r in res],
            ),
            (
                "service_level_high",
                "float",
                [r.service_level_ci.high if r.service_level_ci else nan for r in res],
            ),
            ("abandonment_rate", "float", [r.abandonment_rate for r in res]),
            ("asa", "float", [nan if r.asa is None else r.asa for r in res]),
        ]
        return cols


class ServiceLevelTally(_State):
    """The mergeable service level state: the counts every formula needs under a threshold ``T`` and a
    short-abandon threshold ``N``, so any formula can be computed after merging.

    >>> t = ServiceLevelTally(20.0)
    >>> t.fold([5.0, 30.0, 10.0], [True, True, False])
    >>> t.result("icmi3").service_level
    0.3333333333333333
    """

    __slots__ = ()
    _native_type = _native.ServiceLevelTally

    def __init__(self, threshold: float, short_abandon: float | None = None) -> None:
        super().__init__(threshold, short_abandon)

    @classmethod
    def from_counts(
        cls,
        threshold: float,
        *,
        answered_within: int,
        answered_after: int,
        abandoned_within: int,
        abandoned_after: int,
        abandoned_short: int = 0,
        short_abandon: float | None = None,
        answered_wait_total: float | None = None,
    ) -> ServiceLevelTally:
        """A tally from pre-aggregated interval counts (``abandoned_within`` excludes the short
        abandons counted in ``abandoned_short``); ASA needs ``answered_wait_total`` and has no
        interval (the counts hold no spread)."""
        return cls._wrap(
            _native.ServiceLevelTally.from_counts(
                threshold,
                short_abandon,
                answered_within,
                answered_after,
                abandoned_short,
                abandoned_within,
                abandoned_after,
                answered_wait_total,
            )
        )

    @property
    def threshold(self) -> float:
        return float(self._inner.threshold)

    @property
    def short_abandon(self) -> float | None:
        v = self._inner.short_abandon
        return None if v is None else float(v)

    def fold(self, waits: object, answered: object) -> None:
        """Fold per-contact waits (seconds from offer to answer or abandon) with answered flags
        (``False``: abandoned)."""
        w = _column(None, waits, "waits")
        self._inner.fold(w, _answered(answered, len(w)))

    def result(self, formula: Formula, confidence_level: float = 0.95) -> ServiceLevel:
        """The service level under ``formula`` (required: there is no default)."""
        return ServiceLevel(self._inner.result(formula, confidence_level=confidence_level))


def _answered(raw: object, n: int) -> npt.NDArray[np.bool_]:
    a = np.asarray(raw)
    if a.shape != (n,):
        raise InvalidArgumentError(
            f"invalid answered: {a.shape} flags for {n} waits; give one flag per contact"
        )
    if a.dtype == np.bool_:
        return np.ascontiguousarray(a)
    if a.dtype.kind in "iuf":
        ok = np.isin(a, (0, 1))
        if ok.all():
            return a.astype(np.bool_)
        bad = int(np.flatnonzero(~ok)[0])
        raise InvalidArgumentError(
            f"invalid answered: {a[bad].item()!r} at position {bad}; use True (answered) or False (abandoned)"
        )
    raise InvalidArgumentError(
        f"invalid answered: a column of {a.dtype}; use True (answered) or False (abandoned)"
    )


def service_level(
    data: object = None,
    *,
    formula: Formula,
    threshold: float,
    waits: object = None,
    answered: object = None,
    short_abandon: float | None = None,
    by: object = None,
    confidence_level: float = 0.95,
) -> ServiceLevel | ServiceLevelByGroup:
    """The service level under ``formula`` (required, named: ``"icmi1"`` ... ``"icmi5"``,
    ``"cisco_ignored"``, ``"cisco_negative"``, ``"cisco_positive"``) at ``threshold`` T, with every
    formula's value beside it, ASA (t interval) and the abandonment rate (Wilson interval).

    ``waits`` are the seconds from offer to answer or abandon and ``answered`` the flags (``False``:
    abandoned), column names of ``data`` or arrays. With ``short_abandon`` N, contacts abandoned within N
    are left out of every formula but ``icmi5`` (which counts them as met) and counted. For
    pre-aggregated interval counts use :meth:`ServiceLevelTally.from_counts`.

    >>> import cx_metrics.contact_center as cc
    >>> r = cc.service_level(formula="icmi2", threshold=10, waits=[2, 8, 15, 4], answered=[1, 1, 1, 0])
    >>> r.service_level, r.abandoned
    (0.6666666666666666, 1)
    """
    table = Table(data) if data is not None else None
    if waits is None or answered is None:
        raise InvalidArgumentError("invalid arguments: give waits= and answered= (one row per contact)")
    w = _column(table, waits, "waits")
    raw_a = table._raw(answered) if table is not None and isinstance(answered, str) else answered
    a = _answered(raw_a, len(w))

    def one(wr: npt.NDArray[np.float64], ar: npt.NDArray[np.bool_]) -> ServiceLevel:
        t = _native.ServiceLevelTally(threshold, short_abandon)
        t.fold(wr, ar)
        return ServiceLevel(t.result(formula, confidence_level=confidence_level))

    if by is None:
        return one(w, a)
    keys = key_columns(by, table, len(w))
    labels, results = _native.service_level_by_group(
        w,
        a,
        keys=keys.specs,
        threshold=threshold,
        short_abandon=short_abandon,
        formula=formula,
        confidence_level=confidence_level,
    )
    return _grouped(
        ServiceLevelByGroup, keys.by_name, labels, [None if r is None else ServiceLevel(r) for r in results]
    )


_G = TypeVar("_G", bound=ResultsByGroup[Any])


def _grouped(
    kind: type[_G], by: str | tuple[str, ...], labels: Sequence[tuple[Any, ...]], results: Sequence[Any]
) -> _G:
    """A result by group from the grouping engine's labels (in its order) and a result per group (None
    for a group without contacts, listed in the empty-groups field)."""
    keys = [label[0] if len(label) == 1 else tuple(label) for label in labels]
    pairs = list(zip(keys, results, strict=True))
    return kind(
        by=by,
        groups={k: r for k, r in pairs if r is not None},
        **{kind._empty_field: tuple(k for k, r in pairs if r is None)},
    )
