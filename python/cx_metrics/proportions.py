"""Intervals and comparisons of plain proportions (``successes`` out of ``n``)."""

from __future__ import annotations

from . import _native
from ._results import Comparison, Interval
from .csat import ProportionMethod

__all__ = ["compare_proportions", "proportion_ci"]


def proportion_ci(
    successes: float, n: float, confidence_level: float = 0.95, method: ProportionMethod = "wilson"
) -> Interval:
    """Confidence interval of the proportion ``successes / n``.

    Parameters
    ----------
    successes, n : float
        Counts (``0 <= successes <= n``, ``n > 0``); effective counts may be fractional.
    confidence_level : float
        Nominal coverage, strictly between 0 and 1.
    method : {"wilson", "agresti_coull", "jeffreys", "clopper_pearson"}
        Wilson score (default), Agresti-Coull (clipped to [0, 1]), Jeffreys, Clopper-Pearson.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> print(cx.proportion_ci(81, 263))
    95% CI [0.255, 0.366] (wilson)
    """
    return Interval._from_native(_native.proportion_ci(successes, n, confidence_level, method), method)


def compare_proportions(x1: float, n1: float, x2: float, n2: float) -> Comparison:
    """Compare ``x1/n1`` with ``x2/n2``: difference, pooled z test and Newcombe's hybrid interval.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> c = cx.compare_proportions(56, 70, 48, 80)
    >>> print(c.ci())
    95% CI [0.052, 0.334] (newcombe)
    """
    return Comparison._compute("compare_proportions", (x1, n1, x2, n2), "newcombe")
