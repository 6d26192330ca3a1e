"""The Gamma-Gamma model from a mergeable CustomerSummary: rfm_summary's repeat-purchase mean
(``monetary``) against lifetimes' ``summary_data_from_transaction_data`` and the same computation written
in pandas; gamma_gamma, bgnbd and clv_bgnbd from an order log through the summary against the same fits
of the lifetimes-style table and the published CDNOW parameters (Fader, Hardie & Lee 2005); ties at the
first instant; summaries stored in format version 1; bad values."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.buy_till_you_die import cdnow_summary
from cx_metrics.exceptions import InvalidArgumentError, NonFiniteError

GOLDEN = Path(__file__).resolve().parents[2] / "crates" / "cx-metrics" / "tests" / "golden"
DAY = pd.Timedelta(days=1)
WEEK_NS = 7 * 86_400 * 10**9


def daily_orders(seed: int, n_customers: int = 300) -> tuple[pd.DataFrame, pd.Timestamp]:
    """An order log with at most one order per customer per day, every order at midnight: lifetimes'
    daily aggregation (freq="D") and the summary's order count then see the same purchases. The
    calibration ends the day after the last order (no customer's first order is on it). Values follow
    the Gamma-Gamma model (p = 6, q = 4, gamma = 15: each customer's rate nu ~ Gamma(q, gamma), each
    order's value ~ Gamma(p, nu)), rounded to cents."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-01")
    rows = []
    for c in range(n_customers):
        k = 1 + rng.poisson(1.5)
        days = np.sort(rng.choice(180, size=k, replace=False))
        nu = rng.gamma(4.0, 1.0 / 15.0)
        rows += [(c * 7 + 3, start + int(d) * DAY, round(float(rng.gamma(6.0, 1.0 / nu)), 2)) for d in days]
    orders = pd.DataFrame(rows, columns=["customer", "time", "value"])
    # Rows in no particular order: the summary does not need them sorted.
    return orders.sample(frac=1.0, random_state=seed).reset_index(drop=True), start + 181 * DAY


def pandas_reference(orders: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """lifetimes' summary_data_from_transaction_data (freq="D") written in pandas: frequency = orders
    - 1, recency and T in days, monetary = the mean of the orders after the first (0 without any)."""
    g = orders.sort_values(["customer", "time"]).groupby("customer")
    first, last = g.time.min(), g.time.max()
    return pd.DataFrame(
        {
            "frequency": (g.size() - 1).astype(float),
            "recency": (last - first) / DAY,
            "T": (end - first) / DAY,
            "monetary": g.value.apply(lambda v: v.iloc[1:].mean() if len(v) > 1 else 0.0),
            "monetary_all": g.value.mean(),
        }
    )


def summarise(orders: pd.DataFrame, parts: int = 1) -> cx.CustomerSummary:
    """The summary of the orders folded in `parts` row slices and merged."""
    bounds = np.linspace(0, len(orders), parts + 1).astype(int)
    states = []
    for lo, hi in itertools.pairwise(bounds):
        s = cx.CustomerSummary()
        part = orders.iloc[lo:hi]
        s.fold(part.customer.to_numpy(), part.time, part.value.to_numpy())
        states.append(s)
    return sum(states[1:], states[0])


def test_rfm_summary_matches_the_pandas_reference() -> None:
    orders, end = daily_orders(11)
    rfm = cx.rfm_summary(summarise(orders, parts=3), end, "day").set_index("customer_id")
    want = pandas_reference(orders, end)
    assert list(rfm.index) == list(want.index)
    assert (rfm.frequency == want.frequency).all()
    # Whole days of nanoseconds divide exactly; the means differ by the order of the sums: 1e-12.
    np.testing.assert_allclose(rfm[["recency", "T"]], want[["recency", "T"]], rtol=0, atol=0)
    np.testing.assert_allclose(rfm.monetary, want.monetary, rtol=1e-12)
    np.testing.assert_allclose(rfm.monetary_all, want.monetary_all, rtol=1e-12)
    assert (rfm.monetary[rfm.frequency == 0] == 0).all()
    assert rfm.attrs["n_excluded"] == 0


def test_rfm_summary_matches_lifetimes() -> None:
    """lifetimes 0.11.3 itself, with daily periods: at most one order per customer per day, so its
    aggregation of a day's orders into one purchase changes nothing (see daily_orders)."""
    utils = pytest.importorskip("lifetimes.utils")
    orders, end = daily_orders(12)
    theirs = utils.summary_data_from_transaction_data(
        orders,
        "customer",
        "time",
        monetary_value_col="value",
        observation_period_end=end - DAY,
        freq="D",
    )
    ours = cx.rfm_summary(summarise(orders, parts=4), end, "day").set_index("customer_id")
    assert list(ours.index) == list(theirs.index)
    # lifetimes counts T in whole periods to the last day it observes (end - 1 day, inclusive), so
    # its T is one day less than the time to `end`; frequency and recency are whole days in both.
    np.testing.assert_array_equal(ours.frequency, theirs.frequency)
    np.testing.assert_array_equal(ours.recency, theirs.recency)
    np.testing.assert_array_equal(ours["T"], theirs["T"] + 1)
    np.testing.assert_allclose(ours.monetary, theirs.monetary_value, rtol=1e-12)


def test_gamma_gamma_from_the_summary_equals_the_table_fit() -> None:
    orders, end = daily_orders(13, n_customers=1_500)
    summary = summarise(orders, parts=5)
    table = pandas_reference(orders, end).reset_index()
    from_summary = cx.gamma_gamma(summary, calibration_end=end)
    from_table = cx.gamma_gamma(table)
    assert from_summary.n_customers == from_table.n_customers
    assert from_summary.n_excluded == from_table.n_excluded == int((table.frequency == 0).sum())
    # The same data to 1e-12; the optimiser's tolerance 1e-10: 1e-9 on the parameters.
    assert from_summary.params == pytest.approx(from_table.params, rel=1e-9)
    # monetary_all (first order included) would fit another model: the summary does not use it.
    biased = cx.gamma_gamma(table, monetary="monetary_all")
    assert abs(biased.params["p"] - from_table.params["p"]) > 1e-3


def cdnow_orders() -> tuple[pd.DataFrame, pd.Timestamp]:
    """An order log whose summary is the bundled CDNOW summary: per customer, a first order T weeks
    before the calibration end (1997-09-30) of value monetary + 17 (so the mean of all orders differs
    from the repeat mean), then `frequency` orders of value `monetary` spread evenly to `recency`
    weeks after it (every CDNOW customer with repeats has recency > 0: no ties)."""
    cdnow = cdnow_summary()
    end = pd.Timestamp("1997-09-30")
    end_ns = end.value
    ids, times, values = [], [], []
    for c, x, tx, t, m in cdnow[["customer_id", "frequency", "recency", "T", "monetary"]].itertuples(
        index=False
    ):
        first = end_ns - round(t * WEEK_NS)
        ids.append(c)
        times.append(first)
        values.append(m + 17.0)
        for k in range(1, int(x) + 1):
            ids.append(c)
            times.append(first + round(tx * WEEK_NS * k / x))
            values.append(m)
    orders = pd.DataFrame({"customer": ids, "time": pd.to_datetime(times), "value": values})
    return orders.sample(frac=1.0, random_state=5).reset_index(drop=True), end


def test_cdnow_through_an_order_log_and_the_summary() -> None:
    orders, end = cdnow_orders()
    cdnow = cdnow_summary()
    summary = summarise(orders, parts=6)
    rfm = cx.rfm_summary(summary, end, "week")
    assert list(rfm.customer_id) == list(cdnow.customer_id)
    # Times round to whole nanoseconds, means carry the rounding of sums: 1e-12.
    np.testing.assert_allclose(
        rfm[["frequency", "recency", "T", "monetary"]],
        cdnow[["frequency", "recency", "T", "monetary"]],
        rtol=1e-12,
    )
    gg = cx.gamma_gamma(summary, calibration_end=end)
    assert gg.params == pytest.approx(cx.gamma_gamma(cdnow).params, rel=1e-9)
    # Fader, Hardie & Lee (2005, "RFM and CLV"): p = 6.25, q = 3.74, gamma = 15.44; the tolerance of
    # test_bgnbd.py (two published decimals; the bundled summary gives 15.448).
    assert gg.p == pytest.approx(6.25, abs=0.01)
    assert gg.q == pytest.approx(3.74, abs=0.01)
    assert gg.gamma == pytest.approx(15.44, rel=0.01)
    fit = cx.bgnbd(summary, calibration_end=end, time_unit="week")
    fit_table = cx.bgnbd(cdnow)
    assert fit.params == pytest.approx(fit_table.params, rel=1e-9)
    # Lifetime value from the order log end to end equals the value from the published table.
    kwargs = {"margin": 0.3, "discount_rate": 0.0015, "horizon": 52, "time_unit": "week", "timing": "end"}
    got = cx.clv_bgnbd(fit, gg, summary, calibration_end=end, **kwargs)  # type: ignore[arg-type]
    want = cx.clv_bgnbd(fit_table, cx.gamma_gamma(cdnow), cdnow, **kwargs)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.values, want.values, rtol=1e-8)
    assert got.total == pytest.approx(want.total, rel=1e-9)
    # The same through cx.clv("bgnbd", ...): the summary's calibration end is passed on.
    via = cx.clv("bgnbd", fit=fit, spend=gg, data=summary, calibration_end=end, **kwargs)  # type: ignore[arg-type]
    np.testing.assert_array_equal(via.values, got.values)


def test_ties_at_the_first_instant_take_the_mean_of_the_tied_orders() -> None:
    """Two orders at a customer's first instant: one is the first order, the other a repeat
    (frequency = orders - 1), and the first order's value is their mean. The reference: the repeat mean
    averaged over every choice of the first order among the tied ones, in pandas."""
    rng = np.random.default_rng(3)
    rows = []
    for c in range(200):
        t0 = int(rng.integers(0, 30))
        tied = 1 + int(rng.integers(0, 3))  # orders at the first instant
        later = int(rng.poisson(1.0))
        rows += [(c, t0, float(rng.integers(1, 100))) for _ in range(tied)]
        rows += [(c, t0 + 1 + int(rng.integers(0, 30)), float(rng.integers(1, 100))) for _ in range(later)]
    orders = pd.DataFrame(rows, columns=["customer", "day", "value"])
    orders["time"] = pd.Timestamp("2026-03-01") + pd.to_timedelta(orders.day, unit="D")
    orders = orders.sample(frac=1.0, random_state=2).reset_index(drop=True)
    end = pd.Timestamp("2026-03-01") + 70 * DAY

    def reference(v: pd.DataFrame) -> float:
        if len(v) == 1:
            return 0.0
        at_first = v.value[v.day == v.day.min()]
        # Each tied order as the first: the mean of the rest; then the mean over the choices.
        return float(np.mean([(v.value.sum() - f) / (len(v) - 1) for f in at_first]))

    want = orders.groupby("customer")[["day", "value"]].apply(reference)
    # Integer values: the sums are exact, so any split and merge order gives the same summary.
    one = summarise(orders)
    assert summarise(orders, parts=7) == one == summarise(orders.iloc[::-1], parts=3)
    rfm = cx.rfm_summary(one, end, "day").set_index("customer_id")
    np.testing.assert_allclose(rfm.monetary, want.loc[rfm.index], rtol=1e-12)
    frame = one.to_pandas().set_index("customer_id")
    g = orders.groupby("customer")
    first_orders = g.apply(lambda v: int((v.day == v.day.min()).sum()), include_groups=False)
    assert (frame.first_orders == first_orders).all()


def test_a_version_1_summary_is_read_without_monetary_and_refused_by_gamma_gamma() -> None:
    old = cx.CustomerSummary.from_bytes((GOLDEN / "customer_summary.v1.bin").read_bytes())
    assert old == cx.CustomerSummary.from_json((GOLDEN / "customer_summary.v1.json").read_text())
    frame = old.to_pandas()
    assert (frame.first_orders == 0).all() and frame.first_value.isna().all()
    rfm = cx.rfm_summary(old, "1970-01-02", "day")
    assert "monetary" not in rfm.columns and "monetary_all" in rfm.columns
    with pytest.raises(InvalidArgumentError, match=r"format version 1.*fold the orders into a new summary"):
        cx.gamma_gamma(old, calibration_end="1970-01-02")
    with pytest.raises(InvalidArgumentError, match="format version 1"):
        cx.gamma_gamma(rfm)
    # The same state written again (format version 2) keeps them unknown.
    again = cx.CustomerSummary.from_bytes(old.to_bytes())
    assert again == old and again.to_bytes()[6:8] == (2).to_bytes(2, "little")
    # The new golden file of the same sample has them.
    new = cx.CustomerSummary.from_bytes((GOLDEN / "customer_summary.v2.bin").read_bytes())
    assert (new.to_pandas().first_orders == 1).all()
    assert new.to_pandas()[["orders", "total"]].equals(frame[["orders", "total"]])


def test_bad_values_name_the_row_and_missing_ones_are_counted() -> None:
    s = cx.CustomerSummary()
    s.fold([1, 1, 2, 2], ["2026-01-01", "2026-01-02", None, "2026-01-03"], [5.0, np.nan, 3.0, 4.0])
    assert s.n_omitted == 2  # the missing value and the missing time
    assert s.to_pandas().orders.tolist() == [1, 1]
    with pytest.raises(NonFiniteError, match="position 1 is not finite"):
        s.fold([3, 3], ["2026-01-01", "2026-01-02"], [1.0, np.inf])
    assert s.to_pandas().orders.tolist() == [1, 1], "a failed fold changes nothing"
    with pytest.raises(InvalidArgumentError, match="calibration_end"):
        cx.gamma_gamma(s)
    with pytest.raises(InvalidArgumentError, match="calibration_end"):
        fit = cx.bgnbd(cdnow_summary())
        cx.clv_bgnbd(
            fit,
            cx.gamma_gamma(cdnow_summary()),
            s,
            margin=0.3,
            discount_rate=0.01,
            horizon=4,
            time_unit="week",
            timing="end",
        )
