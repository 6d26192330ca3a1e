"""Every figure of ``nps_vectors.json`` through the Python API, at the tolerances of the core's tests.

Tolerances (as in the core's ``tests/nps_vectors.rs`` and shared/validation/README.md): closed forms
1e-12 relative, Tango bounds 1e-9, Dirichlet bounds 1e-6; an absolute 1e-12 where the reference is near
zero (|x| < 1e-6); the normal p-value 1e-10 (statrs' erfc); counts and sample sizes exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import cx_metrics as cx

CLOSED, TANGO, DIRICHLET = 1e-12, 1e-9, 1e-6
SAMPLES = ["N1", "N2", "N3", "E1", "E2", "E3", "E4", "E5"]


def close(got: float, want: float, rel: float = CLOSED) -> bool:
    return abs(got - want) <= 1e-12 if abs(want) < 1e-6 else abs(got - want) <= rel * abs(want)


def pair(got: cx.Interval, want: list[float], rel: float = CLOSED) -> None:
    assert close(got.low, want[0], rel) and close(got.high, want[1], rel), (got, want)


def ratings(counts: list[int], dtype: str = "int64") -> np.ndarray[Any, Any]:
    """Detractor, passive, promoter counts as 0-10 ratings (3, 8 and 10)."""
    return np.repeat(np.array([3, 8, 10], dtype=dtype), counts)


@pytest.mark.parametrize("name", SAMPLES)
def test_single_sample_cases(nps_vectors: dict[str, Any], name: str) -> None:
    case = nps_vectors[name]
    r = cx.nps(ratings(case["counts_detractor_passive_promoter"], "uint8"))
    assert r.n == case["n"] and r.n_omitted == 0
    assert close(r.score, case["nps"]) and close(r.variance, case["variance"])
    assert close(r.std_error, case["se"])
    wald = r.ci_unclipped(0.95, "wald")
    pair(wald, case["wald"])
    clipped = r.ci(0.95, "wald")
    assert (clipped.low, clipped.high) == (max(wald.low, -1.0), min(wald.high, 1.0))
    adj = case["adjusted_wald"]
    centre, se = r.normal_estimate("adjusted_wald")
    assert close(centre, adj["centre"]) and close(se, adj["se"])
    raw = r.ci_unclipped(0.95, "adjusted_wald")
    pair(raw, adj["ci_unclipped"])
    ci = r.ci(0.95, "adjusted_wald")
    assert (ci.low, ci.high) == (max(raw.low, -1.0), min(raw.high, 1.0))
    assert ci.clipped == (raw.low < -1.0 or raw.high > 1.0)
    pair(r.ci(0.95, "tango"), case["tango"], TANGO)
    if "dirichlet_1_1_1" in case:
        d = case["dirichlet_1_1_1"]
        mean, sd = r.dirichlet_posterior((1.0, 1.0, 1.0))
        assert close(mean, d["mean"]) and close(sd, d["sd"])
        pair(r.ci(0.95, "dirichlet"), d["equal_tailed"], DIRICHLET)


def test_e1_adjusted_wald_is_clipped_and_flagged() -> None:
    r = cx.nps([10] * 10)
    ci = r.ci(0.95, "adjusted_wald")
    assert ci.high == 1.0 and ci.clipped
    assert not r.ci(0.95, "tango").clipped


def test_two_independent_groups(nps_vectors: dict[str, Any]) -> None:
    t1 = nps_vectors["T1"]
    a, b = cx.nps(ratings(t1["a"])), cx.nps(ratings(t1["b"]))
    for method in ("wald", "adjusted_wald"):
        want = t1[method]
        c = cx.compare_nps(a, b, method=method)  # type: ignore[arg-type]
        # The reported difference is the observed one, 0.3 - 0.0, under every method; the fixture's
        # "delta" is the interval's centre (under adjusted Wald the adjusted centres' difference), and
        # z tests the observed difference: 0.3 / se by hand, p = erfc(|z| / sqrt(2)).
        assert close(c.difference, 0.3) and close(c.std_error, want["se"])
        ci = c.ci(0.95)
        assert close((ci.low + ci.high) / 2, want["delta"])
        z = 0.3 / want["se"]
        assert close(c.z, z) and close(c.p_value, math.erfc(abs(z) / math.sqrt(2)), 1e-10)
        if method == "wald":
            assert close(c.z, want["z"]) and close(c.p_value, want["p"], 1e-10)
        pair(ci, want["ci"])
        # The same figures straight from ratings.
        assert cx.compare_nps(ratings(t1["a"]), ratings(t1["b"]), method=method) == c  # type: ignore[arg-type]


def test_sample_sizes(nps_vectors: dict[str, Any]) -> None:
    s1 = nps_vectors["S1_sample_size_worst_case_95"]
    assert len(s1) == 3
    for margin, want in s1.items():
        for method in ("wald", "adjusted_wald"):
            assert cx.nps_sample_size(float(margin), 0.95, method=method) == want[method]  # type: ignore[arg-type]
    s2 = nps_vectors["S2_two_group_n_alpha05_power80"]
    assert len(s2) == 3
    for key, n in s2.items():
        variance, delta = (float(part.split("=")[1]) for part in key.split(","))
        assert cx.nps_sample_size_two_groups(delta, power=0.8, alpha=0.05, variance=variance) == n, key


def test_weighted_example(nps_vectors: dict[str, Any]) -> None:
    w1 = nps_vectors["W1_weighted"]
    values = [{1.0: 10, 0.0: 8, -1.0: 0}[s] for s in w1["scores"]]
    r = cx.nps(values, weights=w1["weights"], nan_policy="raise")
    assert r.weighted
    assert close(r.score, w1["nps"])
    assert close(r.promoters, w1["promoters"]) and close(r.detractors, w1["detractors"])
    assert close(r.effective_n, w1["n_eff"]) and close(r.deff, w1["deff"])
    assert close(r.se_linearised, w1["se_linearised"])
    assert r.se_linearised_small_sample is not None
    assert close(r.se_linearised_small_sample, w1["se_linearised_small_sample"])
    assert close(r.se_kish, w1["se_kish"])
    ci = r.ci_unclipped(0.95, "wald")
    assert close(ci.low, r.score - 1.959963984540054 * w1["se_kish"])
    r.ci(0.95, "tango")
