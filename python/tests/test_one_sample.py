"""One sample per analysis: the what-if, the bootstrap and the promoter / detractor models run on the
sample the driver analysis analysed, under its missing-value policy (the indicator method included),
and the what-if's baseline is the NPS of that sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import cx_metrics as cx

# The what-if against numpy/statsmodels on the same rows: least squares by QR on both sides, and the
# rest is sums; 1e-9 relative leaves room for summation order over 2,000 rows.
TOL = 1e-9
# Logistic fits (IRLS here, Newton in statsmodels) agree to their convergence tolerance.
LOGIT_TOL = 1e-6


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    """The sample survey, whose pillars have scattered missing answers (resolution 851 of 2,000)."""
    return cx.datasets.sample_survey()


def latent_score(m: np.ndarray) -> np.ndarray:
    """The NPS score of a simulated answer with latent binning (promoter part minus detractor part)."""
    detractor = np.clip(6.5 - (m - 0.5), 0, 1)
    promoter = np.clip((m + 0.5) - 8.5, 0, 1)
    return promoter - detractor


def weighted_nps(ltr: np.ndarray, w: np.ndarray) -> float:
    return float((w * (ltr >= 9)).sum() / w.sum() - (w * (ltr <= 6)).sum() / w.sum())


def filled_design(frame: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """The indicator method by hand: each pillar with a missing value filled with its weighted mean and
    a 0/1 ``<pillar>_missing`` column, in the core's order (pillars, then indicators)."""
    x = frame[list(cx.PILLARS)].astype(float)
    indicators = {}
    for p in cx.PILLARS:
        missing = x[p].isna().to_numpy()
        if missing.any():
            observed = ~missing
            x[p] = x[p].fillna((x[p][observed] * weights[observed]).sum() / weights[observed].sum())
            indicators[f"{p}_missing"] = missing.astype(float)
    return pd.concat([x, pd.DataFrame(indicators, index=x.index)], axis=1)


def test_indicator_sample_carries_through_what_if_bootstrap_and_promoter_model(survey: pd.DataFrame) -> None:
    r = cx.pillar_driver_analysis(survey, weights="weight", missing="indicator")
    complete = survey[["ltr", *cx.PILLARS]].notna().all(axis=1).sum()
    analysed = survey[survey["ltr"].notna()]
    # The situation of the issue: the analysis keeps far more rows than the complete ones.
    assert r.n == len(analysed) and r.n > complete + 500
    w = r.what_if({"time_and_effort": 1}, scale=(1, 10))
    b = r.bootstrap(n_resamples=20, seed=4, measures=["lmg"])
    promoters = cx.promoter_drivers(survey, drivers=cx.PILLARS, weights="weight", missing="indicator")
    detractors = cx.detractor_drivers(survey, drivers=cx.PILLARS, weights="weight", missing="indicator")
    counts = {(m.n, m.n_omitted) for m in (r, w, promoters, detractors)}
    assert counts == {(r.n, r.n_omitted)}, counts
    assert b.n == r.n
    # The baseline is the weighted NPS of the analysed sample.
    ltr = analysed["ltr"].to_numpy(float)
    weights = analysed["weight"].to_numpy(float)
    assert w.baseline == pytest.approx(weighted_nps(ltr, weights), rel=1e-12)
    assert f"n = {r.n}" in str(w)
    assert w.to_dict()["missing"] == "indicator"
    assert w.to_dict()["n_filled"] == int(analysed[list(cx.PILLARS)].isna().any(axis=1).sum())


def test_indicator_what_if_against_a_hand_computation(survey: pd.DataFrame) -> None:
    r = cx.pillar_driver_analysis(survey, weights="weight", missing="indicator")
    w = r.what_if({"time_and_effort": 1, "resolution": 2}, scale=(1, 10))
    analysed = survey[survey["ltr"].notna()]
    weights = analysed["weight"].to_numpy(float)
    y = analysed["ltr"].to_numpy(float)
    x = filled_design(analysed, weights)
    fit = sm.WLS(y, sm.add_constant(x), weights=weights).fit()
    dy = np.zeros(len(y))
    for driver, delta in (("time_and_effort", 1), ("resolution", 2)):
        raw = analysed[driver].astype(float).to_numpy()
        observed = ~np.isnan(raw)
        # A filled rating is unknown: the shift moves only the rated respondents, capped at 10.
        dx = np.where(observed, np.minimum(np.nan_to_num(raw) + delta, 10) - np.nan_to_num(raw), 0.0)
        dy += fit.params[driver] * dx
        entry = w.scenario.loc[driver]
        assert entry["coefficient"] == pytest.approx(fit.params[driver], rel=TOL)
        assert entry["n_changed"] == int((dx != 0).sum())
    baseline = weighted_nps(y, weights)
    simulated = baseline + (weights * (latent_score(y + dy) - latent_score(y))).sum() / weights.sum()
    assert w.baseline == pytest.approx(baseline, rel=1e-12)
    assert w.simulated == pytest.approx(simulated, rel=TOL)
    assert w.n == len(y) and w.n_omitted == len(survey) - len(y)


def test_indicator_promoter_model_against_statsmodels(survey: pd.DataFrame) -> None:
    m = cx.promoter_drivers(survey, drivers=cx.PILLARS, missing="indicator")
    analysed = survey[survey["ltr"].notna()]
    x = filled_design(analysed, np.ones(len(analysed)))
    y = (analysed["ltr"].to_numpy(float) >= 9).astype(float)
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0, tol=1e-12, maxiter=100)
    assert m.n == len(analysed) and m.n_omitted == len(survey) - len(analysed)
    table = m.coefficients
    for term in x.columns:
        assert table.loc[term, "estimate"] == pytest.approx(ref.params[term], rel=LOGIT_TOL)
        assert table.loc[term, "std_error"] == pytest.approx(ref.bse[term], rel=LOGIT_TOL)


def test_listwise_sample_is_the_complete_rows_everywhere(survey: pd.DataFrame) -> None:
    r = cx.pillar_driver_analysis(survey, weights="weight")
    w = r.what_if({"time_and_effort": 1}, scale=(1, 10))
    p = cx.promoter_drivers(survey, drivers=cx.PILLARS, weights="weight")
    complete = survey[survey[["ltr", *cx.PILLARS]].notna().all(axis=1)]
    assert {(x.n, x.n_omitted) for x in (r, w, p)} == {(len(complete), len(survey) - len(complete))}
    assert w.baseline == pytest.approx(
        weighted_nps(complete["ltr"].to_numpy(float), complete["weight"].to_numpy(float)), rel=1e-12
    )


def test_declared_codes_carry_through_to_what_if_and_matrix(survey: pd.DataFrame) -> None:
    d = survey.copy()
    d.loc[d.index[:40], "integrity"] = 99
    r = cx.pillar_driver_analysis(d, weights="weight", missing_codes={"integrity": [99]})
    clean = d.assign(integrity=d["integrity"].replace(99, np.nan))
    ref = cx.pillar_driver_analysis(clean, weights="weight")
    w, w_ref = (x.what_if({"integrity": 1}, scale=(1, 10)) for x in (r, ref))
    assert (w.n, w.baseline, w.simulated) == (w_ref.n, w_ref.baseline, w_ref.simulated)
    m, m_ref = (x.matrix(scale=(1, 10)) for x in (r, ref))
    pd.testing.assert_frame_equal(m.to_pandas(), m_ref.to_pandas())
    b, b_ref = (x.bootstrap(n_resamples=10, seed=1, measures=["lmg"]) for x in (r, ref))
    assert b.n == b_ref.n == r.n


def test_what_if_prints_the_sample_it_used() -> None:
    """The printout names the missing-data policy and the rows it filled (the baseline is the NPS of
    exactly these respondents), the binning and whether there is an interval."""
    import cx_metrics as cx

    survey = cx.datasets.sample_survey()
    r = cx.pillar_driver_analysis(survey, weights="weight", missing="indicator", indicator_for=["resolution"])
    w = r.what_if({"resolution": 1}, scale=(1, 10))
    text = str(w)
    assert f"n = {w.n}" in text and f"{w.to_dict()['n_filled']} rows with a filled value" in text
    assert "missing='indicator'" in text and "latent binning" in text and "n_resamples=" in text
    assert w.to_dict()["n_filled"] > 0 and "sample" in w._repr_html_()
