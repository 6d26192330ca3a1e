"""Net Promoter Score: the estimate, its intervals, comparisons and sample-size planning.

NPS = share of promoters (9-10) minus share of detractors (0-6) on the 0-10 "how likely are you to
recommend" question. Results hold the score as a fraction in [-1, 1]; ``str()`` shows it on the usual
-100..+100 scale. All statistics are computed in Rust.
"""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from . import _native
from ._convert import same_length, to_values, to_weights
from ._results import (
    Comparison,
    FrameColumn,
    Interval,
    Tabular,
    ci_bounds,
    field_dict,
    html_table,
    level_text,
    pct,
    points,
)
from ._tally import NanPolicy, _Tally
from .exceptions import InvalidArgumentError, UndefinedError
from .nps_groups import NpsByGroup, group_scores, plain_inputs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "NpsComparisonMethod",
    "NpsMethod",
    "NpsResult",
    "NpsTally",
    "ScaleWarning",
    "compare_nps",
    "nps",
    "nps_bootstrap_ci",
    "nps_sample_size",
    "nps_sample_size_two_groups",
]

NpsMethod = Literal["adjusted_wald", "wald", "tango", "dirichlet", "bootstrap"]
"""Interval methods for NPS, spelled as the Rust ``NpsMethod`` parses them."""

NpsComparisonMethod = Literal["adjusted_wald", "wald"]
"""Methods of the two-sample NPS comparison."""


class ScaleWarning(UserWarning):
    """The ratings look like another scale than the one asked for: ``cx.nps`` of 30 or more ratings
    none of which is above 5 (a 1-5 CSAT column?) or above 7 (a 1-7 CES column?).

    A warning, not an error: a very unhappy 0-10 sample can look like that too. Silence it with
    ``warnings.filterwarnings("ignore", category=cx.ScaleWarning)`` once the column is checked.
    """


@dataclass(frozen=True)
class NpsResult(Tabular):
    """The Net Promoter Score of a sample, with what its intervals need.

    Attributes
    ----------
    score : float
        NPS as a fraction in [-1, 1] (promoters minus detractors); ``100 * score`` is the usual figure.
    promoters, passives, detractors : float
        Weighted shares of the three categories (they sum to 1).
    std_error : float
        Standard error of ``score`` (with the Kish effective sample size when weighted).
    variance : float
        Per-respondent variance of the NPS score, ``p + d - (p - d)**2``.
    n : int
        Rows counted.
    n_omitted : int
        Rows omitted as missing (``nan_policy="omit"``).
    n_promoters, n_passives, n_detractors : int
        Rows per category.
    sum_weights, effective_n : float
        Σw and the Kish effective sample size (``n`` without weights).
    deff : float
        Kish design effect ``n / effective_n``.
    se_linearised : float
        Linearised (Taylor) standard error of the weighted score.
    se_linearised_small_sample : float or None
        The same with the n/(n-1) small-sample factor (None when n < 2).
    se_kish : float
        ``sqrt(variance / effective_n)``: the standard error the intervals use.
    weighted : bool
        Whether survey weights were given.
    distribution : tuple of float
        Weighted share of each answer 0, 1, ..., 10 (eleven values summing to 1; NaN when undefined).
    undefined : str or None
        Why the figures are NaN (no rows, weights summing to zero), when they are.

    ``to_pandas()`` / ``to_polars()`` give one row: ``n``, ``score``, ``ci_low``, ``ci_high`` (95%
    adjusted Wald), ``promoters``, ``passives``, ``detractors``, then ``n_omitted``, the counts per
    category, ``effective_n`` and ``std_error`` (the columns of :attr:`NpsByGroup.table` without
    ``group``). :meth:`plot` draws the distribution of answers.
    """

    score: float
    promoters: float
    passives: float
    detractors: float
    std_error: float
    variance: float
    n: int
    n_omitted: int
    n_promoters: int
    n_passives: int
    n_detractors: int
    sum_weights: float
    effective_n: float
    deff: float
    se_linearised: float
    se_linearised_small_sample: float | None
    se_kish: float
    weighted: bool
    distribution: tuple[float, ...]
    undefined: str | None
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, r: Any) -> NpsResult:
        return cls(
            score=float(r.score),
            promoters=float(r.promoters),
            passives=float(r.passives),
            detractors=float(r.detractors),
            std_error=float(r.std_error),
            variance=float(r.variance),
            n=int(r.n),
            n_omitted=int(r.n_omitted),
            n_promoters=int(r.n_promoters),
            n_passives=int(r.n_passives),
            n_detractors=int(r.n_detractors),
            sum_weights=float(r.sum_weights),
            effective_n=float(r.effective_n),
            deff=float(r.deff),
            se_linearised=float(r.se_linearised),
            se_linearised_small_sample=r.se_linearised_small_sample,
            se_kish=float(r.se_kish),
            weighted=bool(r.weighted),
            distribution=tuple(float(x) for x in r.distribution),
            undefined=r.undefined,
            _native=r,
        )

    def ci(self, confidence_level: float = 0.95, method: NpsMethod = "adjusted_wald") -> Interval:
        """Confidence interval of the score, clipped to [-1, 1] (``clipped`` says when it was).

        Parameters
        ----------
        confidence_level : float
            Nominal coverage, strictly between 0 and 1.
        method : {"adjusted_wald", "wald", "tango", "dirichlet", "bootstrap"}
            ``"adjusted_wald"`` (default; Rocks 2016, adds 0.75, 1.5, 0.75 pseudo-counts) keeps good
            coverage at small n; ``"tango"`` is the score interval (Tango 1998); ``"dirichlet"`` the
            equal-tailed posterior interval under a flat Dirichlet(1, 1, 1) prior; ``"wald"`` the
            textbook interval; ``"bootstrap"`` a seeded percentile bootstrap of the counts (9999
            resamples, seed 0; unweighted only: for weighted data use :func:`nps_bootstrap_ci`).
            With weights, every method uses the Kish effective sample size.

        Examples
        --------
        >>> import cx_metrics as cx
        >>> r = cx.nps([10] * 50 + [7] * 30 + [3] * 20)
        >>> print(r.ci(0.95, "wald"))
        95% CI [0.147, 0.453] (wald)
        >>> print(r.ci(0.95, "tango"))
        95% CI [0.140, 0.443] (tango)
        """
        return Interval._from_native(self._native.ci(confidence_level, method), method)

    def ci_unclipped(self, confidence_level: float = 0.95, method: NpsMethod = "adjusted_wald") -> Interval:
        """The interval before clipping to [-1, 1] (differs from :meth:`ci` only for the Wald methods)."""
        return Interval._from_native(self._native.ci_unclipped(confidence_level, method), method)

    def normal_estimate(self, method: NpsComparisonMethod = "adjusted_wald") -> tuple[float, float]:
        """``(centre, std_error)`` of the normal approximation behind the Wald or adjusted-Wald interval."""
        centre, se = self._native.normal_estimate(method)
        return float(centre), float(se)

    def dirichlet_posterior(self, prior: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> tuple[float, float]:
        """``(mean, sd)`` of the score under the Dirichlet(prior + counts) posterior.

        ``prior`` is (detractors, passives, promoters), each finite and > 0.
        """
        mean, sd = self._native.dirichlet_posterior(prior)
        return float(mean), float(sd)

    def __str__(self) -> str:
        if self.undefined is not None:
            return f"NPS undefined ({self.undefined}); n={self.n}, {self.n_omitted} omitted"
        ci = self.ci()
        return (
            f"NPS {points(self.score)} (95% CI {points(ci.low)} to {points(ci.high)}, "
            f"adjusted Wald; n={self.n}: {pct(self.promoters)} promoters, {pct(self.passives)} passives, "
            f"{pct(self.detractors)} detractors)"
        )

    def to_json(self) -> str:
        """The result as JSON text, for storage: the core's serde form (undefined figures as
        ``null``); :meth:`from_json` reads it back with every figure and interval."""
        text: str = self._native.to_json()
        return text

    @classmethod
    def from_json(cls, text: str) -> NpsResult:
        """A result from the text written by :meth:`to_json`."""
        return cls._from_native(_native.NpsResult.from_json(text))

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-safe dict (with the default 95% adjusted-Wald interval when defined)."""
        out = field_dict(self)
        out["ci"] = None if self.undefined is not None else self.ci().to_dict()
        return out

    def _interval_or_none(self, confidence_level: float, method: NpsMethod) -> Interval | None:
        """The interval, or None when the score is undefined (the options are checked either way)."""
        try:
            return self.ci(confidence_level, method)
        except UndefinedError:
            # The core checks the level and the method before the score: only an undefined score
            # lands here.
            return None

    def _columns(self) -> list[FrameColumn]:
        return _nps_columns([self], [self._interval_or_none(0.95, "adjusted_wald")])

    def _html_rows(self, ci: Interval | None) -> list[tuple[str, str]]:
        rows = [("NPS", points(self.score))]
        if ci is not None:
            rows.append((f"{level_text(ci.confidence_level)} CI ({_method_name(ci.method)})", _ci_points(ci)))
        rows += [
            ("promoters / passives / detractors", " / ".join(map(pct, self._shares()))),
            ("n (omitted)", f"{self.n} ({self.n_omitted})"),
        ]
        if self.weighted:
            rows.append(("effective n (design effect)", f"{self.effective_n:.1f} ({self.deff:.2f})"))
        return rows

    def _html_warnings(self, ci: Interval | None) -> list[str]:
        warnings = []
        if self.undefined is not None:
            warnings.append(f"undefined: {self.undefined}")
        if ci is not None and ci.clipped:
            warnings.append("the interval was clipped to the score's range, -100 to +100")
        return warnings

    def _repr_html_(self) -> str:
        ci = self._interval_or_none(0.95, "adjusted_wald")
        return html_table("Net Promoter Score", self._html_rows(ci), warnings=self._html_warnings(ci))

    def plot(self, **kwargs: Any) -> Axes:
        """Bars of the answers 0-10 by category, with the score and its interval in the title.

        Keyword arguments go to :func:`cx_metrics.plot.nps_distribution` (``ax``,
        ``confidence_level``, ``method``); needs matplotlib (the ``plot`` extra).
        """
        from .plot import nps_distribution

        return nps_distribution(self, **kwargs)

    def _shares(self) -> tuple[float, float, float]:
        return (self.promoters, self.passives, self.detractors)


_METHOD_NAMES = {
    "adjusted_wald": "adjusted Wald",
    "wald": "Wald",
    "tango": "Tango",
    "dirichlet": "Dirichlet",
    "bootstrap": "bootstrap",
}


def _method_name(method: str) -> str:
    return _METHOD_NAMES.get(method, method)


def _ci_points(ci: Interval) -> str:
    return f"{points(ci.low)} to {points(ci.high)}"


def _nps_columns(results: list[NpsResult], intervals: list[Interval | None]) -> list[FrameColumn]:
    """The NPS table's columns after ``group``: one row per result, with its interval (or NaN)."""
    bounds = [ci_bounds(ci) for ci in intervals]
    return [
        ("n", "int", [r.n for r in results]),
        ("score", "float", [r.score for r in results]),
        ("ci_low", "float", [low for low, _ in bounds]),
        ("ci_high", "float", [high for _, high in bounds]),
        ("promoters", "float", [r.promoters for r in results]),
        ("passives", "float", [r.passives for r in results]),
        ("detractors", "float", [r.detractors for r in results]),
        ("n_omitted", "int", [r.n_omitted for r in results]),
        ("n_promoters", "int", [r.n_promoters for r in results]),
        ("n_passives", "int", [r.n_passives for r in results]),
        ("n_detractors", "int", [r.n_detractors for r in results]),
        ("effective_n", "float", [r.effective_n for r in results]),
        ("std_error", "float", [r.std_error for r in results]),
    ]


class NpsTally(_Tally):
    """Mergeable counts of detractors, passives and promoters (with weights).

    Fold ratings chunk by chunk or per partition, merge the tallies (``+`` or :meth:`merge`), pickle
    them, and finish with :meth:`result`.

    Examples
    --------
    >>> import pickle
    >>> import cx_metrics as cx
    >>> a, b = cx.NpsTally(), cx.NpsTally()
    >>> a.fold([10, 9, 3])
    >>> b.fold([7, None])
    >>> total = pickle.loads(pickle.dumps(a + b))
    >>> total.n, total.n_omitted, round(total.result().score, 2)
    (4, 1, 0.25)
    """

    __slots__ = ()
    _native_type = _native.NpsTally

    def __init__(self) -> None:
        super().__init__()

    def result(self) -> NpsResult:
        """The NPS of everything folded so far."""
        return NpsResult._from_native(self._inner.result())


@overload
def nps(
    values: object,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    *,
    by: None = None,
    data: object = None,
) -> NpsResult: ...


@overload
def nps(
    values: object,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    *,
    by: object,
    data: object = None,
    overall: bool = False,
    confidence_level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
) -> NpsByGroup: ...


def nps(
    values: object,
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    *,
    by: object = None,
    data: object = None,
    overall: bool = False,
    confidence_level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
) -> NpsResult | NpsByGroup:
    """Net Promoter Score of 0-10 ratings.

    Parameters
    ----------
    values : array-like
        Ratings 0..10 (list, numpy array of any integer or float dtype, pandas/polars Series, pyarrow
        array). Fractions, values off the scale and infinities are errors naming their position.
    weights : array-like, optional
        Survey weights, finite and >= 0, one per value.
    nan_policy : {"omit", "raise"}
        ``"omit"`` (default) skips missing values and counts them in ``n_omitted``.
    by : label array, column name, or a list of either, optional
        Score per group instead: one label per row (a list, numpy array, pandas / polars Series,
        pyarrow array), a column name of ``data``, or several of them (``by=["wave", "segment"]``).
        Groups follow one set of rules: categorical order (pandas categoricals, polars enums), else
        numbers numerically, dates chronologically, text by code point; the missing label is the
        group ``None``, last (with a :class:`~cx_metrics.nps_groups.MissingLabelWarning`); unused
        categorical levels are groups with n = 0.
    data : table, optional
        A pandas, polars or pyarrow table, or a dict of columns, whose column names ``values``,
        ``weights`` and ``by`` may be.
    overall : bool
        With ``by``: end the table with a row of all rows.
    confidence_level, method
        With ``by``: the level and method of each group's interval (see :meth:`NpsResult.ci`).

    Warns
    -----
    ScaleWarning
        When 30 or more ratings (all groups together) have none above 5 or none above 7: a 1-5 CSAT
        or 1-7 CES column passed by mistake, whose every answer would count as a detractor.
        ``NpsTally.result()`` does not warn: a tally may hold one partition of many, and finishing
        tallies in a service should not warn per call; check the column where it enters.

    Returns
    -------
    NpsResult or ByGroup
        The score, category shares, standard error and ``.ci(confidence_level, method)``; with ``by``,
        a :class:`~cx_metrics.nps_groups.ByGroup` of one :class:`NpsResult` per group, looked up by
        label (``r["web"]``, ``r[2026]``, ``r[("Q1", "web")]``, ``r[None]``).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> r = cx.nps([10, 9, 9, 8, 7, 6, 3, None])
    >>> r.score, r.n, r.n_omitted
    (0.14285714285714285, 7, 1)
    >>> print(r.ci(0.95, "wald"))
    95% CI [-0.474, 0.760] (wald)
    >>> g = cx.nps([10, 9, 3, 7, 0, 10], by=[1, 2, 1, 2, 2, 1])
    >>> g.groups, g[1].n, round(g[2].score, 2)
    ((1, 2), 3, 0.0)
    """
    if by is not None:
        groups = group_scores(
            NpsByGroup,
            NpsTally(),
            NpsTally.result,
            values,
            by,
            data=data,
            weights=weights,
            nan_policy=nan_policy,
            confidence_level=confidence_level,
            method=method,
            overall=overall,
        )
        warn_other_scale(list(groups.results.values()))
        return groups
    values, weights = plain_inputs(values, weights, data)
    t = NpsTally()
    t.fold(values, weights=weights, nan_policy=nan_policy)
    result = t.result()
    warn_other_scale([result])
    return result


SCALE_WARNING_MIN_N = 30
"""Rows from which :func:`nps` warns that its ratings look like another scale."""


def warn_other_scale(results: list[NpsResult], stacklevel: int = 3) -> None:
    """Warn (:class:`~cx_metrics.exceptions.ScaleWarning`) when 30 or more ratings in all have none
    above 5 or none above 7: a 1-5 or 1-7 column passed as the 0-10 recommendation question. Reads the
    answer distributions the results already hold (no pass over the rows)."""
    n = sum(r.n for r in results)
    if n < SCALE_WARNING_MIN_N:
        return
    top = max((i for r in results for i, share in enumerate(r.distribution) if share > 0), default=10)
    if top > 7:
        return
    scale, metric = ("1-5", "cx.csat") if top <= 5 else ("1-7", "cx.ces")
    warnings.warn(
        f"none of the {n} ratings is above {top}: they look like a {scale} scale, not the 0-10 "
        "recommendation question, and "
        + (
            "every one of them counts as a detractor"
            if top <= 6
            else "they count as detractors (up to 6) or passives (7), never promoters"
        )
        + f"; use {metric} for a "
        f"{scale} scale, or ignore this warning (category cx.ScaleWarning) if the answers are 0-10",
        ScaleWarning,
        stacklevel=stacklevel,
    )


def compare_nps(
    a: object,
    b: object,
    paired: bool = False,
    method: NpsComparisonMethod = "adjusted_wald",
    weights: object = None,
    nan_policy: NanPolicy = "omit",
) -> Comparison:
    """Compare the NPS of two samples: difference ``a - b``, standard error, z test and interval.

    Parameters
    ----------
    a, b : array-like or NpsResult or NpsTally
        The two samples: ratings, or results/tallies already computed (independent groups only).
    paired : bool
        Whether ``a[i]`` and ``b[i]`` are the same respondent's two answers (ratings of equal length;
        a pair with either answer missing is omitted). The standard error then uses the covariance.
    method : {"adjusted_wald", "wald"}
        Independent groups: ``"adjusted_wald"`` (default) or ``"wald"`` estimates of each group.
        Ignored when paired.
    weights : array-like, optional
        Survey weights of the pairs (paired only).
    nan_policy : {"omit", "raise"}
        Missing ratings (when ratings are given).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> a = [10] * 50 + [8] * 30 + [2] * 20
    >>> b = [10] * 30 + [8] * 40 + [2] * 30
    >>> c = cx.compare_nps(a, b, method="wald")
    >>> round(c.difference, 3), round(c.std_error, 3), round(c.p_value, 4)
    (0.3, 0.11, 0.0064)
    >>> print(c.ci(0.95))
    95% CI [0.084, 0.516] (wald)
    """
    if paired:
        va = np.asarray(to_values(a, "a"), dtype=np.float64)
        vb = np.asarray(to_values(b, "b"), dtype=np.float64)
        same_length(va, vb, "a and b (paired)")
        w = to_weights(weights, va.shape[0], "a and b")
        # The comparison keeps the 3x3 table of the pairs (for its intervals), never the ratings.
        table = _native.PairedNpsTally()
        table.fold(va, vb, w, nan_policy)
        return Comparison._compute("compare_nps_paired_tally", (table,), "paired")
    if weights is not None:
        raise InvalidArgumentError(
            "invalid weights: only for paired ratings; weight each group when computing its NpsResult"
        )
    ra = _native_result(a, nan_policy)
    rb = _native_result(b, nan_policy)
    return Comparison._compute("compare_nps", (ra, rb, method), method)


def _native_result(x: object, nan_policy: NanPolicy) -> Any:
    if isinstance(x, NpsResult):
        return x._native
    if isinstance(x, NpsTally):
        return x.result()._native
    return nps(x, nan_policy=nan_policy)._native


def nps_bootstrap_ci(
    values: object,
    weights: object = None,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
    nan_policy: NanPolicy = "omit",
) -> Interval:
    """Seeded percentile-bootstrap interval of the NPS from the rows (weighted or not).

    Each resample draws n of the counted rows with replacement; reproducible for a seed whatever the
    number of threads. Cost grows with ``n_resamples * n`` (method ``"bootstrap"``), except at large
    n: when every NPS category has at least 10,000 rows and the sum of its resampled weights is close
    to normal (a Berry-Esseen bound of at most 0.01), the numbers of rows drawn per category follow
    their exact multinomial law and each category's sum of weights its normal law (method
    ``"bootstrap_category_sums"``, constant cost per resample; see docs/intervals.md).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> ci = cx.nps_bootstrap_ci([10, 9, 3, 7, 10, 0, 8, 9], weights=[1, 2, 0.5, 1, 1.5, 1, 3, 1], seed=7)
    >>> ci.method, ci.low < ci.high
    ('bootstrap', True)
    """
    n_resamples = _resamples(n_resamples)
    arr = to_values(values)
    w = to_weights(weights, arr.shape[0])
    raw, _score, _se, _undefined, method = _native.nps_bootstrap_ci(
        arr, w, confidence_level, n_resamples, seed, nan_policy
    )
    return Interval._from_native(raw, method)


def _resamples(n_resamples: object) -> int:
    """``n_resamples`` as an int >= 0 (the core checks the range and names the argument)."""
    try:
        n = operator.index(n_resamples)  # type: ignore[arg-type]
    except TypeError:
        n = -1
    if n < 0 or isinstance(n_resamples, bool):
        raise InvalidArgumentError(
            f"invalid n_resamples: {n_resamples!r}; pass a whole number of resamples, e.g. 9999"
        )
    return min(n, 2**63)


def nps_sample_size(
    margin: float,
    confidence_level: float = 0.95,
    method: NpsComparisonMethod = "adjusted_wald",
    shares: tuple[float, float] | None = None,
    variance: float | None = None,
) -> int:
    """Respondents needed for an NPS interval of half-width ``margin`` (a fraction: 0.05 is 5 points).

    Parameters
    ----------
    margin : float
        Desired half-width of the interval on the [-1, 1] scale.
    confidence_level : float
        Nominal coverage.
    method : {"adjusted_wald", "wald"}
        The interval the survey will report.
    shares : (promoters, detractors), optional
        Anticipated shares of promoters and detractors.
    variance : float, optional
        Anticipated per-respondent variance (0..1) instead of shares. Neither: the worst case, 1.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> cx.nps_sample_size(0.05, method="wald")
    1537
    >>> cx.nps_sample_size(0.05, shares=(0.5, 0.2))  # V = 0.7 - 0.3**2 = 0.61
    935
    """
    return int(_native.nps_sample_size(margin, confidence_level, method, shares, variance))


def nps_sample_size_two_groups(
    delta: float,
    power: float = 0.8,
    alpha: float = 0.05,
    variance: float | None = None,
    shares: tuple[float, float] | None = None,
) -> int:
    """Respondents per group to detect an NPS difference ``delta`` (fraction) with a two-sided z test.

    Parameters
    ----------
    delta : float
        Smallest difference worth detecting, on the [-1, 1] scale (0.1 = 10 points).
    power : float
        Probability of detecting it.
    alpha : float
        Two-sided significance level.
    variance : float, optional
        Anticipated per-respondent variance in each group (0..1); default the worst case, 1.
    shares : (promoters, detractors), optional
        Anticipated shares instead of the variance.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> cx.nps_sample_size_two_groups(0.1)
    1570
    >>> cx.nps_sample_size_two_groups(0.1, variance=0.6)
    942
    """
    return int(_native.nps_sample_size_two_groups(delta, alpha, power, shares, variance))
