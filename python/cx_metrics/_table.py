"""Named columns out of a table: pandas, polars or pyarrow tables, a dict of columns, or a 2-D array.

Each column asked for becomes a contiguous float64 numpy array with NaN for a missing value (pandas
``NA``, polars and pyarrow nulls, ``None``). Booleans become 0/1 as drivers and outcomes, and are refused
as weights (the policy is written in ``_convert``). A column of text, dates or categories
raises the core's :class:`~cx_metrics.exceptions.ColumnError` naming it; a name that is not in the table
raises the same class, listing the available columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from . import _native
from ._convert import _as_array, _module_of, refuse_boolean_weights
from .exceptions import InvalidArgumentError

__all__ = ["Table"]

Column = npt.NDArray[np.float64]


class Table:
    """Read access to the named columns of ``data`` (see the module docstring for what is accepted)."""

    def __init__(self, data: object, columns: Sequence[str] | None = None) -> None:
        self._data = data
        self._kind = _kind(data)
        if self._kind == "numpy":
            arr = data if isinstance(data, np.ma.MaskedArray) else np.asarray(data)  # keep a mask
            if arr.ndim != 2:
                raise InvalidArgumentError(
                    f"invalid data: expected a table or a 2-D array, got a {arr.ndim}-D array"
                )
            if columns is None:
                raise InvalidArgumentError(
                    "invalid columns: a 2-D numpy array has no column names; pass columns=[...] "
                    "with one name per column"
                )
            if len(columns) != arr.shape[1]:
                raise InvalidArgumentError(
                    f"invalid columns: {len(columns)} names for an array of {arr.shape[1]} columns"
                )
            self._data = arr
            self._names = [str(c) for c in columns]
        else:
            if columns is not None:
                raise InvalidArgumentError(
                    "invalid columns: columns= names the columns of a 2-D numpy array; "
                    "a table already has names"
                )
            self._names = _names(data, self._kind)

    @property
    def names(self) -> list[str]:
        """The table's column names."""
        return list(self._names)

    @property
    def n_rows(self) -> int:
        """Number of rows (of the first column; the core checks that lengths agree)."""
        if not self._names:
            return 0
        return len(self._raw(self._names[0]))

    def float_column(self, name: str) -> Column:
        """Column ``name`` as contiguous float64 with NaN for missing values."""
        return _to_float(self._raw(name), name)

    def numeric_column(self, name: str) -> npt.NDArray[Any]:
        """Column ``name`` in its own numeric width, for the core to read natively (see
        :func:`to_numeric`)."""
        return to_numeric(self._raw(name), name)

    def weight_column(self, name: str) -> npt.NDArray[Any]:
        """Column ``name`` as survey weights in its own numeric width (see :func:`numeric_weights`)."""
        return numeric_weights(self._raw(name), name)

    def _raw(self, name: str) -> Any:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"invalid column name: {name!r} is not a string")
        if name not in self._names:
            _native.raise_unknown_column(name, self._names)
            raise AssertionError("unreachable")  # pragma: no cover
        data: Any = self._data
        if self._kind == "numpy":
            return data[:, self._names.index(name)]
        if self._kind == "pandas":
            return data[name]
        if self._kind == "polars":
            return data.get_column(name)
        if self._kind == "pyarrow":
            return data.column(name)
        return data[name]


def _kind(data: object) -> str:
    if isinstance(data, np.ndarray):
        return "numpy"
    if isinstance(data, Mapping):
        return "dict"
    module = _module_of(data)
    if module == "pandas" and hasattr(data, "columns"):
        return "pandas"
    if module == "polars" and hasattr(data, "get_column"):
        return "polars"
    if module == "pyarrow" and hasattr(data, "column_names"):
        return "pyarrow"
    raise InvalidArgumentError(
        f"invalid data: got a {type(data).__name__}; pass a pandas, polars or pyarrow table, a dict of "
        "columns, or a 2-D numpy array with columns=[...]"
    )


def _names(data: Any, kind: str) -> list[str]:
    if kind == "pandas":
        return [str(c) for c in data.columns]
    if kind == "polars":
        return list(data.columns)
    if kind == "pyarrow":
        return list(data.column_names)
    return [str(k) for k in data]


def _non_numeric(name: str, found: str) -> NoReturn:
    _native.raise_non_numeric_column(name, found)
    raise AssertionError("unreachable")  # pragma: no cover


def _to_float(raw: Any, name: str) -> Column:
    module = _module_of(raw)
    if module == "pandas":
        dtype = raw.dtype
        if getattr(dtype, "kind", "O") in "iufb":
            return np.ascontiguousarray(raw.to_numpy(dtype=np.float64, na_value=np.nan))
        if getattr(dtype, "kind", "O") != "O" or str(dtype) == "category":
            _non_numeric(name, str(dtype))
        return _objects(np.asarray(raw.to_numpy(), dtype=object), name)
    if module == "polars":
        import polars as pl

        if raw.dtype.is_numeric() or raw.dtype == pl.Boolean:
            out = raw.cast(pl.Float64).fill_null(float("nan")).to_numpy()
            return np.ascontiguousarray(out, dtype=np.float64)
        _non_numeric(name, str(raw.dtype))
    if module == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        typ = raw.type
        if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
            filled = pc.fill_null(raw.cast(pa.float64()), float("nan"))
            return np.ascontiguousarray(filled.to_numpy(), dtype=np.float64)
        _non_numeric(name, str(typ))
    arr = _as_array(raw, name)
    if arr.ndim != 1:
        raise InvalidArgumentError(f"invalid column {name!r}: expected 1-D values, got shape {arr.shape}")
    if arr.dtype.kind in "iufb":
        return np.ascontiguousarray(arr, dtype=np.float64)
    if arr.dtype.kind == "O":
        return _objects(arr, name)
    found = "str" if arr.dtype.kind in "US" else str(arr.dtype)
    _non_numeric(name, found)


# The dtypes the core reads natively; any other numeric dtype (float16) crosses as float64.
_NATIVE = frozenset(
    np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
) | frozenset(np.dtype(t) for t in (np.float32, np.float64, np.bool_))


def _native_width(values: npt.NDArray[Any], mask: npt.NDArray[np.bool_] | None) -> npt.NDArray[Any] | None:
    """Contiguous ``values`` (a masked array with ``mask``), or None when the core cannot read them."""
    if values.ndim != 1 or values.dtype not in _NATIVE:
        return None
    values = np.ascontiguousarray(values)
    if mask is None or not mask.any():
        return values
    return np.ma.MaskedArray(values, mask=np.ascontiguousarray(mask, dtype=np.bool_), copy=False)


def to_numeric(raw: Any, name: str) -> npt.NDArray[Any]:
    """A numeric column in its own width (int8 ... uint64, float32, float64, bool), without a float64
    copy: a numpy array, or a ``numpy.ma.MaskedArray`` whose mask marks the missing values of a
    nullable pandas, polars or Arrow column. The core converts it to float64 once, in Rust. Columns of
    other types go through :func:`_to_float` (the same values and errors)."""
    module = _module_of(raw)
    out: npt.NDArray[Any] | None = None
    if module == "pandas":
        dtype = raw.dtype
        if isinstance(dtype, np.dtype):
            if dtype.kind in "iufb":
                out = _native_width(raw.to_numpy(), None)
        else:
            array = raw.array
            data, mask = getattr(array, "_data", None), getattr(array, "_mask", None)
            nullable = getattr(dtype, "kind", "O") in "iufb"  # nullable Int16, Float64, boolean, ...
            if nullable and isinstance(data, np.ndarray) and isinstance(mask, np.ndarray):
                out = _native_width(data, mask)
    elif module == "polars":
        import polars as pl

        if raw.dtype.is_integer() or raw.dtype.is_float() or raw.dtype == pl.Boolean:
            if raw.null_count() == 0:
                out = _native_width(raw.to_numpy(), None)
            else:
                out = _native_width(raw.fill_null(0).to_numpy(), raw.is_null().to_numpy())
    elif module == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        typ = raw.type
        if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
            arr = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
            if arr.null_count == 0:
                out = _native_width(arr.to_numpy(zero_copy_only=False), None)
            else:
                filled = pc.fill_null(arr, pa.scalar(False if pa.types.is_boolean(typ) else 0, type=typ))
                out = _native_width(
                    filled.to_numpy(zero_copy_only=False), arr.is_null().to_numpy(zero_copy_only=False)
                )
    elif isinstance(raw, np.ma.MaskedArray) and raw.ndim == 1 and raw.dtype.kind in "iufb":
        out = _native_width(np.asarray(raw.data), np.ma.getmaskarray(raw))  # masked = missing
    elif isinstance(raw, np.ndarray) and raw.ndim == 1 and raw.dtype.kind in "iufb":
        out = _native_width(raw, None)
    return out if out is not None else _to_float(raw, name)


def numeric_weights(raw: Any, name: str = "weights") -> npt.NDArray[Any]:
    """Survey weights in their own numeric width (:func:`to_numeric`); booleans are refused."""
    refuse_boolean_weights(raw, f"weights {name!r}" if name != "weights" else name)
    return to_numeric(raw, name)


def _objects(arr: npt.NDArray[Any], name: str) -> Column:
    """Numbers, booleans and missing markers (None, NaN, pandas NA) to float64; anything else raises."""
    out = np.empty(arr.shape[0], dtype=np.float64)
    for i, v in enumerate(arr):
        if v is None or (v.__class__.__name__ == "NAType"):
            out[i] = np.nan
        elif isinstance(v, int | float | np.integer | np.floating | np.bool_):
            out[i] = float(v)
        else:
            _non_numeric(name, type(v).__name__)
    return out
