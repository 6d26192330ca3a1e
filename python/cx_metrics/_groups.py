"""Rows split by a label column (a wave, a segment, a brand): the groups, in order, and their rows.

Labels are read from a column of the table (or given as one label per row) and compared by value;
each group is named by its label as text. Groups come in sorted label order: numbers numerically,
pandas categoricals and polars enums in their category order, anything else by value (text
alphabetically). A missing label (None, NaN, pandas NA, NaT, a null) is not dropped: those rows form
one more group, keyed ``None`` and placed last. Only this splitting happens in Python; every count and
statistic of a group runs in Rust.
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._convert import _module_of
from ._table import Table
from .exceptions import InvalidArgumentError, LengthMismatchError

__all__ = ["Groups", "split_rows"]


@dataclass(frozen=True)
class Groups:
    """Labels in group order (``None`` for the missing-label group) and each row's group number."""

    labels: tuple[str | None, ...]
    codes: npt.NDArray[np.intp]

    def rows(self) -> list[npt.NDArray[np.intp]]:
        """The row numbers of each group, in group order (ascending within a group)."""
        if not self.labels:
            return []
        order = np.argsort(self.codes, kind="stable")
        counts = np.bincount(self.codes, minlength=len(self.labels))
        return list(np.split(order, np.cumsum(counts)[:-1]))


def split_rows(table: Table, by: object, n_rows: int) -> tuple[str, Groups]:
    """The groups of ``by`` (a column name of ``table``, or one label per row) and the name to show
    for it (the column name, or ``"group"``)."""
    if isinstance(by, str):
        raw: Any = table._raw(by)
        name = by
    else:
        raw = by
        name = str(getattr(by, "name", None) or "group")
    values, categories = _values(raw)
    if len(values) != n_rows:
        raise LengthMismatchError(
            f"length mismatch: by has {len(values)} labels for {n_rows} rows; give one label per row"
        )
    return name, _group(values, categories)


def _values(raw: Any) -> tuple[list[Any], list[Any] | None]:
    """Python values of the labels (None for missing) and the category order, if the column has one.

    Table columns find their missing labels with the library's own vectorised test (the same
    markers as :func:`_missing`), so that only the missing rows are visited in Python."""
    module = _module_of(raw)
    if module == "pandas" and hasattr(raw, "dtype"):
        categories = list(raw.cat.categories) if str(raw.dtype) == "category" else None
        missing = raw.isna().to_numpy(dtype=bool)
        if getattr(raw.dtype, "kind", "O") == "f":  # a NaN that a nullable Float64 keeps apart from NA
            missing = missing | np.isnan(raw.to_numpy(dtype=np.float64, na_value=np.nan))
        return _none_where(raw.tolist(), missing), categories
    if module == "polars" and hasattr(raw, "dtype"):
        import polars as pl

        categories = list(raw.dtype.categories) if isinstance(raw.dtype, pl.Enum) else None
        missing = raw.is_null() | raw.is_nan().fill_null(True) if raw.dtype.is_float() else raw.is_null()
        return _none_where(raw.to_list(), missing.to_numpy()), categories
    if module == "pyarrow" and hasattr(raw, "to_pylist"):
        import pyarrow.compute as pc

        missing = np.asarray(pc.is_null(raw, nan_is_null=True), dtype=bool)
        return _none_where(raw.to_pylist(), missing), None
    if isinstance(raw, str | bytes):
        raise InvalidArgumentError(f"invalid by: {raw!r}; give a column name or one label per row")
    if hasattr(raw, "tolist"):
        items = np.asarray(raw, dtype=object)
        if items.ndim != 1:
            raise InvalidArgumentError(f"invalid by: expected one label per row, got shape {items.shape}")
        return [None if _missing(v) else v for v in items.tolist()], None
    if isinstance(raw, Sequence):
        return [None if _missing(v) else v for v in raw], None
    raise InvalidArgumentError(
        f"invalid by: got a {type(raw).__name__}; give a column name or one label per row"
    )


def _none_where(values: list[Any], missing: npt.NDArray[np.bool_]) -> list[Any]:
    for i in np.flatnonzero(missing):
        values[i] = None
    return values


def _missing(v: Any) -> bool:
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(v)
    if isinstance(v, decimal.Decimal):
        return v.is_nan()
    if isinstance(v, np.datetime64 | np.timedelta64):
        return bool(np.isnat(v))
    return False


def _text(v: Any) -> str:
    if isinstance(v, float | np.floating) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, datetime.datetime) and v.tzinfo is None and v.time() == datetime.time(0):
        return v.date().isoformat()  # a day, not a moment
    return str(v)


def _group(values: list[Any], categories: list[Any] | None) -> Groups:
    index: dict[Any, int] = {}
    first = np.empty(len(values), dtype=np.intp)
    missing = False
    for i, v in enumerate(values):
        if v is None:
            first[i] = -1
            missing = True
        else:
            first[i] = index.setdefault(v, len(index))
    uniques = list(index)
    order = _sorted(uniques, categories)
    labels: list[str | None] = [_text(v) for v in order]
    seen: dict[str, Any] = {}
    for v, text in zip(order, labels, strict=True):
        if text in seen:
            raise InvalidArgumentError(
                f"invalid by: the labels {seen[text]!r} and {v!r} both read {text!r}; "
                "make the labels distinct as text"
            )
        seen[str(text)] = v
    rank = np.empty(len(uniques) + 1, dtype=np.intp)
    for position, v in enumerate(order):
        rank[index[v]] = position
    rank[-1] = len(order)  # first == -1: the missing-label group, last
    if missing:
        labels.append(None)
    return Groups(tuple(labels), rank[first])


def _sorted(uniques: list[Any], categories: list[Any] | None) -> list[Any]:
    if categories is not None:
        present = set(uniques)
        listed = [c for c in categories if c in present]
        rest = [v for v in uniques if v not in set(listed)]
        return listed + _natural(rest)
    return _natural(uniques)


def _natural(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed kinds (numbers and text): by kind, then by value within a kind
        return sorted(values, key=lambda v: (type(v).__name__, _text(v)))
