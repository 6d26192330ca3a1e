"""CSAT: the share of satisfied customers (top box, top-two box or a threshold), mean and intervals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from . import _native
from ._results import (
    Comparison,
    FrameColumn,
    Interval,
    RebuiltOnLoad,
    Tabular,
    ci_bounds,
    field_dict,
    fixed,
    html_table,
    interval_or_none,
    pct,
)
from ._tally import NanPolicy, _Tally
from .exceptions import InvalidArgumentError
from .nps_groups import CsatByGroup, group_scores, plain_inputs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CsatResult", "CsatTally", "ProportionMethod", "Satisfied", "compare_csat", "csat"]

ProportionMethod = Literal["wilson", "agresti_coull", "jeffreys", "clopper_pearson"]
"""Interval methods for shares, spelled as the Rust ``ProportionMethod`` parses them."""

Satisfied = Literal["top_box", "top_two_box"] | int
"""Which answers count as satisfied: the top box, the top two boxes, or every point >= an integer."""


@dataclass(frozen=True)
class CsatResult(RebuiltOnLoad, Tabular):
    """CSAT figures of one sample.

    Attributes
    ----------
    share_satisfied : float
        Weighted share of satisfied answers (the CSAT score as a fraction).
    share_bottom : float
        Weighted share of the bottom box(es), mirroring the satisfied set.
    net : float
        ``share_satisfied - share_bottom``.
    mean, sd : float
        Weighted mean and standard deviation of the ratings.
    mean_0_100 : float
        The mean rescaled to 0..100.
    points : int
        Number of scale points.
    satisfied : str
        The satisfied set (``"top_box"``, ``"top_two_box"`` or ``"at_least(t)"``).
    distribution : tuple of float
        Weighted share of each point, lowest first.
    n, n_omitted : int
        Rows counted and rows omitted as missing.
    sum_weights, effective_n : float
        Σw and the Kish effective sample size.
    undefined : str or None
        Why the figures are NaN, when they are.

    ``to_pandas()`` / ``to_polars()`` give one row: ``n``, ``share_satisfied``, ``ci_low``, ``ci_high``
    (95% Wilson), ``mean``, ``mean_ci_low``, ``mean_ci_high`` (95% t), ``sd``, ``share_bottom``,
    ``net``, ``n_omitted``, ``effective_n``. :meth:`plot` draws the distribution.
    """

    share_satisfied: float
    share_bottom: float
    net: float
    mean: float
    sd: float
    mean_0_100: float
    points: int
    satisfied: str
    distribution: tuple[float, ...]
    n: int
    n_omitted: int
    sum_weights: float
    effective_n: float
    undefined: str | None
    _native: Any = field(repr=False, compare=False)
    # The tally's state and the satisfied set it was finished with: pickling rebuilds the native result
    # from them (see RebuiltOnLoad).
    _state: tuple[bytes, Satisfied] | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def _rebuild(state: dict[str, Any]) -> Any:
        data, satisfied = state["_state"]
        return _native.CsatTally.from_bytes(data).result(satisfied)

    @classmethod
    def _from_native(cls, r: Any, state: tuple[bytes, Satisfied] | None = None) -> CsatResult:
        return cls(
            share_satisfied=float(r.share_satisfied),
            share_bottom=float(r.share_bottom),
            net=float(r.net),
            mean=float(r.mean),
            sd=float(r.sd),
            mean_0_100=float(r.mean_0_100),
            points=int(r.points),
            satisfied=str(r.satisfied),
            distribution=tuple(float(x) for x in r.distribution),
            n=int(r.n),
            n_omitted=int(r.n_omitted),
            sum_weights=float(r.sum_weights),
            effective_n=float(r.effective_n),
            undefined=r.undefined,
            _native=r,
            _state=state,
        )

    def ci(self, confidence_level: float = 0.95, method: ProportionMethod = "wilson") -> Interval:
        """Confidence interval of the satisfied share (on the effective sample size)."""
        return Interval._from_native(self._native.ci(confidence_level, method), method)

    def bottom_ci(self, confidence_level: float = 0.95, method: ProportionMethod = "wilson") -> Interval:
        """Confidence interval of the bottom-box share."""
        return Interval._from_native(self._native.bottom_ci(confidence_level, method), method)

    def mean_ci(self, confidence_level: float = 0.95) -> Interval:
        """Student-t confidence interval of the mean rating."""
        return Interval._from_native(self._native.mean_ci(confidence_level), "t")

    def mean_0_100_ci(self, confidence_level: float = 0.95) -> Interval:
        """Student-t confidence interval of the mean rescaled to 0..100 (``mean_0_100``)."""
        return Interval._from_native(self._native.mean_0_100_ci(confidence_level), "t")

    @property
    def satisfied_points(self) -> tuple[int, int]:
        """The lowest and highest point counted as satisfied (points run 1..``points``)."""
        lo, hi = self._native.satisfied_points
        return int(lo), int(hi)

    @property
    def bottom_points(self) -> tuple[int, int]:
        """The lowest and highest point of the bottom box(es) (``share_bottom``)."""
        lo, hi = self._native.bottom_points
        return int(lo), int(hi)

    def __str__(self) -> str:
        if self.undefined is not None:
            return f"CSAT undefined ({self.undefined}); n={self.n}, {self.n_omitted} omitted"
        ci = self.ci()
        return (
            f"CSAT {pct(self.share_satisfied)} {self.satisfied} of {self.points} "
            f"(95% CI {pct(ci.low)} to {pct(ci.high)}, Wilson); mean {self.mean:.2f}; n={self.n}"
        )

    def to_json(self) -> str:
        """The result as JSON text, for storage: the core's serde form (its scale and satisfied set,
        undefined figures as ``null``); :meth:`from_json` reads it back with every figure and interval."""
        text: str = self._native.to_json()
        return text

    @classmethod
    def from_json(cls, text: str) -> CsatResult:
        """A result from the text written by :meth:`to_json`."""
        return cls._from_native(_native.CsatResult.from_json(text))

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-safe dict (with the default 95% Wilson interval when defined)."""
        out = field_dict(self)
        out["ci"] = None if self.undefined is not None else self.ci().to_dict()
        return out

    def _columns(self) -> list[FrameColumn]:
        ci_low, ci_high = ci_bounds(interval_or_none(self.ci))
        mean_ci_low, mean_ci_high = ci_bounds(interval_or_none(self.mean_ci))
        return [
            ("n", "int", [self.n]),
            ("share_satisfied", "float", [self.share_satisfied]),
            ("ci_low", "float", [ci_low]),
            ("ci_high", "float", [ci_high]),
            ("mean", "float", [self.mean]),
            ("mean_ci_low", "float", [mean_ci_low]),
            ("mean_ci_high", "float", [mean_ci_high]),
            ("sd", "float", [self.sd]),
            ("share_bottom", "float", [self.share_bottom]),
            ("net", "float", [self.net]),
            ("n_omitted", "int", [self.n_omitted]),
            ("effective_n", "float", [self.effective_n]),
        ]

    def _repr_html_(self) -> str:
        lo, hi = self.satisfied_points
        rows = [
            ("CSAT", f"{pct(self.share_satisfied)} answering {lo}-{hi} of {self.points} ({self.satisfied})")
        ]
        ci = interval_or_none(self.ci)
        if ci is not None:
            rows.append(("95% CI (Wilson)", f"{pct(ci.low)} to {pct(ci.high)}"))
        rows.append(("mean (sd)", f"{fixed(self.mean)} ({fixed(self.sd)})"))
        m = interval_or_none(self.mean_ci)
        if m is not None:
            rows.append(("95% CI of the mean (t)", f"{fixed(m.low)} to {fixed(m.high)}"))
        rows.append(("n (omitted)", f"{self.n} ({self.n_omitted})"))
        if self.effective_n != self.n:
            rows.append(("effective n", f"{self.effective_n:.1f}"))
        warnings = [] if self.undefined is None else [f"undefined: {self.undefined}"]
        return html_table("Customer satisfaction", rows, warnings=warnings)

    def plot(self, **kwargs: Any) -> Axes:
        """The distribution of answers with the satisfied points marked
        (:func:`cx_metrics.plot.rating_distribution`: ``ax``); needs matplotlib (the ``plot`` extra)."""
        from .plot import rating_distribution

        return rating_distribution(self, **kwargs)


class CsatTally(_Tally):
    """Mergeable counts of CSAT answers on a 2, 3, 5, 7 or 10-point scale.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> a, b = cx.CsatTally(5), cx.CsatTally(5)
    >>> a.fold([5, 4, 3])
    >>> b.fold([1, 5])
    >>> (a + b).result(satisfied="top_two_box").share_satisfied
    0.6
    """

    __slots__ = ()
    _native_type = _native.CsatTally

    def __init__(self, scale: int = 5) -> None:
        super().__init__(scale)

    @property
    def points(self) -> int:
        """Number of scale points."""
        return int(self._inner.points)

    def result(self, *, satisfied: Satisfied) -> CsatResult:
        """CSAT figures of everything folded so far; ``satisfied`` is always explicit."""
        return CsatResult._from_native(self._inner.result(satisfied), (self.to_bytes(), satisfied))


@overload
def csat(
    values: object,
    scale: int = 5,
    *,
    satisfied: Satisfied,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    by: None = None,
    data: object = None,
) -> CsatResult: ...


@overload
def csat(
    values: object,
    scale: int = 5,
    *,
    satisfied: Satisfied,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    by: object,
    data: object = None,
    overall: bool = False,
    confidence_level: float = 0.95,
    method: ProportionMethod = "wilson",
) -> CsatByGroup: ...


def csat(
    values: object,
    scale: int = 5,
    *,
    satisfied: Satisfied,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    by: object = None,
    data: object = None,
    overall: bool = False,
    confidence_level: float = 0.95,
    method: ProportionMethod = "wilson",
) -> CsatResult | CsatByGroup:
    """Customer satisfaction: the share of satisfied answers, with mean and intervals.

    Parameters
    ----------
    values : array-like
        Answers 1..scale (list, numpy, pandas/polars Series, pyarrow array).
    scale : {2, 3, 5, 7, 10}
        Number of points of the question.
    satisfied : {"top_box", "top_two_box"} or int
        Which answers count as satisfied; required, never guessed. An int ``t`` means ``t..scale``.
    weights : array-like, optional
        Survey weights, finite and >= 0.
    nan_policy : {"omit", "raise"}
        What to do with missing answers.
    by : label array, column name, or a list of either, optional
        Score per group instead (see :func:`~cx_metrics.nps`): one label per row, a column name of
        ``data``, or several (``by=["wave", "segment"]``); the same rules and result shape for every
        metric.
    data : table, optional
        A pandas, polars or pyarrow table, or a dict of columns, whose column names ``values``,
        ``weights`` and ``by`` may be.
    overall : bool
        With ``by``: end the table with a row of all rows.
    confidence_level, method
        With ``by``: the level and method of each group's interval (see ``.ci``).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> r = cx.csat([5] * 25 + [4] * 40 + [3] * 20 + [2] * 10 + [1] * 5, satisfied="top_two_box")
    >>> r.share_satisfied, r.mean
    (0.65, 3.7)
    >>> print(r.ci())
    95% CI [0.553, 0.736] (wilson)
    >>> g = cx.csat([5, 4, 2, 5, 1], satisfied="top_two_box", by=["web", "app", "web", "app", "web"])
    >>> g.groups, g["web"].share_satisfied
    (('app', 'web'), 0.3333333333333333)
    """
    if by is not None:
        return group_scores(
            CsatByGroup,
            CsatTally(scale),
            lambda t: t.result(satisfied=satisfied),
            values,
            by,
            data=data,
            weights=weights,
            nan_policy=nan_policy,
            confidence_level=confidence_level,
            method=method,
            overall=overall,
        )
    values, weights = plain_inputs(values, weights, data)
    t = CsatTally(scale)
    t.fold(values, weights=weights, nan_policy=nan_policy)
    return t.result(satisfied=satisfied)


def compare_csat(
    a: object,
    b: object,
    *,
    scale: int = 5,
    satisfied: Satisfied | None = None,
) -> Comparison:
    """Compare the satisfied shares of two independent samples, ``a - b`` (Newcombe's hybrid interval).

    ``a`` and ``b`` are CSAT results, or answers (then ``satisfied`` is required).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> a = [5, 5, 4, 4, 4, 3, 5, 4, 2, 5]
    >>> b = [3, 2, 4, 1, 3, 5, 2, 3, 4, 3]
    >>> c = cx.compare_csat(a, b, satisfied="top_two_box")
    >>> round(c.difference, 12)
    0.5
    """
    ra, rb = (_csat_result(x, scale, satisfied) for x in (a, b))
    return Comparison._compute("compare_csat", (ra._native, rb._native), "newcombe")


def _csat_result(x: object, scale: int, satisfied: Satisfied | None) -> CsatResult:
    if isinstance(x, CsatResult):
        return x
    if satisfied is None:
        raise InvalidArgumentError(
            'invalid satisfied: required when comparing answers; pass satisfied="top_box", '
            '"top_two_box" or a threshold point'
        )
    return csat(x, scale, satisfied=satisfied)
