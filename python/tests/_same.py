"""One comparison for results computed two ways (in memory and merged from partitions): the same
structure, whole numbers, text, booleans and None exactly, floats to a relative 1e-12 (merged
weighted sums are added in another order than one pass adds them)."""

from __future__ import annotations

import math
from typing import Any

REL = 1e-12
ABS = 1e-15  # for figures that are zero one way and a rounding residue the other


def assert_same(got: Any, want: Any, path: str = "result") -> None:
    """``got`` equals ``want`` as described above; a difference names its path."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: {type(got).__name__} instead of a dict"
        assert got.keys() == want.keys(), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            assert_same(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(want, list | tuple):
        assert isinstance(got, list | tuple) and len(got) == len(want), f"{path}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool) and isinstance(got, int | float):
        if math.isnan(want):
            assert math.isnan(got), f"{path}: {got!r} != nan"
        else:
            assert math.isclose(got, want, rel_tol=REL, abs_tol=ABS), f"{path}: {got!r} != {want!r}"
    else:
        assert type(got) is type(want) and got == want, f"{path}: {got!r} != {want!r}"
