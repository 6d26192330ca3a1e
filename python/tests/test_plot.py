"""The pictures: what each plot draws, checked against the result it draws (Agg backend, PNG output)."""

from __future__ import annotations

import doctest
import io
import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.patches import Rectangle
from matplotlib.text import Text

import cx_metrics as cx
from cx_metrics import plot
from cx_metrics.exceptions import InvalidArgumentError

# Where the tested cx_metrics is imported from (the installed wheel, or the source tree when built in
# place): subprocesses must import the same one.
PACKAGE_PARENT = Path(cx.__file__).resolve().parents[1]
# Figures are compared with the results in data units; drawing adds float noise only.
TOL = 1e-9


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


@pytest.fixture(scope="module")
def analysis(survey: pd.DataFrame) -> cx.DriverAnalysis:
    return cx.pillar_driver_analysis(
        survey, weights="weight", missing="indicator", indicator_for=["resolution"]
    )


def render(ax: Axes) -> bytes:
    """Draw the figure to PNG, as a notebook or a report would."""
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=100)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    return data


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def errorbar_segments(ax: Axes) -> list[np.ndarray]:
    out = []
    for c in ax.containers:
        if isinstance(c, ErrorbarContainer):
            (bars,) = c.lines[2]
            out += [np.asarray(s) for s in bars.get_segments()]
    return out


def text_boxes(ax: Axes, gid: str) -> list[tuple[str, Any]]:
    """The drawn extent of each text (its letters: not an annotation's leader line)."""
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    return [(t.get_text(), Text.get_window_extent(t, renderer)) for t in ax.texts if t.get_gid() == gid]


def marker_points(ax: Axes) -> dict[tuple[float, float], tuple[Any, tuple[float, ...]]]:
    """Every matrix marker (firm and uncertain collections), keyed by its (x, y), with its edge colour."""
    out = {}
    for c in ax.collections:
        if c.get_gid() in ("firm", "uncertain"):
            edges = c.get_edgecolors()
            for i, xy in enumerate(np.asarray(c.get_offsets())):
                out[(float(xy[0]), float(xy[1]))] = (xy, tuple(edges[i % len(edges)]))
    return out


def overlaps(a: Any, b: Any) -> bool:
    return bool(a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


# ----- import ---------------------------------------------------------------------------------------


def test_import_does_not_import_matplotlib() -> None:
    code = (
        "import sys, cx_metrics as cx\n"
        "r = cx.nps([10, 9, 3]); str(r); r._repr_html_(); r.to_dict()\n"
        "assert 'matplotlib' not in sys.modules, 'import cx_metrics imported matplotlib'\n"
        "cx.plot.nps_distribution\n"
        "assert 'matplotlib' in sys.modules\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot is imported only to make a figure'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(PACKAGE_PARENT), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_plot_docstring_examples_leave_no_figure_open() -> None:
    plt.close("all")
    result = doctest.testmod(plot, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 20
    assert plt.get_fignums() == []


# ----- NPS ------------------------------------------------------------------------------------------


def test_nps_distribution_bars_colours_legend_and_title(survey: pd.DataFrame) -> None:
    r = cx.nps(survey["ltr"], weights=survey["weight"])
    ax = plot.nps_distribution(r, confidence_level=0.9, method="tango")
    render(ax)
    bars = [p for p in ax.patches]
    assert len(bars) == 11
    assert [b.get_x() + b.get_width() / 2 for b in bars] == pytest.approx(list(range(11)))
    assert [b.get_height() for b in bars] == pytest.approx(list(r.distribution), abs=TOL)
    colours = [b.get_facecolor() for b in bars]
    assert len(set(colours[:7])) == len(set(colours[7:9])) == len(set(colours[9:])) == 1
    assert colours[0] == to_rgba(plot.NEGATIVE) and colours[7] == to_rgba(plot.NEUTRAL)
    assert colours[9] == to_rgba(plot.POSITIVE)
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(i) for i in range(11)]
    assert legend_texts(ax) == [
        f"Detractors (0-6): {100 * r.detractors:.1f}%",
        f"Passives (7-8): {100 * r.passives:.1f}%",
        f"Promoters (9-10): {100 * r.promoters:.1f}%",
    ]
    ci = r.ci(0.9, "tango")
    title = ax.get_title(loc="left")
    assert f"NPS {100 * r.score:+.1f}" in title
    assert f"90% CI {100 * ci.low:+.1f} to {100 * ci.high:+.1f}" in title
    assert "Tango" in title and f"n = {r.n:,}" in title and "effective n" in title
    labels = [t.get_text() for t in ax.texts]
    assert labels[10] == f"{100 * r.distribution[10]:.0f}%"


def test_nps_plot_method_and_a_given_axes() -> None:
    r = cx.nps([10, 10, 9, 7, 0])
    _fig, (left, right) = plt.subplots(1, 2)
    ax = r.plot(ax=right)
    assert ax is right and not left.patches
    assert [b.get_height() for b in ax.patches] == pytest.approx([0.2] + [0.0] * 6 + [0.2, 0.0, 0.2, 0.4])
    render(ax)


def test_undefined_nps_draws_empty_bars_and_says_so() -> None:
    r = cx.nps([None, None])
    ax = r.plot()
    render(ax)
    assert [b.get_height() for b in ax.patches] == [0.0] * 11
    assert "NPS undefined" in ax.get_title(loc="left")
    assert any("no answers" in t.get_text() for t in ax.texts)
    assert legend_texts(ax)[0] == "Detractors (0-6): n/a"


def nps_groups(survey: pd.DataFrame) -> cx.NpsByGroup:
    return cx.nps_by_group(survey, by="wave", weights="weight", confidence_level=0.9)


def test_nps_by_group_line_with_band(survey: pd.DataFrame) -> None:
    g = nps_groups(survey)
    ax = plot.nps_by_group(g)
    render(ax)
    scores = [100 * g[w].score for w in g]
    lows = [100 * g.intervals[w].low for w in g]  # type: ignore[union-attr]
    highs = [100 * g.intervals[w].high for w in g]  # type: ignore[union-attr]
    (line,) = [ln for ln in ax.lines if ln.get_gid() == "score"]
    assert list(line.get_xdata()) == [0, 1, 2, 3]
    assert list(line.get_ydata()) == pytest.approx(scores, abs=TOL)
    (band,) = [c for c in ax.collections if c.get_gid() == "interval"]
    vertices = band.get_paths()[0].vertices
    for x, lo, hi in zip(range(4), lows, highs, strict=True):
        at = vertices[np.isclose(vertices[:, 0], x)][:, 1]
        assert min(at) == pytest.approx(lo, abs=TOL) and max(at) == pytest.approx(hi, abs=TOL)
    (overall,) = [ln for ln in ax.lines if ln.get_gid() == "overall"]
    assert list(overall.get_ydata()) == pytest.approx([100 * g.overall.score] * 2)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(cx.datasets.SAMPLE_SURVEY_WAVES)
    assert legend_texts(ax) == ["NPS", "90% CI", f"all: {100 * g.overall.score:+.1f}"]
    assert [t.get_text() for t in ax.texts] == [f"{s:+.1f}" for s in scores]
    assert "NPS of ltr by wave" in ax.get_title(loc="left")


def test_nps_by_group_bars_with_error_bars_equal_to_the_intervals(survey: pd.DataFrame) -> None:
    g = nps_groups(survey)
    ax = g.plot(kind="bar")
    render(ax)
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [b.get_height() for b in bars] == pytest.approx([100 * g[w].score for w in g], abs=TOL)
    segments = errorbar_segments(ax)
    assert len(segments) == 4
    for x, (w, seg) in enumerate(zip(g, segments, strict=True)):
        ci = g.intervals[w]
        assert ci is not None
        assert seg[:, 0] == pytest.approx([x, x])
        assert sorted(seg[:, 1]) == pytest.approx([100 * ci.low, 100 * ci.high], abs=TOL)


def test_nps_by_group_with_an_undefined_group_and_a_missing_label() -> None:
    data = {
        "ltr": [10, 9, None, None, 3, 7, 10],
        "shop": ["a", "a", "b", "b", None, "c", "c"],
    }
    with pytest.warns(cx.MissingLabelWarning, match="1 row"):
        g = cx.nps_by_group(data, by="shop")
    for kind in ("line", "bar"):
        ax = g.plot(kind=kind)  # type: ignore[arg-type]
        render(ax)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "(missing)"]
        assert "n/a" in [t.get_text() for t in ax.texts]
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    heights = [b.get_height() for b in bars]
    assert np.isnan(heights[1]) and heights[0] == pytest.approx(100.0)
    with pytest.raises(InvalidArgumentError, match="kind"):
        g.plot(kind="pie")  # type: ignore[arg-type]


# ----- CSAT and CES ---------------------------------------------------------------------------------


def test_csat_distribution_marks_the_satisfied_points(survey: pd.DataFrame) -> None:
    r = cx.csat(survey["csat"], satisfied="top_two_box")
    ax = plot.rating_distribution(r)
    render(ax)
    bars = list(ax.patches)[1:]  # the first patch is the shaded satisfied span
    assert len(bars) == 5
    assert [b.get_height() for b in bars] == pytest.approx(list(r.distribution), abs=TOL)
    assert [b.get_facecolor() for b in bars] == [
        to_rgba(plot.NEGATIVE),
        to_rgba(plot.NEGATIVE),
        to_rgba(plot.NEUTRAL),
        to_rgba(plot.POSITIVE),
        to_rgba(plot.POSITIVE),
    ]
    span = ax.patches[0]
    assert isinstance(span, Rectangle)
    assert (span.get_x(), span.get_x() + span.get_width()) == pytest.approx((3.55, 5.45))
    texts = legend_texts(ax)
    assert texts == [
        f"Dissatisfied (1-2): {100 * r.share_bottom:.1f}%",
        f"Neutral (3): {100 * (1 - r.share_satisfied - r.share_bottom):.1f}%",
        f"Satisfied (4-5): {100 * r.share_satisfied:.1f}%",
    ]
    assert f"CSAT {100 * r.share_satisfied:.1f}%" in ax.get_title(loc="left")


def test_csat_threshold_without_neutral_points() -> None:
    r = cx.csat([1, 2, 3, 4, 5, 5], scale=5, satisfied=3)
    ax = r.plot()
    assert legend_texts(ax) == ["Dissatisfied (1-2): 33.3%", "Satisfied (3-5): 66.7%"]


@pytest.mark.parametrize("version", [1, 2])
def test_ces_distribution_marks_the_agree_points(version: int) -> None:
    points = 7 if version == 2 else 5
    values = [p for p in range(1, points + 1) for _ in range(p)]
    r = cx.ces(values, version=version)  # type: ignore[arg-type]
    ax = r.plot()
    render(ax)
    bars = list(ax.patches)[1:]
    assert [b.get_height() for b in bars] == pytest.approx(list(r.distribution), abs=TOL)
    lo, hi = r.agree_points
    agree = [p for p in range(1, points + 1) if lo <= p <= hi]
    # The marked points are the core's agree share and disagree share: the picture and the numbers agree.
    assert sum(r.distribution[p - 1] for p in agree) == pytest.approx(r.share_agree, abs=1e-12)
    dlo, dhi = r.disagree_points
    assert sum(r.distribution[p - 1] for p in range(dlo, dhi + 1)) == pytest.approx(
        r.share_disagree, abs=1e-12
    )
    for p, bar in zip(range(1, points + 1), bars, strict=True):
        expected = plot.POSITIVE if p in agree else plot.NEGATIVE if dlo <= p <= dhi else plot.NEUTRAL
        assert bar.get_facecolor() == to_rgba(expected)
    name = "Agree" if version == 2 else "Low effort"
    assert f"{name} ({lo}-{hi}): {100 * r.share_agree:.1f}%" in legend_texts(ax)
    assert f"CES {version}.0 mean {r.mean:.2f}" in ax.get_title(loc="left")


def test_rating_distribution_of_undefined_results_and_wrong_types() -> None:
    ax = cx.ces([None]).plot()
    assert "undefined" in ax.get_title(loc="left")
    render(ax)
    with pytest.raises(InvalidArgumentError, match="CsatResult or a CesResult"):
        plot.rating_distribution(cx.nps([10]))  # type: ignore[arg-type]


# ----- driver analysis ------------------------------------------------------------------------------


def test_importance_bars_sorted_with_values(analysis: cx.DriverAnalysis) -> None:
    ax = analysis.plot()
    render(ax)
    share = analysis.importance["lmg_share"].sort_values()
    assert [t.get_text() for t in ax.get_yticklabels()] == [plot.pretty_name(d) for d in share.index]
    assert [b.get_width() for b in ax.patches] == pytest.approx(list(share), abs=TOL)
    assert [b.get_y() + b.get_height() / 2 for b in ax.patches] == pytest.approx(list(range(len(share))))
    assert [t.get_text() for t in ax.texts] == [f"{100 * v:.1f}%" for v in share]
    assert "Share of the explained variance" in ax.get_xlabel()
    assert f"R² = {analysis.r_squared:.3f}" in ax.get_title(loc="left")
    ax = plot.importance(analysis, measure="johnson")
    johnson = analysis.importance["johnson"].sort_values()
    assert [b.get_width() for b in ax.patches] == pytest.approx(list(johnson), abs=TOL)
    assert "R² units" in ax.get_xlabel()
    with pytest.raises(InvalidArgumentError, match="invalid measure"):
        plot.importance(analysis, measure="nonsense")


@pytest.mark.parametrize("interval", ["percentile", "bca"])
def test_importance_from_a_bootstrap_has_the_intervals_as_error_bars(
    analysis: cx.DriverAnalysis, interval: str
) -> None:
    b = analysis.bootstrap(n_resamples=120, seed=3)
    ax = b.plot(interval=interval)
    render(ax)
    rows = b.importance.loc["lmg"].sort_values("estimate")
    assert [t.get_text() for t in ax.get_yticklabels()] == [plot.pretty_name(d) for d in rows.index]
    assert [p.get_width() for p in ax.patches] == pytest.approx(list(rows["estimate"]), abs=TOL)
    lo, hi = ("ci_low", "ci_high") if interval == "percentile" else ("bca_low", "bca_high")
    segments = errorbar_segments(ax)
    assert len(segments) == len(rows)
    for y, (driver, seg) in enumerate(zip(rows.index, segments, strict=True)):
        assert seg[:, 1] == pytest.approx([y, y])
        assert sorted(seg[:, 0]) == pytest.approx([rows.loc[driver, lo], rows.loc[driver, hi]], abs=TOL)
    assert f"{interval} intervals from 120 resamples" in ax.get_title(loc="left")
    with pytest.raises(InvalidArgumentError, match="R² units"):
        plot.importance(b, measure="lmg_share")


def crowded_matrix(direction: str = "higher_is_better") -> cx.ImportancePerformance:
    """Two strong drivers far apart and twelve weak ones in a tight cluster: the twelve names compete
    for the same few square centimetres."""
    rng = np.random.default_rng(7)
    n = 2000
    data: dict[str, Any] = {
        "driver_00": np.clip(np.round(rng.normal(4.0, 1.6, n)), 1, 10),
        "driver_01": np.clip(np.round(rng.normal(8.5, 1.2, n)), 1, 10),
    }
    for k in range(2, 14):
        data[f"driver_{k:02d}"] = np.clip(np.round(rng.normal(6.2 + 0.01 * k, 1.6, n)), 1, 10)
    latent = 0.5 * data["driver_00"] + 0.4 * data["driver_01"] + rng.normal(0, 1.2, n)
    latent += sum(0.05 * data[f"driver_{k:02d}"] for k in range(2, 14))
    data["ltr"] = np.clip(np.round(latent - 1.5), 0, 10)
    r = cx.driver_analysis(data, drivers=[f"driver_{k:02d}" for k in range(14)])
    return r.matrix(scale=(1, 10), direction=direction)  # type: ignore[arg-type]


@pytest.mark.parametrize("direction", ["higher_is_better", "lower_is_better"])
def test_importance_performance_names_do_not_overlap(direction: str) -> None:
    m = crowded_matrix(direction)
    ax = plot.importance_performance(m)
    render(ax)
    names = text_boxes(ax, "driver")
    quadrants = text_boxes(ax, "quadrant")
    assert sorted(n for n, _ in names) == sorted(plot.pretty_name(d) for d in m.drivers.index)
    # The data are crowded: set beside their points, the names would overlap in many pairs.
    points = ax.transData.transform(m.drivers[["performance", "importance"]].to_numpy())
    naive = [
        type(box).from_bounds(x + 8, y - box.height / 2, box.width, box.height)
        for (x, y), (_, box) in zip(points, names, strict=True)
    ]
    assert sum(overlaps(a, b) for a, b in itertools.combinations(naive, 2)) >= 20
    area = ax.get_window_extent()
    for (a, box_a), (b, box_b) in itertools.combinations(names, 2):
        assert not overlaps(box_a, box_b), (a, b)
    for (a, box_a), (q, box_q) in itertools.product(names, quadrants):
        assert not overlaps(box_a, box_q), (a, q)
    for n, box in names:
        assert area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1, n
    # A name pushed away from its point is tied to it by a leader line.
    labels = [t for t in ax.texts if t.get_gid() == "driver"]
    for t in labels:
        dx, dy = t.get_position()  # offset in points from the driver's point
        if np.hypot(dx, dy) > 60:
            assert t.arrow_patch is not None, t.get_text()  # type: ignore[attr-defined]
    assert sum(t.arrow_patch is not None for t in labels) >= 1  # type: ignore[attr-defined]
    assert ax.xaxis_inverted() == (direction == "lower_is_better")


def test_importance_performance_lines_quadrants_and_points(analysis: cx.DriverAnalysis) -> None:
    m = analysis.matrix(scale=(1, 10), top_box=2)
    ax = m.plot()
    render(ax)
    (vline,) = [ln for ln in ax.lines if ln.get_gid() == "performance_line"]
    (hline,) = [ln for ln in ax.lines if ln.get_gid() == "importance_line"]
    assert list(vline.get_xdata()) == pytest.approx([m.performance_line] * 2)
    assert list(hline.get_ydata()) == pytest.approx([m.importance_line] * 2)
    quadrant_texts = {t.get_text(): t for t in ax.texts if t.get_gid() == "quadrant"}
    assert set(quadrant_texts) == {"Fix first", "Keep it up", "Low priority", "Possible overkill"}
    # "Fix first" sits top left: important and under-performing.
    x, y = quadrant_texts["Fix first"].get_position()
    assert x < 0.5 < y
    drawn = marker_points(ax)
    for name, row in m.drivers.iterrows():
        _, edge = drawn[(row["performance"], row["importance"])]
        assert edge == to_rgba(plot.QUADRANT_COLOURS[row["quadrant"]]), name
    annotations = {t.get_text(): t for t in ax.texts if t.get_gid() == "driver"}
    for name, row in m.drivers.iterrows():
        label = annotations[plot.pretty_name(str(name))]
        assert label.xy == pytest.approx((row["performance"], row["importance"]))


def test_uncertain_drivers_get_open_markers_and_a_legend(analysis: cx.DriverAnalysis) -> None:
    b = analysis.bootstrap(n_resamples=60, seed=2)
    rows = b.importance.loc["lmg"]
    share = rows[["ci_low", "ci_high"]].to_numpy() / analysis.r_squared
    m = analysis.matrix(scale=(1, 10), importance_intervals=[(lo, hi) for lo, hi in share])
    ax = m.plot()
    render(ax)
    uncertain = (m.drivers["uncertain_importance"] | m.drivers["uncertain_performance"]).to_numpy()
    assert uncertain.any()
    (shaky,) = [c for c in ax.collections if c.get_gid() == "uncertain"]
    assert shaky.get_hatch() == "////"
    white = to_rgba("white")
    assert all(tuple(f) == white for f in shaky.get_facecolors())
    drawn = {tuple(np.round(xy, 9)) for xy in np.asarray(shaky.get_offsets())}
    expected = {
        (round(r["performance"], 9), round(r["importance"], 9))
        for _, r in m.drivers.iterrows()
        if r["uncertain_importance"] or r["uncertain_performance"]
    }
    assert drawn == expected
    assert legend_texts(ax)[0] == "quadrant uncertain\n(interval crosses a cut line)"
    assert ax.get_legend().legend_handles[0].get_hatch() == "////"  # type: ignore[union-attr]


def test_label_placement_separates_labels_that_share_a_point() -> None:
    anchors = np.array([[100.0, 100.0]] * 6 + [[104.0, 98.0]] * 2)
    sizes = [(60.0, 12.0)] * 8
    offsets = plot._place_labels(anchors, sizes, 5.0, (0.0, 0.0, 400.0, 300.0), [], list(range(8)))
    boxes = [
        (x + dx - w / 2, y + dy - h / 2, x + dx + w / 2, y + dy + h / 2)
        for (x, y), (dx, dy), (w, h) in zip(anchors, offsets, sizes, strict=True)
    ]
    for a, b in itertools.combinations(boxes, 2):
        assert plot._overlap(a, b) == 0.0
    assert offsets == plot._place_labels(anchors, sizes, 5.0, (0.0, 0.0, 400.0, 300.0), [], list(range(8)))


# ----- pillars --------------------------------------------------------------------------------------


def test_pillar_profile_means_and_intervals(survey: pd.DataFrame) -> None:
    # Four segments: grouped bars from the bottom of the scale, on the full scale.
    s = cx.pillar_summary(survey, by="segment", weights="weight")
    ax = plot.pillar_profile(s)
    render(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == [p.name for p in cx.Pillar]
    assert legend_texts(ax) == list(cx.datasets.SAMPLE_SURVEY_SEGMENTS)
    assert ax.get_ylim() == pytest.approx((1.0, 10.0))
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    errors = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 4 and len(errors) == 4
    joined = [ln for ln in ax.lines if len(ln.get_xdata()) > 2 and ln.get_linestyle() not in ("None", "")]
    assert not joined  # no line joins the pillars (the caps are markers only)
    table = s.table
    for bar, err, segment in zip(bars, errors, cx.datasets.SAMPLE_SURVEY_SEGMENTS, strict=True):
        rows = table[table["segment"] == segment]
        assert [p.get_y() + p.get_height() for p in bar.patches] == pytest.approx(
            list(rows["estimate"]), abs=TOL
        )
        assert all(p.get_y() == 1.0 for p in bar.patches)
        (segs,) = err.lines[2]
        for seg, (_, row) in zip(segs.get_segments(), rows.iterrows(), strict=True):
            assert sorted(np.asarray(seg)[:, 1]) == pytest.approx([row["ci_low"], row["ci_high"]], abs=TOL)
    firsts = [bar.patches[0].get_x() for bar in bars]
    assert firsts == sorted(firsts) and max(firsts) - min(firsts) < 1.0  # side by side within a pillar
    assert "Pillar profile by segment" in ax.get_title(loc="left")
    assert "1 to 10" in ax.get_ylabel()


def test_pillar_profile_of_three_groups_keeps_lines_and_can_zoom(survey: pd.DataFrame) -> None:
    three = survey[survey["segment"] != "west"].copy()
    three["segment"] = three["segment"].astype(str)  # no unused category left
    s = cx.pillar_summary(three, by="segment")
    ax = plot.pillar_profile(s)
    containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(containers) == 3
    table = s.table
    for c, segment in zip(containers, s.groups, strict=True):
        line = c.lines[0]
        assert line is not None
        assert list(line.get_ydata()) == pytest.approx(
            list(table[table["segment"] == segment]["estimate"]), abs=TOL
        )
    assert ax.get_ylim() == pytest.approx((1.0, 10.0))
    zoomed = plot.pillar_profile(s, full_scale=False)
    assert zoomed.get_ylim()[0] > 1.0 and zoomed.get_ylim()[1] < 10.0


def test_nps_by_an_unordered_label_defaults_to_bars(survey: pd.DataFrame) -> None:
    by_segment = cx.nps_by_group(survey, by="segment")
    ax = plot.nps_by_group(by_segment)
    assert [c for c in ax.containers if isinstance(c, BarContainer)]
    assert not [ln for ln in ax.lines if ln.get_gid() == "score"]
    by_wave = plot.nps_by_group(cx.nps_by_group(survey, by="wave"))
    assert [ln for ln in by_wave.lines if ln.get_gid() == "score"]
    assert plot._ordered_labels([2024, 2025]) and plot._ordered_labels(["2026-03", "2026-04"])
    assert not plot._ordered_labels(["north", "2026-Q1"]) and not plot._ordered_labels([None, 1])
    assert_no_negative_zero(ax)


def test_pillar_profile_of_one_group_has_no_legend() -> None:
    data = {"integrity": [7, 8, 9, 6], "empathy": [5, None, 6, 7]}
    s = cx.pillar_summary(data, items=["integrity", "empathy"])
    ax = s.plot()
    render(ax)
    assert ax.get_legend() is None
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Integrity", "Empathy"]


def test_a_result_of_the_wrong_kind_is_named_with_what_to_draw(
    survey: pd.DataFrame, analysis: cx.DriverAnalysis
) -> None:
    nps = cx.nps(survey["ltr"])
    cases: list[tuple[Any, Any, str]] = [
        (plot.nps_distribution, cx.csat(survey["csat"], satisfied="top_box"), "NpsResult"),
        (plot.nps_by_group, nps, "NpsByGroup"),
        (plot.rating_distribution, nps, "CsatResult or a CesResult"),
        (plot.importance, nps, "DriverAnalysis or a DriverBootstrap"),
        (plot.importance_performance, analysis, "ImportancePerformance"),
        (plot.pillar_profile, nps, "PillarSummary"),
    ]
    for draw, result, expected in cases:
        with pytest.raises(InvalidArgumentError) as info:
            draw(result)
        message = str(info.value)
        assert f"invalid result: a {type(result).__name__}; {draw.__name__} draws a {expected}" in message
        assert "own .plot()" in message
    assert not plt.get_fignums()  # nothing drawn before the check


def test_plot_options_are_checked_even_where_they_draw_nothing(analysis: cx.DriverAnalysis) -> None:
    # The interval kind only matters for a bootstrap, the NPS method only for a defined score: a
    # misspelt option is an error all the same.
    with pytest.raises(InvalidArgumentError, match="invalid interval: 'bac'; use"):
        plot.importance(analysis, interval="bac")  # type: ignore[arg-type]
    undefined = cx.nps([None, None])
    with pytest.raises(InvalidArgumentError, match="invalid method"):
        plot.nps_distribution(undefined, method="wilson")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="confidence_level"):
        plot.nps_distribution(undefined, confidence_level=95)


def test_every_plot_method_returns_axes(survey: pd.DataFrame, analysis: cx.DriverAnalysis) -> None:
    results: list[Any] = [
        cx.nps(survey["ltr"]),
        cx.nps_by_group(survey, by="segment"),
        cx.csat(survey["csat"], satisfied="top_box"),
        cx.ces(survey["ces"]),
        analysis,
        analysis.bootstrap(n_resamples=20, seed=1),
        analysis.matrix(scale=(1, 10)),
        cx.pillar_summary(survey),
    ]
    for r in results:
        ax = r.plot()
        assert isinstance(ax, Axes), type(r).__name__
        render(ax)
        for t in ax.texts:
            assert isinstance(t, Text)
        plt.close(ax.figure)


def test_empty_and_unscored_results_draw_without_error() -> None:
    empty = cx.nps_by_group({"ltr": np.array([], dtype=float), "wave": np.array([], dtype=object)}, by="wave")
    assert empty.groups == () and len(empty.table) == 0
    for kind in ("line", "bar"):
        ax = empty.plot(kind=kind)  # type: ignore[arg-type]
        render(ax)
        assert [t.get_text() for t in ax.get_xticklabels()] == []
        assert "n = 0" in ax.get_title(loc="left")
    unscored = cx.pillar_summary({"integrity": [np.nan, np.nan]}, items=["integrity"], by=["a", "b"])
    ax = unscored.plot()
    render(ax)
    assert legend_texts(ax) == ["a", "b"]
    for c in (c for c in ax.containers if isinstance(c, ErrorbarContainer)):
        assert np.isnan(np.asarray(c.lines[0].get_ydata(), dtype=float)).all()  # type: ignore[union-attr]
    nothing = cx.pillar_summary({"integrity": np.array([], dtype=float)}, items=["integrity"])
    assert len(nothing.table) == 0
    render(nothing.plot())


# ----- names, numbers, full scale, intervals, what-if, segments -------------------------------------


def all_label_texts(ax: Axes) -> list[str]:
    """Every text a reader sees: ticks, axis labels, titles, annotations, legend."""
    texts = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    texts += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title(loc="left"), ax.get_title()]
    texts += [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [t.get_text() for t in legend.get_texts()]
    return texts


def assert_no_negative_zero(ax: Axes) -> None:
    for text in all_label_texts(ax):
        for minus in ("-", "\u2212"):
            for zero in ("0", "0.0", "0.00", "0%", "0.0%"):
                bad = minus + zero
                idx = text.find(bad)
                # "-0.5" is fine; "-0", "-0.0" followed by no further non-zero digit is not.
                while idx != -1:
                    rest = text[idx + len(bad) :]
                    digits = rest[: len(rest) - len(rest.lstrip("0123456789."))]
                    assert any(c in "123456789" for c in digits), f"negative zero in {text!r}"
                    idx = text.find(bad, idx + 1)


def test_pretty_name_and_format_number() -> None:
    assert plot.pretty_name("time_and_effort") == "Time and Effort"
    assert plot.pretty_name("integrity") == "Integrity"
    assert plot.pretty_name("Time and Effort") == "Time and Effort"
    assert plot.pretty_name("NPS_by_region") == "NPS by Region"
    assert plot.pretty_name("of_the_people") == "Of the People"
    assert plot.format_number(-0.04) == "0.0"
    assert plot.format_number(-0.0, 0, suffix="%") == "0%"
    assert plot.format_number(-1.25, 2) == "\u22121.25"
    assert plot.format_number(2.0, 1, signed=True) == "+2.0"
    assert plot.format_number(float("nan")) == "n/a"


def test_matrix_names_read_as_words_in_every_chart(analysis: cx.DriverAnalysis) -> None:
    m = analysis.matrix(scale=(1, 10))
    names = {t.get_text() for t in m.plot().texts if t.get_gid() == "driver"}
    bars = {t.get_text() for t in plot.importance(analysis).get_yticklabels()}
    assert "Time and Effort" in names and "Time and Effort" in bars
    assert not any("_" in n for n in names | bars if not n.endswith("missing"))


def test_matrix_full_scale_and_interval_bars(analysis: cx.DriverAnalysis) -> None:
    m = analysis.matrix(scale=(1, 10))
    ax = m.plot(full_scale=True)
    render(ax)
    assert ax.get_xlim() == pytest.approx((1.0, 10.0))
    assert ax.get_ylim()[0] == 0.0
    zoomed = m.plot()
    assert zoomed.get_xlim()[0] > 1.0 and zoomed.get_xlim()[1] < 10.0
    bars = [ln for ln in ax.lines if ln.get_gid() == "performance_interval"]
    assert len(bars) == len(m.drivers)
    drawn = sorted((float(min(b.get_xdata())), float(max(b.get_xdata()))) for b in bars)
    expected = sorted(zip(m.drivers["performance_low"], m.drivers["performance_high"], strict=True))
    assert np.asarray(drawn) == pytest.approx(np.asarray(expected), abs=TOL)
    top = analysis.matrix(scale=(1, 10), top_box=2, performance="top_box").plot(full_scale=True)
    assert top.get_xlim() == pytest.approx((0.0, 1.0))


def test_matrix_labels_leave_the_performance_intervals_visible(analysis: cx.DriverAnalysis) -> None:
    # A driver's label laid over its interval bar hid half of it (the interval looked one-sided).
    ax = analysis.matrix(scale=(1, 10)).plot()
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    bars = [ln.get_window_extent(renderer) for ln in ax.lines if ln.get_gid() == "performance_interval"]
    labels = [t.get_window_extent(renderer) for t in ax.texts if t.get_gid() == "driver"]
    assert bars and len(labels) == len(bars)
    for lab in labels:
        for bar in bars:
            width = min(lab.x1, bar.x1) - max(lab.x0, bar.x0)
            height = min(lab.y1, bar.y1 + 1.0) - max(lab.y0, bar.y0 - 1.0)
            assert width <= 0 or height <= 0, (lab, bar)


def test_top_box_ticks_are_distinct_percentages() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    data = {
        f"d{k}": np.where(rng.uniform(size=n) < 0.12 + 0.002 * k, 10.0, rng.integers(1, 9, n))
        for k in range(4)
    }
    data["ltr"] = np.clip(np.round(sum(data.values()) / 4 + rng.normal(0, 1, n)), 0, 10)
    r = cx.driver_analysis(data, drivers=["d0", "d1", "d2", "d3"])
    with pytest.warns(UserWarning):
        m = r.matrix(scale=(1, 10), performance="top_box")
    ax = m.plot()
    render(ax)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    shown = [
        lab
        for lab, x in zip(labels, ax.get_xticks(), strict=True)
        if ax.get_xlim()[0] <= x <= ax.get_xlim()[1]
    ]
    assert len(shown) >= 3 and len(set(shown)) == len(shown), labels
    assert all(lab.endswith("%") for lab in shown)
    ticks = [x for x in ax.get_xticks() if ax.get_xlim()[0] <= x <= ax.get_xlim()[1]]
    assert [float(lab.rstrip("%")) for lab in shown] == pytest.approx([100 * t for t in ticks], abs=1e-9)
    assert_no_negative_zero(ax)
    # A spacing below one point gets decimals rather than repeating "12%".
    fig, narrow = plt.subplots()
    narrow.set_xlim(0.1201, 0.1279)
    plot._percent_axis(narrow.xaxis, 0.1201, 0.1279)
    fig.canvas.draw()
    texts = [t.get_text() for t in narrow.get_xticklabels() if 0.1201 <= t.get_position()[0] <= 0.1279]
    assert len(texts) >= 3 and len(set(texts)) == len(texts) and all("." in t for t in texts), texts


def test_within_noise_matrix_marks_every_driver_and_says_so() -> None:
    rng = np.random.default_rng(1)
    n = 400
    base = rng.integers(1, 11, n).astype(float)
    data = {f"pillar_{k}": rng.permutation(base) for k in range(4)}
    data["ltr"] = np.clip(
        np.round(0.6 * data["pillar_0"] + 0.2 * data["pillar_1"] + rng.normal(0, 1, n)), 0, 10
    )
    r = cx.driver_analysis(data, drivers=[f"pillar_{k}" for k in range(4)])
    with pytest.warns(UserWarning, match="noise"):
        m = r.matrix(scale=(1, 10))
    ax = m.plot()
    (shaky,) = [c for c in ax.collections if c.get_gid() == "uncertain"]
    assert len(shaky.get_offsets()) == 4
    assert not [c for c in ax.collections if c.get_gid() == "firm"]
    assert "performances differ by\nno more than noise" in legend_texts(ax)
    assert {t.get_text() for t in ax.texts if t.get_gid() == "driver"} == {f"Pillar {k}" for k in range(4)}


def test_what_if_bars_interval_and_labels(analysis: cx.DriverAnalysis) -> None:
    w = analysis.what_if({"time_and_effort": 1.0}, scale=(1, 10), n_resamples=60, seed=4)
    ax = plot.what_if(w)
    render(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Observed", "Simulated"]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([100 * w.baseline, 100 * w.simulated], abs=TOL)
    (seg,) = errorbar_segments(ax)
    assert w.interval is not None
    assert sorted(seg[:, 0]) == pytest.approx(
        [100 * (w.baseline + w.interval.low), 100 * (w.baseline + w.interval.high)], abs=TOL
    )
    values = [t.get_text() for t in ax.texts if t.get_gid() == "value"]
    assert values[1].endswith(f"({plot.format_number(100 * w.change, 1, signed=True)})")
    assert "Time and Effort +1 points" in ax.get_title(loc="left")
    assert_no_negative_zero(ax)
    with pytest.raises(InvalidArgumentError):
        plot.what_if(analysis)


def test_segment_importance_bars_match_each_segment(survey: pd.DataFrame) -> None:
    pillars = ["integrity", "expectations", "time_and_effort", "personalisation", "empathy"]
    s = cx.driver_analysis(survey, "ltr", pillars, by="segment")
    ax = plot.segment_importance(s)
    render(ax)
    keys = list(s.analyses)
    assert legend_texts(ax) == [str(k) for k in keys]
    table = pd.DataFrame({k: s.analyses[k].importance["lmg_share"] for k in keys})
    order = table.mean(axis=1).sort_values().index
    assert [t.get_text() for t in ax.get_yticklabels()] == [plot.pretty_name(d) for d in order]
    bars = list(ax.patches)
    widths = np.array([p.get_width() for p in bars]).reshape(len(keys), len(order))
    for j, k in enumerate(keys):
        assert widths[j] == pytest.approx(table.loc[order, k].to_numpy(), abs=TOL)
    assert_no_negative_zero(ax)
    with pytest.raises(InvalidArgumentError, match="invalid measure"):
        plot.segment_importance(s, measure="nonsense")
