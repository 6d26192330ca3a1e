"""cx_metrics: customer-experience analytics with honest intervals.

Net Promoter Score, CSAT and CES from survey ratings, with confidence intervals, comparisons and
sample-size planning. The statistics run in Rust; this package converts inputs (lists, numpy, pandas,
polars, pyarrow), holds results and formats them.

>>> import cx_metrics as cx
>>> r = cx.csat([5, 4, 4, 2, None], satisfied="top_two_box")
>>> (r.share_satisfied, r.n, r.n_omitted)
(0.75, 4, 1)
"""

from __future__ import annotations

from . import datasets, exceptions
from ._native import __version__
from ._results import Comparison, Interval
from ._tally import ScaleTally
from .ces import CesResult, CesTally, ces, compare_ces
from .csat import CsatResult, CsatTally, compare_csat, csat
from .exceptions import CxMetricsError
from .proportions import compare_proportions, proportion_ci

__all__ = [
    "CesResult",
    "CesTally",
    "Comparison",
    "CsatResult",
    "CsatTally",
    "CxMetricsError",
    "Interval",
    "ScaleTally",
    "__version__",
    "ces",
    "compare_ces",
    "compare_csat",
    "compare_proportions",
    "csat",
    "datasets",
    "exceptions",
    "proportion_ci",
]
