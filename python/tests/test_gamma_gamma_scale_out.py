"""The customer summary merged by Dask and by Spark gives the in-memory rfm_summary and Gamma-Gamma fit:
orders of a customer (ties at the first instant included) spread over partitions, integer values so
that every sum is exact and the merged summary equals the in-memory one bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx


def orders_with_ties() -> tuple[pd.DataFrame, pd.Timestamp]:
    """600 customers; a third have two orders at their first instant; rows shuffled, so a customer's
    orders (tied ones too) land in different partitions."""
    rng = np.random.default_rng(21)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    rows = []
    for c in range(600):
        t0 = int(rng.integers(0, 60))
        tied = 2 if c % 3 == 0 else 1
        rows += [(c, t0, float(rng.integers(5, 90))) for _ in range(tied)]
        rows += [
            (c, t0 + 1 + int(rng.integers(0, 100)), float(rng.integers(5, 90)))
            for _ in range(rng.poisson(2.0))
        ]
    orders = pd.DataFrame(rows, columns=["customer_id", "day", "value"])
    orders["time"] = start + pd.to_timedelta(orders.pop("day"), unit="D")
    return orders.sample(frac=1.0, random_state=4).reset_index(drop=True), start + pd.Timedelta(days=170)


def check(got: cx.CustomerSummary, orders: pd.DataFrame, end: pd.Timestamp) -> None:
    want = cx.CustomerSummary()
    want.fold(orders.customer_id.to_numpy(), orders.time, orders.value.to_numpy())
    # Integer values: every sum is exact in any merge order, so the states are equal.
    assert got == want
    mine, theirs = cx.rfm_summary(got, end, "week"), cx.rfm_summary(want, end, "week")
    pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
    assert cx.gamma_gamma(got, calibration_end=end).params == cx.gamma_gamma(want, calibration_end=end).params


def test_dask_merged_summary_gives_the_in_memory_gamma_gamma(client: Any) -> None:
    dd = pytest.importorskip("dask.dataframe")
    from cx_metrics import dask as cxd

    orders, end = orders_with_ties()
    got = cxd.customer_summary(
        dd.from_pandas(orders, npartitions=7), customer_id="customer_id", time="time", value="value"
    )
    check(got, orders, end)


def test_spark_merged_summary_gives_the_in_memory_gamma_gamma(spark: Any) -> None:
    cxs = pytest.importorskip("cx_metrics.spark")
    orders, end = orders_with_ties()
    frame = spark.createDataFrame(orders).repartition(3)
    got = cxs.customer_summary(frame, customer_id="customer_id", time="time", value="value")
    check(got, orders, end)
