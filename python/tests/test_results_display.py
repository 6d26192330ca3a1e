"""Every public result prints, renders as escaped HTML, converts to JSON-safe builtins and (when it is a
table) to pandas and polars, and pickles: one contract, checked result by result."""

from __future__ import annotations

import json
import math
import pickle
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import cx_metrics as cx
from cx_metrics._results import Tabular

HOSTILE = "<script>alert('x')</script>&"


class _Tags(HTMLParser):
    """Checks that every opened tag is closed in order, and records tags, attributes and text."""

    VOID = frozenset({"br", "hr", "img", "meta", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.append(dict(attrs))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    p.close()
    assert not p.stack, f"unclosed tags: {p.stack}"
    return p


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


@pytest.fixture(scope="module")
def results(survey: pd.DataFrame) -> dict[str, Any]:
    analysis = cx.pillar_driver_analysis(
        survey, weights="weight", missing="indicator", indicator_for=["resolution"]
    )
    journey = cx.sample_journey()
    tiny = survey.assign(segment=survey["segment"].astype(str))
    tiny.loc[tiny.index[:4], "segment"] = "tiny"  # too few rows for six drivers: skipped
    bootstrap = analysis.bootstrap(n_resamples=40, seed=4)
    lmg = bootstrap.importance.loc["lmg"]
    matrix = analysis.matrix(
        scale=(1, 10),
        importance_intervals=list(
            zip(lmg["ci_low"] / analysis.r_squared, lmg["ci_high"] / analysis.r_squared, strict=True)
        ),
    )
    dominance = analysis.dominance
    assert dominance is not None
    rng = np.random.default_rng(12)
    waits = np.round(rng.exponential(20.0, len(survey)), 1)
    outcomes = rng.choice(np.array([0, 1, 2], dtype=np.uint8), len(survey), p=[0.1, 0.85, 0.05])
    events = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2, 3, 3, 3, 4],
            "event": ["visit", "cart", "buy", "visit", "cart", "visit", "refund", "cart", "cart"],
            "time": pd.to_datetime(
                [
                    "2026-03-01 10:00",
                    "2026-03-01 10:05",
                    "2026-03-01 10:20",
                    "2026-03-01 11:00",
                    "2026-03-01 13:30",
                    "2026-03-02 12:00",
                    "2026-03-02 12:01",
                    "2026-03-02 12:02",
                    "2026-03-03 09:00",
                ]
            ),
            "channel": ["web", "web", "web", "app", "app", "web", "web", "web", "app"],
        }
    )
    funnel_spec = cx.FunnelSpec(
        ["visit", "cart", "buy"],
        order="ordered",
        window=pd.Timedelta(hours=1),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
        exclusions=["refund"],
    )
    funnel = cx.funnel(events, funnel_spec, customer="customer", event="event", time="time")
    funnels = cx.funnel(events, funnel_spec, customer="customer", event="event", time="time", by="channel")
    assert isinstance(funnel, cx.FunnelResult) and isinstance(funnels, cx.FunnelByGroup)
    return {
        "Interval": cx.proportion_ci(12, 40),
        "Comparison": cx.compare_nps([10, 9, 9, 3, 7], [2, 9, 5, 7, 7, 10]),
        "NpsResult": cx.nps(survey["ltr"], weights=survey["weight"]),
        "NpsResult undefined": cx.nps([None, None]),
        "CsatResult": cx.csat(survey["csat"], satisfied="top_two_box"),
        "CsatResult undefined": cx.csat([None], satisfied="top_box"),
        "CesResult": cx.ces(survey["ces"]),
        "CesResult one answer": cx.ces([5]),
        "DriverAnalysis": analysis,
        "DriverWarning": analysis.warnings[0],
        "Dominance": dominance,
        "SegmentDriverAnalyses": cx.pillar_driver_analysis(tiny, by="segment"),
        "DriverBootstrap": bootstrap,
        "ImportancePerformance": matrix,
        "WhatIf": analysis.what_if(
            {"time_and_effort": 1, "empathy": ("below", 5, 2)}, scale=(1, 10), n_resamples=30
        ),
        "NpsDriverModel": cx.detractor_drivers(survey, drivers=cx.PILLARS[:3]),
        "NpsModelBootstrap": cx.detractor_drivers(survey, drivers=cx.PILLARS[:3]).bootstrap(
            n_resamples=100, seed=1
        ),
        "NpsByGroup": cx.nps_by_group(survey, by="wave", weights="weight"),
        "CsatByGroup": cx.csat(survey["csat"], satisfied="top_two_box", by=survey["segment"]),
        "CesByGroup": cx.ces("ces", by=["wave", "segment"], data=survey, overall=True),
        "PillarSummary": cx.pillar_summary(survey, by="segment", weights="weight"),
        "ChurnResult": cx.churn(customers_start=200, lost=30, new=50),
        "ChurnByGroup": cx.churn(
            start=["2025-01-01", "2025-01-02", "2025-03-01"],
            end=[None, "2025-02-10", None],
            period_start="2025-02-01",
            period_end="2025-03-01",
            by=["a", "a", "b"],
        ),
        "RetentionTable": cx.retention_table(
            customer_id=[1, 1, 2, 3], time=["2026-01-05", "2026-02-10", "2026-01-20", "2026-02-03"]
        ),
        "RepeatRate": cx.repeat_rate(
            customer_id=[1, 1, 2],
            time=["2026-01-05", "2026-02-10", "2026-02-11"],
            window=("2026-02-01", "2026-03-01"),
        ),
        "RetentionTableByGroup": cx.retention_table(
            customer_id=[1, 1, 2, 3, 4],
            time=["2026-01-05", "2026-02-10", "2026-01-20", "2026-02-03", "2026-01-09"],
            by=["a", "a", "b", "b", "a"],
        ),
        "RepeatRateByGroup": cx.repeat_rate(
            customer_id=[1, 1, 2, 3],
            time=["2026-01-05", "2026-02-10", "2026-02-11", "2026-02-12"],
            window=("2026-02-01", "2026-03-01"),
            by=["a", "a", "b", "a"],
        ),
        "SbgFit": cx.sbg([1000, 631, 468, 382, 326, 289, 262, 241]),
        "ClvResult": cx.clv("simple", arpu=50, margin=0.8, churn=0.02, time_unit="month"),
        "BgNbdFit": _btyd()[0],
        "GammaGammaFit": _btyd()[1],
        "CustomerClv": _btyd()[2],
        "Trend": cx.trend(survey, "nps", by="wave", segment="segment", weights="weight"),
        "AllPairs": cx.compare_all(survey, "nps", by="segment"),
        "ResponseTimes": cx.response_times(
            durations=waits,
            outcomes=outcomes,
            weights=survey["weight"],
            target=30.0,
            horizon=120.0,
            quantile_method="nearest_rank",
        ),
        "ResponseTimesByGroup": cx.response_times(
            durations=waits, outcomes=outcomes, by=survey["segment"], target=30.0
        ),
        "Journey": cx.sample_journey_map(),
        "TouchpointScores": cx.touchpoint_scores(
            journey, cx.sample_journey_map(), ltr="ltr", csat="csat", ces="ces"
        ),
        "TouchpointScoresByGroup": cx.touchpoint_scores(
            journey, cx.sample_journey_map(), ltr="ltr", csat="csat", ces="ces", by="segment"
        ),
        "PainPoints": cx.pain_points(
            journey, cx.sample_journey_map(), csat="csat", ces="ces", n_resamples=100
        ),
        "JourneyGaps": cx.journey_gaps(
            cx.touchpoint_scores(journey, cx.sample_journey_map(), csat="csat"), {"app": {"csat": 0.85}}
        ),
        "BrandComparison": cx.compare_brands(
            journey, cx.sample_journey_map(), reference="Northwind", csat="csat"
        ),
        "AuditCompliance": cx.audit_compliance(cx.sample_audit()),
        "SegmentComparison": cx.pillar_driver_analysis(survey, by="segment").compare("north"),
        "PathResult": cx.paths(events, customer="customer", event="event", time="time"),
        "NewVsReturning": cx.new_vs_returning(events, customer="customer", time="time", period="day"),
        "Abandonment": cx.abandonment(
            events, customer="customer", event="event", stages=["visit", "cart", "buy"]
        ),
        "PathResultByGroup": cx.paths(
            events, customer="customer", event="event", time="time", by=events["customer"] % 2
        ),
        "NewVsReturningByGroup": cx.new_vs_returning(
            events, customer="customer", time="time", period="day", by=events["customer"] % 2
        ),
        "AbandonmentByGroup": cx.abandonment(
            events,
            customer="customer",
            event="event",
            stages=["visit", "cart", "buy"],
            by=events["customer"] % 2,
        ),
        "FunnelResult": funnel,
        "TimeToConvert": funnel.time_to_convert,
        "FunnelComparison": funnels["web"].compare(funnels["app"]),
        "FunnelByGroup": funnels,
        **_contact_centre(),
    }


def _contact_centre() -> dict[str, Any]:
    calls = cx.datasets.sample_operations("calls")
    answered = calls[calls["answered"] == 1]
    times: dict[str, Any] = {
        "components": ["talk", "hold", "acw"],
        "talk": "talk_seconds",
        "hold": "hold_seconds",
        "acw": "acw_seconds",
    }
    level: dict[str, Any] = {
        "formula": "icmi2",
        "threshold": 20,
        "waits": "wait_seconds",
        "answered": "answered",
    }
    return {
        "HandlingTime": cx.handling_time(answered, **times),
        "HandlingTimeByGroup": cx.handling_time(answered, by="queue", **times),
        "ServiceLevel": cx.service_level(calls, **level),
        "ServiceLevelByGroup": cx.service_level(calls, by="queue", **level),
    }


def _btyd() -> tuple[Any, Any, Any]:
    from cx_metrics.buy_till_you_die import cdnow_summary

    data = cdnow_summary().iloc[:300]
    fit, spend = cx.bgnbd(data), cx.gamma_gamma(data)
    value = cx.clv_bgnbd(
        fit, spend, data, margin=0.3, discount_rate=0.002, horizon=4, time_unit="week", timing="end"
    )
    return fit, spend, value


NAMES = [
    "Interval",
    "Comparison",
    "NpsResult",
    "NpsResult undefined",
    "CsatResult",
    "CsatResult undefined",
    "CesResult",
    "CesResult one answer",
    "DriverAnalysis",
    "DriverWarning",
    "Dominance",
    "SegmentDriverAnalyses",
    "DriverBootstrap",
    "ImportancePerformance",
    "WhatIf",
    "NpsDriverModel",
    "NpsModelBootstrap",
    "NpsByGroup",
    "CsatByGroup",
    "CesByGroup",
    "PillarSummary",
    "ChurnResult",
    "ChurnByGroup",
    "RetentionTable",
    "RetentionTableByGroup",
    "RepeatRate",
    "RepeatRateByGroup",
    "SbgFit",
    "ClvResult",
    "BgNbdFit",
    "GammaGammaFit",
    "CustomerClv",
    "Trend",
    "AllPairs",
    "ResponseTimes",
    "ResponseTimesByGroup",
    "Journey",
    "TouchpointScores",
    "TouchpointScoresByGroup",
    "PainPoints",
    "JourneyGaps",
    "BrandComparison",
    "AuditCompliance",
    "SegmentComparison",
    "PathResult",
    "PathResultByGroup",
    "NewVsReturning",
    "NewVsReturningByGroup",
    "Abandonment",
    "AbandonmentByGroup",
    "FunnelResult",
    "FunnelComparison",
    "FunnelByGroup",
    "TimeToConvert",
    "HandlingTime",
    "HandlingTimeByGroup",
    "ServiceLevel",
    "ServiceLevelByGroup",
]
TABULAR = {
    "SegmentComparison",
    "Abandonment",
    "AbandonmentByGroup",
    "NewVsReturning",
    "NewVsReturningByGroup",
    "PathResultByGroup",
    "NpsResult",
    "NpsResult undefined",
    "CsatResult",
    "CsatResult undefined",
    "CesResult",
    "CesResult one answer",
    "DriverAnalysis",
    "Dominance",
    "SegmentDriverAnalyses",
    "DriverBootstrap",
    "ImportancePerformance",
    "WhatIf",
    "NpsDriverModel",
    "NpsModelBootstrap",
    "NpsByGroup",
    "CsatByGroup",
    "CesByGroup",
    "PillarSummary",
    "ChurnByGroup",
    "RetentionTable",
    "RetentionTableByGroup",
    "RepeatRateByGroup",
    "Trend",
    "AllPairs",
    "ResponseTimes",
    "ResponseTimesByGroup",
    "CustomerClv",
    "TouchpointScores",
    "TouchpointScoresByGroup",
    "PainPoints",
    "JourneyGaps",
    "BrandComparison",
    "AuditCompliance",
    "FunnelResult",
    "FunnelComparison",
    "FunnelByGroup",
    "TimeToConvert",
    "HandlingTimeByGroup",
    "ServiceLevelByGroup",
}
WARNED = {
    "NpsResult undefined",
    "CsatResult undefined",
    "DriverAnalysis",
    "DriverWarning",
    "SegmentDriverAnalyses",
    "ImportancePerformance",
    "WhatIf",
    "PillarSummary",
    "ResponseTimes",
}


def test_every_public_result_is_covered(results: dict[str, Any]) -> None:
    public = {
        name
        for name in cx.__all__
        if isinstance(getattr(cx, name), type) and not name.endswith("Tally") and name != "CxMetricsError"
    }
    public -= {"RegressionMoments"}  # a mergeable state, like the tallies: not a result
    public -= {"CustomerSummary"}  # a mergeable state too
    public -= {"EventTable"}  # the mergeable state of service times: not a result
    public -= {"ByGroup"}  # the shared base of NpsByGroup, CsatByGroup and CesByGroup
    public -= {"FunnelSpec"}  # the rules of a funnel: an argument of cx.funnel, not a result
    public -= {n for n in public if issubclass(getattr(cx, n), Warning)}  # warning categories
    covered = {type(r).__name__ for r in results.values()}
    assert public - {"Pillar"} <= covered, public - covered
    assert set(NAMES) == set(results)


@pytest.mark.parametrize("name", NAMES)
def test_repr_is_the_class_and_its_fields(results: dict[str, Any], name: str) -> None:
    r = results[name]
    text = repr(r)
    assert text.startswith(type(r).__name__ + "("), text[:80]
    assert "object at 0x" not in text and "\n" not in text


@pytest.mark.parametrize("name", NAMES)
def test_str_is_a_readable_summary(results: dict[str, Any], name: str) -> None:
    r = results[name]
    text = str(r)
    assert text and text != repr(r) and "object at 0x" not in text
    first = text.splitlines()[0]
    assert len(first) <= 140, first
    if hasattr(r, "n") and isinstance(r.n, int):
        assert str(r.n) in text or f"{r.n:,}" in text


@pytest.mark.parametrize("name", NAMES)
def test_html_is_a_well_formed_table_without_script(results: dict[str, Any], name: str) -> None:
    r = results[name]
    html = r._repr_html_()
    tags = parse(html)
    assert "table" in tags.tags
    assert "script" not in tags.tags and not re.search(r"\bon\w+=", html)
    for attrs in tags.attrs:
        assert set(attrs) <= {"style", "class", "colspan"}
    n = getattr(r, "n", None)
    if isinstance(n, int):
        assert any(str(n) in t for t in tags.text), f"{name}: n = {n} not shown"
    warnings = [a for a in tags.attrs if a.get("class") == "cx-warning"]
    assert bool(warnings) == (name in WARNED), name
    for a in warnings:
        assert "background-color" in (a.get("style") or "")


@pytest.mark.parametrize("name", NAMES)
def test_html_shows_intervals(results: dict[str, Any], name: str) -> None:
    r = results[name]
    text = " ".join(parse(r._repr_html_()).text)
    # A warning, a dominance table and an undefined score have no interval; the segment overview and the
    # matrix summarise results whose intervals live in each analysis and in the bootstrap.
    if name in {
        "DriverWarning",
        "Dominance",
        "NpsResult undefined",
        "CsatResult undefined",
        "SegmentDriverAnalyses",
        "ImportancePerformance",
        "RetentionTable",  # shares of whole cohorts, counted
        "RetentionTableByGroup",  # the same per segment
        "ClvResult",  # a formula of given rates
        "BgNbdFit",  # standard errors, in the table
        "GammaGammaFit",  # standard errors, in the table
        "CustomerClv",  # a formula of fitted models
        "Journey",  # the map itself: stages and touchpoints, no estimate
        "PathResult",  # counts of paths, transitions and gaps
        "PathResultByGroup",  # the same per group
        "NewVsReturning",  # counts of customers per period
        "NewVsReturningByGroup",  # the same per group
    }:
        return
    assert "CI" in text or "confidence interval" in text, name


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_is_json_safe_and_round_trips(results: dict[str, Any], name: str) -> None:
    d = results[name].to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d


@pytest.mark.parametrize("name", NAMES)
def test_results_pickle(results: dict[str, Any], name: str) -> None:
    r = results[name]
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is type(r)
    assert back.to_dict() == r.to_dict()
    assert str(back) == str(r) and repr(back) == repr(r) and back._repr_html_() == r._repr_html_()
    if "undefined" not in name and name not in {"CesResult one answer", "PillarSummary"}:
        assert back == r
    if name in TABULAR:
        pd.testing.assert_frame_equal(back.to_pandas(), r.to_pandas())


@pytest.mark.parametrize("name", sorted(TABULAR))
def test_pandas_and_polars_frames_hold_the_same_table(results: dict[str, Any], name: str) -> None:
    r = results[name]
    assert isinstance(r, Tabular)
    frame = r.to_pandas()
    polars = r.to_polars()
    assert isinstance(frame, pd.DataFrame) and isinstance(polars, pl.DataFrame)
    assert list(frame.columns) == polars.columns and frame.shape == polars.shape and len(frame) > 0
    assert isinstance(frame.index, pd.RangeIndex)
    # Missing or undefined figures: NaN in pandas, null in polars (never NaN there).
    assert pl.from_pandas(frame).equals(polars)
    for column, dtype in polars.schema.items():
        if dtype == pl.Float64:
            assert not polars[column].is_nan().any(), column


@pytest.mark.parametrize("name", sorted(set(NAMES) - TABULAR))
def test_results_that_are_not_tables_have_no_frames(results: dict[str, Any], name: str) -> None:
    assert not hasattr(results[name], "to_pandas")


def test_single_scores_are_one_row_of_the_group_tables(results: dict[str, Any]) -> None:
    r = results["NpsResult"]
    row = r.to_pandas().iloc[0]
    ci = r.ci()
    assert (row["n"], row["score"], row["ci_low"], row["ci_high"]) == (r.n, r.score, ci.low, ci.high)
    assert (row["promoters"], row["passives"], row["detractors"]) == (r.promoters, r.passives, r.detractors)
    grouped = results["NpsByGroup"].to_pandas()
    own = [c for c in r.to_pandas().columns if c not in ("n", "score", "ci_low", "ci_high")]
    assert list(grouped.columns) == ["wave", "estimate", "ci_low", "ci_high", "n", *own]
    undefined = results["NpsResult undefined"].to_pandas().iloc[0]
    assert undefined["n"] == 0 and math.isnan(undefined["score"]) and math.isnan(undefined["ci_low"])
    csat = results["CsatResult"]
    row = csat.to_pandas().iloc[0]
    assert (row["share_satisfied"], row["ci_low"], row["mean_ci_high"]) == (
        csat.share_satisfied,
        csat.ci().low,
        csat.mean_ci().high,
    )
    one = results["CesResult one answer"].to_pandas().iloc[0]
    assert one["mean"] == 5.0 and math.isnan(one["mean_ci_low"]) and not math.isnan(one["ci_low"])


def test_driver_table_joins_importance_and_coefficients(results: dict[str, Any]) -> None:
    r = results["DriverAnalysis"]
    table = r.to_pandas().set_index("driver")
    imp, coef = r.importance, r.coefficients
    assert list(table.index) == list(r.units)
    for c in imp.columns:
        assert table[c].tolist() == imp[c].tolist()
    for c in coef.columns:
        assert table[c].tolist() == coef.loc[list(r.units), c].tolist()
    assert table["vif"].tolist() == r.vif.loc[list(r.units)].tolist()
    assert table["correlation"].tolist() == r.correlations.loc[list(r.units)].tolist()


def test_grouped_drivers_have_no_coefficients(survey: pd.DataFrame) -> None:
    r = cx.driver_analysis(
        survey,
        drivers=["integrity", "expectations", "time_and_effort"],
        groups={"promise": ["integrity", "expectations"], "ease": ["time_and_effort"]},
    )
    table = r.to_pandas()
    assert table["driver"].tolist() == ["promise", "ease"]
    assert table["estimate"].isna().all() and table["lmg"].notna().all()


def test_segment_table_keeps_the_skipped_segment(results: dict[str, Any]) -> None:
    r = results["SegmentDriverAnalyses"]
    table = r.to_pandas()
    assert set(table["segment"]) == set(r.segments)
    skipped = table[table["segment"] == "tiny"]
    assert len(skipped) == 1 and skipped["driver"].isna().all() and skipped["lmg"].isna().all()
    assert skipped["skipped"].iloc[0] == r.skipped["tiny"] and skipped["n_rows"].iloc[0] == 4
    north = table[table["segment"] == "north"].set_index("driver")
    assert north["lmg_share"].tolist() == r["north"].importance["lmg_share"].tolist()
    assert (north["n"] == r["north"].n).all()
    assert "tiny skipped" in r._repr_html_() and "skipped tiny" in str(r)


def test_bootstrap_table_holds_importance_then_coefficients(results: dict[str, Any]) -> None:
    b = results["DriverBootstrap"]
    table = b.to_pandas()
    imp = table[table["measure"] != "coefficient"].set_index(["measure", "term"])
    pd.testing.assert_frame_equal(imp, b.importance, check_names=False)
    coef = table[table["measure"] == "coefficient"].drop(columns="measure").set_index("term")
    pd.testing.assert_frame_equal(coef, b.coefficients, check_names=False)


def test_matrix_and_what_if_tables(results: dict[str, Any]) -> None:
    m = results["ImportancePerformance"]
    table = m.to_pandas()
    assert table.columns[0] == "driver" and table["quadrant"].tolist() == m.drivers["quadrant"].tolist()
    assert table["uncertain_importance"].dtype == bool and table["priority"].dtype == np.int64
    w = results["WhatIf"]
    assert w.to_pandas()["shift"].tolist() == ["+1 points", "+2 points below 5"]
    assert "+1 points" in str(w) and "{" not in str(w)


def test_dominance_table(results: dict[str, Any]) -> None:
    d = results["Dominance"]
    table = d.to_pandas()
    assert table["general"].tolist() == d.general.tolist()
    for k in range(len(d.names)):
        assert table[f"conditional_{k}"].tolist() == d.conditional_by_size[k].tolist()
    complete = d.complete
    for _, row in table.iterrows():
        listed = [x for x in str(row["completely_dominates"]).split(", ") if x]
        assert listed == [c for c in d.names if c != row["driver"] and complete.loc[row["driver"], c] == 1.0]


def test_every_text_is_escaped(survey: pd.DataFrame) -> None:
    data = survey.rename(columns={"empathy": HOSTILE})
    data["wave"] = data["wave"].astype(str).replace({"2026-Q1": HOSTILE})
    made: list[Any] = [
        cx.driver_analysis(data, drivers=["integrity", HOSTILE]),
        cx.driver_analysis(data, drivers=["integrity", HOSTILE]).matrix(scale=(1, 10)),
        cx.driver_analysis(data, drivers=["integrity", HOSTILE]).bootstrap(n_resamples=10, seed=1),
        cx.promoter_drivers(data, drivers=[HOSTILE]),
        cx.driver_analysis(data, drivers=["integrity", HOSTILE], by="wave"),
        cx.nps_by_group(data, by="wave"),
        cx.pillar_summary(data, items={HOSTILE: "empathy"}, by="wave"),
    ]
    log = pd.DataFrame(
        {
            "customer": [1, 1, 2],
            "event": [HOSTILE, "buy", HOSTILE],
            "time": pd.to_datetime(["2026-03-01 10:00", "2026-03-01 10:05", "2026-03-01 11:00"]),
            "segment": [HOSTILE, HOSTILE, "b"],
        }
    )
    spec = cx.FunnelSpec(
        [HOSTILE, "buy"],
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
        exclusions=[HOSTILE + "!"],
    )
    funnels = cx.funnel(log, spec, customer="customer", event="event", time="time", by="segment")
    assert isinstance(funnels, cx.FunnelByGroup)
    made += [funnels, funnels[HOSTILE], funnels[HOSTILE].compare(funnels["b"])]
    for r in made:
        html = r._repr_html_()
        assert "<script>" not in html and "&lt;script&gt;" in html, type(r).__name__
        parse(html)


def test_display_of_interval_and_comparison() -> None:
    ci = cx.Interval(-0.25, 0.5, 0.9, "wald", clipped=True)
    assert str(ci) == "90% CI [-0.250, 0.500] (wald)"
    text = " ".join(parse(ci._repr_html_()).text)
    assert "90% confidence interval" in text and "-0.25" in text and "yes" in text
    c = cx.compare_proportions(56, 70, 48, 80)
    text = " ".join(parse(c._repr_html_()).text)
    assert f"{100 * c.difference:+.1f} points" in text and "p-value" in text


def test_warning_rows_say_what_is_wrong(results: dict[str, Any]) -> None:
    html = results["NpsResult undefined"]._repr_html_()
    assert "undefined: no rows were counted" in html
    html = results["DriverAnalysis"]._repr_html_()
    assert "resolution: 704 missing values filled" in html
    assert results["DriverWarning"].to_dict()["kind"] == "missing_indicator"


def test_polars_frames_need_no_pandas() -> None:
    """A polars user without pandas installed gets every table."""
    code = """
import sys
sys.modules["pandas"] = None  # as if pandas were not installed
import numpy as np
import polars as pl
import cx_metrics as cx
rng = np.random.default_rng(1)
df = pl.DataFrame({"ltr": rng.integers(0, 11, 300), "a": rng.integers(1, 11, 300),
                   "b": rng.integers(1, 11, 300), "g": rng.choice(["x", "y"], 300)})
r = cx.driver_analysis(df, drivers=["a", "b"])
results = [r, r.dominance, r.bootstrap(n_resamples=10, seed=1), r.matrix(scale=(1, 10)),
           r.what_if({"a": 1}, scale=(1, 10)), cx.promoter_drivers(df, drivers=["a"]),
           cx.driver_analysis(df, drivers=["a", "b"], by="g"), cx.nps_by_group(df, by="g"),
           cx.pillar_summary(df, items={"a": "integrity"}, by="g"), cx.nps(df["ltr"]),
           cx.csat(df["a"], 10, satisfied="top_box"), cx.ces(df["a"].clip(1, 7))]
for obj in results:
    assert obj.to_polars().height > 0
    str(obj), obj._repr_html_(), obj.to_dict()
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        # The cx_metrics under test (the installed wheel, or the source tree when built in place).
        env={"PYTHONPATH": str(Path(cx.__file__).resolve().parents[1]), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
