"""Uncertainty in the importance-performance matrix: performance intervals against scipy (t) and
statsmodels (Wilson), uncertain quadrants, and the warning when the spread of performance is noise."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from statsmodels.stats.proportion import proportion_confint

import cx_metrics as cx
from cx_metrics.driver_matrix import PerformanceNoiseWarning

TOL = 1e-12  # the bounds are closed formulas; both sides agree to rounding
PILLARS = ["integrity", "resolution", "expectations", "time_and_effort", "personalisation", "empathy"]


def _close_pillars(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """Six pillars with the same ratings shuffled, j of them nudged up a point: the means lie within
    0.05 points of each other, while the outcome depends on the pillars unequally."""
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 11, n).astype(float)
    cols = {}
    for j, name in enumerate(PILLARS):
        c = rng.permutation(base)
        c[np.flatnonzero(c < 10)[: 3 * j]] += 1.0
        cols[name] = c
    weights = [0.5, 0.1, 0.2, 0.9, 0.05, 0.3]
    ltr = sum(w * cols[p] for w, p in zip(weights, PILLARS, strict=True)) * 0.5
    cols["ltr"] = np.clip(np.round(ltr + rng.normal(0, 1, n)), 0, 10)
    cols["weight"] = rng.uniform(0.5, 2.0, n)
    return pd.DataFrame(cols)


def _separated_pillars(n: int = 400, seed: int = 2) -> pd.DataFrame:
    """Six pillars with means about 1.2 points apart (3.0 to 9.0)."""
    rng = np.random.default_rng(seed)
    cols = {p: np.clip(np.round(3.0 + 1.2 * j + rng.normal(0, 1, n)), 1, 10) for j, p in enumerate(PILLARS)}
    cols["ltr"] = np.clip(np.round(sum(cols.values()) / 6 + rng.normal(0, 1, n)), 0, 10)
    cols["weight"] = rng.uniform(0.5, 2.0, n)
    return pd.DataFrame(cols)


def _t_interval(x: np.ndarray, w: np.ndarray | None) -> tuple[float, float]:
    """scipy's t interval of the weighted mean with Kish's effective n (the plain t interval if w is None)."""
    if w is None:
        return tuple(st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x)))  # type: ignore[return-value]
    m = np.sum(w * x) / np.sum(w)
    n_eff = np.sum(w) ** 2 / np.sum(w**2)
    s2 = np.sum(w * (x - m) ** 2) / np.sum(w) * n_eff / (n_eff - 1)
    return tuple(st.t.interval(0.95, n_eff - 1, loc=m, scale=math.sqrt(s2 / n_eff)))  # type: ignore[return-value]


@pytest.mark.parametrize("weighted", [False, True])
def test_mean_intervals_match_scipy_t(weighted: bool) -> None:
    df = _separated_pillars()
    df.loc[::7, "resolution"] = np.nan  # available cases per driver
    r = cx.driver_analysis(df, "ltr", PILLARS, weights="weight" if weighted else None, missing="pairwise")
    m = r.matrix(scale=(1, 10))
    t = m.drivers
    for p in PILLARS:
        keep = df[p].notna().to_numpy()
        x = df[p].to_numpy()[keep]
        w = df["weight"].to_numpy()[keep] if weighted else None
        lo, hi = _t_interval(x, w)
        assert abs(t.loc[p, "performance_low"] - lo) < TOL, p
        assert abs(t.loc[p, "performance_high"] - hi) < TOL, p


@pytest.mark.parametrize("weighted", [False, True])
def test_top_box_intervals_match_statsmodels_wilson(weighted: bool) -> None:
    df = _close_pillars()
    r = cx.driver_analysis(df, "ltr", PILLARS, weights="weight" if weighted else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerformanceNoiseWarning)
        m = r.matrix(scale=(1, 10), top_box=2, performance="top_box")
    t = m.drivers
    w = df["weight"].to_numpy() if weighted else np.ones(len(df))
    n_eff = w.sum() ** 2 / (w**2).sum()
    for p in PILLARS:
        share = np.sum(w * (df[p].to_numpy() >= 9)) / w.sum()
        assert abs(t.loc[p, "performance"] - share) < TOL
        lo, hi = proportion_confint(share * n_eff, n_eff, alpha=0.05, method="wilson")
        assert abs(t.loc[p, "performance_low"] - lo) < TOL, p
        assert abs(t.loc[p, "performance_high"] - hi) < TOL, p


def test_six_close_pillars_are_uncertain_and_warned() -> None:
    df = _close_pillars()
    r = cx.driver_analysis(df, "ltr", PILLARS)
    with pytest.warns(PerformanceNoiseWarning, match="do not differ beyond noise"):
        m = r.matrix(scale=(1, 10))
    t = m.drivers
    assert t["performance"].max() - t["performance"].min() < 0.05
    # The cut still splits them into quadrants, which without the intervals would read as firm labels.
    assert len(set(t["quadrant"])) > 1
    assert t["uncertain_performance"].all()
    assert m.spread is not None and m.spread.within_noise and m.spread.intervals_overlap
    assert m.spread.df == 5
    # The chi-square statistic by hand from the same intervals' ingredients, and scipy's p-value.
    w = np.ones(len(df))
    n_eff = float(len(df))
    means, var = [], []
    for p in PILLARS:
        x = df[p].to_numpy()
        mean = np.sum(w * x) / w.sum()
        s2 = np.sum(w * (x - mean) ** 2) / w.sum() * n_eff / (n_eff - 1)
        means.append(mean)
        var.append(s2 / n_eff)
    means_a, var_a = np.array(means), np.array(var)
    centre = np.sum(means_a / var_a) / np.sum(1 / var_a)
    q = float(np.sum((means_a - centre) ** 2 / var_a))
    assert abs(m.spread.statistic - q) < 1e-9 * max(q, 1.0)
    assert abs(m.spread.p_value - st.chi2.sf(q, 5)) < 1e-10
    text = str(m)
    assert "do not differ beyond noise" in text
    assert "(uncertain)" in text
    assert "95% CI" in text
    assert "do not differ beyond noise" in m._repr_html_()


def test_top_box_spread_is_pearsons_chi_square() -> None:
    df = _separated_pillars()
    r = cx.driver_analysis(df, "ltr", PILLARS)
    m = r.matrix(scale=(1, 10), top_box=3, performance="top_box")
    table = np.array([[np.sum(df[p] >= 8), np.sum(df[p] < 8)] for p in PILLARS])
    chi2, p, dof, _ = st.chi2_contingency(table, correction=False)
    assert m.spread is not None
    assert abs(m.spread.statistic - chi2) < 1e-9 * chi2
    assert m.spread.df == dof
    assert abs(m.spread.p_value - p) < 1e-12
    assert not m.spread.within_noise


def test_separated_pillars_get_firm_labels_and_no_warning() -> None:
    df = _separated_pillars()
    r = cx.driver_analysis(df, "ltr", PILLARS, weights="weight")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerformanceNoiseWarning)
        m = r.matrix(scale=(1, 10))
    assert not m.drivers["uncertain_performance"].any()
    assert m.spread is not None and not m.spread.within_noise and m.spread.p_value < 1e-6
    assert "beyond noise" in str(m.spread)
    assert "do not differ beyond noise" not in str(m)


def test_importance_intervals_also_mark_uncertainty() -> None:
    df = _separated_pillars()
    r = cx.driver_analysis(df, "ltr", PILLARS)
    line = 1 / 6
    ivs = [(line - 0.01, line + 0.01)] + [(0.0, 0.01)] * 5
    m = r.matrix(scale=(1, 10), importance_intervals=ivs)
    t = m.drivers
    assert t["uncertain_importance"].tolist() == [True] + [False] * 5
    assert t.loc[PILLARS[0], "importance_low"] == ivs[0][0]
    assert t.loc[PILLARS[0], "importance_high"] == ivs[0][1]


def test_reloading_does_not_warn_again_and_keeps_the_intervals() -> None:
    df = _close_pillars()
    r = cx.driver_analysis(df, "ltr", PILLARS)
    with pytest.warns(PerformanceNoiseWarning):
        m = r.matrix(scale=(1, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerformanceNoiseWarning)
        back = pickle.loads(pickle.dumps(m))
        again = type(m).from_json(m.to_json())
    for other in (back, again):
        assert other.spread == m.spread
        pd.testing.assert_frame_equal(other.drivers, m.drivers)


def test_matrix_confidence_level_sets_the_performance_intervals() -> None:
    """``confidence_level`` is the level of the performance intervals (it was fixed at 95%): the 80%
    t interval of each driver's mean rating, as scipy computes it from the analysed rows."""
    import warnings

    import numpy as np
    from scipy import stats

    import cx_metrics as cx

    survey = cx.datasets.sample_survey()
    drivers = list(cx.PILLARS)
    complete = survey.dropna(subset=[*drivers, "ltr"])
    r = cx.pillar_driver_analysis(complete)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cx.PerformanceNoiseWarning)
        table = r.matrix(scale=(1, 10), confidence_level=0.8).to_pandas().set_index("driver")
    for d in drivers:
        x = complete[d].to_numpy(dtype=float)
        half = stats.t.ppf(0.9, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
        assert table.loc[d, "performance_low"] == pytest.approx(x.mean() - half, rel=1e-9)
        assert table.loc[d, "performance_high"] == pytest.approx(x.mean() + half, rel=1e-9)


def test_performance_is_on_the_sample_the_analysis_used() -> None:
    # One sample per analysis: the matrix's performance is computed on the rows the importance was
    # estimated on (listwise: complete rows; indicator: every row with an outcome, each driver's own
    # ratings among them; declared codes missing), checked against pandas on those rows.
    survey = cx.datasets.sample_survey()
    d = survey.copy()
    d.loc[d.index[10:310], "empathy"] = 99
    w = d["weight"]

    def weighted_means(rows: pd.Series) -> dict[str, float]:
        out = {}
        for p in PILLARS:
            x = d.loc[rows, p].replace(99, np.nan)
            ok = x.notna()
            out[p] = float(np.average(x[ok], weights=w[rows][ok]))
        return out

    answered = d["ltr"].notna() & (w > 0)
    complete = answered & d[PILLARS].replace(99, np.nan).notna().all(axis=1)
    for missing, rows in (("listwise", complete), ("indicator", answered)):
        a = cx.driver_analysis(d, drivers=PILLARS, weights="weight", missing=missing, missing_codes=[99])
        m = a.matrix(scale=(1, 10))
        assert m.performance_rows == a.n == int(rows.sum())
        table = m.drivers
        expected = weighted_means(rows)
        for p in PILLARS:
            assert table.loc[p, "performance"] == pytest.approx(expected[p], rel=TOL)
        assert f"performance: the {a.n} rows the analysis used" in str(m)
    # The listwise sample is not every driver's available ratings (the former behaviour).
    available = d["empathy"].replace(99, np.nan).notna()
    assert int(available.sum()) > int(complete.sum())
    # Pairwise deletion has no single sample: each driver's available ratings, and it says so.
    a = cx.driver_analysis(d, drivers=PILLARS, missing="pairwise", missing_codes=[99])
    m = a.matrix(scale=(1, 10))
    assert m.performance_rows is None
    assert "each driver's available ratings" in str(m)
