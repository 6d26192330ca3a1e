"""Folding into one tally from several threads at once is safe: each batch is counted with the GIL
released, then merged into the tally, one merge at a time. The result equals a single-threaded fold
(exactly: the counts are integers and the weights dyadic, so every sum is exact in any order)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import cx_metrics as cx

N_THREADS = 8
N_BATCHES = 64


def _batches(points: tuple[int, int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(N_BATCHES):
        size = int(rng.integers(1, 200_000)) if i % 8 == 0 else int(rng.integers(1, 5_000))
        values = rng.integers(points[0], points[1] + 1, size=size).astype(np.float64)
        values[rng.random(size) < 0.01] = np.nan
        # Dyadic weights (multiples of 1/8 up to 4): sums of them are exact whatever the order.
        weights = rng.integers(0, 33, size=size) / 8.0
        out.append((values, weights))
    return out


TALLIES: list[tuple[str, Any, tuple[int, int]]] = [
    ("nps", cx.NpsTally, (0, 10)),
    ("csat", lambda: cx.CsatTally(5), (1, 5)),
    ("ces2", lambda: cx.CesTally(2), (1, 7)),
    ("ces1", lambda: cx.CesTally(1), (1, 5)),
    ("scale", lambda: cx.ScaleTally(1, 10), (1, 10)),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("name", "make", "points"), TALLIES, ids=[t[0] for t in TALLIES])
def test_eight_threads_folding_into_one_tally_equal_one_thread(
    name: str, make: Any, points: tuple[int, int], weighted: bool
) -> None:
    batches = _batches(points, seed=len(name) + int(weighted))
    shared = make()

    def fold(batch: tuple[np.ndarray, np.ndarray]) -> None:
        values, weights = batch
        shared.fold(values, weights if weighted else None)

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        list(pool.map(fold, batches))
    alone = make()
    for values, weights in batches:
        alone.fold(values, weights if weighted else None)
    assert shared == alone
    assert shared.n == alone.n and shared.n_omitted == alone.n_omitted
    if name == "nps":
        assert shared.result() == alone.result()


def test_eight_threads_folding_into_one_paired_tally_equal_one_thread() -> None:
    rng = np.random.default_rng(3)
    batches = [
        (
            rng.integers(0, 11, size=3_000),
            rng.integers(0, 11, size=3_000),
            rng.integers(0, 9, size=3_000) / 4.0,
        )
        for _ in range(N_BATCHES)
    ]
    shared = cx.PairedNpsTally()
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        list(pool.map(lambda b: shared.fold(*b), batches))
    alone = cx.PairedNpsTally()
    for b in batches:
        alone.fold(*b)
    assert shared == alone
    assert shared.result().difference == alone.result().difference


def test_a_failed_fold_in_one_thread_changes_nothing_for_the_others() -> None:
    rng = np.random.default_rng(4)
    good = [rng.integers(0, 11, size=10_000) for _ in range(32)]
    bad = np.array([10, 11, 9])
    shared = cx.NpsTally()

    def fold(values: np.ndarray) -> str | None:
        try:
            shared.fold(values)
        except cx.exceptions.OutOfRangeError as e:
            return str(e)
        return None

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        errors = list(pool.map(fold, [*good[:16], bad, *good[16:]]))
    assert [e for e in errors if e is not None] == [fold(bad)]
    assert shared.n == 32 * 10_000


def test_reading_while_other_threads_fold() -> None:
    rng = np.random.default_rng(5)
    batches = [rng.integers(0, 11, size=50_000) for _ in range(32)]
    shared = cx.NpsTally()

    def work(i: int) -> int:
        if i % 2:
            shared.fold(batches[i])
            return 0
        # Reading (n, result, bytes) while other threads fold is allowed: it sees a whole number of
        # batches.
        assert shared.n % 50_000 == 0
        return len(shared.to_bytes()) + shared.result().n % 50_000

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        list(pool.map(work, range(32)))
    assert shared.n == 16 * 50_000


def test_eight_threads_folding_into_one_regression_moments_equal_one_thread() -> None:
    # Folding into one RegressionMoments from several threads raised "Already borrowed"; now each
    # batch is folded with the GIL released and merged. Merges in another order round differently,
    # so the figures agree to 1e-12 (relative) and the counts exactly.
    rng = np.random.default_rng(11)
    batches = []
    for _ in range(N_BATCHES):
        size = int(rng.integers(50, 4_000))
        x = rng.normal(size=(size, 3))
        y = 5 + x @ np.array([0.8, 0.3, -0.2]) + rng.normal(size=size)
        cols = {"ltr": y, "a": x[:, 0], "b": x[:, 1], "c": x[:, 2]}
        batches.append((cols, rng.uniform(0.5, 2.0, size)))
    shared = cx.RegressionMoments("ltr", ["a", "b", "c"])
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        list(pool.map(lambda b: shared.fold(b[0], weights=b[1]), batches))
    alone = cx.RegressionMoments("ltr", ["a", "b", "c"])
    for cols, w in batches:
        alone.fold(cols, weights=w)
    assert shared.n == alone.n == sum(len(w) for _, w in batches)
    a = shared.driver_analysis()
    b = alone.driver_analysis()
    np.testing.assert_allclose(
        a.to_pandas()[["estimate", "std_error", "lmg"]],
        b.to_pandas()[["estimate", "std_error", "lmg"]],
        rtol=1e-12,
    )
    np.testing.assert_allclose(a.r_squared, b.r_squared, rtol=1e-12)
