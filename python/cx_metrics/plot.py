"""Pictures of results: the story of a survey in six charts (matplotlib, the optional ``plot`` extra).

Every function takes a result and ``ax=None`` (a new figure is made when None) and returns the
:class:`~matplotlib.axes.Axes` it drew on; results have a ``.plot()`` method that calls the matching
function. ``import cx_metrics`` never imports matplotlib: this module does, when it is imported.

Colours are the Okabe-Ito palette (safe for colour-blind readers): detractors, dissatisfied and
high-effort answers in vermillion, passives and neutral answers in grey, promoters, satisfied and
low-effort answers in bluish green, and series in blue, orange, green, vermillion, purple, sky blue.
Figures made here use the constrained layout, so labels are not clipped.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> import cx_metrics as cx
>>> from cx_metrics import plot
>>> ax = plot.nps_distribution(cx.nps([10, 9, 9, 8, 7, 6, 3, 10, 9, 0]))
>>> print(ax.get_title(loc="left"))
NPS +20.0 (95% CI -30.3 to +61.1)
adjusted Wald interval; n = 10
>>> plt.close(ax.figure)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

try:
    import matplotlib  # noqa: F401  (the error below names the extra to install)
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "cx_metrics.plot needs matplotlib; install it with: pip install 'cx-metrics[plot]'"
    ) from error

from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ._json import as_float
from ._results import ci_bounds, level_text, p_equals, pct, points
from .ces import CesResult
from .csat import CsatResult
from .driver_bootstrap import DriverBootstrap
from .driver_matrix import ImportancePerformance
from .drivers import DriverAnalysis
from .exceptions import InvalidArgumentError
from .nps import NpsMethod, NpsResult, _method_name
from .nps_groups import ByGroup, NpsByGroup, key_text
from .pillars import Pillar, PillarSummary
from .retention import RetentionTable
from .trend import AllPairs, Trend

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure

__all__ = [
    "all_pairs",
    "format_number",
    "importance",
    "importance_performance",
    "nps_by_group",
    "nps_distribution",
    "pillar_profile",
    "pretty_name",
    "rating_distribution",
    "retention_heatmap",
    "segment_importance",
    "survival_curve",
    "trend",
    "what_if",
]

# Okabe & Ito (2008), "Color Universal Design".
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
YELLOW = "#F0E442"
GREY = "#9E9E9E"
LIGHT_GREY = "#C8C8C8"
INK = "#222222"
SERIES = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, INK, YELLOW)
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")

NEGATIVE, NEUTRAL, POSITIVE = VERMILLION, LIGHT_GREY, GREEN
QUADRANT_COLOURS = {
    "fix_first": VERMILLION,
    "keep_it_up": GREEN,
    "low_priority": "#808080",
    "possible_overkill": BLUE,
}
QUADRANT_NAMES = {
    "fix_first": "Fix first",
    "keep_it_up": "Keep it up",
    "low_priority": "Low priority",
    "possible_overkill": "Possible overkill",
}
MEASURE_NAMES = {
    "lmg": "LMG (Shapley value of R²)",
    "lmg_share": "LMG share of the explained variance",
    "last": "last (R² lost without the driver)",
    "first": "first (squared correlation)",
    "beta_squared": "squared standardized coefficient",
    "pratt": "Pratt's measure",
    "johnson": "relative weight (Johnson; Genizi)",
    "car": "CAR score",
}

TITLE_SIZE = 12
LABEL_SIZE = 10
TICK_SIZE = 9
NOTE_SIZE = 8


# ----- shared pieces --------------------------------------------------------------------------------


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, new = plt.subplots(figsize=size, layout="constrained")
    return new


def _style(ax: Axes, grid: Literal["x", "y", "both"] = "y") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(True, axis=grid, color="#E4E4E4", linewidth=0.8)
    ax.set_axisbelow(True)


def _legend_outside(
    ax: Axes, handles: Sequence[Any], labels: Sequence[str], title: str | None = None
) -> None:
    legend = ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=TICK_SIZE,
        title=title,
        title_fontsize=TICK_SIZE,
        alignment="left",
    )
    legend.set_in_layout(True)


def _expect(result: object, kinds: tuple[type, ...], function: str) -> None:
    """Raise InvalidArgumentError unless ``result`` is one of ``kinds`` (what ``function`` draws)."""
    if not isinstance(result, kinds):
        drawn = " or a ".join(k.__name__ for k in kinds)
        raise InvalidArgumentError(
            f"invalid result: a {type(result).__name__}; {function} draws a {drawn} "
            "(a result's own .plot() picks its chart)"
        )


def _share_bars(
    ax: Axes,
    scale: npt.NDArray[np.int_],
    distribution: Sequence[float],
    colours: Sequence[str],
    *,
    width: float,
    xlabel: str,
    weighted: bool,
    undefined: str | None,
) -> npt.NDArray[np.float64]:
    """Bars of the share of answers at each point of ``scale``, labelled with their shares; with
    ``undefined`` (a message), empty bars and the message instead. Returns the bar heights."""
    dist = np.asarray(distribution, dtype=np.float64)
    heights = np.where(np.isnan(dist), 0.0, dist)
    bars = ax.bar(scale, heights, width=width, color=colours, edgecolor="white", linewidth=0.6)
    _style(ax)
    ax.set_xticks(scale)
    ax.set_xlim(scale[0] - 0.6, scale[-1] + 0.6)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_ylabel("Weighted share of answers" if weighted else "Share of answers", fontsize=LABEL_SIZE)
    if undefined is None:
        _bar_labels(ax, bars, heights.tolist())
        ax.set_ylim(0, max(float(heights.max()) * 1.18, 0.05))
    else:
        ax.set_ylim(0, 1)
        ax.text(
            0.5,
            0.5,
            undefined,
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=LABEL_SIZE,
            color=GREY,
            wrap=True,
        )
    return heights


def _span(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _title(ax: Axes, main: str, detail: str | None = None) -> None:
    """A left-aligned title: the headline figure, and the details on a second line."""
    ax.set_title(main if detail is None else f"{main}\n{detail}", loc="left", fontsize=TITLE_SIZE)


def _share_label(share: float) -> str:
    if not share > 0:
        return ""
    if share < 0.0005:
        return "<0.1%"
    return f"{100 * share:.1f}%" if share < 0.095 else f"{100 * share:.0f}%"


def _bar_labels(ax: Axes, bars: Any, shares: Sequence[float]) -> None:
    labels = [_share_label(share) for share in shares]
    ax.bar_label(bars, labels=labels, padding=2, fontsize=NOTE_SIZE, color=INK)


def _rotate_if_crowded(ax: Axes, labels: Sequence[str]) -> None:
    # Rotate the category labels when the longest would not fit in its slot of the axes' width.
    if not labels:
        return
    fig = _root_figure(ax)
    width = ax.get_position().width * fig.get_figwidth() * 72.0
    if max(len(s) for s in labels) * 0.55 * TICK_SIZE > 0.92 * width / len(labels):
        for t in ax.get_xticklabels():
            t.set_rotation(30)
            t.set_horizontalalignment("right")


# ----- NPS ------------------------------------------------------------------------------------------


def nps_distribution(
    result: NpsResult,
    *,
    ax: Axes | None = None,
    confidence_level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
) -> Axes:
    """Bars of the answers 0-10, coloured by category, with the score and its interval in the title.

    Parameters
    ----------
    result : NpsResult
        The score; its ``distribution`` (weighted share of each answer) gives the bar heights.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    confidence_level, method
        The interval in the title (see :meth:`NpsResult.ci`).

    Returns
    -------
    matplotlib Axes
        Eleven bars (answers 0..10), a legend of detractors (0-6), passives (7-8) and promoters
        (9-10) with their shares. An undefined result draws empty bars and says so.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> ax = cx.nps([10] * 5 + [8] * 3 + [2] * 2).plot(confidence_level=0.9)
    >>> [round(float(bar.get_height()), 2) for bar in ax.patches][8:]
    [0.3, 0.0, 0.5]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Detractors (0-6): 20.0%', 'Passives (7-8): 30.0%', 'Promoters (9-10): 50.0%']
    >>> plt.close(ax.figure)
    """
    _expect(result, (NpsResult,), "nps_distribution")
    ax = _axes(ax, (8.0, 4.2))
    _share_bars(
        ax,
        np.arange(11),
        result.distribution,
        [NEGATIVE] * 7 + [NEUTRAL] * 2 + [POSITIVE] * 2,
        width=0.78,
        xlabel="Likelihood to recommend (0 = not at all, 10 = extremely likely)",
        weighted=result.weighted,
        undefined=None if result.undefined is None else f"no answers to show\n({result.undefined})",
    )
    handles = [Patch(color=c) for c in (NEGATIVE, NEUTRAL, POSITIVE)]
    ci = result._interval_or_none(confidence_level, method)
    if ci is not None:
        n = f"n = {result.n:,}" + (f" (effective n = {result.effective_n:,.0f})" if result.weighted else "")
        _title(
            ax,
            f"NPS {points(result.score)} ({level_text(ci.confidence_level)} CI {points(ci.low)} to "
            f"{points(ci.high)})",
            f"{_method_name(method)} interval; {n}",
        )
        shares = (result.detractors, result.passives, result.promoters)
    else:
        _title(ax, "NPS undefined", f"n = {result.n}, {result.n_omitted} omitted")
        shares = (math.nan, math.nan, math.nan)
    labels = [
        f"{name}: {pct(s)}"
        for name, s in zip(("Detractors (0-6)", "Passives (7-8)", "Promoters (9-10)"), shares, strict=True)
    ]
    _legend_outside(ax, handles, labels)
    return ax


def nps_by_group(
    groups: ByGroup[Any], *, ax: Axes | None = None, kind: Literal["line", "bar"] | None = None
) -> Axes:
    """The score of every period or segment with its interval: a line with a band, or bars with error
    bars.

    Parameters
    ----------
    groups : NpsByGroup, CsatByGroup or CesByGroup
        The estimates (NPS in points, -100 to +100; CSAT and CES shares in percent) and their
        intervals.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    kind : {"line", "bar"}, optional
        ``"line"`` (periods: a line over the groups in order, the interval as a band) or ``"bar"``
        (segments: bars with error bars). By default a line when every label is ordered (numbers,
        dates, or periods written as ``2026``, ``2026-03``, ``2026-Q1``, ``2026-H2``, ``2026-W07``), and
        bars otherwise: a line between unordered labels (regions, channels) would suggest a trend.

    Returns
    -------
    matplotlib Axes
        The overall score is a dashed line; a group without a score is marked "n/a".

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> g = cx.nps_by_group(cx.datasets.sample_survey(), by="wave")
    >>> ax = g.plot(kind="bar")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['2026-Q1', '2026-Q2', '2026-Q3', '2026-Q4']
    >>> heights = [bar.get_height() for bar in ax.patches]
    >>> heights == [100 * g[w].score for w in g]
    True
    >>> plt.close(ax.figure)
    """
    _expect(groups, (NpsByGroup, ByGroup), "nps_by_group")
    if kind is None:
        kind = "line" if _ordered_labels(list(groups.groups)) else "bar"
    if kind not in ("line", "bar"):
        raise InvalidArgumentError(f'invalid kind: {kind!r}; use "line" or "bar"')
    ax = _axes(ax, (8.0, 4.2))
    labels = [groups._key_text(g) for g in groups.groups]
    x = np.arange(len(labels), dtype=np.float64)
    score = 100.0 * np.array([groups.estimate(g) for g in groups.groups], dtype=np.float64)
    metric = groups.metric
    low, high = _bounds([groups.intervals[g] for g in groups.groups])
    low, high = 100.0 * low, 100.0 * high
    level = f"{level_text(groups.confidence_level)} CI"
    handles: list[Any] = []
    names: list[str] = []
    if kind == "line":
        band = ax.fill_between(x, low, high, color=BLUE, alpha=0.18, linewidth=0, gid="interval")
        (line,) = ax.plot(x, score, color=BLUE, marker="o", markersize=6, linewidth=2, gid="score")
        for xi, s in zip(x, score, strict=True):
            if not math.isnan(s):
                ax.annotate(
                    format_number(s, 1, signed=True),
                    (xi, s),
                    xytext=(0, 7),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=NOTE_SIZE,
                    color=INK,
                    bbox=_HALO,
                )
        handles += [line, band]
        names += [metric, level]
    else:
        bars = ax.bar(x, score, width=0.6, color=BLUE, alpha=0.85, gid="score")
        err = ax.errorbar(
            x, score, yerr=_yerr(score, low, high), fmt="none", ecolor=INK, elinewidth=1.2, capsize=4
        )
        ax.axhline(0.0, color=INK, linewidth=0.8)
        handles += [bars, err]
        names += [metric, level]
    overall = groups.overall
    if overall.undefined is None:
        whole = groups._estimate(overall)
        ref = ax.axhline(100.0 * whole, color=GREY, linestyle="--", linewidth=1.2, gid="overall")
        handles.append(ref)
        names.append(f"all: {points(whole) if metric == 'NPS' else pct(whole)}")
    for xi, s in zip(x, score, strict=True):
        if math.isnan(s):
            ax.annotate(
                "n/a",
                (xi, 0.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=NOTE_SIZE,
                color=GREY,
            )
    _style(ax)
    ax.set_xticks(x, labels)
    _rotate_if_crowded(ax, labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    if kind == "line" and np.isfinite(score).any():
        # Zero (as many promoters as detractors) stays in view, as a baseline or as a marked line.
        values = np.concatenate([low, high, score])
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        pad = max(0.1 * (max(hi, 0.0) - min(lo, 0.0)), 2.0)
        if lo >= 0.0:
            ax.set_ylim(-0.15 * pad, hi + pad)
        elif hi <= 0.0:
            ax.set_ylim(lo - pad, 0.15 * pad)
        else:
            ax.axhline(0.0, color=INK, linewidth=0.8)
    by = " / ".join(groups.by_columns)
    ylabel = "NPS (points, -100 to +100)" if metric == "NPS" else f"{metric}: {_ESTIMATE_NAMES[metric]} (%)"
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.set_xlabel(by, fontsize=LABEL_SIZE)
    weighted = ", weighted" if groups.weighted else ""
    of = f" of {groups.outcome}" if groups.outcome else ""
    _title(
        ax,
        f"{metric}{of} by {by}",
        f"{level}, {_method_name(groups.method)}; n = {overall.n:,}{weighted}",
    )
    _legend_outside(ax, handles, names)
    return ax


_ESTIMATE_NAMES = {"CSAT": "share satisfied", "CES": "share agreeing"}


def _bounds(intervals: Sequence[Any]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    pairs = np.array([ci_bounds(ci) for ci in intervals], dtype=np.float64).reshape(-1, 2)  # (n, 2), n >= 0
    return pairs[:, 0], pairs[:, 1]


def _yerr(
    centre: npt.NDArray[np.float64], low: npt.NDArray[np.float64], high: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    # Distances from the estimate to each bound; never negative (a clipped bound may equal it).
    return np.vstack([np.maximum(centre - low, 0.0), np.maximum(high - centre, 0.0)])


# ----- CSAT and CES ---------------------------------------------------------------------------------


def rating_distribution(result: CsatResult | CesResult, *, ax: Axes | None = None) -> Axes:
    """Bars of a CSAT or CES distribution, with the satisfied (CSAT) or agree (CES) points marked.

    The satisfied / agree points are green and shaded, the bottom box / disagree points vermillion,
    the rest grey; the legend gives each side's share, the title the score and its 95% interval.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> r = cx.csat([5] * 25 + [4] * 40 + [3] * 20 + [2] * 10 + [1] * 5, satisfied="top_two_box")
    >>> ax = r.plot()
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Dissatisfied (1-2): 15.0%', 'Neutral (3): 20.0%', 'Satisfied (4-5): 65.0%']
    >>> plt.close(ax.figure)
    """
    _expect(result, (CsatResult, CesResult), "rating_distribution")
    ax = _axes(ax, (7.0, 4.2))
    if isinstance(result, CsatResult):
        lowest, highest = 1, result.points
        good, bad = result.satisfied_points, result.bottom_points
        names = ("Dissatisfied", "Neutral", "Satisfied")
        xlabel = f"Satisfaction (1 = lowest, {result.points} = highest)"
        if result.undefined is None:
            ci = result.ci()
            title = f"CSAT {pct(result.share_satisfied)} (95% CI {pct(ci.low)} to {pct(ci.high)})"
            detail = (
                f"{result.satisfied} of {result.points}, Wilson interval; mean {result.mean:.2f}; "
                f"n = {result.n:,}"
            )
    else:
        lowest, highest = 1, len(result.distribution)
        good, bad = result.agree_points, result.disagree_points
        if result.version == 2:
            names = ("Disagree", "Neutral", "Agree")
            xlabel = "The company made it easy (1 = strongly disagree, 7 = strongly agree)"
        else:
            names = ("High effort", "Neutral", "Low effort")
            xlabel = "Effort (1 = very low, 5 = very high)"
        if result.undefined is None:
            ci = result.mean_ci()
            title = f"CES {result.version}.0 mean {result.mean:.2f} (95% CI {ci.low:.2f} to {ci.high:.2f})"
            detail = f"{pct(result.share_agree)} {names[2].lower()}; n = {result.n:,}"
    kind = "CSAT" if isinstance(result, CsatResult) else f"CES {result.version}.0"
    if result.undefined is not None:
        title, detail = f"{kind} undefined", f"n = {result.n}, {result.n_omitted} omitted"
    scale = np.arange(lowest, highest + 1)

    def side(p: int) -> int:
        return 2 if good[0] <= p <= good[1] else 0 if bad[0] <= p <= bad[1] else 1

    ax.axvspan(good[0] - 0.45, good[1] + 0.45, color=POSITIVE, alpha=0.08, linewidth=0)
    heights = _share_bars(
        ax,
        scale,
        result.distribution,
        [(NEGATIVE, NEUTRAL, POSITIVE)[side(int(p))] for p in scale],
        width=0.72,
        xlabel=xlabel,
        weighted=result.effective_n != result.n,
        undefined=None if result.undefined is None else "no answers to show",
    )
    _title(ax, title, detail)
    handles, labels = [], []
    for k, name in enumerate(names):
        pts = [int(p) for p in scale if side(int(p)) == k]
        if not pts:
            continue
        share = float(heights[[p - lowest for p in pts]].sum()) if result.undefined is None else math.nan
        handles.append(Patch(color=(NEGATIVE, NEUTRAL, POSITIVE)[k]))
        labels.append(f"{name} ({_span(pts[0], pts[-1])}): {pct(share)}")
    _legend_outside(ax, handles, labels)
    return ax


# ----- driver analysis ------------------------------------------------------------------------------


def importance(
    result: DriverAnalysis | DriverBootstrap,
    *,
    measure: str | None = None,
    ax: Axes | None = None,
    interval: Literal["percentile", "bca"] = "percentile",
) -> Axes:
    """Horizontal bars of driver importance, most important on top; from a bootstrap, with intervals.

    Parameters
    ----------
    result : DriverAnalysis or DriverBootstrap
        A driver analysis, or its bootstrap (:meth:`DriverAnalysis.bootstrap`).
    measure : str, optional
        A column of :attr:`DriverAnalysis.importance` (default ``"lmg_share"``, LMG as a share of the
        explained variance), or for a bootstrap one of its ``measures`` in R² units (default the
        first, which ranks the drivers). A bootstrap holds no shares.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    interval : {"percentile", "bca"}
        The bootstrap interval drawn as error bars.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> r = cx.pillar_driver_analysis(cx.datasets.sample_survey())
    >>> ax = r.plot()
    >>> from cx_metrics.plot import pretty_name
    >>> [t.get_text() for t in ax.get_yticklabels()][-1] == pretty_name(r.importance["lmg_share"].idxmax())
    True
    >>> plt.close(ax.figure)
    """
    _expect(result, (DriverAnalysis, DriverBootstrap), "importance")
    if interval not in ("percentile", "bca"):
        raise InvalidArgumentError(f'invalid interval: {interval!r}; use "percentile" or "bca"')
    if isinstance(result, DriverAnalysis):
        table = result.importance
        measure = "lmg_share" if measure is None else measure
        if measure not in table.columns:
            raise InvalidArgumentError(
                f"invalid measure: {measure!r}; this analysis has {', '.join(map(str, table.columns))}"
            )
        # The ranked units in the table's order (the table is pandas, or polars without pandas).
        names = [str(u) for u in result.units]
        values = np.asarray(table[measure].to_numpy(), dtype=np.float64)
        low = high = None
        title = f"Driver importance for {result.outcome}"
        detail = f"R² = {result.r_squared:.3f}, n = {result.n:,}"
    else:
        if not result.measures:
            raise InvalidArgumentError("invalid result: this bootstrap holds no importance measure to draw")
        measure = result.measures[0] if measure is None else measure
        if measure not in result.measures:
            hint = "; a bootstrap holds R² units, e.g. 'lmg'" if measure.endswith("_share") else ""
            raise InvalidArgumentError(
                f"invalid measure: {measure!r}; this bootstrap has {', '.join(result.measures)}{hint}"
            )
        rows = result.importance.loc[measure]
        names = [str(u) for u in rows.index]
        values = rows["estimate"].to_numpy(dtype=np.float64)
        lo_col, hi_col = ("ci_low", "ci_high") if interval == "percentile" else ("bca_low", "bca_high")
        low = rows[lo_col].to_numpy(dtype=np.float64)
        high = rows[hi_col].to_numpy(dtype=np.float64)
        title = f"Driver importance for {result.outcome}"
        detail = (
            f"{level_text(result.confidence_level)} {interval} intervals from {result.n_resamples:,} "
            f"resamples; n = {result.n:,}"
        )
    ax = _axes(ax, (8.0, max(2.6, 0.45 * len(names) + 1.6)))
    # Largest on top: sort ascending (NaN first, at the bottom) and draw from the bottom up.
    order = sorted(range(len(names)), key=lambda i: (not math.isnan(values[i]), values[i]))
    y = np.arange(len(order), dtype=np.float64)
    v = values[order]
    ax.barh(y, v, height=0.62, color=BLUE, alpha=0.9)
    share = measure == "lmg_share"
    ends = v.copy()
    if low is not None and high is not None:
        lo, hi = low[order], high[order]
        ax.errorbar(v, y, xerr=_yerr(v, lo, hi), fmt="none", ecolor=INK, elinewidth=1.2, capsize=3.5)
        ends = np.fmax(v, hi)
    for yi, value, end in zip(y, v, ends, strict=True):
        text = "n/a" if math.isnan(value) else (f"{100 * value:.1f}%" if share else f"{value:.3f}")
        ax.annotate(
            text,
            (0.0 if math.isnan(end) else end, yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=NOTE_SIZE,
            color=INK,
        )
    _style(ax, grid="x")
    ax.set_yticks(y, [pretty_name(names[i]) for i in order])
    ax.tick_params(axis="y", length=0)
    top = float(np.nanmax(ends)) if np.isfinite(ends).any() else 1.0
    bottom = min(0.0, float(np.nanmin(v)) if np.isfinite(v).any() else 0.0)
    ax.set_xlim(bottom * 1.15, max(top, 1e-12) * 1.16)
    ax.axvline(0.0, color=INK, linewidth=0.8)
    ax.set_ylim(-0.6, len(order) - 0.4)
    if share:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("Share of the explained variance (LMG)", fontsize=LABEL_SIZE)
    else:
        ax.set_xlabel(f"Importance: {MEASURE_NAMES.get(measure, measure)}, in R² units", fontsize=LABEL_SIZE)
    _title(ax, title, detail)
    return ax


def importance_performance(
    matrix: ImportancePerformance, *, ax: Axes | None = None, full_scale: bool = False
) -> Axes:
    """The importance-performance matrix: drivers as points, the two cut lines, the four quadrants.

    Performance runs left to right from worse to better (a lower-is-better mean is drawn reversed),
    importance bottom to top, so "Fix first" is always top left. Points are coloured by quadrant; a
    hatched, hollow marker is a driver whose quadrant is uncertain (its interval crosses a cut line),
    with a legend entry; thin horizontal bars show the performance intervals. With
    ``full_scale=True`` the performance axis spans the whole rating scale (0 to 100% for top-box
    shares) and importance starts at 0, so that small differences are not blown up. Percent ticks get
    as many decimals as their spacing needs. Names read as words (:func:`pretty_name`). Driver names
    are placed by a
    deterministic search around each point (most important first) so that no two names, no name and
    point, and no name and quadrant label overlap; a name pushed away from its point gets a thin leader
    line. Names are placed for the figure's size at the time of the call.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> m = cx.pillar_driver_analysis(cx.datasets.sample_survey()).matrix(scale=(1, 10))
    >>> ax = m.plot()
    >>> sorted(t.get_text() for t in ax.texts if t.get_gid() == "quadrant")
    ['Fix first', 'Keep it up', 'Low priority', 'Possible overkill']
    >>> plt.close(ax.figure)
    """
    _expect(matrix, (ImportancePerformance,), "importance_performance")
    ax = _axes(ax, (8.0, 6.0))
    table = {name: values for name, _, values in matrix._columns()}
    names = [pretty_name(str(n)) for n in table["driver"]]
    perf = np.asarray(table["performance"], dtype=np.float64)
    imp = np.asarray(table["importance"], dtype=np.float64)
    perf_low = np.asarray(table["performance_low"], dtype=np.float64)
    perf_high = np.asarray(table["performance_high"], dtype=np.float64)
    quadrants = [str(q) for q in table["quadrant"]]
    uncertain = [
        bool(a) or bool(b)
        for a, b in zip(table["uncertain_importance"], table["uncertain_performance"], strict=True)
    ]
    px, iy = matrix.performance_line, matrix.importance_line
    reverse = matrix.direction == "lower_is_better" and matrix.performance == "mean"
    x_values = np.concatenate([perf, [px], perf_low, perf_high])
    (x0, x1), (y0, y1) = _limits(x_values, 0.12), _limits(np.append(imp, iy), 0.16)
    if full_scale:
        scale = matrix._raw.get("scale")
        if matrix.performance == "top_box":
            x0, x1 = 0.0, 1.0
        elif scale is not None:
            x0, x1 = float(scale["min"]), float(scale["max"])
        y0 = min(0.0, y0)
        if matrix.share:
            y1 = max(y1, min(1.0, float(np.nanmax(imp)) * 1.15 if np.isfinite(imp).any() else 1.0))
    # Shade the quadrant to act on: important and under-performing.
    worse = (px, x1) if reverse else (x0, px)
    ax.add_patch(
        Rectangle(
            (worse[0], iy), worse[1] - worse[0], y1 - iy, color=VERMILLION, alpha=0.06, linewidth=0, zorder=0
        )
    )
    ax.axvline(px, color=INK, linewidth=1.0, linestyle="--", zorder=1, gid="performance_line")
    ax.axhline(iy, color=INK, linewidth=1.0, linestyle="--", zorder=1, gid="importance_line")
    marker_area = 70.0
    colours = [QUADRANT_COLOURS.get(q, GREY) for q in quadrants]
    has_interval = np.isfinite(perf_low) & np.isfinite(perf_high)
    for j in np.flatnonzero(has_interval).tolist():
        ax.plot(
            [perf_low[j], perf_high[j]],
            [imp[j], imp[j]],
            color=colours[j],
            linewidth=1.0,
            alpha=0.6,
            solid_capstyle="butt",
            zorder=2,
            gid="performance_interval",
        )
    firm = [i for i, u in enumerate(uncertain) if not u]
    shaky = [i for i, u in enumerate(uncertain) if u]
    if firm:
        ax.scatter(
            perf[firm],
            imp[firm],
            s=marker_area,
            c=[colours[i] for i in firm],
            edgecolors=[colours[i] for i in firm],
            linewidths=1.6,
            zorder=3,
            gid="firm",
        )
    if shaky:
        ax.scatter(
            perf[shaky],
            imp[shaky],
            s=marker_area,
            c="white",
            edgecolors=[colours[i] for i in shaky],
            linewidths=1.6,
            hatch="////",
            zorder=3,
            gid="uncertain",
        )
    ax.set_xlim((x1, x0) if reverse else (x0, x1))
    ax.set_ylim(y0, y1)
    ax.set_autoscale_on(False)
    _style(ax, grid="both")
    share = matrix.share
    if share:
        _percent_axis(ax.yaxis, y0, y1)
    if matrix.performance == "top_box":
        _percent_axis(ax.xaxis, x0, x1)
        ax.set_xlabel("Performance: top-box share (better →)", fontsize=LABEL_SIZE)
    else:
        ax.set_xlabel("Performance: mean rating (better →)", fontsize=LABEL_SIZE)
    measure = MEASURE_NAMES.get(matrix.measure, matrix.measure).split(" (")[0]
    unit = "share of the explained variance" if share else "R² units"
    ax.set_ylabel(f"Importance: {measure}, {unit}", fontsize=LABEL_SIZE)
    _title(ax, "Where to act: importance against performance", _matrix_detail(matrix))
    corners = {
        "fix_first": (0.015, 0.985, "left", "top"),
        "keep_it_up": (0.985, 0.985, "right", "top"),
        "low_priority": (0.015, 0.015, "left", "bottom"),
        "possible_overkill": (0.985, 0.015, "right", "bottom"),
    }
    quadrant_texts = []
    for q, (qx, qy, ha, va) in corners.items():
        t = ax.text(
            qx,
            qy,
            QUADRANT_NAMES[q],
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=LABEL_SIZE,
            fontweight="bold",
            color=QUADRANT_COLOURS[q],
            alpha=0.9,
            gid="quadrant",
            zorder=2,
        )
        quadrant_texts.append(t)
    if any(uncertain):
        hatched = Patch(facecolor="white", edgecolor=INK, hatch="////")
        labels = ["quadrant uncertain\n(interval crosses a cut line)"]
        handles: list[Any] = [hatched]
        spread = matrix.spread
        if spread is not None and spread.within_noise:
            handles.append(Line2D([], [], linestyle="none"))
            labels.append("performances differ by\nno more than noise")
        _legend_outside(ax, handles, labels)
    fig = _root_figure(ax)
    renderer = _renderer(fig)
    obstacles = [t.get_window_extent(renderer).extents for t in quadrant_texts]
    # The performance intervals too: a label laid over one would hide half of it.
    for j in np.flatnonzero(has_interval).tolist():
        (lx, ly), (hx, hy) = ax.transData.transform([(perf_low[j], imp[j]), (perf_high[j], imp[j])])
        obstacles.append((min(lx, hx), ly - 2.0, max(lx, hx), hy + 2.0))
    anchors = ax.transData.transform(np.column_stack([perf, imp]))
    sizes = [_text_size(ax, n, renderer) for n in names]
    radius = math.sqrt(marker_area) / 2.0 * fig.dpi / 72.0 + 1.0
    order = sorted(range(len(names)), key=lambda i: (-imp[i] if math.isfinite(imp[i]) else math.inf, i))
    offsets = _place_labels(anchors, sizes, radius, ax.bbox.extents, obstacles, order)
    to_points = 72.0 / fig.dpi
    for i, name in enumerate(names):
        dx, dy = offsets[i]
        far = math.hypot(dx, dy) > radius + 0.9 * max(sizes[i]) + 4.0
        arrow = (
            {
                "arrowstyle": "-",
                "color": GREY,
                "linewidth": 0.7,
                "shrinkA": 0.0,
                "shrinkB": math.sqrt(marker_area) / 2.0 + 1.0,
            }
            if far
            else None
        )
        label = ax.annotate(
            name,
            (perf[i], imp[i]),
            xytext=(dx * to_points, dy * to_points),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=TICK_SIZE,
            color=INK,
            bbox=_HALO,
            arrowprops=arrow,
            gid="driver",
            zorder=4,
        )
        label.set_in_layout(False)
    return ax


def _matrix_detail(matrix: ImportancePerformance) -> str:
    def cut(kind: str, value: float, percent: bool) -> str:
        return f"{kind} at {100 * value:.1f}%" if percent else f"{kind} at {value:.3g}"

    return (
        f"dashed lines: {cut('importance', matrix.importance_line, matrix.share)}, "
        f"{cut('performance', matrix.performance_line, matrix.performance == 'top_box')}"
    )


def _limits(values: npt.NDArray[np.float64], pad: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.2
    return lo - pad * span, hi + pad * span


def _root_figure(ax: Axes) -> Figure:
    fig: Any = ax.figure
    while getattr(fig, "figure", fig) is not fig:  # a SubFigure: up to the Figure that draws
        fig = fig.figure
    return fig  # type: ignore[no-any-return]


def _renderer(fig: Figure) -> RendererBase:
    fig.draw_without_rendering()  # runs the layout engine: axes are where they will be drawn
    get = getattr(fig.canvas, "get_renderer", None)
    if callable(get):
        return get()  # type: ignore[no-any-return]
    return fig._get_renderer()  # type: ignore[attr-defined,no-any-return]


def _text_size(ax: Axes, text: str, renderer: RendererBase) -> tuple[float, float]:
    probe = ax.text(0.0, 0.0, text, fontsize=TICK_SIZE, ha="center", va="center")
    extent = probe.get_window_extent(renderer)
    probe.remove()
    return float(extent.width), float(extent.height)


Box = tuple[float, float, float, float]
# A faint white ground under a label, so that lines behind it do not cut through the letters.
_HALO = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}

# Directions around a point, tried in this order at each distance: beside, above and below, the
# diagonals, then in between.
_DIRECTIONS = (
    (1.0, 0.0),
    (-1.0, 0.0),
    (0.0, 1.0),
    (0.0, -1.0),
    (1.0, 1.0),
    (-1.0, 1.0),
    (1.0, -1.0),
    (-1.0, -1.0),
    (1.0, 0.5),
    (-1.0, 0.5),
    (1.0, -0.5),
    (-1.0, -0.5),
    (0.5, 1.0),
    (-0.5, 1.0),
    (0.5, -1.0),
    (-0.5, -1.0),
)


def _place_labels(
    anchors: npt.NDArray[np.float64],
    sizes: Sequence[tuple[float, float]],
    radius: float,
    area: Sequence[float],
    obstacles: Sequence[Sequence[float]],
    order: Sequence[int],
    pad: float = 2.0,
    rings: int = 30,
) -> list[tuple[float, float]]:
    """Offsets (display units) of the label centres from their points.

    Greedy and deterministic: labels are placed one at a time in ``order``; each takes the first
    candidate position (rings of growing distance around its point, directions in a fixed order) whose
    padded box overlaps no label placed so far, no point and no obstacle, and lies inside ``area``.
    When no candidate is free the least-overlapping one is taken.
    """
    ax0, ay0, ax1, ay1 = (float(v) for v in area)
    points_boxes: list[Box] = [
        (float(x) - radius, float(y) - radius, float(x) + radius, float(y) + radius)
        for x, y in anchors
        if math.isfinite(x) and math.isfinite(y)
    ]
    blocked: list[Box] = [tuple(float(v) for v in o) for o in obstacles]  # type: ignore[misc]
    placed: list[Box] = []
    offsets: list[tuple[float, float]] = [(0.0, 0.0)] * len(sizes)
    for i in order:
        x, y = (float(v) for v in anchors[i])
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        w, h = sizes[i]
        best: tuple[float, float] = (radius + 3.0 + w / 2.0, 0.0)
        best_cost = math.inf
        for ring in range(rings):
            gap = radius + 3.0 + ring * 0.55 * h
            for dx, dy in _DIRECTIONS:
                cx = x + dx * (gap + w / 2.0)
                cy = y + dy * (gap + h / 2.0)
                box = (cx - w / 2.0 - pad, cy - h / 2.0 - pad, cx + w / 2.0 + pad, cy + h / 2.0 + pad)
                cost = _outside(box, (ax0, ay0, ax1, ay1)) * 4.0
                cost += sum(_overlap(box, b) for b in placed) * 2.0
                cost += sum(_overlap(box, b) for b in points_boxes)
                cost += sum(_overlap(box, b) for b in blocked)
                if cost < best_cost:
                    best, best_cost = (cx - x, cy - y), cost
                if cost == 0.0:
                    break
            if best_cost == 0.0:
                break
        offsets[i] = best
        cx, cy = x + best[0], y + best[1]
        placed.append((cx - w / 2.0 - pad, cy - h / 2.0 - pad, cx + w / 2.0 + pad, cy + h / 2.0 + pad))
    return offsets


def _overlap(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0.0 and h > 0.0 else 0.0


def _outside(box: Box, area: Box) -> float:
    inside = _overlap(box, area)
    return (box[2] - box[0]) * (box[3] - box[1]) - inside


# ----- pillars --------------------------------------------------------------------------------------


def pillar_profile(summary: PillarSummary, *, ax: Axes | None = None, full_scale: bool = True) -> Axes:
    """The pillar means of every group (segments, brands, waves) with their intervals.

    Up to three groups: one series per group, markers at the mean score of each pillar joined by a
    thin line, error bars for the interval, groups side by side within a pillar so their intervals do
    not hide each other. Beyond three groups the lines would tangle: each group is a bar (from the
    bottom of the scale) with its error bar, grouped by pillar. The score axis spans the whole scale
    by default (``full_scale=False`` zooms on the intervals, which exaggerates small differences).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> s = cx.pillar_summary(cx.datasets.sample_survey(), by="segment")
    >>> ax = s.plot()
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['north', 'south', 'east', 'west']
    >>> [t.get_text() for t in ax.get_xticklabels()][:2]
    ['Integrity', 'Resolution']
    >>> plt.close(ax.figure)
    """
    _expect(summary, (PillarSummary,), "pillar_profile")
    ax = _axes(ax, (9.0, 4.6))
    pillars = [p.id for p in summary.pillars]
    table = summary._rows
    n_groups = len(summary.groups)
    x = np.arange(len(pillars), dtype=np.float64)
    width = min(0.6, 0.14 * n_groups) if n_groups > 1 else 0.0
    shifts = np.linspace(-width / 2.0, width / 2.0, n_groups) if n_groups > 1 else np.zeros(1)
    handles: list[Any] = []
    labels: list[str] = []
    lows, highs = [], []
    for k, g in enumerate(summary.groups):
        rows = {r["pillar"]: r for r in table if r["group"] == g}
        mean = np.array([as_float(rows.get(p, {}).get("mean")) for p in pillars])
        low = np.array([as_float(rows.get(p, {}).get("mean_ci_low")) for p in pillars])
        high = np.array([as_float(rows.get(p, {}).get("mean_ci_high")) for p in pillars])
        lows.append(low)
        highs.append(high)
        colour = SERIES[k % len(SERIES)]
        if n_groups > 3:
            bottom = float(summary.scale[0])
            bar_width = 0.8 / n_groups
            bars = ax.bar(
                x + (k - (n_groups - 1) / 2.0) * bar_width,
                mean - bottom,
                width=bar_width * 0.9,
                bottom=bottom,
                yerr=_yerr(mean, low, high),
                color=colour,
                error_kw={"elinewidth": 1.1, "capsize": 2, "ecolor": INK},
                label=key_text(g),
                gid="pillar_bar",
            )
            handles.append(bars)
            labels.append(key_text(g))
            continue
        container = ax.errorbar(
            x + shifts[k],
            mean,
            yerr=_yerr(mean, low, high),
            color=colour,
            marker=MARKERS[k % len(MARKERS)],
            markersize=6,
            linewidth=1.0,
            elinewidth=1.3,
            capsize=3,
            alpha=0.95,
            label=key_text(g),
        )
        handles.append(container)
        labels.append(key_text(g))
    _style(ax)
    ax.set_xticks(x, [Pillar(p).name for p in pillars])
    _rotate_if_crowded(ax, [Pillar(p).name for p in pillars])
    ax.set_xlim(-0.5, len(pillars) - 0.5)
    lo, hi = summary.scale
    values = np.concatenate(lows + highs) if lows else np.array([])
    finite = values[np.isfinite(values)]
    if finite.size and not full_scale:
        span = max(float(finite.max() - finite.min()), 0.1 * (hi - lo))
        ax.set_ylim(max(lo, float(finite.min()) - 0.15 * span), min(hi, float(finite.max()) + 0.15 * span))
    else:
        ax.set_ylim(lo, hi)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.set_ylabel(f"Mean score ({lo} to {hi})", fontsize=LABEL_SIZE)
    by_name = " / ".join(summary.by_columns) if summary.by is not None else None
    by = f" by {by_name}" if by_name else ""
    weighted = ", weighted" if summary.weighted else ""
    _title(
        ax,
        f"Pillar profile{by}",
        f"mean score with {level_text(summary.confidence_level)} CI; n = {summary.n_respondents:,}{weighted}",
    )
    if n_groups > 1 or summary.by is not None:
        _legend_outside(ax, handles, labels, title=by_name)
    return ax


# ----- retention ------------------------------------------------------------------------------------


def retention_heatmap(table: RetentionTable, *, ax: Axes | None = None, annotate: bool | None = None) -> Axes:
    """A cohort retention table as a heatmap: cohorts down, periods since the cohort across, the share
    retained as colour (and as text while the table is small, or with ``annotate=True``). Cells not
    observed yet are left blank (never drawn as 0); cells of the period in progress are hatched."""
    _expect(table, (RetentionTable,), "retention_heatmap")
    rates = table.rates
    n_cohorts, k = rates.shape
    ax = _axes(ax, (max(6.0, 0.55 * k + 2.5), max(3.0, 0.35 * n_cohorts + 1.5)))
    masked = np.ma.masked_invalid(rates)
    image = ax.imshow(masked, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    incomplete = table.incomplete
    for i in range(n_cohorts):
        for j in range(k):
            if incomplete[i, j] and not math.isnan(rates[i, j]):
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//", edgecolor="#999999", linewidth=0
                    )
                )
    if annotate if annotate is not None else n_cohorts * k <= 240:
        for i in range(n_cohorts):
            for j in range(k):
                v = rates[i, j]
                if not math.isnan(v):
                    ax.text(
                        j,
                        i,
                        f"{100 * v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=TICK_SIZE - 1,
                        color="white" if v > 0.6 else "black",
                    )
    labels = [str(c) for c in table.cohorts]
    ax.set_yticks(range(n_cohorts), [f"{c}  (n={s})" for c, s in zip(labels, table.sizes, strict=True)])
    ax.set_xticks(range(k))
    ax.set_xlabel(f"{table.period}s since the cohort's {table.period}")
    ax.set_ylabel("cohort")
    ax.tick_params(labelsize=TICK_SIZE)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    _title(
        ax,
        f"Retention by {table.period} cohort ({table.definition})",
        f"blank: not observed yet; hatched: the {table.period} in progress",
    )
    return ax


# ----- trends and all pairs -------------------------------------------------------------------------


def trend(result: Trend, *, segment: Any = None, ax: Axes | None = None) -> Axes:
    """The control chart of a trend: the estimate per wave with its interval band, the centre line,
    the control limits (steps, one pair per wave) and the waves flagged by a Western Electric rule
    (vermillion rings, with the rules' numbers).

    Parameters
    ----------
    result : Trend
        From :func:`cx_metrics.trend`.
    segment : label, optional
        The segment to draw (default: the first; a trend without segments has one).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> t = cx.trend(cx.datasets.sample_survey(), "nps", by="wave", weights="weight")
    >>> ax = t.plot()
    >>> sorted(line.get_gid() for line in ax.lines if line.get_gid())
    ['centre', 'estimate', 'lcl', 'ucl']
    >>> plt.close(ax.figure)
    """
    _expect(result, (Trend,), "trend")
    s = 0 if segment is None else result._segment_index(segment)
    table = result.to_pandas("waves")
    n_waves = len(result.waves)
    rows = table.iloc[s * n_waves : (s + 1) * n_waves]
    spec = result._spec
    unit = spec.unit
    ax = _axes(ax, (8.0, 4.2))
    labels = [key_text(w) for w in result.waves]
    x = np.arange(n_waves, dtype=np.float64)

    def col(name: str) -> npt.NDArray[np.float64]:
        values: npt.NDArray[np.float64] = unit * rows[name].to_numpy(dtype=np.float64)
        return values

    est, low, high = col("estimate"), col("ci_low"), col("ci_high")
    lcl, ucl, centre = col("lcl"), col("ucl"), col("centre")
    level = f"{level_text(result.confidence_level)} CI"
    band = ax.fill_between(x, low, high, color=BLUE, alpha=0.16, linewidth=0, gid="interval")
    (line,) = ax.plot(x, est, color=BLUE, marker="o", markersize=6, linewidth=2, gid="estimate", zorder=3)
    (mid,) = ax.plot(x, centre, color=INK, linewidth=1.2, gid="centre")
    (upper,) = ax.step(x, ucl, where="mid", color=VERMILLION, linestyle="--", linewidth=1.2, gid="ucl")
    ax.step(x, lcl, where="mid", color=VERMILLION, linestyle="--", linewidth=1.2, gid="lcl")
    handles: list[Any] = [line, band, mid, upper]
    chart = str(result.tests["chart"].iloc[s])
    names = [spec.name, level, "centre line", f"control limits ({_CHART_NAMES.get(chart, chart)})"]
    flagged = rows["flagged"].to_numpy(dtype=bool)
    if flagged.any():
        marks = ax.scatter(
            x[flagged],
            est[flagged],
            s=170,
            facecolors="none",
            edgecolors=VERMILLION,
            linewidths=2.0,
            zorder=4,
            gid="flagged",
        )
        for i in np.flatnonzero(flagged):
            fired = [str(r) for r in range(1, 5) if bool(rows[f"rule_{r}"].iloc[i])]
            ax.annotate(
                "rule " + ",".join(fired),
                (x[i], est[i]),
                xytext=(0, -16),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=NOTE_SIZE,
                color=VERMILLION,
                bbox=_HALO,
            )
        handles.append(marks)
        names.append("flagged (Western Electric)")
    _style(ax)
    ax.set_xticks(x, labels)
    _rotate_if_crowded(ax, labels)
    ax.set_xlim(-0.6, n_waves - 0.4)
    ax.set_xlabel(" / ".join(result.by_columns), fontsize=LABEL_SIZE)
    ylabel = {"nps": "NPS (points)", "share": f"{spec.name} (%)"}.get(spec.measure, spec.name)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    test = result.tests.iloc[s]
    seg = "" if result.segment is None else f" — {key_text(result.segments[s])}"
    _title(
        ax,
        f"{spec.name} of {result.outcome} over {' / '.join(result.by_columns)}{seg}",
        f"trend {spec.diff_text(float(test['slope']))} per wave (WLS, {p_equals(float(test['p_value']))})",
    )
    _legend_outside(ax, handles, names)
    return ax


_CHART_NAMES = {
    "p": "p-chart",
    "laney_p_prime": "Laney P\N{PRIME}",
    "trinomial": "trinomial",
    "laney_trinomial": "Laney trinomial",
    "xbar": "X-bar",
    "i_mr": "I-MR",
}


def all_pairs(result: AllPairs, *, ax: Axes | None = None) -> Axes:
    """The heat map of every pairwise difference (row minus column), diverging around zero, with
    ``*`` on the pairs whose adjusted p-value is below 1 - confidence level.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> r = cx.compare_all(cx.datasets.sample_survey(), "nps", by="segment")
    >>> ax = r.plot()
    >>> len([t for t in ax.texts if t.get_gid() == "cell"])
    12
    >>> plt.close(ax.figure)
    """
    _expect(result, (AllPairs,), "all_pairs")
    spec = result._spec()
    diff = spec.unit * result.matrix("difference")
    padj = result.matrix("p_adjusted")
    g = len(result.groups)
    ax = _axes(ax, (max(4.5, 0.9 * g + 2.5), max(3.6, 0.8 * g + 1.8)))
    finite = diff[np.isfinite(diff)]
    span = float(np.abs(finite).max()) if finite.size else 1.0
    image = ax.imshow(diff, cmap="RdBu", vmin=-span or -1.0, vmax=span or 1.0)
    alpha = 1.0 - result.confidence_level
    for i in range(g):
        for j in range(g):
            if i == j or not math.isfinite(diff[i, j]):
                continue
            star = "*" if padj[i, j] < alpha else ""
            dark = abs(diff[i, j]) > 0.6 * span
            ax.text(
                j,
                i,
                f"{format_number(diff[i, j], 1 if spec.measure != 'mean' else 2, signed=True)}{star}",
                ha="center",
                va="center",
                fontsize=NOTE_SIZE,
                color="white" if dark else INK,
                gid="cell",
            )
    labels = [key_text(k) for k in result.groups]
    ax.set_xticks(np.arange(g), labels)
    ax.set_yticks(np.arange(g), labels)
    _rotate_if_crowded(ax, labels)
    bar = _root_figure(ax).colorbar(image, ax=ax, shrink=0.8)
    unit = {"nps": "points", "share": "percentage points"}.get(spec.measure, "rating points")
    bar.set_label(f"row - column ({unit})", fontsize=LABEL_SIZE)
    _title(
        ax,
        f"{spec.name} of {result.outcome}: every pair of {' / '.join(result.by_columns)}",
        f"* p < {alpha:g} after {result.adjust} adjustment over {g * (g - 1) // 2} pairs",
    )
    return ax


def survival_curve(result: Any, ax: Axes | None = None) -> Axes:
    """The Kaplan-Meier curve of a :class:`~cx_metrics.ResponseTimes` (the share of tickets still
    waiting after each time) as a step line with its pointwise band, open tickets marked where they
    were censored, and the Kaplan-Meier quantiles as dotted lines.

    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> r = cx.response_times(durations=[1, 2, 3, 4, 5, 6], outcomes=[1, 1, 1, 0, 1, 1])
    >>> ax = survival_curve(r)
    >>> plt.close(ax.figure)
    """
    from .service_times import ResponseTimes

    _expect(result, (ResponseTimes,), "survival_curve")
    km = result.curve
    ax = _axes(ax, (6.4, 3.8))
    times = np.concatenate(([0.0], km.times))
    surv = np.concatenate(([1.0], km.survival))
    lo, hi = km.band(result.confidence_level, result.conf_type)
    lo = np.concatenate(([1.0], lo))
    hi = np.concatenate(([1.0], np.where(np.isnan(hi), lo[1:], hi)))
    ax.fill_between(times, lo, hi, step="post", color=BLUE, alpha=0.18, linewidth=0)
    ax.step(times, surv, where="post", color=BLUE, linewidth=1.6)
    censored = km.censored > 0
    if censored.any():
        ax.plot(km.times[censored], km.survival[censored], "|", color=INK, markersize=7)
    for q in result.km_quantiles:
        if q.estimate is not None:
            ax.axvline(q.estimate, color=GREY, linestyle=":", linewidth=1)
    ax.set_ylim(0.0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"time ({result.unit})", fontsize=LABEL_SIZE)
    ax.set_ylabel("still waiting", fontsize=LABEL_SIZE)
    level = f"{100 * result.confidence_level:g}%"
    _title(
        ax,
        "Kaplan-Meier: tickets still waiting",
        f"n={result.n}, {result.n_open} open (|), {level} band ({result.conf_type})",
    )
    _style(ax, "both")
    return ax


# ----- names and numbers as a reader sees them ------------------------------------------------------

_SMALL_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "per", "the", "to", "vs"}
)


def pretty_name(name: str) -> str:
    """A column name as words, the same in every chart: ``"time_and_effort"`` -> ``"Time and Effort"``,
    ``"first-contact resolution"`` -> ``"First-contact Resolution"``. Words are split at underscores and
    spaces; a word already holding a capital (``"NPS"``, ``"CSAT"``) is kept as written, small words
    (and, of, the...) stay lower case except first, the others are capitalised. A name without an
    underscore that already holds a capital or a space (``"Time and Effort"``) is returned unchanged.

    >>> pretty_name("time_and_effort"), pretty_name("nps_of_the_web"), pretty_name("CSAT")
    ('Time and Effort', 'Nps of the Web', 'CSAT')
    """
    text = str(name)
    if "_" not in text and (text != text.lower() or " " in text):
        return text
    words = [w for w in text.replace("_", " ").split(" ") if w]
    out = []
    for i, w in enumerate(words):
        if w != w.lower() or (i > 0 and w in _SMALL_WORDS):
            out.append(w)
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out) if out else text


def format_number(x: float, decimals: int = 1, *, signed: bool = False, suffix: str = "") -> str:
    """``x`` with ``decimals`` decimals for a label, never ``"-0.0"``: a value that rounds to zero is
    written without a sign. Negative numbers use the minus sign (U+2212), as matplotlib's ticks do;
    ``signed`` adds ``+`` to positive values. NaN is ``"n/a"``.

    >>> format_number(-0.04), format_number(-1.25, 1, signed=True) == "\u22121.2"
    ('0.0', True)
    >>> format_number(3, 0, signed=True, suffix="%")
    '+3%'
    """
    if not math.isfinite(x):
        return "n/a"
    text = f"{abs(x):.{decimals}f}"
    if float(text) == 0.0:
        return text + suffix
    sign = "\u2212" if x < 0 else ("+" if signed else "")
    return sign + text + suffix


def _percent_axis(axis: Any, lo: float, hi: float, nbins: int = 6) -> None:
    """Percent ticks on ``axis`` (values are shares of 1) with as many decimals as the tick spacing
    needs, so that no two ticks read the same; never ``"-0%"``."""
    from matplotlib.ticker import FuncFormatter

    locator = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10])
    ticks = locator.tick_values(min(lo, hi), max(lo, hi))
    decimals = 0
    while decimals < 6:
        labels = [format_number(100.0 * t, decimals, suffix="%") for t in ticks]
        if len(set(labels)) == len(labels) and all(
            math.isclose(float(lab.rstrip("%").replace("\u2212", "-")), 100.0 * t, abs_tol=1e-9)
            for lab, t in zip(labels, ticks, strict=True)
        ):
            break
        decimals += 1
    axis.set_major_locator(locator)
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(100.0 * v, decimals, suffix="%")))


# ----- what-if and segment importance -----------------------------------------------------------------


def what_if(result: Any, *, ax: Axes | None = None) -> Axes:
    """A what-if simulation (:meth:`DriverAnalysis.what_if`): the observed and the simulated NPS as
    bars, in points, with the bootstrap interval of the simulated NPS (observed + interval of the
    change) when there is one; the change is written on the simulated bar, and the scenario (each
    driver's shift, names as words) is the subtitle.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> r = cx.pillar_driver_analysis(cx.datasets.sample_survey())
    >>> ax = cx.plot.what_if(r.what_if({"time_and_effort": 1.0}, scale=(1, 10)))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Observed', 'Simulated']
    >>> plt.close(ax.figure)
    """
    from .driver_matrix import WhatIf, _shift_text

    _expect(result, (WhatIf,), "what_if")
    ax = _axes(ax, (8.0, 2.8))
    values = [100.0 * result.baseline, 100.0 * result.simulated]
    y = np.array([1.0, 0.0])
    colours = [LIGHT_GREY, BLUE]
    ax.barh(y, values, color=colours, height=0.55, zorder=2)
    if result.interval is not None:
        lo = 100.0 * (result.baseline + result.interval.low)
        hi = 100.0 * (result.baseline + result.interval.high)
        ax.errorbar(
            [values[1]],
            [0.0],
            xerr=[[values[1] - lo], [hi - values[1]]],
            fmt="none",
            ecolor=INK,
            elinewidth=1.2,
            capsize=4,
            zorder=3,
            gid="interval",
        )
    ax.set_yticks(y, ["Observed", "Simulated"])
    span = max(abs(v) for v in [*values, 1.0])
    ax.set_xlim(min(0.0, min(values)) - 0.25 * span, max(0.0, max(values)) + 0.35 * span)
    ax.axvline(0.0, color=INK, linewidth=0.8, zorder=1)
    _style(ax, grid="x")
    ax.xaxis.set_major_formatter(_points_formatter())
    ax.set_xlabel("NPS (points)", fontsize=LABEL_SIZE)
    change = format_number(100.0 * result.change, 1, signed=True)
    for yy, v, text in (
        (1.0, values[0], format_number(values[0], 1)),
        (0.0, values[1], f"{format_number(values[1], 1)} ({change})"),
    ):
        ax.annotate(
            text,
            (v, yy),
            xytext=(6 if v >= 0 else -6, 0),
            textcoords="offset points",
            ha="left" if v >= 0 else "right",
            va="center",
            fontsize=TICK_SIZE,
            color=INK,
            gid="value",
        )
    scenario = ", ".join(
        f"{pretty_name(str(r['driver']))} {_shift_text(r['shift'])}" for r in result._raw["scenario"]
    )
    ci = ""
    if result.interval is not None:
        ci = (
            f"; {level_text(result.interval.confidence_level)} CI of the change "
            f"{format_number(100.0 * result.interval.low, 1, signed=True)} to "
            f"{format_number(100.0 * result.interval.high, 1, signed=True)}"
        )
    _title(ax, f"What if: {scenario}", f"n = {result.n}{ci}")
    return ax


def _log_formatter(mantissas: tuple[float, ...] | None = None) -> Any:
    """Labels of a log axis as plain numbers (0.05, 0.5, 2, 10), with as many decimals as the tick
    needs; with ``mantissas``, only ticks at those multiples of a power of ten are labelled (the minor
    ticks at 2 and 5, so the axis is not crowded)."""
    from matplotlib.ticker import FuncFormatter

    def label(v: float, _pos: int) -> str:
        if v <= 0:
            return ""
        exponent = math.floor(math.log10(v) + 1e-12)
        mantissa = v / 10.0**exponent
        if mantissas is not None and not any(math.isclose(mantissa, m, rel_tol=1e-9) for m in mantissas):
            return ""
        return format_number(v, max(0, -exponent))

    return FuncFormatter(label)


def _points_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: format_number(v, 0 if float(v).is_integer() else 1))


def segment_importance(segments: Any, *, measure: str = "lmg_share", ax: Axes | None = None) -> Axes:
    """Importance of each driver in each analysed segment (a segment driver analysis,
    ``cx.driver_analysis(..., by=...)``): grouped horizontal bars, drivers (names as words) ordered by
    their mean importance across segments, one colour per segment. ``measure`` is a column of
    :attr:`DriverAnalysis.importance` (default the LMG share). Skipped segments are named in a note.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> from cx_metrics.datasets import sample_survey
    >>> from cx_metrics.pillars import PILLARS
    >>> s = cx.driver_analysis(sample_survey(), "ltr", list(PILLARS), by="segment", missing="pairwise")
    >>> ax = cx.plot.segment_importance(s)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['north', 'south', 'east', 'west']
    >>> plt.close(ax.figure)
    """
    from .drivers import SegmentDriverAnalyses

    _expect(segments, (SegmentDriverAnalyses,), "segment_importance")
    keys = list(segments.analyses)
    if not keys:
        raise InvalidArgumentError("invalid segments: no segment was analysed, so there is nothing to draw")
    first = segments.analyses[keys[0]]
    columns = first._importance_columns()
    if measure not in columns:
        raise InvalidArgumentError(f"invalid measure: {measure!r}; use one of {', '.join(columns)}")
    units = [str(u) for u in first.units]
    values = np.full((len(units), len(keys)), np.nan)
    for j, k in enumerate(keys):
        a = segments.analyses[k]
        col = a._importance_columns()[measure]
        for u, v in zip(a.units, col, strict=True):
            if str(u) in units:
                values[units.index(str(u)), j] = v
    order = np.argsort(np.nan_to_num(np.nanmean(values, axis=1), nan=-np.inf))
    ax = _axes(ax, (8.0, max(2.8, 0.25 * len(units) * len(keys) + 1.6)))
    height = 0.8 / len(keys)
    y = np.arange(len(units), dtype=np.float64)
    handles = []
    for j in range(len(keys)):
        offset = (j - (len(keys) - 1) / 2.0) * height
        bars = ax.barh(
            y - offset,
            values[order, j],
            height=height * 0.92,
            color=SERIES[j % len(SERIES)],
            zorder=2,
            gid="segment",
        )
        handles.append(bars)
    ax.set_yticks(y, [pretty_name(units[i]) for i in order])
    _style(ax, grid="x")
    share = measure.endswith("share")
    finite = values[np.isfinite(values)]
    hi = float(finite.max()) if finite.size else 1.0
    lo = min(0.0, float(finite.min()) if finite.size else 0.0)
    ax.set_xlim(lo, hi * 1.1 if hi > 0 else 1.0)
    if share:
        _percent_axis(ax.xaxis, lo, hi * 1.1 if hi > 0 else 1.0)
        ax.set_xlabel("Share of the explained variance (LMG)", fontsize=LABEL_SIZE)
    else:
        ax.set_xlabel(f"Importance: {MEASURE_NAMES.get(measure, measure)}, in R² units", fontsize=LABEL_SIZE)
    by = " / ".join(segments.by_columns)
    _legend_outside(ax, handles, [key_text(k) for k in keys], title=by)
    skipped = ", ".join(key_text(k) for k in segments.skipped)
    _title(ax, f"Driver importance by {by}", f"skipped: {skipped}" if skipped else None)
    return ax


_PERIOD = re.compile(r"^\d{4}(?:[-/ ]?(?:Q[1-4]|H[12]|W\d{1,2}|\d{1,2}(?:[-/]\d{1,2})?))?$")


def _ordered_labels(keys: Sequence[Any]) -> bool:
    """Whether group labels are ordered (numbers, dates, periods such as ``2026-Q1``), so that a line
    between them reads as a trend; tuples (several label columns) and missing labels are not."""
    import datetime as _dt

    if not keys:
        return False
    for k in keys:
        if isinstance(k, bool) or k is None or isinstance(k, tuple):
            return False
        if isinstance(k, int | float | np.integer | np.floating | _dt.date):
            continue
        if isinstance(k, str) and _PERIOD.match(k.strip()):
            continue
        if type(k).__module__.startswith("pandas") and hasattr(k, "to_timestamp"):  # pandas Period
            continue
        return False
    return True


def journey_map(
    scores: Any,
    *,
    metric: Literal["nps", "csat", "ces_mean"] = "csat",
    audit: Any = None,
    ax: Axes | None = None,
) -> Axes:
    """A journey map from :func:`~cx_metrics.touchpoint_scores`: stages left to right, each touchpoint
    a box in its stage's column with its score and interval (``metric``), its customers and share, and,
    when an :class:`~cx_metrics.AuditCompliance` is given, its audit compliance rate. Boxes are coloured
    from vermillion (low) to bluish green (high); third-party touchpoints have a dashed edge.

    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> j = cx.Journey("j", {"buy": ["web", "shop"], "support": ["call"]})
    >>> s = cx.touchpoint_scores({"touchpoint": ["web", "shop", "call"], "customer_id": [1, 2, 1],
    ...                           "csat": [5, 4, 2]}, j, csat="csat")
    >>> ax = journey_map(s)
    >>> plt.close(ax.figure)
    """
    from matplotlib.colors import LinearSegmentedColormap

    from .journey import AuditCompliance, TouchpointScores

    _expect(scores, (TouchpointScores,), "journey_map")
    if audit is not None:
        _expect(audit, (AuditCompliance,), "journey_map")
    keys = {
        "nps": ("nps", "score", "ci", -1.0, 1.0),
        "csat": ("csat", "share_satisfied", "ci", 0.0, 1.0),
        "ces_mean": ("ces", "mean", "mean_ci", 1.0, 7.0),
    }
    if metric not in keys:
        raise InvalidArgumentError(f'invalid metric: {metric!r}; use "nps", "csat" or "ces_mean"')
    col, field, ci_field, lo_end, hi_end = keys[metric]
    raw = scores.to_dict()
    stages = [s["name"] for s in raw["journey"]["stages"]]
    per_stage: dict[str, list[dict[str, Any]]] = {s: [] for s in stages}
    for r in raw["touchpoints"]:
        per_stage[r["stage"]].append(r)
    third = {
        t["name"]
        for s in raw["journey"]["stages"]
        for t in s["touchpoints"]
        if t["ownership"] == "third_party"
    }
    depth = max(len(v) for v in per_stage.values())
    ax = _axes(ax, (max(6.4, 2.1 * len(stages)), 1.2 + 1.25 * depth))
    cmap = LinearSegmentedColormap.from_list("cx", [NEGATIVE, "#F5F5F5", POSITIVE])
    scale = 1.0 if metric == "ces_mean" else 100.0
    for i, stage in enumerate(stages):
        ax.text(i + 0.5, depth + 0.25, stage, ha="center", va="bottom", fontsize=LABEL_SIZE, weight="bold")
        for k, r in enumerate(per_stage[stage]):
            cell = r.get(col)
            value = math.nan if cell is None else as_float(cell[field])
            y = depth - k - 1
            shade = (value - lo_end) / (hi_end - lo_end) if not math.isnan(value) else 0.5
            ax.add_patch(
                Rectangle(
                    (i + 0.05, y + 0.08),
                    0.9,
                    0.84,
                    facecolor=cmap(shade),
                    edgecolor=INK,
                    linestyle="--" if r["touchpoint"] in third else "-",
                    linewidth=0.8,
                )
            )
            lines = [f"{r['touchpoint']}"]
            if not math.isnan(value):
                ci = cell[ci_field] if cell is not None else None
                band = "" if ci is None else f" ({scale * ci['low']:.0f}-{scale * ci['high']:.0f})"
                digits = 2 if metric == "ces_mean" else 0
                lines.append(f"{metric} {scale * value:.{digits}f}{band}")
            lines.append(f"{r['n_customers']} cust. ({100 * as_float(r['customer_share']):.0f}%)")
            if audit is not None:
                rate = audit.rate(r["touchpoint"])
                if not math.isnan(rate):
                    lines.append(f"audit {100 * rate:.0f}%")
            ax.text(i + 0.5, y + 0.5, "\n".join(lines), ha="center", va="center", fontsize=NOTE_SIZE)
    ax.set_xlim(0, len(stages))
    ax.set_ylim(0, depth + 0.7)
    ax.set_axis_off()
    level = level_text(raw["options"]["confidence_level"])
    _title(
        ax, f"Journey map: {raw['journey']['name']}", f"{metric} with {level} interval; dashed: third party"
    )
    return ax


def benchmark(
    comparison: Any,
    *,
    metric: Literal["nps", "csat", "ces_agree"] = "nps",
    level: Literal["touchpoint", "stage"] = "stage",
    ax: Axes | None = None,
) -> Axes:
    """Brands side by side per stage (or touchpoint) from :func:`~cx_metrics.compare_brands`: each
    brand's score as a dot with its interval; a filled marker where the brand's difference to the
    reference is significant after the multiplicity adjustment (adjusted p < 0.05).

    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> data = cx.sample_journey()
    >>> c = cx.compare_brands(data, cx.sample_journey_map(), reference="Northwind", ltr="ltr")
    >>> ax = benchmark(c)
    >>> plt.close(ax.figure)
    """
    from .journey import BrandComparison

    _expect(comparison, (BrandComparison,), "benchmark")
    keys = {
        "nps": ("nps", "score", "ci"),
        "csat": ("csat", "share_satisfied", "ci"),
        "ces_agree": ("ces", "share_agree", "ci"),
    }
    if metric not in keys:
        raise InvalidArgumentError(f'invalid metric: {metric!r}; use "nps", "csat" or "ces_agree"')
    if level not in ("touchpoint", "stage"):
        raise InvalidArgumentError(f'invalid level: {level!r}; use "touchpoint" or "stage"')
    col, field, ci_field = keys[metric]
    raw = comparison.to_dict()
    brands = raw["brands"]
    table = "touchpoints" if level == "touchpoint" else "stages"
    name_key = "touchpoint" if level == "touchpoint" else "stage"
    names = [r[name_key] for r in raw["scores"][0][table]]
    significant = {
        (d["brand"], d["name"])
        for d in raw["differences"]
        if d["level"] == level
        and d["metric"] == metric
        and d["p_adjusted"] is not None
        and d["p_adjusted"] < 0.05
    }
    ax = _axes(ax, (max(6.4, 0.9 * len(names) * max(1, len(brands)) / 2), 3.8))
    width = 0.8 / max(1, len(brands))
    for b, brand in enumerate(brands):
        xs, ys, lo, hi, filled = [], [], [], [], []
        for k, r in enumerate(raw["scores"][b][table]):
            cell = r.get(col)
            if cell is None or cell[field] is None:
                continue
            xs.append(k - 0.4 + width * (b + 0.5))
            ys.append(as_float(cell[field]))
            ci = cell[ci_field]
            lo.append(0.0 if ci is None else ys[-1] - as_float(ci["low"]))
            hi.append(0.0 if ci is None else as_float(ci["high"]) - ys[-1])
            filled.append((brand, r[name_key]) in significant)
        colour = SERIES[b % len(SERIES)]
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="none", ecolor=colour, elinewidth=1.2, capsize=2)
        for x, y, f in zip(xs, ys, filled, strict=True):
            ax.plot(
                x,
                y,
                MARKERS[b % len(MARKERS)],
                color=colour,
                markerfacecolor=colour if f else "white",
                markersize=6,
            )
        ax.plot(
            [],
            [],
            MARKERS[b % len(MARKERS)],
            color=colour,
            label=brand + (" (reference)" if brand == raw["reference"] else ""),
        )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=TICK_SIZE)
    _rotate_if_crowded(ax, names)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(metric, fontsize=LABEL_SIZE)
    ax.legend(fontsize=NOTE_SIZE, frameon=False)
    adj = raw["adjustment"]
    _title(
        ax,
        f"Benchmark by {level}: {metric}",
        f"filled: differs from {raw['reference']} ({adj}-adjusted p < 0.05)",
    )
    _style(ax)
    return ax


__all__ += ["benchmark", "journey_map"]
# ----- paths ----------------------------------------------------------------------------------------


def transition_heatmap(
    result: Any,
    *,
    ax: Axes | None = None,
    values: Literal["probability", "count"] = "probability",
    annotate: bool | None = None,
) -> Axes:
    """The transition matrix of a :class:`~cx_metrics.paths.PathResult` as a heatmap: the event left
    down (``(start)`` first), the event reached across (``(end)`` last), the probability of the next
    event (or the count, ``values="count"``) as colour, and as text while the matrix is small (or
    with ``annotate=True``). Transitions that never happened are left blank."""
    from .paths import PathResult

    _expect(result, (PathResult,), "transition_heatmap")
    rows, cols, m = result.matrix(values)
    counts = result.matrix("count")[2]
    masked = np.ma.masked_where(counts == 0, m)
    ax = _axes(ax, (max(6.0, 0.55 * len(cols) + 2.5), max(3.0, 0.45 * len(rows) + 1.5)))
    vmax = 1.0 if values == "probability" else max(float(m.max()), 1.0)
    image = ax.imshow(masked, cmap="Blues", vmin=0.0, vmax=vmax, aspect="auto", interpolation="nearest")
    if annotate if annotate is not None else m.size <= 240:
        for i in range(len(rows)):
            for j in range(len(cols)):
                if counts[i, j] > 0:
                    v = m[i, j]
                    text = f"{100 * v:.0f}" if values == "probability" else f"{int(v)}"
                    ax.text(
                        j,
                        i,
                        text,
                        ha="center",
                        va="center",
                        fontsize=TICK_SIZE - 1,
                        color="white" if v > 0.6 * vmax else "black",
                    )
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xticks(range(len(cols)), cols)
    _rotate_if_crowded(ax, cols)
    ax.set_xlabel("next event")
    ax.set_ylabel("event")
    ax.tick_params(labelsize=TICK_SIZE)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    if values == "probability":
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    what = "probability of the next event" if values == "probability" else "counts"
    _title(
        ax,
        f"Transitions of {result.n_paths} paths ({what})",
        "blank: never happened; probability = transitions / occurrences of the event",
    )
    return ax


def funnel(result: Any, ax: Axes | None = None) -> Axes:
    """A funnel chart: one bar per step (customers or attempts, as the spec counts), labelled with
    the conversion from step 1 and the step-to-step conversion with its Wilson interval."""
    from .funnels import FunnelResult

    _expect(result, (FunnelResult,), "funnel")
    steps = result.steps
    ax = _axes(ax, (6.4, 0.6 + 0.55 * len(steps)))
    y = np.arange(len(steps))[::-1]
    counts = np.array([s.count for s in steps], dtype=float)
    ax.barh(y, counts, color=BLUE, height=0.6)
    top = counts.max() if len(counts) and counts.max() > 0 else 1.0
    for yi, s in zip(y, steps, strict=True):
        parts = [f"{s.count}"]
        if s.overall is not None:
            parts.append(f"{100 * s.overall:.1f}% of step 1")
        if s.conversion is not None and s.conversion_ci is not None:
            ci = s.conversion_ci
            parts.append(f"{100 * s.conversion:.1f}% [{100 * ci.low:.1f}, {100 * ci.high:.1f}] from previous")
        ax.text(s.count + 0.01 * top, yi, ", ".join(parts), va="center", fontsize=LABEL_SIZE - 1, color=INK)
    ax.set_yticks(y)
    ax.set_yticklabels([s.step for s in steps], fontsize=LABEL_SIZE)
    ax.set_xlim(0, top * 1.9)
    unit = "customers" if "uniques" in result.rules else "attempts"
    _title(ax, "Funnel", f"{unit}; {result.converted} of {result.entered} converted")
    _style(ax, "x")
    return ax


def odds_ratios(
    model: Any,
    ax: Axes | None = None,
    *,
    bootstrap: Any = None,
) -> Axes:
    """The odds ratios of a promoter or detractor model (:func:`~cx_metrics.promoter_drivers`,
    :func:`~cx_metrics.detractor_drivers`) with their intervals, on a log axis with a line at 1 (no
    effect). ``model`` may also be a sequence of models (the promoter and the detractor model, say),
    drawn side by side per driver. With ``bootstrap`` (the model's
    :meth:`~cx_metrics.NpsDriverModel.bootstrap`), its percentile intervals replace the Wald ones.
    The subtitle says which intervals and standard errors are shown.

    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> s = cx.datasets.sample_survey()
    >>> pro = cx.promoter_drivers(s, drivers=cx.PILLARS, weights="weight")
    >>> det = cx.detractor_drivers(s, drivers=cx.PILLARS, weights="weight")
    >>> ax = odds_ratios([pro, det])
    >>> plt.close(ax.figure)
    """
    from .nps_drivers import NpsDriverModel, NpsModelBootstrap

    models = list(model) if isinstance(model, (list, tuple)) else [model]
    if not models:
        raise InvalidArgumentError("odds_ratios needs at least one promoter or detractor model")
    for m in models:
        _expect(m, (NpsDriverModel,), "odds_ratios")
    if bootstrap is not None:
        _expect(bootstrap, (NpsModelBootstrap,), "odds_ratios")
        if len(models) != 1 or bootstrap.target != models[0].target:
            raise InvalidArgumentError(
                "bootstrap= takes the bootstrap of the one model drawn (model.bootstrap(...))"
            )
    drivers = list(models[0].drivers)
    ax = _axes(ax, (6.4, 0.5 * len(drivers) + 1.6))
    height = 0.8 / len(models)
    for k, m in enumerate(models):
        table = (bootstrap if bootstrap is not None else m).coefficients
        rows = [table.loc[d] for d in drivers if d in table.index]
        y = np.arange(len(rows)) - 0.4 + height * (k + 0.5)
        est = np.array([float(r["odds_ratio"]) for r in rows])
        lo = np.array([float(r["or_ci_low"]) for r in rows])
        hi = np.array([float(r["or_ci_high"]) for r in rows])
        colour = SERIES[k % len(SERIES)]
        ax.errorbar(
            est,
            y,
            xerr=[est - lo, hi - est],
            fmt="o",
            color=colour,
            ecolor=colour,
            capsize=3,
            label=m.target,
        )
    ax.axvline(1.0, color=GREY, linestyle="--", linewidth=1)
    ax.set_xscale("log")
    # Plain numbers on the log axis (0.5, 1, 2), not 10^0 and 2x10^0; driver names as words.
    ax.xaxis.set_major_formatter(_log_formatter())
    ax.xaxis.set_minor_formatter(_log_formatter((2.0, 5.0)))
    ax.set_yticks(np.arange(len(drivers)))
    ax.set_yticklabels([pretty_name(d) for d in drivers], fontsize=TICK_SIZE)
    ax.invert_yaxis()
    ax.set_xlabel("odds ratio per unit of the driver (log scale)", fontsize=LABEL_SIZE)
    level = level_text(models[0].confidence_level)
    if bootstrap is not None:
        detail = f"{level} percentile intervals, {bootstrap.n_resamples} resamples"
    else:
        detail = f"{level} Wald intervals, {models[0].std_error_type} standard errors"
    _title(ax, "Odds ratios of " + " and ".join(m.target for m in models), detail)
    if len(models) > 1:
        ax.legend(fontsize=NOTE_SIZE, frameon=False)
    _style(ax, "x")
    return ax


__all__ += ["funnel", "odds_ratios", "transition_heatmap"]


def time_to_convert(result: Any, ax: Axes | None = None) -> Axes:
    """The time to convert of a funnel (a :class:`~cx_metrics.FunnelResult` or its
    :attr:`~cx_metrics.FunnelResult.time_to_convert`): the cumulative incidence of conversion and,
    stacked above it, of a stop, as step lines over the seconds from the start of the attempt;
    censored entrants (still in their window at ``as_of``, or timed out) marked where they left.

    >>> import datetime
    >>> import matplotlib.pyplot as plt
    >>> import cx_metrics as cx
    >>> spec = cx.FunnelSpec(["a", "b"], order="ordered", window=datetime.timedelta(hours=1),
    ...                      window_end="inclusive", entry="closed", counting="uniques", reentry="first")
    >>> r = cx.funnel(None, spec, customer=[1, 1, 2], event=["a", "b", "a"],
    ...               time=["2026-01-01 10:00", "2026-01-01 10:20", "2026-01-01 12:00"])
    >>> ax = time_to_convert(r)
    >>> plt.close(ax.figure)
    """
    from .funnels import FunnelResult, TimeToConvert

    _expect(result, (FunnelResult, TimeToConvert), "time_to_convert")
    ttc = result.time_to_convert if isinstance(result, FunnelResult) else result
    if ttc is None:
        raise InvalidArgumentError("invalid result: the funnel has no entrants, so no time to convert")
    ax = _axes(ax, (6.4, 3.8))
    times = np.concatenate(([0.0], np.asarray(ttc.times, dtype=float)))
    conv = np.concatenate(([0.0], np.asarray(ttc.cif_event, dtype=float)))
    stop = np.concatenate(([0.0], np.asarray(ttc.cif_competing, dtype=float)))
    ax.fill_between(times, 0.0, conv, step="post", color=BLUE, alpha=0.25, linewidth=0)
    ax.step(times, conv, where="post", color=BLUE, linewidth=1.6, label="converted")
    ax.step(times, conv + stop, where="post", color=VERMILLION, linewidth=1.2, label="converted or stopped")
    censored = np.asarray(ttc.censored) > 0
    if censored.any():
        ax.plot(times[1:][censored], conv[1:][censored], "|", color=INK, markersize=7)
    if ttc.window_s is not None:
        ax.axvline(ttc.window_s, color=GREY, linestyle=":", linewidth=1)
    ax.set_ylim(0.0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("seconds from the start of the attempt", fontsize=LABEL_SIZE)
    ax.set_ylabel("share of entrants", fontsize=LABEL_SIZE)
    o = ttc.outcomes
    _title(
        ax,
        "Time to convert: cumulative incidence",
        f"n={sum(o.values())}, {o['in_window']} in their window and {o['timed_out']} timed out censored (|)",
    )
    ax.legend(fontsize=NOTE_SIZE, frameon=False, loc="upper left")
    _style(ax, "both")
    return ax


__all__ += ["time_to_convert"]
