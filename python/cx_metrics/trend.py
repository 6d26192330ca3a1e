"""Trends over waves and many groups at once: ``cx.trend`` (the estimate per wave, the change between
consecutive waves, a trend test, a control chart with the Western Electric rules, per segment) and
``cx.compare_all`` (every pair of segments, with Holm or Benjamini-Hochberg adjusted p-values).

The statistics are computed in the Rust core (``cx_metrics::trend``, ``cx_metrics::control_chart``,
``cx_metrics::multiple``); rows are grouped by the grouping engine, with its rules (categorical order,
numbers numerically, dates chronologically, text by code point). See ``docs/trends.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from . import _native
from ._convert import to_values, to_weights
from ._groups import key_columns, key_from_json, key_to_json
from ._json import read_document, write_document
from ._results import (
    FrameColumn,
    Tabular,
    fixed,
    html_block,
    html_table,
    json_dict,
    level_text,
    p_equals,
    p_value,
    pct,
    points,
    signed,
    text_table,
)
from ._table import Table
from ._tally import NanPolicy
from .exceptions import InvalidArgumentError
from .nps_groups import (
    Key,
    find_key,
    group_keys,
    has_missing_label,
    json_key,
    key_columns_of,
    key_text,
    labelled_frame,
    labelled_pandas,
    labelled_polars,
    warn_missing_labels,
)

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    from matplotlib.axes import Axes

    from .csat import Satisfied

__all__ = ["AllPairs", "Trend", "TrendMetric", "compare_all", "trend"]

TrendMetric = Literal["nps", "csat", "csat_mean", "ces", "ces_mean", "mean"]
"""What is followed: the NPS, the CSAT satisfied share or mean, the CES agree share or mean, or the
mean of any rating scale (``scale=(low, high)``)."""
Adjust = Literal["holm", "bh", "benjamini_hochberg", "none"] | None
Limits = Literal["standard", "laney"]
TrendTable = Literal["waves", "changes", "tests"]

_OUTCOMES = {"nps": "ltr", "csat": "csat", "csat_mean": "csat", "ces": "ces", "ces_mean": "ces"}


@dataclass(frozen=True)
class _Spec:
    """How the core reads the metric: its measure, points of a share, scale and display."""

    metric: str
    measure: str
    points: tuple[int, int] | None
    scale: tuple[int, int]
    higher_is_better: bool
    name: str  # for display: "NPS", "CSAT (top_two_box)", "CES 2.0 mean", ...

    def text(self, x: float) -> str:
        if self.measure == "nps":
            return points(x)
        if self.measure == "share":
            return pct(x)
        return fixed(x)

    def diff_text(self, x: float) -> str:
        if math.isnan(x):
            return "n/a"
        if self.measure == "nps":
            return f"{signed(100 * x)} pts"
        if self.measure == "share":
            return f"{signed(100 * x)} pp"
        return signed(x, 2)

    @property
    def unit(self) -> float:
        """Factor to the displayed unit (points and percent: 100)."""
        return 1.0 if self.measure == "mean" else 100.0


def _spec(metric: str, scale: object, satisfied: Satisfied | None, version: int) -> _Spec:
    if metric == "nps":
        return _Spec(metric, "nps", None, (0, 10), True, "NPS")
    if metric in ("csat", "csat_mean"):
        points_ = 5 if scale is None else scale
        if not isinstance(points_, int) or isinstance(points_, bool):
            raise InvalidArgumentError(
                f"invalid scale: {scale!r}; CSAT takes the number of points (2, 3, 5, 7 or 10)"
            )
        from .csat import CsatTally

        tally = CsatTally(points_)  # checks the number of points
        if metric == "csat_mean":
            return _Spec(metric, "mean", None, (1, points_), True, f"CSAT mean (1-{points_})")
        if satisfied is None:
            raise InvalidArgumentError(
                'invalid satisfied: metric="csat" needs satisfied= ("top_box", "top_two_box" or a '
                'threshold point), as cx.csat does; or use metric="csat_mean"'
            )
        lo, hi = tally.result(satisfied=satisfied).satisfied_points
        return _Spec(metric, "share", (lo, hi), (1, points_), True, f"CSAT ({satisfied})")
    if metric in ("ces", "ces_mean"):
        if version not in (1, 2):
            raise InvalidArgumentError(
                f"invalid version: {version!r}; use 2 (CES 2.0, 1-7) or 1 (CES 1.0, 1-5)"
            )
        top, better = (7, True) if version == 2 else (5, False)
        if metric == "ces_mean":
            return _Spec(metric, "mean", None, (1, top), better, f"CES {version}.0 mean")
        agree = (5, 7) if version == 2 else (1, 2)
        return _Spec(metric, "share", agree, (1, top), better, f"CES {version}.0 (agree)")
    if metric == "mean":
        if (
            not isinstance(scale, tuple | list)
            or len(scale) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
        ):
            raise InvalidArgumentError(
                f'invalid scale: {scale!r}; metric="mean" needs the scale as (low, high), e.g. scale=(1, 10)'
            )
        lo, hi = int(scale[0]), int(scale[1])
        return _Spec(metric, "mean", None, (lo, hi), True, f"mean ({lo}-{hi})")
    raise InvalidArgumentError(
        f'invalid metric: {metric!r}; use "nps", "csat", "csat_mean", "ces", "ces_mean" or "mean"'
    )


def _adjust(adjust: Adjust) -> str:
    if adjust is None:
        return "none"
    if adjust not in ("holm", "bh", "benjamini_hochberg", "none"):
        raise InvalidArgumentError(f'invalid adjust: {adjust!r}; use "holm", "bh" or None')
    return "benjamini_hochberg" if adjust == "bh" else adjust


def _rows(
    data: object, outcome: str | None, metric: str, weights: object
) -> tuple[Table, str, npt.NDArray[np.float64], npt.NDArray[np.float64] | None]:
    table = Table(data)
    name = outcome if outcome is not None else _OUTCOMES.get(metric)
    if name is None:
        raise InvalidArgumentError(f'invalid outcome: metric="{metric}" needs outcome= (the rating column)')
    values = np.ascontiguousarray(to_values(table._raw(name), name), dtype=np.float64)
    if isinstance(weights, str):
        weights = table._raw(weights)
    w = to_weights(weights, values.shape[0])
    return table, name, values, w


def _codes(by: object, table: Table, n: int, *, drop_missing: bool) -> tuple[tuple[str, ...], list[Key], Any]:
    """The groups of ``by``: column names, keys in the engine's order, and uint32 codes per row
    (with ``drop_missing``, the missing label is no group: its rows get 2^32 - 1)."""
    keys = key_columns(by, table, n)
    labels, codes = _native.group_codes(keys.specs, n)
    groups = list(group_keys(labels, len(keys.names)))
    if drop_missing and groups and has_missing_label(groups[-1]):
        missing = len(groups) - 1
        codes = np.where(codes == missing, np.uint32(2**32 - 1), codes).astype(np.uint32)
        groups = groups[:-1]
    return keys.names, groups, np.ascontiguousarray(codes, dtype=np.uint32)


def _flag_columns(chart: dict[str, Any]) -> list[FrameColumn]:
    rules = chart["rules"]
    flags = [any(r[i] for r in rules.values()) for i in range(len(rules["rule_1"]))]
    return [(name, "bool", rules[name]) for name in ("rule_1", "rule_2", "rule_3", "rule_4")] + [
        ("flagged", "bool", flags)
    ]


def _nan(x: Any) -> float:
    return math.nan if x is None else float(x)


@dataclass(frozen=True)
class Trend(Tabular):
    """An estimate followed over waves, per segment: ``cx.trend(...)``.

    Attributes
    ----------
    metric : str
        ``"nps"``, ``"csat"``, ``"csat_mean"``, ``"ces"``, ``"ces_mean"`` or ``"mean"``.
    outcome : str
        The rating column.
    by : str or tuple of str
        The wave column.
    segment : str, tuple of str or None
        The segment column(s), None without segments.
    waves : tuple
        The waves in order (typed labels, the grouping engine's order).
    segments : tuple
        The segments in order (``(None,)`` without segments: one trend of all rows).
    confidence_level, adjust, limits : the options.
    linked : bool
        Whether ``respondent_id`` linked respondents across waves (paired changes).
    n_without_wave : int
        Rows without a wave label: left out of every wave and counted.

    Tables (``to_pandas(table)`` / ``to_polars(table)``):

    - ``"waves"``: one row per segment and wave: ``n``, ``n_omitted``, ``effective_n``, ``estimate``,
      ``std_error``, ``ci_low``, ``ci_high``, the control chart's ``centre``, ``lcl``, ``ucl``,
      ``sigma`` (the wave's standard error at the centre line), ``z`` (distance in chart sigmas),
      ``moving_range``, the Western Electric flags ``rule_1`` ... ``rule_4`` and ``flagged`` (any rule).
    - ``"changes"``: one row per segment and pair of consecutive waves: ``from``, ``to``, ``test``
      (``"independent"`` or ``"paired"``), ``difference`` (later - earlier), ``std_error``, ``z``,
      ``p_value``, ``p_adjusted`` (over every change of the result), ``ci_low``, ``ci_high``,
      ``significant`` (``p_adjusted < 1 - confidence_level``), ``n_paired``, ``n_only_from``,
      ``n_only_to``.
    - ``"tests"``: one row per segment: the trend test (``method`` ``"wls_slope"``, ``slope`` per
      wave, ``std_error``, ``z``, ``p_value``, ``p_adjusted`` across segments, ``n_waves``), and the
      chart (``chart``, ``limits``, ``centre``, ``sigma_z``).
    """

    metric: str
    outcome: str
    by: str | tuple[str, ...]
    segment: str | tuple[str, ...] | None
    waves: tuple[Key, ...]
    segments: tuple[Key, ...]
    _native: Any = field(repr=False, compare=False)
    _name: str = field(repr=False, compare=False, default="")

    @cached_property
    def _raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = self._native.to_dict()
        return raw

    @property
    def _spec(self) -> _Spec:
        return _SpecView.of(self._raw["measure"], self.metric, self._name)

    @property
    def confidence_level(self) -> float:
        return float(self._raw["options"]["confidence_level"])

    @property
    def adjust(self) -> str:
        return str(self._raw["options"]["adjust"])

    @property
    def limits(self) -> str:
        return str(self._raw["options"]["limits"])

    @property
    def linked(self) -> bool:
        return bool(self._raw["linked"])

    @property
    def n_without_wave(self) -> int:
        return int(self._raw["n_without_wave"])

    @property
    def by_columns(self) -> tuple[str, ...]:
        return self.by if isinstance(self.by, tuple) else (self.by,)

    @property
    def segment_columns(self) -> tuple[str, ...]:
        if self.segment is None:
            return ()
        return self.segment if isinstance(self.segment, tuple) else (self.segment,)

    def _segment_index(self, segment: Key) -> int:
        if self.segment is None:
            if segment is None:
                return 0
            raise InvalidArgumentError("invalid segment: this trend has no segments")
        return self.segments.index(find_key(self.segments, segment))

    # ----- tables ------------------------------------------------------------------------------------

    def _label_columns(self, rows: list[tuple[int, Key | None]]) -> list[tuple[str, list[Any]]]:
        out: list[tuple[str, list[Any]]] = []
        if self.segment is not None:
            out += key_columns_of(self.segment_columns, [self.segments[s] for s, _ in rows])
        if rows and rows[0][1] is not None:
            out += key_columns_of(self.by_columns, [w for _, w in rows])
        return out

    def _wave_columns(self) -> tuple[list[tuple[int, Key | None]], list[FrameColumn]]:
        rows: list[tuple[int, Key | None]] = []
        cols: dict[str, list[Any]] = {}
        flags: dict[str, list[Any]] = {}
        for s, seg in enumerate(self._raw["segments"]):
            chart = seg["chart"]
            for i, w in enumerate(seg["waves"]):
                rows.append((s, self.waves[i]))
                for name, value in (
                    ("n", w["n"]),
                    ("n_omitted", w["n_omitted"]),
                    ("effective_n", w["effective_n"]),
                    ("estimate", w["estimate"]),
                    ("std_error", w["std_error"]),
                    ("ci_low", w["ci_low"]),
                    ("ci_high", w["ci_high"]),
                    ("centre", chart["centre"]),
                    ("lcl", chart["lower"][i]),
                    ("ucl", chart["upper"][i]),
                    ("sigma", chart["sigma"][i]),
                    ("z", chart["z"][i]),
                    ("moving_range", chart["moving_ranges"][i]),
                ):
                    cols.setdefault(name, []).append(value)
            for name, _, values in _flag_columns(chart):
                flags.setdefault(name, []).extend(values)
        ints = {"n", "n_omitted"}
        out: list[FrameColumn] = [
            (name, "int" if name in ints else "float", [v if name in ints else _nan(v) for v in values])
            for name, values in cols.items()
        ]
        out += [(name, "bool", values) for name, values in flags.items()]
        return rows, out

    def _change_columns(self) -> tuple[list[tuple[int, Key | None]], list[FrameColumn]]:
        rows: list[tuple[int, Key | None]] = []
        out: dict[str, list[Any]] = {}
        alpha = 1.0 - self.confidence_level
        for s, seg in enumerate(self._raw["segments"]):
            for c in seg["changes"]:
                rows.append((s, None))
                for name, value in (
                    ("from", self.waves[c["from"]]),
                    ("to", self.waves[c["to"]]),
                    ("test", c["test"]),
                    ("difference", _nan(c["difference"])),
                    ("std_error", _nan(c["std_error"])),
                    ("z", _nan(c["z"])),
                    ("p_value", _nan(c["p_value"])),
                    ("p_adjusted", _nan(c["p_adjusted"])),
                    ("ci_low", _nan(c["ci_low"])),
                    ("ci_high", _nan(c["ci_high"])),
                    ("significant", _nan(c["p_adjusted"]) < alpha),
                    ("n_paired", c["n_paired"]),
                    ("n_only_from", c["n_only_from"]),
                    ("n_only_to", c["n_only_to"]),
                ):
                    out.setdefault(name, []).append(value)
        kinds: dict[str, Any] = {
            "test": "str",
            "significant": "bool",
            "n_paired": "int",
            "n_only_from": "int",
        }
        kinds["n_only_to"] = "int"
        columns: list[FrameColumn] = []
        for name, values in out.items():
            if name in ("from", "to"):
                continue
            columns.append((name, kinds.get(name, "float"), values))
        return rows, columns

    def _wave_pair_columns(self) -> list[tuple[str, list[Any]]]:
        pairs = [
            (self.waves[c["from"]], self.waves[c["to"]])
            for seg in self._raw["segments"]
            for c in seg["changes"]
        ]
        return [("from", [a for a, _ in pairs]), ("to", [b for _, b in pairs])]

    def _test_columns(self) -> tuple[list[tuple[int, Key | None]], list[FrameColumn]]:
        segs = self._raw["segments"]
        rows: list[tuple[int, Key | None]] = [(s, None) for s in range(len(segs))]
        t = [seg["test"] for seg in segs]
        c = [seg["chart"] for seg in segs]
        columns: list[FrameColumn] = [
            ("method", "str", [x["method"] for x in t]),
            ("slope", "float", [_nan(x["slope"]) for x in t]),
            ("std_error", "float", [_nan(x["std_error"]) for x in t]),
            ("z", "float", [_nan(x["z"]) for x in t]),
            ("p_value", "float", [_nan(x["p_value"]) for x in t]),
            ("p_adjusted", "float", [_nan(x["p_adjusted"]) for x in t]),
            ("n_waves", "int", [x["n_waves"] for x in t]),
            ("chart", "str", [x["kind"] for x in c]),
            ("limits", "str", [x["limits"] for x in c]),
            ("centre", "float", [_nan(x["centre"]) for x in c]),
            ("sigma_z", "float", [_nan(x["sigma_z"]) for x in c]),
        ]
        return rows, columns

    def _table(self, table: TrendTable) -> tuple[list[tuple[str, list[Any]]], list[FrameColumn]]:
        if table == "waves":
            rows, cols = self._wave_columns()
            return self._label_columns(rows), cols
        if table == "changes":
            rows, cols = self._change_columns()
            return self._label_columns(rows) + self._wave_pair_columns(), cols
        if table == "tests":
            rows, cols = self._test_columns()
            return self._label_columns(rows), cols
        raise InvalidArgumentError(f'invalid table: {table!r}; use "waves", "changes" or "tests"')

    def _columns(self) -> list[FrameColumn]:
        return self._wave_columns()[1]

    def to_pandas(self, table: TrendTable = "waves") -> pd.DataFrame:
        """One of the result's tables as a pandas DataFrame (see the class docstring)."""
        labels, cols = self._table(table)
        return labelled_pandas(labels, cols)

    def to_polars(self, table: TrendTable = "waves") -> pl.DataFrame:
        """One of the result's tables as a polars DataFrame (the columns of :meth:`to_pandas`)."""
        labels, cols = self._table(table)
        return labelled_polars(labels, cols)

    @property
    def table(self) -> pd.DataFrame:
        """The waves table as a pandas DataFrame (polars when pandas is not installed)."""
        return labelled_frame(*self._table("waves"))

    @property
    def changes(self) -> pd.DataFrame:
        """The changes table as a pandas DataFrame (polars when pandas is not installed)."""
        return labelled_frame(*self._table("changes"))

    @property
    def tests(self) -> pd.DataFrame:
        """The trend tests and charts, one row per segment, as a pandas DataFrame (polars when pandas is
        not installed)."""
        return labelled_frame(*self._table("tests"))

    @property
    def flagged(self) -> list[Key]:
        """The waves flagged by any Western Electric rule: wave keys, or (segment, wave) pairs with
        segments."""
        out: list[Key] = []
        for s, seg in enumerate(self._raw["segments"]):
            rules = seg["chart"]["rules"]
            for i in range(len(self.waves)):
                if any(r[i] for r in rules.values()):
                    out.append(self.waves[i] if self.segment is None else (self.segments[s], self.waves[i]))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe builtins: the options, the waves and segments (labels as text), and
        the core's result per segment (its field names; undefined figures are None)."""
        raw = self._raw
        return {
            "metric": self.metric,
            "outcome": self.outcome,
            "by": list(self.by_columns),
            "segment": list(self.segment_columns) or None,
            "waves": [json_key(w) for w in self.waves],
            "segments": [json_key(s) for s in self.segments] if self.segment is not None else None,
            **json_dict(raw),
        }

    def to_json(self) -> str:
        """The trend as JSON text, for storage: its options, the waves' and segments' typed labels
        and the core's result; :meth:`from_json` reads it back (tables, printout and plot alike)."""
        return write_document(
            "Trend",
            {
                "metric": self.metric,
                "name": self._name,
                "outcome": self.outcome,
                "by": list(self.by_columns),
                "segment": list(self.segment_columns) if self.segment is not None else None,
                "waves": [key_to_json(w) for w in self.waves],
                "segments": [key_to_json(s) for s in self.segments],
                "core": json.loads(self._native.to_json()),
            },
        )

    @classmethod
    def from_json(cls, text: str) -> Trend:
        """A trend from the text written by :meth:`to_json`."""
        d = read_document(text, "Trend")
        try:
            return _restore_trend(
                json.dumps(d["core"]),
                str(d["metric"]),
                str(d["outcome"]),
                _names(d["by"]),
                None if d["segment"] is None else _names(d["segment"]),
                tuple(key_from_json(w) for w in d["waves"]),
                tuple(key_from_json(s) for s in d["segments"]),
                str(d["name"]),
            )
        except (KeyError, TypeError) as e:
            raise InvalidArgumentError(f"invalid Trend JSON: {type(e).__name__} {e}") from None

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _restore_trend,
            (
                self._native.to_json(),
                self.metric,
                self.outcome,
                self.by,
                self.segment,
                self.waves,
                self.segments,
                self._name,
            ),
        )

    # ----- display -----------------------------------------------------------------------------------

    def _headline(self) -> str:
        spec = self._spec
        by = " / ".join(self.by_columns)
        seg = f", {len(self.segments)} segments by {' / '.join(self.segment_columns)}" if self.segment else ""
        test = "paired where respondents are linked" if self.linked else "independent waves"
        return (
            f"{spec.name} of {self.outcome} over {len(self.waves)} waves of {by}{seg}; "
            f"{level_text(self.confidence_level)} CI; changes: {test}, p adjusted by {self.adjust}; "
            f"{self._raw['segments'][0]['chart']['kind']} chart"
        )

    def _segment_rows(self, s: int) -> list[tuple[str, ...]]:
        spec = self._spec
        seg = self._raw["segments"][s]
        chart = seg["chart"]
        flags = _flag_columns(chart)
        rows: list[tuple[str, ...]] = []
        for i, w in enumerate(seg["waves"]):
            fired = [name[-1] for name, _, values in flags[:4] if values[i]]
            est = _nan(w["estimate"])
            ci = (
                "-"
                if math.isnan(_nan(w["ci_low"]))
                else f"{spec.text(_nan(w['ci_low']))} to {spec.text(_nan(w['ci_high']))}"
            )
            limits = f"{spec.text(_nan(chart['lower'][i]))} to {spec.text(_nan(chart['upper'][i]))}"
            change = "" if i == 0 else spec.diff_text(_nan(seg["changes"][i - 1]["difference"]))
            p = "" if i == 0 else p_value(_nan(seg["changes"][i - 1]["p_adjusted"]))
            rows.append(
                (
                    key_text(self.waves[i]),
                    str(w["n"]),
                    spec.text(est) if w["undefined"] is None else "undefined",
                    ci,
                    change,
                    p,
                    limits,
                    ("rule " + ",".join(fired)) if fired else "",
                )
            )
        return rows

    def _header(self) -> tuple[str, ...]:
        return (
            " / ".join(self.by_columns),
            "n",
            self._spec.name.split(" (")[0],
            f"{level_text(self.confidence_level)} CI",
            "change",
            "p adj.",
            "control limits",
            "flags",
        )

    def _test_line(self, s: int) -> str:
        t = self._raw["segments"][s]["test"]
        spec = self._spec
        slope = _nan(t["slope"])
        return f"trend (WLS slope per wave): {spec.diff_text(slope)}, {p_equals(_nan(t['p_value']))}" + (
            f" (adjusted {p_value(_nan(t['p_adjusted']))})" if self.segment is not None else ""
        )

    def _warnings(self) -> list[str]:
        out = []
        if self.n_without_wave:
            out.append(f"{self.n_without_wave} rows have no {' / '.join(self.by_columns)} label; left out")
        return out

    def __str__(self) -> str:
        lines = [self._headline()]
        for s in range(len(self.segments)):
            lines.append("")
            if self.segment is not None:
                lines.append(f"{' / '.join(self.segment_columns)} = {key_text(self.segments[s])}")
            lines += text_table(self._header(), self._segment_rows(s))
            lines.append(self._test_line(s))
        return "\n".join(lines + [f"warning: {w}" for w in self._warnings()])

    def _repr_html_(self) -> str:
        parts = []
        for s in range(len(self.segments)):
            caption = self._test_line(s)
            if self.segment is not None:
                caption = f"{' / '.join(self.segment_columns)} = {key_text(self.segments[s])}: {caption}"
            parts.append(html_table(caption, self._segment_rows(s), header=self._header()))
        if self._warnings():
            parts.append(html_table(None, [], warnings=self._warnings()))
        return html_block(*parts, headline=self._headline())

    def plot(self, segment: Key = None, **kwargs: Any) -> Axes:
        """The control chart of one segment (:func:`cx_metrics.plot.trend`)."""
        from .plot import trend as draw

        return draw(self, segment=segment, **kwargs)


class _SpecView:
    @staticmethod
    def of(measure: dict[str, Any], metric: str, name: str) -> _Spec:
        kind = str(measure["kind"])
        pts = (int(measure["low"]), int(measure["high"])) if kind == "share" else None
        return _Spec(metric, kind, pts, (0, 0), True, name)


def _names(stored: Any) -> str | tuple[str, ...]:
    """Stored column names: one name, or a tuple of several."""
    names = [str(n) for n in stored]
    return names[0] if len(names) == 1 else tuple(names)


def _restore_trend(
    text: str,
    metric: str,
    outcome: str,
    by: str | tuple[str, ...],
    segment: str | tuple[str, ...] | None,
    waves: tuple[Key, ...],
    segments: tuple[Key, ...],
    name: str,
) -> Trend:
    return Trend(metric, outcome, by, segment, waves, segments, _native.Trend.from_json(text), name)


def trend(
    data: object,
    metric: TrendMetric = "nps",
    by: str | Sequence[str] | object = "wave",
    *,
    outcome: str | None = None,
    segment: str | Sequence[str] | object = None,
    respondent_id: str | object = None,
    weights: object = None,
    scale: int | tuple[int, int] | None = None,
    satisfied: Satisfied | None = None,
    version: Literal[1, 2] = 2,
    nan_policy: NanPolicy = "omit",
    confidence_level: float = 0.95,
    adjust: Adjust = "holm",
    limits: Limits = "standard",
) -> Trend:
    """An estimate followed over waves: per wave its estimate and interval, the change between
    consecutive waves with its test, a trend test across waves and a control chart with the Western
    Electric rules; per segment with ``segment=``, all in one pass over the rows.

    Parameters
    ----------
    data : table
        A pandas, polars or pyarrow table, or a dict of columns.
    metric : {"nps", "csat", "csat_mean", "ces", "ces_mean", "mean"}
        What is followed: NPS (adjusted Wald intervals, trinomial control limits), the CSAT satisfied
        share or the CES agree share (Wilson intervals, p-chart), a mean rating (t intervals, X-bar chart).
    by : str, list of str, or array
        The wave column. Waves are ordered by the grouping engine's rules (categorical order, numbers
        numerically, dates chronologically, text by code point); rows without a wave label are left
        out and counted (``n_without_wave``).
    outcome : str, optional
        The rating column (default ``"ltr"`` for NPS, ``"csat"``, ``"ces"``; required for ``"mean"``).
    segment : str, list of str, or array, optional
        Segments followed at once; the consecutive-change tests of every segment are adjusted as one
        family, the trend tests as another.
    respondent_id : str or array, optional
        Links respondents across waves: the change between two waves is then the paired change of
        the respondents who answered in both (the others are counted in ``n_only_from`` /
        ``n_only_to`` and left out of that test); a respondent may answer once per wave.
    weights : str or array, optional
        Survey weights (finite, >= 0); intervals and tests use each wave's Kish effective n.
    scale : int or (int, int), optional
        CSAT: the number of points (default 5); ``"mean"``: the scale ``(low, high)``.
    satisfied : {"top_box", "top_two_box"} or int
        CSAT: which answers are satisfied (required for ``metric="csat"``, as in :func:`csat`).
    version : {2, 1}
        CES version (2.0: 1-7, agree 5-7; 1.0: 1-5, low effort 1-2).
    nan_policy : {"omit", "raise"}
        Missing ratings: omitted and counted per wave, or an error.
    confidence_level : float
        Level of the intervals; changes are ``significant`` when ``p_adjusted < 1 - confidence_level``.
    adjust : {"holm", "bh", None}
        Multiplicity adjustment of the change tests (Holm: family-wise error; Benjamini-Hochberg:
        false discovery rate).
    limits : {"standard", "laney"}
        The control limits: 3 standard errors of each wave (at its own effective n, under the centre
        line) either side of the centre line (p-chart, trinomial, X-bar), or Laney's (Laney P-prime,
        Laney trinomial, I-MR: those standard errors times sigma_z = mean moving range / 1.128).

    Returns
    -------
    Trend

    Examples
    --------
    >>> import cx_metrics as cx
    >>> data = {"ltr": [10, 9, 3, 8, 10, 10, 6, 9, 10, 9, 10, 7],
    ...         "wave": ["Q1"] * 4 + ["Q2"] * 4 + ["Q3"] * 4}
    >>> t = cx.trend(data, "nps", by="wave")
    >>> t.waves
    ('Q1', 'Q2', 'Q3')
    >>> t.table["estimate"].round(2).tolist()
    [0.25, 0.5, 0.75]
    >>> t.tests["method"].tolist()
    ['wls_slope']
    """
    spec = _spec(str(metric), scale, satisfied, int(version))
    adjust_name = _adjust(adjust)
    if limits not in ("standard", "laney"):
        raise InvalidArgumentError(f'invalid limits: {limits!r}; use "standard" or "laney"')
    table, outcome_name, values, w = _rows(data, outcome, spec.metric, weights)
    n = values.shape[0]
    by_names, waves, wave_codes = _codes(by, table, n, drop_missing=True)
    if not waves:
        raise InvalidArgumentError(f"invalid by: no row has a {' / '.join(by_names)} label")
    seg_names: tuple[str, ...] = ()
    segments: list[Key] = [None]
    seg_codes = None
    if segment is not None:
        seg_names, segments, seg_codes = _codes(segment, table, n, drop_missing=False)
        missing = sum(1 for s in segments if has_missing_label(s))
        if missing:
            seg_missing = int(np.count_nonzero(seg_codes == len(segments) - 1))
            warn_missing_labels(seg_missing, seg_names, stacklevel=2)
    ids = None
    if respondent_id is not None:
        _, _, ids = _codes(respondent_id, table, n, drop_missing=True)
    native = _native.trend(
        values,
        wave_codes,
        len(waves),
        measure=spec.measure,
        scale_min=spec.scale[0],
        scale_max=spec.scale[1],
        higher_is_better=spec.higher_is_better,
        points=spec.points,
        segments=seg_codes,
        n_segments=len(segments),
        respondents=ids,
        weights=w,
        nan_policy=nan_policy,
        confidence_level=confidence_level,
        adjust=adjust_name,
        limits=limits,
    )
    if native.n_without_wave:
        warn_missing_labels(native.n_without_wave, by_names, stacklevel=2)
    return Trend(
        metric=spec.metric,
        outcome=outcome_name,
        by=by_names[0] if len(by_names) == 1 else by_names,
        segment=None if segment is None else (seg_names[0] if len(seg_names) == 1 else seg_names),
        waves=tuple(waves),
        segments=tuple(segments),
        _native=native,
        _name=spec.name,
    )


# ----- all pairs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllPairs(Tabular):
    """Every pair of groups compared: ``cx.compare_all(...)``.

    Attributes
    ----------
    metric, outcome : str
        What was compared, and the rating column.
    by : str or tuple of str
        The group column(s).
    groups : tuple
        The groups in the grouping engine's order (typed labels).
    confidence_level : float
    adjust : str
        ``"holm"``, ``"benjamini_hochberg"`` or ``"none"``.

    ``to_pandas()`` / ``to_polars()`` give one row per pair ``a < b``: ``a``, ``b`` (labels),
    ``difference`` (a - b), ``std_error``, ``z``, ``p_value``, ``p_adjusted`` (over every pair),
    ``ci_low``, ``ci_high`` (Wald, unadjusted) and ``significant``
    (``p_adjusted < 1 - confidence_level``); ``to_pandas("groups")`` one row per group (``n``,
    ``estimate``, ``ci_low``, ``ci_high``). :meth:`matrix` is the square table of differences
    (row - column), :meth:`plot` its heat map with significance marks.
    """

    metric: str
    outcome: str
    by: str | tuple[str, ...]
    groups: tuple[Key, ...]
    _native: Any = field(repr=False, compare=False)
    _name: str = field(repr=False, compare=False, default="")

    @cached_property
    def _raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = self._native.to_dict()
        return raw

    @property
    def confidence_level(self) -> float:
        return float(self._raw["confidence_level"])

    @property
    def adjust(self) -> str:
        return str(self._raw["adjust"])

    @property
    def by_columns(self) -> tuple[str, ...]:
        return self.by if isinstance(self.by, tuple) else (self.by,)

    def _spec(self) -> _Spec:
        return _SpecView.of(self._raw["measure"], self.metric, self._name)

    def _pair_columns(self) -> tuple[list[tuple[str, list[Any]]], list[FrameColumn]]:
        pairs = self._raw["pairs"]
        alpha = 1.0 - self.confidence_level
        labels = [("a", [self.groups[p["a"]] for p in pairs]), ("b", [self.groups[p["b"]] for p in pairs])]
        cols: list[FrameColumn] = [
            (name, "float", [_nan(p[name]) for p in pairs])
            for name in ("difference", "std_error", "z", "p_value", "p_adjusted", "ci_low", "ci_high")
        ]
        cols.append(("significant", "bool", [_nan(p["p_adjusted"]) < alpha for p in pairs]))
        return labels, cols

    def _group_columns(self) -> tuple[list[tuple[str, list[Any]]], list[FrameColumn]]:
        gs = self._raw["groups"]
        cols: list[FrameColumn] = [
            ("n", "int", [g["n"] for g in gs]),
            ("estimate", "float", [_nan(g["estimate"]) for g in gs]),
            ("std_error", "float", [_nan(g["std_error"]) for g in gs]),
            ("ci_low", "float", [_nan(g["ci_low"]) for g in gs]),
            ("ci_high", "float", [_nan(g["ci_high"]) for g in gs]),
        ]
        return key_columns_of(self.by_columns, list(self.groups)), cols

    def _columns(self) -> list[FrameColumn]:
        return self._pair_columns()[1]

    def to_pandas(self, table: Literal["pairs", "groups"] = "pairs") -> pd.DataFrame:
        """The pairs (or the groups) as a pandas DataFrame (see the class docstring)."""
        labels, cols = self._pair_columns() if table == "pairs" else self._group_columns()
        return labelled_pandas(labels, cols)

    def to_polars(self, table: Literal["pairs", "groups"] = "pairs") -> pl.DataFrame:
        """The pairs (or the groups) as a polars DataFrame."""
        labels, cols = self._pair_columns() if table == "pairs" else self._group_columns()
        return labelled_polars(labels, cols)

    @property
    def table(self) -> pd.DataFrame:
        """The pairs as a pandas DataFrame (polars when pandas is not installed)."""
        return labelled_frame(*self._pair_columns())

    def matrix(self, value: Literal["difference", "p_adjusted"] = "difference") -> npt.NDArray[np.float64]:
        """The square array of ``value`` for every ordered pair (row - column for differences; the
        diagonal is NaN), rows and columns in the order of :attr:`groups`."""
        g = len(self.groups)
        out = np.full((g, g), np.nan)
        for p in self._raw["pairs"]:
            v = _nan(p[value])
            out[p["a"], p["b"]] = v
            out[p["b"], p["a"]] = -v if value == "difference" else v
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe builtins: the options, the groups (labels as text) and the core's result."""
        return {
            "metric": self.metric,
            "outcome": self.outcome,
            "by": list(self.by_columns),
            "group_labels": [json_key(g) for g in self.groups],
            **json_dict(self._raw),
        }

    def to_json(self) -> str:
        """The comparisons as JSON text, for storage: the options, the groups' typed labels and the
        core's result; :meth:`from_json` reads it back."""
        return write_document(
            "AllPairs",
            {
                "metric": self.metric,
                "name": self._name,
                "outcome": self.outcome,
                "by": list(self.by_columns),
                "groups": [key_to_json(g) for g in self.groups],
                "core": json.loads(self._native.to_json()),
            },
        )

    @classmethod
    def from_json(cls, text: str) -> AllPairs:
        """All-pairs comparisons from the text written by :meth:`to_json`."""
        d = read_document(text, "AllPairs")
        try:
            return _restore_pairs(
                json.dumps(d["core"]),
                str(d["metric"]),
                str(d["outcome"]),
                _names(d["by"]),
                tuple(key_from_json(g) for g in d["groups"]),
                str(d["name"]),
            )
        except (KeyError, TypeError) as e:
            raise InvalidArgumentError(f"invalid AllPairs JSON: {type(e).__name__} {e}") from None

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _restore_pairs,
            (self._native.to_json(), self.metric, self.outcome, self.by, self.groups, self._name),
        )

    def _rows(self) -> list[tuple[str, ...]]:
        spec = self._spec()
        out: list[tuple[str, ...]] = []
        for p in self._raw["pairs"]:
            out.append(
                (
                    f"{key_text(self.groups[p['a']])} - {key_text(self.groups[p['b']])}",
                    spec.diff_text(_nan(p["difference"])),
                    f"{spec.diff_text(_nan(p['ci_low']))} to {spec.diff_text(_nan(p['ci_high']))}",
                    p_value(_nan(p["p_value"])),
                    p_value(_nan(p["p_adjusted"])),
                )
            )
        return out

    def _header(self) -> tuple[str, ...]:
        return ("pair", "difference", f"{level_text(self.confidence_level)} CI", "p", f"p ({self.adjust})")

    def _headline(self) -> str:
        return (
            f"{self._name} of {self.outcome}: all {len(self._raw['pairs'])} pairs of "
            f"{len(self.groups)} groups by {' / '.join(self.by_columns)}, p adjusted by {self.adjust}"
        )

    def __str__(self) -> str:
        return "\n".join([self._headline(), "", *text_table(self._header(), self._rows())])

    def _repr_html_(self) -> str:
        return html_block(html_table(None, self._rows(), header=self._header()), headline=self._headline())

    def plot(self, **kwargs: Any) -> Axes:
        """The heat map of the differences (:func:`cx_metrics.plot.all_pairs`)."""
        from .plot import all_pairs as draw

        return draw(self, **kwargs)


def _restore_pairs(
    text: str, metric: str, outcome: str, by: str | tuple[str, ...], groups: tuple[Key, ...], name: str
) -> AllPairs:
    return AllPairs(metric, outcome, by, groups, _native.AllPairs.from_json(text), name)


def compare_all(
    data: object,
    metric: TrendMetric = "nps",
    by: str | Sequence[str] | object = "segment",
    *,
    outcome: str | None = None,
    weights: object = None,
    scale: int | tuple[int, int] | None = None,
    satisfied: Satisfied | None = None,
    version: Literal[1, 2] = 2,
    nan_policy: NanPolicy = "omit",
    confidence_level: float = 0.95,
    adjust: Adjust = "holm",
) -> AllPairs:
    """Every pair of groups compared on one metric, with the p-values adjusted over all pairs.

    Each pair ``a < b`` (in the grouping engine's order) gets ``a - b``, its standard error
    √(SE_a² + SE_b²) on each group's effective n, a z test and a Wald interval (for NPS the Wald
    comparison of :func:`compare_nps`); the p-values of the m = g(g - 1)/2 pairs are adjusted by Holm
    (family-wise error) or Benjamini-Hochberg (false discovery rate). The parameters are those of
    :func:`trend`; the missing label is a group of its own (with a :class:`MissingLabelWarning`).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> r = cx.compare_all(cx.datasets.sample_survey(), "nps", by="segment", weights="weight")
    >>> len(r.groups), len(r.table)
    (4, 6)
    """
    spec = _spec(str(metric), scale, satisfied, int(version))
    adjust_name = _adjust(adjust)
    table, outcome_name, values, w = _rows(data, outcome, spec.metric, weights)
    n = values.shape[0]
    names, groups, codes = _codes(by, table, n, drop_missing=False)
    if groups and has_missing_label(groups[-1]):
        warn_missing_labels(int(np.count_nonzero(codes == len(groups) - 1)), names, stacklevel=2)
    native = _native.compare_all(
        values,
        codes,
        len(groups),
        measure=spec.measure,
        scale_min=spec.scale[0],
        scale_max=spec.scale[1],
        higher_is_better=spec.higher_is_better,
        points=spec.points,
        weights=w,
        nan_policy=nan_policy,
        confidence_level=confidence_level,
        adjust=adjust_name,
    )
    return AllPairs(
        metric=spec.metric,
        outcome=outcome_name,
        by=names[0] if len(names) == 1 else names,
        groups=tuple(groups),
        _native=native,
        _name=spec.name,
    )
