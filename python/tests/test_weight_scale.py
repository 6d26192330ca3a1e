"""Every weighted NPS, CSAT and CES figure is the same when every weight is multiplied by a constant:
bit for bit for a power of two, to 1e-12 relative for 10^-300 ... 10^300 (each weight is rounded once
when it is scaled; 1e-10 for the bounds found by iteration, the Jeffreys, Clopper-Pearson and
Dirichlet intervals). The reference is the same call with weights near 1, whose figures the other
tests check against numpy, scipy and statsmodels; here also against numpy's weighted shares by hand.
Only ``sum_weights`` follows the unit of the weights."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pytest

import cx_metrics as cx

FACTORS = [2.0**-1000, 2.0**-300, 2.0**300, 2.0**1000, 1e-300, 1e-200, 1e200, 1e300]
RTOL = 1e-12
ITERATIVE_RTOL = 1e-10


def _exact(factor: float) -> bool:
    return math.frexp(factor)[0] == 0.5


def _sample(n: int, lo: int, hi: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.integers(lo, hi + 1, size=n).astype(np.float64)
    values[rng.random(n) < 0.02] = np.nan
    weights = rng.uniform(0.2, 3.0, size=n)
    weights[rng.random(n) < 0.05] = 0.0
    labels = rng.choice(["north", "south", "east"], size=n)
    return values, weights, labels


def _same(what: str, got: float, want: float, factor: float, rtol: float = RTOL) -> None:
    if _exact(factor):
        assert got == want or (math.isnan(got) and math.isnan(want)), f"{what}: {got!r} vs {want!r}"
    else:
        assert got == pytest.approx(want, rel=rtol, abs=rtol), f"{what}: {got!r} vs {want!r}"


def _bounds(a: Any, b: Any) -> list[tuple[float, float]]:
    return [(a.low, b.low), (a.high, b.high)]


def _figures(r: Any, names: list[str]) -> dict[str, float]:
    return {name: float(getattr(r, name)) for name in names}


NPS_FIGURES = ["score", "promoters", "passives", "detractors", "variance", "std_error", "se_linearised",
               "deff", "effective_n"]  # fmt: skip


@pytest.mark.parametrize("factor", FACTORS)
def test_nps_does_not_depend_on_the_unit_of_the_weights(factor: float) -> None:
    v, w, labels = _sample(50_000, 0, 10, 1)
    base = cx.nps(v, weights=w)
    r = cx.nps(v, weights=w * factor)
    # The reference figure by hand with numpy: the weighted shares of promoters and detractors.
    ok = ~np.isnan(v)
    share = lambda mask: np.sum(w[ok & mask]) / np.sum(w[ok])  # noqa: E731
    assert base.score == pytest.approx(share(v >= 9) - share(v <= 6), rel=1e-12)
    for name, want in _figures(base, NPS_FIGURES).items():
        _same(f"nps x {factor:g}: {name}", getattr(r, name), want, factor)
    assert r.sum_weights == pytest.approx(base.sum_weights * factor, rel=RTOL)
    for method in ["wald", "adjusted_wald", "tango", "dirichlet"]:
        rtol = ITERATIVE_RTOL if method == "dirichlet" else RTOL
        for got, want in _bounds(r.ci(0.95, method=method), base.ci(0.95, method=method)):
            _same(f"nps x {factor:g}: {method}", got, want, factor, rtol)
    # Folded in pieces and merged, and through pickle, with the same figures.
    a, b = cx.NpsTally(), cx.NpsTally()
    a.fold(v[:20_000], weights=w[:20_000] * factor)
    b.fold(v[20_000:], weights=w[20_000:] * factor)
    merged = pickle.loads(pickle.dumps(a + b))
    assert merged.result().score == pytest.approx(base.score, rel=RTOL)
    assert merged.result().std_error == pytest.approx(base.std_error, rel=RTOL)
    assert not math.isnan(merged.result().score)
    # By group: every group's figures, and the table.
    g_base = cx.nps(v, weights=w, by=labels)
    g = cx.nps(v, weights=w * factor, by=labels)
    for key in g_base.groups:
        for name, want in _figures(g_base.results[key], NPS_FIGURES).items():
            _same(f"nps by {key} x {factor:g}: {name}", getattr(g.results[key], name), want, factor)


CSAT_FIGURES = ["share_satisfied", "share_bottom", "mean", "sd", "effective_n"]


@pytest.mark.parametrize("points", [2, 3, 5, 7, 10])
@pytest.mark.parametrize("factor", [2.0**-1000, 1e-300, 1e300])
def test_csat_on_every_scale_does_not_depend_on_the_unit_of_the_weights(points: int, factor: float) -> None:
    v, w, labels = _sample(20_000, 1, points, points)
    base = cx.csat(v, points, satisfied="top_box", weights=w)
    r = cx.csat(v, points, satisfied="top_box", weights=w * factor)
    ok = ~np.isnan(v)
    assert base.mean == pytest.approx(np.average(v[ok], weights=w[ok]), rel=1e-12)
    for name, want in _figures(base, CSAT_FIGURES).items():
        _same(f"csat {points} x {factor:g}: {name}", getattr(r, name), want, factor)
    assert r.sum_weights == pytest.approx(base.sum_weights * factor, rel=RTOL)
    for method in ["wilson", "agresti_coull", "jeffreys", "clopper_pearson"]:
        rtol = ITERATIVE_RTOL if method in ("jeffreys", "clopper_pearson") else RTOL
        for got, want in _bounds(r.ci(0.95, method=method), base.ci(0.95, method=method)):
            _same(f"csat {points} x {factor:g}: {method}", got, want, factor, rtol)
    g_base = cx.csat(v, points, satisfied="top_box", weights=w, by=labels)
    g = cx.csat(v, points, satisfied="top_box", weights=w * factor, by=labels)
    for key in g_base.groups:
        for name, want in _figures(g_base.results[key], CSAT_FIGURES).items():
            _same(f"csat by {key} x {factor:g}: {name}", getattr(g.results[key], name), want, factor)


CES_FIGURES = ["share_agree", "share_disagree", "net", "mean", "sd", "effective_n"]


@pytest.mark.parametrize("version", [2, 1])
@pytest.mark.parametrize("factor", [2.0**1000, 1e-300, 1e200])
def test_ces_of_both_versions_does_not_depend_on_the_unit_of_the_weights(version: int, factor: float) -> None:
    v, w, labels = _sample(20_000, 1, 7 if version == 2 else 5, 10 + version)
    base = cx.ces(v, version, weights=w)
    r = cx.ces(v, version, weights=w * factor)
    for name, want in _figures(base, CES_FIGURES).items():
        _same(f"ces{version} x {factor:g}: {name}", getattr(r, name), want, factor)
    g_base = cx.ces(v, version, weights=w, by=labels)
    g = cx.ces(v, version, weights=w * factor, by=labels)
    for key in g_base.groups:
        for name, want in _figures(g_base.results[key], CES_FIGURES).items():
            _same(f"ces by {key} x {factor:g}: {name}", getattr(g.results[key], name), want, factor)


def test_weights_near_the_largest_float() -> None:
    # One weight of 1e308 is a valid tally (its Σw is representable) ...
    r = cx.nps([10, 9, 3], weights=[1e308, 3e307, 3e307])
    assert r.score == pytest.approx(0.625, rel=1e-15) and r.sum_weights == pytest.approx(1.6e308, rel=1e-15)
    # ... but weights whose sum exceeds it are refused with a typed error, never a NaN score.
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="divide every weight"):
        cx.nps([10, 9, 3], weights=[1e308, 1e308, 1e308])
    t = cx.NpsTally()
    t.fold([10], weights=[1.5e308])
    with pytest.raises(cx.exceptions.MergeOverflowError, match="sum of weights"):
        t.merge(t.copy())
    assert t.n == 1
    # Negative, NaN and infinite weights name their position, whatever the magnitude of the others.
    for bad in [-1.0, float("nan"), float("inf")]:
        with pytest.raises(cx.exceptions.InvalidWeightError, match="position 2"):
            cx.nps([10, 9, 3], weights=[1e300, 1e300, bad])
