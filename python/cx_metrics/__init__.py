"""cx_metrics: customer-experience analytics with honest intervals.

Net Promoter Score, CSAT and CES from survey ratings, with confidence intervals, comparisons and
sample-size planning. The statistics run in Rust; this package converts inputs (lists, numpy, pandas,
polars, pyarrow), holds results and formats them.

>>> import cx_metrics as cx
>>> t = cx.ScaleTally(1, 5)
>>> t.fold([5, 4, 4, None])
>>> (t.n, t.n_omitted)
(3, 1)
"""

from __future__ import annotations

from . import exceptions
from ._native import __version__
from ._tally import ScaleTally
from .exceptions import CxMetricsError

__all__ = [
    "CxMetricsError",
    "ScaleTally",
    "__version__",
    "exceptions",
]
