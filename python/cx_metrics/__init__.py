"""cx_metrics: customer-experience analytics with honest intervals.

Net Promoter Score, CSAT and CES from survey ratings, with confidence intervals, comparisons and
sample-size planning. The statistics run in Rust; this package converts inputs (lists, numpy, pandas,
polars, pyarrow), holds results and formats them.

>>> import cx_metrics as cx
>>> r = cx.nps([10, 9, 9, 8, 7, 6, 3, 10, 9, 0, None])
>>> print(r)  # doctest: +ELLIPSIS
NPS +20.0 (95% CI ...; n=10: 50.0% promoters, 20.0% passives, 30.0% detractors)
>>> (r.n, r.n_omitted)
(10, 1)

Every result prints a summary, renders as a table in Jupyter, converts with ``to_dict()`` (and
``to_pandas()`` / ``to_polars()`` when it is a table) and pickles; most draw themselves with ``.plot()``
(matplotlib, the ``plot`` extra), through the functions of :mod:`cx_metrics.plot`, which is imported
only when first used.
"""

from __future__ import annotations

from typing import Any

from . import datasets, exceptions
from ._native import __version__
from ._results import Comparison, Interval
from ._tally import PairedNpsTally, RegressionMoments, ScaleTally
from .buy_till_you_die import BgNbdFit, CustomerClv, GammaGammaFit, bgnbd, clv_bgnbd, gamma_gamma, rfm_summary
from .ces import CesResult, CesTally, ces, compare_ces
from .clv import ClvResult, SbgFit, clv, sbg
from .contact_center import HandlingTally as HandlingTally
from .contact_center import HandlingTime as HandlingTime
from .contact_center import HandlingTimeByGroup as HandlingTimeByGroup
from .contact_center import ServiceLevel as ServiceLevel
from .contact_center import ServiceLevelByGroup as ServiceLevelByGroup
from .contact_center import ServiceLevelTally as ServiceLevelTally
from .contact_center import handling_time, service_level
from .csat import CsatResult, CsatTally, compare_csat, csat
from .driver_bootstrap import DriverBootstrap
from .driver_matrix import ImportancePerformance, WhatIf
from .driver_matrix import PerformanceNoiseWarning as PerformanceNoiseWarning
from .driver_segments import SegmentComparison as SegmentComparison
from .drivers import DriverAnalysis, DriverWarning, SegmentDriverAnalyses, driver_analysis
from .exceptions import CxMetricsError
from .funnels import FunnelByGroup as FunnelByGroup
from .funnels import FunnelComparison as FunnelComparison
from .funnels import FunnelResult as FunnelResult
from .funnels import FunnelSpec as FunnelSpec
from .funnels import FunnelTally as FunnelTally
from .funnels import compare_funnels as compare_funnels
from .funnels import funnel as funnel
from .journey import AuditCompliance as AuditCompliance
from .journey import AuditTally as AuditTally
from .journey import BrandComparison as BrandComparison
from .journey import Journey as Journey
from .journey import JourneyGaps as JourneyGaps
from .journey import PainPoints as PainPoints
from .journey import TouchpointScores as TouchpointScores
from .journey import TouchpointScoresByGroup as TouchpointScoresByGroup
from .journey import audit_compliance as audit_compliance
from .journey import compare_brands as compare_brands
from .journey import journey_gaps as journey_gaps
from .journey import pain_points as pain_points
from .journey import sample_audit as sample_audit
from .journey import sample_journey as sample_journey
from .journey import sample_journey_map as sample_journey_map
from .journey import touchpoint_scores as touchpoint_scores
from .nps import (
    NpsResult,
    NpsTally,
    compare_nps,
    nps,
    nps_bootstrap_ci,
    nps_sample_size,
    nps_sample_size_two_groups,
)
from .nps import ScaleWarning as ScaleWarning
from .nps_drivers import NpsDriverModel, NpsModelBootstrap, detractor_drivers, promoter_drivers
from .nps_groups import ByGroup as ByGroup
from .nps_groups import CesByGroup as CesByGroup
from .nps_groups import CsatByGroup as CsatByGroup
from .nps_groups import MissingLabelWarning as MissingLabelWarning
from .nps_groups import NpsByGroup, nps_by_group
from .paths import (
    Abandonment,
    AbandonmentByGroup,
    NewVsReturning,
    NewVsReturningByGroup,
    PathResult,
    PathResultByGroup,
    PathTally,
    abandonment,
    new_vs_returning,
    paths,
)
from .pillars import PILLARS, Pillar, PillarSummary, pillar_driver_analysis, pillar_summary
from .pillars import PillarTally as PillarTally
from .promoter_value import NpsValueTally as NpsValueTally
from .promoter_value import nps_value
from .proportions import compare_proportions, proportion_ci
from .retention import (
    ChurnByGroup,
    ChurnResult,
    CohortTally,
    CustomerSummary,
    RepeatRate,
    RepeatRateByGroup,
    RetentionTable,
    RetentionTableByGroup,
    churn,
    convert_churn,
    repeat_rate,
    retention_table,
)
from .scoring import ClvModel as ClvModel
from .scoring import DriverModel as DriverModel
from .scoring import DriverPrediction as DriverPrediction
from .scoring import LogisticModel as LogisticModel
from .scoring import LogisticPrediction as LogisticPrediction
from .scoring import RetentionModel as RetentionModel
from .service_times import EventTable as EventTable
from .service_times import ResponseTimes as ResponseTimes
from .service_times import ResponseTimesByGroup as ResponseTimesByGroup
from .service_times import response_times
from .trend import AllPairs, Trend, compare_all, trend

__all__ = [
    "PILLARS",
    "Abandonment",
    "AbandonmentByGroup",
    "AllPairs",
    "ByGroup",
    "CesByGroup",
    "CesResult",
    "CesTally",
    "ChurnByGroup",
    "ChurnResult",
    "ClvResult",
    "CohortTally",
    "Comparison",
    "CsatByGroup",
    "CsatResult",
    "CsatTally",
    "CustomerSummary",
    "CxMetricsError",
    "DriverAnalysis",
    "DriverBootstrap",
    "DriverWarning",
    "EventTable",
    "ImportancePerformance",
    "Interval",
    "MissingLabelWarning",
    "NewVsReturning",
    "NewVsReturningByGroup",
    "NpsByGroup",
    "NpsDriverModel",
    "NpsModelBootstrap",
    "NpsResult",
    "NpsTally",
    "PairedNpsTally",
    "PathResult",
    "PathResultByGroup",
    "PathTally",
    "PerformanceNoiseWarning",
    "Pillar",
    "PillarSummary",
    "RegressionMoments",
    "RepeatRate",
    "RepeatRateByGroup",
    "ResponseTimes",
    "ResponseTimesByGroup",
    "RetentionTable",
    "RetentionTableByGroup",
    "SbgFit",
    "ScaleTally",
    "ScaleWarning",
    "SegmentComparison",
    "SegmentDriverAnalyses",
    "Trend",
    "WhatIf",
    "__version__",
    "abandonment",
    "ces",
    "churn",
    "clv",
    "compare_all",
    "compare_ces",
    "compare_csat",
    "compare_nps",
    "compare_proportions",
    "convert_churn",
    "csat",
    "datasets",
    "detractor_drivers",
    "driver_analysis",
    "exceptions",
    "handling_time",
    "new_vs_returning",
    "nps",
    "nps_bootstrap_ci",
    "nps_by_group",
    "nps_sample_size",
    "nps_sample_size_two_groups",
    "nps_value",
    "paths",
    "pillar_driver_analysis",
    "pillar_summary",
    "promoter_drivers",
    "proportion_ci",
    "repeat_rate",
    "response_times",
    "retention_table",
    "sbg",
    "service_level",
    "trend",
]
__all__ += ["BgNbdFit", "CustomerClv", "GammaGammaFit", "bgnbd", "clv_bgnbd", "gamma_gamma", "rfm_summary"]


def __getattr__(name: str) -> Any:
    # ``cx.plot`` imports matplotlib on first use only (``import cx_metrics`` never does).
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ += [
    "AuditCompliance",
    "AuditTally",
    "BrandComparison",
    "Journey",
    "JourneyGaps",
    "PainPoints",
    "TouchpointScores",
    "TouchpointScoresByGroup",
    "audit_compliance",
    "compare_brands",
    "journey_gaps",
    "pain_points",
    "sample_audit",
    "sample_journey",
    "sample_journey_map",
    "touchpoint_scores",
]

__all__ += [
    "FunnelByGroup",
    "FunnelComparison",
    "FunnelResult",
    "FunnelSpec",
    "FunnelTally",
    "compare_funnels",
    "funnel",
]

__all__ += [
    "HandlingTally",
    "HandlingTime",
    "HandlingTimeByGroup",
    "ServiceLevel",
    "ServiceLevelByGroup",
    "ServiceLevelTally",
]

__all__ += [
    "PillarTally",
]

__all__ += [
    "NpsValueTally",
]

from .funnels import FunnelStepWarning as FunnelStepWarning  # noqa: E402
from .funnels import TimeToConvert as TimeToConvert  # noqa: E402

__all__ += [
    "FunnelStepWarning",
    "TimeToConvert",
]
