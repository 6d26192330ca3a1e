"""Churn, cohort retention tables, repeat purchases, the sBG model and lifetime value against
independent references.

Tolerances: the closed forms of ``operations_vectors.json`` 1e-12 relative (its README); counts and
tables exactly (against pandas); Wilson intervals against statsmodels 1e-12; the sBG fit against the
reference 1e-7 relative (alpha, beta), 1e-10 (log-likelihood) and against ``scipy.optimize.minimize`` of the
same likelihood (Nelder-Mead on the log parameters, xatol 1e-12) 1e-5 relative; the sBG CLV
against Fader & Hardie's closed form with ``scipy.special.hyp2f1`` 1e-10 relative; sBG fits at
the edge of the parameter space against their supremum (closed form) 1e-6 absolute and against
where ``scipy.optimize.minimize`` goes; the CLV timings against brute-force sums over 2,000 periods
1e-6 relative; ``as_of`` against the table of the events up to it and pandas counts, exactly.
"""

from __future__ import annotations

import datetime
import itertools
import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import load_vectors
from scipy import optimize, special
from statsmodels.stats.proportion import proportion_confint

import cx_metrics as cx
from cx_metrics.exceptions import InvalidArgumentError, InvalidStateError

CLOSED = 1e-12


@pytest.fixture(scope="module")
def ops() -> dict[str, Any]:
    return load_vectors("operations_vectors.json")


# ----- reference vectors ----------------------------------------------------------------------------


def test_churn_conversion_of_the_reference(ops: dict[str, Any]) -> None:
    for monthly, annual in ops["churn_monthly_to_annual"].items():
        assert cx.convert_churn(float(monthly)) == pytest.approx(annual, rel=CLOSED)
    for annual, monthly in ops["churn_annual_to_monthly"].items():
        assert cx.convert_churn(float(annual), 12, 1) == pytest.approx(monthly, rel=CLOSED)
    r = cx.churn(customers_start=100, lost=3)
    assert r.churn_over(12) == pytest.approx(ops["churn_monthly_to_annual"]["0.03"], rel=CLOSED)


def test_retention_shortcut_of_the_reference(ops: dict[str, Any]) -> None:
    v = ops["retention_shortcut"]
    lost = v["start"] + v["new"] - v["end"]
    r = cx.churn(customers_start=v["start"], lost=lost, new=v["new"])
    assert r.customers_end == v["end"]
    assert r.retention_shortcut == pytest.approx(v["retention"], rel=CLOSED)
    assert r.retention == pytest.approx(v["retention"], rel=CLOSED)


def test_repeat_rate_of_the_reference(ops: dict[str, Any]) -> None:
    v = ops["repeat_rate"]
    ids, times = [], []
    for c in range(v["accounts"]):
        k = 1 if c < v["once"] else (2 if c < v["once"] + v["twice_plus"] else 0)
        ids += [c] * k
        times += [datetime.datetime(2026, 3, 2 + j) for j in range(k)]
    r = cx.repeat_rate(customer_id=ids, time=times, window=("2026-03-01", "2026-04-01"))
    assert (r.customers, r.once, r.repeat) == (v["once"] + v["twice_plus"], v["once"], v["twice_plus"])
    assert r.rate == pytest.approx(v["rate"], rel=CLOSED)
    low, high = proportion_confint(r.repeat, r.customers, method="wilson")
    assert (r.rate_ci.low, r.rate_ci.high) == pytest.approx((low, high), rel=CLOSED)


def test_clv_of_the_reference(ops: dict[str, Any]) -> None:
    s = ops["clv"]["simple"]
    c = cx.clv("simple", arpu=s["arpu"], margin=s["margin"], churn=s["churn"], time_unit="month")
    assert c.value == pytest.approx(s["clv"], rel=CLOSED)
    g = ops["clv"]["gupta_lehmann"]
    args = {
        "margin": g["margin"],
        "retention": g["retention"],
        "discount_rate": g["discount"],
        "time_unit": "year",
    }
    assert cx.clv("gupta_lehmann", timing="end", **args).value == pytest.approx(g["infinite_end"], rel=CLOSED)
    assert cx.clv("gupta_lehmann", timing="start", **args).value == pytest.approx(
        g["infinite_start"], rel=CLOSED
    )
    ten = cx.clv("gupta_lehmann", timing="end", horizon=10, **args)
    assert ten.value == pytest.approx(g["finite_T10"], rel=CLOSED)
    # 120 months of monthly rates over a horizon given in years.
    monthly = cx.clv(
        "gupta_lehmann",
        margin=10,
        retention=0.98,
        discount_rate=0.01,
        timing="end",
        time_unit="month",
        horizon=10,
        horizon_unit="year",
    )
    q = 0.98 / 1.01
    assert monthly.horizon == 120
    assert monthly.value == pytest.approx(sum(10 * q**t for t in range(1, 121)), rel=CLOSED)
    assert "rates per month" in str(monthly) and "margin at the end" in str(monthly)
    with pytest.raises(InvalidArgumentError, match="not a whole number"):
        cx.clv("gupta_lehmann", timing="end", horizon=3, horizon_unit="week", **args)


# ----- sBG ------------------------------------------------------------------------------------------


def _sbg_loglik(params: np.ndarray, cohorts: list[list[float]]) -> float:
    a, b = np.exp(params)
    ll = 0.0
    for s in cohorts:
        s_arr = np.asarray(s)
        t = np.arange(1, len(s))
        lnb = special.betaln(a, b)
        ll += float(np.sum((s_arr[:-1] - s_arr[1:]) * (special.betaln(a + 1, b + t - 1) - lnb)))
        ll += float(s_arr[-1] * (special.betaln(a, b + len(s) - 1) - lnb))
    return -ll


def test_sbg_reproduces_the_reference_and_scipy(ops: dict[str, Any]) -> None:
    v = ops["sbg_regular"]
    fit = cx.sbg(v["survivors"])
    assert fit.converged, fit.message
    assert fit.alpha == pytest.approx(v["alpha"], rel=1e-7)
    assert fit.beta == pytest.approx(v["beta"], rel=1e-7)
    assert fit.log_likelihood == pytest.approx(v["loglik"], rel=1e-10)
    assert 1000 * fit.survival(12)[12] == pytest.approx(v["forecast_S12_x1000"], rel=1e-6)
    # Several cohorts observed for different lengths, against scipy on the same likelihood.
    cohorts = [v["survivors"], [500, 340, 260, 210], [800, 560]]
    ours = cx.sbg(cohorts)
    ref = optimize.minimize(
        _sbg_loglik,
        x0=[0.0, 0.0],
        args=(cohorts,),
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 10_000},
    )
    assert ours.converged and ref.success, ref.message
    assert (ours.alpha, ours.beta) == pytest.approx(tuple(np.exp(ref.x)), rel=1e-5)
    assert ours.log_likelihood == pytest.approx(-ref.fun, rel=1e-10)
    assert ours.gradient_norm < 1e-6 and math.isfinite(ours.condition_number) and ours.iterations > 0
    assert ours.alpha_ci.low < ours.alpha < ours.alpha_ci.high
    f = ours.forecast(12)
    assert f["survivors"].iloc[0] == 1000 and f["retention"].iloc[1] == pytest.approx(ours.retention(1)[0])
    assert pickle.loads(pickle.dumps(ours)).alpha == ours.alpha
    assert "converged" in str(ours) and "<table>" in ours._repr_html_()


def test_sbg_clv_is_the_discounted_expected_residual_lifetime() -> None:
    fit = cx.sbg([1000, 631, 468, 382, 326, 289, 262, 241])
    a, b, d = fit.alpha, fit.beta, 0.1
    for n in (1, 5):
        derl = (b + n - 1) / (a + b + n - 1) * special.hyp2f1(1, b + n, a + b + n, 1 / (1 + d))
        r = cx.clv(
            "sbg", fit=fit, margin=100, discount_rate=d, renewals=n - 1, timing="start", time_unit="year"
        )
        assert r.value == pytest.approx(100 * derl, rel=1e-10)
        end = cx.clv(
            "sbg", fit=fit, margin=100, discount_rate=d, renewals=n - 1, timing="end", time_unit="year"
        )
        assert end.value == pytest.approx(100 * derl / (1 + d), rel=1e-10)
    with pytest.raises(InvalidArgumentError, match="infinite horizon needs a discount rate"):
        cx.clv("sbg", fit=fit, margin=1, timing="end", time_unit="year")
    # An argument the method does not use was silently ignored (arpu= with the sBG, whose margin is
    # money per period); it is an error naming it.
    with pytest.raises(InvalidArgumentError, match="the sbg CLV does not use arpu="):
        cx.clv("sbg", fit=fit, arpu=50, margin=30, discount_rate=d, timing="end", time_unit="year")
    with pytest.raises(InvalidArgumentError, match="the simple CLV does not use discount_rate="):
        cx.clv("simple", arpu=50, margin=0.8, churn=0.02, discount_rate=0.01, time_unit="month")


def test_sbg_bad_input_and_diagnostics() -> None:
    with pytest.raises(InvalidArgumentError, match="increase from 80 at period 1 to 90 at period 2"):
        cx.sbg([100, 80, 90])
    stuck = cx.sbg([100, 100, 100])
    assert not stuck.converged and stuck.message
    assert "NOT CONVERGED" in str(stuck)


# ----- churn from customer tables -------------------------------------------------------------------


def _customers() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 500
    start = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    length = pd.to_timedelta(rng.integers(1, 400, n), unit="D")
    end = (start + length).where(rng.random(n) < 0.6)
    return pd.DataFrame(
        {"id": np.arange(n), "start": start, "end": end, "plan": rng.choice(["basic", "pro"], n)}
    )


def test_churn_of_a_customer_table_against_pandas() -> None:
    df = _customers()
    p0, p1 = pd.Timestamp("2025-09-01"), pd.Timestamp("2025-10-01")
    r = cx.churn(
        df, start="start", end="end", period_start="2025-09-01", period_end="2025-10-01", customer_id="id"
    )
    assert isinstance(r, cx.ChurnResult)
    ended = lambda t: df["end"].notna() & (df["end"] <= t)  # noqa: E731
    at_start = (df["start"] <= p0) & ~ended(p0)
    lost = at_start & ended(p1)
    new = (df["start"] > p0) & (df["start"] <= p1)
    assert (r.customers_start, r.lost, r.new, r.new_lost) == (
        at_start.sum(),
        lost.sum(),
        new.sum(),
        (new & ended(p1)).sum(),
    )
    assert r.churn == pytest.approx(lost.sum() / at_start.sum(), rel=CLOSED)
    low, high = proportion_confint(lost.sum(), at_start.sum(), method="wilson")
    assert r.churn_ci is not None and (r.churn_ci.low, r.churn_ci.high) == pytest.approx(
        (low, high), rel=CLOSED
    )
    avg = cx.churn(df, start="start", end="end", period_start=p0, period_end=p1, denominator="average")
    assert isinstance(avg, cx.ChurnResult) and avg.churn_ci is None
    assert avg.churn == pytest.approx(lost.sum() / ((r.customers_start + r.customers_end) / 2), rel=CLOSED)
    # by= through the grouping engine equals the rows of each group.
    by = cx.churn(df, start="start", end="end", period_start=p0, period_end=p1, by="plan")
    assert isinstance(by, cx.ChurnByGroup)
    table = by.to_pandas()
    assert list(table["plan"]) == ["basic", "pro"]
    for plan in ("basic", "pro"):
        one = cx.churn(df[df["plan"] == plan], start="start", end="end", period_start=p0, period_end=p1)
        assert isinstance(one, cx.ChurnResult)
        assert by[plan] is not None and by[plan].churn == pytest.approx(one.churn, rel=CLOSED)
    assert isinstance(by.to_polars(), pl.DataFrame) and "basic" in str(by)
    assert pickle.loads(pickle.dumps(r)).churn == r.churn and r.to_dict()["period"] == [
        "2025-09-01",
        "2025-10-01",
    ]


def test_churn_bad_input_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match="row 1 ends"):
        cx.churn(
            start=["2025-01-01", "2025-05-01"],
            end=[None, "2025-04-01"],
            period_start="2025-01-01",
            period_end="2025-06-01",
        )
    with pytest.raises(InvalidArgumentError, match="row 2 repeats the id at row 0"):
        cx.churn(
            start=["2025-01-01"] * 3,
            end=[None] * 3,
            customer_id=[5, 6, 5],
            period_start="2025-02-01",
            period_end="2025-03-01",
        )
    with pytest.raises(InvalidArgumentError, match="no customers at the start"):
        cx.churn(start=["2025-05-01"], end=[None], period_start="2025-01-01", period_end="2025-02-01")
    utc = datetime.UTC
    with pytest.raises(InvalidArgumentError, match="row 1 is time-zone-aware but row 0 is naive"):
        cx.churn(
            start=[datetime.datetime(2025, 1, 1), datetime.datetime(2025, 1, 2, tzinfo=utc)],
            end=[None, None],
            period_start="2025-02-01",
            period_end="2025-03-01",
        )
    aware = pd.Series(pd.to_datetime(["2025-01-01", "2025-01-02"]).tz_localize("Europe/Paris"))
    with pytest.raises(InvalidArgumentError, match="naive"):
        cx.churn(start=aware, end=[None, None], period_start="2025-02-01", period_end="2025-03-01")
    with pytest.raises(InvalidArgumentError, match="lost"):
        cx.churn(customers_start=10, lost=11)


# ----- cohort retention tables ----------------------------------------------------------------------


def _orders(n: int = 20_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, 2_000, n)
    # Customers start at different times and buy for a while.
    first = pd.Timestamp("2025-01-01") + pd.to_timedelta((customers * 7919) % 300, unit="D")
    when = first + pd.to_timedelta(rng.exponential(90, n).astype(int), unit="D")
    return pd.DataFrame({"customer": customers, "time": when})


def _pandas_cohorts(df: pd.DataFrame, unbounded: bool) -> pd.DataFrame:
    """The pandas idiom: first-purchase month per customer, then a pivot of distinct active customers."""
    month = df["time"].dt.to_period("M")
    cohort = month.groupby(df["customer"]).transform("min")
    offset = (month - cohort).apply(lambda d: d.n)
    if unbounded:
        last = offset.groupby(df["customer"]).transform("max")
        frame = pd.DataFrame({"customer": df["customer"], "cohort": cohort, "last": last}).drop_duplicates(
            "customer"
        )
        k = int(offset.max()) + 1
        rows = {j: (frame["last"] >= j).groupby(frame["cohort"]).sum() for j in range(k)}
        return pd.DataFrame(rows).astype(float)
    active = pd.DataFrame({"customer": df["customer"], "cohort": cohort, "offset": offset})
    return active.pivot_table(index="cohort", columns="offset", values="customer", aggfunc="nunique").fillna(
        0
    )


@pytest.mark.parametrize("definition", ["return_on", "return_on_or_after"])
def test_retention_table_equals_the_pandas_idiom(definition: str) -> None:
    df = _orders()
    t = cx.retention_table(df, customer_id="customer", time="time", definition=definition)  # type: ignore[arg-type]
    ref = _pandas_cohorts(df, definition == "return_on_or_after")
    months = df["time"].dt.to_period("M")
    first = months.groupby(df["customer"]).transform("min")
    sizes = df.groupby(first)["customer"].nunique()
    last = months.max()
    cohorts = [pd.Period(str(c), "M") for c in t.cohorts]
    assert t.sizes == [int(sizes.get(c, 0)) for c in cohorts]
    for i, c in enumerate(cohorts):
        for j in range(t.n_periods):
            got = t.counts[i, j]
            if c + j > last:
                assert math.isnan(got), (c, j)  # not observed yet: blank, never 0
            else:
                want = float(ref.loc[c].get(j, 0.0)) if c in ref.index else 0.0
                assert got == want, (c, j)
    # A young cohort has NaN (not observed), never 0, past the last month.
    assert math.isnan(t.rates[-1, -1]) and t.incomplete[0, t.n_periods - 1]
    frame = t.pivot()
    assert list(frame.columns[:2]) == ["size", 0] and frame.index.name == "cohort"
    assert len(t.to_pandas()) == len(t.sizes) * t.n_periods
    assert set(t.to_polars().columns) >= {"cohort", "period", "rate", "observed", "incomplete"}


def test_retention_table_inputs_merge_and_censoring() -> None:
    df = _orders(5_000)
    whole = cx.retention_table(df, customer_id="customer", time="time", period="week")
    # Partitions by customer, merged: the same state; pickled and summed.
    parts = []
    for odd in (0, 1):
        t = cx.CohortTally("week")
        sub = df[df["customer"] % 2 == odd]
        t.fold_events(pl.Series(sub["customer"].to_numpy()), pa.array(sub["time"]))
        parts.append(pickle.loads(pickle.dumps(t)))
    total = sum(parts, cx.CohortTally("week"))
    assert total.table().to_dict() == whole.to_dict()
    assert cx.CohortTally.from_json(total.to_json()) == total
    with pytest.raises(InvalidStateError):
        cx.CohortTally.from_bytes(total.to_bytes()[:-3])
    # Customer spans, as of a later date: still-active customers count through as_of.
    spans = cx.retention_table(
        start=["2026-01-10", "2026-01-20", "2026-02-05"], end=["2026-02-15", None, None], as_of="2026-04-15"
    )
    assert spans.sizes == [2, 1] and spans.counts[0].tolist() == [2.0, 2.0, 1.0, 1.0]
    assert math.isnan(spans.counts[1, 3]) and spans.incomplete[0, 3]
    assert spans.average[1] == pytest.approx(3 / 3)
    with pytest.raises(InvalidArgumentError, match="row 0 ends"):
        cx.retention_table(start=["2026-02-10"], end=["2026-01-01"])
    with pytest.raises(InvalidArgumentError, match="repeats the id"):
        cx.retention_table(start=["2026-02-10"] * 2, end=[None] * 2, customer_id=["a", "a"])
    missing = cx.retention_table(customer_id=[1, None, 2], time=["2026-01-01", "2026-01-02", None])
    assert missing.n_omitted == 2 and missing.sizes == [1]
    assert "not observed yet" in str(whole) and "<table>" in whole._repr_html_()


def test_heatmap_draws_blank_censored_cells() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = cx.retention_table(_orders(2_000), customer_id="customer", time="time")
    ax = t.plot()
    image = ax.images[0]
    assert np.ma.is_masked(image.get_array()) and "Retention by month cohort" in ax.get_title(loc="left")
    plt.close("all")


def test_customer_summary_merges_and_matches_pandas() -> None:
    df = _orders(3_000)
    df["value"] = np.arange(len(df)) % 17 + 0.5
    a, b = cx.CustomerSummary(), cx.CustomerSummary()
    half = len(df) // 2
    a.fold(df["customer"].to_numpy()[:half], df["time"][:half], df["value"].to_numpy()[:half])
    b.fold(df["customer"].to_numpy()[half:], df["time"][half:], df["value"].to_numpy()[half:])
    s = pickle.loads(pickle.dumps(a + b))
    ours = s.to_pandas().set_index("customer_id")
    ref = df.groupby("customer").agg(
        first=("time", "min"), last=("time", "max"), orders=("time", "size"), total=("value", "sum")
    )
    assert (ours["orders"] == ref["orders"]).all() and (ours["first"] == ref["first"]).all()
    assert (ours["last"] == ref["last"]).all()
    np.testing.assert_allclose(ours["total"], ref["total"], rtol=1e-12)


def test_customer_summary_of_text_ids_merges_and_matches_pandas() -> None:
    df = _orders(3_000)
    df["value"] = np.arange(len(df)) % 17 + 0.5
    df["cid"] = "acct-" + df["customer"].astype(str)
    df.loc[df.index[::97], "cid"] = None  # missing ids: omitted and counted
    half = len(df) // 2
    a, b = cx.CustomerSummary(), cx.CustomerSummary()
    a.fold(df["cid"][:half], df["time"][:half], df["value"][:half])
    b.fold(pl.from_pandas(df[["cid"]][half:])["cid"], df["time"][half:], df["value"].to_numpy()[half:])
    s = pickle.loads(pickle.dumps(a + b))
    assert s == cx.CustomerSummary.from_json(s.to_json())
    assert s.n_omitted == int(df["cid"].isna().sum())
    ours = s.to_pandas().set_index("customer_id")
    ref = (
        df.dropna(subset=["cid"])
        .groupby("cid")
        .agg(first=("time", "min"), last=("time", "max"), orders=("time", "size"), total=("value", "sum"))
    )
    # Ids ascending by their UTF-8 bytes, as Python sorts str.
    assert list(ours.index) == sorted(ref.index)
    ref = ref.loc[ours.index]
    assert (ours["orders"] == ref["orders"]).all() and (ours["first"] == ref["first"]).all()
    assert (ours["last"] == ref["last"]).all()
    np.testing.assert_allclose(ours["total"], ref["total"], rtol=1e-12)
    rfm = cx.rfm_summary(s, df["time"].max() + pd.Timedelta(days=1), "week")
    assert list(rfm["customer_id"]) == list(ours.index)


def test_customer_summary_ids_of_two_kinds_are_refused() -> None:
    ints, texts = cx.CustomerSummary(), cx.CustomerSummary()
    ints.fold([1, 2], ["2026-01-01", "2026-01-02"])
    texts.fold(["1", "2"], ["2026-01-01", "2026-01-02"])
    with pytest.raises(cx.exceptions.IncompatibleError, match="keyed by integers and by texts"):
        ints + texts
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="row 1 is 2"):
        cx.CustomerSummary().fold(np.array(["a", 2], dtype=object), ["2026-01-01", "2026-01-02"])
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="float64 column"):
        cx.CustomerSummary().fold([1.0, np.nan], ["2026-01-01", "2026-01-02"])
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="above 2"):
        cx.CustomerSummary().fold(np.array([2**64 - 1], dtype=np.uint64), ["2026-01-01"])


def test_retention_table_and_repeat_rate_by_segment() -> None:
    """by=: each segment's table is the table of its rows observed to the same as_of (the latest in all
    the data), and each segment's repeat rate matches a pandas count of its orders."""
    orders = cx.datasets.sample_operations("orders")
    customers = cx.datasets.sample_operations("customers")
    orders = orders.merge(customers[["customer_id", "segment"]], on="customer_id")
    overall = cx.retention_table(orders, customer_id="customer_id", time="order_date", max_periods=8)
    by = cx.retention_table(orders, customer_id="customer_id", time="order_date", max_periods=8, by="segment")
    assert isinstance(by, cx.RetentionTableByGroup)
    assert list(by.groups) == sorted(orders["segment"].unique())
    for segment, rows in orders.groupby("segment", observed=True):
        alone = cx.retention_table(
            rows, customer_id="customer_id", time="order_date", max_periods=8, as_of=overall.as_of
        )
        assert by[segment] == alone
        assert by[segment].as_of == overall.as_of
    assert sum(t.n_customers for t in by.groups.values()) == overall.n_customers
    long = by.to_pandas()
    assert list(long.columns[:3]) == ["segment", "cohort", "period"]
    assert len(long) == sum(len(t.to_pandas()) for t in by.groups.values())
    assert cx.RetentionTableByGroup.from_json(by.to_json()) == by

    window = ("2026-01-01", "2027-01-01")
    rates = cx.repeat_rate(orders, customer_id="customer_id", time="order_date", window=window, by="segment")
    assert isinstance(rates, cx.RepeatRateByGroup)
    start, end = pd.Timestamp(window[0]), pd.Timestamp(window[1])
    for segment, rows in orders.groupby("segment", observed=True):
        inside = rows[(rows["order_date"] >= start) & (rows["order_date"] < end)]
        counts = inside.groupby("customer_id").size()
        before = set(rows.loc[rows["order_date"] < start, "customer_id"])
        r = rates[segment]
        twice, once = int((counts >= 2).sum()), int((counts == 1).sum())
        assert (r.customers, r.repeat, r.once) == (len(counts), twice, once)
        assert r.returning == len(set(counts.index) & before)
        assert r.rate == pytest.approx((counts >= 2).mean(), rel=1e-15)
    table = rates.to_pandas()
    assert list(table.columns[:4]) == ["segment", "rate", "rate_low", "rate_high"]
    assert cx.RepeatRateByGroup.from_json(rates.to_json()) == rates


# ----- issue 12: as_of, dates in messages, sBG at the edge, CLV timing, fractional counts -----------


def test_retention_table_as_of_counts_what_it_leaves_out() -> None:
    """Reference: pandas on the events up to as_of only, and pandas counts of what lies after it."""
    days = ["2025-01-01", "2025-02-01", "2025-03-05", "2025-04-01"]
    t = cx.retention_table(customer_id=[1, 2, 2, 3], time=days, as_of="2025-02-15")
    assert t.sizes == [1, 1] and t.n_customers == 2
    assert t.n_customers_after_as_of == 1  # customer 3, first active in April
    assert t.n_active_periods_after_as_of == 2  # customer 2 in March, customer 3 in April
    assert t.n_customers_active_after_as_of == 1
    text = str(t)
    assert "2 customers" in text and "3 customers" not in text
    assert "left out after as_of: 1 customers first active after it" in text
    d = t.to_dict()
    assert (d["n_customers_after_as_of"], d["n_active_periods_after_as_of"]) == (1, 2)
    unbounded = cx.retention_table(
        customer_id=[1, 2, 2, 3], time=days, as_of="2025-02-15", definition="return_on_or_after"
    )
    assert "left out while folding: the table of the activity up to as_of" in str(unbounded)
    # Seeded orders against pandas: the table as of a month equals the table of the orders up to it.
    df = _orders(3_000)
    months = df["time"].dt.to_period("M")
    as_of = months.min() + 4
    early = df[months <= as_of]
    got = cx.retention_table(df, customer_id="customer", time="time", as_of=str(as_of.start_time.date()))
    want = cx.retention_table(early, customer_id="customer", time="time")
    assert got.sizes == want.sizes and got.n_customers == want.n_customers
    assert np.array_equal(got.counts, want.counts, equal_nan=True)
    first = months.groupby(df["customer"]).transform("min")
    assert got.n_customers_after_as_of == df.loc[first > as_of, "customer"].nunique()
    after = df[months > as_of].assign(m=months[months > as_of])
    assert got.n_active_periods_after_as_of == len(after[["customer", "m"]].drop_duplicates())
    assert (
        got.n_customers_active_after_as_of == after.loc[first[months > as_of] <= as_of, "customer"].nunique()
    )
    assert got.n_customers + got.n_customers_after_as_of == df["customer"].nunique()
    # Spans: a span still running after as_of is active through it; later starts are counted.
    spans = cx.retention_table(
        start=["2025-01-10", "2025-01-20", "2025-03-02"],
        end=["2025-03-10", None, None],
        as_of="2025-02-15",
    )
    assert spans.sizes == [2] and spans.n_customers_after_as_of == 1
    assert spans.counts[0].tolist() == [2.0, 2.0] and spans.n_active_periods_after_as_of == 1


def test_messages_name_dates_and_periods() -> None:
    with pytest.raises(InvalidArgumentError, match=r"\(2024-01\) is before every customer's first activity"):
        cx.retention_table(customer_id=[1, 2], time=["2025-01-03", "2025-02-03"], as_of="2024-01-01")
    with pytest.raises(InvalidArgumentError, match=r"ends \(2024-12-01\) before it starts \(2025-01-20\)"):
        cx.retention_table(start=["2025-01-20"], end=["2024-12-01"])
    with pytest.raises(InvalidArgumentError, match=r"ends \(2024-12-01\) before it starts \(2025-01-20\)"):
        cx.churn(start=["2025-01-20"], end=["2024-12-01"], period_start="2025-01-01", period_end="2025-02-01")


def test_sbg_at_the_edge_is_not_converged_and_scipy_agrees() -> None:
    """The likelihood written with scipy.special.betaln (``_sbg_loglik``): along the ray to the edge it
    keeps rising to its supremum (no interior maximum), and our estimate sits at that supremum (the
    closed form, 1e-6; scipy's betaln loses digits beyond alpha ~ 1e6, so the ray stops there)."""
    # Everyone churns in period 1: the likelihood 100 ln(a/(a+b)) only rises as b/a -> 0.
    edge = cx.sbg([100, 0])
    assert not edge.converged and edge.boundary
    assert "no interior maximum" in edge.message and "no interior maximum" in str(edge)
    assert math.isnan(edge.alpha_ci.low) and math.isnan(edge.beta_std_error)
    ray = [-_sbg_loglik([0.0, t], [[100, 0]]) for t in (-1.0, -5.0, -10.0, -20.0)]
    assert all(a < b < 0 for a, b in itertools.pairwise(ray))
    assert edge.log_likelihood == pytest.approx(0.0, abs=1e-6) and edge.log_likelihood >= ray[-1]
    # 99 churn in period 1, 1 in period 2: the supremum is one churn probability 100/101 for everyone
    # (alpha, beta -> infinity with beta/alpha = 1/100).
    geo = cx.sbg([100, 1, 0])
    sup = 100 * math.log(100 / 101) + math.log(1 / 101)
    assert not geo.converged and geo.boundary
    ray = [-_sbg_loglik([math.log(100 * k), math.log(k)], [[100, 1, 0]]) for k in (1.0, 10.0, 1e2, 1e3, 1e4)]
    assert all(a < b < sup for a, b in itertools.pairwise(ray))
    assert geo.log_likelihood == pytest.approx(sup, abs=1e-6) and geo.log_likelihood >= ray[-1] - 1e-9
    assert geo.beta / geo.alpha == pytest.approx(0.01, rel=1e-3)
    # A well-posed fit stays converged.
    ok = cx.sbg([1000, 631, 468, 382, 326, 289, 262, 241])
    assert ok.converged and not ok.boundary


def test_sbg_refuses_fractional_counts_by_position() -> None:
    with pytest.raises(InvalidArgumentError, match=r"count 100.5 at period 0 is not a whole number"):
        cx.sbg([100.5, 60, 40])
    with pytest.raises(InvalidArgumentError, match=r"cohort 1: count 39.5 at period 2"):
        cx.sbg([[100, 60, 40], [100, 60, 39.5]])


def test_clv_timing_says_which_margins_it_counts() -> None:
    """Brute-force sums over 2,000 periods of one survival curve (retention 0.8, discount 0.1)."""
    fit = cx.sbg([100000, 80000, 64000, 51200, 40960])
    s = fit.survival(2000)  # S(0..2000)
    m, d = 100.0, 0.1
    t = np.arange(2001)
    disc = (1 + d) ** -t.astype(float)
    current_and_later = m * float(np.sum(s * disc))  # S(t) (1+d)^-t, t = 0, 1, ...
    later_at_end = m * float(np.sum(s[1:] * disc[1:]))  # t = 1, 2, ...
    later_from_next_renewal = m * float(np.sum(s[1:] * disc[:-1]))  # S(t) (1+d)^-(t-1), t >= 1
    kw: dict[str, Any] = {"margin": m, "discount_rate": d, "time_unit": "year"}
    gl_end = cx.clv("gupta_lehmann", retention=0.8, timing="end", **kw)
    gl_start = cx.clv("gupta_lehmann", retention=0.8, timing="start", **kw)
    sbg_end = cx.clv("sbg", fit=fit, timing="end", **kw)
    sbg_start = cx.clv("sbg", fit=fit, timing="start", **kw)
    tol = 1e-6  # the fitted curve is 0.8 per year to ~1e-9
    assert gl_end.value == pytest.approx(later_at_end, rel=tol) and sbg_end.value == pytest.approx(
        later_at_end, rel=tol
    )
    assert gl_start.value == pytest.approx(current_and_later, rel=tol)
    assert sbg_start.value == pytest.approx(later_from_next_renewal, rel=tol)
    # Asked for the same thing, they agree: GL start less the current margin is the sBG value at the end.
    assert gl_start.value - m == pytest.approx(sbg_end.value, rel=tol)
    assert sbg_start.value == pytest.approx((1 + d) * gl_end.value, rel=tol)
    assert "current year's margin (certain, not discounted)" in str(gl_start)
    assert "residual" in str(sbg_start) and "current year's margin is not counted" in str(sbg_start)
    assert gl_start.counted != sbg_start.counted and "counted" in gl_start.to_dict()
