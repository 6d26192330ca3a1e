"""NPS through Python: tallies, paired comparisons, bootstrap, errors, formatting, GIL-free folding."""

from __future__ import annotations

import json
import math
import pickle
import threading

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import (
    InvalidArgumentError,
    LengthMismatchError,
    NotIntegralError,
    OutOfRangeError,
    UndefinedError,
)

RATINGS = [10, 9, 9, 8, 7, 6, 3, 10, 9, 0]


@pytest.mark.parametrize(
    "values",
    [
        RATINGS,
        tuple(RATINGS),
        np.array(RATINGS, dtype=np.int8),
        np.array(RATINGS, dtype=np.uint64),
        np.array(RATINGS, dtype=np.float32),
        pd.Series([*RATINGS, None], dtype="Int64"),
        pl.Series([*RATINGS, None]),
        pa.chunked_array([RATINGS[:4], [*RATINGS[4:], None]]),
    ],
)
def test_every_input_type_gives_the_same_result(values: object) -> None:
    r = cx.nps(values)
    assert (r.n, r.n_promoters, r.n_passives, r.n_detractors) == (10, 5, 2, 3)
    assert r.score == pytest.approx(0.2, rel=1e-15)


def test_matches_numpy_on_a_large_random_sample() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 11, 2_000_003).astype(np.int16)
    w = rng.uniform(0.2, 2.0, y.size)
    # numpy reference: shares by masks.
    assert cx.nps(y).score == pytest.approx(
        (np.count_nonzero(y >= 9) - np.count_nonzero(y <= 6)) / y.size, rel=1e-12
    )
    assert cx.nps(y, weights=w).score == pytest.approx(
        (w[y >= 9].sum() - w[y <= 6].sum()) / w.sum(), rel=1e-10
    )


def test_tally_merge_pickle_equals_whole() -> None:
    y = np.arange(1000) % 11
    parts = [cx.NpsTally() for _ in range(4)]
    for part, chunk in zip(parts, np.array_split(y, 4), strict=True):
        part.fold(chunk)
    total = pickle.loads(pickle.dumps(parts[0] + parts[1]))
    total.merge(parts[2] + parts[3])
    whole = cx.NpsTally()
    whole.fold(y)
    assert total == whole
    assert total.result() == whole.result() == cx.nps(y)
    assert cx.NpsTally.from_json(whole.to_json()) == whole
    assert "NpsTally(n=1000" in repr(whole)


def test_result_pickles_prints_and_serialises() -> None:
    r = cx.nps(RATINGS)
    assert pickle.loads(pickle.dumps(r)) == r
    assert str(r).startswith("NPS +20.0 (95% CI ")
    assert repr(r).startswith("NpsResult(score=0.2, promoters=0.5, ")
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d and d["ci"]["method"] == "adjusted_wald"
    assert "<table>" in r._repr_html_()


def test_every_method_brackets_the_score() -> None:
    r = cx.nps(RATINGS)
    for method in ("adjusted_wald", "wald", "tango", "dirichlet", "bootstrap"):
        ci = r.ci(0.9, method)  # type: ignore[arg-type]
        assert -1.0 <= ci.low < ci.high <= 1.0, method
        assert ci.method == method and ci.confidence_level == 0.9


def test_bootstrap_from_rows_is_seeded() -> None:
    w = [1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 3.0, 1.0, 1.0, 1.0]
    a = cx.nps_bootstrap_ci(RATINGS, weights=w, n_resamples=500, seed=3)
    b = cx.nps_bootstrap_ci(np.array(RATINGS, dtype=np.int32), weights=w, n_resamples=500, seed=3)
    assert a == b and a.low < cx.nps(RATINGS, weights=w).score < a.high
    with pytest.raises(InvalidArgumentError, match="bootstrap_ci"):
        cx.nps(RATINGS, weights=w).ci(0.95, "bootstrap")


def test_paired_comparison() -> None:
    before = [10, 9, 3, 7, 0, 8, 9, 10, None]
    after = [10, 10, 7, 9, 3, 8, 9, 10, 9]
    c = cx.compare_nps(after, before, paired=True)
    # Reference: per-respondent scores of the 8 complete pairs, mean difference and its SE.
    s = {10: 1, 9: 1, 8: 0, 7: 0, 3: -1, 0: -1}
    d = np.array([s[x] - s[y] for x, y in zip(after[:8], before[:8], strict=True)], dtype=float)
    assert c.difference == pytest.approx(d.mean(), rel=1e-12)
    assert c.method == "paired" and c.ci().contains(c.difference)
    with pytest.raises(LengthMismatchError, match=r"a and b \(paired\): lengths differ \(2 vs 3\)"):
        cx.compare_nps([1, 2], [1, 2, 3], paired=True)
    with pytest.raises(InvalidArgumentError, match="only for paired"):
        cx.compare_nps(RATINGS, RATINGS, weights=[1.0] * 10)


def test_errors_name_position_and_fix() -> None:
    with pytest.raises(OutOfRangeError) as info:
        cx.nps([10, 9, 11])
    assert str(info.value) == (
        "value 11 at position 2 is outside the scale 0..=10; check the column is on this scale, "
        "or recode it first"
    )
    assert isinstance(info.value, ValueError)
    with pytest.raises(NotIntegralError, match=r"value 9\.5 at position 1"):
        cx.nps(np.array([10.0, 9.5]))
    with pytest.raises(InvalidArgumentError, match='invalid method: "wilson"'):
        cx.nps(RATINGS).ci(0.95, "wilson")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="confidence_level"):
        cx.nps(RATINGS).ci(1.0)
    with pytest.raises(InvalidArgumentError, match="margin"):
        cx.nps_sample_size(0.0)
    with pytest.raises(InvalidArgumentError, match="variance"):
        cx.nps_sample_size_two_groups(0.1, variance=2.0)


def test_empty_input_is_undefined() -> None:
    r = cx.nps([None, float("nan")])
    assert r.undefined is not None and r.n == 0 and r.n_omitted == 2 and math.isnan(r.score)
    assert "undefined" in str(r) and r.to_dict()["score"] is None
    with pytest.raises(UndefinedError, match="the estimate is undefined"):
        r.ci()


def test_folding_releases_the_gil() -> None:
    # Folds of large arrays on several threads give the same counts as one fold.
    y = (np.arange(4_000_000) % 11).astype(np.int64)
    tallies = [cx.NpsTally() for _ in range(4)]
    threads = [
        threading.Thread(target=t.fold, args=(chunk,))
        for t, chunk in zip(tallies, np.array_split(y, 4), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = tallies[0] + tallies[1] + tallies[2] + tallies[3]
    assert total.result() == cx.nps(y)


def test_weighted_bootstrap_at_large_n_draws_category_sums() -> None:
    """Every category above 10,000 rows: the resamples are drawn by category sums (constant cost)
    and the percentile interval agrees with the normal interval on the linearised standard error."""
    rng = np.random.default_rng(5)
    n = 300_000
    values = rng.choice([2, 8, 10], size=n, p=[0.25, 0.3, 0.45])
    w = rng.uniform(0.5, 2.0, size=n)
    ci = cx.nps_bootstrap_ci(values, weights=w, n_resamples=4000, seed=1)
    assert ci.method == "bootstrap_category_sums"
    r = cx.nps(values, weights=w)
    z = 1.959963984540054
    se = r.se_linearised
    assert abs(ci.low - (r.score - z * se)) < 0.1 * se
    assert abs(ci.high - (r.score + z * se)) < 0.1 * se
    small = cx.nps_bootstrap_ci(values[:20_000], weights=w[:20_000], n_resamples=100, seed=1)
    assert small.method == "bootstrap"


def test_the_weighted_bootstrap_error_names_the_python_function() -> None:
    r = cx.nps([10, 9, 3, 7], weights=[1.0, 2.0, 0.5, 1.0])
    # It named only the Rust function nps::bootstrap_ci.
    with pytest.raises(cx.exceptions.InvalidArgumentError, match=r"cx\.nps_bootstrap_ci\(values, weights"):
        r.ci(0.95, "bootstrap")
