"""Service times with open tickets: first-response (or resolution) times from durations or timestamps,
the answered-only figures helpdesk tools report beside a Kaplan-Meier estimate that keeps the open
tickets (censored at the "as of" time) and treats a ticket closed without a reply as a competing
outcome (Aalen-Johansen), not as censored. The statistics are computed in Rust
(``cx_metrics::survival``); this module converts columns and times and presents the result.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, astuple, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from . import _native
from ._convert import _module_of
from ._groups import key_columns, key_from_json, key_to_json, label_str
from ._json import read_document, write_document
from ._results import FrameColumn, Tabular, fixed, html_table, json_dict, pct
from ._table import Table, numeric_weights
from ._tally import _State
from .exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ConfType",
    "Convention",
    "EventTable",
    "QuantileMethod",
    "ResponseTimes",
    "ResponseTimesByGroup",
    "SurvivalQuantile",
    "response_times",
]

ConfType = Literal["log_log", "log", "plain"]
"""The transform of the Kaplan-Meier band: ``log_log`` (lifelines' band), ``log`` (R survfit's default),
``plain``."""

Convention = Literal["smallest", "midpoint"]
"""A quantile where the curve is flat at exactly ``1 - p``: ``smallest`` (the textbook
``inf{t: S(t) <= 1 - p}``) or ``midpoint`` (R survival's: the middle of the flat stretch)."""

QuantileMethod = Literal["type7", "nearest_rank"]
"""Answered-only quantiles: Hyndman-Fan type 7 (numpy's default) or nearest rank."""

Unit = Literal["seconds", "minutes", "hours", "days"]
_UNIT_NS = {"seconds": 1e9, "minutes": 60e9, "hours": 3600e9, "days": 86400e9}
_OPEN, _EVENT, _COMPETING = 0, 1, 2


class EventTable(_State):
    """The mergeable event table of waiting times: per distinct time, the (weighted) events,
    competing outcomes and censored tickets. Fold partitions separately, merge with ``+`` or
    ``sum``, pickle or ship as bytes / JSON, and finish anywhere with :meth:`result`.

    ``bin_width=None`` keeps times exactly; a width rounds every time up to a multiple of it.

    >>> import numpy as np
    >>> t = EventTable()
    >>> t.fold([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 1, 1, 0, 1, 1])
    >>> float(t.result().survival_at(3.0))
    0.5
    """

    __slots__ = ()
    _native_type = _native.EventTable

    def __init__(self, bin_width: float | None = None) -> None:
        super().__init__(bin_width)

    def fold(self, durations: object, outcomes: object, weights: object = None, entry: object = None) -> None:
        """Fold durations (>= 0) with outcome codes (0 open, 1 event, 2 competing), optionally weighted.

        ``entry``: the time each row entered observation, on the durations' clock (delayed entry,
        left truncation; lifelines' ``entry=``): a row is at risk at ``t`` when ``entry < t <= duration``.
        Without it every row is at risk from 0.
        """
        d = np.ascontiguousarray(durations, dtype=np.float64)
        o = _codes(outcomes, len(d))
        w = None if weights is None else numeric_weights(weights).astype(np.float64)
        self._inner.fold(d, o, w, _entries(entry))

    @property
    def n_entered(self) -> int:
        """Rows folded with an entry time (delayed entry)."""
        return self._inner.n_entered  # type: ignore[no-any-return]

    @property
    def bin_width(self) -> float | None:
        """The bin width (``None``: exact times)."""
        return self._inner.bin_width  # type: ignore[no-any-return]

    def result(self) -> _native.KaplanMeier:
        """The Kaplan-Meier curve, Greenwood standard errors and Aalen-Johansen incidences."""
        return self._inner.result()  # type: ignore[no-any-return]


def _entries(entry: object) -> npt.NDArray[np.float64] | None:
    """Entry times as float64 (missing values as NaN, which the core names by position)."""
    if entry is None:
        return None
    try:
        module = _module_of(entry)
        if module == "pandas":
            import pandas as pd

            values = pd.Series(entry).astype("float64").to_numpy(na_value=np.nan)
        elif module == "polars":
            values = entry.cast(float).to_numpy()  # type: ignore[attr-defined]
        elif isinstance(entry, list):
            values = [math.nan if v is None else v for v in entry]
        else:
            values = entry
        return np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(
            f"invalid entry: {e}; give one number per row, the time it entered observation"
            " (0 if observed from its start)"
        ) from None


def _codes(outcomes: object, n: int) -> npt.NDArray[np.uint8]:
    o = np.asarray(outcomes)
    if o.shape != (n,):
        raise InvalidArgumentError(
            f"invalid outcomes: {o.shape} values for {n} durations; give one code per row"
        )
    if o.dtype in (np.uint8, np.bool_):
        # No copy and no pass here: the core checks every code in the pass that folds it.
        return o.view(np.uint8)
    if o.dtype.kind in "iuf" and np.isin(o, (0, 1, 2)).all():
        return o.astype(np.uint8)
    bad = int(np.flatnonzero(~np.isin(o, (0, 1, 2)))[0]) if o.dtype.kind in "iuf" else 0
    raise InvalidArgumentError(
        f"invalid outcomes: {o[bad].item()!r} at position {bad}; use 0 (open), 1 (event) or 2 (competing)"
    )


@dataclass(frozen=True)
class SurvivalQuantile:
    """A quantile of a waiting time (``None``: not reached, or undefined).

    ``estimator``: ``"kaplan_meier"``, ``inf{t: S(t) <= 1 - p}`` with its Brookmeyer-Crowley interval
    (``low``, ``high``: where the band of ``S`` crosses ``1 - p``); or ``"aalen_johansen"``,
    ``inf{t: F_reply(t) >= p}`` from the cumulative incidence of a reply, ``max_incidence`` being the
    highest ``F_reply`` reached (the estimate is undefined when it stays below ``p``), with the interval
    that inverts the pointwise band of ``F_reply`` by the same principle: ``low`` the first time the
    band's upper curve reaches ``p``, ``high`` the first time its lower curve does (``None``: never within
    the data, so unbounded above). ``conf_type``: the band's transform (of ``S``, or of ``F_reply``)."""

    p: float
    estimate: float | None
    low: float | None
    high: float | None
    estimator: str = "kaplan_meier"
    max_incidence: float | None = None
    conf_type: str | None = None


@dataclass(frozen=True)
class ResponseTimes(Tabular):
    """Response (or resolution) times of one set of tickets.

    Attributes
    ----------
    n : int
        Tickets counted (after the exclusions below).
    n_answered, n_open, n_closed_unanswered : int
        Tickets with the event, still open at ``as_of`` (censored), closed without the event.
    n_excluded_future : int
        Tickets created after ``as_of``: left out (they did not exist yet) and counted here.
    answered_mean : float
        Mean of the answered tickets only (what helpdesk reports show).
    answered_quantiles : tuple of (p, value)
        Their quantiles (``quantile_method``).
    answered_within : float or None
        Share of the answered tickets answered within ``target``.
    km_quantiles : tuple of SurvivalQuantile
        Kaplan-Meier quantiles with Brookmeyer-Crowley intervals (open tickets censored) of ``S``, the
        share of tickets still waiting: the time to the **first outcome, reply or closure**. Without
        closures unanswered, that is the time to a reply.
    reply_quantiles : tuple of SurvivalQuantile
        Quantiles of the time to a **reply**: the Kaplan-Meier ones (the same as ``km_quantiles``) when
        no ticket was closed unanswered; otherwise from the Aalen-Johansen cumulative incidence of a
        reply, ``inf{t: F_reply(t) >= p}``, undefined (``None``) when ``F_reply`` stays below ``p`` (too
        many tickets closed unanswered, or too many still open), with the interval that inverts the
        pointwise band of ``F_reply`` (delta-method variance as lifelines' ``AalenJohansenFitter``,
        ``conf_type`` applied to ``F_reply``; ``high`` ``None``: unbounded within the data).
    within : float or None
        P(event within ``target``): the Aalen-Johansen cumulative incidence (``1 - S(target)`` when no
        ticket was closed unanswered), with ``within_low`` / ``within_high`` (from the same band of
        ``F_reply`` as the reply quantiles').
    restricted_mean, restricted_mean_se : float or None
        Mean wait restricted to ``horizon`` (``∫ S``: the time to the first outcome, reply or closure)
        and its standard error.
    unit, quantile_method, conf_type, convention, confidence_level, target, horizon
        The options, printed with the result.
    n_entered : int
        Tickets with an entry time (delayed entry, ``entry=``): at risk at ``t`` only when
        ``entry < t <= duration``. 0 when every ticket is at risk from 0.
    risk_set_gaps : tuple of float
        With delayed entry, the times after which nobody was at risk although later tickets entered and
        exited (the curve goes on by the product-limit rule; 0 stays 0).
    """

    n: int
    n_answered: int
    n_open: int
    n_closed_unanswered: int
    n_excluded_future: int
    answered_mean: float
    answered_quantiles: tuple[tuple[float, float], ...]
    answered_within: float | None
    km_quantiles: tuple[SurvivalQuantile, ...]
    within: float | None
    within_low: float | None
    within_high: float | None
    restricted_mean: float | None
    restricted_mean_se: float | None
    unit: str
    quantile_method: str
    conf_type: str
    convention: str
    confidence_level: float
    target: float | None
    horizon: float | None
    curve: _native.KaplanMeier
    n_entered: int = 0
    risk_set_gaps: tuple[float, ...] = ()
    reply_quantiles: tuple[SurvivalQuantile, ...] = ()

    @property
    def competing(self) -> bool:
        """Whether some tickets were closed unanswered: then the time to a reply (``reply_quantiles``,
        ``within``) and the time to the first outcome (``km_quantiles``, ``restricted_mean``) differ."""
        return self.n_closed_unanswered > 0

    def estimates(self) -> dict[str, str]:
        """Which estimate each figure is, in words (printed, and in :meth:`to_dict`)."""
        if not self.competing:
            return {
                "km_quantiles": "time to reply: Kaplan-Meier quantiles, Brookmeyer-Crowley intervals",
                "reply_quantiles": "time to reply: Kaplan-Meier quantiles, Brookmeyer-Crowley intervals",
                "within": "P(reply within target): 1 - S(target) (Kaplan-Meier), interval 1 - the band of S",
                "restricted_mean": "restricted mean time to reply: integral of S (Kaplan-Meier)",
            }
        return {
            "km_quantiles": "time to first outcome (reply or closure): Kaplan-Meier quantiles of S,"
            " Brookmeyer-Crowley intervals",
            "reply_quantiles": "time to reply: first t with CIF_reply(t) >= p (Aalen-Johansen cumulative"
            " incidence; closures unanswered are a competing outcome); interval: the times whose pointwise"
            f" band of CIF_reply covers p ({self._cif_band()})",
            "within": f"P(reply within target): CIF_reply(target) (Aalen-Johansen), {self._cif_band()}",
            "restricted_mean": "restricted mean time to first outcome (reply or closure): integral of S",
        }

    def _cif_band(self) -> str:
        """Where the intervals of the time to a reply and of P(reply within target) come from."""
        weights = "; weights as frequencies, as lifelines' weights=" if self.curve.weighted else ""
        return (
            f"delta-method variance of CIF_reply as lifelines' AalenJohansenFitter (Collett p. 411),"
            f" {self.conf_type} transform: {_CIF_TRANSFORM.get(self.conf_type, self.conf_type)}{weights}"
        )

    def _reply_lines(self, level: str) -> list[str]:
        lines = []
        for q in self.reply_quantiles:
            head = f"  time to reply p{_pname(q.p)}"
            if q.estimate is not None:
                lines.append(
                    f"{head} {fixed(q.estimate)} ({level} CI {_t(q.low)} to {_upper(q.high)}; Aalen-Johansen:"
                    f" first t with CIF_reply(t) >= {pct(q.p)},"
                    " interval where the band of CIF_reply covers it)"
                )
                continue
            if q.max_incidence is not None and self.curve.survival[-1] <= 0.0:
                line = (
                    f"{head} undefined: CIF_reply never reaches {pct(q.p)} (at most {pct(q.max_incidence)};"
                    " the other tickets were closed unanswered)"
                )
            else:
                line = (
                    f"{head} not reached: CIF_reply reaches {pct(_nan(q.max_incidence))} by the last time"
                    " (open or closed-unanswered tickets)"
                )
            if q.low is not None:
                line += (
                    f"; the band's upper curve reaches it at {fixed(q.low)}:"
                    f" {level} CI {fixed(q.low)} to unbounded"
                )
            lines.append(line)
        if self.reply_quantiles:
            lines.append(f"    (reply intervals: {self._cif_band()})")
        for q in self.km_quantiles:
            lines.append(
                f"  time to first outcome (reply or closure), Kaplan-Meier p{_pname(q.p)} {_t(q.estimate)}"
                f" ({level} CI {_t(q.low)} to {_t(q.high)}; Brookmeyer-Crowley, {self.conf_type},"
                f" {self.convention} convention)"
            )
        return lines

    def __str__(self) -> str:
        u = self.unit
        lines = [
            f"Response times ({u}) of {self.n} tickets: {self.n_answered} answered, {self.n_open} open"
            f" (censored), {self.n_closed_unanswered} closed unanswered (competing)"
        ]
        aq = ", ".join(f"p{_pname(p)} {fixed(v)}" for p, v in self.answered_quantiles)
        lines.append(f"  answered only ({self.quantile_method}): mean {fixed(self.answered_mean)}, {aq}")
        lines.append(
            f"  these leave out {self.n_open} open and {self.n_closed_unanswered} closed-unanswered tickets"
        )
        level = f"{100 * self.confidence_level:g}%"
        if self.competing:
            lines += self._reply_lines(level)
        else:
            for q in self.km_quantiles:
                lines.append(
                    f"  Kaplan-Meier p{_pname(q.p)} {_t(q.estimate)} ({level} CI {_t(q.low)} to {_t(q.high)};"
                    f" Brookmeyer-Crowley, {self.conf_type}, {self.convention} convention)"
                )
        if self.target is not None and self.within is not None:
            how = (
                f"CIF_reply, Aalen-Johansen, {self.conf_type} band of CIF_reply"
                if self.competing
                else "1 - S, Kaplan-Meier"
            )
            lines.append(
                f"  P(reply within {self.target:g}) ({how}): {pct(self.within)} ({level} CI"
                f" {pct(_nan(self.within_low))} to {pct(_nan(self.within_high))}); answered only:"
                f" {pct(_nan(self.answered_within))}"
            )
        if self.horizon is not None and self.restricted_mean is not None:
            what = " of the time to first outcome (reply or closure)" if self.competing else ""
            lines.append(
                f"  restricted mean{what} to {self.horizon:g}: {fixed(self.restricted_mean)}"
                f" (se {fixed(self.restricted_mean_se)})"
            )
        if self.n_excluded_future:
            lines.append(f"  {self.n_excluded_future} tickets created after as_of were left out")
        if self.n_entered:
            lines.append(
                f"  delayed entry: {self.n_entered} tickets observed from an entry time (at risk when"
                " entry < t <= duration; the answered-only figures ignore entry times)"
            )
        if self.risk_set_gaps:
            gaps = ", ".join(f"{t:g}" for t in self.risk_set_gaps)
            lines.append(
                f"  nobody was at risk after {gaps} until later tickets entered: the curve after that"
                " multiplies on (and stays 0 once 0)"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [["answered-only mean", fixed(self.answered_mean), "", ""]]
        rows += [[f"answered-only p{_pname(p)}", fixed(v), "", ""] for p, v in self.answered_quantiles]
        if self.competing:
            rows += [
                [
                    f"time to reply p{_pname(q.p)} (Aalen-Johansen CIF_reply)",
                    _reply_t(q),
                    _t(q.low),
                    _upper(q.high) if q.low is not None else "",
                ]
                for q in self.reply_quantiles
            ]
            first = "time to first outcome (reply or closure), Kaplan-Meier"
        else:
            first = "Kaplan-Meier"
        rows += [
            [f"{first} p{_pname(q.p)}", _t(q.estimate), _t(q.low), _t(q.high)] for q in self.km_quantiles
        ]
        if self.within is not None:
            how = "CIF_reply, Aalen-Johansen" if self.competing else "1 - S, Kaplan-Meier"
            rows.append(
                [
                    f"P(reply within {self.target:g}) ({how})",
                    pct(self.within),
                    pct(_nan(self.within_low)),
                    pct(_nan(self.within_high)),
                ]
            )
        return html_table(
            f"Response times ({self.unit}): n={self.n}, answered {self.n_answered}, open {self.n_open},"
            f" closed unanswered {self.n_closed_unanswered}",
            rows,
            header=["figure", "estimate", f"{100 * self.confidence_level:g}% CI low", "high"],
            warnings=([f"answered-only figures leave out {self.n_open} open tickets"] if self.n_open else [])
            + (
                [f"delayed entry: {self.n_entered} tickets at risk only when entry < t <= duration"]
                if self.n_entered
                else []
            )
            + [f"nobody at risk after {t:g} until later tickets entered" for t in self.risk_set_gaps],
        )

    def to_dict(self) -> dict[str, Any]:
        """The figures as plain Python values (the curve as lists)."""
        plain = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "curve"}
        plain["km_quantiles"] = [asdict(q) for q in self.km_quantiles]
        plain["reply_quantiles"] = [asdict(q) for q in self.reply_quantiles]
        plain["estimates"] = self.estimates()
        d = json_dict(plain)
        d["curve"] = {
            k: getattr(self.curve, k).tolist() for k in ("times", "survival", "std_error", "at_risk")
        }
        return d

    def _columns(self) -> list[FrameColumn]:
        c = self.curve
        return [
            ("time", "float", c.times.tolist()),
            ("at_risk", "float", c.at_risk.tolist()),
            ("events", "float", c.events.tolist()),
            ("competing", "float", c.competing.tolist()),
            ("censored", "float", c.censored.tolist()),
            ("survival", "float", c.survival.tolist()),
            ("std_error", "float", c.std_error.tolist()),
            ("cif_event", "float", c.cif_event.tolist()),
            ("cif_competing", "float", c.cif_competing.tolist()),
        ]

    def to_json(self) -> str:
        """The result as JSON text, for storage: every figure and option, and the Kaplan-Meier curve
        in the core's serde form (never the tickets)."""
        stored = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "curve"}
        stored["km_quantiles"] = [astuple(q) for q in self.km_quantiles]
        stored["reply_quantiles"] = [astuple(q) for q in self.reply_quantiles]
        stored["curve"] = json.loads(self.curve.to_json())
        return write_document("ResponseTimes", stored)

    @classmethod
    def from_json(cls, text: str) -> ResponseTimes:
        """A result from the text written by :meth:`to_json`."""
        return cls._from_stored(read_document(text, "ResponseTimes"))

    @classmethod
    def _from_stored(cls, d: dict[str, Any]) -> ResponseTimes:
        try:
            d = {k: v for k, v in d.items() if k not in ("result", "version")}
            d["answered_mean"] = _nan(d["answered_mean"])
            d["answered_quantiles"] = tuple((float(p), _nan(v)) for p, v in d["answered_quantiles"])
            d["km_quantiles"] = tuple(SurvivalQuantile(*q) for q in d["km_quantiles"])
            d["risk_set_gaps"] = tuple(float(t) for t in d.get("risk_set_gaps", ()))
            d["curve"] = _native.KaplanMeier.from_json(json.dumps(d["curve"]))
            stored_rq = d.get("reply_quantiles")
            if stored_rq is not None and all(len(q) >= 7 for q in stored_rq):
                d["reply_quantiles"] = tuple(SurvivalQuantile(*q) for q in stored_rq)
            else:  # written before the reply quantiles (or their intervals) were stored: from the curve
                d["reply_quantiles"] = _reply_quantiles(
                    d["curve"], d["km_quantiles"], d["convention"], d["confidence_level"], d["conf_type"]
                )
            return cls(**d)
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidArgumentError(f"invalid ResponseTimes JSON: {type(e).__name__} {e}") from None

    def plot(self, ax: Axes | None = None) -> Axes:
        """The survival curve with its band (see :func:`cx_metrics.plot.survival_curve`)."""
        from .plot import survival_curve

        return survival_curve(self, ax=ax)


@dataclass(frozen=True)
class ResponseTimesByGroup(Tabular):
    """Response times per group of ``by``: ``groups`` maps each label (a tuple with several columns)
    to its :class:`ResponseTimes`; the table has one row per group."""

    by: str | tuple[str, ...]
    groups: dict[Any, ResponseTimes]
    future_only: dict[Any, int] = field(default_factory=dict)
    """Groups whose every ticket was created after ``as_of``: no result, their tickets counted here (the
    other groups count theirs in ``n_excluded_future``)."""

    def __str__(self) -> str:
        lines = [f"{label_str(k)}: {v}" for k, v in self.groups.items()]
        lines += [
            f"{label_str(k)}: all {n} tickets created after as_of were left out (no result)"
            for k, n in self.future_only.items()
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cols = self._columns()
        rows = [
            [label_str(v) if isinstance(v, str | type(None)) else fixed(float(v)) for v in r]
            for r in zip(*(c[2] for c in cols), strict=True)
        ]
        first = next(iter(self.groups.values()), None)
        level = f" (Kaplan-Meier quantiles with {100 * first.confidence_level:g}% CI)" if first else ""
        if any(r.competing for r in self.groups.values()):
            level += (
                "; with tickets closed unanswered, km_p* is the time to first outcome (reply or closure) and"
                " reply_p* the time to reply (Aalen-Johansen CIF_reply; reply_p*_low / _high invert the"
                " pointwise band of CIF_reply, NaN high: unbounded)"
            )
        warnings = [
            f"{label_str(k)}: all {n} tickets after as_of, no result" for k, n in self.future_only.items()
        ]
        return html_table(
            f"Response times by {self.by}{level}", rows, header=[c[0] for c in cols], warnings=warnings
        )

    def to_dict(self) -> dict[str, Any]:
        """One dict per group."""
        return {label_str(k): v.to_dict() for k, v in self.groups.items()}

    def to_json(self) -> str:
        """The results as JSON text, for storage: ``by``, the groups' typed labels and each group's
        result (see :meth:`ResponseTimes.to_json`)."""
        return write_document(
            "ResponseTimesByGroup",
            {
                "by": [self.by] if isinstance(self.by, str) else list(self.by),
                "labels": [key_to_json(k) for k in self.groups],
                "results": [json.loads(v.to_json()) for v in self.groups.values()],
                "future_only": [[key_to_json(k), n] for k, n in self.future_only.items()],
            },
        )

    @classmethod
    def from_json(cls, text: str) -> ResponseTimesByGroup:
        """The results from the text written by :meth:`to_json`."""
        d = read_document(text, "ResponseTimesByGroup")
        try:
            by = [str(b) for b in d["by"]]
            labels = [key_from_json(k) for k in d["labels"]]
            results = [ResponseTimes._from_stored(r) for r in d["results"]]
            future_only = {key_from_json(k): int(n) for k, n in d.get("future_only", [])}
        except (KeyError, TypeError) as e:
            raise InvalidArgumentError(f"invalid ResponseTimesByGroup JSON: {type(e).__name__} {e}") from None
        if len(labels) != len(results):
            raise InvalidArgumentError(
                f"invalid ResponseTimesByGroup JSON: {len(labels)} labels but {len(results)} results"
            )
        return cls(
            by=by[0] if len(by) == 1 else tuple(by),
            groups=dict(zip(labels, results, strict=True)),
            future_only=future_only,
        )

    def _columns(self) -> list[FrameColumn]:
        names = [self.by] if isinstance(self.by, str) else list(self.by)
        keys = [k if isinstance(k, tuple) else (k,) for k in self.groups]
        res = list(self.groups.values())
        cols: list[FrameColumn] = [(n, "str", [label_str(k[i]) for k in keys]) for i, n in enumerate(names)]
        cols += [
            ("n", "int", [r.n for r in res]),
            ("n_open", "int", [r.n_open for r in res]),
            ("answered_mean", "float", [r.answered_mean for r in res]),
        ]
        for i, q in enumerate(res[0].km_quantiles if res else ()):
            p = _pname(q.p)
            cols.append((f"km_p{p}", "float", [_nan(r.km_quantiles[i].estimate) for r in res]))
            cols.append((f"km_p{p}_low", "float", [_nan(r.km_quantiles[i].low) for r in res]))
            cols.append((f"km_p{p}_high", "float", [_nan(r.km_quantiles[i].high) for r in res]))
        cols.append(("within", "float", [_nan(r.within) for r in res]))
        cols.append(("within_low", "float", [_nan(r.within_low) for r in res]))
        cols.append(("within_high", "float", [_nan(r.within_high) for r in res]))
        cols.append(("n_closed_unanswered", "int", [r.n_closed_unanswered for r in res]))
        cols.append(("n_excluded_future", "int", [r.n_excluded_future for r in res]))
        for i, q in enumerate(res[0].reply_quantiles if res else ()):
            cols.append(
                (f"reply_p{_pname(q.p)}", "float", [_nan(r.reply_quantiles[i].estimate) for r in res])
            )
        for i, q in enumerate(res[0].reply_quantiles if res else ()):
            p = _pname(q.p)
            cols.append((f"reply_p{p}_low", "float", [_nan(r.reply_quantiles[i].low) for r in res]))
            cols.append((f"reply_p{p}_high", "float", [_nan(r.reply_quantiles[i].high) for r in res]))
        return cols


def _pname(p: float) -> str:
    return f"{100 * p:g}"


def _t(x: float | None) -> str:
    return "not reached" if x is None else fixed(x)


_CIF_TRANSFORM = {
    "log_log": "log(-log CIF), lifelines' interval",
    "log": "log CIF, upper limit cut at 1 (the transform R survfit applies to a multi-state curve)",
    "plain": "CIF +- z se, cut to [0, 1]",
}


def _upper(x: float | None) -> str:
    return "unbounded" if x is None else fixed(x)


def _reply_t(q: SurvivalQuantile) -> str:
    if q.estimate is not None:
        return fixed(q.estimate)
    return f"undefined (CIF_reply at most {pct(_nan(q.max_incidence))})"


def _reply_quantiles(
    km: _native.KaplanMeier,
    km_quantiles: Sequence[SurvivalQuantile],
    convention: str,
    confidence_level: float,
    conf_type: str,
) -> tuple[SurvivalQuantile, ...]:
    """The quantiles of the time to a reply: the Kaplan-Meier ones without closures unanswered,
    otherwise those of the Aalen-Johansen cumulative incidence of a reply, with the intervals that
    invert its pointwise band (computed in the core)."""
    if km.counts[2] == 0:
        return tuple(km_quantiles)
    out = []
    for q in km_quantiles:
        estimate, low, high, reached, _ = km.incidence_quantile_interval(
            q.p, confidence_level, conf_type, convention
        )
        out.append(SurvivalQuantile(q.p, estimate, low, high, "aalen_johansen", reached, conf_type))
    return tuple(out)


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


# --- timestamps ------------------------------------------------------------------------------------


def _timestamps(raw: Any, name: str) -> tuple[npt.NDArray[np.int64], bool]:
    """Nanoseconds since the epoch (UTC for tz-aware input; NaT as the minimum int64) and whether the
    column is tz-aware."""
    module = _module_of(raw)
    if module == "pandas":
        import pandas as pd

        s = pd.Series(raw)
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            return s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64), True
        if s.dtype.kind == "M":
            return s.to_numpy("datetime64[ns]").view(np.int64), False
        raw = s.to_numpy(dtype=object)
    elif module == "polars":
        import polars as pl

        if isinstance(raw.dtype, pl.Datetime):
            aware = raw.dtype.time_zone is not None
            s = raw.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if aware else raw
            ns = s.dt.cast_time_unit("ns").to_numpy().astype("datetime64[ns]")
            return ns.view(np.int64), aware
        raw = raw.to_list()
    a = np.asarray(raw)
    if a.dtype.kind == "M":
        return a.astype("datetime64[ns]").view(np.int64), False
    if a.dtype == object or a.dtype.kind in "OU":
        return _datetime_objects(list(a), name)
    raise InvalidArgumentError(
        f"invalid {name}: a column of {a.dtype} is not timestamps; pass datetimes (numpy datetime64,"
        " pandas or polars datetime columns), or durations with durations="
    )


def _datetime_objects(values: list[Any], name: str) -> tuple[npt.NDArray[np.int64], bool]:
    out = np.empty(len(values), dtype=np.int64)
    aware: bool | None = None
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[i] = np.iinfo(np.int64).min
            continue
        if not isinstance(v, datetime.datetime):
            raise InvalidArgumentError(f"invalid {name}: {v!r} at position {i} is not a datetime")
        this = v.tzinfo is not None and v.utcoffset() is not None
        if aware is not None and this != aware:
            raise InvalidArgumentError(
                f"invalid {name}: the datetime at position {i} is {'tz-aware' if this else 'naive'}"
                " but earlier ones are not; make every timestamp tz-aware (or every one naive) first"
            )
        aware = this
        if this:
            v = v.astimezone(datetime.UTC).replace(tzinfo=None)
        out[i] = np.datetime64(v, "ns").view(np.int64)
    return out, bool(aware)


def _as_of(as_of: object) -> tuple[int, bool]:
    a, aware = _timestamps([as_of] if isinstance(as_of, datetime.datetime) else np.asarray([as_of]), "as_of")
    return int(a[0]), aware


_NAT = np.iinfo(np.int64).min


def _tickets(
    table: Table | None,
    created: object,
    first_reply: object,
    closed: object,
    as_of: object,
    unit: str,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """Durations, outcome codes and the rows kept (tickets created by ``as_of``), from timestamps."""

    def column(c: object, name: str) -> tuple[npt.NDArray[np.int64], bool]:
        raw = table._raw(c) if table is not None and isinstance(c, str) else c
        return _timestamps(raw, name)

    if as_of is None:
        raise InvalidArgumentError(
            "invalid as_of: timestamps need the time the data were taken (as_of=), at which open tickets are"
            " censored"
        )
    c, c_aware = column(created, "created")
    parts = {"created": c_aware}
    r, parts["first_reply"] = column(first_reply, "first_reply")
    if closed is not None:
        x, parts["closed"] = column(closed, "closed")
    else:
        x = np.full(len(c), _NAT, dtype=np.int64)
    now, parts["as_of"] = _as_of(as_of)
    if len(set(parts.values())) > 1:
        aware = sorted(k for k, v in parts.items() if v)
        naive = sorted(k for k, v in parts.items() if not v)
        raise InvalidArgumentError(
            f"invalid timestamps: {', '.join(aware)} tz-aware but {', '.join(naive)} naive; localise"
            " the naive ones (or drop the time zone of all) first"
        )
    for what, col in (("first_reply", r), ("closed", x)):
        if len(col) != len(c):
            raise InvalidArgumentError(f"invalid {what}: {len(col)} values for {len(c)} created times")
    if (c == _NAT).any():
        i = int(np.flatnonzero(c == _NAT)[0])
        raise InvalidArgumentError(f"invalid created: the creation time at position {i} is missing")
    bad = (r != _NAT) & (r < c)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidArgumentError(
            f"invalid first_reply: the reply at position {i} is before its ticket's creation; check that row"
        )
    bad = (x != _NAT) & (x < c)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidArgumentError(
            f"invalid closed: the closing time at position {i} is before its ticket's creation;"
            " check that row"
        )
    keep = c <= now
    # What had happened by as_of: a reply or closure later than as_of is not known yet.
    replied = (r != _NAT) & (r <= now)
    closed_first = ~replied & (x != _NAT) & (x <= now)
    end = np.where(replied, r, np.where(closed_first, x, now))
    codes = np.where(replied, _EVENT, np.where(closed_first, _COMPETING, _OPEN)).astype(np.uint8)
    durations = (end - c).astype(np.float64) / _UNIT_NS[unit]
    return durations[keep], codes[keep], keep


def response_times(
    data: object = None,
    *,
    created: object = None,
    first_reply: object = None,
    closed: object = None,
    as_of: object = None,
    durations: object = None,
    outcomes: object = None,
    ticket_id: object = None,
    by: object = None,
    weights: object = None,
    entry: object = None,
    quantiles: Sequence[float] = (0.5, 0.9),
    quantile_method: QuantileMethod = "type7",
    target: float | None = None,
    horizon: float | None = None,
    confidence_level: float = 0.95,
    conf_type: ConfType = "log_log",
    convention: Convention = "smallest",
    unit: Unit = "minutes",
    bin_width: float | None = None,
) -> ResponseTimes | ResponseTimesByGroup:
    """First-response (or resolution) times with the open tickets kept.

    From timestamps (``created``, ``first_reply``, optionally ``closed`` — closed without a reply — and
    ``as_of``, the time the data were taken; numpy, pandas or polars datetimes, all tz-aware or all naive)
    or from ``durations`` with ``outcomes`` (0 open, 1 answered, 2 closed unanswered; all answered if
    omitted). Reports the answered-only mean and quantiles (``quantile_method``: ``"type7"`` or
    ``"nearest_rank"``; with weights only the latter) beside the Kaplan-Meier quantiles with
    Brookmeyer-Crowley intervals, P(reply within ``target``) and the restricted mean to ``horizon``.
    With tickets closed unanswered, the Kaplan-Meier figures are those of the time to the first outcome
    (reply or closure), and the time to a reply (``reply_quantiles``) comes from the Aalen-Johansen
    cumulative incidence of a reply, with the interval that inverts its pointwise band (lifelines'
    ``AalenJohansenFitter`` variance, ``conf_type`` applied to the incidence; see :class:`ResponseTimes`).

    ``entry`` (with ``durations``): the time each ticket entered observation, on the same clock (delayed
    entry, left truncation, as lifelines' ``entry=``); a ticket is at risk at ``t`` when
    ``entry < t <= duration`` (R survival's ``Surv(start, stop, event)``). An entry that is missing,
    negative, or not below its duration is an error naming the row.

    Bad input: a reply or closure before creation, a negative duration, a missing creation time, a
    duplicate ``ticket_id`` and mixed tz-aware / naive timestamps are errors naming the row; tickets
    created after ``as_of`` are left out and counted (``n_excluded_future``, per group with ``by``; a
    group with only such tickets is listed in ``future_only``; all of them is an error); a reply after
    ``as_of`` is not known yet, so that ticket counts as open.

    >>> import cx_metrics as cx
    >>> r = cx.response_times(durations=[1, 2, 3, 4, 5, 6], outcomes=[1, 1, 1, 0, 1, 1], quantiles=(0.5,))
    >>> r.km_quantiles[0].estimate, r.n_open
    (3.0, 1)
    """
    table = Table(data) if data is not None else None
    if durations is not None:
        if created is not None or first_reply is not None:
            raise InvalidArgumentError(
                "invalid arguments: give durations= or timestamps (created=, ...), not both"
            )
        raw = table._raw(durations) if table is not None and isinstance(durations, str) else durations
        d = np.ascontiguousarray(raw, dtype=np.float64)
        raw_o = table._raw(outcomes) if table is not None and isinstance(outcomes, str) else outcomes
        o = np.full(len(d), _EVENT, dtype=np.uint8) if outcomes is None else _codes(raw_o, len(d))
        keep = np.ones(len(d), dtype=bool)
        raw_e = table._raw(entry) if table is not None and isinstance(entry, str) else entry
        e = _entries(raw_e)
    else:
        if created is None or first_reply is None:
            raise InvalidArgumentError(
                "invalid arguments: give durations= (and outcomes=), or created=, first_reply= and as_of="
            )
        if entry is not None:
            raise InvalidArgumentError(
                "invalid arguments: entry= goes with durations= (entry times on the durations' clock);"
                " from timestamps, compute durations and entry times first"
            )
        d, o, keep = _tickets(table, created, first_reply, closed, as_of, unit)
        e = None
    n_rows = len(keep)
    if ticket_id is not None:
        raw_id = table._raw(ticket_id) if table is not None and isinstance(ticket_id, str) else ticket_id
        ids = np.asarray(raw_id)
        if len(ids) != n_rows:
            raise InvalidArgumentError(f"invalid ticket_id: {len(ids)} ids for {n_rows} tickets")
        _, first, counts = np.unique(ids, return_index=True, return_counts=True)
        if (counts > 1).any():
            dup = np.sort(first[counts > 1])[0]
            later = int(np.flatnonzero(ids == ids[dup])[1])
            raise InvalidArgumentError(
                f"invalid ticket_id: id {ids.tolist()[dup]!r} at position {later} repeats position "
                f"{int(dup)}; keep one row per ticket"
            )
    w = None
    if weights is not None:
        raw_w = table._raw(weights) if table is not None and isinstance(weights, str) else weights
        w = numeric_weights(raw_w).astype(np.float64)[keep]
    n_future = int((~keep).sum())
    if n_rows > 0 and n_future == n_rows:
        raise InvalidArgumentError(
            f"invalid as_of: all {n_rows} tickets were created after as_of, so none existed yet and none is"
            " counted; give the time the data were taken as as_of (or check the created column)"
        )
    opts = _Options(
        quantiles=tuple(quantiles),
        quantile_method=quantile_method,
        target=target,
        horizon=horizon,
        confidence_level=confidence_level,
        conf_type=conf_type,
        convention=convention,
        unit=unit,
    )
    empty = _native.EventTable(bin_width)
    if by is None:
        t = _native.EventTable(bin_width)
        t.fold(d, o, w, e)
        return _result(t, d, o, w, n_future, opts)
    keys = key_columns(by, table, n_rows)
    specs = keys.specs
    labels, all_codes = _native.group_codes(specs, n_rows)
    # Tickets created after as_of are left out and counted per group, as without by=.
    future = np.bincount(all_codes[~keep], minlength=len(labels))
    codes = np.ascontiguousarray(all_codes[keep])
    tables = empty.by_group(codes, len(labels), d, o, w, e)
    groups: dict[Any, ResponseTimes] = {}
    future_only: dict[Any, int] = {}
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    for g, label in enumerate(labels):
        rows = order[bounds[g] : bounds[g + 1]]
        key = label[0] if len(label) == 1 else tuple(label)
        if len(rows) == 0:
            future_only[key] = int(future[g])
            continue
        groups[key] = _result(
            tables[g], d[rows], o[rows], None if w is None else w[rows], int(future[g]), opts
        )
    return ResponseTimesByGroup(by=keys.by_name, groups=groups, future_only=future_only)


@dataclass(frozen=True)
class _Options:
    quantiles: tuple[float, ...]
    quantile_method: str
    target: float | None
    horizon: float | None
    confidence_level: float
    conf_type: str
    convention: str
    unit: str


def _result(
    table: Any,
    d: npt.NDArray[np.float64],
    o: npt.NDArray[np.uint8],
    w: npt.NDArray[np.float64] | None,
    n_future: int,
    opts: _Options,
) -> ResponseTimes:
    quantiles, quantile_method, target = opts.quantiles, opts.quantile_method, opts.target
    confidence_level, conf_type, convention = opts.confidence_level, opts.conf_type, opts.convention
    horizon, unit = opts.horizon, opts.unit
    answered = o == _EVENT
    wa = None if w is None else w[answered]
    if answered.any():
        _, mean, aq, within_a = _native.answered_summary(
            d[answered], list(quantiles), quantile_method, target, wa
        )
    else:
        mean, aq, within_a = math.nan, [(p, math.nan) for p in quantiles], None
    km = table.result()

    def km_quantile(p: float) -> SurvivalQuantile:
        q, estimate, low, high = km.quantile(p, confidence_level, conf_type, convention)
        return SurvivalQuantile(q, estimate, low, high, conf_type=conf_type)

    kq = tuple(km_quantile(p) for p in quantiles)
    rq = _reply_quantiles(km, kq, convention, confidence_level, conf_type)
    within = low = high = None
    if target is not None:
        within, _, (low, high, _, _) = km.within(target, confidence_level, conf_type)
    rm = rm_se = None
    if horizon is not None:
        rm, rm_se = km.restricted_mean(horizon)
    n, n_ev, n_comp, n_cens = km.counts
    return ResponseTimes(
        n=n,
        n_answered=n_ev,
        n_open=n_cens,
        n_closed_unanswered=n_comp,
        n_excluded_future=n_future,
        answered_mean=mean,
        answered_quantiles=tuple(aq),
        answered_within=None if within_a is None else within_a[1],
        km_quantiles=kq,
        within=within,
        within_low=low,
        within_high=high,
        restricted_mean=rm,
        restricted_mean_se=rm_se,
        unit=unit,
        quantile_method=quantile_method,
        conf_type=conf_type,
        convention=convention,
        confidence_level=confidence_level,
        target=target,
        horizon=horizon,
        curve=km,
        n_entered=km.n_entered,
        risk_set_gaps=tuple(km.risk_set_gaps),
        reply_quantiles=rq,
    )
