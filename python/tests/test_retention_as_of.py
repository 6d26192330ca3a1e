"""cx.retention_table with ``as_of`` before the last activity: the activity after ``as_of`` is left out
while folding, so the table is exactly that of the activity up to ``as_of`` for every definition.

Reference: a pandas computation written here on seeded random events (each customer's cohort is the
first period of its activity up to ``as_of``; ``return_on`` counts the customers active in period k,
``return_on_or_after`` those whose last period up to ``as_of`` is k or later; NaN where the cohort has
not reached k by ``as_of``), and pandas counts of what lies after ``as_of``. Tolerance: exact counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import IncompatibleError, InvalidArgumentError
from cx_metrics.retention import RetentionTable

DEFINITIONS = ("return_on", "return_on_or_after")


def _events(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customer = rng.integers(0, n // 4, n)
    start = rng.integers(0, 300, n // 4)[customer]  # each customer's first day, then later activity
    day = start + rng.geometric(0.02, n) - 1
    time = (
        pd.Timestamp("2025-01-01")
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    )
    return pd.DataFrame({"customer": customer, "time": time})


def _pandas_table(
    df: pd.DataFrame, freq: str, as_of: pd.Period, definition: str
) -> tuple[list[int], np.ndarray]:
    """Sizes and counts (cohorts x offsets, NaN where not observed) of the activity up to as_of."""
    period = df["time"].dt.to_period(freq)
    kept = df.assign(p=period)[period <= as_of]
    first = kept.groupby("customer")["p"].min()
    last = kept.groupby("customer")["p"].max()
    cohorts = pd.period_range(first.min(), first.max(), freq=freq)
    n_periods = len(pd.period_range(first.min(), as_of, freq=freq))
    pairs = kept[["customer", "p"]].drop_duplicates()
    pairs = pairs.assign(cohort=first.loc[pairs["customer"]].to_numpy())
    offset = np.array([(p - c).n for p, c in zip(pairs["p"], pairs["cohort"], strict=True)])
    counts = np.full((len(cohorts), n_periods), np.nan)
    sizes = []
    for i, c in enumerate(cohorts):
        members = first.index[first == c]
        sizes.append(len(members))
        reached = (as_of - c).n + 1
        for k in range(min(reached, n_periods)):
            if definition == "return_on":
                counts[i, k] = int(((pairs["cohort"] == c) & (offset == k)).sum())
            else:
                counts[i, k] = int(sum((last.loc[m] - c).n >= k for m in members))
    return sizes, counts


@pytest.mark.parametrize(
    ("seed", "freq", "period"), [(1, "M", "month"), (2, "M", "month"), (3, "W-SUN", "week")]
)
def test_as_of_in_the_middle_is_the_table_of_the_activity_up_to_it(seed: int, freq: str, period: str) -> None:
    df = _events(1_200, seed)
    p = df["time"].dt.to_period(freq)
    as_of = p.min() + (p.max() - p.min()).n // 2
    as_of_date = str(as_of.start_time.date() + pd.Timedelta(days=1 if period == "week" else 10))
    for definition in DEFINITIONS:
        t = cx.retention_table(
            df,
            customer_id="customer",
            time="time",
            period=period,
            definition=definition,
            as_of=as_of_date,  # type: ignore[arg-type]
        )
        sizes, counts = _pandas_table(df, freq, as_of, definition)
        assert t.sizes == sizes
        assert np.array_equal(t.counts, counts, equal_nan=True), definition
        assert t.as_of_in_fold
        # What lies after as_of, counted by pandas; the counters add up.
        first = p.groupby(df["customer"]).min()
        after = df[p > as_of].assign(p=p[p > as_of])
        assert t.n_customers_after_as_of == int((first > as_of).sum())
        assert t.n_active_periods_after_as_of == len(after[["customer", "p"]].drop_duplicates())
        active_after = after.loc[first.loc[after["customer"]].to_numpy() <= as_of, "customer"].nunique()
        assert t.n_customers_active_after_as_of == active_after > 0
        assert t.n_customers + t.n_customers_after_as_of == df["customer"].nunique()
        text = str(t)
        assert "left out while folding: the table of the activity up to as_of" in text
        assert "approximation" not in text


def test_a_state_folded_without_as_of_keeps_the_approximation_and_says_so() -> None:
    df = _events(800, 4)
    p = df["time"].dt.to_period("M")
    as_of = p.min() + 4
    as_of_date = str(as_of.start_time.date())
    loose = cx.CohortTally("month")
    loose.fold_events(df["customer"], df["time"])
    approx = loose.table("return_on_or_after", as_of=as_of_date)
    exact = cx.retention_table(
        df, customer_id="customer", time="time", definition="return_on_or_after", as_of=as_of_date
    )
    assert isinstance(exact, RetentionTable)
    assert not approx.as_of_in_fold and exact.as_of_in_fold
    _, counts = _pandas_table(df, "M", as_of, "return_on_or_after")
    assert np.array_equal(exact.counts, counts, equal_nan=True)
    # The approximation counts customers active after as_of as retained through it: never fewer.
    assert np.nanmin(approx.counts - counts) >= 0 and np.nansum(approx.counts - counts) > 0
    assert "an approximation, as this state was folded without as_of" in str(approx)
    # The same counters either way; return_on is exact either way.
    for name in ("n_customers_after_as_of", "n_customers_active_after_as_of", "n_active_periods_after_as_of"):
        assert getattr(approx, name) == getattr(exact, name)
    on = loose.table("return_on", as_of=as_of_date)
    assert np.array_equal(on.counts, _pandas_table(df, "M", as_of, "return_on")[1], equal_nan=True)


def test_a_tally_folded_to_an_as_of_merges_pickles_and_refuses_another() -> None:
    import pickle

    df = _events(600, 5)
    as_of = "2025-05-20"
    parts = []
    for parity in (0, 1):
        t = cx.CohortTally("month", as_of=as_of)
        rows = df[df["customer"] % 2 == parity]
        t.fold_events(rows["customer"], rows["time"])
        parts.append(t)
    whole = sum(parts)
    assert whole.as_of == np.datetime64("2025-05-01")
    one = cx.CohortTally("month", as_of=as_of)
    one.fold_events(df["customer"], df["time"])
    assert whole == one and pickle.loads(pickle.dumps(one)) == one
    assert cx.CohortTally.from_bytes(one.to_bytes()) == one
    a = one.table("return_on_or_after")
    b = cx.retention_table(
        df, customer_id="customer", time="time", definition="return_on_or_after", as_of=as_of
    )
    assert isinstance(b, RetentionTable)
    assert np.array_equal(a.counts, b.counts, equal_nan=True)
    with pytest.raises(IncompatibleError, match="fold every partition with the same as_of"):
        one + cx.CohortTally("month")
    with pytest.raises(InvalidArgumentError, match="folded up to the month 2025-05"):
        one.table(as_of="2025-07-01")


def test_spans_as_of_against_pandas() -> None:
    rng = np.random.default_rng(6)
    n = 300
    start = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 240, n), unit="D")
    length = pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    end = pd.Series(start + length).where(rng.random(n) < 0.7)
    as_of = pd.Period("2025-05", "M")
    t = cx.retention_table(start=start, end=end, as_of="2025-05-31", definition="return_on_or_after")
    s, e = pd.Series(start).dt.to_period("M"), end.dt.to_period("M")
    known = s <= as_of
    # As of May, a span ending later has no end yet: active through May.
    last = e.where(known & e.notna() & (e <= as_of), as_of)[known]
    cohorts = pd.period_range(s[known].min(), as_of, freq="M")
    for i, c in enumerate(cohorts):
        members = s[known] == c
        assert t.sizes[i] == int(members.sum())
        for k in range((as_of - c).n + 1):
            assert t.counts[i, k] == int(((last[members] - c).map(lambda d: d.n) >= k).sum())
    assert t.n_customers_after_as_of == int((~known).sum())
    later_ends = known & e.notna() & (e > as_of)
    assert t.n_customers_active_after_as_of == int(later_ends.sum())
    periods_after = sum((e[i] - as_of).n for i in np.flatnonzero(later_ends)) + sum(
        (e[i] - s[i]).n + 1 for i in np.flatnonzero(~known & e.notna())
    )
    assert t.n_active_periods_after_as_of == periods_after


def test_dask_retention_table_with_as_of_is_the_exact_table(client: Any) -> None:
    dd = pytest.importorskip("dask.dataframe")
    cxd = pytest.importorskip("cx_metrics.dask")
    df = _events(1_000, 8)
    p = df["time"].dt.to_period("M")
    as_of = p.min() + 5
    kwargs: dict[str, Any] = {
        "customer_id": "customer",
        "time": "time",
        "definition": "return_on_or_after",
        "as_of": str(as_of.start_time.date()),
    }
    got = cxd.retention_table(dd.from_pandas(df, npartitions=4), **kwargs)
    assert got.as_of_in_fold
    assert np.array_equal(got.counts, _pandas_table(df, "M", as_of, "return_on_or_after")[1], equal_nan=True)
    want = cx.retention_table(df, **kwargs)
    assert isinstance(want, RetentionTable)
    assert got.to_dict() == want.to_dict()


def test_spark_retention_table_with_as_of_is_the_exact_table(spark: Any) -> None:
    cxs = pytest.importorskip("cx_metrics.spark")
    df = _events(600, 9)
    p = df["time"].dt.to_period("M")
    as_of = p.min() + 5
    kwargs: dict[str, Any] = {
        "customer_id": "customer",
        "time": "time",
        "definition": "return_on_or_after",
        "as_of": as_of.start_time.tz_localize("UTC"),  # Spark's timestamps come back in UTC
    }
    got = cxs.retention_table(spark.createDataFrame(df), **kwargs)
    assert got.as_of_in_fold
    assert np.array_equal(got.counts, _pandas_table(df, "M", as_of, "return_on_or_after")[1], equal_nan=True)
