"""cx_metrics.dask on a real distributed.LocalCluster of two worker processes: every result equals the
in-memory result of the same rows, counts exactly and every other figure to 1e-12 relative (weighted
sums are added in another order than one pass adds them)."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, InvalidArgumentError, OutOfRangeError

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
cxd = pytest.importorskip("cx_metrics.dask")

from _same import assert_same  # noqa: E402


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(20261207)
    n = 30_000
    frame = pd.DataFrame(
        {
            "ltr": rng.integers(0, 11, n).astype(float),
            "csat": rng.integers(1, 6, n),
            "ces": rng.integers(1, 8, n),
            "weight": rng.gamma(2.0, 0.7, n),
            "segment": rng.choice(["web", "app", "Shop", None], n, p=[0.4, 0.3, 0.25, 0.05]),
            "wave": rng.integers(2024, 2027, n),
            "tier": pd.Categorical(rng.choice(["gold", "basic"], n), categories=["basic", "silver", "gold"]),
            "score_band": rng.choice([0.5, 1.5, np.nan], n),
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


def partitions(frame: pd.DataFrame, n: int = 7) -> Any:
    return dd.from_pandas(frame, npartitions=n)


def quiet(f: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


@pytest.mark.parametrize("weights", [None, "weight"])
def test_nps_overall(client: Any, survey: pd.DataFrame, weights: str | None) -> None:
    got = cxd.nps(partitions(survey), "ltr", weights=weights)
    want = cx.nps("ltr", data=survey, weights=weights)
    assert got.n == want.n == 27_692 and got.n_omitted == want.n_omitted
    assert_same(got.to_dict(), want.to_dict())


@pytest.mark.parametrize(
    "by", ["segment", "wave", "tier", "score_band", "day", ["wave", "segment"], ["tier", "score_band"]]
)
@pytest.mark.parametrize("weights", [None, "weight"])
def test_nps_by_group_equals_in_memory(
    client: Any, survey: pd.DataFrame, by: str | list[str], weights: str | None
) -> None:
    got = quiet(cxd.nps, partitions(survey), "ltr", by=by, weights=weights, overall=True)
    want = quiet(cx.nps, "ltr", data=survey, by=by, weights=weights, overall=True)
    assert type(got) is type(want)
    assert got.groups == want.groups  # the grouping rules' order, typed labels, None last
    assert [got[k].n for k in got.groups] == [want[k].n for k in want.groups]
    assert_same(got.to_dict(), want.to_dict())


def test_unused_categorical_level_is_a_group_with_n_zero(client: Any, survey: pd.DataFrame) -> None:
    got = cxd.nps(partitions(survey), "ltr", by="tier")
    assert got.groups == ("basic", "silver", "gold")
    assert got["silver"].n == 0


def test_categories_unknown_to_dask_are_sorted_like_text(client: Any, survey: pd.DataFrame) -> None:
    data = partitions(survey).assign(tier=lambda d: d["tier"].cat.as_unknown())
    assert not data["tier"].cat.known
    got = cxd.nps(data, "ltr", by="tier")
    assert got.groups == ("basic", "gold", "silver")
    want = cx.nps("ltr", data=survey, by="tier")
    assert [got[k].n for k in ("basic", "silver", "gold")] == [want[k].n for k in want.groups]


def test_missing_label_warns_from_the_callers_line(client: Any, survey: pd.DataFrame) -> None:
    with pytest.warns(cx.MissingLabelWarning, match=r"rows have no segment label") as caught:
        cxd.nps(partitions(survey), "ltr", by="segment")
    assert caught[0].filename == __file__


@pytest.mark.parametrize("n_partitions", [1, 2, 13])
def test_counts_do_not_depend_on_the_partitioning(
    client: Any, survey: pd.DataFrame, n_partitions: int
) -> None:
    got = quiet(cxd.nps, partitions(survey, n_partitions), "ltr", by=["wave", "segment"], split_every=2)
    want = quiet(cx.nps, "ltr", data=survey, by=["wave", "segment"])
    assert got.to_dict() == want.to_dict()  # unweighted: whole counts, equal to the last bit


def test_csat_and_ces_by_group(client: Any, survey: pd.DataFrame) -> None:
    kwargs: dict[str, Any] = {"satisfied": "top_two_box", "by": "segment", "weights": "weight"}
    got = quiet(cxd.csat, partitions(survey), "csat", 5, **kwargs)
    want = quiet(cx.csat, "csat", 5, data=survey, **kwargs)
    assert got.groups == want.groups
    assert_same(got.to_dict(), want.to_dict())
    got_ces = cxd.ces(partitions(survey), "ces", 2, by="wave", method="jeffreys")
    want_ces = cx.ces("ces", 2, data=survey, by="wave", method="jeffreys")
    assert_same(got_ces.to_dict(), want_ces.to_dict())
    overall = cxd.csat(partitions(survey), "csat", satisfied=4)
    assert_same(overall.to_dict(), cx.csat(survey["csat"], satisfied=4).to_dict())


def test_driver_analysis_from_merged_moments(client: Any, survey: pd.DataFrame) -> None:
    got = cxd.driver_analysis(partitions(survey), "ltr_full", ["ease", "speed"], weights="weight")
    moments = cx.RegressionMoments("ltr_full", ["ease", "speed"])
    moments.fold(survey, weights="weight")
    assert_same(got.to_dict(), moments.driver_analysis().to_dict())
    # ... and the coefficients and R² of the in-memory analysis of the rows (model-based errors).
    rows = cx.driver_analysis(survey, "ltr_full", ["ease", "speed"], weights="weight", covariance="classical")
    assert got.n == rows.n == len(survey)
    assert got.r_squared == pytest.approx(rows.r_squared, rel=1e-12)
    ours, theirs = got.to_dict()["regression"], rows.to_dict()["regression"]
    # The note says why a merged analysis reports model-based errors; every figure agrees.
    assert "sandwich" in ours.pop("covariance_note") and theirs.pop("covariance_note") is None
    assert_same(ours, theirs)


def test_service_level_by_group(client: Any, survey: pd.DataFrame) -> None:
    kwargs: dict[str, Any] = {"formula": "icmi3", "threshold": 20.0, "waits": "wait", "answered": "answered"}
    got = cxd.service_level(partitions(survey), by="tier", short_abandon=5.0, **kwargs)
    want = cx.contact_center.service_level(survey, by="tier", short_abandon=5.0, **kwargs)
    assert list(got.groups) == list(want.groups) == ["basic", "gold"]
    assert got.no_contacts == want.no_contacts == ("silver",)
    assert_same(got.to_dict(), want.to_dict())
    overall = cxd.service_level(partitions(survey), **kwargs)
    assert_same(overall.to_dict(), cx.contact_center.service_level(survey, **kwargs).to_dict())


def test_results_pickle_like_in_memory_ones(client: Any, survey: pd.DataFrame) -> None:
    got = quiet(cxd.nps, partitions(survey), "ltr", by="segment", weights="weight")
    again = pickle.loads(pickle.dumps(got))
    assert again.groups == got.groups and again.overall.n == got.overall.n


def test_bad_input_is_a_typed_error(client: Any, survey: pd.DataFrame) -> None:
    with pytest.raises(ColumnError, match="ltrr"):
        cxd.nps(partitions(survey), "ltrr")
    with pytest.raises(ColumnError, match="region"):
        cxd.nps(partitions(survey), "ltr", by="region")
    with pytest.raises(InvalidArgumentError, match=r"dask\.dataframe\.DataFrame"):
        cxd.nps(survey, "ltr")
    with pytest.raises(InvalidArgumentError, match="split_every"):
        cxd.nps(partitions(survey), "ltr", split_every=1)
    with pytest.raises(InvalidArgumentError, match="by"):
        cxd.nps(partitions(survey), "ltr", by=3)
    bad = survey.assign(ltr=survey["ltr"].where(survey.index != 20_000, 11.0))
    with pytest.raises(OutOfRangeError, match="11"):  # raised on a worker, typed on the client
        cxd.nps(partitions(bad), "ltr", by="segment")
    with pytest.raises(InvalidArgumentError, match="driver"):
        cxd.driver_analysis(partitions(survey), "ltr_full", "ease")


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 20_000
    return pd.DataFrame(
        {
            "customer": rng.integers(0, 3_000, n),
            "event": rng.choice(["visit", "cart", "buy", "other"], n, p=[0.4, 0.25, 0.15, 0.2]),
            "time": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 30 * 86_400, n), unit="s"),
            "channel": rng.choice(["web", "app", None], n, p=[0.6, 0.35, 0.05]),
        }
    )


def funnel_spec() -> cx.FunnelSpec:
    import datetime

    return cx.FunnelSpec(
        ["visit", "cart", "buy"],
        order="ordered",
        window=datetime.timedelta(days=7),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
        as_of="2026-02-01",
    )


@pytest.mark.parametrize("by", [None, "channel"])
def test_funnel_shuffled_by_customer_equals_in_memory(client: Any, log: pd.DataFrame, by: str | None) -> None:
    kwargs: dict[str, Any] = {"customer": "customer", "event": "event", "time": "time", "by": by}
    got = cxd.funnel(partitions(log, 6), funnel_spec(), **kwargs)
    want = cx.funnel(log, funnel_spec(), **kwargs)
    assert got == want  # every count and interval, the rules, the segments' order
    if by is None:
        assert got.entered == want.entered > 2_000 and got.converted == want.converted


def test_funnel_refuses_a_customer_in_two_partitions(client: Any, log: pd.DataFrame) -> None:
    kwargs: dict[str, Any] = {"customer": "customer", "event": "event", "time": "time"}
    with pytest.raises(cx.exceptions.IncompatibleError, match="same customer"):
        cxd.funnel(partitions(log, 6), funnel_spec(), shuffle=False, **kwargs)
    # Partitions of disjoint customer ranges (an index's divisions split between distinct values).
    by_customer = dd.from_pandas(log.set_index("customer"), npartitions=6, sort=True).reset_index()
    got = cxd.funnel(by_customer, funnel_spec(), shuffle=False, **kwargs)
    want = cx.funnel(log, funnel_spec(), **kwargs)
    # The rows were reordered (sorted by customer), so the count of rows out of time order may
    # differ; every step's count does not.
    assert [s.count for s in got.steps] == [s.count for s in want.steps]
    assert got.converted == want.converted and got.entered == want.entered


def test_funnel_steps_must_be_named(client: Any, log: pd.DataFrame) -> None:
    spec = cx.FunnelSpec(
        ["visit", ("cart or buy", lambda e: e in ("cart", "buy"))],
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    with pytest.raises(InvalidArgumentError, match="predicates"):
        cxd.funnel(partitions(log), spec, customer="customer", event="event", time="time")


@pytest.mark.parametrize("by", [None, "channel"])
def test_paths_shuffled_by_customer_equal_in_memory(client: Any, log: pd.DataFrame, by: str | None) -> None:
    kwargs: dict[str, Any] = {"customer": "customer", "event": "event", "time": "time", "by": by}
    got = cxd.paths(partitions(log, 6), session_gap=3600, **kwargs)
    want = cx.paths(log, session_gap=3600, **kwargs)
    assert got == want  # variants, transitions with every gap, exits: exactly
    if by is not None:
        assert list(got) == list(want)  # the groups in the same order
    with pytest.raises(cx.exceptions.IncompatibleError):
        cxd.paths(partitions(log, 6), shuffle=False, **kwargs)
    with pytest.raises(InvalidArgumentError, match="session_gap"):
        cxd.paths(partitions(log, 6), session_gap="1h", **kwargs)


def test_retention_table_from_orders_equals_in_memory(client: Any) -> None:
    orders = cx.datasets.sample_operations("orders")
    kwargs: dict[str, Any] = {"customer_id": "customer_id", "time": "order_date", "period": "month"}
    got = cxd.retention_table(partitions(orders, 5), **kwargs)
    want = cx.retention_table(orders, **kwargs)
    assert got.sizes == want.sizes and sum(got.sizes) > 1_000
    assert_same(got.to_dict(), want.to_dict())
    weekly = {**kwargs, "period": "week", "definition": "return_on_or_after", "as_of": "2026-06-30"}
    assert_same(
        cxd.retention_table(partitions(orders, 5), **weekly).to_dict(),
        cx.retention_table(orders, **weekly).to_dict(),
    )


def test_retention_table_from_customer_spans(client: Any) -> None:
    customers = cx.datasets.sample_operations("customers")
    kwargs: dict[str, Any] = {"customer_id": "customer_id", "start": "signup", "end": "cancelled"}
    got = cxd.retention_table(partitions(customers, 4), **kwargs)
    assert_same(got.to_dict(), cx.retention_table(customers, **kwargs).to_dict())


def test_customer_summary_merges_orders_split_anywhere(client: Any) -> None:
    orders = cx.datasets.sample_operations("orders")
    got = cxd.customer_summary(
        partitions(orders, 7), customer_id="customer_id", time="order_date", value="value"
    )
    want = cx.CustomerSummary()
    want.fold(orders["customer_id"], orders["order_date"], orders["value"])
    mine, theirs = got.to_pandas(), want.to_pandas()
    assert mine[["customer_id", "first", "last", "orders"]].equals(
        theirs[["customer_id", "first", "last", "orders"]]
    )
    np.testing.assert_allclose(mine["total"], theirs["total"], rtol=1e-12)
    assert got.n == want.n == orders["customer_id"].nunique()  # customers
    assert int(mine["orders"].sum()) == len(orders)


def test_audit_compliance_equals_in_memory(client: Any) -> None:
    audit = cx.journey.sample_audit()
    got = cxd.audit_compliance(partitions(audit, 3))
    want = cx.audit_compliance(audit)
    for level in ("touchpoint", "standard", "location", "cell"):
        assert got.to_pandas(level).equals(want.to_pandas(level))


def test_handling_time_by_queue_equals_in_memory_without_quantiles(client: Any) -> None:
    calls = cx.datasets.sample_operations("calls")
    calls = calls[calls["answered"] == 1].astype(
        {"talk_seconds": float, "hold_seconds": float, "acw_seconds": float}
    )
    kwargs: dict[str, Any] = {
        "components": ["talk", "hold", "acw"],
        "talk": "talk_seconds",
        "hold": "hold_seconds",
        "acw": "acw_seconds",
        "by": "queue",
    }
    got = cxd.handling_time(partitions(calls, 4), **kwargs)
    want = cx.contact_center.handling_time(calls, quantiles=(), **kwargs)
    assert list(got.groups) == list(want.groups) == ["billing", "support"]
    for queue in got.groups:
        g, w = got.groups[queue], want.groups[queue]
        assert g.handled == w.handled and g.quantiles == ()
        assert g.aht == pytest.approx(w.aht, rel=1e-12)
        assert g.aht_ci is not None and w.aht_ci is not None
        assert g.aht_ci.low == pytest.approx(w.aht_ci.low, rel=1e-12)
        assert g.component_means == pytest.approx(w.component_means, rel=1e-12)


# ----- pillar summaries, response times, driver analysis by segment --------------------------------


def without_scores(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "scores"}


@pytest.mark.parametrize(
    ("by", "weights", "overall"),
    [(None, None, False), ("segment", "weight", False), (["wave", "segment"], None, True)],
)
def test_pillar_summary_equals_in_memory(
    client: Any, by: str | list[str] | None, weights: str | None, overall: bool
) -> None:
    survey = cx.datasets.sample_survey()
    items = {"integrity": "integrity", "resolution": "resolution", "empathy": "empathy"}
    kwargs: dict[str, Any] = {"by": by, "weights": weights, "top_box": 3, "confidence_level": 0.9}
    kwargs["overall"] = overall
    got = cxd.pillar_summary(partitions(survey, 5), items, split_every=2, **kwargs)
    want = cx.pillar_summary(survey, items, **kwargs)
    assert isinstance(got, cx.pillars.MergedPillarSummary) and got.groups == want.groups
    assert got.n_respondents == want.n_respondents == len(survey)
    assert_same(got.to_dict(), without_scores(want.to_dict()))
    with pytest.raises(cx.exceptions.UndefinedError, match="summaries only"):
        got.scores  # noqa: B018


def test_pillar_summary_of_unused_levels_and_bad_answers(client: Any) -> None:
    survey = cx.datasets.sample_survey()
    survey["tier"] = pd.Categorical(
        np.where(survey["respondent_id"] % 2, "a", "c"), categories=["a", "b", "c"]
    )
    got = cxd.pillar_summary(partitions(survey, 3), ["empathy"], by="tier")
    want = cx.pillar_summary(survey, ["empathy"], by="tier")
    assert got.groups == want.groups == ("a", "b", "c")
    assert_same(got.to_dict(), without_scores(want.to_dict()))
    survey.loc[7, "empathy"] = 11
    with pytest.raises(ColumnError, match="empathy"):
        cxd.pillar_summary(partitions(survey, 3), ["empathy"], by="tier")


@pytest.fixture(scope="module")
def tickets() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 6_000
    return pd.DataFrame(
        {
            # Whole minutes: many tickets share a time, as in a helpdesk export.
            "minutes": np.round(rng.exponential(40.0, n)),
            "outcome": rng.choice([0, 1, 2], n, p=[0.15, 0.75, 0.10]),
            "queue": rng.choice(["billing", "tech", "sales"], n),
            "weight": rng.gamma(2.0, 0.5, n),
        }
    )


@pytest.mark.parametrize("by", [None, "queue"])
def test_response_times_equal_in_memory(client: Any, tickets: pd.DataFrame, by: str | None) -> None:
    kwargs: dict[str, Any] = {"durations": "minutes", "outcomes": "outcome", "by": by}
    kwargs |= {"quantiles": (0.25, 0.5, 0.9, 0.99), "target": 30.0, "horizon": 120.0}
    got = cxd.response_times(partitions(tickets, 6), **kwargs)
    want = cx.response_times(tickets, **kwargs)
    assert_same(got.to_dict(), want.to_dict())
    results = [got] if by is None else list(got.groups.values())
    assert all(r.answered_quantiles for r in results)


def test_weighted_response_times_take_nearest_rank(client: Any, tickets: pd.DataFrame) -> None:
    kwargs: dict[str, Any] = {
        "durations": "minutes",
        "outcomes": "outcome",
        "weights": "weight",
        "by": "queue",
    }
    kwargs |= {"quantile_method": "nearest_rank", "target": 45.0}
    got = cxd.response_times(partitions(tickets, 4), **kwargs)
    want = cx.response_times(tickets, **kwargs)
    assert_weighted_curves_same(got.to_dict(), want.to_dict(), tickets["weight"].sum())
    with pytest.raises(InvalidArgumentError, match="type7"):
        cxd.response_times(partitions(tickets, 4), durations="minutes", weights="weight")


def assert_weighted_curves_same(got: dict[str, Any], want: dict[str, Any], total_weight: float) -> None:
    """Weighted response times by group: every figure to 1e-12 relative but the tail of the curve.
    The weight at risk is the total weight minus the weight already out, so its rounding (the merged
    sums are added in another order) is relative to the total weight, not to itself: it is compared
    to 1e-12 x the total weight, and the survival and its standard error, products of factors
    1 - events / at risk, to 1e-11 relative (they differ by up to 2e-12 in the last rows)."""
    assert got.keys() == want.keys()
    for key in want:
        g, w = dict(got[key]), dict(want[key])
        curve_g, curve_w = g.pop("curve"), w.pop("curve")
        assert_same(g, w, f"result[{key!r}]")
        assert curve_g["times"] == curve_w["times"]
        np.testing.assert_allclose(curve_g["at_risk"], curve_w["at_risk"], rtol=0, atol=1e-12 * total_weight)
        for name in ("survival", "std_error"):
            np.testing.assert_allclose(curve_g[name], curve_w[name], rtol=1e-11, atol=1e-15)


def without_model_notes(d: Any) -> Any:
    """The analyses without what differs by design: the note of a moments analysis on why its
    errors are model-based, and the covariance option (classical in memory, none given over moments)."""
    if isinstance(d, dict):
        return {
            k: without_model_notes(v)
            for k, v in d.items()
            if k != "covariance_note" and not (k == "covariance" and v in (None, "classical"))
        }
    if isinstance(d, list):
        return [without_model_notes(v) for v in d]
    return d


@pytest.mark.parametrize(("by", "weights"), [("segment", "weight"), (["wave", "tier"], None)])
def test_driver_analysis_by_segment_from_merged_moments(
    client: Any, survey: pd.DataFrame, by: str | list[str], weights: str | None
) -> None:
    data = survey.dropna(subset=["segment"]) if by == "segment" else survey
    drivers = ["ease", "speed"]
    got = cxd.driver_analysis(partitions(data), "ltr_full", drivers, weights=weights, by=by, overall=True)
    want = cx.driver_analysis(
        data, "ltr_full", drivers, weights=weights, by=by, overall=True, covariance="classical"
    )
    assert got.segments == want.segments and got.n_rows == want.n_rows and got.skipped == want.skipped
    if weights is not None:  # weighted: the note says why the errors are model-based
        assert "sandwich" in got.to_dict()["overall"]["regression"]["covariance_note"]
    assert_same(without_model_notes(got.to_dict()), without_model_notes(want.to_dict()))


def test_driver_analysis_by_skips_segments_as_in_memory(client: Any, survey: pd.DataFrame) -> None:
    data = survey.iloc[:3000].copy()
    data["group"] = np.where(np.arange(len(data)) < 3, 7, data["wave"])
    for by in (["tier", "group"], "tier"):
        got = cxd.driver_analysis(partitions(data, 3), "ltr_full", ["ease", "speed"], by=by)
        want = cx.driver_analysis(data, "ltr_full", ["ease", "speed"], by=by, covariance="classical")
        assert got.segments == want.segments and got.skipped == want.skipped
        assert_same(without_model_notes(got.to_dict()), without_model_notes(want.to_dict()))
    # Three rows of group 7 are too few for a model; the unused level silver has no rows.
    assert list(
        cxd.driver_analysis(partitions(data, 3), "ltr_full", ["ease", "speed"], by="tier").skipped
    ) == ["silver"]
    skipped = cxd.driver_analysis(
        partitions(data, 3), "ltr_full", ["ease", "speed"], by=["tier", "group"]
    ).skipped
    assert list(skipped) == [("basic", 7)] and "3 complete rows" in skipped[("basic", 7)]
