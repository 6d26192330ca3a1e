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
