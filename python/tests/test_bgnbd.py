"""BG/NBD, Gamma-Gamma and their lifetime value against independent references: the published CDNOW
fits (Fader, Hardie & Lee 2005), the same likelihoods written in numpy and maximised with
scipy.optimize.minimize, and the closed forms written with scipy.special.hyp2f1."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

import cx_metrics as cx
from cx_metrics.buy_till_you_die import cdnow_summary
from cx_metrics.exceptions import InvalidArgumentError


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return cdnow_summary()


@pytest.fixture(scope="module")
def fit(cdnow: pd.DataFrame) -> cx.BgNbdFit:
    return cx.bgnbd(cdnow)


@pytest.fixture(scope="module")
def gg(cdnow: pd.DataFrame) -> cx.GammaGammaFit:
    return cx.gamma_gamma(cdnow)


def bgnbd_ll(params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> float:
    """The BG/NBD log-likelihood (FHL 2005 eq. 6) in numpy, with scipy's ln Gamma and ln B."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + t)
    a4 = np.where(
        x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf
    )
    return float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def gg_ll(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    p, q, g = params
    px = p * x
    return float(
        np.sum(
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(g)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(g + x * m)
        )
    )


def test_cdnow_reproduces_the_published_parameters(cdnow: pd.DataFrame, fit: cx.BgNbdFit) -> None:
    assert len(cdnow) == 2357
    assert fit.converged, fit.message
    # Fader, Hardie & Lee (2005), three decimals: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426;
    # log-likelihood -9582.4. Tolerance: 1e-3 (published rounding plus the two-decimal summary).
    for got, want in zip(fit.params.values(), [0.243, 4.414, 0.793, 2.426], strict=True):
        assert got == pytest.approx(want, abs=1e-3)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert fit.n_customers == 2357 and fit.n_repeat == 946
    assert fit.time_unit == "week"


def test_bgnbd_matches_scipy_minimize(cdnow: pd.DataFrame, fit: cx.BgNbdFit) -> None:
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    res = minimize(
        lambda th: -bgnbd_ll(np.exp(th), x, tx, t),
        np.zeros(4),
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 10_000},
    )
    ref = np.exp(res.x)
    # Parameters to 1e-5 relative, log-likelihood to 1e-8 relative.
    np.testing.assert_allclose(list(fit.params.values()), ref, rtol=1e-5)
    assert fit.log_likelihood == pytest.approx(-res.fun, rel=1e-8)
    assert bgnbd_ll(np.array(list(fit.params.values())), x, tx, t) == pytest.approx(
        fit.log_likelihood, rel=1e-12
    )
    assert fit.gradient_norm < 1e-5
    assert 1 < fit.condition_number < 1e12


def test_standard_errors_from_a_numerical_hessian(cdnow: pd.DataFrame, fit: cx.BgNbdFit) -> None:
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    p = np.array(list(fit.params.values()))
    h = np.zeros((4, 4))
    eps = 1e-4 * p

    def at(i: int, j: int, di: float, dj: float) -> float:
        q = p.copy()
        q[i] += di * eps[i]
        q[j] += dj * eps[j]
        return bgnbd_ll(q, x, tx, t)

    for i in range(4):
        for j in range(4):
            h[i, j] = (at(i, j, 1, 1) - at(i, j, 1, -1) - at(i, j, -1, 1) + at(i, j, -1, -1)) / (
                4 * eps[i] * eps[j]
            )
    se = np.sqrt(np.diag(np.linalg.inv(-h)))
    # Central differences of the numpy likelihood: 1e-4 relative.
    np.testing.assert_allclose(list(fit.std_errors.values()), se, rtol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.covariance)), se, rtol=1e-4)


def test_predictions_match_closed_forms(cdnow: pd.DataFrame, fit: cx.BgNbdFit) -> None:
    r, alpha, a, b = fit.params.values()
    x, tx, t = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    # P(alive) (FHL 2005): 1 / (1 + [x > 0] a/(b + x - 1) ((alpha + T)/(alpha + t_x))^(r + x)).
    odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + t) / (alpha + tx)) ** (r + x), 0.0)
    p_alive = 1 / (1 + odds)
    np.testing.assert_allclose(fit.p_alive(data=cdnow), p_alive, rtol=1e-10)
    # E[X(t)] (eq. 9).
    times = np.array([0.5, 1.0, 39.0, 78.0, 520.0])
    z = times / (alpha + times)
    ex = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + times)) ** r * hyp2f1(r, b, a + b - 1, z))
    np.testing.assert_allclose(fit.expected_purchases(times), ex, rtol=1e-10)
    # E[Y(t) | x, t_x, T] (eq. 10).
    for h in (1.0, 39.0, 104.0):
        zz = h / (alpha + t + h)
        head = (
            (a + b + x - 1)
            / (a - 1)
            * (1 - ((alpha + t) / (alpha + t + h)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, zz))
        )
        np.testing.assert_allclose(
            fit.conditional_expected_purchases(h, data=cdnow), head * p_alive, rtol=1e-10
        )
    table = fit.predict(cdnow, 39.0)
    assert list(table.columns) == ["p_alive", "expected_purchases_39"]
    # The paper's 39-week holdout: the model's expected repeat purchases of the 2,357 customers.
    assert table["expected_purchases_39"].sum() == pytest.approx(
        fit.conditional_expected_purchases(39.0, data=cdnow).sum()
    )


def test_gamma_gamma_matches_published_and_scipy(cdnow: pd.DataFrame, gg: cx.GammaGammaFit) -> None:
    rep = cdnow[cdnow.frequency > 0]
    x, m = rep.frequency.to_numpy(float), rep.monetary.to_numpy(float)
    assert gg.converged, gg.message
    assert (gg.n_customers, gg.n_excluded) == (946, 1411)
    # Fader, Hardie & Lee (2005, "RFM and CLV"): p = 6.25, q = 3.74, gamma = 15.44 (two decimals; the
    # bundled summary gives 15.448, so 0.01 on p and q, 0.01 relative on gamma).
    assert gg.p == pytest.approx(6.25, abs=0.01)
    assert gg.q == pytest.approx(3.74, abs=0.01)
    assert gg.gamma == pytest.approx(15.44, rel=0.01)
    res = minimize(
        lambda th: -gg_ll(np.exp(th), x, m),
        np.log([1.0, 1.0, m.mean()]),
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 50_000, "maxfev": 100_000},
    )
    np.testing.assert_allclose(list(gg.params.values()), np.exp(res.x), rtol=1e-5)
    assert gg.log_likelihood == pytest.approx(-res.fun, rel=1e-8)
    # The independence check is the Pearson correlation of frequency and mean spend.
    assert gg.frequency_spend_correlation == pytest.approx(np.corrcoef(x, m)[0, 1], abs=1e-12)
    # E[M | x, m] = (p gamma + p x m) / (p x + q - 1); x = 0: p gamma / (q - 1).
    p, q, g = gg.params.values()
    want = np.where(
        cdnow.frequency > 0,
        (p * g + p * cdnow.frequency * cdnow.monetary) / (p * cdnow.frequency + q - 1),
        p * g / (q - 1),
    )
    np.testing.assert_allclose(gg.expected_spend(data=cdnow), want, rtol=1e-12)
    assert np.isfinite(list(gg.std_errors.values())).all()


def test_clv_against_a_direct_sum(cdnow: pd.DataFrame, fit: cx.BgNbdFit, gg: cx.GammaGammaFit) -> None:
    sample = cdnow.iloc[:200]
    res = cx.clv(
        "bgnbd",
        fit=fit,
        spend=gg,
        data=sample,
        margin=0.3,
        discount_rate=0.002,
        horizon=52,
        time_unit="week",
        timing="end",
    )
    assert isinstance(res, cx.CustomerClv)
    r, alpha, a, b = fit.params.values()
    x, tx, t = (sample[c].to_numpy(float) for c in ("frequency", "recency", "T"))

    def ey(h: float) -> np.ndarray:
        odds = np.where(
            x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + t) / (alpha + tx)) ** (r + x), 0.0
        )
        zz = h / (alpha + t + h)
        head = (
            (a + b + x - 1)
            / (a - 1)
            * (1 - ((alpha + t) / (alpha + t + h)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, zz))
        )
        return head / (1 + odds)

    spend = gg.expected_spend(data=sample)
    want = sum(0.3 * spend * (ey(k) - ey(k - 1)) / 1.002**k for k in range(1, 53))
    np.testing.assert_allclose(res.values, want, rtol=1e-10)
    np.testing.assert_allclose(res.expected_purchases, ey(52), rtol=1e-10)
    start = cx.clv_bgnbd(
        fit, gg, sample, margin=0.3, discount_rate=0.002, horizon=52, time_unit="week", timing="start"
    )
    np.testing.assert_allclose(start.values, res.values * 1.002, rtol=1e-12)
    text = str(res)
    assert "per week" in text and "52 week" in text and "at the end" in text
    assert res.to_pandas().shape == (200, 3)
    with pytest.raises(InvalidArgumentError, match="month"):
        cx.clv_bgnbd(
            fit, gg, sample, margin=0.3, discount_rate=0.01, horizon=12, time_unit="month", timing="end"
        )


@pytest.mark.parametrize(
    ("x", "tx", "t", "match"),
    [
        ([1, -1], [1, 0], [2, 2], "row 1"),
        ([1, 2], [1, 3], [2, 2], "row 1.*exceeds T"),
        ([1, 0], [1, 0.5], [2, 2], "row 1: frequency 0 with recency"),
        ([1, math.nan], [1, 0], [2, 2], "row 1"),
        ([1, 1], [1, 1], [2, math.inf], "row 1"),
        ([1.5, 1], [1, 1], [2, 2], "row 0.*whole number"),
    ],
)
def test_bad_rows_are_named(x: list[float], tx: list[float], t: list[float], match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        cx.bgnbd(frequency=np.array(x, float), recency=np.array(tx, float), age=np.array(t, float))


def test_bad_spend_is_named(cdnow: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgumentError, match="row 1: mean spend 0"):
        cx.gamma_gamma(frequency=np.array([2.0, 1.0, 3.0]), monetary=np.array([5.0, 0.0, 7.0]))


def test_storage_display_and_tables(cdnow: pd.DataFrame, fit: cx.BgNbdFit, gg: cx.GammaGammaFit) -> None:
    for f in (fit, gg):
        back = type(f).from_json(f.to_json())
        assert back == f and pickle.loads(pickle.dumps(f)) == f
        # Parameters, standard errors and diagnostics only: no customer rows.
        assert "frequency" not in f.to_dict() and "recency" not in f.to_dict()
        assert len(f.to_json()) < 2000
        assert "converged" in str(f) and "<table" in f._repr_html_() and repr(f).startswith(type(f).__name__)
        assert f.to_dict()["diagnostics"]["converged"] is True
    assert "corr(frequency, spend)" in str(gg)
    import polars as pl
    import pyarrow as pa

    again = cx.bgnbd(pl.from_pandas(cdnow))
    assert again.params == pytest.approx(fit.params, rel=1e-12)
    arrow = pa.Table.from_pandas(cdnow)
    assert cx.gamma_gamma(arrow).params == pytest.approx(gg.params, rel=1e-12)


def test_from_a_customer_summary() -> None:
    rng = np.random.default_rng(7)
    n = 400
    first = rng.integers(0, 60, n)
    rows = []
    for c in range(n):
        k = rng.poisson(2.0)
        times = np.sort(np.concatenate([[first[c]], rng.integers(first[c], 200, k)]))
        rows += [(c, int(d), float(rng.gamma(3.0, 10.0))) for d in times]
    orders = pd.DataFrame(rows, columns=["customer", "day", "value"])
    orders["time"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(orders.day, unit="D")
    summary = cx.CustomerSummary()
    summary.fold(orders.customer, orders.time, orders.value)
    end = pd.Timestamp("2026-01-01") + pd.Timedelta(days=210)
    rfm = cx.rfm_summary(summary, end, "week")
    g = orders.groupby("customer")
    want = pd.DataFrame(
        {
            "frequency": g.size() - 1,
            "recency": (g.day.max() - g.day.min()) / 7,
            "T": (210 - g.day.min()) / 7,
            "monetary_all": g.value.mean(),
        }
    )
    np.testing.assert_allclose(
        rfm[["frequency", "recency", "T", "monetary_all"]].to_numpy(), want.to_numpy(), rtol=1e-12
    )
    from_summary = cx.bgnbd(summary, calibration_end=end, time_unit="week")
    from_table = cx.bgnbd(want.reset_index())
    assert from_summary.params == pytest.approx(from_table.params, rel=1e-12)
    with pytest.raises(InvalidArgumentError, match="calibration end"):
        cx.rfm_summary(summary, pd.Timestamp("2026-02-01"), "week")


def test_the_mean_of_all_orders_is_not_fed_to_gamma_gamma() -> None:
    """lifetimes' summary_data_from_transaction_data, written in pandas: monetary is the mean of the
    repeat purchases (the first left out). rfm_summary gives it as monetary, and the mean of all orders
    as monetary_all, which gamma_gamma refuses as its default monetary, never fitting the biased mean
    silently."""
    orders = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 3, 3],
            "time": pd.to_datetime(
                ["2026-01-05", "2026-01-19", "2026-02-02", "2026-01-12", "2026-01-07", "2026-01-21"]
            ),
            "value": [10.0, 30.0, 20.0, 5.0, 8.0, 12.0],
        }
    )
    s = cx.CustomerSummary()
    s.fold(orders.customer, orders.time, orders.value)
    rfm = cx.rfm_summary(s, "2026-02-09", "week")
    g = orders.sort_values("time").groupby("customer")
    all_mean = g.value.mean()
    repeat_mean = g.value.apply(lambda v: v.iloc[1:].mean() if len(v) > 1 else 0.0)
    np.testing.assert_allclose(rfm["monetary_all"], all_mean.to_numpy(), rtol=1e-12)
    assert repeat_mean.tolist() == [25.0, 0.0, 12.0]  # what gamma_gamma expects, not [20, 5, 10]
    np.testing.assert_allclose(rfm["monetary"], repeat_mean.to_numpy(), rtol=1e-12)
    with pytest.raises(InvalidArgumentError, match="monetary_all"):
        cx.gamma_gamma(rfm.drop(columns="monetary"))
