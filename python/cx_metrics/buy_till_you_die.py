"""Models of non-contractual customers ("buy till you die"), fitted in the Rust core
(``cx_metrics::buy_till_you_die``): the BG/NBD model of purchase counts (Fader, Hardie & Lee 2005,
"Counting your customers the easy way"), the Gamma-Gamma model of spend per purchase (Fader, Hardie &
Lee 2005, "RFM and CLV"), and the lifetime value of each customer from the two (also
``cx.clv("bgnbd", ...)``).

Times (recency, T, horizons of the predictions) are in the model's ``time_unit`` (days or weeks); the
lifetime value's discount rate is per period of its own ``time_unit`` and ``timing`` says whether each
period's margin arrives at its start or its end. All are printed with the results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from . import _native
from ._results import (
    FrameColumn,
    NativeResult,
    Tabular,
    html_block,
    html_table,
    json_dict,
    num,
    require_pandas,
)
from .exceptions import InvalidArgumentError
from .retention import SameJson

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BgNbdFit",
    "CustomerClv",
    "GammaGammaFit",
    "bgnbd",
    "cdnow_summary",
    "clv_bgnbd",
    "gamma_gamma",
    "rfm_summary",
]

TimeUnit = Literal["day", "week", "month", "quarter", "year"]
Timing = Literal["start", "end"]

# ----- BG/NBD and Gamma-Gamma -------------------------------------------------------------------------

ModelUnit = Literal["day", "week"]
_NS_PER = {"day": 86_400 * 10**9, "week": 7 * 86_400 * 10**9}


def _float_column(data: object, value: object, name: str) -> npt.NDArray[np.float64]:
    """A column (or the column ``value`` names in ``data``) as float64, missing values as NaN (the core
    names the row of any NaN)."""
    from ._table import Table, to_numeric

    if isinstance(value, str):
        if data is None:
            raise InvalidArgumentError(f"invalid {name}: {value!r} names a column, but no data= was given")
        raw: Any = Table(data)._raw(value)
    elif value is None:
        raise InvalidArgumentError(f"invalid {name}: give a column (or the name of one in data=)")
    else:
        raw = value
    if isinstance(raw, (int, float)):
        raw = [raw]
    arr = to_numeric(raw, name)
    if isinstance(arr, np.ma.MaskedArray):
        return np.ascontiguousarray(np.ma.filled(arr.astype(np.float64), np.nan))
    return np.ascontiguousarray(np.asarray(arr, dtype=np.float64).ravel())


def rfm_summary(summary: Any, calibration_end: Any, time_unit: ModelUnit = "week") -> pd.DataFrame:
    """Frequency (orders - 1), recency (first to last order), ``T`` (first order to
    ``calibration_end``) in ``time_unit`` units, ``monetary`` (mean value of the **repeat** orders, the
    first left out; 0 for a customer without repeats) and ``monetary_all`` (mean value of all the
    customer's orders) of every customer of a :class:`~cx_metrics.CustomerSummary`: the input of
    :func:`bgnbd`, :func:`gamma_gamma` and :func:`clv_bgnbd`.

    ``monetary`` is lifetimes' ``monetary_value`` (``summary_data_from_transaction_data``) and the
    Gamma-Gamma model's input (Fader, Hardie & Lee 2005): (total - the first order's value) /
    (orders - 1). Frequency counts every order but one as a repeat, so of several orders at a
    customer's first instant one is the first order and the others are repeats; which one is first the
    data do not say, so the first order's value is taken as the mean of the orders at the first instant
    (lifetimes instead merges all orders of a period into one purchase, which changes frequency too;
    with at most one order per customer per period the two agree). A summary stored in format version 1
    did not keep the first orders: its table has no ``monetary`` column (``monetary_all`` only) and
    :func:`gamma_gamma` refuses it; fold the orders again.

    The summary must hold only orders up to ``calibration_end`` (an error names the first customer with
    a later order); customers whose first order is at ``calibration_end`` itself are left out and
    counted in ``df.attrs["n_excluded"]``.

    >>> import cx_metrics as cx
    >>> s = cx.CustomerSummary()
    >>> days = ["2026-01-05", "2026-01-19", "2026-01-26", "2026-01-12"]
    >>> s.fold([1, 1, 1, 2], days, [10.0, 30.0, 20.0, 5.0])
    >>> rfm = cx.rfm_summary(s, "2026-02-02", "week")
    >>> rfm[["frequency", "recency", "T", "monetary", "monetary_all"]].values.tolist()
    [[2.0, 3.0, 4.0, 25.0, 20.0], [0.0, 0.0, 3.0, 0.0, 5.0]]
    """
    return _rfm_summary(summary, calibration_end, time_unit, require_monetary=False)


def _rfm_summary(
    summary: Any, calibration_end: Any, time_unit: str, *, require_monetary: bool
) -> pd.DataFrame:
    pd = require_pandas(None)

    from .retention import _instant

    if time_unit not in _NS_PER:
        raise InvalidArgumentError(f'invalid time_unit: {time_unit!r}; use "day" or "week"')
    end = int(_instant(calibration_end, "calibration_end").ns[0])
    ids, x, tx, t, m, m_all, excluded = _native.summary_rfm(
        summary._inner, end, _NS_PER[time_unit], require_monetary=require_monetary
    )
    columns: dict[str, Any] = {"customer_id": ids, "frequency": x, "recency": tx, "T": t}
    if m is not None:
        columns["monetary"] = m
    columns["monetary_all"] = m_all
    df = pd.DataFrame(columns)
    df.attrs["n_excluded"] = int(excluded)
    df.attrs["time_unit"] = time_unit
    return df


def _diag_rows(d: dict[str, Any]) -> list[tuple[str, str, str]]:
    cond = d["condition_number"]
    return [
        ("log-likelihood", f"{d['log_likelihood']:.4f}", ""),
        ("iterations", str(d["iterations"]), ""),
        ("gradient norm", f"{d['gradient_norm']:.2e}", ""),
        ("condition number", "inf" if cond is None else f"{cond:.3g}", ""),
    ]


class _Fit(SameJson, NativeResult):
    """Shared parts of the two model fits."""

    _native: Any
    _names: ClassVar[tuple[str, ...]]

    @property
    def params(self) -> dict[str, float]:
        """The maximum-likelihood estimates by name."""
        return {k: float(self._raw[k]) for k in self._names}

    @property
    def std_errors(self) -> dict[str, float]:
        """Standard errors from the observed information (NaN when it is not positive definite)."""
        return {
            k: math.nan if v is None else float(v)
            for k, v in zip(self._names, self._raw["std_errors"], strict=True)
        }

    @property
    def covariance(self) -> npt.NDArray[np.float64]:
        """The inverse observed information, in the order of :attr:`params`."""
        k = len(self._names)
        c = [math.nan if v is None else float(v) for v in self._raw["diagnostics"]["covariance"]]
        return np.asarray(c, dtype=np.float64).reshape(k, k)

    @property
    def log_likelihood(self) -> float:
        return float(self._raw["diagnostics"]["log_likelihood"])

    @property
    def converged(self) -> bool:
        return bool(self._raw["diagnostics"]["converged"])

    @property
    def message(self) -> str:
        return str(self._raw["diagnostics"]["message"])

    @property
    def iterations(self) -> int:
        return int(self._raw["diagnostics"]["iterations"])

    @property
    def gradient_norm(self) -> float:
        return float(self._raw["diagnostics"]["gradient_norm"])

    @property
    def condition_number(self) -> float:
        v = self._raw["diagnostics"]["condition_number"]
        return math.inf if v is None else float(v)

    def to_dict(self) -> dict[str, Any]:
        """The core's fit as a JSON-safe dict (parameters, standard errors, diagnostics; no data)."""
        return json_dict(self._raw)

    def __str__(self) -> str:
        return str(self._native.describe())

    def _repr_html_(self) -> str:
        se = self.std_errors
        rows = [(k, num(v), num(se[k])) for k, v in self.params.items()]
        rows += _diag_rows(self._raw["diagnostics"])
        warnings = [] if self.converged else [self.message]
        table = html_table(None, rows, header=("", "estimate", "std. error"), warnings=warnings)
        return html_block(table, headline=str(self))


@dataclass(frozen=True, eq=False)
class BgNbdFit(_Fit):
    """A fitted BG/NBD model (Fader, Hardie & Lee 2005): purchase rates Gamma(r, alpha) while alive,
    dropout after each purchase with probability Beta(a, b). Times (recency, T, horizons) are in
    :attr:`time_unit` units.

    :meth:`to_json` stores the parameters and diagnostics only (no customer data).
    """

    _native_type: ClassVar[Any] = _native.BgNbdFit
    _names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> BgNbdFit:
        return cls(native)

    @property
    def r(self) -> float:
        return float(self._raw["r"])

    @property
    def alpha(self) -> float:
        return float(self._raw["alpha"])

    @property
    def a(self) -> float:
        return float(self._raw["a"])

    @property
    def b(self) -> float:
        return float(self._raw["b"])

    @property
    def time_unit(self) -> str:
        return str(self._raw["time_unit"])

    @property
    def n_customers(self) -> int:
        return int(self._raw["n_customers"])

    @property
    def n_repeat(self) -> int:
        return int(self._raw["n_repeat"])

    def expected_purchases(self, t: float | npt.ArrayLike) -> npt.NDArray[np.float64]:
        """E[X(t)]: expected purchases of a customer just acquired in ``t`` time units (eq. 9)."""
        return np.asarray(self._native.expected_purchases(np.atleast_1d(np.asarray(t, dtype=np.float64))))

    def p_alive(
        self,
        frequency: object = "frequency",
        recency: object = "recency",
        age: object = "T",
        *,
        data: object = None,
    ) -> npt.NDArray[np.float64]:
        """P(alive | frequency, recency, T) of every customer (columns, or column names in ``data``)."""
        x, tx, t = (
            _float_column(data, v, n) for v, n in ((frequency, "frequency"), (recency, "recency"), (age, "T"))
        )
        return np.asarray(self._native.p_alive(x, tx, t))

    def conditional_expected_purchases(
        self,
        t: float,
        frequency: object = "frequency",
        recency: object = "recency",
        age: object = "T",
        *,
        data: object = None,
    ) -> npt.NDArray[np.float64]:
        """E[Y(t) | frequency, recency, T]: expected purchases of every customer in the next ``t`` time
        units (eq. 10)."""
        x, tx, tt = (
            _float_column(data, v, n) for v, n in ((frequency, "frequency"), (recency, "recency"), (age, "T"))
        )
        return np.asarray(self._native.conditional_expected_purchases(float(t), x, tx, tt))

    def predict(
        self,
        data: object,
        t: float,
        *,
        frequency: str = "frequency",
        recency: str = "recency",
        age: str = "T",
    ) -> pd.DataFrame:
        """A table of P(alive) and expected purchases in the next ``t`` time units for every row of
        ``data`` (pandas, polars or Arrow)."""
        pd = require_pandas(None)

        return pd.DataFrame(
            {
                "p_alive": self.p_alive(frequency, recency, age, data=data),
                f"expected_purchases_{t:g}": self.conditional_expected_purchases(
                    t, frequency, recency, age, data=data
                ),
            }
        )


@dataclass(frozen=True, eq=False)
class GammaGammaFit(_Fit):
    """A fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): spend per purchase
    Gamma(p, nu), nu ~ Gamma(q, gamma) across customers, independent of the purchase process
    (:attr:`frequency_spend_correlation` is the check of that: it should be near 0)."""

    _native_type: ClassVar[Any] = _native.GammaGammaFit
    _names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> GammaGammaFit:
        return cls(native)

    @property
    def p(self) -> float:
        return float(self._raw["p"])

    @property
    def q(self) -> float:
        return float(self._raw["q"])

    @property
    def gamma(self) -> float:
        return float(self._raw["gamma"])

    @property
    def n_customers(self) -> int:
        return int(self._raw["n_customers"])

    @property
    def n_excluded(self) -> int:
        """Customers left out for having no repeat purchase."""
        return int(self._raw["n_excluded"])

    @property
    def frequency_spend_correlation(self) -> float:
        v = self._raw["frequency_spend_correlation"]
        return math.nan if v is None else float(v)

    def __str__(self) -> str:
        status = "converged" if self.converged else "NOT CONVERGED: " + self.message
        return (
            f"Gamma-Gamma p {num(self.p)}, q {num(self.q)}, gamma {num(self.gamma)}; {self.n_customers} "
            f"customers ({self.n_excluded} without repeats left out); corr(frequency, spend) "
            f"{self.frequency_spend_correlation:.3f}; {status}"
        )

    def expected_spend(
        self, frequency: object = "frequency", monetary: object = "monetary", *, data: object = None
    ) -> npt.NDArray[np.float64]:
        """E[spend per purchase | frequency, mean spend] of every customer (the population mean
        p*gamma/(q-1) for frequency 0)."""
        x = _float_column(data, frequency, "frequency")
        m = _float_column(data, monetary, "monetary")
        return np.asarray(self._native.expected_spend(x, m))


def bgnbd(
    data: object = None,
    *,
    frequency: object = "frequency",
    recency: object = "recency",
    age: object = "T",
    time_unit: ModelUnit = "week",
    calibration_end: Any = None,
    max_iterations: int = 200,
    tolerance: float = 1e-10,
) -> BgNbdFit:
    """Fit the BG/NBD model by maximum likelihood (Newton's method on the log-parameters with the
    analytic gradient and Hessian, in Rust).

    ``data``: a table (pandas, polars, Arrow) with ``frequency`` (repeat purchases), ``recency`` (first
    to last purchase) and ``T`` (first purchase to the end of calibration) in ``time_unit`` units, or
    columns passed as ``frequency=``, ``recency=``, ``age=`` (each a column or the name of one); or a
    :class:`~cx_metrics.CustomerSummary` with ``calibration_end`` (see :func:`rfm_summary`). A fit
    that does not converge is reported (:attr:`BgNbdFit.converged`, :attr:`BgNbdFit.message`), not
    raised.

    >>> import cx_metrics as cx
    >>> from cx_metrics.buy_till_you_die import cdnow_summary
    >>> fit = cx.bgnbd(cdnow_summary())
    >>> [round(v, 3) for v in fit.params.values()]
    [0.243, 4.414, 0.793, 2.426]
    """
    from .retention import CustomerSummary

    if isinstance(data, CustomerSummary):
        if calibration_end is None:
            raise InvalidArgumentError("invalid calibration_end: a CustomerSummary needs calibration_end=")
        data = rfm_summary(data, calibration_end, time_unit)
    x = _float_column(data, frequency, "frequency")
    tx = _float_column(data, recency, "recency")
    t = _float_column(data, age, "T")
    native = _native.bgnbd(x, tx, t, time_unit=time_unit, max_iterations=max_iterations, tolerance=tolerance)
    return BgNbdFit(native)


def gamma_gamma(
    data: object = None,
    *,
    frequency: object = "frequency",
    monetary: object = "monetary",
    calibration_end: Any = None,
    max_iterations: int = 200,
    tolerance: float = 1e-10,
) -> GammaGammaFit:
    """Fit the Gamma-Gamma spend model to the mean spend (``monetary``) of customers' repeat purchases
    (the first purchase left out, as lifetimes' ``summary_data_from_transaction_data`` gives it);
    customers with frequency 0 are left out and counted (:attr:`GammaGammaFit.n_excluded`).

    ``data``: a table with ``frequency`` and ``monetary`` (the :func:`rfm_summary` table, or lifetimes'),
    or columns passed as ``frequency=``, ``monetary=``; or a :class:`~cx_metrics.CustomerSummary` (in
    memory, or merged by ``cxd``/``cxs.customer_summary``) with ``calibration_end``, read as
    :func:`rfm_summary` reads it (a summary stored in format version 1 is refused: it did not keep the
    first order's value; fold the orders again). The ``monetary_all`` column of :func:`rfm_summary`
    (the mean of all orders, the first included) is refused.

    >>> import cx_metrics as cx
    >>> from cx_metrics.buy_till_you_die import cdnow_summary
    >>> gg = cx.gamma_gamma(cdnow_summary())
    >>> round(gg.p, 2), round(gg.q, 2), round(gg.gamma, 2)
    (6.25, 3.74, 15.45)
    """
    from .retention import CustomerSummary

    if isinstance(data, CustomerSummary):
        if calibration_end is None:
            raise InvalidArgumentError("invalid calibration_end: a CustomerSummary needs calibration_end=")
        data = _rfm_summary(data, calibration_end, "week", require_monetary=True)
    columns = getattr(data, "columns", None)
    names = [] if columns is None else list(columns)
    defaulted = isinstance(monetary, str) and monetary == "monetary"
    if defaulted and "monetary" not in names and "monetary_all" in names:
        raise InvalidArgumentError(
            "invalid monetary: the data have monetary_all (the mean of all orders, first included, "
            "from rfm_summary), not the mean of the repeat purchases the Gamma-Gamma model needs; "
            "rfm_summary gives monetary too unless its summary was stored in format version 1 "
            "(fold the orders again), or give a repeat-purchase mean as monetary="
        )
    x = _float_column(data, frequency, "frequency")
    m = _float_column(data, monetary, "monetary")
    return GammaGammaFit(_native.gamma_gamma(x, m, max_iterations=max_iterations, tolerance=tolerance))


@dataclass(frozen=True, eq=False)
class CustomerClv(SameJson, Tabular, NativeResult):
    """Lifetime values of customers from BG/NBD x Gamma-Gamma with everything they were computed with:
    :attr:`values` per customer, the :attr:`margin` share, the discount rate per period of
    :attr:`time_unit`, the horizon and the discount :attr:`timing`."""

    _native_type: ClassVar[Any] = _native.CustomerClv
    _native: Any = field(repr=False)

    @classmethod
    def _from_native(cls, native: Any) -> CustomerClv:
        return cls(native)

    @property
    def values(self) -> npt.NDArray[np.float64]:
        return np.asarray(self._raw["values"], dtype=np.float64)

    @property
    def expected_purchases(self) -> npt.NDArray[np.float64]:
        return np.asarray(self._raw["expected_purchases"], dtype=np.float64)

    @property
    def expected_spend(self) -> npt.NDArray[np.float64]:
        return np.asarray(self._raw["expected_spend"], dtype=np.float64)

    @property
    def total(self) -> float:
        return float(self.values.sum())

    @property
    def method(self) -> str:
        return str(self._raw["method"])

    @property
    def margin(self) -> float:
        return float(self._raw["margin"])

    @property
    def discount_rate(self) -> float:
        return float(self._raw["discount_rate"])

    @property
    def time_unit(self) -> str:
        return str(self._raw["time_unit"])

    @property
    def horizon(self) -> int:
        """The horizon in periods of :attr:`time_unit`."""
        return int(self._raw["horizon_periods"])

    @property
    def timing(self) -> str:
        return str(self._raw["timing"])

    def _columns(self) -> list[FrameColumn]:
        """One row per customer: expected purchases over the horizon, expected spend, CLV."""
        return [
            ("expected_purchases", "float", list(self.expected_purchases)),
            ("expected_spend", "float", list(self.expected_spend)),
            ("clv", "float", list(self.values)),
        ]

    def to_dict(self) -> dict[str, Any]:
        return json_dict(self._raw)

    def __str__(self) -> str:
        n = len(self.values)
        return (
            f"CLV of {n} customers: total {self.total:.2f}, mean {self.total / max(n, 1):.2f}; margin "
            f"{num(self.margin)} of spend, discount {num(self.discount_rate)} per {self.time_unit}, "
            f"{self.horizon} {self.time_unit}(s), at the {self.timing}"
        )

    def _repr_html_(self) -> str:
        rows = [
            ("customers", str(len(self.values))),
            ("total", f"{self.total:.2f}"),
            ("method", self.method),
            ("margin (share of spend)", num(self.margin)),
            ("discount rate per period", f"{num(self.discount_rate)} per {self.time_unit}"),
            ("horizon", f"{self.horizon} {self.time_unit}(s)"),
            ("margin arrives at", f"the {self.timing} of a period"),
        ]
        return html_block(html_table(None, rows), headline=str(self))


def clv_bgnbd(
    fit: BgNbdFit,
    spend: GammaGammaFit,
    data: object = None,
    *,
    frequency: object = "frequency",
    recency: object = "recency",
    age: object = "T",
    monetary: object = "monetary",
    margin: float,
    discount_rate: float,
    horizon: int,
    time_unit: TimeUnit,
    timing: Timing,
    horizon_unit: TimeUnit | None = None,
    calibration_end: Any = None,
) -> CustomerClv:
    """Lifetime value of each customer: for periods k = 1..horizon of ``time_unit``, ``margin`` (a share
    of spend) x expected spend (Gamma-Gamma) x expected purchases in period k given the history
    (BG/NBD), discounted at ``discount_rate`` per period, margin arriving at the ``timing`` ("start" or
    "end") of each period. ``time_unit`` must be an exact number of the model's units (days or weeks
    for a model of days or weeks).

    >>> import cx_metrics as cx
    >>> from cx_metrics.buy_till_you_die import cdnow_summary
    >>> data = cdnow_summary()
    >>> fit, spend = cx.bgnbd(data), cx.gamma_gamma(data)
    >>> v = cx.clv_bgnbd(fit, spend, data, margin=0.3, discount_rate=0.002, horizon=52, time_unit="week",
    ...                  timing="end")
    >>> round(float(v.values[0]), 2) > 0, v.horizon, v.timing
    (True, 52, 'end')

    ``data`` may also be a :class:`~cx_metrics.CustomerSummary` with ``calibration_end``: its
    :func:`rfm_summary` in the BG/NBD fit's time unit, one value per customer of that table.
    """
    from .retention import CustomerSummary

    if isinstance(data, CustomerSummary):
        if calibration_end is None:
            raise InvalidArgumentError("invalid calibration_end: a CustomerSummary needs calibration_end=")
        data = _rfm_summary(data, calibration_end, fit.time_unit, require_monetary=True)
    native = _native.clv_bgnbd(
        fit._native,
        spend._native,
        _float_column(data, frequency, "frequency"),
        _float_column(data, recency, "recency"),
        _float_column(data, age, "T"),
        _float_column(data, monetary, "monetary"),
        margin=float(margin),
        discount_rate=float(discount_rate),
        horizon_count=horizon,
        horizon_unit=horizon_unit,
        timing=timing,
        time_unit=time_unit,
    )
    return CustomerClv(native)


def cdnow_summary() -> pd.DataFrame:
    """The CDNOW sample summary (Fader, Hardie & Lee 2005): 2,357 customers of the online music store
    CDNOW who made their first purchase in the first quarter of 1997, observed for 39 weeks
    (calibration to 1997-09-30). Columns ``customer_id``, ``frequency`` (repeat purchases),
    ``recency`` and ``T`` (weeks, two decimals) and ``monetary`` (mean value of the repeat purchases,
    0 without any). Bundled so that the examples and tests run offline; provenance in
    ``docs/datasets.md``."""
    import io
    from importlib import resources

    pd = require_pandas(None)

    raw = (resources.files("cx_metrics") / "data" / "cdnow_summary.csv").read_bytes()
    return pd.read_csv(io.BytesIO(raw))
