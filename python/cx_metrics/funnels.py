"""Funnels from event logs, with every rule explicit and printed with the result.

Everything is computed in the Rust core (``cx_metrics::funnel``); this module reads the columns,
turns timestamps into UTC instants, resolves step predicates against the log's event names and holds
the results. See ``docs/funnels.md``.
"""

from __future__ import annotations

import datetime
import json
import math
import warnings as _warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from . import _native
from ._groups import key_columns, key_from_json, key_to_json, label_str
from ._json import read_document, write_document
from ._results import (
    FrameColumn,
    Interval,
    Kind,
    NativeResult,
    Tabular,
    html_block,
    html_table,
    json_clean,
    json_dict,
    level_text,
    pct,
    text_table,
)
from ._table import Table
from ._tally import _State
from .exceptions import InvalidArgumentError
from .retention import SameJson, _column, _event_ids, _instant, _instants, _same_zone

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "FunnelByGroup",
    "FunnelComparison",
    "FunnelResult",
    "FunnelSpec",
    "FunnelStepWarning",
    "FunnelTally",
    "TimeToConvert",
    "compare_funnels",
    "funnel",
]

Order = Literal["ordered", "strict", "any_order"]
WindowEnd = Literal["inclusive", "exclusive"]
Entry = Literal["closed", "open"]
Counting = Literal["uniques", "totals"]
Reentry = Literal["first", "best", "after_end"]
Repeats = Literal["ignore", "stop"]
StepTimes = Literal["non_decreasing", "increasing"]
Ties = Literal["input_order", "step_order"]
UnknownEvents = Literal["drop", "keep", "raise"]
Missing = Literal["omit", "raise"]
StepLike = str | Sequence[str] | tuple[str, str | Sequence[str] | Callable[[str], bool]]


class FunnelStepWarning(UserWarning):
    """A step matches no event name of the data (a misspelt name counts 0): the message names the
    step and the closest event names seen."""


def _window_ns(window: object) -> int | None:
    ns = _window_value(window)
    if ns is not None and not 0 < ns < 2**63:
        raise InvalidArgumentError(
            f"invalid window: {window!r}; a window is > 0 and below 2**63 ns (about 292 years), or None "
            "for no window"
        )
    return ns


def _window_value(window: object) -> int | None:
    if window is None:
        return None
    if isinstance(window, np.timedelta64):
        return int(window.astype("timedelta64[ns]").astype(np.int64))
    if isinstance(window, datetime.timedelta):
        value = getattr(window, "value", None)  # pandas.Timedelta: exact nanoseconds
        if isinstance(value, int):
            return value
        return (window.days * 86_400 + window.seconds) * 1_000_000_000 + window.microseconds * 1_000
    raise InvalidArgumentError(
        f"invalid window: {window!r}; give a datetime.timedelta (or numpy / pandas timedelta), or None for "
        "no window (a bare number would leave its unit to a guess)"
    )


@dataclass(frozen=True)
class FunnelSpec:
    """Every rule of a funnel. The rules where tools differ have no default; the others have one,
    printed with every result.

    Parameters
    ----------
    steps : sequence
        Each step: an event name; a list of event names (any of them); or ``(name, events)`` where
        ``events`` is a name, a list of names, or a predicate ``f(event_name) -> bool`` evaluated on
        the log's distinct event names.
    order : {"ordered", "strict", "any_order"}
        ``ordered``: other events may occur between steps; ``strict``: the next event must be the
        next step; ``any_order``: step k counts attempts that did k of the steps.
    window : timedelta or None
        The conversion window, from the event that starts the attempt (not reset by later step-1
        events); None: no window.
    window_end : {"inclusive", "exclusive"}
        Whether an event exactly one window after the start counts.
    entry : {"closed", "open"}
        ``closed``: attempts start at step 1; ``open``: at any step.
    counting : {"uniques", "totals"}
        Count customers or attempts.
    reentry : {"first", "best", "after_end"}
        ``first``: the first start only; ``best``: every start tried, the furthest attempt kept
        (ClickHouse ``windowFunnel``); ``after_end``: a new attempt after the previous one ended.
    exclusions : sequence of str
        Event names that stop an attempt once started (default none).
    repeats : {"ignore", "stop"}
        Whether a repeat of a step already reached stops the attempt (default ``"ignore"``).
    step_times : {"non_decreasing", "increasing"}
        Whether successive steps may share a timestamp (default ``"non_decreasing"``).
    ties : {"input_order", "step_order"}
        Order of one customer's events with equal timestamps (default ``"input_order"``).
    unknown_events : {"drop", "keep", "raise"}
        Events of no step: dropped and counted, kept (they break strict order), or an error (default
        ``"drop"``).
    missing : {"omit", "raise"}
        Rows without customer, time or event: dropped and counted, or an error (default ``"omit"``).
    as_of : datetime-like or None
        The end of the data, where attempts still inside their window are censored (default: the
        latest event time, printed).

    Examples
    --------
    >>> import datetime
    >>> import cx_metrics as cx
    >>> spec = cx.FunnelSpec(["visit", "cart", "buy"], order="ordered", window=datetime.timedelta(hours=1),
    ...                      window_end="inclusive", entry="closed", counting="uniques", reentry="first")
    >>> print(spec.describe().splitlines()[0])
    steps: visit -> cart -> buy
    """

    steps: Sequence[StepLike]
    order: Order
    window: Any
    window_end: WindowEnd
    entry: Entry
    counting: Counting
    reentry: Reentry
    exclusions: Sequence[str] = ()
    repeats: Repeats = "ignore"
    step_times: StepTimes = "non_decreasing"
    ties: Ties = "input_order"
    unknown_events: UnknownEvents = "drop"
    missing: Missing = "omit"
    as_of: Any = None

    def _resolved(self, names: Sequence[str] | None = None) -> list[tuple[str, list[str]]]:
        out: list[tuple[str, list[str]]] = []
        for k, step in enumerate(self.steps):
            if isinstance(step, str):
                out.append((step, [step]))
            elif isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str):
                name, events = step
                if callable(events):
                    if names is None:
                        raise InvalidArgumentError(
                            f"invalid steps: step {k + 1} ({name!r}) is a predicate, which only cx.funnel "
                            "evaluates (on the log's distinct event names); a FunnelTally and describe() "
                            f"need the step as event names: ({name!r}, [n for n in names if predicate(n)])"
                        )
                    out.append((name, [n for n in names if events(n)]))
                else:
                    out.append((name, [events] if isinstance(events, str) else [str(e) for e in events]))
            elif isinstance(step, Sequence) and all(isinstance(e, str) for e in step):
                names_ = [str(e) for e in step]
                out.append((" | ".join(names_), names_))
            else:
                raise InvalidArgumentError(
                    f"invalid steps: step {k + 1} is {step!r}; give an event name, a list of names, or "
                    "(name, names or predicate)"
                )
        return out

    def _as_of(self) -> tuple[int | None, Any]:
        if self.as_of is None:
            return None, None
        inst = _instant(self.as_of, "as_of")
        return int(inst.ns[0]), inst

    def _native_spec(self, names: Sequence[str] | None = None) -> Any:
        as_of, _ = self._as_of()
        return _native.FunnelSpec(
            self._resolved(names),
            [str(e) for e in self.exclusions],
            self.order,
            _window_ns(self.window),
            self.window_end,
            self.entry,
            self.counting,
            self.reentry,
            self.repeats,
            self.step_times,
            self.ties,
            self.unknown_events,
            self.missing,
            as_of,
        )

    def describe(self) -> str:
        """Every rule in words, one per line (as printed with each result)."""
        text: str = self._native_spec().describe()
        return text


class FunnelTally(_State):
    """Per-step counts of a funnel and its time-to-convert table, mergeable across partitions that
    each hold **all** the events of their customers (partition by customer id). A merge of two
    states that saw the same customer is refused.

    Examples
    --------
    >>> import datetime
    >>> import cx_metrics as cx
    >>> spec = cx.FunnelSpec(["a", "b"], order="ordered", window=None, window_end="inclusive",
    ...                      entry="closed", counting="uniques", reentry="first", as_of="2026-01-02")
    >>> t1, t2 = cx.FunnelTally(spec), cx.FunnelTally(spec)
    >>> t1.fold([1, 1], ["a", "b"], ["2026-01-01", "2026-01-01T01:00"])
    >>> t2.fold([2], ["a"], ["2026-01-01"])
    >>> [s.count for s in (t1 + t2).result().steps]
    [2, 1]
    """

    __slots__ = ()
    _native_type: ClassVar[Any] = _native.FunnelTally

    def __init__(self, spec: FunnelSpec) -> None:
        if not isinstance(spec, FunnelSpec):
            raise InvalidArgumentError("invalid spec: give a cx.FunnelSpec")
        # A tally is stored and merged with its steps as event names: a predicate step is refused
        # here, naming the fix (resolved per fold, two partitions could count different steps).
        self._inner = _native.FunnelTally(spec._native_spec())

    def fold(self, customers: object, events: object, times: object) -> None:
        """Fold events (customer ids, event names, timestamps): every event of a customer must be in
        this fold. (Steps are event names here: a spec with predicate steps is refused when the tally
        is made; :func:`funnel` evaluates predicates.)"""
        t = _instants(times, "time")
        ev = key_columns(events, None, len(t.ns), what="events").specs[0]
        self._inner.fold(_event_ids(None, customers, len(t.ns), "customers"), ev, t.ns, "ns")

    def result(self, confidence_level: float = 0.95) -> FunnelResult:
        """The funnel: steps, conversions with Wilson intervals, time to convert. Warns
        (:class:`FunnelStepWarning`) of each step that matches no event name of the data."""
        return self._result(confidence_level)

    def _result(self, confidence_level: float) -> FunnelResult:
        # The warnings point at the caller of the caller of this (of `result`, or of `funnel`).
        out = FunnelResult._from_native(self._inner.result(confidence_level))
        for w in out.warnings:
            _warnings.warn(f"{w} (category cx.FunnelStepWarning)", FunnelStepWarning, stacklevel=3)
        return out


def _names_or_none(spec: FunnelSpec) -> list[str] | None:
    has_predicate = any(isinstance(s, tuple) and len(s) == 2 and callable(s[1]) for s in spec.steps)
    return [] if has_predicate else None


@dataclass(frozen=True)
class FunnelStep:
    """One step of a funnel, in the spec's counting unit (customers or attempts)."""

    step: str
    count: int
    from_previous: int
    previous: int | None
    conversion: float | None
    conversion_ci: Interval | None
    drop_off: int
    from_first: int
    overall: float | None
    overall_ci: Interval | None
    attempts: int
    customers: int
    in_window: int | None = None
    drop_off_closed: int | None = None


_STEP_COLUMNS: list[tuple[str, Kind, Callable[[FunnelStep], Any]]] = [
    ("step", "str", lambda s: s.step),
    ("count", "int", lambda s: s.count),
    ("from_previous", "int", lambda s: s.from_previous),
    ("conversion", "float", lambda s: s.conversion),
    ("conversion_low", "float", lambda s: s.conversion_ci.low if s.conversion_ci else None),
    ("conversion_high", "float", lambda s: s.conversion_ci.high if s.conversion_ci else None),
    ("drop_off", "int", lambda s: s.drop_off),
    ("overall", "float", lambda s: s.overall),
    ("overall_low", "float", lambda s: s.overall_ci.low if s.overall_ci else None),
    ("overall_high", "float", lambda s: s.overall_ci.high if s.overall_ci else None),
    ("in_window", "int", lambda s: s.in_window),
    ("drop_off_closed", "int", lambda s: s.drop_off_closed),
]
"""The columns of a funnel's table, one row per step (also those of each segment in FunnelByGroup)."""


def _ci(raw: Any) -> Interval | None:
    if raw is None:
        return None
    return Interval(raw["low"], raw["high"], raw["confidence_level"], "wilson", raw["clipped"])


@dataclass(frozen=True, eq=False, repr=False)
class FunnelResult(SameJson, Tabular, NativeResult):
    """A funnel: per-step counts, step-to-step and overall conversion with Wilson intervals,
    drop-off, what was dropped, time to convert, and every rule (:attr:`rules`).

    The printout starts with the conversion and its interval, then the rows counted and dropped and
    the ``as_of`` time, then every rule, then the steps. Two results are equal when their figures
    and rules are (a pickled or stored copy equals the original).

    Attributes
    ----------
    rules : str
        Every rule in words.
    steps : list of FunnelStep
        Per step: ``count``, ``from_previous`` of ``previous``, ``conversion`` (step to step) with
        ``conversion_ci``, ``drop_off``, ``from_first``, ``overall`` (from step 1) with ``overall_ci``.
    entered, converted : int
        The denominator (customers or attempts entering step 1) and those reaching the last step.
    conversion, conversion_ci : float or None, Interval or None
        ``converted / entered`` and its Wilson interval.
    in_window, conversion_closed, conversion_by_window_end : int, float or None, float or None
        Entrants still inside their window at ``as_of`` (in the denominator of ``conversion``, not
        converted yet), the conversion of those whose window closed, and the cumulative incidence
        of conversion at the window's length. Per step, ``in_window`` is the part of ``drop_off``
        still inside its window, ``drop_off_closed`` the rest.
    time_to_convert : TimeToConvert or None
        Seconds from the start of the attempt to the last step: conversions are events, attempts
        stopped (exclusion, strict break, repeat) competing, attempts still in their window at
        ``as_of`` censored there, timed-out attempts censored at the window's length.
    warnings : list of str
        One line per step that matches no event name of the data, with the closest names seen.

    ``to_pandas()`` / ``to_polars()``: one row per step, ``step``, ``count``, ``from_previous``,
    ``conversion``, ``conversion_low``, ``conversion_high``, ``drop_off``, ``overall``,
    ``overall_low``, ``overall_high``.
    """

    _native_type: ClassVar[Any] = _native.FunnelResult
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> FunnelResult:
        return cls(native)

    @property
    def rules(self) -> str:
        return str(self._native.rules)

    @property
    def steps(self) -> list[FunnelStep]:
        return [
            FunnelStep(
                step=s["step"],
                count=int(s["count"]),
                from_previous=int(s["from_previous"]),
                previous=s["previous"],
                conversion=s["conversion"],
                conversion_ci=_ci(s["conversion_ci"]),
                drop_off=int(s["drop_off"]),
                from_first=int(s["from_first"]),
                overall=s["overall"],
                overall_ci=_ci(s["overall_ci"]),
                attempts=int(s["attempts"]),
                customers=int(s["customers"]),
                in_window=s.get("in_window"),
                drop_off_closed=s.get("drop_off_closed"),
            )
            for s in self._raw["steps"]
        ]

    @property
    def entered(self) -> int:
        return int(self._raw["entered"])

    @property
    def converted(self) -> int:
        return int(self._raw["converted"])

    @property
    def conversion(self) -> float | None:
        c = self._raw["conversion"]
        return None if c is None else float(c)

    @property
    def conversion_ci(self) -> Interval | None:
        return _ci(self._raw["conversion_ci"])

    @property
    def confidence_level(self) -> float:
        """The level of every interval of the result."""
        return float(self._raw["confidence_level"])

    @property
    def time_to_convert(self) -> TimeToConvert | None:
        """Seconds from the start of each entrant's attempt to its last step (None without
        entrants): a :class:`TimeToConvert`."""
        km = self._native.time_to_convert
        if km is None:
            return None
        w = self._raw["spec"]["window_ns"]
        return TimeToConvert(
            km, None if w is None else w / 1e9, self.outcomes, self._unit, self.confidence_level
        )

    @property
    def warnings(self) -> list[str]:
        """One line per step that matches no event name of the data (printed, and warned of when
        the result is made), with the closest event names seen."""
        return [str(w) for w in self._raw.get("warnings", [])]

    @property
    def in_window(self) -> int:
        """Entrants (time-to-convert units) still inside their window at ``as_of``: in the
        denominator of :attr:`conversion`, not converted (yet)."""
        return int(self._raw.get("in_window", self._raw["outcomes"][2]))

    @property
    def conversion_closed(self) -> float | None:
        """``converted / (entered - in_window)``: the conversion of the entrants whose window has
        closed."""
        c = self._raw.get("conversion_closed")
        return None if c is None else float(c)

    @property
    def conversion_by_window_end(self) -> float | None:
        """The cumulative incidence of conversion at the window's length (Aalen-Johansen from
        :attr:`time_to_convert`: entrants still inside their window censored at ``as_of``, stopped
        attempts competing); None without a window."""
        c = self._raw.get("conversion_by_window_end")
        return None if c is None else float(c)

    @property
    def as_of(self) -> np.datetime64 | None:
        ns = self._raw["as_of_ns"]
        return None if ns is None else np.datetime64(int(ns), "ns")

    @property
    def outcomes(self) -> dict[str, int]:
        """Time-to-convert units by outcome."""
        keys = ("converted", "stopped", "in_window", "timed_out")
        return dict(zip(keys, (int(v) for v in self._raw["outcomes"]), strict=True))

    @property
    def counts(self) -> dict[str, int]:
        """Rows seen, dropped (by reason) and reordered; customers and attempts."""
        keys: tuple[str, ...] = ("n_rows", "n_missing_customer", "n_missing_time", "n_missing_event")
        keys = (*keys, "n_unknown", "n_reordered", "n_customers", "n_attempts")
        return {k: int(self._raw[k]) for k in keys}

    @property
    def n_dropped(self) -> int:
        """Rows left out: without a customer, time or event, and events of no step (when dropped)."""
        c = self.counts
        return c["n_missing_customer"] + c["n_missing_time"] + c["n_missing_event"] + c["n_unknown"]

    def compare(self, other: FunnelResult, confidence_level: float = 0.95) -> FunnelComparison:
        """This funnel against ``other`` (independent customers), step by step: see
        :func:`compare_funnels`."""
        return compare_funnels(self, other, confidence_level)

    def plot(self, ax: Axes | None = None) -> Axes:
        """A funnel chart (:func:`cx_metrics.plot.funnel`)."""
        from .plot import funnel as plot_funnel

        return plot_funnel(self, ax=ax)

    def _columns(self) -> list[FrameColumn]:
        steps = self.steps
        return [(name, kind, [f(s) for s in steps]) for name, kind, f in _STEP_COLUMNS]

    @property
    def _unit(self) -> str:
        return "customers" if self._raw["spec"]["counting"] == "uniques" else "attempts"

    def _table(self) -> tuple[list[str], list[list[str]]]:
        level = level_text(self.confidence_level)
        header = [
            "step",
            "count",
            "from prev",
            f"conversion ({level} CI, Wilson)",
            "drop-off",
            "of which in window",
            f"from step 1 ({level} CI, Wilson)",
        ]
        rows = [
            [
                s.step,
                str(s.count),
                str(s.from_previous),
                _with_ci(s.conversion, s.conversion_ci),
                str(s.drop_off),
                "n/a" if s.in_window is None else str(s.in_window),
                _with_ci(s.overall, s.overall_ci),
            ]
            for s in self.steps
        ]
        return header, rows

    def _headline(self) -> str:
        k = len(self._raw["steps"])
        head = f"Funnel of {k} steps: {self.converted} of {self.entered} {self._unit} converted"
        ci = self.conversion_ci
        if self.conversion is None:
            return f"{head}; conversion undefined (none entered step 1)"
        if ci is None:
            return f"{head}, {pct(self.conversion)}"
        level = level_text(ci.confidence_level)
        head = f"{head}, {pct(self.conversion)} ({level} CI {pct(ci.low)} to {pct(ci.high)}, Wilson)"
        if self.in_window:
            head += f"; {self.in_window} still in their window"
        return head

    def _window_line(self) -> str:
        """The denominator of the headline and the entrants still inside their window."""
        unit, n, open_ = self._unit, self.entered, self.in_window
        text = f"denominator of the headline: all {n} {unit} entering step 1"
        if not open_:
            return text + ", every window closed at as_of"
        text += f", {open_} of them still inside their window at as_of (counted as not converted)"
        if self.conversion_closed is not None:
            closed, share = n - open_, pct(self.conversion_closed)
            text += f"; of the {closed} whose window closed {self.converted} converted, {share}"
        if self.conversion_by_window_end is not None:
            text += (
                f"; by the end of the window {pct(self.conversion_by_window_end)} (cumulative incidence of "
                "conversion, those in their window censored)"
            )
        return text

    def _as_of_text(self) -> str:
        as_of = self.as_of
        if as_of is None:
            return "n/a"
        when = np.datetime_as_string(as_of, unit="auto")
        return f"{when} UTC ({'given' if self._raw['as_of_given'] else 'latest event'})"

    def _data_line(self) -> str:
        c = self.counts
        return (
            f"{c['n_rows']} rows, {self.n_dropped} dropped (missing customer {c['n_missing_customer']}, time "
            f"{c['n_missing_time']}, event {c['n_missing_event']}; unknown event {c['n_unknown']}), "
            f"{c['n_reordered']} out of time order (sorted); {c['n_customers']} customers, "
            f"{c['n_attempts']} attempts; as of {self._as_of_text()}"
        )

    def _data_rows(self) -> list[list[str]]:
        c = self.counts
        return [
            ["rows", str(c["n_rows"])],
            ["dropped: missing customer", str(c["n_missing_customer"])],
            ["dropped: missing time", str(c["n_missing_time"])],
            ["dropped: missing event", str(c["n_missing_event"])],
            ["dropped: unknown event", str(c["n_unknown"])],
            ["out of time order (sorted)", str(c["n_reordered"])],
            ["customers", str(c["n_customers"])],
            ["attempts", str(c["n_attempts"])],
            ["as of", self._as_of_text()],
            ["in their window at as_of", str(self.in_window)],
            ["denominator", self._window_line().split(": ", 1)[1]],
        ]

    def __repr__(self) -> str:
        names = [str(s["step"]) for s in self._raw["steps"]]
        return (
            f"FunnelResult(steps={names!r}, entered={self.entered}, converted={self.converted}, "
            f"conversion={self.conversion!r}, counting={self._raw['spec']['counting']!r})"
        )

    def __str__(self) -> str:
        header, rows = self._table()
        return "\n".join(
            [
                self._headline(),
                self._data_line(),
                *(f"warning: {w}" for w in self.warnings),
                self._window_line(),
                self.rules.rstrip(),
                *text_table(header, rows),
            ]
        )

    def _repr_html_(self) -> str:
        header, rows = self._table()
        return html_block(
            html_table("data", self._data_rows()),
            _rules_table(self.rules),
            html_table("steps", rows, header=header, warnings=self.warnings),
            headline=self._headline(),
        )

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe builtins (the core's serde form: lists, numbers, text, None)."""
        return json_dict(self._raw)


@dataclass(frozen=True, eq=False, repr=False)
class TimeToConvert(Tabular):
    """The time from the start of each entrant's attempt to its last step, in seconds: one row per
    distinct time with the entrants at risk, the conversions, the attempts stopped (an exclusion, a
    strict-order break, a repeat: a competing outcome) and those censored (still inside their window
    at ``as_of``, at ``as_of - start``; timed out, at the window's length).

    Three curves, each a share of the entrants, add up to 1 at every time:

    * ``converted`` (``cif_event``): the cumulative incidence of conversion (Aalen-Johansen), the
      conversion by that time had nobody been censored;
    * ``stopped`` (``cif_competing``): the cumulative incidence of a stop;
    * ``neither`` (``survival``): Kaplan-Meier of "neither converted nor stopped" (all-cause; it is
      not one minus the conversion when attempts stop).

    ``converted`` has its pointwise band at ``confidence_level`` (the Aalen-Johansen variance of
    lifelines' ``AalenJohansenFitter``, on the log(-log) scale as lifelines does).

    ``table()`` / ``to_pandas()`` / ``to_polars()``: ``time_s``, ``at_risk``, ``converted_n``,
    ``stopped_n``, ``censored_n``, ``converted``, ``converted_low``, ``converted_high``, ``stopped``,
    ``neither``. Every other attribute of
    the Kaplan-Meier curve (``survival_at``, ``band``...) is read through. ``cx.plot.time_to_convert``
    draws it.
    """

    _km: Any
    window_s: float | None
    outcomes: dict[str, int]
    unit: str
    confidence_level: float = 0.95

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._km, name)

    @property
    def times(self) -> Any:
        return self._km.times

    @property
    def cif_event(self) -> Any:
        """Cumulative incidence of conversion at each time."""
        return self._km.cif_event

    @property
    def cif_competing(self) -> Any:
        """Cumulative incidence of a stop at each time."""
        return self._km.cif_competing

    @property
    def survival(self) -> Any:
        """Kaplan-Meier share that has neither converted nor stopped (all-cause)."""
        return self._km.survival

    def converted_band(self) -> tuple[Any, Any]:
        """The pointwise band of ``converted`` at :attr:`confidence_level`: (lower, upper)."""
        _, low, high = self._km.incidence_band(self.confidence_level, "log_log")
        return low, high

    def _columns(self) -> list[FrameColumn]:
        km = self._km
        low, high = self.converted_band()
        return [
            ("time_s", "float", list(km.times)),
            ("at_risk", "float", list(km.at_risk)),
            ("converted_n", "float", list(km.events)),
            ("stopped_n", "float", list(km.competing)),
            ("censored_n", "float", list(km.censored)),
            ("converted", "float", list(km.cif_event)),
            ("converted_low", "float", list(low)),
            ("converted_high", "float", list(high)),
            ("stopped", "float", list(km.cif_competing)),
            ("neither", "float", list(km.survival)),
        ]

    def table(self) -> Any:
        """The table as a pandas DataFrame (as :meth:`to_pandas`)."""
        return self.to_pandas()

    def plot(self, ax: Axes | None = None) -> Axes:
        """The two cumulative incidences (:func:`cx_metrics.plot.time_to_convert`)."""
        from .plot import time_to_convert as plot_time_to_convert

        return plot_time_to_convert(self, ax=ax)

    def _headline(self) -> str:
        o = self.outcomes
        n = sum(o.values())
        end = self.cif_event[-1] if len(self.times) else 0.0
        window = "no window" if self.window_s is None else f"window {_seconds_text(self.window_s)}"
        unit = self.unit[:-1] if n == 1 else self.unit
        return (
            f"Time to convert of {n} {unit} entering step 1 ({window}): converted by "
            f"{self.times[-1]:g} s {pct(end)} (cumulative incidence)\n"
            f"{o['converted']} converted, {o['stopped']} stopped, {o['in_window']} in their window at "
            f"as_of and {o['timed_out']} timed out (both censored)"
            if len(self.times)
            else f"Time to convert: no entrants ({window})"
        )

    def _rows(self) -> tuple[list[str], list[list[str]]]:
        header = [
            "time (s)",
            "at risk",
            "converted",
            "stopped",
            "censored",
            f"converted by [{level_text(self.confidence_level)} CI]",
            "stopped by",
            "neither",
        ]
        low, high = self.converted_band()
        rows = [
            [
                f"{t:g}",
                f"{r:g}",
                f"{e:g}",
                f"{c:g}",
                f"{z:g}",
                _with_band(a, lo, hi),
                pct(b),
                pct(s),
            ]
            for t, r, e, c, z, a, lo, hi, b, s in zip(
                self._km.times,
                self._km.at_risk,
                self._km.events,
                self._km.competing,
                self._km.censored,
                self._km.cif_event,
                low,
                high,
                self._km.cif_competing,
                self._km.survival,
                strict=True,
            )
        ]
        return header, rows

    def __repr__(self) -> str:
        return f"TimeToConvert(n_times={len(self.times)}, outcomes={self.outcomes!r})"

    def __eq__(self, other: object) -> bool:
        """Equal when stored alike (the curve, window, outcomes, unit and level)."""
        if type(other) is not type(self):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return "\n".join([self._headline(), *text_table(*self._rows())])

    def _repr_html_(self) -> str:
        header, rows = self._rows()
        return html_block(html_table("time to convert", rows, header=header), headline=self._headline())

    def to_dict(self) -> dict[str, Any]:
        """The table's columns, the window and the outcomes as JSON-safe builtins."""
        d: dict[str, Any] = {name: values for name, _, values in self._columns()}
        d.update(
            window_s=self.window_s,
            outcomes=dict(self.outcomes),
            unit=self.unit,
            confidence_level=self.confidence_level,
        )
        return json_dict(d)

    def to_json(self) -> str:
        """The result as JSON text, for storage: the curve in the core's serde form (its times,
        counts and both cumulative incidences), the window, the outcomes and the unit counted."""
        stored = {
            "window_s": self.window_s,
            "outcomes": dict(self.outcomes),
            "unit": self.unit,
            "confidence_level": self.confidence_level,
            "curve": json.loads(self._km.to_json()),
        }
        return write_document("TimeToConvert", stored)

    @classmethod
    def from_json(cls, text: str) -> TimeToConvert:
        """A result from the text written by :meth:`to_json` (checked: a level in (0, 1), a window
        of positive seconds or none, the unit counted, outcome counts that match the curve's)."""
        d = read_document(text, "TimeToConvert")
        try:
            level, window, unit = d["confidence_level"], d["window_s"], d["unit"]
            if isinstance(level, bool) or not isinstance(level, float | int) or not 0.0 < level < 1.0:
                raise ValueError(f"confidence_level {level!r} is not a number in (0, 1)")
            number = isinstance(window, float | int) and not isinstance(window, bool)
            if window is not None and not (number and math.isfinite(window) and window > 0):
                raise ValueError(f"window_s {window!r} is neither None nor seconds > 0")
            if unit not in ("customers", "attempts"):
                raise ValueError(f"unit {unit!r} is neither 'customers' nor 'attempts'")
            outcomes = d["outcomes"]
            keys = ("converted", "stopped", "in_window", "timed_out")
            if not isinstance(outcomes, dict) or sorted(outcomes) != sorted(keys):
                raise ValueError(f"outcomes {outcomes!r} are not the counts of {', '.join(keys)}")
            if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in outcomes.values()):
                raise ValueError(f"outcomes {outcomes!r} are not counts >= 0")
            km = _native.KaplanMeier.from_json(json.dumps(d["curve"]))
            _, converted, stopped, censored = km.counts
            if (converted, stopped, censored) != (
                outcomes["converted"],
                outcomes["stopped"],
                outcomes["in_window"] + outcomes["timed_out"],
            ):
                raise ValueError(f"outcomes {outcomes!r} do not match the curve's counts")
            return cls(km, None if window is None else float(window), dict(outcomes), unit, float(level))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InvalidArgumentError(f"invalid TimeToConvert JSON: {type(e).__name__} {e}") from None


def _seconds_text(s: float) -> str:
    """Seconds as they are best read: ``3600`` -> ``"3600 s (1:00:00)"``, ``2592000`` ->
    ``"2592000 s (30 days)"``."""
    span = str(datetime.timedelta(seconds=s)).removesuffix(", 0:00:00")
    return f"{s:g} s" if s < 60 else f"{s:.0f} s ({span})" if s == int(s) else f"{s:g} s ({span})"


def _with_band(x: float, low: float, high: float) -> str:
    """An incidence with its band; none where the band has no width (an incidence of 0 or 1,
    where the log(-log) band is undefined)."""
    return pct(x) if low == high else f"{pct(x)} [{pct(low)}, {pct(high)}]"


def _with_ci(x: float | None, c: Interval | None) -> str:
    return "-" if x is None or c is None else f"{pct(x)} [{pct(c.low)}, {pct(c.high)}]"


def _rules_table(rules: str, caption: str = "rules") -> str:
    return html_table(caption, [r.split(": ", 1) for r in rules.strip().splitlines()])


@dataclass(frozen=True, eq=False, repr=False)
class FunnelComparison(SameJson, Tabular, NativeResult):
    """Two funnels compared step by step (first - second): the step-to-step and from-step-1
    conversions, each with the pooled two-proportion z test and Newcombe's hybrid score interval.

    ``steps``: per step, ``conversion`` and ``overall`` (None where a rate is undefined), each with
    ``difference``, ``std_error``, ``std_error_pooled``, ``z``, ``p_value`` and ``interval``.
    ``to_pandas()`` / ``to_polars()``: ``step``, then ``conversion_`` and ``overall_`` followed by
    ``difference``, ``low``, ``high``, ``z``, ``p_value``.
    """

    _native_type: ClassVar[Any] = _native.FunnelComparison
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> FunnelComparison:
        return cls(native)

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = json_clean(self._raw["steps"])
        return steps

    @property
    def confidence_level(self) -> float:
        """The level of the intervals."""
        return float(self._raw["confidence_level"])

    def _columns(self) -> list[FrameColumn]:
        rows = self.steps

        def get(which: str, key: str) -> list[Any]:
            out: list[Any] = []
            for r in rows:
                c = r[which]
                if c is None:
                    out.append(None)
                elif key in ("low", "high"):
                    out.append(c["interval"][key])
                else:
                    out.append(c[key])
            return out

        cols: list[FrameColumn] = [("step", "str", [r["step"] for r in rows])]
        for which in ("conversion", "overall"):
            for key in ("difference", "low", "high", "z", "p_value"):
                cols.append((f"{which}_{key}", "float", get(which, key)))
        return cols

    def _headline(self) -> str:
        return (
            f"Funnel comparison, first - second: {level_text(self.confidence_level)} CI Newcombe hybrid "
            "score, pooled two-proportion z test"
        )

    def _table(self) -> tuple[list[str], list[list[str]]]:
        level = level_text(self.confidence_level)
        header = [
            "step",
            f"conversion diff ({level} CI)",
            "z",
            "p",
            f"from step 1 diff ({level} CI)",
            "z",
            "p",
        ]

        def cells(c: Any) -> list[str]:
            if c is None:
                return ["-", "-", "-"]
            i = c["interval"]
            return [
                f"{c['difference']:+.4f} [{i['low']:+.4f}, {i['high']:+.4f}]",
                f"{c['z']:.3f}",
                f"{c['p_value']:.4g}",
            ]

        return header, [[r["step"], *cells(r["conversion"]), *cells(r["overall"])] for r in self.steps]

    def __repr__(self) -> str:
        names = [str(r["step"]) for r in self._raw["steps"]]
        return f"FunnelComparison(steps={names!r}, confidence_level={self.confidence_level!r})"

    def __str__(self) -> str:
        header, rows = self._table()
        return "\n".join([self._headline(), *text_table(header, rows)])

    def _repr_html_(self) -> str:
        header, rows = self._table()
        return html_block(html_table(None, rows, header=header), headline=self._headline())

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-safe builtins (the core's serde form)."""
        return json_dict(self._raw)


def compare_funnels(a: FunnelResult, b: FunnelResult, confidence_level: float = 0.95) -> FunnelComparison:
    """Compare two funnels of the same steps (two periods or two segments, independent customers):
    per step, the difference of the step-to-step and of the from-step-1 conversion (first - second)
    with the pooled two-proportion z test and Newcombe's hybrid score interval. Both funnels must be
    counted under the same rules (order, window, entry, counting, re-entry, exclusions, ties...;
    ``as_of`` may differ): otherwise :class:`~cx_metrics.exceptions.IncompatibleError` names the rules
    that differ, since the difference would mix the rules with the customers. Two funnels that share
    customers (``r.compare(r)``, two periods of the same customers) are refused too, giving how many
    are shared: the z test and the interval assume independent samples. (A result read back from
    JSON or a pickle holds no customer keys, so this check needs the results as computed.)

    Examples
    --------
    >>> import cx_metrics as cx
    >>> spec = cx.FunnelSpec(["a", "b"], order="ordered", window=None, window_end="inclusive",
    ...                      entry="closed", counting="uniques", reentry="first")
    >>> t1, t2 = cx.FunnelTally(spec), cx.FunnelTally(spec)
    >>> t1.fold([1, 1, 2, 3, 3], ["a", "b", "a", "a", "b"], ["2026-01-01", "2026-01-02", "2026-01-01",
    ...         "2026-01-01", "2026-01-03"])
    >>> t2.fold([4, 5, 5], ["a", "a", "b"], ["2026-01-01", "2026-01-01", "2026-01-02"])
    >>> c = cx.compare_funnels(t1.result(), t2.result())
    >>> row = c.steps[1]["overall"]  # reaching b: 2 of 3 against 1 of 2
    >>> round(row["difference"], 4), round(row["p_value"], 4)
    (0.1667, 0.7094)
    """
    return FunnelComparison._from_native(_native.compare_funnels(a._native, b._native, confidence_level))


@dataclass(frozen=True)
class FunnelByGroup(Tabular):
    """Funnels by segment: ``result[label]`` (a tuple of labels for several ``by`` columns). A customer
    belongs to the segment of their first event.

    The printout gives the rules once (every segment is counted under the same spec), one row per
    segment (conversion with its Wilson interval, rows and drops) and the steps of every segment.
    ``to_pandas()`` / ``to_polars()``: the ``by`` columns (prefixed ``by_`` where a name is also a
    column of the steps), then the columns of :meth:`FunnelResult.to_pandas`, one row per segment and
    step. ``to_json()`` / ``from_json()`` store the results with their typed labels.
    """

    names: tuple[str, ...]
    labels: list[tuple[Any, ...]]
    results: list[FunnelResult]

    def __getitem__(self, label: Any) -> FunnelResult:
        key = label if isinstance(label, tuple) else (label,)
        for lab, r in zip(self.labels, self.results, strict=True):
            if lab == key:
                return r
        raise KeyError(label)

    def __iter__(self) -> Iterator[tuple[tuple[Any, ...], FunnelResult]]:
        return iter(zip(self.labels, self.results, strict=True))

    def __len__(self) -> int:
        return len(self.results)

    def _label_columns(self) -> list[str]:
        steps = {name for name, _, _ in _STEP_COLUMNS}
        return [f"by_{n}" if n in steps else n for n in self.names]

    def _columns(self) -> list[FrameColumn]:
        cols: list[FrameColumn] = []
        n_steps = [len(r._raw["steps"]) for r in self.results]
        for i, name in enumerate(self._label_columns()):
            values = [
                label_str(lab[i]) for lab, k in zip(self.labels, n_steps, strict=True) for _ in range(k)
            ]
            cols.append((name, "str", values))
        per_group = [r._columns() for r in self.results]
        for j, (name, kind, _) in enumerate(_STEP_COLUMNS):
            cols.append((name, kind, [v for group in per_group for v in group[j][2]]))
        return cols

    def _label(self, lab: tuple[Any, ...]) -> str:
        return " / ".join(label_str(x) for x in lab)

    def _level(self) -> float:
        return self.results[0].confidence_level if self.results else 0.95

    def _headline(self) -> str:
        rows = sum(r.counts["n_rows"] for r in self.results)
        dropped = sum(r.n_dropped for r in self.results)
        reordered = sum(r.counts["n_reordered"] for r in self.results)
        return (
            f"Funnels by {', '.join(self.names)}: {len(self)} segments; {rows} rows, {dropped} dropped, "
            f"{reordered} out of time order"
        )

    def _groups_table(self) -> tuple[list[str], list[list[str]]]:
        level = level_text(self._level())
        header = [
            " / ".join(self.names),
            "entered",
            "converted",
            f"conversion ({level} CI, Wilson)",
            "in window",
            "rows",
            "dropped",
            "out of order",
            "as of",
        ]
        rows = [
            [
                self._label(lab),
                str(r.entered),
                str(r.converted),
                _with_ci(r.conversion, r.conversion_ci),
                str(r.in_window),
                str(r.counts["n_rows"]),
                str(r.n_dropped),
                str(r.counts["n_reordered"]),
                r._as_of_text(),
            ]
            for lab, r in self
        ]
        return header, rows

    def _steps_table(self) -> tuple[list[str], list[list[str]]]:
        header: list[str] = []
        rows: list[list[str]] = []
        for lab, r in self:
            step_header, step_rows = r._table()
            header = [" / ".join(self.names), *step_header]
            rows.extend([self._label(lab), *row] for row in step_rows)
        return header, rows

    def _rules(self) -> list[tuple[str, str]]:
        """The rules once when every segment shares them, else each segment's."""
        distinct = {r.rules for r in self.results}
        if len(distinct) <= 1:
            return [("rules", rules) for rules in distinct]
        return [(f"rules of {self._label(lab)}", r.rules) for lab, r in self]

    def __str__(self) -> str:
        lines = [self._headline()]
        for caption, rules in self._rules():
            lines += ([f"{caption}:"] if caption != "rules" else []) + [rules.rstrip()]
        lines += text_table(*self._groups_table())
        if self.results:
            lines += ["", *text_table(*self._steps_table())]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header, rows = self._groups_table()
        tables = [_rules_table(rules, caption) for caption, rules in self._rules()]
        tables.append(html_table("segments", rows, header=header))
        if self.results:
            step_header, step_rows = self._steps_table()
            tables.append(html_table("steps", step_rows, header=step_header))
        return html_block(*tables, headline=self._headline())

    def to_dict(self) -> dict[str, Any]:
        """Every segment's labels (as text) and result as JSON-safe builtins."""
        return json_dict(
            {
                "by": list(self.names),
                "groups": [{"labels": [label_str(x) for x in lab], "result": r.to_dict()} for lab, r in self],
            }
        )

    def to_json(self) -> str:
        """The results as JSON text, for storage: ``by``, the segments' typed labels and each
        segment's result (the core's serde form; never the events)."""
        return write_document(
            "FunnelByGroup",
            {
                "by": list(self.names),
                "labels": [key_to_json(tuple(lab)) for lab in self.labels],
                "results": [json.loads(r.to_json()) for r in self.results],
            },
        )

    @classmethod
    def from_json(cls, text: str) -> FunnelByGroup:
        """The results from the text written by :meth:`to_json`."""
        d = read_document(text, "FunnelByGroup")
        try:
            names = tuple(str(b) for b in d["by"])
            labels = [key_from_json(lab) for lab in d["labels"]]
            results = [FunnelResult.from_json(json.dumps(r)) for r in d["results"]]
        except (KeyError, TypeError) as e:
            raise InvalidArgumentError(f"invalid FunnelByGroup JSON: {type(e).__name__} {e}") from None
        if len(labels) != len(results):
            raise InvalidArgumentError(
                f"invalid FunnelByGroup JSON: {len(labels)} labels but {len(results)} results"
            )
        if any(not isinstance(lab, tuple) or len(lab) != len(names) for lab in labels):
            raise InvalidArgumentError(
                f"invalid FunnelByGroup JSON: every label needs {len(names)} values, one per by column"
            )
        return cls(names, labels, results)


def _event_names(ev_spec_raw: Any, n: int) -> tuple[Any, list[str]]:
    spec = key_columns(ev_spec_raw, None, n, what="event").specs[0]
    labels, _ = _native.group_codes([spec], n)
    return spec, [str(lab[0]) for lab in labels if lab[0] is not None]


def funnel(
    events: object,
    spec: FunnelSpec,
    *,
    customer: object,
    event: object,
    time: object,
    by: object = None,
    confidence_level: float = 0.95,
) -> FunnelResult | FunnelByGroup:
    """A funnel over an event log (pandas, polars or pyarrow table; or ``events=None`` and columns).

    ``customer``, ``event``, ``time``: column names of ``events``, or columns. Times may be datetimes
    (naive = UTC; time-zone-aware converted; a mix of aware and naive is an error naming the row).
    ``by``: segment column(s): one funnel per segment, a customer in the segment of their first event.

    Examples
    --------
    >>> import datetime
    >>> import pandas as pd
    >>> import cx_metrics as cx
    >>> when = pd.to_datetime(["2026-01-01 10:00", "2026-01-01 10:20", "2026-01-01 11:00"])
    >>> log = pd.DataFrame({"who": [1, 1, 2], "what": ["visit", "buy", "visit"], "when": when})
    >>> spec = cx.FunnelSpec(["visit", "buy"], order="ordered", window=datetime.timedelta(hours=1),
    ...                      window_end="inclusive", entry="closed", counting="uniques", reentry="first")
    >>> r = cx.funnel(log, spec, customer="who", event="what", time="when")
    >>> r.converted, r.entered
    (1, 2)
    """
    names, labels, tallies = funnel_tallies(events, spec, customer=customer, event=event, time=time, by=by)
    results: list[FunnelResult] = []
    for t in tallies:  # a loop, not a comprehension (a frame of its own before Python 3.12)
        results.append(t._result(confidence_level))
    if by is None:
        return results[0]
    return FunnelByGroup(names, labels, results)


def funnel_tallies(
    events: object, spec: FunnelSpec, *, customer: object, event: object, time: object, by: object = None
) -> tuple[tuple[str, ...], list[tuple[Any, ...]], list[FunnelTally]]:
    """The funnel tallies of an event log, as :func:`funnel` counts them: one of every customer
    without ``by`` (no names, one empty label), else one per group of the grouping rules (the ``by``
    columns' names, the groups' labels), a customer in the group of their first event."""
    if not isinstance(spec, FunnelSpec):
        raise InvalidArgumentError("invalid spec: give a cx.FunnelSpec")
    times = _instants(_column(events, time, "time"), "time")
    n = len(times.ns)
    _, as_of_inst = spec._as_of()
    if as_of_inst is not None:
        _same_zone([("time", times), ("as_of", as_of_inst)])
    ev_raw = _column(events, event, "event")
    if _names_or_none(spec) is None:
        ev_spec, names = key_columns(ev_raw, None, n, what="event").specs[0], None
    else:  # predicates are evaluated on the distinct event names
        ev_spec, names = _event_names(ev_raw, n)
    native_spec = spec._native_spec(names)
    customers = _event_ids(events, customer, n, "customer")
    tally = _native.FunnelTally(native_spec)
    if by is None:
        tally.fold(customers, ev_spec, times.ns, "ns")
        return (), [()], [FunnelTally._wrap(tally)]
    table = Table(events) if events is not None else None
    keys = key_columns(by, table, n)
    labels, codes = _native.group_codes(keys.specs, n)
    states = tally.by_group(customers, ev_spec, times.ns, "ns", codes, len(labels))
    return tuple(keys.names), [tuple(lab) for lab in labels], [FunnelTally._wrap(t) for t in states]
