"""Tallies merge like concatenation, pickle, copy and compare by their counts."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cx_metrics as cx

ratings = st.lists(st.one_of(st.integers(1, 7), st.none()), max_size=60)


def tally(values: list[int | None], weights: list[float] | None = None) -> cx.ScaleTally:
    t = cx.ScaleTally(1, 7)
    t.fold(values, weights=weights)
    return t


@settings(max_examples=60, deadline=None)
@given(ratings, ratings, ratings)
def test_merge_is_concatenation_and_associative(
    a: list[int | None], b: list[int | None], c: list[int | None]
) -> None:
    whole = tally(a + b + c)
    left = tally(a) + tally(b)
    left.merge(tally(c))
    right = tally(a) + (tally(b) + tally(c))
    assert left == whole
    assert right == whole
    assert tally(b) + tally(a) == tally(a) + tally(b)
    assert tally(a) + cx.ScaleTally(1, 7) == tally(a)


def test_weighted_merge_matches_weights_of_concatenation() -> None:
    rng = np.random.default_rng(7)
    v = rng.integers(1, 8, 5_000)
    w = rng.uniform(0, 3, 5_000)
    whole = tally(list(v), list(w))
    parts = tally(list(v[:1234]), list(w[:1234])) + tally(list(v[1234:]), list(w[1234:]))
    assert parts.rows() == whole.rows()
    assert parts.weights() == pytest.approx(whole.weights(), rel=1e-12)
    assert parts.effective_n == pytest.approx(whole.effective_n, rel=1e-12)
    assert whole.sum_weights == pytest.approx(w.sum(), rel=1e-12)


def test_pickle_copy_json_round_trip() -> None:
    t = tally([1, 2, 2, None, 7], [1.0, 0.5, 2.0, 1.0, 3.0])
    for back in (
        pickle.loads(pickle.dumps(t)),
        copy.deepcopy(t),
        t.copy(),
        cx.ScaleTally.from_json(t.to_json()),
        cx.ScaleTally.from_bytes(t.to_bytes()),
    ):
        assert isinstance(back, cx.ScaleTally)
        assert back == t
        assert back is not t
        assert back.n == 4 and back.n_omitted == 1
        assert back.weights() == t.weights()
    c = t.copy()
    c.fold([3])
    assert c != t


def test_merge_in_place_leaves_other_untouched() -> None:
    a, b = tally([1, 2]), tally([3])
    a.merge(b)
    assert a.rows() == [1, 1, 1, 0, 0, 0, 0]
    assert b.rows() == [0, 0, 1, 0, 0, 0, 0]
    assert a != b and a != "x"


def test_lower_is_better_is_part_of_the_scale() -> None:
    t = cx.ScaleTally(1, 5, lower_is_better=True)
    assert t.lower_is_better and (t.min, t.max) == (1, 5)
    assert "lower_is_better=True" in repr(t)
    assert pickle.loads(pickle.dumps(t)).lower_is_better


@pytest.mark.parametrize("kind", ["nps", "csat", "ces"])
def test_fold_counts_equals_the_fold_of_the_answers(kind: str) -> None:
    """Counts per value with their sums of weights give the state the answers give (counts exactly,
    sums to rounding); a bad value or contradictory sums change nothing."""
    import json

    import numpy as np

    import cx_metrics as cx
    from cx_metrics.exceptions import InvalidWeightError, NotIntegralError, OutOfRangeError

    rng = np.random.default_rng(11)
    top = {"nps": 10, "csat": 5, "ces": 7}[kind]
    answers = rng.integers(0 if kind == "nps" else 1, top + 1, 5_000).astype(float)
    answers[::97] = np.nan
    w = rng.gamma(2.0, 0.8, answers.size)

    def make() -> object:
        return {"nps": cx.NpsTally, "csat": lambda: cx.CsatTally(5), "ces": lambda: cx.CesTally(2)}[kind]()

    folded, counted, unweighted = make(), make(), make()
    folded.fold(answers, weights=w)
    values = np.unique(answers[~np.isnan(answers)])
    rows = [int((answers == v).sum()) for v in values]
    counted.fold_counts(
        values,
        rows,
        [float(w[answers == v].sum()) for v in values],
        [float((w[answers == v] ** 2).sum()) for v in values],
        omitted=int(np.isnan(answers).sum()),
    )
    assert counted.n == folded.n and counted.n_omitted == folded.n_omitted == 52
    mine, theirs = json.loads(counted.to_json())["state"], json.loads(folded.to_json())["state"]
    assert mine["rows"] == theirs["rows"]
    np.testing.assert_allclose(mine["weight"], theirs["weight"], rtol=1e-12)
    np.testing.assert_allclose(mine["weight_sq"], theirs["weight_sq"], rtol=1e-12)
    unweighted.fold_counts(values, rows, omitted=52)
    plain = make()
    plain.fold(answers)
    assert unweighted == plain  # whole counts: the same state to the bit
    before = unweighted.to_bytes()
    with pytest.raises(OutOfRangeError):
        unweighted.fold_counts([top + 1.0], [3])
    with pytest.raises(NotIntegralError):
        unweighted.fold_counts([2.5], [1])
    with pytest.raises(InvalidWeightError):
        unweighted.fold_counts([2.0], [1], [-1.0], [1.0])
    with pytest.raises(cx.exceptions.InvalidArgumentError, match=r"position 0.*cannot be those of 2 weights"):
        unweighted.fold_counts([2.0], [2], [1.0], [5.0])  # Σw² > (Σw)²: not the sums of two weights
    with pytest.raises(cx.exceptions.InvalidArgumentError):
        unweighted.fold_counts([2.0], [1], [1.0])  # sums of weights without the squares
    assert unweighted.to_bytes() == before
