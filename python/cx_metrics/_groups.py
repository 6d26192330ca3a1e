"""Label columns for the grouping engine: every kind of column crosses into Rust as arrays, without
per-row Python work, and the engine's rules apply to all of them.

The rules (applied in Rust, ``cx_metrics::groups``): a categorical column keeps its level order
(pandas categoricals, polars enums, ordered Arrow dictionaries) and reports unused levels with n = 0;
other columns are sorted (numbers numerically, ``False`` before ``True``, dates and datetimes
chronologically, text by Unicode code point, so ``"B"`` comes before ``"a"``; polars categoricals and
unordered Arrow dictionaries are sorted the same way, over the labels used). The missing label (None,
NaN, pandas NA, NaT, a null) is one group, keyed ``None`` and placed last; its rows are counted, never
dropped. Labels keep their type: an integer label is looked up by the integer. With several columns,
groups are the combinations, ordered by the first column, then the second.

How each column crosses: numpy arrays of any integer, float, bool or datetime64 dtype as they are;
pandas categoricals as their codes and categories; nullable pandas, polars and pyarrow columns as
values and a null mask; text of polars (string views) and pyarrow (string, large_string,
string_view) as their Arrow buffers, read with numpy (no copy); dictionaries as indices and
dictionary. Object arrays and lists are read in Python, one label at a time, and then follow the same
rules.
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from ._convert import _module_of
from ._table import Table
from .exceptions import InvalidArgumentError, LengthMismatchError

__all__ = ["KeyColumns", "key_columns", "key_from_json", "key_to_json", "label_str"]

if TYPE_CHECKING:
    from ._native import _KeySpec as Spec
else:
    Spec: TypeAlias = tuple  # one label column as the native module reads it (see _native.pyi)


@dataclass(frozen=True)
class KeyColumns:
    """The label columns of ``by=``: their names (for the result's table) and their native specs."""

    names: tuple[str, ...]
    specs: list[Spec]
    n_rows: int

    @property
    def by_name(self) -> str | tuple[str, ...]:
        """The name of one label column, the names of several: how results by group name ``by``."""
        return self.names[0] if len(self.names) == 1 else self.names


def key_columns(by: object, table: Table | None, n_rows: int, what: str = "by") -> KeyColumns:
    """The label columns of ``by``: a column name of ``table`` or a list of names, one label per row
    (an array, a Series), or a list of such arrays; each checked to have ``n_rows`` labels (``what``:
    the argument named in the error)."""
    raws: list[tuple[str, Any]] = []
    if isinstance(by, str):
        raws.append((by, _column(table, by)))
    elif (names := _column_names(by, table)) is not None:
        raws.extend((b, _column(table, b)) for b in names)
    elif isinstance(by, list | tuple) and by and all(_is_column(b) for b in by):
        raws.extend((_name(b, i), b) for i, b in enumerate(by))
    else:
        raws.append((_name(by, None), by))
    names = [name for name, _ in raws]
    if len(set(names)) != len(names):
        names = [f"{n}_{i}" for i, n in enumerate(names)]
    specs = []
    for name, raw in raws:
        spec, length = _spec(raw)
        if length != n_rows:
            raise LengthMismatchError(
                f"length mismatch: {what} has {length} labels for {n_rows} rows; give one label per row"
                + (f" (column {name!r})" if len(raws) > 1 else "")
            )
        specs.append(spec)
    return KeyColumns(tuple(names), specs, n_rows)


def _column_names(by: object, table: Table | None) -> list[str] | None:
    """``by`` as a list of column names of ``table``, if it is one (all of them names; when only some
    are, the others are reported as unknown columns), rather than a list of labels."""
    if table is None or not isinstance(by, list | tuple) or not by:
        return None
    names = [b for b in by if isinstance(b, str)]
    if len(names) != len(by):
        return None
    known = [b in table.names for b in names]
    if any(known) and not all(known):
        table._raw(next(b for b, k in zip(names, known, strict=True) if not k))  # raises, naming it
    return names if all(known) else None


def _column(table: Table | None, name: str) -> Any:
    if table is None:
        raise InvalidArgumentError(
            f"invalid by: {name!r} names a column, but no data table was given; pass data=... or the "
            "labels themselves"
        )
    return table._raw(name)


def _is_column(obj: object) -> bool:
    return (
        hasattr(obj, "__len__")
        and not isinstance(obj, str | bytes | dict)
        and (hasattr(obj, "dtype") or hasattr(obj, "type") or isinstance(obj, list | tuple))
    )


def _name(obj: object, i: int | None) -> str:
    name = getattr(obj, "name", None) if not isinstance(obj, np.ndarray) else None
    if isinstance(name, str) and name:
        return name
    return "group" if i is None else f"group_{i}"


# ----- one column to its native spec ----------------------------------------------------------------


def _spec(raw: Any) -> tuple[Spec, int]:
    module = _module_of(raw)
    if module == "pandas" and hasattr(raw, "dtype") and not hasattr(raw, "columns"):
        return _pandas(raw), len(raw)
    if module == "polars" and hasattr(raw, "dtype") and not hasattr(raw, "columns"):
        return _polars(raw), len(raw)
    if module == "pyarrow" and hasattr(raw, "type"):
        return _arrow(raw), len(raw)
    if isinstance(raw, str | bytes):
        raise InvalidArgumentError(f"invalid by: {raw!r}; give a column name or one label per row")
    if isinstance(raw, np.ma.MaskedArray) and raw.ndim == 1:  # a masked label is the missing label
        mask = np.ma.getmaskarray(raw)
        if raw.dtype.kind in "iufbM":
            return _numpy(np.asarray(raw.data), mask), raw.shape[0]
        return ("labels", _labels(raw.tolist())), raw.shape[0]
    if isinstance(raw, np.ndarray):
        if raw.ndim != 1:
            raise InvalidArgumentError(f"invalid by: expected one label per row, got shape {raw.shape}")
        return _numpy(raw), raw.shape[0]
    if isinstance(raw, Sequence):
        return ("labels", _labels(list(raw))), len(raw)
    raise InvalidArgumentError(
        f"invalid by: got a {type(raw).__name__}; give a column name or one label per row"
    )


def _numpy(a: npt.NDArray[Any], mask: npt.NDArray[np.bool_] | None = None) -> Spec:
    kind = a.dtype.kind
    if mask is not None:
        mask = np.ascontiguousarray(mask, dtype=np.bool_)
        if not mask.any():
            mask = None
    if kind in "iu":
        a = a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))
        return ("int", np.ascontiguousarray(a), mask)
    if kind == "f":
        if a.dtype not in (np.float32, np.float64) or not a.dtype.isnative:
            a = a.astype(np.float64)
        return ("float", np.ascontiguousarray(a), mask)
    if kind == "b":
        return ("bool", np.ascontiguousarray(a), mask)
    if kind == "M":
        unit, _ = np.datetime_data(a.dtype)
        if unit == "D":
            return ("datetime", np.ascontiguousarray(a.view(np.int64)), None)
        if unit not in ("s", "ms", "us", "ns"):
            a, unit = a.astype("datetime64[s]"), "s"
        values = np.ascontiguousarray(a.view(np.int64))
        if mask is not None:
            values = np.where(mask, np.iinfo(np.int64).min, values)
        return ("datetime", values, unit)
    return ("labels", _labels(a.tolist()))


def _categorical(codes: npt.NDArray[Any], levels: list[Any], ordered: bool) -> Spec:
    if codes.dtype.kind == "u" or codes.dtype.itemsize > 8:
        codes = codes.astype(np.int64)
    return ("categorical", np.ascontiguousarray(codes), ("labels", _labels(levels)), ordered)


def _pandas(s: Any) -> Spec:
    dtype = s.dtype
    if str(dtype) == "category":
        levels = s.cat.categories
        if levels.dtype.kind == "M":
            level_spec = _numpy(levels.to_numpy())
            if level_spec[0] == "datetime":
                return ("categorical", np.ascontiguousarray(s.cat.codes.to_numpy()), level_spec, True)
        return _categorical(s.cat.codes.to_numpy(), list(levels), True)
    kind = getattr(dtype, "kind", "O")
    na_value = getattr(dtype, "na_value", None)
    if kind in "iufb" and na_value is not None and hasattr(dtype, "numpy_dtype"):
        # Nullable Int64 / Float64 / boolean: values and the NA mask (a NaN in Float64 is missing too).
        mask = s.isna().to_numpy(dtype=bool)
        filled = s.to_numpy(dtype=dtype.numpy_dtype, na_value=0 if kind != "f" else np.nan)
        return _numpy(np.asarray(filled), mask)
    if kind in "iufbM" and getattr(dtype, "tz", None) is None:
        return _numpy(np.asarray(s.to_numpy()))
    if _is_text_dtype(dtype):
        try:
            import pyarrow as pa

            return _arrow(pa.array(s, from_pandas=True))
        except ImportError:  # pragma: no cover - pandas' arrow strings need pyarrow
            pass
    return ("labels", _labels(s.tolist()))


def _is_text_dtype(dtype: Any) -> bool:
    return str(dtype) in ("str", "string") or type(dtype).__name__ == "StringDtype"


def _polars(s: Any) -> Spec:
    import polars as pl

    dtype = s.dtype
    if s.n_chunks() > 1:
        s = s.rechunk()
    if isinstance(dtype, pl.Enum):
        codes = s.to_physical().cast(pl.Int64).fill_null(-1).to_numpy()
        return _categorical(codes, list(dtype.categories), True)
    if dtype == pl.Categorical or dtype == pl.String:
        return _arrow(s.to_arrow(compat_level=pl.CompatLevel.newest()))
    if dtype.is_numeric() or dtype == pl.Boolean:
        mask = s.is_null().to_numpy() if s.null_count() else None
        if dtype.is_float():
            values = s.fill_null(float("nan")).to_numpy()
        elif dtype == pl.Boolean:
            values = s.fill_null(False).to_numpy()
        else:
            values = s.fill_null(0).to_numpy()
        return _numpy(np.asarray(values), mask)
    if dtype == pl.Date:
        days = s.to_physical().cast(pl.Int64).fill_null(np.iinfo(np.int64).min).to_numpy()
        return ("datetime", np.ascontiguousarray(days), None)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        values = s.to_physical().fill_null(np.iinfo(np.int64).min).to_numpy()
        return ("datetime", np.ascontiguousarray(values), dtype.time_unit)
    return ("labels", _labels(s.to_list()))


def _arrow(a: Any) -> Spec:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks() if a.num_chunks != 1 else a.chunk(0)
    typ = a.type
    if pa.types.is_dictionary(typ):
        indices = pc.fill_null(a.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
        return _categorical(np.asarray(indices), a.dictionary.to_pylist(), bool(typ.ordered))
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return _text(a)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
        mask = np.asarray(a.is_null().to_numpy(zero_copy_only=False), dtype=bool) if a.null_count else None
        if a.null_count:
            fill = False if pa.types.is_boolean(typ) else 0
            a = pc.fill_null(a, fill)
        return _numpy(np.asarray(a.to_numpy(zero_copy_only=False)), mask)
    if pa.types.is_date32(typ):
        days = pc.fill_null(a.cast(pa.int32()).cast(pa.int64()), np.iinfo(np.int64).min)
        return ("datetime", np.ascontiguousarray(days.to_numpy()), None)
    if pa.types.is_timestamp(typ) and typ.tz is None:
        values = pc.fill_null(a.cast(pa.int64()), np.iinfo(np.int64).min)
        return ("datetime", np.ascontiguousarray(values.to_numpy()), typ.unit)
    return ("labels", _labels(a.to_pylist()))


def _text(a: Any) -> Spec:
    """An Arrow text array's buffers as numpy arrays (views of Arrow's memory, no copy)."""
    import pyarrow as pa

    buffers = a.buffers()
    n, offset = len(a), a.offset
    validity = None
    if a.null_count and buffers[0] is not None:
        validity = np.frombuffer(buffers[0], dtype=np.uint8)
    if pa.types.is_string_view(a.type):
        views = np.frombuffer(buffers[1], dtype=np.uint8)[16 * offset : 16 * (offset + n)]
        data = [_bytes(b) for b in buffers[2:]]
        return ("text", "views", views, data, validity, offset)
    width = np.int64 if pa.types.is_large_string(a.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=width)[offset : offset + n + 1] if n else np.zeros(1, width)
    layout = "offsets64" if width is np.int64 else "offsets32"
    return ("text", layout, np.ascontiguousarray(offsets), [_bytes(buffers[2])], validity, offset)


def _bytes(buffer: Any) -> npt.NDArray[np.uint8]:
    if buffer is None:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(buffer, dtype=np.uint8)


# ----- labels read one by one (object arrays, lists) ------------------------------------------------


def _labels(values: list[Any]) -> list[Any]:
    return [_label(v, i) for i, v in enumerate(values)]


def _label(v: Any, position: int) -> Any:
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, np.datetime64):
        if np.isnat(v):
            return None
        unit, _ = np.datetime_data(v.dtype)
        if unit == "D":
            return ("date", int(v.astype(np.int64)))
        if unit not in ("s", "ms", "us", "ns"):
            v, unit = v.astype("datetime64[s]"), "s"
        return ("datetime", int(v.astype(np.int64)), unit)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.UTC).replace(tzinfo=None)
        value = getattr(v, "value", None)  # a pandas Timestamp: nanoseconds
        if isinstance(value, int):
            return ("datetime", value, "ns")
        return ("datetime", (v - datetime.datetime(1970, 1, 1)) // datetime.timedelta(microseconds=1), "us")
    if isinstance(v, datetime.date):
        return ("date", v.toordinal() - datetime.date(1970, 1, 1).toordinal())
    if isinstance(v, decimal.Decimal):
        return None if v.is_nan() else float(v)
    raise InvalidArgumentError(
        f"invalid by: label {v!r} at position {position} is a {type(v).__name__}; labels must be text, "
        "numbers, booleans or dates (convert the column first)"
    )


def label_str(v: Any) -> str:
    """A label as text: a whole float reads as an integer, a midnight datetime as its date."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return str(int(v))
    if isinstance(v, np.datetime64):
        text = str(v)
        day, _, time = text.partition("T")
        return day if not time or set(time) <= set("0:.") else text
    return str(v)


# ----- typed labels in stored JSON --------------------------------------------------------------------


def key_to_json(key: Any) -> Any:
    """A group's key as JSON builtins that :func:`key_from_json` reads back with its type: text,
    integers, floats, booleans and the missing label as themselves, dates and moments tagged
    (``{"date": "2026-01-31"}``, ``{"datetime64": "2026-01-31T08:00:00", "unit": "s"}``), a key of
    several columns as a list."""
    if isinstance(key, tuple):
        return [_label_to_json(v) for v in key]
    return _label_to_json(key)


def key_from_json(stored: Any) -> Any:
    """The key written by :func:`key_to_json` (a tuple for a key of several columns)."""
    if isinstance(stored, list):
        return tuple(_label_from_json(v) for v in stored)
    return _label_from_json(stored)


def _label_to_json(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(v, np.datetime64):
        unit, _ = np.datetime_data(v.dtype)
        return {"datetime64": str(v), "unit": unit}
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, datetime.date):
        return {"date": v.isoformat()}
    if isinstance(v, np.generic):
        return _label_to_json(v.item())
    raise InvalidArgumentError(f"invalid label {v!r}: a {type(v).__name__} cannot be stored as JSON")


def _label_from_json(v: Any) -> Any:
    if not isinstance(v, dict):
        if v is None or isinstance(v, bool | int | float | str):
            return v
        raise InvalidArgumentError(f"invalid stored label {v!r}: not one written by to_json")
    try:
        if "datetime64" in v:
            return np.datetime64(v["datetime64"], v["unit"])
        if "datetime" in v:
            return datetime.datetime.fromisoformat(v["datetime"])
        if "date" in v:
            return datetime.date.fromisoformat(v["date"])
        if "float" in v:
            return float(v["float"])
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"invalid stored label {v!r}: {e}") from None
    raise InvalidArgumentError(f"invalid stored label {v!r}: not one written by to_json")
