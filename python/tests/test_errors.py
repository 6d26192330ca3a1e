"""Core errors arrive as the matching `cx_metrics.exceptions` class, with the core's message."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cx_metrics as cx
from cx_metrics import _native, exceptions
from cx_metrics.exceptions import (
    CxMetricsError,
    IncompatibleError,
    InvalidArgumentError,
    InvalidWeightError,
    LengthMismatchError,
    MissingValueError,
    NonFiniteError,
    NotIntegralError,
    OutOfRangeError,
)

BINDINGS_ERRORS = Path(__file__).resolve().parents[2] / "crates" / "cx-metrics-py" / "src" / "errors.rs"


def test_hierarchy() -> None:
    classes = [getattr(exceptions, name) for name in exceptions.__all__]
    assert len(classes) == 21
    for cls in classes:
        assert issubclass(cls, CxMetricsError)
        assert issubclass(cls, ValueError)
        assert cls.__module__ == "cx_metrics.exceptions"
        assert inspect.getdoc(cls)


def test_every_class_is_mapped_by_the_bindings() -> None:
    # Every subclass is the target of at least one core variant, and every name the bindings import exists.
    source = BINDINGS_ERRORS.read_text()
    imported = set(re.findall(r"import_exception!\(cx_metrics\.exceptions, (\w+)\)", source))
    # SegmentError is raised by the Python layer only (a lookup by label in a result).
    python_only = {"SegmentError"}
    assert imported == set(exceptions.__all__) - python_only
    for name in set(exceptions.__all__) - python_only:
        if name != "CxMetricsError":
            assert re.search(rf"=> {name}::new_err", source), name


def raise_from(values: Any, **kw: Any) -> CxMetricsError:
    t = cx.ScaleTally(1, 5)
    with pytest.raises(CxMetricsError) as info:
        t.fold(values, **kw)
    assert t.n == 0 and t.n_omitted == 0  # nothing changes on error
    return info.value


@pytest.mark.parametrize(
    ("values", "kw", "cls", "message"),
    [
        (
            [1, 2, 9],
            {},
            OutOfRangeError,
            "value 9 at position 2 is outside the scale 1..=5; check the column is on this scale, "
            "or recode it first",
        ),
        (
            np.array([1, -3], dtype=np.int8),
            {},
            OutOfRangeError,
            "value -3 at position 1 is outside the scale 1..=5",
        ),
        (
            [1.0, 2.5],
            {},
            NotIntegralError,
            "value 2.5 at position 1 is not a whole scale point; ratings must be integers",
        ),
        ([np.inf], {}, NonFiniteError, "value inf at position 0 is not finite; remove or replace it"),
        (
            [1, None, 2],
            {"nan_policy": "raise"},
            MissingValueError,
            'value at position 1 is missing (NaN/None) and nan_policy is "raise"',
        ),
        (
            [1, 2],
            {"weights": [1.0, -2.0]},
            InvalidWeightError,
            "weight -2 at position 1 is invalid; survey weights must be finite and >= 0",
        ),
        ([1, 2], {"weights": [1.0, np.nan]}, InvalidWeightError, "weight at position 1 is missing (NaN)"),
        (
            [1, 2],
            {"nan_policy": "drop"},
            InvalidArgumentError,
            'invalid nan_policy: "drop"; use "omit" or "raise"',
        ),
    ],
)
def test_core_errors_map_to_their_class(values: Any, kw: dict[str, Any], cls: type, message: str) -> None:
    err = raise_from(values, **kw)
    assert type(err) is cls
    assert isinstance(err, ValueError)
    assert message in str(err)


def test_large_input_reports_first_bad_position() -> None:
    v = np.full(1_000_000, 3, dtype=np.int64)
    v[654_321] = 6
    v[900_000] = 0
    err = raise_from(v)
    assert type(err) is OutOfRangeError
    assert "value 6 at position 654321" in str(err)


def test_length_mismatch_from_the_core() -> None:
    t = _native.ScaleTally(1, 5)
    with pytest.raises(LengthMismatchError, match=r"values and weights: lengths differ \(2 vs 1\)"):
        t.fold(np.array([1.0, 2.0]), np.array([1.0]))


def test_invalid_scale_and_incompatible_merge() -> None:
    with pytest.raises(InvalidArgumentError, match=r"invalid scale: min \(5\) must be below max \(5\)"):
        cx.ScaleTally(5, 5)
    with pytest.raises(IncompatibleError, match="cannot combine: tallies on different scales"):
        cx.ScaleTally(1, 5).merge(cx.ScaleTally(1, 7))
    with pytest.raises(IncompatibleError, match="merge tallies of the same kind"):
        cx.ScaleTally(1, 5).merge(object())  # type: ignore[arg-type]
