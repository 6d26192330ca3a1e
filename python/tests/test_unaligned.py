"""Numpy arrays whose data are not aligned (a view of a byte buffer at an odd offset, as unpickling
out-of-band buffers on a Dask worker or ``numpy.frombuffer(..., offset=1)`` makes) give the same
figures as aligned copies: the bindings copy them with unaligned loads instead of making a slice of a
misaligned pointer (undefined behaviour; a debug build aborted the process)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics import _native


def unaligned(values: npt.ArrayLike, dtype: npt.DTypeLike, *, step: int = 1) -> np.ndarray:
    """A read-only array equal to `values`, of `dtype`, whose data start one byte off alignment
    (every `step`-th element of such a buffer when `step` > 1: misaligned and not contiguous)."""
    a = np.ascontiguousarray(np.repeat(np.asarray(values, dtype=dtype), step))
    raw = b"\0" + a.tobytes()
    out = np.frombuffer(raw, dtype=a.dtype, offset=1, count=a.size)[::step]
    if out.dtype.alignment > 1:
        assert not out.flags.aligned
    np.testing.assert_array_equal(out, np.asarray(values, dtype=dtype))
    return out


RNG = np.random.default_rng(20261207)
LTR = RNG.integers(0, 11, 1_001)
WEIGHTS = RNG.uniform(0.2, 3.0, LTR.size)
SEGMENT = RNG.integers(0, 4, LTR.size)


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int16, np.float32])
@pytest.mark.parametrize("step", [1, 3])
def test_rating_tallies_read_unaligned_values(dtype: type, step: int) -> None:
    expected = cx.nps(LTR.astype(dtype))
    got = cx.nps(unaligned(LTR, dtype, step=step))
    assert got.n == expected.n
    assert got.score == expected.score
    tally = cx.NpsTally()
    tally.fold(unaligned(LTR, dtype, step=step))
    assert tally.result().score == expected.score


def test_unaligned_weights_and_labels() -> None:
    expected = cx.nps(LTR, weights=WEIGHTS, by=SEGMENT)
    got = cx.nps(
        unaligned(LTR, np.int64),
        weights=unaligned(WEIGHTS, np.float64),
        by=unaligned(SEGMENT, np.int64),
    )
    assert got.to_dict() == expected.to_dict()
    boot = _native.nps_bootstrap_ci(LTR, WEIGHTS, 0.95, 200, 1, "omit")
    assert _native.nps_bootstrap_ci(LTR, unaligned(WEIGHTS, np.float64), 0.95, 200, 1, "omit") == boot


def test_unaligned_columns_of_a_generic_state() -> None:
    talk = RNG.uniform(30, 600, 500)
    hold = RNG.uniform(0, 120, 500)
    expected = cx.HandlingTally(components=["talk", "hold"])
    expected.fold(talk=talk, hold=hold)
    got = cx.HandlingTally(components=["talk", "hold"])
    got.fold(talk=unaligned(talk, np.float64), hold=unaligned(hold, np.float64, step=2))
    assert got == expected


def test_unaligned_driver_columns() -> None:
    n = 400
    x = RNG.integers(1, 11, (n, 3)).astype(np.float64)
    y = np.clip(np.round(x @ [0.3, 0.2, 0.4] + RNG.normal(0, 1, n)), 0, 10)
    frame = pd.DataFrame({"ltr": y, "a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    expected = cx.driver_analysis(frame, drivers=["a", "b", "c"], scales=(1, 10))
    odd = pd.DataFrame({name: unaligned(frame[name].to_numpy(), np.float64) for name in frame})
    got = cx.driver_analysis(odd, drivers=["a", "b", "c"], scales=(1, 10))
    assert got.r_squared == expected.r_squared
    np.testing.assert_array_equal(got.coefficients, expected.coefficients)


def test_unaligned_service_level_and_survival() -> None:
    waits = np.round(RNG.exponential(40.0, 800), 1)
    answered = RNG.random(800) < 0.85
    expected = cx.service_level(formula="icmi1", threshold=30, waits=waits, answered=answered)
    got = cx.service_level(
        formula="icmi1",
        threshold=30,
        waits=unaligned(waits, np.float64),
        answered=answered,
    )
    assert got.to_dict() == expected.to_dict()
    codes = answered.astype(np.uint8)
    a, b = cx.EventTable(), cx.EventTable()
    a.fold(waits, codes)
    b.fold(unaligned(waits, np.float64, step=2), codes)
    assert a == b
