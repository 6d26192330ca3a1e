"""Survey weights from Python: one policy for booleans, and results that do not depend on the unit of
the weights.

Driver analysis and the pillar summary rescale extreme weights internally (by a power of two), so
multiplying every weight by 1e-200 or 1e200 changes no estimate (to 1e-12 relative); tallies, which keep
their sums in the caller's units so that partitions merge, refuse weights whose squares cannot be
represented with a typed error instead of reporting an infinite standard error or a NaN score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import CxMetricsError, InvalidArgumentError

RTOL = 1e-12


def _survey(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=n)
    cols = {
        name: np.clip(np.rint(6 + 1.5 * common + rng.normal(size=n)), 1, 10).astype(np.int16)
        for name in ("a", "b", "c")
    }
    x = np.column_stack(list(cols.values())).astype(float)
    ltr = np.clip(np.rint(x @ [0.5, 0.3, 0.1] + rng.normal(size=n)), 0, 10).astype(np.int8)
    w = rng.uniform(0.2, 3.0, size=n)
    w[::13] = 0.0
    return pd.DataFrame({"ltr": ltr, **cols, "w": w})


@pytest.mark.parametrize("factor", [1e-200, 1e200])
def test_driver_analysis_does_not_depend_on_the_unit_of_the_weights(factor: float) -> None:
    df = _survey()
    base = cx.driver_analysis(df, drivers=["a", "b", "c"], weights="w")
    scaled = df.assign(w=df["w"] * factor)
    r = cx.driver_analysis(scaled, drivers=["a", "b", "c"], weights="w")
    for column in ("estimate", "std_error", "p_value"):
        np.testing.assert_allclose(r.coefficients[column], base.coefficients[column], rtol=RTOL)
    np.testing.assert_allclose(r.importance["lmg"], base.importance["lmg"], rtol=RTOL)
    np.testing.assert_allclose(r.vif, base.vif, rtol=RTOL)
    assert r.r_squared == pytest.approx(base.r_squared, rel=RTOL)
    assert r.effective_n == pytest.approx(base.effective_n, rel=RTOL)
    assert (r.n, r.n_zero_weight) == (base.n, base.n_zero_weight)
    # The weighted least-squares fit by hand (numpy), in the caller's units.
    keep = df["w"].to_numpy() > 0
    x = np.column_stack([np.ones(keep.sum()), df.loc[keep, ["a", "b", "c"]].to_numpy(float)])
    sw = np.sqrt(df["w"].to_numpy()[keep])
    beta = np.linalg.lstsq(x * sw[:, None], df["ltr"].to_numpy(float)[keep] * sw, rcond=None)[0]
    np.testing.assert_allclose(r.coefficients["estimate"], beta, rtol=1e-10)


def test_unrepresentable_weights_are_a_typed_error() -> None:
    df = _survey(50).assign(w=np.finfo(np.float64).max)
    with pytest.raises(InvalidArgumentError, match="weights"):
        cx.driver_analysis(df, drivers=["a", "b"], weights="w")


@pytest.mark.parametrize("factor", [1e-200, 1e200])
def test_nps_of_weights_whose_squares_overflow_or_underflow(factor: float) -> None:
    # Tallies keep their sums scaled by a power of two: the figures of the same weights near 1
    # (test_weight_scale.py checks every figure); only a sum beyond 1.8e308 is refused.
    ratings = np.array([10, 9, 7, 3, 0], dtype=np.int8)
    w = np.array([1.0, 2.0, 0.5, 1.5, 1.0])
    base = cx.nps(ratings, weights=w)
    r = cx.nps(ratings, weights=w * factor)
    assert r.std_error == pytest.approx(base.std_error, rel=1e-12)
    with pytest.raises(CxMetricsError):
        cx.nps(ratings, weights=np.full(5, 1e308))


BOOLEANS = [
    pytest.param(lambda v: np.array(v, dtype=bool), id="numpy"),
    pytest.param(lambda v: list(v), id="list"),
    pytest.param(lambda v: pd.Series(v, dtype=bool), id="pandas"),
    pytest.param(lambda v: pd.Series(v, dtype="boolean"), id="pandas-nullable"),
]


@pytest.mark.parametrize("make", BOOLEANS)
def test_boolean_weights_are_refused_from_every_entry_point(make: object) -> None:
    flags = [True, False, True, True, False, True, True, True]
    w = make(flags)  # type: ignore[operator]
    ratings = [10, 9, 8, 7, 6, 5, 9, 10]
    with pytest.raises(InvalidArgumentError, match="booleans"):
        cx.nps(ratings, weights=w)
    df = _survey(8)
    with pytest.raises(InvalidArgumentError, match="booleans"):
        cx.driver_analysis(df, drivers=["a", "b"], weights=w)
    if not isinstance(w, list):
        with pytest.raises(InvalidArgumentError, match="booleans"):
            cx.driver_analysis(df.assign(flag=w), drivers=["a", "b"], weights="flag")


def test_boolean_drivers_and_outcomes_are_zero_one_and_boolean_ratings_are_refused() -> None:
    df = _survey(200)
    flag = df["a"].to_numpy() > 6
    as_bool = cx.driver_analysis(df.assign(flag=flag), drivers=["flag", "b"])
    as_int = cx.driver_analysis(df.assign(flag=flag.astype(np.int8)), drivers=["flag", "b"])
    assert as_bool.to_dict() == as_int.to_dict()
    with pytest.raises(InvalidArgumentError, match="boolean"):
        cx.nps(flag)
