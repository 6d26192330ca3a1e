"""cx.retention_table with ``as_of`` before the last activity: every event strictly after the ``as_of``
instant (inside its own period too) is left out while folding, so the table is exactly that of the
activity up to ``as_of`` (inclusive) for every definition.

Reference: a pandas computation written here on seeded random events (each customer's cohort is the
first period of its events at or before ``as_of``; ``return_on`` counts the customers active in period
k, ``return_on_or_after`` those whose last period up to ``as_of`` is k or later; NaN where the cohort has
not reached k by ``as_of``'s period), and pandas counts of the events after ``as_of``. The ``as_of``
values are instants inside a period (the test checks that events of that period lie after them, so
a cut at the end of the period would differ). Tolerance: exact counts.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
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
    df: pd.DataFrame, freq: str, cut: pd.Timestamp, as_of: pd.Period, definition: str
) -> tuple[list[int], np.ndarray]:
    """Sizes and counts (cohorts x offsets, NaN where not observed) of the events at or before ``cut``,
    observed to the period ``as_of``."""
    kept = df[df["time"] <= cut]
    kept = kept.assign(p=kept["time"].dt.to_period(freq))
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


def _pandas_after(df: pd.DataFrame, freq: str, cut: pd.Timestamp) -> tuple[int, int, int]:
    """Customers first active after ``cut``, customers active by and after it, and the distinct
    (customer, period) pairs of the events after it."""
    first = df.groupby("customer")["time"].min()
    after = df[df["time"] > cut]
    pairs = after.assign(p=after["time"].dt.to_period(freq))[["customer", "p"]].drop_duplicates()
    active_after = after.loc[first.loc[after["customer"]].to_numpy() <= cut, "customer"].nunique()
    return int((first > cut).sum()), int(active_after), len(pairs)


def _mid_period(df: pd.DataFrame, freq: str, period: str) -> tuple[pd.Timestamp, pd.Period]:
    p = df["time"].dt.to_period(freq)
    as_of = p.min() + (p.max() - p.min()).n // 2
    inside = (
        pd.Timedelta(days=3, hours=7, minutes=30) if period == "week" else pd.Timedelta(days=14, hours=13)
    )
    cut = as_of.start_time + inside
    # Events of the as_of period lie after the instant: a cut at the end of the period would differ.
    assert ((p == as_of) & (df["time"] > cut)).any()
    return cut, as_of


@pytest.mark.parametrize(
    ("seed", "freq", "period"),
    [(1, "M", "month"), (2, "M", "month"), (3, "W-SUN", "week"), (7, "W-SUN", "week")],
)
def test_as_of_inside_a_period_is_the_table_of_the_activity_up_to_it(
    seed: int, freq: str, period: str
) -> None:
    df = _events(1_200, seed)
    cut, as_of = _mid_period(df, freq, period)
    for definition in DEFINITIONS:
        t = cx.retention_table(
            df,
            customer_id="customer",
            time="time",
            period=period,  # type: ignore[arg-type]
            definition=definition,  # type: ignore[arg-type]
            as_of=cut,
        )
        assert isinstance(t, RetentionTable)
        sizes, counts = _pandas_table(df, freq, cut, as_of, definition)
        assert t.sizes == sizes
        assert np.array_equal(t.counts, counts, equal_nan=True), definition
        assert t.as_of_in_fold
        assert t.as_of == np.datetime64(cut.to_datetime64(), "ns")
        assert t.as_of_period == np.datetime64(as_of.start_time.date())
        # The as_of period is flagged in progress, and only it.
        offsets = (
            np.arange(t.n_periods)[None, :]
            + np.array([(pd.Period(c, freq) - as_of).n for c in t.cohorts])[:, None]
        )
        assert np.array_equal(t.incomplete, offsets == 0)
        # What lies after as_of, counted by pandas; the counters add up.
        late, active_after, pairs = _pandas_after(df, freq, cut)
        assert t.n_customers_after_as_of == late
        assert t.n_customers_active_after_as_of == active_after > 0
        assert t.n_active_periods_after_as_of == pairs
        assert t.n_customers + t.n_customers_after_as_of == df["customer"].nunique()
        text = str(t)
        assert f"observed to {cut.isoformat()} (as_of, inclusive" in text
        assert "left out while folding: the table of the activity up to as_of" in text
        assert "approximation" not in text


def test_the_reported_case() -> None:
    kwargs: dict[str, Any] = {
        "customer_id": [1, 1, 2],
        "time": ["2026-01-05", "2026-02-20", "2026-02-25"],
        "period": "month",
        "as_of": "2026-02-10",
    }
    for definition in DEFINITIONS:
        t = cx.retention_table(definition=definition, **kwargs)  # type: ignore[arg-type]
        assert isinstance(t, RetentionTable)
        assert t.sizes == [1]
        assert t.rates.tolist() == [[1.0, 0.0]]
        assert t.incomplete.tolist() == [[False, True]]
        assert (t.n_customers_after_as_of, t.n_active_periods_after_as_of) == (1, 2)
        assert t.n_customers_active_after_as_of == 1
        assert t.as_of == np.datetime64("2026-02-10T00:00", "ns")
        assert "observed to 2026-02-10 (as_of, inclusive; the month of 2026-02-01 in progress)" in str(t)
    # An event exactly at as_of is kept.
    t = cx.retention_table(customer_id=[1, 1], time=["2026-01-05", "2026-02-10"], as_of="2026-02-10")
    assert isinstance(t, RetentionTable)
    assert t.rates.tolist() == [[1.0, 1.0]] and t.n_active_periods_after_as_of == 0


def test_a_state_folded_without_as_of_keeps_the_approximation_and_says_so() -> None:
    df = _events(800, 4)
    cut, as_of = _mid_period(df, "M", "month")
    end = (as_of + 1).start_time - pd.Timedelta(1, "ns")
    loose = cx.CohortTally("month")
    loose.fold_events(df["customer"], df["time"])
    approx = loose.table("return_on_or_after", as_of=cut)
    exact = cx.retention_table(
        df, customer_id="customer", time="time", definition="return_on_or_after", as_of=cut
    )
    assert isinstance(exact, RetentionTable)
    assert not approx.as_of_in_fold and exact.as_of_in_fold
    assert np.array_equal(
        exact.counts, _pandas_table(df, "M", cut, as_of, "return_on_or_after")[1], equal_nan=True
    )
    # Cut at the end of as_of's period, and customers active after it counted as retained through it:
    # never fewer than the table of the events to the end of the period.
    by_period = _pandas_table(df, "M", end, as_of, "return_on_or_after")[1]
    assert np.nanmin(approx.counts - by_period) >= 0 and np.nansum(approx.counts - by_period) > 0
    text = str(approx)
    assert "an approximation, as this state was folded without as_of" in text
    assert (
        f"(as_of {cut.isoformat()} given to a state folded without it: cut at the end of its month)" in text
    )
    late, active_after, pairs = _pandas_after(df, "M", end)
    assert (approx.n_customers_after_as_of, approx.n_customers_active_after_as_of) == (late, active_after)
    assert approx.n_active_periods_after_as_of == pairs
    # return_on is exactly the table to the end of the period.
    on = loose.table("return_on", as_of=cut)
    assert np.array_equal(on.counts, _pandas_table(df, "M", end, as_of, "return_on")[1], equal_nan=True)


def test_a_tally_folded_to_an_as_of_merges_pickles_and_refuses_another_instant() -> None:
    df = _events(600, 5)
    as_of = "2025-05-20T08:30"
    parts = []
    for parity in (0, 1):
        t = cx.CohortTally("month", as_of=as_of)
        rows = df[df["customer"] % 2 == parity]
        t.fold_events(rows["customer"], rows["time"])
        parts.append(t)
    whole = sum(parts)
    assert whole.as_of == np.datetime64("2025-05-20T08:30", "ns")
    one = cx.CohortTally("month", as_of=as_of)
    one.fold_events(df["customer"], df["time"])
    assert whole == one and pickle.loads(pickle.dumps(one)) == one
    assert cx.CohortTally.from_bytes(one.to_bytes()) == one
    assert cx.CohortTally.from_json(one.to_json()).as_of == one.as_of
    a = one.table("return_on_or_after")
    b = cx.retention_table(
        df, customer_id="customer", time="time", definition="return_on_or_after", as_of=as_of
    )
    assert isinstance(b, RetentionTable)
    assert a.to_dict() == b.to_dict()
    # Another instant of the same month: refused, naming both.
    other = cx.CohortTally("month", as_of="2025-05-31")
    with pytest.raises(IncompatibleError, match=r"2025-05-20T08:30:00Z and up to as_of 2025-05-31"):
        one + other
    with pytest.raises(IncompatibleError, match="fold every partition with the same as_of"):
        one + cx.CohortTally("month")
    with pytest.raises(
        InvalidArgumentError, match=r"2025-05-31: this tally was folded up to as_of 2025-05-20T08:30"
    ):
        one.table(as_of="2025-05-31")


def test_spans_as_of_against_pandas() -> None:
    rng = np.random.default_rng(6)
    n = 300
    start = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 240 * 24, n), unit="h"))
    length = pd.to_timedelta(rng.integers(0, 200 * 24, n), unit="h")
    end = (start + length).where(rng.random(n) < 0.7)
    cut = pd.Timestamp("2025-05-17T12:00")
    as_of = pd.Period("2025-05", "M")
    for definition in DEFINITIONS:
        t = cx.retention_table(start=start, end=end, as_of=cut, definition=definition)  # type: ignore[arg-type]
        assert isinstance(t, RetentionTable)
        s, e = start.dt.to_period("M"), end.dt.to_period("M")
        known = start <= cut
        # As of as_of, a span ending later has no end yet: active through May.
        last = e.where(known & end.notna() & (end <= cut), as_of)[known]
        cohorts = pd.period_range(s[known].min(), as_of, freq="M")
        for i, c in enumerate(cohorts):
            members = s[known] == c
            assert t.sizes[i] == int(members.sum())
            for k in range((as_of - c).n + 1):
                # A span is active in every period from its start's to its end's (no gaps): both
                # definitions count the members whose last period is k or later.
                assert t.counts[i, k] == int(((last[members] - c).map(lambda d: d.n) >= k).sum())
        assert t.n_customers_after_as_of == int((~known).sum())
        later_ends = known & end.notna() & (end > cut)
        assert t.n_customers_active_after_as_of == int(later_ends.sum())
        # The rest of the as_of period counts as a period with activity after as_of.
        periods_after = sum((e[i] - as_of).n + 1 for i in np.flatnonzero(later_ends)) + sum(
            (e[i] - s[i]).n + 1 for i in np.flatnonzero(~known & end.notna())
        )
        assert t.n_active_periods_after_as_of == periods_after
        # Spans starting or ending within May after the 17th exist, so the instant matters.
        assert ((s == as_of) & ~known).any() and ((e == as_of) & later_ends).any()


def _engine_matches_pandas_and_memory(
    df: pd.DataFrame, run: Callable[..., Any], engine_as_of: Any, local_as_of: Any
) -> None:
    """The engine's table with a mid-month as_of equals the pandas table cut at that instant and the
    in-memory table, for every definition."""
    cut, as_of = _mid_period(df, "M", "month")
    for definition in DEFINITIONS:
        kwargs: dict[str, Any] = {"customer_id": "customer", "time": "time", "definition": definition}
        got = run(**kwargs, as_of=engine_as_of(cut))
        assert got.as_of_in_fold
        assert np.array_equal(got.counts, _pandas_table(df, "M", cut, as_of, definition)[1], equal_nan=True)
        want = cx.retention_table(df, **kwargs, as_of=local_as_of(cut))
        assert isinstance(want, RetentionTable)
        assert got.to_dict() == want.to_dict()


def test_dask_retention_table_with_as_of_is_the_exact_table(client: Any) -> None:
    dd = pytest.importorskip("dask.dataframe")
    cxd = pytest.importorskip("cx_metrics.dask")
    df = _events(1_000, 8)
    ddf = dd.from_pandas(df, npartitions=4)
    _engine_matches_pandas_and_memory(
        df,
        lambda **kw: cxd.retention_table(ddf, **kw),
        lambda cut: cut.isoformat(),
        lambda cut: cut.isoformat(),
    )


def test_spark_retention_table_with_as_of_is_the_exact_table(spark: Any) -> None:
    cxs = pytest.importorskip("cx_metrics.spark")
    df = _events(600, 9)
    sdf = spark.createDataFrame(df)
    _engine_matches_pandas_and_memory(
        df,
        lambda **kw: cxs.retention_table(sdf, **kw),
        lambda cut: cut.tz_localize("UTC"),  # Spark's timestamps come back in UTC
        lambda cut: cut,
    )
