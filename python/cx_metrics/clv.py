"""Retention models and lifetime value: the shifted-beta-geometric model (Fader & Hardie 2007) and
the simple, Gupta-Lehmann and sBG lifetime-value formulas, computed in the Rust core
(``cx_metrics::sbg``, ``cx_metrics::clv``).

Every rate is per period of an explicit ``time_unit``; the horizon has its own unit (converted only
where the ratio is exact: 12 months a year, 7 days a week); ``timing`` says whether each period's margin
arrives at its start or its end. All three are printed with the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

import numpy as np
import numpy.typing as npt

from . import _native
from ._results import (
    Interval,
    NativeResult,
    html_block,
    html_table,
    json_dict,
    level_text,
    num,
    require_pandas,
)
from .buy_till_you_die import BgNbdFit, CustomerClv, GammaGammaFit, clv_bgnbd
from .exceptions import InvalidArgumentError
from .retention import SameJson

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ClvResult", "SbgFit", "clv", "sbg"]

TimeUnit = Literal["day", "week", "month", "quarter", "year"]
Timing = Literal["start", "end"]


@dataclass(frozen=True, eq=False)
class SbgFit(SameJson, NativeResult):
    """A fitted shifted-beta-geometric model: churn probabilities Beta(alpha, beta) across customers.

    Attributes
    ----------
    alpha, beta : float
        The maximum-likelihood estimates.
    alpha_ci, beta_ci : Interval
        Wald intervals on the log scale from the observed information.
    alpha_std_error, beta_std_error : float
        Standard errors from the observed information.
    log_likelihood : float
        The maximised log-likelihood.
    converged : bool
        Whether the fit reached an interior maximum (a small gradient in (ln alpha, ln beta) where the
        observed information is positive definite and well conditioned); :attr:`message`,
        :attr:`iterations`, :attr:`gradient_norm` and :attr:`condition_number` say how (a fit that
        does not converge is reported, not raised).
    boundary : bool
        Whether the likelihood is highest at the edge of the parameter space (everyone churns in the
        first period; one churn probability fits as well as any mix): alpha and beta are then not
        identified, ``converged`` is False and the intervals and standard errors are NaN.
    """

    _native_type: ClassVar[Any] = _native.SbgFit
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> SbgFit:
        return cls(native)

    @property
    def alpha(self) -> float:
        return float(self._raw["alpha"])

    @property
    def beta(self) -> float:
        return float(self._raw["beta"])

    def _ci(self, key: str) -> Interval:
        c = self._raw[key]
        nan = math.nan
        low = nan if c["low"] is None else c["low"]
        high = nan if c["high"] is None else c["high"]
        return Interval(low, high, c["confidence_level"], "wald_log", c["clipped"])

    @property
    def alpha_ci(self) -> Interval:
        return self._ci("alpha_ci")

    @property
    def beta_ci(self) -> Interval:
        return self._ci("beta_ci")

    @property
    def alpha_std_error(self) -> float:
        v = self._raw["alpha_std_error"]
        return math.nan if v is None else float(v)

    @property
    def beta_std_error(self) -> float:
        v = self._raw["beta_std_error"]
        return math.nan if v is None else float(v)

    @property
    def log_likelihood(self) -> float:
        return float(self._raw["log_likelihood"])

    @property
    def converged(self) -> bool:
        return bool(self._raw["converged"])

    @property
    def message(self) -> str:
        return str(self._raw["message"])

    @property
    def boundary(self) -> bool:
        return bool(self._raw.get("boundary", False))

    @property
    def iterations(self) -> int:
        return int(self._raw["iterations"])

    @property
    def gradient_norm(self) -> float:
        return float(self._raw["gradient_norm"])

    @property
    def condition_number(self) -> float:
        v = self._raw["condition_number"]
        return math.inf if v is None else float(v)

    def survival(self, horizon: int) -> npt.NDArray[np.float64]:
        """S(0), ..., S(horizon): the share of a cohort still there after each period."""
        return np.asarray(self._native.survival_curve(horizon), dtype=np.float64)

    def retention(self, horizon: int) -> npt.NDArray[np.float64]:
        """r_1, ..., r_horizon: the retention rate of each period among those still there."""
        return np.asarray(self._native.retention_curve(horizon), dtype=np.float64)

    def forecast(self, horizon: int, customers: float | None = None) -> pd.DataFrame:
        """Periods 0..horizon with survival, retention and expected survivors of ``customers`` (default:
        the first fitted cohort's size)."""
        pd = require_pandas(None)

        n0 = self._raw["cohorts"][0]["survivors"][0] if customers is None else customers
        s = self.survival(horizon)
        r = np.concatenate([[math.nan], self.retention(horizon)])
        return pd.DataFrame(
            {"period": np.arange(horizon + 1), "survival": s, "retention": r, "survivors": n0 * s}
        )

    def to_dict(self) -> dict[str, Any]:
        """The core's fit as a JSON-safe dict (parameters, intervals, covariance, diagnostics)."""
        return json_dict(self._raw)

    def _headline(self) -> str:
        a, b = self.alpha_ci, self.beta_ci
        status = "converged" if self.converged else "NOT CONVERGED: " + self.message
        return (
            f"sBG alpha {num(self.alpha)} ({level_text(a.confidence_level)} CI {num(a.low)} to "
            f"{num(a.high)}), beta {num(self.beta)} ({num(b.low)} to {num(b.high)}); "
            f"log-likelihood {self.log_likelihood:.2f}; "
            f"{status}"
        )

    def __str__(self) -> str:
        return self._headline()

    def _repr_html_(self) -> str:
        rows = [
            ("alpha", num(self.alpha), num(self.alpha_std_error)),
            ("beta", num(self.beta), num(self.beta_std_error)),
            ("log-likelihood", f"{self.log_likelihood:.4f}", ""),
            ("iterations", str(self.iterations), ""),
            ("gradient norm", f"{self.gradient_norm:.2e}", ""),
            ("condition number", f"{self.condition_number:.3g}", ""),
        ]
        warnings = [] if self.converged else [self.message]
        table = html_table(None, rows, header=("", "estimate", "std. error"), warnings=warnings)
        return html_block(table, headline=self._headline())


def sbg(
    survivors: Sequence[float] | Sequence[Sequence[float]] | npt.ArrayLike,
    *,
    confidence_level: float = 0.95,
    max_iterations: int = 200,
) -> SbgFit:
    """Fit the shifted-beta-geometric model (Fader & Hardie 2007) by maximum likelihood.

    ``survivors``: one cohort's customers at the start and after each period (n0, n1, ..., nT, whole
    counts, never increasing), or a list of such cohorts observed for different lengths. A fractional
    count is refused (the intervals count customers). Data whose likelihood is highest at the edge of
    the parameter space are reported with ``converged=False`` and ``boundary=True``, without intervals.

    >>> import cx_metrics as cx
    >>> fit = cx.sbg([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(fit.alpha, 3), round(fit.beta, 3), fit.converged
    (0.704, 1.182, True)
    """
    seq: list[Any] = list(survivors)  # type: ignore[arg-type]
    if seq and all(np.ndim(c) == 0 for c in seq):
        cohorts = [[float(x) for x in seq]]
    else:
        cohorts = [[float(x) for x in np.asarray(c, dtype=np.float64).ravel()] for c in seq]
    return SbgFit(_native.sbg(cohorts, confidence_level=confidence_level, max_iterations=max_iterations))


@dataclass(frozen=True, eq=False)
class ClvResult(SameJson, NativeResult):
    """A lifetime value with everything it was computed with: :attr:`value`, :attr:`method`
    (``"simple"``, ``"gupta_lehmann"``, ``"sbg"``), the :attr:`time_unit` of every rate, the
    :attr:`horizon`, the discount :attr:`timing` and :attr:`multiple` (value per unit of margin)."""

    _native_type: ClassVar[Any] = _native.ClvResult
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> ClvResult:
        return cls(native)

    @property
    def value(self) -> float:
        return float(self._raw["value"])

    @property
    def method(self) -> str:
        return str(self._raw["method"])

    @property
    def time_unit(self) -> str:
        return str(self._raw["time_unit"])

    @property
    def horizon(self) -> int | None:
        """The horizon in periods of :attr:`time_unit` (None: infinite)."""
        h = self._raw["horizon_periods"]
        return None if h is None else int(h)

    @property
    def timing(self) -> str | None:
        t = self._raw["timing"]
        return None if t is None else str(t)

    @property
    def discount_rate(self) -> float:
        return float(self._raw["discount_rate"])

    @property
    def multiple(self) -> float:
        return float(self._raw["multiple"])

    @property
    def counted(self) -> str:
        """Which margins the value counts and how each is discounted, in words: Gupta-Lehmann with
        ``timing="start"`` counts the current period's margin; the sBG value is a residual lifetime
        that never does (see docs/clv.md)."""
        return str(self._raw.get("counted", ""))

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def __str__(self) -> str:
        return str(self._native.describe())

    def _repr_html_(self) -> str:
        rows = [
            ("value", f"{self.value:.2f}"),
            ("method", self.method),
            ("time unit of the rates", self.time_unit),
            ("horizon", "infinite" if self.horizon is None else f"{self.horizon} {self.time_unit}(s)"),
            (
                "margin arrives at",
                "undiscounted" if self.timing is None else f"the {self.timing} of a period",
            ),
            ("discount rate per period", num(self.discount_rate)),
            ("periods of margin (multiple)", num(self.multiple)),
            ("margins counted", self.counted),
        ]
        return html_block(html_table(None, rows), headline=str(self))


@overload
def clv(
    method: Literal["bgnbd"],
    *,
    time_unit: TimeUnit,
    margin: float,
    discount_rate: float,
    horizon: int,
    timing: Timing,
    fit: BgNbdFit,
    spend: GammaGammaFit,
    data: object = None,
    horizon_unit: TimeUnit | None = None,
    frequency: object = "frequency",
    recency: object = "recency",
    age: object = "T",
    monetary: object = "monetary",
    calibration_end: Any = None,
) -> CustomerClv: ...


@overload
def clv(
    method: Literal["simple", "gupta_lehmann", "sbg"],
    *,
    time_unit: TimeUnit,
    arpu: float | None = None,
    margin: float | None = None,
    churn: float | None = None,
    retention: float | None = None,
    discount_rate: float = 0.0,
    horizon: int | None = None,
    horizon_unit: TimeUnit | None = None,
    timing: Timing | None = None,
    acquisition_cost: float = 0.0,
    fit: SbgFit | None = None,
    renewals: int = 0,
) -> ClvResult: ...


def clv(
    method: Literal["simple", "gupta_lehmann", "sbg", "bgnbd"],
    *,
    time_unit: TimeUnit,
    arpu: float | None = None,
    margin: float | None = None,
    churn: float | None = None,
    retention: float | None = None,
    discount_rate: float = 0.0,
    horizon: int | None = None,
    horizon_unit: TimeUnit | None = None,
    timing: Timing | None = None,
    acquisition_cost: float = 0.0,
    fit: SbgFit | BgNbdFit | None = None,
    renewals: int = 0,
    spend: GammaGammaFit | None = None,
    data: object = None,
    frequency: object = "frequency",
    recency: object = "recency",
    age: object = "T",
    monetary: object = "monetary",
    calibration_end: Any = None,
) -> ClvResult | CustomerClv:
    """Customer lifetime value, with the units and timing explicit.

    - ``"simple"``: ``arpu * margin / churn`` (``margin`` a share; rates per ``time_unit``).
    - ``"gupta_lehmann"``: a constant ``margin`` (money per period) kept with probability ``retention``
      and discounted at ``discount_rate`` per period, to ``horizon`` (periods of ``horizon_unit``,
      default ``time_unit``; None: infinite); ``timing="end"``: m*r/(1+i-r) for an infinite horizon,
      ``"start"``: m*(1+i)/(1+i-r); minus ``acquisition_cost``.
    - ``"sbg"``: ``margin`` times the discounted expected residual lifetime of a customer of the sBG
      ``fit`` who has renewed ``renewals`` times (Fader & Hardie 2010's DERL with ``timing="start"``).

    ``timing="start"`` counts different margins for the two discounted methods: Gupta-Lehmann values a
    customer at the start of the current period and counts that period's (certain) margin; the sBG
    value is a residual lifetime taken just before the next renewal, which never counts the current
    period's margin and leaves the next renewal's undiscounted. On one survival curve ``"end"`` gives
    the same value v for both, and ``"start"`` gives ``margin + v`` (Gupta-Lehmann) and ``(1 + d) * v``
    (sBG). :attr:`ClvResult.counted` and the printout say which margins are counted.
    - ``"bgnbd"``: per customer of ``data`` (frequency, recency, T, monetary), ``margin`` (a share of
      spend) x Gamma-Gamma expected spend (``spend``) x BG/NBD expected purchases (``fit``) in each
      of ``horizon`` periods, discounted; returns a :class:`CustomerClv` (see :func:`clv_bgnbd`).
      ``data`` may be a :class:`~cx_metrics.CustomerSummary` with its ``calibration_end``.

    >>> import cx_metrics as cx
    >>> print(cx.clv("simple", arpu=50, margin=0.8, churn=0.02, time_unit="month"))
    CLV 2000.00 (simple; rates per month, discount 0, infinite horizon, undiscounted)
    >>> g = cx.clv("gupta_lehmann", margin=100, retention=0.8, discount_rate=0.1,
    ...            timing="end", time_unit="year")
    >>> round(g.value, 9)
    266.666666667
    """

    def need(name: str, value: Any) -> Any:
        if value is None:
            raise InvalidArgumentError(f"invalid {name}: the {method} CLV needs {name}=")
        return value

    # An argument the method does not use is an error, never silently ignored.
    given = {
        "arpu": arpu is not None,
        "churn": churn is not None,
        "retention": retention is not None,
        "discount_rate": discount_rate != 0.0,
        "horizon": horizon is not None,
        "horizon_unit": horizon_unit is not None,
        "timing": timing is not None,
        "acquisition_cost": acquisition_cost != 0.0,
        "fit": fit is not None,
        "renewals": renewals != 0,
        "spend": spend is not None,
        "data": data is not None,
        "calibration_end": calibration_end is not None,
    }
    uses = {
        "simple": {"arpu", "churn"},
        "gupta_lehmann": {
            "retention",
            "discount_rate",
            "horizon",
            "horizon_unit",
            "timing",
            "acquisition_cost",
        },
        "sbg": {"fit", "discount_rate", "renewals", "horizon", "horizon_unit", "timing"},
        "bgnbd": {
            "fit",
            "spend",
            "data",
            "discount_rate",
            "horizon",
            "horizon_unit",
            "timing",
            "calibration_end",
        },
    }
    if method in uses:
        unused = [name for name, was_given in given.items() if was_given and name not in uses[method]]
        if unused:
            raise InvalidArgumentError(
                f"invalid {unused[0]}: the {method} CLV does not use {', '.join(n + '=' for n in unused)}; "
                "leave it out (see the formulas in the docstring)"
            )

    if method == "simple":
        native = _native.clv_simple(
            arpu=float(need("arpu", arpu)),
            margin=float(need("margin", margin)),
            churn=float(need("churn", churn)),
            time_unit=time_unit,
        )
    elif method == "gupta_lehmann":
        native = _native.clv_gupta_lehmann(
            margin=float(need("margin", margin)),
            retention=float(need("retention", retention)),
            discount_rate=float(discount_rate),
            horizon_count=horizon,
            horizon_unit=horizon_unit,
            timing=need("timing", timing),
            time_unit=time_unit,
            acquisition_cost=float(acquisition_cost),
        )
    elif method == "bgnbd":
        b = need("fit", fit)
        if not isinstance(b, BgNbdFit):
            raise InvalidArgumentError("invalid fit: the bgnbd CLV needs a BgNbdFit (cx.bgnbd(...))")
        return clv_bgnbd(
            b,
            need("spend", spend),
            data,
            frequency=frequency,
            recency=recency,
            age=age,
            monetary=monetary,
            margin=float(need("margin", margin)),
            discount_rate=float(discount_rate),
            horizon=need("horizon", horizon),
            time_unit=time_unit,
            timing=need("timing", timing),
            horizon_unit=horizon_unit,
            calibration_end=calibration_end,
        )
    elif method == "sbg":
        f = need("fit", fit)
        if not isinstance(f, SbgFit):
            raise InvalidArgumentError("invalid fit: the sbg CLV needs an SbgFit (cx.sbg(...))")
        native = _native.clv_sbg(
            f._native,
            margin=float(need("margin", margin)),
            discount_rate=float(discount_rate),
            renewals=renewals,
            horizon_count=horizon,
            horizon_unit=horizon_unit,
            timing=need("timing", timing),
            time_unit=time_unit,
        )
    else:
        raise InvalidArgumentError(
            f'invalid method: {method!r}; use "simple", "gupta_lehmann", "sbg" or "bgnbd"'
        )
    return ClvResult(native)
