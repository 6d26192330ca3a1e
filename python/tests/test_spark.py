"""cx_metrics.spark in Spark local mode (two executor threads, Python workers in other processes):
every result equals the in-memory result of the same rows, counts exactly and every other figure to
1e-12 relative."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, CxMetricsError, InvalidArgumentError, OutOfRangeError

pytest.importorskip("pyspark")
cxs = pytest.importorskip("cx_metrics.spark")

from _same import assert_same  # noqa: E402


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 12_000
    frame = pd.DataFrame(
        {
            "ltr": rng.integers(0, 11, n).astype(float),
            "csat": rng.integers(1, 6, n),
            "ces": rng.integers(1, 8, n),
            "weight": rng.gamma(2.0, 0.7, n),
            "segment": rng.choice(["web", "app", "Shop", None], n, p=[0.4, 0.3, 0.25, 0.05]),
            "wave": rng.integers(2024, 2027, n),
            "day": pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 4, n), unit="D"),
            "ease": rng.integers(1, 11, n).astype(float),
            "speed": rng.integers(1, 11, n).astype(float),
            "wait": rng.exponential(25.0, n),
            "answered": rng.random(n) < 0.88,
        }
    )
    frame.loc[::13, "ltr"] = np.nan
    noise = rng.normal(0, 1.5, n)
    frame["ltr_full"] = np.clip(np.round(0.5 * frame["ease"] + 0.4 * frame["speed"] + noise), 0, 10)
    return frame


@pytest.fixture(scope="module")
def frame(spark: Any, survey: pd.DataFrame) -> Any:
    """The survey as a Spark DataFrame in five partitions (nulls where pandas has NaN / None)."""
    sdf = spark.createDataFrame(survey.astype({"ltr": object}).where(survey.notna(), None))
    return sdf.repartition(5).cache()


def quiet(f: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


def test_nps_overall_and_weighted(frame: Any, survey: pd.DataFrame) -> None:
    got = cxs.nps(frame, "ltr")
    want = cx.nps("ltr", data=survey)
    assert got.n == want.n and got.n_omitted == want.n_omitted == 924
    assert got.to_dict() == want.to_dict()  # whole counts: equal to the last bit
    weighted = cxs.nps(frame, "ltr", weights="weight")
    assert_same(weighted.to_dict(), cx.nps("ltr", data=survey, weights="weight").to_dict())


@pytest.mark.parametrize("by", ["segment", "wave", "day", ["wave", "segment"]])
def test_nps_by_group_equals_in_memory(frame: Any, survey: pd.DataFrame, by: str | list[str]) -> None:
    got = quiet(cxs.nps, frame, "ltr", by=by, weights="weight", overall=True)
    want = quiet(cx.nps, "ltr", data=survey, by=by, weights="weight", overall=True)
    assert got.groups == want.groups  # the grouping rules' order, typed labels, None last
    assert [got[k].n for k in got.groups] == [want[k].n for k in want.groups]
    assert_same(got.to_dict(), want.to_dict())


def test_missing_label_warns_from_the_callers_line(frame: Any) -> None:
    with pytest.warns(cx.MissingLabelWarning, match="rows have no segment label") as caught:
        cxs.nps(frame, "ltr", by="segment")
    # (Spark 4.0 also leaves a ResourceWarning of its socket among the caught warnings.)
    ours = [w for w in caught if issubclass(w.category, cx.MissingLabelWarning)]
    assert ours[0].filename == __file__


def test_csat_ces_driver_analysis_and_service_level(frame: Any, survey: pd.DataFrame) -> None:
    got = quiet(cxs.csat, frame, "csat", 5, satisfied="top_two_box", by="segment", weights="weight")
    want = quiet(cx.csat, "csat", 5, satisfied="top_two_box", data=survey, by="segment", weights="weight")
    assert_same(got.to_dict(), want.to_dict())
    assert_same(cxs.ces(frame, "ces", by="wave").to_dict(), cx.ces("ces", data=survey, by="wave").to_dict())
    drivers = cxs.driver_analysis(frame, "ltr_full", ["ease", "speed"], weights="weight")
    moments = cx.RegressionMoments("ltr_full", ["ease", "speed"])
    moments.fold(survey, weights="weight")
    assert_same(drivers.to_dict(), moments.driver_analysis().to_dict())
    kwargs: dict[str, Any] = {"formula": "icmi2", "threshold": 20.0, "waits": "wait", "answered": "answered"}
    service = cxs.service_level(frame, by="wave", **kwargs)
    assert_same(service.to_dict(), cx.contact_center.service_level(survey, by="wave", **kwargs).to_dict())


def test_bad_input_is_a_typed_error(spark: Any, frame: Any, survey: pd.DataFrame) -> None:
    with pytest.raises(ColumnError, match="ltrr"):
        cxs.nps(frame, "ltrr")
    with pytest.raises(InvalidArgumentError, match=r"pyspark\.sql\.DataFrame"):
        cxs.nps(survey, "ltr")
    bad = spark.createDataFrame(pd.DataFrame({"ltr": [9.0, 12.0], "segment": ["a", "b"]}))
    with pytest.raises(OutOfRangeError, match=r"counted by the engine.*12"):  # counted by Spark
        cxs.nps(bad, "ltr", by="segment")
    text = spark.createDataFrame(pd.DataFrame({"ltr": ["9", "x"], "segment": ["a", "b"]}))
    with pytest.raises(CxMetricsError, match="in a Spark task"):  # raised in a Python worker
        cxs.nps(text, "ltr", by="segment")


def test_funnel_repartitioned_by_customer_equals_in_memory(spark: Any) -> None:
    import datetime

    rng = np.random.default_rng(3)
    n = 6_000
    log = pd.DataFrame(
        {
            "customer": rng.integers(0, 900, n),
            "event": rng.choice(["visit", "cart", "buy", "other"], n, p=[0.4, 0.25, 0.15, 0.2]),
            "time": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 30 * 86_400, n), unit="s"),
            "channel": rng.choice(["web", "app"], n),
        }
    )
    spec = cx.FunnelSpec(
        ["visit", "cart", "buy"],
        order="ordered",
        window=datetime.timedelta(days=7),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
        as_of="2026-02-01T00:00:00+00:00",  # Spark's timestamps are instants: they arrive in UTC
    )
    # Small Arrow batches: a partition arrives in several, and is still folded whole.
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "500")
    try:
        frame = spark.createDataFrame(log).repartition(3)
        kwargs: dict[str, Any] = {"customer": "customer", "event": "event", "time": "time"}
        assert cxs.funnel(frame, spec, **kwargs) == cx.funnel(log, spec, **kwargs)
        assert cxs.funnel(frame, spec, by="channel", **kwargs) == cx.funnel(log, spec, by="channel", **kwargs)
        # Paths of the same log: variants, transitions with every gap and exits, exactly.
        assert cxs.paths(frame, session_gap=3600, **kwargs) == cx.paths(log, session_gap=3600, **kwargs)
        by_channel = cxs.paths(frame, by="channel", **kwargs)
        assert by_channel == cx.paths(log, by="channel", **kwargs) and list(by_channel) == ["app", "web"]
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")


def test_operations_and_audits(spark: Any) -> None:
    orders = cx.datasets.sample_operations("orders")
    frame = spark.createDataFrame(orders.assign(order_date=orders["order_date"].dt.tz_localize("UTC")))
    kwargs: dict[str, Any] = {"customer_id": "customer_id", "time": "order_date"}
    got = cxs.retention_table(frame.repartition(3), **kwargs)
    want = cx.retention_table(orders.assign(order_date=orders["order_date"].dt.tz_localize("UTC")), **kwargs)
    assert_same(got.to_dict(), want.to_dict())
    summary = cxs.customer_summary(frame, value="value", **kwargs)
    assert summary.n == orders["customer_id"].nunique() and summary.to_pandas()["orders"].sum() == len(orders)
    audit = cx.journey.sample_audit()
    compliance = cxs.audit_compliance(spark.createDataFrame(audit).repartition(2))
    assert compliance.to_pandas("cell").equals(cx.audit_compliance(audit).to_pandas("cell"))


def test_handling_time(spark: Any) -> None:
    calls = cx.datasets.sample_operations("calls")
    calls = calls[calls["answered"] == 1][["queue", "talk_seconds", "acw_seconds"]]
    calls = calls.astype({"queue": str, "talk_seconds": float, "acw_seconds": float})
    kwargs: dict[str, Any] = {"components": ["talk", "acw"], "talk": "talk_seconds", "acw": "acw_seconds"}
    got = cxs.handling_time(spark.createDataFrame(calls).repartition(3), by="queue", **kwargs)
    want = cx.contact_center.handling_time(calls, by="queue", quantiles=(), **kwargs)
    assert list(got.groups) == list(want.groups)
    assert all(got.groups[q].aht == pytest.approx(want.groups[q].aht, rel=1e-12) for q in got.groups)


def test_ratings_are_counted_by_spark_and_checked_in_rust(
    spark: Any, frame: Any, survey: pd.DataFrame
) -> None:
    """Numeric rating columns are counted by Spark's own groupBy (only counts leave the JVM); the
    counts are checked by the tally. Weights Spark cannot square within range take the Arrow path."""
    from cx_metrics._partitions import TallyPlan
    from cx_metrics.exceptions import InvalidWeightError, MissingValueError
    from cx_metrics.spark import _counted_by_spark

    plan = TallyPlan(by=("segment",), metric="nps", values="ltr", weights="weight")
    pairs = _counted_by_spark(frame.select("ltr", "weight", "segment"), plan)
    assert pairs is not None and len(pairs) == 4  # three segments and the missing label
    negative = spark.createDataFrame(pd.DataFrame({"ltr": [9.0, 3.0], "w": [1.0, -2.0]}))
    with pytest.raises(InvalidWeightError, match="counted by Spark"):
        cxs.nps(negative, "ltr", weights="w")
    missing = spark.createDataFrame(pd.DataFrame({"ltr": [9.0, None, 3.0]}))
    with pytest.raises(MissingValueError, match="1 answers are missing"):
        cxs.nps(missing, "ltr", nan_policy="raise")
    assert cxs.nps(missing, "ltr").n_omitted == 1
    # Weights of 1e200: their squares overflow in Spark's sums; the rows are folded instead, exactly.
    huge = survey[["ltr", "weight", "segment"]].assign(weight=survey["weight"] * 1e200)
    sdf = spark.createDataFrame(huge.astype({"ltr": object}).where(huge.notna(), None))
    assert _counted_by_spark(sdf, plan) is None
    got = quiet(cxs.nps, sdf, "ltr", by="segment", weights="weight")
    want = quiet(cx.nps, "ltr", data=huge, by="segment", weights="weight")
    assert_same(got.to_dict(), want.to_dict())


# ----- pillar summaries, response times, driver analysis by segment --------------------------------


def test_pillar_summary_equals_in_memory(spark: Any) -> None:
    survey = cx.datasets.sample_survey()
    items = ("integrity", "resolution", "empathy")
    plain = pd.DataFrame(
        {
            "segment": survey["segment"].astype(str),
            "weight": survey["weight"],
            **{p: survey[p].to_numpy(dtype=float, na_value=np.nan) for p in items},
        }
    )
    frame = spark.createDataFrame(plain).repartition(4)
    for kwargs in ({}, {"by": "segment", "weights": "weight", "overall": True, "top_box": 3}):
        got = cxs.pillar_summary(frame, list(items), **kwargs)
        want = cx.pillar_summary(plain, list(items), **kwargs)
        assert isinstance(got, cx.pillars.MergedPillarSummary) and got.groups == want.groups
        assert_same(got.to_dict(), {k: v for k, v in want.to_dict().items() if k != "scores"})


def test_response_times_equal_in_memory(spark: Any) -> None:
    rng = np.random.default_rng(5)
    n = 4_000
    tickets = pd.DataFrame(
        {
            "minutes": np.round(rng.exponential(40.0, n)),
            "outcome": rng.choice([0, 1, 2], n, p=[0.15, 0.75, 0.10]),
            "queue": rng.choice(["billing", "tech"], n),
        }
    )
    frame = spark.createDataFrame(tickets).repartition(3)
    kwargs: dict[str, Any] = {"durations": "minutes", "outcomes": "outcome", "target": 30.0, "horizon": 90.0}
    for by in (None, "queue"):
        got = cxs.response_times(frame, by=by, **kwargs)
        assert_same(got.to_dict(), cx.response_times(tickets, by=by, **kwargs).to_dict())


def test_driver_analysis_by_segment(frame: Any, survey: pd.DataFrame) -> None:
    drivers = ["ease", "speed"]
    got = cxs.driver_analysis(frame, "ltr_full", drivers, weights="weight", by="wave", overall=True)
    want = cx.driver_analysis(
        survey, "ltr_full", drivers, weights="weight", by="wave", overall=True, covariance="classical"
    )
    assert got.segments == want.segments == (2024, 2025, 2026)
    for key in got.segments:
        g, w = got[key].to_dict()["regression"], want[key].to_dict()["regression"]
        assert "sandwich" in g.pop("covariance_note") and w.pop("covariance_note") is None
        assert_same(g, w)
        assert_same(got[key].to_dict()["importance"], want[key].to_dict()["importance"])
