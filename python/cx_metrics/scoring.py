"""Fitted models that score new respondents or customers: a small versioned JSON document (the
parameters of a fit, never its rows, never a pickle of code) and scoring in Rust.

- :class:`DriverModel` from :meth:`DriverAnalysis.model() <cx_metrics.DriverAnalysis.model>`: the
  predicted outcome (e.g. 0-10), clipped to the outcome's scale, and unclipped.
- :class:`LogisticModel` from :meth:`NpsDriverModel.model() <cx_metrics.NpsDriverModel.model>` (the
  promoter and detractor models): the probability of the category.
- :class:`RetentionModel` (from an sBG fit) and :class:`ClvModel` (from BG/NBD and Gamma-Gamma fits):
  retention curves, expected purchases, P(alive) and lifetime values, by the fits' own formulas.

``to_json()`` writes ``{"model": kind, "version": 1, ...}``; ``from_json()`` checks every field (kind,
version, size, finite coefficients, lengths) and raises
:class:`~cx_metrics.exceptions.InvalidStateError` for a bad document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from . import _native
from ._results import NativeResult
from ._table import Table

__all__ = [
    "ClvModel",
    "DriverModel",
    "DriverPrediction",
    "LogisticModel",
    "LogisticPrediction",
    "RetentionModel",
]

NanPolicy = Literal["omit", "raise"]
F64 = npt.NDArray[np.float64]


def _columns(data: object, names: tuple[str, ...], columns: Any) -> list[Any]:
    table = Table(data, columns)
    return [table.numeric_column(n) for n in names]


@dataclass(frozen=True, eq=False)
class DriverPrediction:
    """Predictions of a :class:`DriverModel`, one per row.

    Attributes
    ----------
    outcome : str
        The outcome predicted.
    predicted : numpy.ndarray
        The prediction clipped to the outcome's scale (NaN: a row omitted for a missing value).
    unclipped : numpy.ndarray
        ``intercept + sum(coefficient * value)``, not clipped (NaN: omitted).
    outcome_scale : (float, float) or None
        The scale the predictions were clipped to (None: not clipped).
    n_clipped : int
        Rows whose prediction was clipped to the scale.
    n_filled : int
        Rows with a missing driver filled as the analysis did (``missing="indicator"``).
    n_omitted : int
        Rows with a missing driver the model cannot fill (``nan_policy="omit"``): NaN predictions.
    """

    outcome: str
    predicted: F64
    unclipped: F64
    outcome_scale: tuple[float, float] | None
    n_clipped: int
    n_filled: int
    n_omitted: int

    def __str__(self) -> str:
        if self.outcome_scale is None:
            scale = "not clipped"
        else:
            scale = f"clipped to {self.outcome_scale[0]:g}..{self.outcome_scale[1]:g}"
        return (
            f"predicted {self.outcome} of {len(self.predicted)} rows ({scale}: {self.n_clipped} clipped; "
            f"{self.n_filled} with a missing driver filled; {self.n_omitted} omitted, NaN)"
        )


@dataclass(frozen=True)
class DriverModel(NativeResult):
    """A fitted driver model (OLS of the outcome on the drivers) that scores new rows.

    Built by :meth:`DriverAnalysis.model() <cx_metrics.DriverAnalysis.model>` from the analysis's
    coefficients (not refitted), with the outcome's scale, the drivers' declared scales and missing
    codes, and the missing-value policy (and fill values of ``missing="indicator"``) it ran with.

    Attributes
    ----------
    outcome : str
        The outcome (e.g. ``"ltr"``).
    drivers : tuple of str
        The drivers a row must give, in the analysis's order.
    intercept : float
        The intercept.
    coefficients : tuple of float
        The drivers' coefficients, in :attr:`drivers` order.
    outcome_scale : (float, float) or None
        The scale predictions are clipped to.
    scales : tuple of ((float, float) or None)
        Each driver's declared scale (a value off it raises
        :class:`~cx_metrics.exceptions.OutOfScaleError` naming the driver and the row).
    missing : str
        The analysis's missing-value policy.
    indicators : tuple of (str, str, float, float)
        ``(driver, indicator, coefficient, fill_value)`` of each driver filled by the indicator method.
    n : int
        Rows the model was fitted on.
    r_squared, sigma : float
        R² and the residual standard error of the fit.

    Examples
    --------
    >>> import numpy as np
    >>> import cx_metrics as cx
    >>> survey = cx.datasets.sample_survey()
    >>> model = cx.driver_analysis(survey, drivers=cx.PILLARS, scales=(1, 10)).model()
    >>> restored = cx.DriverModel.from_json(model.to_json())
    >>> restored == model
    True
    >>> p = restored.predict(survey)
    >>> p.n_omitted  # rows missing a pillar: NaN, counted (the model was fitted listwise)
    1071
    >>> scored = p.predicted[~np.isnan(p.predicted)]
    >>> bool(((scored >= 0) & (scored <= 10)).all()), p.n_clipped
    (True, 83)
    """

    outcome: str
    drivers: tuple[str, ...]
    intercept: float
    coefficients: tuple[float, ...]
    outcome_scale: tuple[float, float] | None
    scales: tuple[tuple[float, float] | None, ...]
    missing: str
    indicators: tuple[tuple[str, str, float, float], ...]
    n: int
    r_squared: float
    sigma: float
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.DriverModel
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> DriverModel:
        return cls(
            outcome=native.outcome,
            drivers=tuple(native.drivers),
            intercept=native.intercept,
            coefficients=tuple(native.coefficients),
            outcome_scale=native.outcome_scale,
            scales=tuple(native.scales),
            missing=native.missing,
            indicators=tuple(native.indicators),
            n=native.n,
            r_squared=native.r_squared,
            sigma=native.sigma,
            _native=native,
        )

    def predict(
        self, data: object, *, columns: Any = None, nan_policy: NanPolicy = "omit"
    ) -> DriverPrediction:
        """Score the rows of ``data`` (a pandas / polars / pyarrow table, a dict of columns, or a 2-D
        array with ``columns=``): each driver of the model must be a column; other columns are not
        read.

        A value off a driver's declared scale raises :class:`~cx_metrics.exceptions.OutOfScaleError`
        naming the driver and the row. A declared missing code or a missing value of a driver that
        the analysis filled by the indicator method is filled the same way; any other missing value
        gives a NaN prediction, counted in ``n_omitted`` (``nan_policy="omit"``), or raises
        :class:`~cx_metrics.exceptions.ColumnError` naming the driver and the row (``"raise"``).
        """
        cols = _columns(data, self.drivers, columns)
        predicted, unclipped, n_clipped, n_filled, n_omitted = self._native.predict(
            list(self.drivers), cols, nan_policy=nan_policy
        )
        return DriverPrediction(
            outcome=self.outcome,
            predicted=predicted,
            unclipped=unclipped,
            outcome_scale=self.outcome_scale,
            n_clipped=n_clipped,
            n_filled=n_filled,
            n_omitted=n_omitted,
        )

    def to_dict(self) -> dict[str, Any]:
        """The model's document as Python objects."""
        return dict(self._raw)

    def __str__(self) -> str:
        return repr(self._native)


@dataclass(frozen=True, eq=False)
class LogisticPrediction:
    """Probabilities of a :class:`LogisticModel`, one per row.

    Attributes
    ----------
    outcome : str
        The category scored (``"promoter"`` or ``"detractor"``).
    probability : numpy.ndarray
        The probability of the category (NaN: a row omitted for a missing value).
    n_omitted : int
        Rows with a missing driver (``nan_policy="omit"``).
    """

    outcome: str
    probability: F64
    n_omitted: int

    def __str__(self) -> str:
        return f"P({self.outcome}) of {len(self.probability)} rows ({self.n_omitted} omitted, NaN)"


@dataclass(frozen=True)
class LogisticModel(NativeResult):
    """A fitted promoter or detractor model that scores new rows with the probability of its
    category, ``1 / (1 + exp(-(intercept + sum(coefficient * value))))`` (computed without overflow).

    Built by :meth:`NpsDriverModel.model() <cx_metrics.NpsDriverModel.model>` (coefficients not
    refitted; a separated or unconverged fit is refused). Its inputs are the fit's terms: a model
    fitted with ``missing="indicator"`` takes each ``<driver>_missing`` indicator as a column too.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> survey = cx.datasets.sample_survey()
    >>> model = cx.promoter_drivers(survey, drivers=cx.PILLARS).model()
    >>> p = cx.LogisticModel.from_json(model.to_json()).predict_proba(survey.dropna().head(3))
    >>> p.outcome, p.n_omitted, bool(((p.probability > 0) & (p.probability < 1)).all())
    ('promoter', 0, True)
    """

    outcome: str
    drivers: tuple[str, ...]
    intercept: float
    coefficients: tuple[float, ...]
    n: int
    n_events: int
    _native_type: ClassVar[Any] = _native.LogisticModel
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> LogisticModel:
        return cls(
            outcome=native.outcome,
            drivers=tuple(native.drivers),
            intercept=native.intercept,
            coefficients=tuple(native.coefficients),
            n=native.n,
            n_events=native.n_events,
            _native=native,
        )

    def predict_proba(
        self, data: object, *, columns: Any = None, nan_policy: NanPolicy = "omit"
    ) -> LogisticPrediction:
        """The probability of the category for the rows of ``data`` (as :meth:`DriverModel.predict`):
        a missing value gives NaN, counted (``"omit"``), or raises (``"raise"``)."""
        cols = _columns(data, self.drivers, columns)
        probability, n_omitted = self._native.predict_proba(list(self.drivers), cols, nan_policy=nan_policy)
        return LogisticPrediction(outcome=self.outcome, probability=probability, n_omitted=n_omitted)

    def to_dict(self) -> dict[str, Any]:
        """The model's document as Python objects."""
        return dict(self._raw)

    def __str__(self) -> str:
        return repr(self._native)


def _native_of(fit: Any) -> Any:
    return getattr(fit, "_native", fit)


@dataclass(frozen=True)
class RetentionModel(NativeResult):
    """A fitted shifted beta-geometric retention model (alpha, beta): survival and retention curves and the
    sBG lifetime value, by the fit's own formulas.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> fit = cx.sbg([[1000, 631, 468, 382, 326, 289, 262, 241]])
    >>> model = cx.RetentionModel.from_fit(fit)
    >>> cx.RetentionModel.from_json(model.to_json()).survival_curve(3).round(3).tolist()
    [1.0, 0.627, 0.474, 0.388]
    """

    alpha: float
    beta: float
    n_customers: float
    _native_type: ClassVar[Any] = _native.RetentionModel
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> RetentionModel:
        return cls(alpha=native.alpha, beta=native.beta, n_customers=native.n_customers, _native=native)

    @classmethod
    def from_fit(cls, fit: Any) -> RetentionModel:
        """The model of a fitted sBG (the result of :func:`cx_metrics.sbg`)."""
        return cls._from_native(_native.RetentionModel.of_fit(_native_of(fit)))

    def survival_curve(self, horizon: int) -> F64:
        """S(0), ..., S(horizon): the share of a cohort still there after each period."""
        curve: F64 = self._native.survival_curve(horizon)
        return curve

    def retention_curve(self, horizon: int) -> F64:
        """r_1, ..., r_horizon: each period's retention rate among those still there."""
        curve: F64 = self._native.retention_curve(horizon)
        return curve

    def clv(
        self,
        margin: float,
        discount_rate: float,
        *,
        time_unit: str,
        renewals: int = 0,
        horizon: int | None = None,
        timing: Literal["start", "end"] = "start",
    ) -> float:
        """The sBG lifetime value of a customer who has renewed ``renewals`` times: ``margin`` per
        period (a period is one ``time_unit``) over the discounted expected residual lifetime, to
        ``horizon`` periods (None: for ever, which needs ``discount_rate > 0``), the margin at the
        ``timing`` of each period. The same figure as ``cx.clv("sbg", ...).value``."""
        value, _ = self._native.clv(
            float(margin),
            float(discount_rate),
            renewals=int(renewals),
            horizon=None if horizon is None else int(horizon),
            timing=timing,
            time_unit=time_unit,
        )
        return float(value)

    def __str__(self) -> str:
        return repr(self._native)


@dataclass(frozen=True)
class ClvModel(NativeResult):
    """A fitted BG/NBD purchase model with, optionally, a Gamma-Gamma spend model: P(alive), expected
    purchases and spend, and the lifetime value of each customer, by the fits' own formulas.

    Times (recency, T, horizons) are in the model's :attr:`time_unit`.
    """

    bgnbd: tuple[float, float, float, float]
    gamma_gamma: tuple[float, float, float] | None
    time_unit: str
    n_customers: int
    _native_type: ClassVar[Any] = _native.ClvModel
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> ClvModel:
        return cls(
            bgnbd=native.bgnbd,
            gamma_gamma=native.gamma_gamma,
            time_unit=native.time_unit,
            n_customers=native.n_customers,
            _native=native,
        )

    @classmethod
    def from_fits(cls, purchases: Any, spend: Any = None) -> ClvModel:
        """The model of a BG/NBD fit (:func:`cx_metrics.bgnbd`) and optionally a Gamma-Gamma fit
        (:func:`cx_metrics.gamma_gamma`)."""
        native_spend = None if spend is None else _native_of(spend)
        return cls._from_native(_native.ClvModel.of_fits(_native_of(purchases), native_spend))

    def p_alive(self, frequency: Any, recency: Any, t: Any) -> F64:
        """P(alive) of each customer (frequency = repeat purchases, recency and T in time units)."""
        out: F64 = self._native.p_alive(_floats(frequency), _floats(recency), _floats(t))
        return out

    def expected_purchases(self, horizon: float, frequency: Any, recency: Any, t: Any) -> F64:
        """E[purchases in the next ``horizon`` time units | history] of each customer."""
        out: F64 = self._native.conditional_expected_purchases(
            float(horizon), _floats(frequency), _floats(recency), _floats(t)
        )
        return out

    def expected_spend(self, frequency: Any, mean_spend: Any) -> F64:
        """E[spend per purchase | repeat purchases, their mean spend] of each customer (needs the
        Gamma-Gamma model)."""
        out: F64 = self._native.expected_spend(_floats(frequency), _floats(mean_spend))
        return out

    def clv(
        self,
        frequency: Any,
        recency: Any,
        t: Any,
        mean_spend: Any,
        *,
        margin: float,
        discount_rate: float,
        horizon: int,
        timing: Literal["start", "end"] = "end",
        time_unit: str | None = None,
    ) -> F64:
        """The discounted lifetime value of each customer over ``horizon`` periods of ``time_unit``
        (default the model's): ``margin`` (a share of spend) times the expected spend times the
        expected purchases of each period, discounted by ``discount_rate`` per period, with the
        margin at the ``timing`` of each period."""
        out: F64 = self._native.clv(
            _floats(frequency),
            _floats(recency),
            _floats(t),
            _floats(mean_spend),
            margin=float(margin),
            discount_rate=float(discount_rate),
            horizon=int(horizon),
            timing=timing,
            time_unit=self.time_unit if time_unit is None else time_unit,
        )
        return out

    def __str__(self) -> str:
        return repr(self._native)


def _floats(values: Any) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64)]
