"""Pillar scores from items and their summaries per group, checked against numpy, scipy and statsmodels.

Tolerances: weighted means, shares, standard deviations and effective sizes are the same sums taken in
another order, so they agree to 1e-12 relative. The Wilson interval is a closed formula: statsmodels'
``proportion_confint(method="wilson")`` at the Kish effective n agrees to 1e-12. The mean's t interval
needs a Student-t quantile at fractional degrees of freedom, from two implementations (statrs in the
core, scipy here): 1e-11 relative (they agree to about 2e-14 on the sample survey).
"""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, InvalidArgumentError

SUMS = 1e-12
WILSON = 1e-12
T_QUANTILE = 1e-11
# The shape of every result by group: label columns named after by, the estimate (the mean), its
# interval and n, then the summary's own columns.
TABLE_COLUMNS = [
    "segment",
    "pillar",
    "estimate",
    "ci_low",
    "ci_high",
    "n",
    "n_unscored",
    "effective_n",
    "sd",
    "top_box_share",
    "top_box_ci_low",
    "top_box_ci_high",
    "n_zero_weight",
]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


def reference(
    x: np.ndarray, w: np.ndarray, top: float, level: float, scale: tuple[int, int]
) -> dict[str, Any]:
    """The summary of one pillar in one group, from its scores and weights (NaN = unscored)."""
    scored = ~np.isnan(x) & (w > 0)
    x, w = x[scored], w[scored]
    total = w.sum()
    n_eff = total**2 / (w**2).sum()
    mean = float((w * x).sum() / total)
    sd = math.sqrt(float((w * (x - mean) ** 2).sum() / (total * (1 - 1 / n_eff))))
    half = stats.t.ppf(0.5 + level / 2, n_eff - 1) * sd / math.sqrt(n_eff)
    share = float(w[x >= top].sum() / total)
    low, high = proportion_confint(share * n_eff, n_eff, alpha=1 - level, method="wilson")
    return {
        "n": int(scored.sum()),
        "effective_n": n_eff,
        "estimate": mean,
        "sd": sd,
        "ci_low": max(scale[0], mean - half),
        "ci_high": min(scale[1], mean + half),
        "top_box_share": share,
        "top_box_ci_low": low,
        "top_box_ci_high": high,
    }


@pytest.mark.parametrize("weighted", [False, True])
def test_summaries_match_numpy_scipy_and_statsmodels(survey: pd.DataFrame, weighted: bool) -> None:
    s = cx.pillar_summary(survey, by="segment", weights="weight" if weighted else None, confidence_level=0.9)
    table = s.table
    assert list(table.columns) == TABLE_COLUMNS
    assert len(table) == 4 * 6
    w_all = survey["weight"].to_numpy() if weighted else np.ones(len(survey))
    for _, row in table.iterrows():
        rows = (survey["segment"] == row["segment"]).to_numpy()
        x = survey.loc[rows, row["pillar"]].to_numpy(dtype=float, na_value=np.nan)
        ref = reference(x, w_all[rows], 9.0, 0.9, (1, 10))
        assert row["n"] == ref["n"]
        assert row["n_unscored"] == int(np.isnan(x).sum())
        for key in ("effective_n", "estimate", "sd", "top_box_share"):
            assert row[key] == pytest.approx(ref[key], rel=SUMS), key
        for key in ("top_box_ci_low", "top_box_ci_high"):
            assert row[key] == pytest.approx(ref[key], rel=WILSON, abs=WILSON), key
        for key in ("ci_low", "ci_high"):
            assert row[key] == pytest.approx(ref[key], rel=T_QUANTILE), key
    assert s.weighted == weighted and s.n_respondents == len(survey)


def test_items_are_averaged_per_respondent_with_the_minimum_answered_rule() -> None:
    rng = np.random.default_rng(3)
    n = 300
    items = {f"trust_{k}": rng.integers(1, 8, n).astype(float) for k in range(3)}
    items["easy"] = rng.integers(1, 8, n).astype(float)
    for col in items.values():
        col[rng.random(n) < 0.3] = np.nan
    weights = rng.uniform(0.2, 3.0, n)
    mapping = {
        "trust_0": "integrity",
        "trust_1": cx.Pillar.INTEGRITY,
        "trust_2": "integrity",
        "easy": "empathy",
    }
    s = cx.pillar_summary(
        {**items, "w": weights}, mapping, scale=(1, 7), weights="w", min_answered=2, top_box=1
    )
    trust = np.column_stack([items[f"trust_{k}"] for k in range(3)])
    answered = (~np.isnan(trust)).sum(axis=1)
    enough = np.where(answered[:, None] >= 2, trust, 0.0)
    sums = np.nansum(enough, axis=1)
    expected = np.where(answered >= 2, sums / np.maximum(answered, 1), np.nan)
    scores = s.scores
    assert list(scores.columns) == ["integrity", "empathy"]
    np.testing.assert_allclose(scores["integrity"], expected, rtol=SUMS, equal_nan=True)
    # A pillar with one item: min(min_answered, 1) = 1 answer suffices.
    np.testing.assert_array_equal(scores["empathy"], items["easy"])
    assert s.n_unscored == {
        "integrity": int((answered < 2).sum()),
        "empathy": int(np.isnan(items["easy"]).sum()),
    }
    row = s.table.set_index("pillar").loc["integrity"]
    ref = reference(expected, weights, 7.0, 0.95, (1, 7))
    assert row["estimate"] == pytest.approx(ref["estimate"], rel=SUMS)
    assert row["top_box_share"] == pytest.approx(ref["top_box_share"], rel=SUMS)
    assert s.top_box_threshold == 7.0 and s.groups == ("all",) and s.by is None
    assert s.items == {
        "trust_0": "integrity",
        "trust_1": "integrity",
        "trust_2": "integrity",
        "easy": "empathy",
    }


def test_default_items_are_the_six_pillar_columns(survey: pd.DataFrame) -> None:
    s = cx.pillar_summary(survey)
    assert s.pillars == tuple(cx.Pillar) and list(s.scores.columns) == list(cx.PILLARS)
    pd.testing.assert_frame_equal(
        s.scores, survey[list(cx.PILLARS)].astype("float64"), check_dtype=True, check_names=False
    )
    assert s.n_unscored["resolution"] == int(survey["resolution"].isna().sum())
    assert s.table["group"].tolist() == ["all"] * 6
    indexed = survey.set_index("respondent_id")
    assert list(cx.pillar_summary(indexed).scores.index) == list(indexed.index)
    with pytest.raises(ColumnError, match="empathy"):
        cx.pillar_summary(survey.drop(columns="empathy"))
    s = cx.pillar_summary(survey, items=[cx.Pillar.EMPATHY, "integrity"])
    assert [p.id for p in s.pillars] == ["integrity", "empathy"]  # model order


def test_groups_follow_categorical_order_and_missing_labels_come_last() -> None:
    data = pd.DataFrame(
        {
            "integrity": [9, 7, 10, 4, 8, 6, 5],
            "brand": pd.Categorical(["B", "A", None, "B", "A", None, "C"], categories=["C", "B", "A"]),
        }
    )
    with pytest.warns(cx.MissingLabelWarning, match="2 rows have no brand label"):
        s = cx.pillar_summary(data, items=["integrity"], by="brand")
    assert s.groups == ("C", "B", "A", None)
    table = s.table
    assert table["brand"].tolist()[:3] == ["C", "B", "A"] and pd.isna(table["brand"].iloc[3])
    assert table["n"].tolist() == [1, 2, 2, 2]
    missing = table.iloc[3]
    assert missing["estimate"] == 8.0 and missing["top_box_share"] == 0.5
    assert s.to_polars()["brand"].to_list() == ["C", "B", "A", None]
    assert s[None].loc["integrity", "estimate"] == 8.0 and s["C"].loc["integrity", "n"] == 1
    assert "(missing)" in str(s) and "(missing)" in s._repr_html_()


def test_more_than_ten_groups_keep_their_order_and_rows() -> None:
    # Integer labels sort numerically and keep their type ("10" would sort before "2" as text).
    rng = np.random.default_rng(7)
    group = rng.integers(0, 12, 600)
    x = rng.integers(1, 11, 600).astype(float)
    s = cx.pillar_summary({"empathy": x, "g": group}, items=["empathy"], by="g")
    assert s.table["g"].tolist() == list(range(12)) and s.groups == tuple(range(12))
    expected = [x[group == k].mean() for k in range(12)]
    np.testing.assert_allclose(s.table["estimate"], expected, rtol=SUMS)
    assert s.table["n"].tolist() == [int((group == k).sum()) for k in range(12)]


def test_undefined_summaries_are_nan_and_said() -> None:
    data = {"integrity": [9.0, np.nan, np.nan], "empathy": [5.0, 6.0, 7.0], "g": ["a", "b", "b"]}
    s = cx.pillar_summary(data, items=["integrity", "empathy"], by="g")
    table = s.table.set_index(["g", "pillar"])
    b = table.loc[("b", "integrity")]
    assert b["n"] == 0 and b["n_unscored"] == 2
    assert math.isnan(b["estimate"]) and math.isnan(b["top_box_ci_low"])
    a = table.loc[("a", "integrity")]
    assert a["estimate"] == 9.0 and math.isnan(a["sd"]) and math.isnan(a["ci_low"])  # one respondent
    assert not math.isnan(a["top_box_ci_low"])
    html = s._repr_html_()
    assert "b, Integrity: no scored respondent" in html and 'class="cx-warning"' in html
    d = s.to_dict()
    json.dumps(d, allow_nan=False)
    entry = next(r for r in d["summaries"] if r["group"] == "b" and r["pillar"] == "integrity")
    assert entry["mean"] is None and entry["n"] == 0
    assert d["scores"]["integrity"] == [9.0, None, None]
    polars = s.to_polars().filter((pl.col("g") == "b") & (pl.col("pillar") == "integrity"))
    assert polars["estimate"].to_list() == [None]


def test_lower_is_better_moves_the_top_box() -> None:
    data = {"empathy": [1, 2, 3, 4, 5, 5]}
    s = cx.pillar_summary(data, items=["empathy"], scale=(1, 5), top_box=2, direction="lower_is_better")
    assert s.top_box_threshold == 2.0
    assert s.table["top_box_share"].iloc[0] == pytest.approx(2 / 6, rel=SUMS)


def test_bad_input_raises_the_core_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="pillar"):
        cx.pillar_summary({"x": [1, 2]}, items={"x": "trust"})
    with pytest.raises(ColumnError, match="row 1: value 12 at position 1 is outside the scale"):
        cx.pillar_summary({"empathy": [1, 12]}, items=["empathy"])
    with pytest.raises(InvalidArgumentError, match="top_box"):
        cx.pillar_summary({"empathy": [1, 2]}, items=["empathy"], top_box=10)
    with pytest.raises(InvalidArgumentError, match="direction"):
        cx.pillar_summary({"empathy": [1, 2]}, items=["empathy"], direction="up")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="min_answered"):
        cx.pillar_summary({"empathy": [1, 2]}, items=["empathy"], min_answered=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": (1.5, 10)}, "invalid scale: 1.5 is not a whole number"),
        ({"scale": (1, 10, 2)}, "invalid scale: (1, 10, 2); give (min, max), e.g. (1, 10)"),
        ({"scale": "1-10"}, "invalid scale: '1-10'; give (min, max)"),
        ({"top_box": 2.5}, "invalid top_box: 2.5 is not a whole number"),
        ({"top_box": -1}, "invalid top_box: -1 is negative; give a count of at least 1"),
        ({"top_box": True}, "invalid top_box: True; give a whole number"),
        ({"min_answered": -2}, "invalid min_answered: -2 is negative; give a count of at least 1"),
    ],
)
def test_whole_number_options_are_never_truncated(kwargs: dict[str, Any], message: str) -> None:
    # Before: 1.5 and 2.5 were cut to 1 and 2 without a word, a third scale number was ignored, and a
    # negative count failed converting to an unsigned integer (a bare OverflowError).
    data = {"empathy": [1, 5, 7, 10]}
    with pytest.raises(InvalidArgumentError) as info:
        cx.pillar_summary(data, items=["empathy"], **kwargs)
    assert type(info.value) is InvalidArgumentError
    assert message in str(info.value)


def test_whole_floats_are_whole_numbers() -> None:
    data = {"empathy": [1, 5, 7, 10]}
    ref = cx.pillar_summary(data, items=["empathy"], scale=(1, 10), top_box=2)
    same = cx.pillar_summary(data, items=["empathy"], scale=(1.0, 10.0), top_box=2.0)  # type: ignore[arg-type]
    assert same == ref and same.scale == (1, 10) and same.top_box == 2


def test_display_conversion_and_pickle(survey: pd.DataFrame) -> None:
    s = cx.pillar_summary(survey, by="wave", weights="weight")
    text = str(s)
    assert text.startswith(
        "Pillar scores by wave (4 groups): 6 pillars from 6 items on 1-10, n = 2000, weighted"
    )
    assert "Time and Effort" in text and "respondents unscored (no item answered)" in text
    html = s._repr_html_()
    assert "2026-Q3" in html and "95% CI" in html
    pd.testing.assert_frame_equal(s.to_pandas(), s.table)
    assert pl.from_pandas(s.table).equals(s.to_polars())
    back = pickle.loads(pickle.dumps(s))
    assert back == s and back.to_dict() == s.to_dict()
    pd.testing.assert_frame_equal(back.scores, s.scores)
    assert repr(s).startswith("PillarSummary(items={'integrity': 'integrity'")


def test_pillar_driver_analysis_takes_overall_and_covariance() -> None:
    """With ``by``, ``overall=True`` ends with the analysis of all rows, the same as without ``by``;
    ``covariance`` reaches the regression table."""
    import cx_metrics as cx

    survey = cx.datasets.sample_survey()
    whole = cx.pillar_driver_analysis(survey, weights="weight", covariance="HC3")
    by_wave = cx.pillar_driver_analysis(survey, weights="weight", by="wave", overall=True, covariance="HC3")
    assert by_wave.overall is not None
    assert by_wave.overall.r_squared == whole.r_squared and by_wave.overall.n == whole.n
    assert whole.covariance_type == by_wave.overall.covariance_type == "HC3"
    assert cx.pillar_driver_analysis(survey, by="wave").overall is None
