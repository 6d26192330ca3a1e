"""Standard errors that say what they are: sandwich (HC0-HC3) covariances of the driver regression,
and sampling versus frequency weights in the promoter and detractor models.

References, computed in the tests:

- statsmodels ``OLS(y, x_mat).fit(cov_type="HC0".."HC3")`` and ``WLS(y, x_mat, weights=w).fit(cov_type=...)``
  for the driver regression; tolerance 1e-9 relative on standard errors, p-values use the same t
  distribution (``use_t=True``), 1e-9 relative;
- statsmodels ``GLM(y, x_mat, family=Binomial(), var_weights=w).fit(cov_type="HC0")`` and the sandwich
  ``A^-1 B A^-1`` computed by hand in numpy for sampling weights, ``GLM(..., freq_weights=w)`` for
  frequency weights; tolerance 1e-7 relative (both fits converge to 1e-10 in the deviance or better).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import VALIDATION

import cx_metrics as cx

sm = pytest.importorskip("statsmodels.api")

PILLARS = list(cx.PILLARS)


def _swiss() -> pd.DataFrame:
    return pd.read_csv(VALIDATION / "swiss.csv", index_col=0)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


@pytest.fixture(scope="module")
def swiss() -> pd.DataFrame:
    d = _swiss()
    d = d.rename(columns={"Fertility": "ltr"})
    d["w"] = 1.0 + 0.5 * (np.arange(len(d)) % 4)
    return d


DRIVERS = ["Agriculture", "Education", "Catholic"]


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
@pytest.mark.parametrize("weighted", [False, True])
def test_ols_sandwich_matches_statsmodels(swiss: pd.DataFrame, kind: str, weighted: bool) -> None:
    x_mat = sm.add_constant(swiss[DRIVERS].to_numpy())
    y = swiss["ltr"].to_numpy()
    if weighted:
        ref = sm.WLS(y, x_mat, weights=swiss["w"].to_numpy()).fit(cov_type=kind, use_t=True)
    else:
        ref = sm.OLS(y, x_mat).fit(cov_type=kind, use_t=True)
    r = cx.driver_analysis(
        swiss, outcome_scale=None, drivers=DRIVERS, weights="w" if weighted else None, covariance=kind
    )
    assert r.covariance_type == kind
    table = r.coefficients
    for j, term in enumerate(["(Intercept)", *DRIVERS]):
        assert _rel(table.loc[term, "std_error"], ref.bse[j]) < 1e-9
        assert _rel(table.loc[term, "p_value"], ref.pvalues[j]) < 1e-9
        assert _rel(table.loc[term, "ci_low"], ref.conf_int()[j][0]) < 1e-9
    assert _rel(r.f_statistic, float(ref.fvalue)) < 1e-9
    assert r.to_dict()["regression"]["covariance_type"] == kind
    assert f"standard errors: {kind}" in str(r)


def test_weighted_default_is_hc1_and_invariant_to_the_weights_scale(swiss: pd.DataFrame) -> None:
    base = cx.driver_analysis(swiss, outcome_scale=None, drivers=DRIVERS, weights="w")
    assert base.covariance_type == "HC1"
    assert base.covariance_note is None
    scaled = swiss.assign(w=swiss["w"] * 2000.0)
    big = cx.driver_analysis(scaled, outcome_scale=None, drivers=DRIVERS, weights="w")
    np.testing.assert_allclose(big.coefficients["std_error"], base.coefficients["std_error"], rtol=1e-12)
    np.testing.assert_allclose(big.coefficients["p_value"], base.coefficients["p_value"], rtol=1e-10)
    # Unweighted: model-based, as statsmodels' default.
    plain = cx.driver_analysis(swiss, outcome_scale=None, drivers=DRIVERS)
    assert plain.covariance_type == "classical"
    ref = sm.OLS(swiss["ltr"].to_numpy(), sm.add_constant(swiss[DRIVERS].to_numpy())).fit()
    np.testing.assert_allclose(plain.coefficients["std_error"], ref.bse, rtol=1e-10)
    assert "standard errors: classical" in str(plain)


def test_pairwise_says_why_it_is_model_based_and_refuses_a_sandwich(swiss: pd.DataFrame) -> None:
    holes = swiss.copy()
    holes.loc[holes.index[3], "Education"] = math.nan
    r = cx.driver_analysis(holes, outcome_scale=None, drivers=DRIVERS, weights="w", missing="pairwise")
    assert r.covariance_type == "classical"
    assert r.covariance_note is not None and "residuals" in r.covariance_note
    # The reason names pairwise deletion, not a covariance summary the user never gave.
    assert "pairwise deletion" in r.covariance_note and "moments summary" not in r.covariance_note
    with pytest.raises(cx.exceptions.InvalidArgumentError, match=r"HC3.*pairwise deletion"):
        cx.driver_analysis(
            holes, outcome_scale=None, drivers=DRIVERS, weights="w", missing="pairwise", covariance="HC3"
        )
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="HC0"):
        cx.driver_analysis(swiss, outcome_scale=None, drivers=DRIVERS, covariance="HC4")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey().dropna(subset=["ltr", *PILLARS]).reset_index(drop=True)


def _hand_sandwich(x_mat: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mu = 1.0 / (1.0 + np.exp(-x_mat @ beta))
    a = (x_mat * (w * mu * (1 - mu))[:, None]).T @ x_mat
    s = x_mat * (w * (y - mu))[:, None]
    a_inv = np.linalg.inv(a)
    return np.sqrt(np.diag(a_inv @ (s.T @ s) @ a_inv))


@pytest.mark.parametrize("target", ["promoter", "detractor"])
def test_sampling_weights_give_sandwich_standard_errors(survey: pd.DataFrame, target: str) -> None:
    fit = cx.promoter_drivers if target == "promoter" else cx.detractor_drivers
    m = fit(survey, drivers=PILLARS, weights="weight")
    assert (m.std_error_type, m.weight_kind) == ("sandwich (HC0)", "sampling")
    y = (survey["ltr"] >= 9) if target == "promoter" else (survey["ltr"] <= 6)
    x_mat = sm.add_constant(survey[PILLARS].to_numpy(dtype=float))
    w = survey["weight"].to_numpy(dtype=float)
    ref = sm.GLM(y.to_numpy(dtype=float), x_mat, family=sm.families.Binomial(), var_weights=w).fit(
        tol=1e-14, maxiter=100, cov_type="HC0"
    )
    table = m.coefficients
    np.testing.assert_allclose(table["estimate"], ref.params, rtol=1e-7)
    np.testing.assert_allclose(table["std_error"], ref.bse, rtol=1e-7)
    np.testing.assert_allclose(table["p_value"], ref.pvalues, rtol=1e-6)
    hand = _hand_sandwich(x_mat, y.to_numpy(dtype=float), w, table["estimate"].to_numpy())
    np.testing.assert_allclose(table["std_error"], hand, rtol=1e-9)
    assert "sandwich (HC0) standard errors (sampling weights)" in str(m)
    assert m.to_dict()["std_error_type"] == "sandwich_hc0"


def test_weights_times_a_constant_change_nothing(survey: pd.DataFrame) -> None:
    a = cx.promoter_drivers(survey, drivers=PILLARS, weights="weight")
    big = survey.assign(weight=survey["weight"] * 2000.0)
    b = cx.promoter_drivers(big, drivers=PILLARS, weights="weight")
    np.testing.assert_allclose(b.coefficients["std_error"], a.coefficients["std_error"], rtol=1e-8)
    np.testing.assert_allclose(b.coefficients["p_value"], a.coefficients["p_value"], rtol=1e-6, atol=1e-300)
    # As frequency weights the same change shrinks every SE by sqrt(2000).
    f1 = cx.promoter_drivers(survey, drivers=PILLARS, weights="weight", weight_kind="frequency")
    f2 = cx.promoter_drivers(big, drivers=PILLARS, weights="weight", weight_kind="frequency")
    np.testing.assert_allclose(
        f2.coefficients["std_error"] * math.sqrt(2000.0), f1.coefficients["std_error"], rtol=1e-8
    )


def test_frequency_weights_match_statsmodels_freq_weights(survey: pd.DataFrame) -> None:
    m = cx.detractor_drivers(survey, drivers=PILLARS, weights="weight", weight_kind="frequency")
    assert (m.std_error_type, m.weight_kind) == ("model-based", "frequency")
    y = (survey["ltr"] <= 6).to_numpy(dtype=float)
    x_mat = sm.add_constant(survey[PILLARS].to_numpy(dtype=float))
    ref = sm.GLM(y, x_mat, family=sm.families.Binomial(), freq_weights=survey["weight"].to_numpy()).fit(
        tol=1e-14, maxiter=100
    )
    np.testing.assert_allclose(m.coefficients["std_error"], ref.bse, rtol=1e-7)
    unweighted = cx.detractor_drivers(survey, drivers=PILLARS)
    assert (unweighted.std_error_type, unweighted.weight_kind) == ("model-based", None)
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="frequency"):
        cx.detractor_drivers(survey, drivers=PILLARS, weights="weight", weight_kind="pweight")  # type: ignore[arg-type]
