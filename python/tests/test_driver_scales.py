"""Declared scales and missing codes of the driver layer: out-of-scale values are typed errors naming
the column, the row and the value; declared codes are missing values handled by ``missing=``; the
what-if refuses an outcome that is not the 0-10 recommendation score; ``always=`` takes a column of
the data that is not a driver, with relaimpo's semantics."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import VALIDATION, load_vectors

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, InvalidArgumentError, OutOfRangeError, OutOfScaleError

# Least squares against statsmodels on the same rows: both solve the same problem by QR; agreement
# to 1e-8 relative leaves room for the conditioning of a 1,000-row design.
TOL = 1e-8


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


def with_codes(survey: pd.DataFrame, column: str, n: int, code: float = 99, seed: int = 1) -> pd.DataFrame:
    """The survey with ``n`` answered values of ``column`` replaced by ``code`` (a "don't know")."""
    d = survey.copy()
    rng = np.random.default_rng(seed)
    answered = np.flatnonzero(d[column].notna().to_numpy())
    rows = np.sort(rng.choice(answered, n, replace=False))
    d.loc[d.index[rows], column] = code
    return d


def is_code(column: pd.Series, code: float = 99) -> np.ndarray:
    """Where a (nullable) column holds ``code``."""
    return (column == code).fillna(False).to_numpy(dtype=bool)


def test_a_dont_know_code_in_a_pillar_names_column_row_and_value(survey: pd.DataFrame) -> None:
    d = with_codes(survey, "empathy", 300)
    first = int(np.flatnonzero(is_code(d["empathy"]))[0])
    with pytest.raises(OutOfScaleError) as e:
        cx.pillar_driver_analysis(d)
    msg = str(e.value)
    assert '"empathy"' in msg and f"row {first}" in msg and "value 99" in msg
    assert "missing_codes" in msg and "don't know" in msg
    # Still an out-of-range error and a column error, for code that catches either.
    assert isinstance(e.value, OutOfRangeError) and isinstance(e.value, ColumnError)


def test_the_code_left_unchecked_is_what_collapsed_the_share(survey: pd.DataFrame) -> None:
    # Without the check (scales=None) the 99s act as ratings and empathy's share collapses; that is
    # the silent loss the check prevents. Declared missing, the share is that of the rows without them.
    d = with_codes(survey, "empathy", 300)
    unchecked = cx.pillar_driver_analysis(d, scales=None).importance["lmg_share"]["empathy"]
    declared = cx.pillar_driver_analysis(d, missing_codes=[99]).importance["lmg_share"]["empathy"]
    manual = d.assign(empathy=d["empathy"].replace(99, np.nan))
    reference = cx.pillar_driver_analysis(manual).importance["lmg_share"]["empathy"]
    assert unchecked < 0.01
    assert declared == pytest.approx(reference, rel=1e-12)
    assert declared > 0.05


def test_driver_analysis_without_scales_refuses_the_code_too(survey: pd.DataFrame) -> None:
    # 300 Empathy answers coded 99 through the general entry point, no scale declared: refused by the
    # "don't know" code check (the share fell from 13.5 % to 0.1 % before), not fitted as ratings.
    d = with_codes(survey, "empathy", 300)
    first = int(np.flatnonzero(is_code(d["empathy"]))[0])
    with pytest.raises(
        OutOfScaleError, match=rf'"empathy": value 99 at row {first} is outside its scale 1..=10'
    ):
        cx.driver_analysis(d, drivers=cx.PILLARS)
    for call in (cx.promoter_drivers, cx.detractor_drivers):
        with pytest.raises(OutOfScaleError, match='"empathy"'):
            call(d, drivers=cx.PILLARS)
    # Declared missing: the analysis of the rows without them (as the pillar entry point gives).
    declared = cx.driver_analysis(d, drivers=cx.PILLARS, missing_codes={"empathy": [99]})
    manual = cx.driver_analysis(d.assign(empathy=d["empathy"].replace(99, np.nan)), drivers=cx.PILLARS)
    assert declared.importance["lmg_share"]["empathy"] == pytest.approx(
        manual.importance["lmg_share"]["empathy"], rel=1e-12
    )
    # scales=None checks nothing (the collapse is then the user's explicit choice).
    unchecked = cx.driver_analysis(d, drivers=cx.PILLARS, scales=None)
    assert unchecked.importance["lmg_share"]["empathy"] < 0.01
    # A count that runs past 10 and a continuous measure are not ratings: never refused.
    rng = np.random.default_rng(3)
    other = survey.assign(contacts=rng.poisson(4.0, len(survey)) * 3, spend=rng.gamma(2.0, 50.0, len(survey)))
    cx.driver_analysis(other, drivers=["integrity", "contacts", "spend"])
    with pytest.raises(InvalidArgumentError, match="scales"):
        cx.driver_analysis(survey, drivers=cx.PILLARS, scales="none")  # type: ignore[arg-type]


def test_an_outcome_of_11_is_refused(survey: pd.DataFrame) -> None:
    d = survey.copy()
    d.loc[d.index[7], "ltr"] = 11
    with pytest.raises(OutOfScaleError, match=r'"ltr": value 11 at row 7 is outside its scale 0..=10'):
        cx.driver_analysis(d, drivers=["integrity", "empathy"])
    with pytest.raises(OutOfScaleError, match='"ltr"'):
        cx.pillar_driver_analysis(d)


def test_declared_codes_equal_missing_values_against_statsmodels(survey: pd.DataFrame) -> None:
    d = with_codes(survey, "time_and_effort", 250, code=-9)
    d.loc[d.index[[3, 40, 41]], "ltr"] = -1
    drivers = ["integrity", "time_and_effort", "empathy"]
    r = cx.driver_analysis(
        d, drivers=drivers, scales=(1, 10), missing_codes={"time_and_effort": [-9], "ltr": [-1]}
    )
    # Reference: pandas turns the codes into NaN, drops incomplete rows, statsmodels fits OLS.
    clean = d.assign(
        time_and_effort=d["time_and_effort"].replace(-9, np.nan), ltr=d["ltr"].replace(-1, np.nan)
    )
    rows = clean[["ltr", *drivers]].dropna()
    ref = sm.OLS(rows["ltr"], sm.add_constant(rows[drivers])).fit()
    assert r.n == len(rows) and r.n_omitted == len(d) - len(rows)
    assert r.declared_missing == {"ltr": 3, "time_and_effort": 250}
    for term in drivers:
        assert r.coefficients.loc[term, "estimate"] == pytest.approx(ref.params[term], rel=TOL)
        assert r.coefficients.loc[term, "std_error"] == pytest.approx(ref.bse[term], rel=TOL)
    assert r.r_squared == pytest.approx(ref.rsquared, rel=TOL)
    assert "time_and_effort 250" in str(r) and "declared missing" in str(r)


def test_declared_codes_go_to_the_indicator_method_and_are_counted(survey: pd.DataFrame) -> None:
    d = with_codes(survey, "resolution", 200)
    r = cx.pillar_driver_analysis(d, missing="indicator", indicator_for=["resolution"], missing_codes=[99])
    assert r.declared_missing["resolution"] == 200
    filled = next(w for w in r.warnings if w.kind == "missing_indicator")
    # The analysed rows: ltr and the other pillars present; resolution missing or coded there.
    others = [p for p in cx.PILLARS if p != "resolution"]
    analysed = d[d[["ltr", *others]].notna().all(axis=1)]
    expected = int((analysed["resolution"].isna().to_numpy() | is_code(analysed["resolution"])).sum())
    assert filled.details["n_missing"] == expected
    assert r.n == len(analysed)
    observed = analysed["resolution"][
        analysed["resolution"].notna().to_numpy() & ~is_code(analysed["resolution"])
    ]
    assert filled.details["fill_value"] == pytest.approx(observed.mean(), rel=1e-12)


def test_scales_per_driver_and_their_errors(survey: pd.DataFrame) -> None:
    d = survey.copy()
    d.loc[d.index[5], "integrity"] = 0
    with pytest.raises(OutOfScaleError, match=r'"integrity": value 0 at row 5 is outside its scale 1..=10'):
        cx.driver_analysis(d, drivers=["integrity", "empathy"], scales={"integrity": (1, 10)})
    # Only the drivers named are checked.
    r = cx.driver_analysis(d, drivers=["integrity", "empathy"], scales={"empathy": (1, 10)})
    assert r.n > 0
    with pytest.raises(ColumnError, match="nope"):
        cx.driver_analysis(survey, drivers=["integrity"], scales={"nope": (1, 10)})
    with pytest.raises(InvalidArgumentError, match="scales"):
        cx.driver_analysis(survey, drivers=["integrity"], scales=(10, 1))
    with pytest.raises(InvalidArgumentError, match="missing_codes"):
        cx.driver_analysis(survey, drivers=["integrity"], missing_codes="99")  # type: ignore[arg-type]


def test_outcome_scale_declared_or_unchecked(survey: pd.DataFrame) -> None:
    # csat is on 1-5; declared, a 6 is an error; an outcome other than ltr is unchecked by default.
    d = survey.copy()
    d.loc[d.index[2], "csat"] = 6
    with pytest.raises(OutOfScaleError, match=r'"csat": value 6 at row 2'):
        cx.driver_analysis(d, outcome="csat", drivers=["integrity"], outcome_scale=(1, 5))
    assert cx.driver_analysis(d, outcome="csat", drivers=["integrity"]).outcome_scale is None
    e = survey.copy()
    e.loc[e.index[0], "ltr"] = 12
    assert cx.driver_analysis(e, drivers=["integrity"], outcome_scale=None).n > 0


def test_by_segment_checks_the_whole_input_naming_the_row_there(survey: pd.DataFrame) -> None:
    d = with_codes(survey, "integrity", 5)
    first = int(np.flatnonzero(is_code(d["integrity"]))[0])
    with pytest.raises(OutOfScaleError, match=f"row {first} "):
        cx.pillar_driver_analysis(d, by="segment")
    res = cx.pillar_driver_analysis(d, by="segment", missing_codes={"integrity": [99]})
    assert sum(res[g].declared_missing["integrity"] for g in res) == 5


def test_what_if_refuses_an_outcome_that_is_not_the_recommendation_score(survey: pd.DataFrame) -> None:
    csat = cx.driver_analysis(survey, outcome="csat", drivers=["integrity", "time_and_effort"])
    with pytest.raises(InvalidArgumentError, match=r"recommendation score.*has no declared scale"):
        csat.what_if({"time_and_effort": 1}, scale=(1, 10))
    declared = cx.driver_analysis(
        survey, outcome="csat", drivers=["integrity", "time_and_effort"], outcome_scale=(1, 5)
    )
    with pytest.raises(InvalidArgumentError, match=r"declared on 1..=5"):
        declared.what_if({"time_and_effort": 1}, scale=(1, 10))
    # A recommendation score under another name, declared on 0-10, is simulated.
    renamed = survey.rename(columns={"ltr": "recommend"})
    r = cx.driver_analysis(renamed, outcome="recommend", drivers=["time_and_effort"], outcome_scale=(0, 10))
    base = cx.driver_analysis(survey, drivers=["time_and_effort"])
    a = r.what_if({"time_and_effort": 1}, scale=(1, 10))
    b = base.what_if({"time_and_effort": 1}, scale=(1, 10))
    assert (a.baseline, a.simulated, a.n) == (b.baseline, b.simulated, b.n)


def test_what_if_and_promoter_models_refuse_pairwise(survey: pd.DataFrame) -> None:
    r = cx.pillar_driver_analysis(survey, missing="pairwise")
    with pytest.raises(InvalidArgumentError, match="pairwise"):
        r.what_if({"time_and_effort": 1}, scale=(1, 10))
    with pytest.raises(InvalidArgumentError, match="pairwise"):
        cx.promoter_drivers(survey, drivers=cx.PILLARS, missing="pairwise")


def test_promoter_model_checks_scales_and_codes(survey: pd.DataFrame) -> None:
    d = with_codes(survey, "empathy", 100)
    with pytest.raises(OutOfScaleError, match='"empathy"'):
        cx.detractor_drivers(d, drivers=cx.PILLARS, scales=(1, 10))
    m = cx.detractor_drivers(d, drivers=cx.PILLARS, scales=(1, 10), missing_codes=[99])
    clean = d.assign(empathy=d["empathy"].replace(99, np.nan))
    ref = cx.detractor_drivers(clean, drivers=cx.PILLARS)
    assert (m.n, m.n_omitted) == (ref.n, ref.n_omitted)
    assert m.coefficients["estimate"].to_numpy() == pytest.approx(
        ref.coefficients["estimate"].to_numpy(), rel=1e-12
    )


# ----- always= a column that is not a driver (relaimpo's `always`) ----------------------------------


def test_always_column_outside_drivers_matches_relaimpo_semantics() -> None:
    relimp = load_vectors("relimp_swiss.json")
    swiss = pd.read_csv(VALIDATION / "swiss.csv")
    order = relimp["subset_bit_order"]
    r2 = {int(k): float(v) for k, v in relimp["subset_r_squared_bitmask"].items()}
    ranked = [d for d in order if d != "Agriculture"]
    always_bit = 1 << order.index("Agriculture")

    # relaimpo's always: Agriculture is in every subset; the value of a subset S of the ranked
    # drivers is R²(S + Agriculture) - R²(Agriculture), and LMG is its Shapley value.
    def value(subset: tuple[str, ...]) -> float:
        mask = always_bit | sum(1 << order.index(d) for d in subset)
        return r2[mask] - r2[always_bit]

    p = len(ranked)
    shapley = {}
    for d in ranked:
        rest = [e for e in ranked if e != d]
        total = 0.0
        for k in range(p):
            for s in itertools.combinations(rest, k):
                weight = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
                total += weight * (value((*s, d)) - value(s))
        shapley[d] = total
    r = cx.driver_analysis(swiss, outcome="Fertility", drivers=ranked, always=["Agriculture"])
    assert r.drivers == (*ranked, "Agriculture")
    assert r.units == tuple(ranked) and "Agriculture" in r.always
    assert r.r_squared_always == pytest.approx(r2[always_bit], rel=1e-10)
    assert r.r_squared == pytest.approx(relimp["r_squared"], rel=1e-10)
    for d in ranked:
        assert r.importance.loc[d, "lmg"] == pytest.approx(shapley[d], rel=1e-10)
    assert sum(r.importance["lmg"]) == pytest.approx(r.r_squared - r.r_squared_always, rel=1e-10)
    # The same as naming it among the drivers too.
    both = cx.driver_analysis(
        swiss, outcome="Fertility", drivers=[*ranked, "Agriculture"], always=["Agriculture"]
    )
    assert both.importance["lmg"].to_numpy() == pytest.approx(r.importance["lmg"].to_numpy(), rel=1e-12)
    # A name that is no column at all is still an error naming it.
    with pytest.raises(ColumnError, match="Agricultre"):
        cx.driver_analysis(swiss, outcome="Fertility", drivers=ranked, always=["Agricultre"])


def test_an_always_column_is_not_checked_on_the_drivers_scale(survey: pd.DataFrame) -> None:
    # The pillars' 1-10 check covers the pillars; a covariate added by always= keeps its own values.
    d = survey.assign(tenure=np.linspace(0, 30, len(survey)))
    r = cx.pillar_driver_analysis(d, always=["tenure"])
    assert r.drivers[-1] == "tenure" and "tenure" in r.always and r.units == cx.PILLARS


def test_an_always_column_missing_from_the_data_names_the_data_columns(survey: pd.DataFrame) -> None:
    # The error lists the data's columns (where an always= covariate may come from), not the drivers.
    with pytest.raises(
        ColumnError, match=r'"nonexistent" not found; available columns: respondent_id, wave'
    ) as e:
        cx.driver_analysis(survey, drivers=["integrity", "empathy"], always=["nonexistent"])
    assert "csat" in str(e.value)
