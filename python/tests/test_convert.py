"""Every accepted input type reaches the core with the same counts; every rejected one says why."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import cx_metrics as cx
from cx_metrics import _native
from cx_metrics._convert import to_values
from cx_metrics.exceptions import CxMetricsError, InvalidArgumentError, LengthMismatchError

RATINGS = [5, 4, 4, 1, 3, 5, 2]
EXPECTED_ROWS = [1, 1, 1, 2, 2]

DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]


def rows_of(values: Any, **kw: Any) -> tuple[list[int], int]:
    t = cx.ScaleTally(1, 5)
    t.fold(values, **kw)
    return t.rows(), t.n_omitted


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_every_dtype(dtype: str) -> None:
    arr = np.array(RATINGS, dtype=dtype)
    assert to_values(arr) is arr  # passed straight through, no copy
    assert rows_of(arr) == (EXPECTED_ROWS, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_non_contiguous_and_big_endian(dtype: str) -> None:
    doubled = np.repeat(np.array(RATINGS, dtype=dtype), 2)[::2]
    assert not doubled.flags.c_contiguous
    assert rows_of(doubled) == (EXPECTED_ROWS, 0)
    swapped = np.array(RATINGS, dtype=np.dtype(dtype).newbyteorder(">"))
    assert rows_of(swapped) == (EXPECTED_ROWS, 0)


def test_float16_is_widened() -> None:
    assert rows_of(np.array(RATINGS, dtype=np.float16)) == (EXPECTED_ROWS, 0)


def test_list_tuple_and_none_as_missing() -> None:
    assert rows_of(RATINGS) == (EXPECTED_ROWS, 0)
    assert rows_of(tuple(RATINGS)) == (EXPECTED_ROWS, 0)
    assert rows_of([*RATINGS, None, float("nan")]) == (EXPECTED_ROWS, 2)


def test_pandas_series_plain_and_nullable() -> None:
    assert rows_of(pd.Series(RATINGS)) == (EXPECTED_ROWS, 0)
    assert rows_of(pd.Series([*RATINGS, None], dtype="Int64")) == (EXPECTED_ROWS, 1)
    assert rows_of(pd.Series([*RATINGS, pd.NA], dtype="Float64")) == (EXPECTED_ROWS, 1)
    assert rows_of(pd.Series(RATINGS, dtype="Int8")) == (EXPECTED_ROWS, 0)
    assert rows_of(pd.Series([*RATINGS, np.nan])) == (EXPECTED_ROWS, 1)


def test_polars_series_with_nulls() -> None:
    assert rows_of(pl.Series(RATINGS, dtype=pl.Int16)) == (EXPECTED_ROWS, 0)
    assert rows_of(pl.Series([*RATINGS, None], dtype=pl.Int64)) == (EXPECTED_ROWS, 1)
    assert rows_of(pl.Series([*RATINGS, None], dtype=pl.Float32)) == (EXPECTED_ROWS, 1)


def test_pyarrow_array_and_chunked_array_with_nulls() -> None:
    assert rows_of(pa.array(RATINGS, type=pa.int8())) == (EXPECTED_ROWS, 0)
    assert rows_of(pa.array([*RATINGS, None])) == (EXPECTED_ROWS, 1)
    chunked = pa.chunked_array([RATINGS[:3], [*RATINGS[3:], None]])
    assert rows_of(chunked) == (EXPECTED_ROWS, 1)
    assert rows_of(pa.chunked_array([RATINGS[:3], RATINGS[3:]])) == (EXPECTED_ROWS, 0)


def test_weights_from_any_input_type() -> None:
    w = [1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 3.0]
    expected = [0.5, 3.0, 1.0, 3.0, 2.0]
    for weights in (w, np.array(w), pd.Series(w), pl.Series(w), pa.array(w), np.array(w, dtype=np.float32)):
        t = cx.ScaleTally(1, 5)
        t.fold(RATINGS, weights=weights)
        assert t.weights() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (None, "got None"),
        (np.ones((2, 3)), "expected a 1-D array, got 2-D with shape (2, 3)"),
        (np.float64(3.0), "expected a 1-D array, got 0-D"),
        ("45", "got a str"),
        (["5", "4"], "value '5' at position 0 is text, not a number; convert the column to numbers"),
        ([9, "ten"], "value 'ten' at position 1 is text, not a rating"),
        (np.array(["5", "x"]), "dtype <U1 is not numeric: value 'x' at position 1 is text, not a rating"),
        (
            pd.Series(["a"], name="channel"),
            "value 'a' at position 0 of the pandas Series \"channel\" is text",
        ),
        ([1, None, "x"], "value 'x' at position 2 is text, not a rating"),
        ([True, False], "booleans"),
        (np.array([True]), "booleans"),
        (pd.Series([True, None], dtype="boolean"), "boolean"),
        (pa.array([True, False]), "boolean"),
        (pa.array(["a"]), "not numeric"),
        ({1, 2}, "has no order"),
        (pd.DataFrame({"a": [1]}), 'got a pandas DataFrame (columns a); pass one column, e.g. df["a"]'),
        (pl.DataFrame({"a": [1]}), "pass one column"),
    ],
)
def test_rejected_inputs_say_why(bad: Any, fragment: str) -> None:
    t = cx.ScaleTally(1, 5)
    with pytest.raises(InvalidArgumentError) as info:
        t.fold(bad)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)
    assert t.n == 0


def test_mismatched_lengths_say_which() -> None:
    t = cx.ScaleTally(1, 5)
    with pytest.raises(LengthMismatchError, match=r"values and weights: lengths differ \(3 vs 2\)"):
        t.fold([1, 2, 3], weights=[1.0, 1.0])


def test_native_rejects_non_arrays_with_the_library_error() -> None:
    t = _native.ScaleTally(1, 5)
    with pytest.raises(InvalidArgumentError, match="expected a 1-D numpy array"):
        t.fold([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="1-D numpy array"):
        t.fold(np.array(["a"]))
    with pytest.raises(CxMetricsError):
        t.fold(np.array([1.0, 2.0]), np.array([1.0]))
