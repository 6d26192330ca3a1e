"""Typical use of the public API, written to pass ``mypy --strict`` (CI runs it) and run as a test."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
from matplotlib.axes import Axes

import cx_metrics as cx
from cx_metrics import plot


def weekly_csat(chunks: list[npt.NDArray[np.int16]]) -> tuple[cx.CsatResult, cx.Interval]:
    tally = cx.CsatTally(5)
    for chunk in chunks:
        part = cx.CsatTally(5)
        part.fold(chunk)
        tally = tally + part
    result: cx.CsatResult = tally.result(satisfied="top_two_box")
    return result, result.ci(0.9, "jeffreys")


def effort(values: list[int | None]) -> float:
    r: cx.CesResult = cx.ces(values, version=2, nan_policy="omit")
    ci: cx.Interval = r.mean_ci(0.95)
    return ci.width


def loyalty(ratings: npt.NDArray[np.uint8], weights: list[float]) -> tuple[float, cx.Interval, int]:
    r: cx.NpsResult = cx.nps(ratings, weights=weights, nan_policy="raise")
    ci = r.ci(confidence_level=0.9, method="tango")
    diff: cx.Comparison = cx.compare_nps(r, cx.nps([10, 0, 7]), method="wald")
    assert diff.ci(0.95).width > 0
    planned: int = cx.nps_sample_size(0.05, shares=(0.5, 0.2)) + cx.nps_sample_size_two_groups(0.1)
    return r.score, ci, planned


def pillar_priorities(survey: object) -> tuple[float, str, float]:
    r: cx.DriverAnalysis = cx.driver_analysis(survey, drivers=cx.PILLARS, weights="weight")
    m: cx.ImportancePerformance = r.matrix(scale=(1, 10), top_box=2)
    w: cx.WhatIf = r.what_if({m.priorities[0]: 1.0}, scale=(1, 10))
    segments: cx.SegmentDriverAnalyses = cx.pillar_driver_analysis(survey, by="segment")
    model: cx.NpsDriverModel = cx.promoter_drivers(survey, drivers=[cx.Pillar.EMPATHY])
    assert len(segments) > 0 and model.n > 0
    return r.r_squared, m.priorities[0], w.change


def stored_results(survey: pd.DataFrame) -> tuple[str, float]:
    """Results stored as JSON (or pickled) and read back; a driver analysis takes its data again."""
    r: cx.DriverAnalysis = cx.pillar_driver_analysis(survey, weights="weight")
    back: cx.DriverAnalysis = cx.DriverAnalysis.from_json(r.to_json())
    again: cx.DriverAnalysis = back.with_data(survey, weights="weight")
    m: cx.ImportancePerformance = cx.ImportancePerformance.from_json(again.matrix(scale=(1, 10)).to_json())
    boot: cx.DriverBootstrap = cx.DriverBootstrap.from_json(again.bootstrap(n_resamples=10, seed=1).to_json())
    w: cx.WhatIf = cx.WhatIf.from_json(again.what_if({"empathy": 1.0}, scale=(1, 10)).to_json())
    seg: cx.SegmentDriverAnalyses = cx.SegmentDriverAnalyses.from_json(
        cx.pillar_driver_analysis(survey, by="segment").to_json()
    )
    model: cx.NpsDriverModel = cx.NpsDriverModel.from_json(
        cx.detractor_drivers(survey, drivers=cx.PILLARS).to_json()
    )
    pillars: cx.PillarSummary = cx.PillarSummary.from_json(cx.pillar_summary(survey).to_json())
    stored: dict[str, object] = r.to_dict()
    assert back == r and boot.n_resamples == 10 and len(seg) > 0 and model.n > 0 and "options" in stored
    assert pillars.n_respondents == len(survey)
    return m.priorities[0], w.change


def story(survey: pd.DataFrame) -> list[Axes]:
    waves: cx.NpsByGroup = cx.nps_by_group(survey, by="wave", weights="weight", confidence_level=0.9)
    first: cx.NpsResult = waves[waves.groups[0]]
    ci: cx.Interval | None = waves.intervals[waves.groups[0]]
    table: pd.DataFrame = waves.table
    frame: pl.DataFrame = waves.to_polars()
    assert first.n > 0 and ci is not None and len(table) == frame.height == 4
    pillars: cx.PillarSummary = cx.pillar_summary(
        survey, items={p.id: p for p in cx.Pillar}, scale=(1, 10), by="segment", weights="weight", top_box=2
    )
    scores: pd.DataFrame = pillars.scores
    summary: dict[str, object] = pillars.to_dict()
    assert scores.shape == (2000, 6) and "summaries" in summary
    analysis: cx.DriverAnalysis = cx.pillar_driver_analysis(survey)
    boot: cx.DriverBootstrap = analysis.bootstrap(n_resamples=20, seed=1)
    drivers: pd.DataFrame = analysis.to_pandas()
    assert len(drivers) == 6
    return [
        first.plot(confidence_level=0.9),
        waves.plot(kind="bar"),
        cx.csat(survey["csat"], satisfied="top_two_box").plot(),
        plot.rating_distribution(cx.ces(survey["ces"])),
        plot.importance(boot, interval="bca"),
        analysis.plot(measure="johnson"),
        analysis.matrix(scale=(1, 10)).plot(),
        plot.pillar_profile(pillars),
    ]


def grouped(survey: pd.DataFrame) -> int:
    """Every metric by group: the same by= forms, typed labels, one table shape."""
    waves: cx.NpsByGroup = cx.nps("ltr", by="wave", data=survey, weights="weight", overall=True)
    shops: cx.CsatByGroup = cx.csat(survey["csat"], satisfied="top_box", by=survey["segment"])
    both: cx.CesByGroup = cx.ces("ces", by=["wave", "segment"], data=survey)
    base: cx.ByGroup[cx.NpsResult] = waves
    segments: cx.SegmentDriverAnalyses = cx.driver_analysis(
        survey, drivers=["empathy", "integrity"], by=["segment"]
    )
    by_segment: cx.DriverAnalysis = segments[segments.segments[0]]
    with_all: cx.SegmentDriverAnalyses = cx.driver_analysis(
        survey, drivers=["empathy", "integrity"], by="segment", overall=True
    )
    everyone: cx.DriverAnalysis | None = with_all.overall
    assert everyone is not None and everyone.n > 0
    pillars: cx.PillarSummary = cx.pillar_summary(survey, by="segment", overall=True)
    rows: pd.DataFrame = pillars[pillars.groups[0]]
    table: pd.DataFrame = shops.table
    assert list(table.columns[:4]) == ["segment", "estimate", "ci_low", "ci_high"]
    assert base.overall.n > 0 and len(both) > 0 and by_segment.n > 0 and len(rows) == 6
    return len(segments) + len(pillars)


def archived(survey: pd.DataFrame) -> tuple[cx.NpsByGroup, cx.Trend, cx.Comparison]:
    by_region: cx.NpsByGroup = cx.NpsByGroup.from_json(cx.nps(survey["ltr"], by=survey["segment"]).to_json())
    waves = cx.trend(survey, metric="nps", outcome="ltr", by="wave")
    kept: cx.Trend = cx.Trend.from_json(waves.to_json())
    diff = cx.Comparison.from_json(cx.compare_nps([10, 9, 3], [7, 8, 2]).to_json())
    return by_region, kept, diff


def funnels() -> tuple[cx.FunnelResult, cx.FunnelByGroup, cx.FunnelComparison]:
    """A funnel with every rule named, by segment, compared, stored and read back."""
    import datetime

    log = pd.DataFrame(
        {
            "customer": [1, 1, 2, 2, 3],
            "event": ["visit", "buy", "visit", "visit", "visit"],
            "time": pd.to_datetime(
                [
                    "2026-03-01 10:00",
                    "2026-03-01 10:20",
                    "2026-03-01 11:00",
                    "2026-03-02 09:00",
                    "2026-03-01 12:00",
                ]
            ),
            "channel": ["web", "web", "app", "app", "web"],
        }
    )
    spec = cx.FunnelSpec(
        ["visit", "buy"],
        order="ordered",
        window=datetime.timedelta(hours=1),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    r = cx.funnel(log, spec, customer="customer", event="event", time="time")
    by = cx.funnel(log, spec, customer="customer", event="event", time="time", by="channel")
    assert isinstance(r, cx.FunnelResult) and isinstance(by, cx.FunnelByGroup)
    ci: cx.Interval | None = r.conversion_ci
    assert ci is not None and ci.contains(r.converted / r.entered)
    stored: cx.FunnelByGroup = cx.FunnelByGroup.from_json(by.to_json())
    web: cx.FunnelResult = stored["web"]
    diff: cx.FunnelComparison = cx.compare_funnels(web, stored["app"], confidence_level=0.9)
    table: pd.DataFrame = stored.to_pandas()
    assert list(table.columns[:2]) == ["channel", "step"] and len(diff.to_pandas()) == 2
    return cx.FunnelResult.from_json(r.to_json()), stored, diff


def uncertain_quadrants(survey: pd.DataFrame) -> tuple[list[str], int]:
    """The matrix's importance intervals read from a bootstrap of the same analysis."""
    r: cx.DriverAnalysis = cx.pillar_driver_analysis(survey, weights="weight")
    boot: cx.DriverBootstrap = r.bootstrap(n_resamples=50, seed=3, measures=["lmg"])
    shares: pd.DataFrame = boot.shares
    counts: npt.NDArray[np.uint32] = boot.resample_counts()
    failed: dict[str, int] = boot.n_share_failed
    m: cx.ImportancePerformance = r.matrix(scale=(1, 10), importance_intervals=boot, interval="bca")
    again: cx.ImportancePerformance = r.matrix(
        scale=(1, 10), importance_intervals="bootstrap", n_resamples=20, seed=1
    )
    source: dict[str, object] | None = m.importance_source
    assert source is not None and again.importance_source is not None and failed["lmg"] == 0
    flagged: list[str] = m.drivers.index[m.drivers["uncertain_importance"]].tolist()
    return flagged, int(counts.shape[0]) + len(shares) - 6


def test_typed_usage() -> None:
    score, ci, planned = loyalty(np.array([10, 9, 3, 7], dtype=np.uint8), [1.0, 2.0, 1.0, 0.5])
    assert ci.contains(score) and planned > 1000
    chunks = [np.array([5, 4, 3], dtype=np.int16), np.array([2, 5], dtype=np.int16)]
    result, ci = weekly_csat(chunks)
    assert result.n == 5 and ci.method == "jeffreys" and ci.contains(result.share_satisfied)
    assert effort([7, 6, None, 2]) > 0.0
    comparison: cx.Comparison = cx.compare_proportions(56, 70, 48, 80)
    assert comparison.p_value < 0.01
    interval: cx.Interval = cx.proportion_ci(1, 29, method="clopper_pearson")
    assert interval.low > 0.0
    r2, first, change = pillar_priorities(cx.datasets.sample_survey())
    assert 0.0 < r2 < 1.0 and first in cx.PILLARS and change > 0.0
    top, change = stored_results(cx.datasets.sample_survey())
    assert top in cx.PILLARS and change > 0.0
    assert grouped(cx.datasets.sample_survey()) > 0
    by_region, kept, diff = archived(cx.datasets.sample_survey())
    assert len(by_region.groups) > 1 and kept.waves and diff.std_error > 0
    one, segments, funnel_diff = funnels()
    assert one.converted == 1 and len(segments) == 2 and funnel_diff.confidence_level == 0.9
    flagged, replicates = uncertain_quadrants(cx.datasets.sample_survey())
    assert set(flagged) <= set(cx.PILLARS) and replicates == 50
    axes = story(cx.datasets.sample_survey())
    assert all(isinstance(ax, Axes) for ax in axes)
    plt.close("all")
