"""Driver analysis through the Python API: reference figures, every input type, every error case."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import VALIDATION, load_vectors

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, InvalidArgumentError, InvalidWeightError, LengthMismatchError

SWISS_DRIVERS = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
# relaimpo / R lm printed 17 significant digits; the validation README sets 1e-10 relative.
TOL = 1e-10


@pytest.fixture(scope="module")
def relimp() -> dict[str, Any]:
    return load_vectors("relimp_swiss.json")


@pytest.fixture(scope="module")
def swiss() -> pd.DataFrame:
    return pd.read_csv(VALIDATION / "swiss.csv")


@pytest.fixture(scope="module")
def swiss_fit(swiss: pd.DataFrame) -> cx.DriverAnalysis:
    return cx.driver_analysis(swiss, outcome="Fertility", drivers=SWISS_DRIVERS)


def close(a: float, b: float, tol: float = TOL) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol * 1e-3)


def test_swiss_regression_matches_r(swiss_fit: cx.DriverAnalysis, relimp: dict[str, Any]) -> None:
    coef = swiss_fit.coefficients
    assert list(coef.index) == ["(Intercept)", *SWISS_DRIVERS]
    for ref in relimp["coefficients"]:
        row = coef.loc[ref["term"]]
        for col in ("estimate", "std_error", "t", "p_value"):
            assert close(row[col], ref[col]), (ref["term"], col, row[col], ref[col])
    for ref in relimp["ci95"]:
        assert close(coef.loc[ref["term"], "ci_low"], ref["low"])
        assert close(coef.loc[ref["term"], "ci_high"], ref["high"])
    assert swiss_fit.n == relimp["n"] == 47
    assert close(swiss_fit.r_squared, relimp["r_squared"])
    assert close(swiss_fit.adj_r_squared, relimp["adj_r_squared"])
    assert close(swiss_fit.f_statistic, relimp["f_statistic"])
    assert close(swiss_fit.sigma, relimp["sigma"])
    for term, v in relimp["vif"].items():
        assert close(swiss_fit.vif[term], v)


def test_swiss_importance_matches_relaimpo(swiss_fit: cx.DriverAnalysis, relimp: dict[str, Any]) -> None:
    imp = swiss_fit.importance
    assert list(imp.index) == SWISS_DRIVERS
    # relaimpo's names for two of the measures differ from ours.
    ours = {"betasq": "beta_squared", "genizi": "johnson"}
    for measure, values in relimp["importance"].items():
        for driver, v in values.items():
            assert close(imp.loc[driver, ours.get(measure, measure)], v), (measure, driver)
    for driver, v in relimp["importance_share"]["lmg"].items():
        assert close(imp.loc[driver, "lmg_share"], v)
    dom = swiss_fit.dominance
    assert dom is not None
    for driver, by_size in relimp["conditional_dominance_by_size"].items():
        for size, v in enumerate(by_size):
            assert close(dom.conditional_by_size.loc[driver, size], v)
    assert swiss_fit.top_driver == "Education"


def test_result_formats(swiss_fit: cx.DriverAnalysis) -> None:
    text = str(swiss_fit)
    assert "Driver analysis of Fertility" in text and "Education" in text and "95% CI" in text
    assert "<table>" in swiss_fit._repr_html_()
    d = swiss_fit.to_dict()
    assert d["n"] == 47 and d["regression"]["coefficients"][0]["term"] == "(Intercept)"
    assert "DriverAnalysis(" in repr(swiss_fit)
    assert json.loads(json.dumps(d)) == d


def _all_inputs(swiss: pd.DataFrame) -> dict[str, tuple[object, dict[str, Any]]]:
    cols = ["Fertility", *SWISS_DRIVERS]
    sub = swiss[cols]
    return {
        "pandas": (sub, {}),
        "polars": (pl.from_pandas(sub), {}),
        "pyarrow": (pa.Table.from_pandas(sub, preserve_index=False), {}),
        "dict_of_lists": ({c: sub[c].tolist() for c in cols}, {}),
        "dict_of_series": ({c: sub[c] for c in cols}, {}),
        "numpy": (sub.to_numpy(), {"columns": cols}),
    }


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow", "dict_of_lists", "dict_of_series", "numpy"])
def test_every_input_type_gives_the_same_result(
    kind: str, swiss: pd.DataFrame, swiss_fit: cx.DriverAnalysis
) -> None:
    data, kw = _all_inputs(swiss)[kind]
    r = cx.driver_analysis(data, outcome="Fertility", drivers=SWISS_DRIVERS, **kw)
    assert r == swiss_fit
    assert r.coefficients.equals(swiss_fit.coefficients)


def test_nullable_and_missing_values_become_nan(swiss: pd.DataFrame) -> None:
    sub = swiss[["Fertility", *SWISS_DRIVERS]].copy()
    sub["Examination"] = sub["Examination"].astype("Int64")
    sub.loc[3, "Examination"] = pd.NA
    r = cx.driver_analysis(sub, outcome="Fertility", drivers=SWISS_DRIVERS)
    assert (r.n, r.n_omitted) == (46, 1)
    with pytest.deprecated_call(match="n_omitted"):
        assert r.n_dropped == r.n_omitted  # the name before n_omitted
    for frame in (pl.from_pandas(sub), pa.Table.from_pandas(sub, preserve_index=False)):
        assert cx.driver_analysis(frame, outcome="Fertility", drivers=SWISS_DRIVERS) == r
    ref = cx.driver_analysis(sub.drop(index=3).astype(float), outcome="Fertility", drivers=SWISS_DRIVERS)
    assert np.allclose(r.coefficients.to_numpy(), ref.coefficients.to_numpy(), rtol=1e-12)


def test_weights_by_name_or_array(swiss: pd.DataFrame) -> None:
    w = np.linspace(0.5, 2.0, len(swiss))
    df = swiss.assign(w=w)
    by_name = cx.driver_analysis(df, outcome="Fertility", drivers=SWISS_DRIVERS, weights="w")
    by_array = cx.driver_analysis(df, outcome="Fertility", drivers=SWISS_DRIVERS, weights=w)
    assert by_name == by_array
    assert by_name.effective_n < 47


def test_unknown_column_lists_the_available_ones(swiss: pd.DataFrame) -> None:
    expected = (
        r'"Educaton" not found \(did you mean "Education"\? names are case-sensitive\); available columns: .*'
    )
    with pytest.raises(ColumnError, match=expected):
        cx.driver_analysis(swiss, outcome="Fertility", drivers=["Educaton"])
    with pytest.raises(ColumnError, match="not found"):
        cx.driver_analysis(swiss, outcome="Fertility", drivers=SWISS_DRIVERS, weights="nope")


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow", "dict"])
def test_string_column_is_a_bad_column(kind: str, swiss: pd.DataFrame) -> None:
    df = swiss[["Fertility", "Education"]].assign(region=["north", "south"] * 23 + ["east"])
    data: object = {
        "pandas": df,
        "polars": pl.from_pandas(df),
        "pyarrow": pa.Table.from_pandas(df, preserve_index=False),
        "dict": {c: df[c].tolist() for c in df.columns},
    }[kind]
    with pytest.raises(ColumnError, match=r'column "region": holds .* not numbers'):
        cx.driver_analysis(data, outcome="Fertility", drivers=["Education", "region"])


def test_mismatched_lengths() -> None:
    data = {"ltr": [1.0, 2, 3, 4, 5, 6], "ease": [1.0, 2, 3, 4, 5]}
    with pytest.raises(ColumnError, match=r'column "ease": has 5 values'):
        cx.driver_analysis(data, drivers=["ease"])
    with pytest.raises(LengthMismatchError):
        cx.driver_analysis({"ltr": [1.0, 2, 3, 4], "ease": [2.0, 1, 4, 3]}, drivers=["ease"], weights=[1.0])


def test_nan_weights_are_invalid() -> None:
    data = {"ltr": [1.0, 2, 3, 4, 5], "ease": [2.0, 1, 4, 3, 5]}
    with pytest.raises(InvalidWeightError, match="position 2"):
        cx.driver_analysis(data, drivers=["ease"], weights=[1.0, 1, np.nan, 1, 1])


def test_bad_table_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="columns="):
        cx.driver_analysis(np.ones((5, 2)), drivers=["a"])
    with pytest.raises(InvalidArgumentError, match="invalid data"):
        cx.driver_analysis([1, 2, 3], drivers=["a"])
    with pytest.raises(InvalidArgumentError, match="missing"):
        cx.driver_analysis({"ltr": [1.0, 2, 3, 4], "a": [2.0, 1, 4, 3]}, drivers=["a"], missing="drop")  # type: ignore[arg-type]


def test_sample_survey_with_indicator_for_resolution() -> None:
    df = cx.datasets.sample_survey()
    pillars = list(cx.datasets.SAMPLE_SURVEY_PILLARS)
    assert df["resolution"].isna().any()
    r = cx.driver_analysis(
        df, drivers=pillars, weights="weight", missing="indicator", indicator_for=["resolution"]
    )
    assert r.terms == (*pillars, "resolution_missing")
    assert r.always == ("resolution_missing",)
    assert list(r.importance.index) == pillars
    kinds = [w.kind for w in r.warnings]
    assert "missing_indicator" in kinds
    filled = next(w for w in r.warnings if w.kind == "missing_indicator")
    others = ["ltr", *(p for p in pillars if p != "resolution")]
    analysed = df[others].notna().all(axis=1)
    assert filled.details["n_missing"] == int((analysed & df["resolution"].isna()).sum())
    assert r.n_omitted == int((~analysed).sum())
    assert "resolution" in str(r)
    listwise = cx.driver_analysis(df, drivers=pillars, weights="weight")
    assert listwise.n < r.n


def test_pillar_enum_mirrors_the_core() -> None:
    assert cx.PILLARS == (
        "integrity",
        "resolution",
        "expectations",
        "time_and_effort",
        "personalisation",
        "empathy",
    )
    assert [p.id for p in cx.Pillar] == list(cx.PILLARS)
    assert cx.Pillar.TIME_AND_EFFORT.name == "Time and Effort"
    assert [p.group for p in cx.Pillar] == ["foundation"] * 2 + ["intermediate"] * 2 + ["distinguishing"] * 2
    assert all(len(p.description) > 40 for p in cx.Pillar)
    assert cx.Pillar("empathy") is cx.Pillar.EMPATHY


def test_pillar_preset_equals_naming_the_pillars() -> None:
    df = cx.datasets.sample_survey()
    preset = cx.pillar_driver_analysis(df, weights="weight")
    assert preset == cx.driver_analysis(df, drivers=cx.PILLARS, weights="weight")
    assert preset == cx.driver_analysis(df, drivers=list(cx.Pillar), weights="weight")
    assert preset.units == cx.PILLARS


@pytest.mark.parametrize("target", ["promoter", "detractor"])
def test_nps_models_match_statsmodels(target: str) -> None:
    import statsmodels.api as sm

    df = cx.datasets.sample_survey()
    pillars = list(cx.PILLARS)
    fit = {"promoter": cx.promoter_drivers, "detractor": cx.detractor_drivers}[target]
    m = fit(df, drivers=pillars, weights="weight", weight_kind="frequency")
    complete = df[["ltr", "weight", *pillars]].dropna()
    y = (complete["ltr"] >= 9) if target == "promoter" else (complete["ltr"] <= 6)
    x = sm.add_constant(complete[pillars].astype(float))
    ref = sm.GLM(y.astype(float), x, family=sm.families.Binomial(), freq_weights=complete["weight"]).fit(
        tol=1e-12
    )
    # statsmodels GLM with freq_weights: the same pseudo-ML estimates and frequency-weight SEs (both
    # converged to a relative deviance change below 1e-10, hence the 1e-6 tolerance).
    coef = m.coefficients
    assert np.allclose(coef["estimate"].to_numpy(), ref.params.to_numpy(), rtol=1e-6, atol=1e-9)
    assert np.allclose(coef["std_error"].to_numpy(), ref.bse.to_numpy(), rtol=1e-6)
    assert np.allclose(coef["odds_ratio"].to_numpy(), np.exp(ref.params.to_numpy()), rtol=1e-6)
    ci = np.exp(ref.conf_int(0.05).to_numpy())
    assert np.allclose(coef[["or_ci_low", "or_ci_high"]].to_numpy(), ci, rtol=1e-6)
    assert math.isclose(m.log_likelihood, ref.llf, rel_tol=1e-9)
    assert math.isclose(m.pseudo_r2, 1 - ref.llf / ref.llnull, rel_tol=1e-8)
    assert (m.n, m.n_omitted) == (len(complete), len(df) - len(complete))
    assert m.target == target and target in str(m) and "<table>" in m._repr_html_()
    assert m.to_dict()["outcome"] == target


def test_nps_model_rejects_ratings_off_the_scale() -> None:
    data = {"ltr": [11.0, 9, 3, 7, 8, 9, 6, 10, 2, 8], "ease": [6.0, 7, 2, 5, 6, 4, 3, 5, 1, 7]}
    with pytest.raises(cx.exceptions.OutOfRangeError):
        cx.promoter_drivers(data, drivers=["ease"])


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


def test_bootstrap_runs_on_the_kept_rows(survey: pd.DataFrame) -> None:
    r = cx.pillar_driver_analysis(survey, weights="weight")
    b = r.bootstrap(n_resamples=100, seed=5)
    assert (b.n_resamples, b.seed, b.n) == (100, 5, r.n)
    # The point estimates of the bootstrap are those of the analysis itself.
    assert np.allclose(b.coefficients["estimate"], r.coefficients["estimate"], rtol=1e-9)
    assert np.allclose(b.importance.loc["lmg", "estimate"], r.importance["lmg"], rtol=1e-9)
    lmg = b.importance.loc["lmg"]
    assert (lmg["ci_low"] <= lmg["estimate"]).all() and (lmg["estimate"] <= lmg["ci_high"]).all()
    ranks = b.rank_probabilities
    assert ranks is not None
    assert np.allclose(ranks[list(range(1, 7))].sum(axis=1), 1.0)
    assert b.to_dict() == r.bootstrap(n_resamples=100, seed=5).to_dict()
    assert b.to_dict() != r.bootstrap(n_resamples=100, seed=6).to_dict()
    fresh = r.bootstrap(n_resamples=20)
    assert fresh.to_dict() == r.bootstrap(n_resamples=20, seed=fresh.seed).to_dict()
    assert set(b.differences["measure"]) == {"lmg", "johnson"}
    assert "seed 5" in str(b) and "<table>" in b._repr_html_()


def test_matrix_axes_are_the_analysis_shares_and_the_mean_ratings(survey: pd.DataFrame) -> None:
    r = cx.pillar_driver_analysis(survey, weights="weight")
    m = r.matrix(scale=(1, 10), top_box=2)
    d = m.drivers
    assert np.allclose(d["importance"], r.importance["lmg_share"], rtol=1e-12)
    # Performance on the rows the analysis used (listwise: an outcome and every pillar rated).
    analysed = survey.dropna(subset=["ltr", *cx.PILLARS])
    analysed = analysed[analysed["weight"] > 0]
    assert m.performance_rows == r.n == len(analysed)
    w = analysed["weight"].to_numpy()
    for p in cx.PILLARS:
        x = analysed[p].to_numpy(dtype=float)
        assert math.isclose(d.loc[p, "performance"], np.average(x, weights=w), rel_tol=1e-12)
        assert d.loc[p, "n_missing"] == 0
    assert math.isclose(m.importance_line, float(np.mean(d["importance"])), rel_tol=1e-12)
    important = d["importance"] >= m.importance_line
    performing = d["performance"] >= m.performance_line
    expected = np.select(
        [important & ~performing, important & performing, ~important & ~performing],
        ["fix_first", "keep_it_up", "low_priority"],
        "possible_overkill",
    )
    assert list(d["quadrant"]) == list(expected)
    assert sorted(d["priority"]) == list(range(1, 7))
    top = r.matrix(scale=(1, 10), top_box=2, performance="top_box", importance_cut=0.15)
    x = analysed["integrity"].to_numpy(dtype=float)
    assert math.isclose(
        top.drivers.loc["integrity", "performance"], np.average(x >= 9, weights=w), rel_tol=1e-12
    )
    assert top.importance_line == 0.15
    assert "fix_first" in str(m)


def test_matrix_scale_and_top_box_are_whole_numbers(survey: pd.DataFrame) -> None:
    # The scale reader shared with cx.pillar_summary: a fraction is an error, never cut to an integer.
    r = cx.pillar_driver_analysis(survey)
    with pytest.raises(InvalidArgumentError, match=r"invalid scale: 1\.5 is not a whole number"):
        r.matrix(scale=(1.5, 10))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"invalid scale: \(1, 10, 2\); give \(min, max\)"):
        r.matrix(scale=(1, 10, 2))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="invalid top_box: -1 is negative"):
        r.what_if({"integrity": 1}, scale=(1, 10), top_box=-1)
    with pytest.raises(InvalidArgumentError, match="invalid direction"):
        r.matrix(scale=(1, 10), direction="up")  # type: ignore[arg-type]
    assert r.matrix(scale=(1.0, 10.0)).to_dict() == r.matrix(scale=(1, 10)).to_dict()  # type: ignore[arg-type]


def _latent_score(y: np.ndarray) -> np.ndarray:
    # A simulated answer y stands for a latent answer uniform on [y - 1/2, y + 1/2).
    promoter = np.clip(y + 0.5 - 8.5, 0.0, 1.0)
    detractor = np.clip(6.5 - (y - 0.5), 0.0, 1.0)
    return promoter - detractor


def test_what_if_applies_the_analysis_slopes(survey: pd.DataFrame) -> None:
    drivers = ["time_and_effort", "integrity"]
    r = cx.driver_analysis(survey, drivers=drivers)
    w = r.what_if({"time_and_effort": 1}, scale=(1, 10))
    # Independent reference: ltr' = ltr + b * dx on the complete rows, binned on the latent scale.
    rows = survey[["ltr", *drivers]].dropna()
    y = rows["ltr"].to_numpy(dtype=float)
    x = rows["time_and_effort"].to_numpy(dtype=float)
    dx = np.minimum(x + 1, 10) - x
    b = r.coefficients.loc["time_and_effort", "estimate"]
    base = np.mean(_latent_score(y))
    sim = np.mean(_latent_score(y + b * dx))
    assert (w.n, w.n_omitted) == (len(rows), len(survey) - len(rows))
    assert math.isclose(w.baseline, base, rel_tol=1e-12)
    assert math.isclose(w.simulated, sim, rel_tol=1e-12)
    assert w.scenario.loc["time_and_effort", "n_capped"] == int((x == 10).sum())
    assert math.isclose(w.scenario.loc["time_and_effort", "coefficient"], b, rel_tol=1e-12)
    none = r.what_if({"integrity": 0}, scale=(1, 10))
    assert none.change == 0.0 and none.simulated == none.baseline
    boot = r.what_if({"time_and_effort": 1}, scale=(1, 10), n_resamples=100, seed=2)
    assert boot.interval is not None and boot.interval.contains(boot.change)
    assert boot.seed == 2 and "CI" in str(boot)
    below = r.what_if({"integrity": ("below", 5, 2)}, scale=(1, 10))
    assert below.scenario.loc["integrity", "n_changed"] == int((rows["integrity"] < 5).sum())


def test_method_errors(survey: pd.DataFrame) -> None:
    r = cx.pillar_driver_analysis(survey)
    with pytest.raises(ColumnError, match="nope"):
        r.what_if({"nope": 1}, scale=(1, 10))
    with pytest.raises(InvalidArgumentError, match="invalid shift"):
        r.what_if({"integrity": ("up", 1)}, scale=(1, 10))
    with pytest.raises(InvalidArgumentError, match="n_resamples"):
        r.bootstrap(n_resamples=1, seed=0)
    with pytest.raises(InvalidArgumentError, match="measure"):
        r.matrix(scale=(1, 10), measure="relevance")
    with pytest.raises(cx.exceptions.CxMetricsError):
        r.matrix(scale=(1, 5))


def test_by_segment_equals_the_analysis_of_each_subset(survey: pd.DataFrame) -> None:
    res = cx.pillar_driver_analysis(survey, weights="weight", by="segment")
    assert res.segments == tuple(survey["segment"].unique())
    assert not res.skipped and len(res) == len(res.segments)
    for seg in res:
        sub = survey[survey["segment"] == seg]
        assert res.n_rows[seg] == len(sub)
        assert res[seg] == cx.pillar_driver_analysis(sub, weights="weight")
    first = res.segments[0]
    boot = res[first].bootstrap(n_resamples=20, seed=1)
    assert boot.n == res[first].n
    assert list(res.importance().columns) == list(res.segments)
    by_array = cx.driver_analysis(
        survey, drivers=cx.PILLARS, weights="weight", by=survey["segment"].to_numpy()
    )
    assert by_array.analyses == res.analyses
    for table in (pl.from_pandas(survey), pa.Table.from_pandas(survey, preserve_index=False)):
        assert cx.pillar_driver_analysis(table, weights="weight", by="segment").analyses == res.analyses
    assert "4 analysed" in str(res) and "<table>" in res._repr_html_()


def test_by_segment_reports_skipped_segments() -> None:
    data = {
        "ltr": [9.0, 7, 10, 4, 8, 6, 9, 3, 7, 10, 5, 8],
        "ease": [6.0, 5, 7, 2, 5, 4, 7, 1, 4, 6, 3, 6],
        "channel": ["web"] * 10 + ["store"] * 2,
    }
    res = cx.driver_analysis(data, drivers=["ease"], by="channel")
    assert list(res) == ["web"]
    assert "rows" in res.skipped["store"]
    with pytest.raises(KeyError, match="skipped"):
        res["store"]


def test_results_pickle(survey: pd.DataFrame) -> None:
    import pickle

    r = cx.pillar_driver_analysis(survey)
    back = pickle.loads(pickle.dumps(r))
    assert back == r and back.coefficients.equals(r.coefficients)
    # Rows are never pickled: the restored result says so, and takes the data again.
    with pytest.raises(cx.exceptions.InvalidArgumentError, match=r"with_data"):
        back.bootstrap(n_resamples=10, seed=1)
    again = back.with_data(survey)
    assert again.bootstrap(n_resamples=10, seed=1).to_dict() == r.bootstrap(n_resamples=10, seed=1).to_dict()
    assert pickle.loads(pickle.dumps(cx.Pillar.EMPATHY)) is cx.Pillar.EMPATHY


def test_segment_analyses_from_parts_need_one_label_per_segment() -> None:
    """Merged segment analyses are assembled by the core from analysis objects; labels that do not
    match the segments are an error naming both counts."""
    from cx_metrics import _native

    moments = cx.RegressionMoments("y", ["a"])
    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    moments.fold({"y": 2 * a + rng.normal(size=50), "a": a})
    analysis = moments.driver_analysis()._native
    parts = [("x", 50, analysis, None), ("z", 0, None, "the segment has no rows")]
    both = _native.SegmentAnalyses.of_parts(parts, [["x"], ["z"]], ["seg"])
    assert both.segments == ["x", "z"] and both.skipped == [None, "the segment has no rows"]
    assert both.labels == [("x",), ("z",)]
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="1 labels for 2 segments"):
        _native.SegmentAnalyses.of_parts(parts, [["x"]], ["seg"])
