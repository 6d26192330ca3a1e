"""PillarTally, the mergeable state of pillar summaries: folded in parts and merged, it gives the
summaries of ``cx.pillar_summary`` (counts exactly, every other figure to 1e-12 relative: the same
sums in another order), which are themselves checked against numpy, scipy and statsmodels; the merged
result has no per-respondent scores and says so."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from _same import assert_same
from test_pillar_summary import SUMS, T_QUANTILE, WILSON, reference

import cx_metrics as cx
from cx_metrics.exceptions import (
    ColumnError,
    IncompatibleError,
    InvalidArgumentError,
    InvalidStateError,
    InvalidWeightError,
    UndefinedError,
)


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


def folded_in_parts(scores: pd.DataFrame, weights: np.ndarray | None, parts: int) -> cx.PillarTally:
    tallies = []
    for rows in np.array_split(np.arange(len(scores)), parts):
        t = cx.PillarTally(list(scores.columns), scale=(1, 10))
        t.fold(scores.iloc[rows].reset_index(drop=True), None if weights is None else weights[rows])
        tallies.append(cx.PillarTally.from_bytes(t.to_bytes()))
    return sum(tallies[1:], tallies[0])


@pytest.mark.parametrize("weighted", [False, True])
def test_merged_parts_equal_the_in_memory_summary(survey: pd.DataFrame, weighted: bool) -> None:
    weights = survey["weight"].to_numpy() if weighted else None
    memory = cx.pillar_summary(survey, weights=weights, confidence_level=0.9)
    merged = folded_in_parts(memory.scores, weights, 5).result(confidence_level=0.9)
    assert merged.n_respondents == memory.n_respondents == len(survey)
    assert merged.n_unscored == memory.n_unscored
    assert merged.weighted == weighted
    got, want = merged.to_dict(), memory.to_dict()
    assert_same(got["summaries"], want["summaries"])
    # ... and against the independent reference of every pillar (numpy, scipy t, statsmodels Wilson).
    w = np.ones(len(survey)) if weights is None else weights
    for _, row in merged.table.iterrows():
        ref = reference(survey[row["pillar"]].to_numpy(dtype=float, na_value=np.nan), w, 9.0, 0.9, (1, 10))
        assert row["n"] == ref["n"]
        for key in ("effective_n", "estimate", "sd", "top_box_share"):
            assert row[key] == pytest.approx(ref[key], rel=SUMS), key
        for key in ("top_box_ci_low", "top_box_ci_high"):
            assert row[key] == pytest.approx(ref[key], rel=WILSON, abs=WILSON), key
        for key in ("ci_low", "ci_high"):
            assert row[key] == pytest.approx(ref[key], rel=T_QUANTILE), key


def test_merged_summary_has_no_scores_and_says_so(survey: pd.DataFrame) -> None:
    memory = cx.pillar_summary(survey)
    merged = folded_in_parts(memory.scores, None, 3).result()
    assert isinstance(merged, cx.pillars.MergedPillarSummary) and isinstance(merged, cx.PillarSummary)
    assert merged.has_scores is False
    with pytest.raises(UndefinedError, match="summaries only"):
        merged.scores  # noqa: B018
    assert "scores" not in merged.to_dict() and "scores" in memory.to_dict()
    again = cx.pillars.MergedPillarSummary.from_json(merged.to_json())
    assert again.to_dict() == merged.to_dict()
    assert pickle.loads(pickle.dumps(merged)).to_dict() == merged.to_dict()
    assert str(merged).splitlines()[2:] == str(memory).splitlines()[2:]


def test_state_round_trips_and_sums() -> None:
    t = cx.PillarTally(["empathy", cx.Pillar.INTEGRITY], scale=(1, 5), top_box=1, direction="lower_is_better")
    assert t.pillars == (cx.Pillar.INTEGRITY, cx.Pillar.EMPATHY)
    assert (t.scale, t.top_box, t.direction) == ((1, 5), 1, "lower_is_better")
    t.fold({"integrity": [1.0, 2.5, np.nan], "empathy": [1.0, 1.0, 4.0]}, weights=[1.0, 2.0, 0.0])
    assert t.n == 3
    for copy in (
        pickle.loads(pickle.dumps(t)),
        cx.PillarTally.from_bytes(t.to_bytes()),
        cx.PillarTally.from_json(t.to_json()),
    ):
        assert copy == t
    rows = t.result().table.set_index("pillar")
    # Lower is better with a top box of one point: the share of scores equal to 1.
    assert rows.loc["integrity", "top_box_share"] == pytest.approx(1 / 3, rel=1e-15)
    assert rows.loc["integrity", "n_unscored"] == 1
    assert rows.loc["empathy", ["n", "n_zero_weight"]].tolist() == [2, 1]
    assert sum([t, t]).n == 6


def test_bad_input_is_a_typed_error_and_changes_nothing() -> None:
    t = cx.PillarTally(["integrity", "empathy"], scale=(1, 5))
    t.fold({"integrity": [5.0], "empathy": [4.0]})
    before = t.to_bytes()
    with pytest.raises(ColumnError, match=r"integrity.*row 1.*off the scale"):
        t.fold({"integrity": [5.0, 6.0], "empathy": [4.0, 4.0]})
    with pytest.raises(ColumnError, match="empathy"):
        t.fold({"integrity": [5.0]})
    with pytest.raises(InvalidArgumentError, match="resolution"):
        t.fold({"integrity": [5.0], "empathy": [4.0], "resolution": [1.0]})
    with pytest.raises(InvalidWeightError):
        t.fold({"integrity": [5.0], "empathy": [4.0]}, weights=[-1.0])
    assert t.to_bytes() == before
    with pytest.raises(IncompatibleError):
        t.merge(cx.PillarTally(["integrity", "empathy"], scale=(1, 5), top_box=1))
    with pytest.raises(InvalidArgumentError, match="top_box"):
        cx.PillarTally(["integrity"], scale=(1, 5), top_box=5)
    with pytest.raises(InvalidArgumentError, match=r"loyalty.*expected one of"):
        cx.PillarTally(["loyalty"])
    with pytest.raises(InvalidStateError):
        cx.PillarTally.from_bytes(cx.contact_center.HandlingTally(["talk"]).to_bytes())
    with pytest.raises(InvalidStateError):
        cx.PillarTally.from_bytes(before[:-3])
