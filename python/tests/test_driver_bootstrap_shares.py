"""Share intervals of the driver bootstrap and the matrix's importance intervals read from it.

The reference recomputes every replicate in numpy: the resamples are the bootstrap's own
(``resample_counts()``, regenerated from the seed), the LMG shares are fitted here from the rows with
weights ``count * weight`` (all-subsets R² and the Shapley formula, written below), and the intervals
are ``np.quantile`` of those shares (percentile) and ``scipy.stats.bootstrap(method="BCa")`` fed the
same replicate shares, with its own jackknife of the numpy statistic.
"""

from __future__ import annotations

import itertools
import json
import math
import pickle
import warnings
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import scipy.stats as st

import cx_metrics as cx
from cx_metrics.driver_matrix import PerformanceNoiseWarning
from cx_metrics.exceptions import IncompatibleError, InvalidArgumentError

DRIVERS = ["ease", "speed", "empathy"]
# The shares are the same figures by two implementations (correlation-form sums in Rust, weighted
# least squares here): they agree to about 1e-14; quantiles and BCa bounds interpolate between the
# same order statistics, so 1e-10 leaves room for rounding only.
TOL = 1e-10


def _survey(n: int = 160, seed: int = 3) -> pd.DataFrame:
    """Three correlated 1-10 drivers, a 0-10 outcome driven unequally by them, survey weights."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0, 1, n)
    cols = {d: np.clip(np.round(6 + 1.2 * common + 1.5 * rng.normal(0, 1, n)), 1, 10) for d in DRIVERS}
    ltr = 0.5 * cols["ease"] + 0.3 * cols["speed"] + 0.1 * cols["empathy"] + rng.normal(0, 1.2, n)
    cols["ltr"] = np.clip(np.round(ltr - 1), 0, 10)
    cols["weight"] = rng.uniform(0.5, 2.0, n)
    return pd.DataFrame(cols)


def _lmg_shares(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], w: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """LMG of each column of ``x`` (weighted least squares, every subset), over its sum."""
    p = x.shape[1]
    keep = w > 0
    x, y, w = x[keep], y[keep], w[keep]

    def r2(cols: Sequence[int]) -> float:
        if not cols:
            return 0.0
        design = np.column_stack([np.ones(len(y)), x[:, list(cols)]])
        sw = np.sqrt(w)
        beta, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
        resid = y - design @ beta
        ybar = np.sum(w * y) / np.sum(w)
        return float(1.0 - np.sum(w * resid**2) / np.sum(w * (y - ybar) ** 2))

    table = {s: r2(s) for k in range(p + 1) for s in itertools.combinations(range(p), k)}
    lmg = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            for s in itertools.combinations(others, k):
                weight = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
                lmg[j] += weight * (table[tuple(sorted((*s, j)))] - table[s])
    return lmg / lmg.sum()


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return _survey()


@pytest.fixture(scope="module")
def analysis(survey: pd.DataFrame) -> cx.DriverAnalysis:
    return cx.driver_analysis(survey, "ltr", DRIVERS, weights="weight")


@pytest.fixture(scope="module")
def boot(analysis: cx.DriverAnalysis) -> cx.DriverBootstrap:
    return analysis.bootstrap(n_resamples=400, seed=11, measures=["lmg", "johnson"])


@pytest.fixture(scope="module")
def reference(survey: pd.DataFrame, boot: cx.DriverBootstrap) -> npt.NDArray[np.float64]:
    """The LMG shares of every replicate, refitted in numpy on the bootstrap's own resamples."""
    x = survey[DRIVERS].to_numpy()
    y = survey["ltr"].to_numpy()
    w = survey["weight"].to_numpy()
    counts = boot.resample_counts()
    assert counts.shape == (400, len(survey)) and (counts.sum(axis=1) == len(survey)).all()
    return np.array([_lmg_shares(x, y, w * c) for c in counts])


def test_share_estimates_are_the_analysis_shares(
    analysis: cx.DriverAnalysis, boot: cx.DriverBootstrap
) -> None:
    shares = boot.shares
    assert set(shares.index.get_level_values("measure")) == {"lmg", "johnson"}
    assert np.allclose(shares.loc["lmg", "estimate"], analysis.importance["lmg_share"], rtol=0, atol=1e-12)
    for m in ("lmg", "johnson"):
        s = shares.loc[m]
        assert abs(s["estimate"].sum() - 1.0) < 1e-12
        assert ((s["ci_low"] <= s["estimate"]) & (s["estimate"] <= s["ci_high"])).all()
    assert boot.n_share_failed == {"lmg": 0, "johnson": 0}


def test_percentile_share_intervals_match_numpy_refits(
    survey: pd.DataFrame, boot: cx.DriverBootstrap, reference: npt.NDArray[np.float64]
) -> None:
    x, y, w = survey[DRIVERS].to_numpy(), survey["ltr"].to_numpy(), survey["weight"].to_numpy()
    s = boot.shares.loc["lmg"]
    assert np.allclose(s["estimate"], _lmg_shares(x, y, w), rtol=0, atol=TOL)
    lo, hi = np.quantile(reference, [0.025, 0.975], axis=0)
    assert np.allclose(s["ci_low"], lo, rtol=0, atol=TOL)
    assert np.allclose(s["ci_high"], hi, rtol=0, atol=TOL)
    assert np.allclose(s["std_error"], reference.std(axis=0, ddof=1), rtol=0, atol=TOL)
    assert np.allclose(s["bias"], reference.mean(axis=0) - _lmg_shares(x, y, w), rtol=0, atol=TOL)
    # Not the R² interval divided by the full-sample R²: the denominator moves with the replicate.
    r2 = boot.importance.loc["lmg"]
    naive = r2["ci_low"] / r2["estimate"].sum()
    assert (np.abs(naive - s["ci_low"]) > 1e-3).any()


def test_bca_share_intervals_match_scipy(
    survey: pd.DataFrame, boot: cx.DriverBootstrap, reference: npt.NDArray[np.float64]
) -> None:
    x, y, w = survey[DRIVERS].to_numpy(), survey["ltr"].to_numpy(), survey["weight"].to_numpy()
    s = boot.shares.loc["lmg"]
    idx = np.arange(len(survey))
    for j, driver in enumerate(DRIVERS):
        # scipy computes θ̂ and the leave-one-out jackknife itself, from this statistic on the rows;
        # the bootstrap distribution is the numpy refits of the same resamples (no new draws).
        res = st.bootstrap(
            (idx,),
            lambda i, j=j: _lmg_shares(x[i], y[i], w[i])[j],
            n_resamples=0,
            bootstrap_result=SimpleNamespace(bootstrap_distribution=reference[:, j]),
            method="BCa",
            confidence_level=0.95,
            vectorized=False,
        )
        assert abs(s.loc[driver, "bca_low"] - res.confidence_interval.low) < TOL, driver
        assert abs(s.loc[driver, "bca_high"] - res.confidence_interval.high) < TOL, driver


def test_two_driver_shares_mirror_each_other(survey: pd.DataFrame) -> None:
    # share_1 + share_2 = 1 in every replicate, so the interval of one is 1 minus the other's, ends
    # swapped: exact up to rounding.
    r = cx.driver_analysis(survey, "ltr", DRIVERS[:2], weights="weight")
    s = r.bootstrap(n_resamples=999, seed=2, measures=["lmg"]).shares.loc["lmg"]
    a, b = s.loc["ease"], s.loc["speed"]
    assert abs(a["estimate"] + b["estimate"] - 1.0) < 1e-12
    for lo, hi in (("ci_low", "ci_high"), ("bca_low", "bca_high")):
        assert abs(a[lo] - (1.0 - b[hi])) < 1e-12
        assert abs(a[hi] - (1.0 - b[lo])) < 1e-12


def _matrix(analysis: cx.DriverAnalysis, **kwargs: object) -> cx.ImportancePerformance:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerformanceNoiseWarning)
        return analysis.matrix(scale=(1, 10), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("share", "interval"), [(True, "percentile"), (True, "bca"), (False, "percentile")])
def test_matrix_reads_the_matching_intervals(
    analysis: cx.DriverAnalysis, boot: cx.DriverBootstrap, share: bool, interval: str
) -> None:
    m = _matrix(analysis, share=share, importance_intervals=boot, interval=interval)
    table = (boot.shares if share else boot.importance).loc["lmg"]
    cols = ("ci_low", "ci_high") if interval == "percentile" else ("bca_low", "bca_high")
    d = m.drivers
    assert np.allclose(d["importance"], table["estimate"], rtol=0, atol=1e-12)
    assert np.array_equal(d["importance_low"], table[cols[0]])
    assert np.array_equal(d["importance_high"], table[cols[1]])
    line = m.importance_line
    crosses = (table[cols[0]] <= line) & (line <= table[cols[1]])
    assert list(d["uncertain_importance"]) == list(crosses)
    source = m.importance_source
    assert source == {
        "n_resamples": 400,
        "n_failed": 0,
        "seed": 11,
        "interval": interval,
        "confidence_level": 0.95,
        "share": share,
    }
    text = str(m)
    assert f"95% {interval} intervals" in text and "bootstrap of 400 resamples (0 failed), seed 11" in text
    assert ("lmg shares" if share else "lmg scores (R² units)") in text
    assert "bootstrap of 400 resamples" in m._repr_html_()
    back = pickle.loads(pickle.dumps(m))
    assert back.importance_source == source and str(back) == text


def test_matrix_runs_the_bootstrap_on_request(analysis: cx.DriverAnalysis) -> None:
    m = _matrix(analysis, importance_intervals="bootstrap", n_resamples=200, seed=5)
    b = analysis.bootstrap(n_resamples=200, seed=5, measures=["lmg"])
    assert np.array_equal(m.drivers["importance_low"], b.shares.loc["lmg", "ci_low"])
    assert m.importance_source is not None and m.importance_source["seed"] == 5
    given = _matrix(
        analysis,
        importance_intervals=list(
            zip(b.shares.loc["lmg", "ci_low"], b.shares.loc["lmg", "ci_high"], strict=True)
        ),
    )
    assert given.importance_source is None and "given by the caller" in str(given)
    assert list(given.drivers["uncertain_importance"]) == list(m.drivers["uncertain_importance"])


def test_a_wrong_bootstrap_is_refused(
    survey: pd.DataFrame, analysis: cx.DriverAnalysis, boot: cx.DriverBootstrap
) -> None:
    unweighted = cx.driver_analysis(survey, "ltr", DRIVERS)
    with pytest.raises(IncompatibleError, match="another analysis"):
        _matrix(unweighted, importance_intervals=boot)
    fewer = cx.driver_analysis(survey, "ltr", DRIVERS[:2], weights="weight")
    with pytest.raises(IncompatibleError, match="units"):
        _matrix(fewer, importance_intervals=boot)
    other = survey.assign(csat=survey["ltr"])
    with pytest.raises(IncompatibleError, match="outcome"):
        _matrix(
            cx.driver_analysis(other, "csat", DRIVERS, weights="weight", outcome_scale=(0, 10)),
            importance_intervals=boot,
        )
    johnson_only = analysis.bootstrap(n_resamples=50, seed=1, measures=["johnson"])
    with pytest.raises(InvalidArgumentError, match="has no lmg"):
        _matrix(analysis, importance_intervals=johnson_only)
    with pytest.raises(InvalidArgumentError, match="level"):
        _matrix(analysis, importance_intervals=boot, confidence_level=0.9)
    with pytest.raises(InvalidArgumentError, match="interval"):
        _matrix(analysis, importance_intervals=[(0.1, 0.2)] * 3, interval="bca")
    with pytest.raises(InvalidArgumentError, match="importance_intervals"):
        _matrix(analysis, importance_intervals="bca")


def test_old_bootstraps_still_read(analysis: cx.DriverAnalysis, boot: cx.DriverBootstrap) -> None:
    back = pickle.loads(pickle.dumps(boot))
    assert back == boot and back.shares.equals(boot.shares)
    # A result written before shares were bootstrapped: no shares, R²-unit intervals still usable.
    old = json.loads(boot.to_json())
    for m in old["importance"]:
        del m["shares"], m["n_share_failed"]
    restored = cx.DriverBootstrap.from_json(json.dumps(old))
    assert restored.shares.empty and restored.n_share_failed == {"lmg": 0, "johnson": 0}
    assert restored.importance.equals(boot.importance)
    with pytest.raises(InvalidArgumentError, match="share = false"):
        _matrix(analysis, importance_intervals=restored)
    m = _matrix(analysis, share=False, importance_intervals=restored)
    assert np.array_equal(m.drivers["importance_low"], boot.importance.loc["lmg", "ci_low"])
