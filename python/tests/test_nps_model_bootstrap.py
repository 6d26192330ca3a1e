"""Promoter / detractor models: the percentile bootstrap, the warnings and ``plot.odds_ratios``.

Reference for the bootstrap: an independent bootstrap written here (numpy resampling of the same
complete rows with their weights, statsmodels ``GLM(..., var_weights=w)`` refits, B = 300): the
bootstrap standard errors of the two must agree within 20 % (the Monte Carlo error of a standard
deviation from B replicates is about 1/sqrt(2B) = 4 % each), and both within 25 % of the sandwich
standard errors the model reports. The percentile interval is checked against numpy's percentiles of
the replicates the core reports through its standard error (same quantile rule, type 7).
"""

from __future__ import annotations

import pickle

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics import plot

sm = pytest.importorskip("statsmodels.api")

PILLARS = list(cx.PILLARS)


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey().dropna(subset=["ltr", *PILLARS]).reset_index(drop=True)


def test_bootstrap_standard_errors_match_an_independent_bootstrap(survey: pd.DataFrame) -> None:
    m = cx.promoter_drivers(survey, drivers=PILLARS, weights="weight")
    b = m.bootstrap(n_resamples=300, seed=11)
    assert (b.n_resamples, b.seed, b.target) == (300, 11, "promoter")
    assert b.n_failed == 0 and b.warnings == ()
    y = (survey["ltr"] >= 9).to_numpy(dtype=float)
    x_mat = sm.add_constant(survey[PILLARS].to_numpy(dtype=float))
    w = survey["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(5)
    reps = []
    for _ in range(300):
        i = rng.integers(0, len(y), len(y))
        fit = sm.GLM(y[i], x_mat[i], family=sm.families.Binomial(), var_weights=w[i]).fit(tol=1e-10)
        reps.append(fit.params)
    independent = np.std(np.array(reps), axis=0, ddof=1)
    ours = b.coefficients["std_error"].to_numpy()
    np.testing.assert_allclose(ours, independent, rtol=0.20)
    np.testing.assert_allclose(ours, m.coefficients["std_error"].to_numpy(), rtol=0.25)
    table = b.coefficients
    assert list(table.index) == ["intercept", *PILLARS]
    np.testing.assert_allclose(table["estimate"], m.coefficients["estimate"], rtol=1e-12)
    assert np.all(table["ci_low"] < table["estimate"]) and np.all(table["estimate"] < table["ci_high"])
    np.testing.assert_allclose(table["or_ci_low"], np.exp(table["ci_low"]), rtol=1e-12)
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["estimate"]), rtol=1e-12)
    # The same seed gives the same intervals; another gives others.
    again = m.bootstrap(n_resamples=300, seed=11)
    assert again.to_dict() == b.to_dict()
    assert m.bootstrap(n_resamples=300, seed=12).to_dict() != b.to_dict()
    assert "300 resamples" in str(b)
    assert pickle.loads(pickle.dumps(b)).to_dict() == b.to_dict()


def test_bootstrap_needs_rows_and_enough_resamples(survey: pd.DataFrame) -> None:
    m = cx.detractor_drivers(survey, drivers=PILLARS)
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="100"):
        m.bootstrap(n_resamples=10, seed=1)
    restored = pickle.loads(pickle.dumps(m))
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="rows"):
        restored.bootstrap(n_resamples=200, seed=1)


def test_few_events_per_driver_are_warned_about() -> None:
    # 60 respondents, 8 promoters, 6 drivers: 1.3 events per driver (10 recommended).
    rng = np.random.default_rng(3)
    ltr = np.where(np.arange(60) < 8, 10, 5)
    data = {"ltr": ltr, **{p: rng.integers(1, 8, 60).astype(float) for p in PILLARS}}
    m = cx.promoter_drivers(data, drivers=PILLARS)
    assert any("1.3 events per driver" in w for w in m.warnings), m.warnings
    assert "1.3 events per driver" in str(m)
    fine = cx.promoter_drivers(cx.datasets.sample_survey(), drivers=PILLARS)
    assert not any("events per driver" in w for w in fine.warnings)


def test_odds_ratio_plot(survey: pd.DataFrame) -> None:
    pro = cx.promoter_drivers(survey, drivers=PILLARS, weights="weight")
    det = cx.detractor_drivers(survey, drivers=PILLARS, weights="weight")
    ax = plot.odds_ratios([pro, det])
    assert ax.get_xscale() == "log"
    # Driver names as words, as in every chart; plain numbers on the log axis (no 10^0 mathtext).
    assert [t.get_text() for t in ax.get_yticklabels()] == [plot.pretty_name(p) for p in PILLARS]
    assert "Time and Effort" in [t.get_text() for t in ax.get_yticklabels()]
    ax.set_xlim(0.05, 20)
    ax.figure.canvas.draw()
    major = [t.get_text() for t in ax.get_xticklabels()]
    minor = [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    assert {"0.1", "1", "10"} <= set(major) and {"0.5", "2", "5"} <= set(minor)
    assert not any("$" in t or "^" in t for t in major + minor)
    assert "sandwich (HC0)" in ax.get_title(loc="left")
    assert len(ax.lines) >= 1 and len(ax.containers) == 2
    plt.close(ax.figure)
    b = pro.bootstrap(n_resamples=100, seed=2)
    ax = plot.odds_ratios(pro, bootstrap=b)
    assert "percentile" in ax.get_title(loc="left")
    plt.close(ax.figure)
    with pytest.raises(cx.exceptions.InvalidArgumentError):
        plot.odds_ratios([pro, det], bootstrap=b)
    with pytest.raises(cx.exceptions.CxMetricsError):
        plot.odds_ratios(cx.driver_analysis(survey, drivers=PILLARS))
