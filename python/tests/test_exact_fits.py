"""Exact fits: an outcome that is an exact linear function of the drivers is fitted, not refused.

NIST StRD Wampler1 and Wampler2 (``shared/validation/nist_strd.json``): y is an exact polynomial of
degree 5 in x. The log relative error (LRE, the definition in the fixture) of every coefficient
against the certified values: required 9.8 on Wampler1 (R ``lm`` 9.83, recorded in the fixture) and
13.2 on Wampler2. 13.20 is the LRE of the *exact* least-squares solution of Wampler2's data as float64
(its y values such as 1.00001 are not representable; solved in rational arithmetic, see
crates/cx-metrics/tests/nist.rs): no method that solves these float64 data can do better except by
luck (R ``lm`` 13.55, statsmodels QR 13.70 are such luck). R² must be 1 (to 1e-12), with an
``exact_fit`` warning, and relative importance defined (LMG sums to R², to 1e-9).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import load_vectors

import cx_metrics as cx


def _lre(estimate: float, certified: float) -> float:
    rel = abs(estimate - certified) / abs(certified)
    return 15.0 if rel == 0 else min(15.0, max(0.0, -math.log10(rel)))


def _design(ds: dict[str, Any]) -> dict[str, np.ndarray]:
    x = np.array([float(v) for v in ds["x"]])
    # Integer-valued x up to 20: every power up to x^5 is exact in float64.
    columns = {f"x{k}": x**k for k in range(1, 6)}
    columns["y"] = np.array([float(v) for v in ds["y"]])
    return columns


@pytest.mark.parametrize(("name", "required"), [("Wampler1", 9.8), ("Wampler2", 13.2)])
def test_wampler_is_fitted_as_accurately_as_r_lm(name: str, required: float) -> None:
    ds = load_vectors("nist_strd.json")["datasets"][name]
    data = _design(ds)
    assert all(float(v).is_integer() for v in data["x5"])
    drivers = [f"x{k}" for k in range(1, 6)]
    r = cx.driver_analysis(data, outcome="y", drivers=drivers)
    estimates = r.coefficients["estimate"].to_numpy()
    lre = [_lre(e, c) for e, c in zip(estimates, ds["certified"]["coef"], strict=True)]
    assert min(lre) >= required, lre
    assert abs(r.r_squared - 1.0) <= 1e-12
    kinds = [w.kind for w in r.warnings]
    assert "exact_fit" in kinds
    message = next(w.message for w in r.warnings if w.kind == "exact_fit")
    assert "R² = 1" in message
    lmg = r.importance["lmg"].to_numpy()
    assert np.all(np.isfinite(lmg))
    assert abs(lmg.sum() - r.r_squared) <= 1e-9


def test_filip_stays_a_clear_refusal_or_an_accurate_fit() -> None:
    # Filip (degree 10) is not an exact fit (R² = 0.9967); the driver analysis either fits it or
    # refuses it with a typed error naming the problem, never a silent wrong answer.
    ds = load_vectors("nist_strd.json")["datasets"]["Filip"]
    x = np.array([float(v) for v in ds["x"]])
    data = {f"x{k}": x**k for k in range(1, 11)}
    data["y"] = np.array([float(v) for v in ds["y"]])
    try:
        r = cx.driver_analysis(data, outcome="y", drivers=[f"x{k}" for k in range(1, 11)])
    except cx.exceptions.CxMetricsError as e:
        assert "x" in str(e)
    else:
        assert abs(r.r_squared - ds["certified"]["r_squared"]) < 1e-6
