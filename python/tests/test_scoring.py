"""Fitted models that score new rows: predictions against statsmodels, the JSON document (round trip,
size, no rows), hostile documents and bad rows."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pandas as pd
import polars as pl
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, InvalidStateError, OutOfScaleError

PILLARS = list(cx.PILLARS)
# statsmodels and the core solve the same least-squares problem by different factorisations: fitted
# values agree to about 1e-13 on a 0-10 scale; the written tolerance is 1e-10.
TOL = 1e-10


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


@pytest.mark.parametrize("weighted", [False, True])
def test_driver_model_predicts_what_statsmodels_predicts(survey: pd.DataFrame, weighted: bool) -> None:
    import statsmodels.api as sm

    weights = "weight" if weighted else None
    model = cx.driver_analysis(survey, drivers=PILLARS, weights=weights, scales=(1, 10)).model()
    complete = survey[["ltr", "weight", *PILLARS]].dropna()
    x = sm.add_constant(complete[PILLARS].astype(float))
    w = complete["weight"] if weighted else np.ones(len(complete))
    ref = sm.WLS(complete["ltr"].astype(float), x, weights=w).fit()
    # Every row of the survey is scored; statsmodels predicts the rows with every pillar.
    scorable = survey[PILLARS].notna().all(axis=1)
    want = ref.predict(sm.add_constant(survey.loc[scorable, PILLARS].astype(float), has_constant="add"))
    p = model.predict(survey)
    assert p.outcome == "ltr" and len(p.predicted) == len(survey)
    assert np.allclose(p.unclipped[scorable.to_numpy()], want.to_numpy(), rtol=0, atol=TOL)
    assert np.array_equal(p.predicted[scorable.to_numpy()], np.clip(want.to_numpy(), 0, 10)) or np.allclose(
        p.predicted[scorable.to_numpy()], np.clip(want.to_numpy(), 0, 10), rtol=0, atol=TOL
    )
    # Rows with a missing pillar cannot be scored by a listwise model: NaN, counted.
    assert p.n_omitted == int((~scorable).sum())
    assert np.isnan(p.predicted[~scorable.to_numpy()]).all()
    assert p.n_clipped == int(((want < 0) | (want > 10)).sum())
    assert model.n == int(ref.nobs)
    assert math.isclose(model.intercept, ref.params["const"], rel_tol=1e-9)
    assert "clipped" in str(p) and str(p.n_omitted) in str(p)


def test_indicator_models_fill_missing_answers_as_the_fit_did(survey: pd.DataFrame) -> None:
    import statsmodels.api as sm

    da = cx.driver_analysis(
        survey, drivers=PILLARS, scales=(1, 10), missing="indicator", indicator_for=["resolution"]
    )
    model = da.model()
    assert model.missing == "indicator"
    ((driver, indicator, _, fill),) = model.indicators
    assert (driver, indicator) == ("resolution", "resolution_missing")
    others = [c for c in PILLARS if c != "resolution"]
    rows = survey[["ltr", *others]].notna().all(axis=1)
    used = survey[rows].astype({p: float for p in PILLARS})
    # The fill value is the mean of the observed answers of the analysed rows.
    assert math.isclose(fill, used["resolution"].mean(), rel_tol=1e-12)
    used["resolution_missing"] = used["resolution"].isna().astype(float)
    used["resolution"] = used["resolution"].fillna(fill)
    x = sm.add_constant(used[[*PILLARS, "resolution_missing"]].astype(float))
    ref = sm.OLS(used["ltr"].astype(float), x).fit()
    p = model.predict(survey)
    assert np.allclose(p.unclipped[rows.to_numpy()], ref.fittedvalues.to_numpy(), rtol=0, atol=TOL)
    assert p.n_filled == int(survey.loc[survey[others].notna().all(axis=1), "resolution"].isna().sum())
    with pytest.raises(ColumnError, match=r"row \d+"):
        model.predict(survey, nan_policy="raise")


@pytest.mark.parametrize("target", ["promoter", "detractor"])
def test_logistic_model_predicts_what_statsmodels_predicts(survey: pd.DataFrame, target: str) -> None:
    import statsmodels.api as sm

    fit = {"promoter": cx.promoter_drivers, "detractor": cx.detractor_drivers}[target]
    model = fit(survey, drivers=PILLARS).model()
    complete = survey[["ltr", *PILLARS]].dropna()
    y = (complete["ltr"] >= 9) if target == "promoter" else (complete["ltr"] <= 6)
    x = sm.add_constant(complete[PILLARS].astype(float))
    ref = sm.GLM(y.astype(float), x, family=sm.families.Binomial()).fit(tol=1e-14)
    scorable = survey[PILLARS].notna().all(axis=1)
    want = ref.predict(sm.add_constant(survey.loc[scorable, PILLARS].astype(float), has_constant="add"))
    p = model.predict_proba(survey)
    # Both fits converge to the same maximum: probabilities agree to 1e-10.
    assert np.allclose(p.probability[scorable.to_numpy()], want.to_numpy(), rtol=0, atol=TOL)
    assert p.n_omitted == int((~scorable).sum()) and p.outcome == target
    assert (model.n, model.n_events) == (len(complete), int(y.sum()))


def test_documents_round_trip_and_hold_no_rows(survey: pd.DataFrame) -> None:
    model = cx.driver_analysis(survey, drivers=PILLARS, scales=(1, 10)).model()
    text = model.to_json()
    doc = json.loads(text)
    assert (doc["model"], doc["version"]) == ("driver", 1)
    assert set(doc) == {
        "model",
        "version",
        "outcome",
        "outcome_scale",
        "intercept",
        "drivers",
        "missing",
        "n",
        "r_squared",
        "sigma",
    }
    back = cx.DriverModel.from_json(text)
    assert back == model and back.to_json() == text
    assert np.array_equal(back.predict(survey).unclipped, model.predict(survey).unclipped, equal_nan=True)
    assert pickle.loads(pickle.dumps(model)) == model
    assert model.to_dict()["drivers"][0]["name"] == "integrity"
    assert "driver model of ltr on 6 drivers" in str(model)
    lm = cx.promoter_drivers(survey, drivers=PILLARS).model()
    assert cx.LogisticModel.from_json(lm.to_json()) == lm
    assert pickle.loads(pickle.dumps(lm)) == lm


@pytest.mark.parametrize("n", [200, 20_000])
def test_a_six_driver_document_is_small_whatever_n(n: int) -> None:
    rng = np.random.default_rng(11)
    drivers = {p: rng.integers(1, 11, n).astype(float) for p in PILLARS}
    ltr = np.clip(np.round(sum(0.2 * v for v in drivers.values()) - 1 + rng.normal(0, 1.5, n)), 0, 10)
    data = {"ltr": ltr, **drivers}
    text = cx.driver_analysis(data, drivers=PILLARS, scales=(1, 10)).model().to_json()
    assert len(text.encode()) < 4096
    lm = cx.promoter_drivers(data, drivers=PILLARS).model().to_json()
    assert len(lm.encode()) < 4096


def test_bad_rows_name_the_driver_and_the_row(survey: pd.DataFrame) -> None:
    model = cx.driver_analysis(survey, drivers=PILLARS, scales=(1, 10)).model()
    rows = survey.dropna(subset=PILLARS).head(5).reset_index(drop=True)
    bad = rows.copy()
    bad.loc[3, "empathy"] = 99
    with pytest.raises(OutOfScaleError, match=r'"empathy": value 99 at row 3'):
        model.predict(bad)
    gap = rows.copy()
    gap.loc[2, "integrity"] = np.nan
    with pytest.raises(ColumnError, match=r'"integrity".*row 2'):
        model.predict(gap, nan_policy="raise")
    assert model.predict(gap).n_omitted == 1
    with pytest.raises(ColumnError, match="empathy"):
        model.predict(rows.drop(columns=["empathy"]))
    # Any table type; other columns are not read.
    from_polars = model.predict(pl.from_pandas(rows[PILLARS]))
    assert np.array_equal(from_polars.predicted, model.predict(rows).predicted)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(version=2), "format version 2"),
        (lambda d: d.update(model="logistic"), '"logistic" model'),
        (lambda d: d["drivers"].append(dict(d["drivers"][0])), "named twice"),
        (lambda d: d.update(rows=[[1, 2], [3, 4]]), "unknown field"),
        (lambda d: d.update(intercept=None), "invalid"),
        (lambda d: d["drivers"][0].update(scale=[10.0, 1.0]), "finite min < max"),
    ],
)
def test_hostile_documents_are_typed_errors(survey: pd.DataFrame, edit: object, message: str) -> None:
    model = cx.driver_analysis(survey, drivers=PILLARS, scales=(1, 10)).model()
    doc = json.loads(model.to_json())
    edit(doc)  # type: ignore[operator]
    with pytest.raises(InvalidStateError, match=message):
        cx.DriverModel.from_json(json.dumps(doc))


def test_documents_that_are_not_models_are_typed_errors(survey: pd.DataFrame) -> None:
    text = cx.promoter_drivers(survey, drivers=PILLARS).model().to_json()
    for bad in ["", "{", text[: len(text) // 2], text.replace("[", "[NaN,", 1), " " * (2 << 20)]:
        with pytest.raises(InvalidStateError):
            cx.LogisticModel.from_json(bad)
    doc = json.loads(text)
    doc["coefficients"] = doc["coefficients"][:-1]
    with pytest.raises(InvalidStateError, match="one coefficient per driver"):
        cx.LogisticModel.from_json(json.dumps(doc))
    with pytest.raises(InvalidStateError, match='"logistic" model'):
        cx.DriverModel.from_json(text)


def test_retention_model_forecasts_the_beta_geometric_curve() -> None:
    from scipy.special import betaln

    fit = cx.sbg([[1000, 631, 468, 382, 326, 289, 262, 241]])
    model = cx.RetentionModel.from_json(cx.RetentionModel.from_fit(fit).to_json())
    t = np.arange(13)
    # S(t) = B(alpha, beta + t) / B(alpha, beta), by scipy (relative 1e-12).
    want = np.exp(betaln(model.alpha, model.beta + t) - betaln(model.alpha, model.beta))
    assert np.allclose(model.survival_curve(12), want, rtol=1e-12, atol=0)
    assert np.array_equal(model.survival_curve(12), fit.survival(12))
    assert np.allclose(model.retention_curve(12), want[1:] / want[:-1], rtol=1e-12)
    # The lifetime value is the core's sBG CLV of the same parameters, to the bit.
    for horizon, timing in [(None, "start"), (24, "end")]:
        ref = cx.clv(
            "sbg", fit=fit, time_unit="month", margin=50.0, discount_rate=0.01, horizon=horizon, timing=timing
        )
        got = model.clv(50.0, 0.01, time_unit="month", horizon=horizon, timing=timing)  # type: ignore[arg-type]
        assert got == ref.value


def test_clv_model_forecasts_as_the_fits() -> None:
    cdnow = pd.read_csv(cx.datasets.__file__.replace("datasets.py", "data/cdnow_summary.csv"))
    x, tx, big_t, spend = (cdnow[c].to_numpy(float) for c in cdnow.columns[1:5])
    purchases = cx.bgnbd(cdnow)
    gg = cx.gamma_gamma(cdnow)
    model = cx.ClvModel.from_json(cx.ClvModel.from_fits(purchases, gg).to_json())
    r, alpha, a, b = model.bgnbd
    # P(alive | x, t_x, T) of Fader, Hardie & Lee (2005), written out with numpy (relative 1e-12).
    with np.errstate(divide="ignore"):
        odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + tx)) ** (r + x)
    want = np.where(x > 0, 1 / (1 + odds), 1.0)
    assert np.allclose(model.p_alive(x, tx, big_t), want, rtol=1e-12, atol=0)
    # Hardie's spreadsheet: E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 (three decimals published).
    assert abs(model.expected_purchases(39, [2], [30.43], [38.86])[0] - 1.226) < 1e-3
    p, q, g = model.gamma_gamma or (0, 0, 0)
    m = np.where(x > 0, spend, 0.0)
    want_spend = np.where(x > 0, p * (g + x * m) / (p * x + q - 1), p * g / (q - 1))
    assert np.allclose(model.expected_spend(x, m), want_spend, rtol=1e-12)
    values = model.clv(x, tx, big_t, m, margin=0.3, discount_rate=0.01, horizon=12)
    assert values.shape == x.shape and (values >= 0).all()
    ref = cx.clv(
        "bgnbd",
        fit=purchases,
        spend=gg,
        data=cdnow.assign(monetary=m),
        time_unit="week",
        margin=0.3,
        discount_rate=0.01,
        horizon=12,
        timing="end",
    )
    assert np.array_equal(values, np.asarray(ref.values))
