"""Plain result data shared by every metric: intervals, and the one place results are formatted.

Every public result prints a compact summary (``str``), renders an escaped HTML table in Jupyter
(``_repr_html_``, built by :func:`html_table`), converts to JSON-safe builtins (``to_dict``) and, when it
is tabular, to a pandas or polars DataFrame (the :class:`Tabular` mixin, from one column description).
pandas and polars are imported only by the conversions that return their frames.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from .exceptions import UndefinedError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = ["Comparison", "Interval", "PandasMissingError"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A two-sided confidence interval.

    Attributes
    ----------
    low, high : float
        The bounds.
    confidence_level : float
        Nominal coverage, in (0, 1).
    method : str
        The method that computed it (e.g. ``"adjusted_wald"``, ``"wilson"``).
    clipped : bool
        Whether a bound was clipped to the parameter's range (e.g. NPS to [-1, 1]).

    Examples
    --------
    >>> from cx_metrics import Interval
    >>> ci = Interval(0.14, 0.44, 0.95, "adjusted_wald")
    >>> print(ci)
    95% CI [0.140, 0.440] (adjusted_wald)
    >>> ci.contains(0.3), round(ci.width, 2)
    (True, 0.3)
    >>> ci.to_dict()["high"]
    0.44
    """

    low: float
    high: float
    confidence_level: float
    method: str
    clipped: bool = False

    @classmethod
    def _from_native(cls, raw: tuple[float, float, float, bool], method: str) -> Interval:
        low, high, level, clipped = raw
        return cls(float(low), float(high), float(level), method, bool(clipped))

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the closed interval."""
        return self.low <= x <= self.high

    def __str__(self) -> str:
        return f"{level_text(self.confidence_level)} CI [{self.low:.3f}, {self.high:.3f}] ({self.method})"

    def to_dict(self) -> dict[str, Any]:
        """The interval as a JSON-safe dict (a NaN bound is None)."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}

    def _repr_html_(self) -> str:
        rows = [
            ("low", num(self.low)),
            ("high", num(self.high)),
            ("method", self.method),
            ("clipped to the parameter's range", "yes" if self.clipped else "no"),
        ]
        return html_table(f"{level_text(self.confidence_level)} confidence interval", rows)


def interval_or_none(compute: Callable[[], Interval]) -> Interval | None:
    """``compute()``, or None when the estimate is undefined (no rows, or too few for a spread)."""
    try:
        return compute()
    except UndefinedError:
        return None


def ci_bounds(ci: Interval | None) -> tuple[float, float]:
    """``(low, high)`` of an interval, NaN for both when there is none (an undefined estimate)."""
    return (math.nan, math.nan) if ci is None else (ci.low, ci.high)


def field_dict(result: Any) -> dict[str, Any]:
    """The public fields of a dataclass result as JSON-safe builtins (NaN as None, tuples as lists)."""
    return json_dict({f.name: getattr(result, f.name) for f in fields(result) if not f.name.startswith("_")})


class RebuiltOnLoad:
    """Mixin of the frozen results that keep their tally's state in ``_state``: pickling drops the
    native result (one with a NaN figure does not cross as JSON) and :meth:`_rebuild` makes it again
    from the state on load."""

    __slots__ = ()

    @staticmethod
    def _rebuild(state: dict[str, Any]) -> Any:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state.get("_state") is not None:
            state["_native"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("_native") is None and state.get("_state") is not None:
            state["_native"] = self._rebuild(state)
        self.__dict__.update(state)


# ----- formatting helpers ---------------------------------------------------------------------------


def level_text(confidence_level: float) -> str:
    """A confidence level as a percentage: ``0.95`` -> ``"95%"``, ``0.975`` -> ``"97.5%"``."""
    pct = 100.0 * confidence_level
    return f"{pct:.0f}%" if math.isclose(pct, round(pct)) else f"{pct:g}%"


def json_safe(x: Any) -> Any:
    """Floats that JSON cannot hold (NaN, ±inf) become None; everything else as is."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def json_clean(x: Any) -> Any:
    """``x`` as JSON-safe builtins, recursively: NaN and infinities become None, tuples lists, numpy
    scalars Python numbers, mapping keys text (a ``None`` key stays None only inside values)."""
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return json_safe(float(x))
    if isinstance(x, Mapping):
        return {str(k): json_clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_clean(v) for v in x]
    if hasattr(x, "to_dict"):
        return json_clean(x.to_dict())
    item = getattr(x, "item", None)  # numpy scalars
    if callable(item):
        return json_clean(item())
    raise TypeError(f"cannot convert a {type(x).__name__} to JSON")


def json_dict(x: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`json_clean` of a mapping: a fresh JSON-safe dict (nothing shared with ``x``)."""
    out: dict[str, Any] = json_clean(x)
    return out


def pct(share: float) -> str:
    """A share in [0, 1] as a percentage with one decimal (``"n/a"`` when NaN)."""
    return "n/a" if math.isnan(share) else f"{100.0 * share:.1f}%"


def signed(x: float, decimals: int = 1) -> str:
    """``x`` with its sign and ``decimals`` decimals, never ``-0.0`` (a value that rounds to zero is
    ``+0.0``)."""
    return f"{round(x, decimals) + 0.0:+.{decimals}f}"


def points(score: float) -> str:
    """An NPS fraction in [-1, 1] as signed points with one decimal (``"n/a"`` when NaN)."""
    return "n/a" if math.isnan(score) else signed(100.0 * score)


def num(x: float | None, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (``"n/a"`` for None or NaN)."""
    if x is None or math.isnan(x):
        return "n/a"
    return f"{x:.{digits}g}"


def fixed(x: float | None, decimals: int = 2) -> str:
    """A number with ``decimals`` decimals (``"n/a"`` for None or NaN)."""
    if x is None or math.isnan(x):
        return "n/a"
    return f"{x:.{decimals}f}"


def p_value(x: float | None) -> str:
    """A p-value: ``"<0.001"`` below 0.001, else three decimals (``"n/a"`` for None or NaN)."""
    if x is None or math.isnan(x):
        return "n/a"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def p_equals(x: float | None) -> str:
    """``"p = 0.123"``, or ``"p < 0.001"`` below 0.001 (``"p = n/a"`` for None or NaN)."""
    text = p_value(x)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = [f"{{:<{widths[0]}}}"] + [f"{{:>{w}}}" for w in widths[1:]]
    return ["  ".join(f.format(v) for f, v in zip(fmt, r, strict=True)).rstrip() for r in [header, *rows]]


# ----- the HTML of every result ---------------------------------------------------------------------

_CAPTION = "caption-side:top;text-align:left;font-weight:bold;padding-bottom:0.3em"
_LEFT = "text-align:left"
_RIGHT = "text-align:right"
_WARNING = "background-color:#fff3cd;color:#664d03"
_TOTAL = "font-weight:bold;border-top:1px solid currentColor"


def html_table(
    caption: str | None,
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] | None = None,
    warnings: Sequence[str] = (),
    total: Sequence[str] | None = None,
) -> str:
    """A small HTML table for Jupyter; every text is escaped and no script is emitted.

    The first cell of each row is its header (left-aligned), the others are right-aligned figures.
    ``total`` is a last row set apart (bold, ruled); each of ``warnings`` is a highlighted row
    (``class="cx-warning"``) spanning the table.
    """
    n_cols = max([len(header or ())] + [len(r) for r in rows] + [len(total or ()), 1])
    out = ["<table>"]
    if caption:
        out.append(f'<caption style="{_CAPTION}">{html.escape(caption)}</caption>')
    if header is not None:
        cells = "".join(
            f'<th style="{_LEFT if i == 0 else _RIGHT}">{html.escape(h)}</th>' for i, h in enumerate(header)
        )
        out.append(f"<thead><tr>{cells}</tr></thead>")
    out.append("<tbody>")
    for r in rows:
        out.append(_html_row(r))
    if total is not None:
        out.append(_html_row(total, style=_TOTAL))
    for w in warnings:
        out.append(
            f'<tr class="cx-warning" style="{_WARNING}"><td colspan="{n_cols}" style="{_LEFT}">'
            f"&#9888; {html.escape(w)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _html_row(cells: Sequence[str], style: str | None = None) -> str:
    attr = f' style="{style}"' if style else ""
    head, *rest = cells
    body = "".join(f'<td style="{_RIGHT}">{html.escape(c)}</td>' for c in rest)
    return f'<tr{attr}><th style="{_LEFT}">{html.escape(head)}</th>{body}</tr>'


def html_block(*parts: str, headline: str | None = None) -> str:
    """Tables (already HTML) in one ``<div>``, after an escaped ``headline`` paragraph."""
    lead = f"<p>{html.escape(headline)}</p>" if headline else ""
    return '<div class="cx-metrics">' + lead + "".join(parts) + "</div>"


# ----- DataFrames -----------------------------------------------------------------------------------

Kind = Literal["str", "int", "float", "bool"]
FrameColumn = tuple[str, Kind, Sequence[Any]]
"""A column of a result's table: name, kind, values (None for a missing text, NaN or None for a
missing number)."""


class PandasMissingError(ModuleNotFoundError):
    """A pandas DataFrame was asked for but pandas is not installed; the message says what to do."""


def require_pandas(instead: str | None = "use to_polars() for the same table as a polars DataFrame") -> Any:
    """The pandas module, or :class:`PandasMissingError` saying how to get it and, with ``instead``,
    what to use instead (never a bare ``ModuleNotFoundError``)."""
    try:
        import pandas as pd
    except ImportError as e:
        raise PandasMissingError(
            "this table is a pandas DataFrame, and pandas is not installed: install it with "
            "`pip install pandas`" + (f", or {instead}" if instead else ""),
            name="pandas",
        ) from e
    return pd


def pandas_available() -> bool:
    """Whether pandas can be imported (a module set to None in ``sys.modules`` counts as absent)."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def table_frame(columns: Sequence[FrameColumn], index: str | None = None) -> Any:
    """The columns as a pandas DataFrame (indexed by ``index`` when given) or, when pandas is not
    installed, as a polars DataFrame (``index`` stays the first column); when neither is installed,
    :class:`PandasMissingError` says how to get one."""
    if pandas_available() or not polars_available():
        frame = pandas_frame(columns)
        return frame if index is None else frame.set_index(index)
    return polars_frame(columns)


def polars_available() -> bool:
    try:
        import polars  # noqa: F401
    except ImportError:
        return False
    return True


def pandas_frame(columns: Sequence[FrameColumn]) -> pd.DataFrame:
    """A pandas DataFrame of the columns: numbers as float64 (NaN missing), counts as int64, text as
    pandas' default text dtype (missing: NaN with pandas 3, None before), flags as bool."""
    import numpy as np

    pd = require_pandas()

    # Text as pandas' own default: the "str" dtype from pandas 3 (NaN missing), object before (None).
    text: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object
    data: dict[str, Any] = {}
    for name, kind, values in columns:
        if kind == "float":
            data[name] = np.asarray([math.nan if v is None else float(v) for v in values], dtype=np.float64)
        elif kind == "int":
            data[name] = np.asarray([int(v) for v in values], dtype=np.int64)
        elif kind == "bool":
            data[name] = np.asarray([bool(v) for v in values], dtype=np.bool_)
        else:
            data[name] = pd.Series([None if v is None else str(v) for v in values], dtype=text)
    return pd.DataFrame(data)


def polars_frame(columns: Sequence[FrameColumn]) -> pl.DataFrame:
    """A polars DataFrame of the columns: numbers as Float64 with null for a missing or undefined
    value, counts as Int64, text as String, flags as Boolean."""
    try:
        import polars as pl
    except ImportError as e:
        raise ModuleNotFoundError(
            "to_polars() needs polars: install it with `pip install polars`, or use to_pandas()",
            name="polars",
        ) from e

    dtypes: dict[str, Any] = {"str": pl.String, "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean}
    series = []
    for name, kind, values in columns:
        if kind == "float":
            vals: list[Any] = [None if v is None or math.isnan(float(v)) else float(v) for v in values]
        elif kind == "int":
            vals = [int(v) for v in values]
        elif kind == "bool":
            vals = [bool(v) for v in values]
        else:
            vals = [None if v is None else str(v) for v in values]
        series.append(pl.Series(name, vals, dtype=dtypes[kind]))
    return pl.DataFrame(series)


class Tabular:
    """Mixin of the results that are tables: ``to_pandas()`` and ``to_polars()`` from ``_columns()``."""

    __slots__ = ()

    def _columns(self) -> list[FrameColumn]:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def to_pandas(self) -> pd.DataFrame:
        """The result's table as a pandas DataFrame (one row per record, key columns first; missing
        or undefined figures are NaN). See the class docstring for the columns."""
        return pandas_frame(self._columns())

    def to_polars(self) -> pl.DataFrame:
        """The result's table as a polars DataFrame (the columns of :meth:`to_pandas`; missing or
        undefined figures are null)."""
        return polars_frame(self._columns())


@dataclass(frozen=True)
class Comparison:
    """Difference of a score between two samples, ``a - b``, with its z test.

    Attributes
    ----------
    difference : float
        Estimated difference (fractions: 0.1 is 10 points).
    std_error : float
        Standard error of the difference.
    z : float
        Test statistic.
    p_value : float
        Two-sided p-value of ``z`` under the standard normal.
    method : str
        How the difference and its interval were computed.

    Call :meth:`ci` for the interval at any confidence level.
    """

    difference: float
    std_error: float
    z: float
    p_value: float
    method: str
    # The native function and its leading arguments: ci(level) calls it again with the level.
    _redo: tuple[str, tuple[Any, ...]] = field(repr=False, compare=False)

    @classmethod
    def _compute(cls, function: str, args: tuple[Any, ...], method: str) -> Comparison:
        from . import _native

        raw = getattr(_native, function)(*args, 0.95)
        return cls(
            float(raw.difference),
            float(raw.std_error),
            float(raw.z),
            float(raw.p_value),
            method,
            (function, args),
        )

    def ci(self, confidence_level: float = 0.95) -> Interval:
        """Confidence interval of the difference."""
        from . import _native

        function, args = self._redo
        raw = getattr(_native, function)(*args, confidence_level)
        return Interval._from_native(raw.interval, self.method)

    def __str__(self) -> str:
        ci = self.ci()
        return (
            f"difference {points(self.difference)} points (95% CI {points(ci.low)} to "
            f"{points(ci.high)}); z = {self.z:.2f}, p = {self.p_value:.3g} ({self.method})"
        )

    def to_json(self) -> str:
        """The comparison as JSON text, for storage: its figures and what its intervals are computed
        from (the two results, or the table of pairs, in the core's serde form; never rows)."""
        import json

        from ._json import write_document

        function, args = self._redo
        stored = [
            {"native": type(a).__name__, "core": json.loads(a.to_json())} if hasattr(a, "to_json") else a
            for a in args
        ]
        fields_ = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        return write_document("Comparison", {**fields_, "function": function, "arguments": stored})

    @classmethod
    def from_json(cls, text: str) -> Comparison:
        """A comparison from the text written by :meth:`to_json`."""
        import json

        from . import _native
        from ._json import as_float, read_document
        from .exceptions import InvalidArgumentError

        d = read_document(text, "Comparison")
        try:
            function = str(d["function"])
            if not function.startswith("compare_") or not hasattr(_native, function):
                raise InvalidArgumentError(f"invalid Comparison JSON: unknown function {function!r}")
            args: list[Any] = []
            for a in d["arguments"]:
                if isinstance(a, dict):
                    native_type = getattr(_native, str(a["native"]), None)
                    if native_type is None or not hasattr(native_type, "from_json"):
                        raise InvalidArgumentError(f"invalid Comparison JSON: unknown result {a['native']!r}")
                    args.append(native_type.from_json(json.dumps(a["core"])))
                else:
                    args.append(a)
            return cls(
                as_float(d["difference"]),
                as_float(d["std_error"]),
                as_float(d["z"]),
                as_float(d["p_value"]),
                str(d["method"]),
                (function, tuple(args)),
            )
        except (KeyError, TypeError) as e:
            raise InvalidArgumentError(f"invalid Comparison JSON: {type(e).__name__} {e}") from None

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-safe dict (with the 95% interval)."""
        out = {f.name: json_safe(getattr(self, f.name)) for f in fields(self) if not f.name.startswith("_")}
        out["ci"] = self.ci().to_dict()
        return out

    def _repr_html_(self) -> str:
        ci = self.ci()
        rows = [
            ("difference (a - b)", f"{points(self.difference)} points"),
            ("95% CI", f"{points(ci.low)} to {points(ci.high)} points"),
            ("standard error", f"{100 * self.std_error:.2f} points"),
            ("z", fixed(self.z)),
            ("p-value (two-sided)", p_value(self.p_value)),
            ("method", self.method),
        ]
        return html_table("Comparison of two samples", rows)


class NativeResult:
    """What every result holding a native (Rust) result shares: pickling through the native result
    (its JSON, never input rows), JSON for storage, and the core's result as Python objects.

    Subclasses are frozen dataclasses with a ``_native`` field; they set ``_native_type`` (the
    native class) and build themselves in ``_from_native``.
    """

    _native_type: ClassVar[Any]
    _native: Any

    @classmethod
    def _from_native(cls, native: Any) -> Self:
        raise NotImplementedError

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self)._from_native, (self._native,))

    @cached_property
    def _raw(self) -> dict[str, Any]:
        """The core's result as Python objects (serde, no text), for the nested tables."""
        raw: dict[str, Any] = self._native.to_dict()
        return raw

    def to_json(self) -> str:
        """The result as JSON text, for storage (the core's serde form; never the input rows)."""
        text: str = self._native.to_json()
        return text

    @classmethod
    def from_json(cls, text: str) -> Self:
        """A result from the text written by :meth:`to_json` (without rows: methods that need them
        say what to pass)."""
        return cls._from_native(cls._native_type.from_json(text))
