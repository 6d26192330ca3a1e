"""Customer journey maps: stages and touchpoints, scores per touchpoint and stage, pain points, gaps to
targets, touchpoint audits and competitor benchmarks.

Everything is computed in the Rust core (``cx_metrics::journey`` and ``cx_metrics::audit``); this module
reads the columns (pandas, polars, pyarrow, a dict of columns) and holds the results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from . import _native
from ._by_group import ResultsByGroup, group_rows
from ._groups import label_str
from ._results import (
    FrameColumn,
    NativeResult,
    Tabular,
    html_block,
    html_table,
    level_text,
    pandas_frame,
    polars_frame,
    require_pandas,
    text_table,
)
from ._table import Table
from ._tally import _State
from .exceptions import InvalidArgumentError, JourneyError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = [
    "AuditCompliance",
    "AuditTally",
    "BrandComparison",
    "Journey",
    "JourneyGaps",
    "PainPoints",
    "TouchpointScores",
    "TouchpointScoresByGroup",
    "audit_compliance",
    "compare_brands",
    "journey_gaps",
    "pain_points",
    "sample_audit",
    "sample_journey",
    "sample_journey_map",
    "touchpoint_scores",
]

TouchpointSpec = str | tuple[str, str] | tuple[str, str, str]
Metric = Literal["nps", "csat", "csat_bottom", "csat_mean", "ces_mean", "ces_agree", "customer_share"]


def _raw_list(data: object, name: str) -> list[Any]:
    """Column ``name`` of ``data`` as a Python list (None for a missing value)."""
    raw: Any = Table(data)._raw(name)
    if hasattr(raw, "to_pylist"):  # pyarrow
        values: list[Any] = raw.to_pylist()
    elif hasattr(raw, "to_list"):  # pandas, polars
        values = list(raw.to_list())
    else:
        values = list(np.asarray(raw, dtype=object))
    return [None if _missing(v) else v for v in values]


def _missing(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return type(v).__name__ in ("NAType", "NaTType")


def _outcome(v: object, row: int) -> float:
    """One audit check as a number (the core checks that it is 0 or 1); text is refused by row."""
    if _missing(v):
        return math.nan
    if isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)):
        return float(v)
    raise InvalidArgumentError(
        f"invalid passed: row {row} has {v!r}; give 1 (or True) for passed, 0 (or False) for failed "
        "and a missing value for not applicable (map text outcomes such as 'yes'/'no' first)"
    )


def _text(data: object, name: str) -> list[str]:
    """A label column as text ("" for a missing label, which the core names by row)."""
    return ["" if v is None else str(v) for v in _raw_list(data, name)]


def _ids(data: object, name: str) -> npt.NDArray[np.int64]:
    """Customer ids (any hashable) as integer codes, -1 for a missing id (the core names the row)."""
    codes: dict[object, int] = {}
    values = _raw_list(data, name)
    return np.fromiter(
        (-1 if v is None else codes.setdefault(v, len(codes)) for v in values),
        dtype=np.int64,
        count=len(values),
    )


def _ratings(data: object, name: str | None) -> npt.NDArray[np.float64] | None:
    if name is None:
        return None
    return np.ascontiguousarray(Table(data).float_column(name), dtype=np.float64)


def _options(
    confidence_level: float,
    nps_method: str,
    proportion_method: str,
    csat_points: int,
    satisfied: str,
    unknown: str,
) -> tuple[float, str, str, int, str, str]:
    return (float(confidence_level), nps_method, proportion_method, int(csat_points), satisfied, unknown)


def _touchpoint(spec: TouchpointSpec) -> tuple[str, str, str]:
    if isinstance(spec, str):
        return (spec, spec, "own")
    if len(spec) == 2:
        return (str(spec[0]), str(spec[1]), "own")
    return (str(spec[0]), str(spec[1]), str(spec[2]))


class Journey:
    """A customer journey map: ordered stages, each with its touchpoints (name, channel, ``"own"`` or
    ``"third_party"``), optionally for one customer segment. Validated when built: a stage or touchpoint
    named twice, a touchpoint in two stages or a stage without touchpoints raise
    :class:`~cx_metrics.exceptions.JourneyError`.

    ``stages`` is a mapping (or a sequence of pairs) from stage name to its touchpoints; a touchpoint is
    a name, ``(name, channel)`` or ``(name, channel, ownership)``.

    >>> import cx_metrics as cx
    >>> j = cx.Journey("retail", {"buy": [("web", "website"), ("shop", "store")],
    ...                           "deliver": [("carrier", "delivery", "third_party")]})
    >>> j.touchpoints
    ['web', 'shop', 'carrier']
    """

    __slots__ = ("_inner",)

    def __init__(
        self,
        name: str,
        stages: Mapping[str, Sequence[TouchpointSpec]] | Sequence[tuple[str, Sequence[TouchpointSpec]]],
        segment: str | None = None,
    ) -> None:
        items = list(stages.items()) if isinstance(stages, Mapping) else list(stages)
        self._inner = _native.Journey(
            name, [(str(s), [_touchpoint(t) for t in tps]) for s, tps in items], segment
        )

    @classmethod
    def _wrap(cls, inner: Any) -> Journey:
        obj = cls.__new__(cls)
        obj._inner = inner
        return obj

    @classmethod
    def from_table(
        cls,
        data: object,
        name: str,
        *,
        stage: str = "stage",
        touchpoint: str = "touchpoint",
        channel: str | None = "channel",
        ownership: str | None = "ownership",
        segment: str | None = None,
    ) -> Journey:
        """A journey from a table with one row per touchpoint (stages in the order of their first row).
        Without a channel column the channel is the touchpoint's name; without an ownership column every
        touchpoint is ``"own"``."""
        tps = _text(data, touchpoint)
        ch = tps if channel is None else _text(data, channel)
        own = ["own"] * len(tps) if ownership is None else _text(data, ownership)
        return cls._wrap(_native.Journey.from_table(name, _text(data, stage), tps, ch, own, segment))

    @property
    def name(self) -> str:
        """The journey's name."""
        return str(self._inner.name)

    @property
    def segment(self) -> str | None:
        """The customer segment it is drawn for, if any."""
        seg: str | None = self._inner.segment
        return seg

    @property
    def stages(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """``[(stage, [(touchpoint, channel, ownership), ...]), ...]`` in order."""
        return [(s, [tuple(t) for t in tps]) for s, tps in self._inner.stages()]  # type: ignore[misc]

    @property
    def touchpoints(self) -> list[str]:
        """Every touchpoint, stage by stage."""
        return [t[0] for _, tps in self.stages for t in tps]

    def stage_of(self, touchpoint: str) -> str:
        """The stage of ``touchpoint``."""
        for s, tps in self.stages:
            if any(t[0] == touchpoint for t in tps):
                return s
        raise InvalidArgumentError(f"invalid touchpoint: {touchpoint!r} is not on the journey map")

    def to_json(self) -> str:
        """The map as JSON text."""
        text: str = self._inner.to_json()
        return text

    @classmethod
    def from_json(cls, text: str) -> Journey:
        """A map from the text of :meth:`to_json` (validated again)."""
        return cls._wrap(_native.Journey.from_json(text))

    def to_dict(self) -> dict[str, Any]:
        """The map as Python objects."""
        d: dict[str, Any] = self._inner.to_dict()
        return d

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Journey) and bool(self._inner == other._inner)

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Journey.from_json, (self.to_json(),))

    def __str__(self) -> str:
        return str(self._inner.__str__()).rstrip("\n")

    def __repr__(self) -> str:
        return f"Journey({self.name!r}, {len(self.stages)} stages, {len(self.touchpoints)} touchpoints)"

    def _repr_html_(self) -> str:
        rows = [
            (s, ", ".join(f"{t} ({c}{', third party' if o == 'third_party' else ''})" for t, c, o in tps))
            for s, tps in self.stages
        ]
        return html_table(f"Journey {self.name}", rows)


def _fmt(x: float | None, scale: float = 100.0, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{scale * x:.{digits}f}"


def _ci(ci: Mapping[str, Any] | None, scale: float = 100.0, digits: int = 1) -> str:
    if ci is None:
        return "-"
    return f"{_fmt(ci['low'], scale, digits)} to {_fmt(ci['high'], scale, digits)}"


def _low(ci: Mapping[str, Any] | None) -> float:
    return math.nan if ci is None else float(ci["low"])


def _high(ci: Mapping[str, Any] | None) -> float:
    return math.nan if ci is None else float(ci["high"])


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


class _Result(NativeResult, Tabular):
    """What the journey results share: equality by content, a one-line repr."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_json() == self.to_json()

    __hash__ = None  # type: ignore[assignment]

    def _summary(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()})"


@dataclass(frozen=True, eq=False, repr=False)
class TouchpointScores(_Result):
    """NPS, CSAT and CES per touchpoint and per stage, with intervals, volumes and the share of customers
    who used each touchpoint (customers are the unit of the share; every rating counts in the scores).

    Shares and NPS are fractions in the tables (0.85 is 85 %, NPS 0.3 is +30); the printed table shows
    them in points. ``to_pandas(level="touchpoint" | "stage")`` gives one row per touchpoint or stage."""

    _native: Any
    _native_type: ClassVar[Any] = _native.TouchpointScores

    @classmethod
    def _from_native(cls, native: Any) -> TouchpointScores:
        return cls(native)

    @property
    def journey(self) -> Journey:
        """The map."""
        return Journey.from_json(_journey_json(self._raw))

    @property
    def n_rows(self) -> int:
        """Rows given."""
        return int(self._raw["n_rows"])

    @property
    def n_customers(self) -> int:
        """Distinct customers in the rows used."""
        return int(self._raw["n_customers"])

    @property
    def n_excluded(self) -> int:
        """Rows left out (unknown or missing touchpoint, under ``unknown="exclude"``)."""
        return int(self._raw["n_excluded_unknown"]) + int(self._raw["n_excluded_missing"])

    @property
    def options(self) -> dict[str, Any]:
        """The conventions (level, methods, CSAT scale and satisfied set, unknown rows)."""
        o: dict[str, Any] = dict(self._raw["options"])
        return o

    def _rows(self, level: str) -> list[dict[str, Any]]:
        if level not in ("touchpoint", "stage"):
            raise InvalidArgumentError(f'invalid level: {level!r}; use "touchpoint" or "stage"')
        rows: list[dict[str, Any]] = self._raw["touchpoints" if level == "touchpoint" else "stages"]
        return rows

    def _columns(self, level: str = "touchpoint") -> list[FrameColumn]:
        rows = self._rows(level)
        cols: list[FrameColumn] = [("stage", "str", [r["stage"] for r in rows])]
        if level == "touchpoint":
            cols += [
                ("touchpoint", "str", [r["touchpoint"] for r in rows]),
                ("channel", "str", [r["channel"] for r in rows]),
                ("ownership", "str", [r["ownership"] for r in rows]),
            ]
        cols += [
            ("n_rows", "int", [r["n_rows"] for r in rows]),
            ("n_customers", "int", [r["n_customers"] for r in rows]),
            ("customer_share", "float", [_num(r["customer_share"]) for r in rows]),
            ("customer_share_low", "float", [_low(r["customer_share_ci"]) for r in rows]),
            ("customer_share_high", "float", [_high(r["customer_share_ci"]) for r in rows]),
        ]
        first = rows[0] if rows else {}
        if first.get("nps") is not None:
            cols += [
                ("nps_n", "int", [r["nps"]["n"] for r in rows]),
                ("nps", "float", [_num(r["nps"]["score"]) for r in rows]),
                ("nps_low", "float", [_low(r["nps"]["ci"]) for r in rows]),
                ("nps_high", "float", [_high(r["nps"]["ci"]) for r in rows]),
                ("detractors", "float", [_num(r["nps"]["detractors"]) for r in rows]),
            ]
        if first.get("csat") is not None:
            cols += [
                ("csat_n", "int", [r["csat"]["n"] for r in rows]),
                ("csat", "float", [_num(r["csat"]["share_satisfied"]) for r in rows]),
                ("csat_low", "float", [_low(r["csat"]["ci"]) for r in rows]),
                ("csat_high", "float", [_high(r["csat"]["ci"]) for r in rows]),
                ("csat_bottom", "float", [_num(r["csat"]["share_bottom"]) for r in rows]),
                ("csat_mean", "float", [_num(r["csat"]["mean"]) for r in rows]),
            ]
        if first.get("ces") is not None:
            cols += [
                ("ces_n", "int", [r["ces"]["n"] for r in rows]),
                ("ces_mean", "float", [_num(r["ces"]["mean"]) for r in rows]),
                ("ces_mean_low", "float", [_low(r["ces"]["mean_ci"]) for r in rows]),
                ("ces_mean_high", "float", [_high(r["ces"]["mean_ci"]) for r in rows]),
                ("ces_agree", "float", [_num(r["ces"]["share_agree"]) for r in rows]),
            ]
        return cols

    def to_pandas(self, level: str = "touchpoint") -> pd.DataFrame:
        """One row per touchpoint (map order) or stage; shares and NPS as fractions."""
        return pandas_frame(self._columns(level))

    def to_polars(self, level: str = "touchpoint") -> pl.DataFrame:
        """The columns of :meth:`to_pandas` as a polars DataFrame."""
        return polars_frame(self._columns(level))

    def to_dict(self) -> dict[str, Any]:
        """The result as Python objects (the core's form)."""
        return dict(self._raw)

    def _table(self, level: str) -> tuple[list[str], list[list[str]]]:
        rows = self._rows(level)
        head = ["stage"] + (["touchpoint"] if level == "touchpoint" else []) + ["customers", "share %"]
        first = rows[0] if rows else {}
        has = {k: first.get(k) is not None for k in ("nps", "csat", "ces")}
        if has["nps"]:
            head += ["n", "NPS", "NPS CI"]
        if has["csat"]:
            head += ["CSAT %", "CSAT CI"]
        if has["ces"]:
            head += ["CES", "CES CI"]
        body = []
        for r in rows:
            line = [r["stage"]] + ([r["touchpoint"]] if level == "touchpoint" else [])
            line += [str(r["n_customers"]), _fmt(r["customer_share"])]
            if has["nps"]:
                line += [str(r["nps"]["n"]), _fmt(r["nps"]["score"]), _ci(r["nps"]["ci"])]
            if has["csat"]:
                line += [_fmt(r["csat"]["share_satisfied"]), _ci(r["csat"]["ci"])]
            if has["ces"]:
                line += [_fmt(r["ces"]["mean"], 1, 2), _ci(r["ces"]["mean_ci"], 1, 2)]
            body.append(line)
        return head, body

    def _summary(self) -> str:
        return (
            f"journey={self._raw['journey']['name']!r}, n_customers={self.n_customers}, "
            f"n_rows={self.n_rows}, n_excluded={self.n_excluded}"
        )

    def _headline(self) -> str:
        o = self.options
        return (
            f"Journey {self._raw['journey']['name']}: {self.n_customers} customers, {self.n_rows} rows "
            f"({self.n_excluded} excluded)\n{level_text(o['confidence_level'])} intervals: NPS "
            f"{o['nps_method']}, shares {o['proportion_method']}, CES mean t; CSAT satisfied = "
            f"{o['satisfied']} of {o['csat_scale']} points"
        )

    def __str__(self) -> str:
        out = [self._headline()]
        for level in ("touchpoint", "stage"):
            head, body = self._table(level)
            out += ["", f"by {level}:", *text_table(head, body)]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        parts = []
        for level in ("touchpoint", "stage"):
            head, body = self._table(level)
            parts.append(html_table(f"by {level}", [tuple(b) for b in body], header=head))
        return html_block(*parts, headline=self._headline())


@dataclass(frozen=True)
class TouchpointScoresByGroup(ResultsByGroup[TouchpointScores]):
    """Touchpoint and stage scores per segment of ``by``: ``groups`` maps each label (a tuple with
    several columns) to its :class:`TouchpointScores` (each against its segment's map);
    ``no_answers`` lists the segments of the grouping rules without a row (unused categorical levels).
    The table stacks the segments' touchpoint rows (``level="stage"`` for the stages), label columns
    first; shares and NPS are fractions."""

    no_answers: tuple[Any, ...] = ()
    _title: ClassVar[str] = "Touchpoint scores"
    _result: ClassVar[Any] = TouchpointScores
    _empty_field: ClassVar[str] = "no_answers"
    _empty_text: ClassVar[str] = "no answers"

    def _level(self) -> str:
        first = next(iter(self.groups.values()), None)
        return level_text(first.options["confidence_level"] if first is not None else 0.95)

    def _headline(self) -> str:
        first = next(iter(self.groups.values()), None)
        customers = sum(r.n_customers for r in self.groups.values())
        rows = sum(r.n_rows for r in self.groups.values())
        excluded = sum(r.n_excluded for r in self.groups.values())
        text = (
            f"Touchpoint scores by {label_str(self.by)}: {len(self.groups)} segments, {customers} customers, "
            f"{rows} rows ({excluded} excluded)"
        )
        if first is not None:
            o = first.options
            text += (
                f"\n{self._level()} intervals: NPS {o['nps_method']}, shares {o['proportion_method']}, "
                f"CES mean t; CSAT satisfied = {o['satisfied']} of {o['csat_scale']} points"
            )
        return text

    def _table(self, level: str) -> tuple[list[str], list[list[str]]]:
        """The compact table of every segment (as :class:`TouchpointScores` prints it), stacked."""
        names = [self.by] if isinstance(self.by, str) else list(self.by)
        head: list[str] = []
        body: list[list[str]] = []
        for key, r in self.groups.items():
            h, rows = r._table(level)
            head = names + h
            labels = [label_str(k) for k in (key if isinstance(key, tuple) else (key,))]
            body += [labels + row for row in rows]
        return head, body

    def __str__(self) -> str:
        out = [self._headline()]
        for level in ("touchpoint", "stage"):
            head, body = self._table(level)
            out += ["", f"by {level}:", *text_table(head, body)]
        return "\n".join(out + self._empty_note())

    def _repr_html_(self) -> str:
        parts = []
        for level in ("touchpoint", "stage"):
            head, body = self._table(level)
            parts.append(
                html_table(f"by {label_str(self.by)} and {level}", [tuple(b) for b in body], header=head)
            )
        notes = self._empty_note()
        return html_block(*parts, headline=self._headline() + ("; " + notes[0] if notes else ""))

    def _columns(self, level: str = "touchpoint") -> list[FrameColumn]:
        return self._stack([r._columns(level) for r in self.groups.values()])

    def to_pandas(self, level: str = "touchpoint") -> pd.DataFrame:
        """One row per segment and touchpoint (or stage), label columns first."""
        return pandas_frame(self._columns(level))

    def to_polars(self, level: str = "touchpoint") -> pl.DataFrame:
        """The columns of :meth:`to_pandas` as a polars DataFrame."""
        return polars_frame(self._columns(level))


def _journey_json(raw: Mapping[str, Any]) -> str:
    import json

    return json.dumps(raw["journey"])


def touchpoint_scores(
    data: object,
    journey: Journey | Mapping[Any, Journey],
    *,
    touchpoint: str = "touchpoint",
    customer: str = "customer_id",
    ltr: str | None = None,
    csat: str | None = None,
    ces: str | None = None,
    by: object = None,
    confidence_level: float = 0.95,
    nps_method: str = "adjusted_wald",
    proportion_method: str = "wilson",
    csat_points: int = 5,
    satisfied: str = "top_two_box",
    unknown: Literal["raise", "exclude"] = "raise",
) -> TouchpointScores | TouchpointScoresByGroup:
    """NPS (``ltr``, 0-10), CSAT (``csat``, on ``csat_points`` points, ``satisfied`` the satisfied set)
    and CES 2.0 (``ces``, 1-7, higher is easier) per touchpoint and per stage of ``journey``, with
    intervals, volumes and the share of customers who used each touchpoint.

    Each row of ``data`` is one answer at one touchpoint by one customer. A row whose touchpoint is not on
    the map (or is missing) raises :class:`~cx_metrics.exceptions.JourneyError` naming the row, or is left
    out and counted with ``unknown="exclude"``; a row without customer id always raises. A missing
    rating is omitted and counted per touchpoint. Ratings are unweighted.

    ``by`` (a column name, several, or a column) scores every segment apart, through the grouping
    engine, into a :class:`TouchpointScoresByGroup`; ``journey`` may then map each segment's label to
    its own map (teams draw a map per segment; a segment without a map is an error naming it). Shares
    of customers are within the segment.

    >>> import cx_metrics as cx
    >>> j = cx.Journey("j", {"buy": ["web", "shop"], "support": ["call"]})
    >>> rows = {"touchpoint": ["web", "shop", "call", "web"], "customer_id": [1, 2, 1, 3],
    ...         "ltr": [10, 6, 3, 9]}
    >>> s = cx.touchpoint_scores(rows, j, ltr="ltr")
    >>> t = s.to_pandas()
    >>> t["touchpoint"].tolist(), t["n_customers"].tolist(), t["nps"].tolist()
    (['web', 'shop', 'call'], [2, 1, 1], [1.0, -1.0, -1.0])
    """
    options = _options(confidence_level, nps_method, proportion_method, csat_points, satisfied, unknown)
    text, ids = _text(data, touchpoint), _ids(data, customer)
    r_ltr, r_csat, r_ces = (_ratings(data, c) for c in (ltr, csat, ces))
    if by is None:
        if not isinstance(journey, Journey):
            raise InvalidArgumentError("invalid journey: a mapping of segments to maps needs by=")
        return TouchpointScores(
            _native.touchpoint_scores(journey._inner, text, ids, r_ltr, r_csat, r_ces, options)
        )
    by_name, groups = group_rows(by, Table(data), len(text))

    def map_of(key: Any) -> Journey:
        if isinstance(journey, Journey):
            return journey
        if key not in journey:
            raise JourneyError(
                f"journey: no map for segment {label_str(key)!r}; give a map for every segment of by= "
                f"(maps are given for {', '.join(repr(label_str(k)) for k in journey)})"
            )
        return journey[key]

    def one(key: Any, rows: npt.NDArray[np.intp]) -> TouchpointScores:
        def take(r: npt.NDArray[np.float64] | None) -> npt.NDArray[np.float64] | None:
            return None if r is None else r[rows]

        labels = [text[i] for i in rows]
        native = _native.touchpoint_scores(
            map_of(key)._inner, labels, ids[rows], take(r_ltr), take(r_csat), take(r_ces), options
        )
        return TouchpointScores(native)

    return TouchpointScoresByGroup.of(by_name, groups, one)


@dataclass(frozen=True, eq=False, repr=False)
class PainPoints(_Result):
    """Touchpoints ranked by a pain score: Σ (weight / Σ weights) x component, the components effort
    ((7 - mean CES) / 6), dissatisfaction (CSAT bottom box or detractor share), volume (share of
    customers) and drop-off after the touchpoint, each in [0, 1]. Each component's contribution, the
    weights, the bootstrap interval of the score and the probability of being among the ``top`` worst
    (by a seeded bootstrap over customers) are in the table."""

    _native: Any
    _native_type: ClassVar[Any] = _native.PainPoints

    @classmethod
    def _from_native(cls, native: Any) -> PainPoints:
        return cls(native)

    @property
    def weights(self) -> dict[str, float]:
        """The weights as given."""
        return {k: float(v) for k, v in self._raw["weights"].items()}

    @property
    def normalised_weights(self) -> dict[str, float]:
        """The weights divided by their sum (what multiplies the components)."""
        return {k: float(v) for k, v in self._raw["normalised_weights"].items()}

    @property
    def worst(self) -> list[str]:
        """Touchpoints from the worst to the best."""
        return [r["touchpoint"] for r in self._raw["rows"]]

    def _columns(self) -> list[FrameColumn]:
        rows = self._raw["rows"]
        names = ("effort", "dissatisfaction", "volume", "drop_off")
        cols: list[FrameColumn] = [
            ("rank", "int", [r["rank"] for r in rows]),
            ("touchpoint", "str", [r["touchpoint"] for r in rows]),
            ("stage", "str", [r["stage"] for r in rows]),
            ("score", "float", [_num(r["score"]) for r in rows]),
            ("score_low", "float", [_low(r["score_ci"]) for r in rows]),
            ("score_high", "float", [_high(r["score_ci"]) for r in rows]),
            ("p_top", "float", [float(r["p_top"]) for r in rows]),
        ]
        cols += [(n, "float", [_num(r[n]) for r in rows]) for n in names]
        cols += [
            (f"{n}_contribution", "float", [_num(r["contributions"][k]) for r in rows])
            for k, n in enumerate(names)
        ]
        return cols

    def to_pandas(self) -> pd.DataFrame:
        """One row per touchpoint, the worst first."""
        return pandas_frame(self._columns())

    def to_polars(self) -> pl.DataFrame:
        """The columns of :meth:`to_pandas` as a polars DataFrame."""
        return polars_frame(self._columns())

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe Python objects (the core's form; the contributions as a list)."""
        import json

        d: dict[str, Any] = json.loads(self.to_json())
        return d

    def _summary(self) -> str:
        return f"worst={self.worst[:3]!r}, top={self._raw['top']}, n_resamples={self._raw['n_resamples']}"

    def _headline(self) -> str:
        w = self.normalised_weights
        r = self._raw
        return (
            f"Pain points: score = {w['effort']:.3f} effort + {w['dissatisfaction']:.3f} dissatisfaction "
            f"({r['dissatisfaction']}) + {w['volume']:.3f} volume + {w['drop_off']:.3f} drop-off "
            f"({r['drop_off_source']})\nP(top {r['top']}) and {level_text(r['confidence_level'])} score "
            f"intervals (CI) from {r['n_resamples']} bootstrap resamples of {r['n_customers']} customers "
            f"(seed {r['seed']})"
        )

    def _body(self) -> tuple[list[str], list[list[str]]]:
        head = [
            "rank",
            "touchpoint",
            "score",
            "CI",
            f"P(top {self._raw['top']})",
            "effort",
            "dissat.",
            "volume",
            "drop-off",
        ]
        body = []
        for r in self._raw["rows"]:
            c = r["contributions"]
            body.append(
                [
                    str(r["rank"]),
                    r["touchpoint"],
                    _fmt(r["score"], 1, 3),
                    _ci(r["score_ci"], 1, 3),
                    _fmt(r["p_top"], 100, 0) + "%",
                ]
                + [_fmt(c[k], 1, 3) for k in range(4)]
            )
        return head, body

    def __str__(self) -> str:
        head, body = self._body()
        return "\n".join(
            [
                self._headline(),
                "(component columns: contribution = weight x component)",
                *text_table(head, body),
            ]
        )

    def _repr_html_(self) -> str:
        head, body = self._body()
        return html_block(
            html_table("pain points", [tuple(b) for b in body], header=head), headline=self._headline()
        )


def pain_points(
    data: object,
    journey: Journey,
    *,
    touchpoint: str = "touchpoint",
    customer: str = "customer_id",
    ltr: str | None = None,
    csat: str | None = None,
    ces: str | None = None,
    weights: Mapping[str, float] | None = None,
    dissatisfaction: Literal["csat_bottom", "detractors"] = "csat_bottom",
    drop_off: Mapping[str, float] | None = None,
    stage_reach: Mapping[str, int] | None = None,
    top: int = 3,
    n_resamples: int = 2000,
    seed: int = 0,
    confidence_level: float = 0.95,
    csat_points: int = 5,
    satisfied: str = "top_two_box",
    unknown: Literal["raise", "exclude"] = "raise",
) -> PainPoints:
    """Rank the touchpoints of ``journey`` by pain: effort, dissatisfaction, volume and drop-off, weighted
    by ``weights`` (keys ``effort``, ``dissatisfaction``, ``volume``, ``drop_off``; default 1 each, with
    ``drop_off`` 0 when no drop-off is given). Drop-off is a share per touchpoint (``drop_off``) or comes
    from the customers reaching each stage (``stage_reach``: the drop-off after a stage is
    1 - reach(next) / reach(stage), given to each of its touchpoints).

    >>> import cx_metrics as cx
    >>> data = cx.sample_journey()
    >>> p = cx.pain_points(data[data["brand"] == "Northwind"], cx.sample_journey_map(), csat="csat",
    ...                    ces="ces", n_resamples=200, seed=1)
    >>> p.worst[:3]
    ['carrier', 'call centre', 'social ads']
    """
    w = {
        "effort": 1.0,
        "dissatisfaction": 1.0,
        "volume": 1.0,
        "drop_off": 1.0 if (drop_off or stage_reach) else 0.0,
    }
    if weights is not None:
        unknown_keys = set(weights) - set(w)
        if unknown_keys:
            raise InvalidArgumentError(
                f"invalid weights: unknown component(s) {sorted(unknown_keys)}; use effort, dissatisfaction, "
                "volume, drop_off"
            )
        w.update({k: float(v) for k, v in weights.items()})
    native = _native.pain_points(
        journey._inner,
        _text(data, touchpoint),
        _ids(data, customer),
        _ratings(data, ltr),
        _ratings(data, csat),
        _ratings(data, ces),
        _options(confidence_level, "adjusted_wald", "wilson", csat_points, satisfied, unknown),
        (w["effort"], w["dissatisfaction"], w["volume"], w["drop_off"]),
        dissatisfaction,
        None if drop_off is None else [(str(k), float(v)) for k, v in drop_off.items()],
        None if stage_reach is None else [(str(k), int(v)) for k, v in stage_reach.items()],
        int(top),
        int(n_resamples),
        int(seed),
    )
    return PainPoints(native)


@dataclass(frozen=True, eq=False, repr=False)
class JourneyGaps(_Result):
    """Gaps between scores and targets: estimate - threshold with its interval, and a verdict:
    ``missed_beyond_doubt`` (the whole interval on the wrong side), ``met_beyond_doubt`` (on the right
    side) or ``undecided`` (``undefined`` without an estimate)."""

    _native: Any
    _native_type: ClassVar[Any] = _native.JourneyGaps

    @classmethod
    def _from_native(cls, native: Any) -> JourneyGaps:
        return cls(native)

    def _summary(self) -> str:
        return f"verdicts={self.verdicts!r}"

    @property
    def verdicts(self) -> list[str]:
        """The verdict of each target, in the order given."""
        return [g["verdict"] for g in self._raw["gaps"]]

    def _columns(self) -> list[FrameColumn]:
        g = self._raw["gaps"]
        return [
            ("level", "str", [x["target"]["level"] for x in g]),
            ("name", "str", [x["target"]["name"] for x in g]),
            ("metric", "str", [x["target"]["metric"] for x in g]),
            ("direction", "str", [x["target"]["direction"] for x in g]),
            ("threshold", "float", [float(x["target"]["threshold"]) for x in g]),
            ("estimate", "float", [_num(x["estimate"]) for x in g]),
            ("low", "float", [_low(x["ci"]) for x in g]),
            ("high", "float", [_high(x["ci"]) for x in g]),
            ("gap", "float", [_num(x["gap"]) for x in g]),
            ("gap_low", "float", [_low(x["gap_ci"]) for x in g]),
            ("gap_high", "float", [_high(x["gap_ci"]) for x in g]),
            ("verdict", "str", [x["verdict"] for x in g]),
        ]

    def to_pandas(self) -> pd.DataFrame:
        """One row per target."""
        return pandas_frame(self._columns())

    def to_polars(self) -> pl.DataFrame:
        """The columns of :meth:`to_pandas` as a polars DataFrame."""
        return polars_frame(self._columns())

    def to_dict(self) -> dict[str, Any]:
        """The result as Python objects (the core's form)."""
        return dict(self._raw)

    def _body(self) -> tuple[list[str], list[list[str]]]:
        head = ["target", "estimate", "CI", "gap", "gap CI", "verdict"]
        body = []
        for x in self._raw["gaps"]:
            t = x["target"]
            sign = ">=" if t["direction"] == "at_least" else "<="
            scale = 1.0 if t["metric"] in ("csat_mean", "ces_mean") else 100.0
            body.append(
                [
                    f"{t['name']} {t['metric']} {sign} {_fmt(t['threshold'], scale, 2)}",
                    _fmt(x["estimate"], scale, 2),
                    _ci(x["ci"], scale, 2),
                    _fmt(x["gap"], scale, 2),
                    _ci(x["gap_ci"], scale, 2),
                    x["verdict"].replace("_", " "),
                ]
            )
        return head, body

    def __str__(self) -> str:
        head, body = self._body()
        level = level_text(self._raw["confidence_level"])
        line = f"Gaps to targets ({level} intervals; shares and NPS in points)"
        return "\n".join([line, *text_table(head, body)])

    def _repr_html_(self) -> str:
        head, body = self._body()
        return html_table("Gaps to targets", [tuple(b) for b in body], header=head)


def journey_gaps(
    scores: TouchpointScores,
    targets: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, float]],
) -> JourneyGaps:
    """Compare ``scores`` with targets. Each target is a mapping with ``name`` (a touchpoint or stage),
    ``metric`` (``nps``, ``csat``, ``csat_bottom``, ``csat_mean``, ``ces_mean``, ``ces_agree``,
    ``customer_share``), ``threshold`` (shares and NPS as fractions: 0.85 is 85 %), and optionally
    ``level`` (``"touchpoint"``, the default, or ``"stage"``) and ``direction`` (``"at_least"``, the
    default, or ``"at_most"``). A mapping ``{name: {metric: threshold}}`` sets floors on touchpoints.

    >>> import cx_metrics as cx
    >>> data = cx.sample_journey()
    >>> s = cx.touchpoint_scores(data[data["brand"] == "Northwind"], cx.sample_journey_map(), csat="csat")
    >>> cx.journey_gaps(s, {"app": {"csat": 0.85}, "call centre": {"csat": 0.5}}).verdicts
    ['missed_beyond_doubt', 'missed_beyond_doubt']
    """
    items: list[Mapping[str, Any]]
    if isinstance(targets, Mapping):
        items = [{"name": n, "metric": m, "threshold": v} for n, ms in targets.items() for m, v in ms.items()]
    else:
        items = list(targets)
    native_targets = []
    for i, t in enumerate(items):
        try:
            native_targets.append(
                (
                    str(t.get("level", "touchpoint")),
                    str(t["name"]),
                    str(t["metric"]),
                    float(t["threshold"]),
                    str(t.get("direction", "at_least")),
                )
            )
        except KeyError as e:
            raise InvalidArgumentError(f"invalid targets: target {i} has no {e.args[0]!r}") from None
    return JourneyGaps(_native.journey_gaps(scores._native, native_targets))


@dataclass(frozen=True, eq=False, repr=False)
class BrandComparison(_Result):
    """The touchpoint and stage scores of several brands, and each brand's difference to the reference
    brand (NPS: two-sample Wald / adjusted Wald; CSAT satisfied and CES agree shares: Newcombe) with
    p-values adjusted over all the comparisons (Holm or Benjamini-Hochberg)."""

    _native: Any
    _native_type: ClassVar[Any] = _native.BrandComparison

    @classmethod
    def _from_native(cls, native: Any) -> BrandComparison:
        return cls(native)

    def _summary(self) -> str:
        return f"reference={self.reference!r}, brands={self.brands!r}"

    @property
    def reference(self) -> str:
        """The reference brand."""
        return str(self._raw["reference"])

    @property
    def brands(self) -> list[str]:
        """Every brand, sorted."""
        return list(self._raw["brands"])

    def scores(self, brand: str) -> TouchpointScores:
        """The touchpoint scores of ``brand``."""
        import json

        if brand not in self.brands:
            raise InvalidArgumentError(f"invalid brand: {brand!r}; the brands are {self.brands}")
        raw = self._raw["scores"][self.brands.index(brand)]
        return TouchpointScores(_native.TouchpointScores.from_json(json.dumps(raw)))

    def _columns(self) -> list[FrameColumn]:
        d = self._raw["differences"]
        return [
            ("level", "str", [x["level"] for x in d]),
            ("name", "str", [x["name"] for x in d]),
            ("brand", "str", [x["brand"] for x in d]),
            ("metric", "str", [x["metric"] for x in d]),
            ("estimate", "float", [_num(x["estimate"]) for x in d]),
            ("reference_estimate", "float", [_num(x["reference_estimate"]) for x in d]),
            ("n", "int", [x["n"] for x in d]),
            ("reference_n", "int", [x["reference_n"] for x in d]),
            ("difference", "float", [_num(x["difference"]) for x in d]),
            ("low", "float", [_low(x["ci"]) for x in d]),
            ("high", "float", [_high(x["ci"]) for x in d]),
            ("p_value", "float", [_num(x["p_value"]) for x in d]),
            ("p_adjusted", "float", [_num(x["p_adjusted"]) for x in d]),
        ]

    def to_pandas(self) -> pd.DataFrame:
        """One row per brand, touchpoint or stage, and score."""
        return pandas_frame(self._columns())

    def to_polars(self) -> pl.DataFrame:
        """The columns of :meth:`to_pandas` as a polars DataFrame."""
        return polars_frame(self._columns())

    def to_dict(self) -> dict[str, Any]:
        """The result as Python objects (the core's form)."""
        return dict(self._raw)

    def _body(self) -> tuple[list[str], list[list[str]]]:
        scores = self._raw["scores"]
        level = scores[0]["options"]["confidence_level"] if scores else 0.95
        # The intervals are per comparison; only the p-values carry the multiplicity adjustment.
        ci = f"{level_text(level)} CI" + ("" if self._raw["adjustment"] == "none" else " (unadj.)")
        head = ["brand", "level", "name", "score", "brand", "reference", "difference", ci, "p adj."]
        body = []
        for x in self._raw["differences"]:
            body.append(
                [
                    x["brand"],
                    x["level"],
                    x["name"],
                    x["metric"],
                    _fmt(x["estimate"]),
                    _fmt(x["reference_estimate"]),
                    _fmt(x["difference"]),
                    _ci(x["ci"]),
                    _fmt(x["p_adjusted"], 1, 4),
                ]
            )
        return head, body

    def __str__(self) -> str:
        head, body = self._body()
        line = (
            f"Brands vs {self.reference} (points; p-values adjusted by {self._raw['adjustment']} over "
            f"{sum(1 for x in self._raw['differences'] if x['p_value'] is not None)} comparisons; intervals "
            "per comparison, not adjusted)"
        )
        return "\n".join([line, *text_table(head, body)])

    def _repr_html_(self) -> str:
        head, body = self._body()
        return html_table(f"Brands vs {self.reference}", [tuple(b) for b in body], header=head)


def compare_brands(
    data: object,
    journey: Journey,
    *,
    reference: str,
    brand: str = "brand",
    touchpoint: str = "touchpoint",
    customer: str = "customer_id",
    ltr: str | None = None,
    csat: str | None = None,
    ces: str | None = None,
    adjustment: Literal["holm", "benjamini_hochberg", "none"] = "holm",
    confidence_level: float = 0.95,
    nps_method: Literal["adjusted_wald", "wald"] = "adjusted_wald",
    csat_points: int = 5,
    satisfied: str = "top_two_box",
    unknown: Literal["raise", "exclude"] = "raise",
) -> BrandComparison:
    """The same touchpoint and stage scores for every brand in column ``brand`` (a benchmark survey), and
    each brand's difference to ``reference`` with intervals and multiplicity-adjusted p-values.

    >>> import cx_metrics as cx
    >>> data, jmap = cx.sample_journey(), cx.sample_journey_map()
    >>> c = cx.compare_brands(data, jmap, reference="Northwind", csat="csat")
    >>> c.brands
    ['Contoso', 'Fabrikam', 'Northwind']
    """
    native = _native.compare_brands(
        journey._inner,
        _text(data, brand),
        _text(data, touchpoint),
        _ids(data, customer),
        _ratings(data, ltr),
        _ratings(data, csat),
        _ratings(data, ces),
        reference,
        _options(confidence_level, nps_method, "wilson", csat_points, satisfied, unknown),
        adjustment,
    )
    return BrandComparison(native)


class AuditTally(_State):
    """Mergeable touchpoint-audit counts (mystery shopping, test purchases) per touchpoint, standard and
    location: applicable checks, passed, not applicable. Merge audits of several waves or agencies with
    ``+`` or ``sum``; picklable, bytes and JSON.

    >>> import cx_metrics as cx
    >>> t = cx.AuditTally()
    >>> t.fold(["shop", "shop"], ["greeting", "greeting"], ["Leeds", "York"], [1, 0])
    >>> t.result().to_pandas()["rate"].tolist()
    [0.5]
    """

    __slots__ = ()
    _native_type: ClassVar[Any] = _native.AuditTally

    def __init__(self) -> None:
        super().__init__()

    def fold(
        self, touchpoint: Sequence[str], standard: Sequence[str], location: Sequence[str], passed: object
    ) -> None:
        """Fold checks: 1 (or True) passed, 0 failed, missing (NaN / None) not applicable."""
        p = np.fromiter((_outcome(v, i) for i, v in enumerate(list(passed))), dtype=np.float64)  # type: ignore[call-overload]
        self._inner.fold(
            [str(t) for t in touchpoint], [str(s) for s in standard], [str(x) for x in location], p
        )

    def result(self, confidence_level: float = 0.95, method: str = "wilson") -> AuditCompliance:
        """Compliance rates (passed / applicable checks) with intervals (Wilson by default)."""
        return AuditCompliance(self._inner.result(confidence_level, method))


@dataclass(frozen=True, eq=False, repr=False)
class AuditCompliance(_Result):
    """Compliance rates of an audit (passed / applicable checks) with intervals, per touchpoint
    (``to_pandas("touchpoint")``), per touchpoint and standard (``"standard"``), per touchpoint and
    location (``"location"``) and per cell (``"cell"``). Checks of one visit are treated as independent,
    so with many standards per visit the intervals are somewhat too narrow."""

    _native: Any
    _native_type: ClassVar[Any] = _native.AuditCompliance

    @classmethod
    def _from_native(cls, native: Any) -> AuditCompliance:
        return cls(native)

    _TABLES: ClassVar[dict[str, str]] = {
        "touchpoint": "by_touchpoint",
        "standard": "by_standard",
        "location": "by_location",
        "cell": "cells",
    }

    def _columns(self, by: str = "touchpoint") -> list[FrameColumn]:
        if by not in self._TABLES:
            raise InvalidArgumentError(f"invalid by: {by!r}; use one of {sorted(self._TABLES)}")
        rows = self._raw[self._TABLES[by]]
        cols: list[FrameColumn] = [("touchpoint", "str", [r["touchpoint"] for r in rows])]
        if by in ("standard", "cell"):
            cols.append(("standard", "str", [r["standard"] for r in rows]))
        if by in ("location", "cell"):
            cols.append(("location", "str", [r["location"] for r in rows]))
        cols += [
            ("checks", "int", [r["checks"] for r in rows]),
            ("passed", "int", [r["passed"] for r in rows]),
            ("not_applicable", "int", [r["not_applicable"] for r in rows]),
            ("rate", "float", [_num(r["rate"]) for r in rows]),
            ("low", "float", [_low(r["ci"]) for r in rows]),
            ("high", "float", [_high(r["ci"]) for r in rows]),
        ]
        return cols

    def to_pandas(self, by: str = "touchpoint") -> pd.DataFrame:
        """Compliance per touchpoint, standard, location or cell."""
        return pandas_frame(self._columns(by))

    def to_polars(self, by: str = "touchpoint") -> pl.DataFrame:
        """The columns of :meth:`to_pandas` as a polars DataFrame."""
        return polars_frame(self._columns(by))

    def to_dict(self) -> dict[str, Any]:
        """The result as Python objects (the core's form)."""
        return dict(self._raw)

    def _summary(self) -> str:
        return f"checks={self._raw['checks']}, not_applicable={self._raw['not_applicable']}"

    def rate(self, touchpoint: str) -> float:
        """The compliance rate of ``touchpoint`` (NaN when it was not audited)."""
        for r in self._raw["by_touchpoint"]:
            if r["touchpoint"] == touchpoint:
                return _num(r["rate"])
        return math.nan

    def _body(self) -> tuple[list[str], list[list[str]]]:
        head = ["touchpoint", "standard", "checks", "n/a", "rate %", "CI"]
        body = []
        for r in self._raw["by_standard"]:
            body.append(
                [
                    r["touchpoint"],
                    r["standard"],
                    str(r["checks"]),
                    str(r["not_applicable"]),
                    _fmt(r["rate"]),
                    _ci(r["ci"]),
                ]
            )
        return head, body

    def __str__(self) -> str:
        o = self._raw["options"]
        head, body = self._body()
        line = (
            f"Audit compliance: {self._raw['checks']} applicable checks, {self._raw['not_applicable']} not "
            f"applicable; {level_text(o['confidence_level'])} {o['method']} intervals"
        )
        tp = [
            [
                r["touchpoint"],
                "(all)",
                str(r["checks"]),
                str(r["not_applicable"]),
                _fmt(r["rate"]),
                _ci(r["ci"]),
            ]
            for r in self._raw["by_touchpoint"]
        ]
        return "\n".join([line, *text_table(head, tp + body)])

    def _repr_html_(self) -> str:
        head, body = self._body()
        return html_table("Audit compliance", [tuple(b) for b in body], header=head)


def audit_compliance(
    data: object,
    *,
    touchpoint: str = "touchpoint",
    standard: str = "standard",
    location: str = "location",
    passed: str = "passed",
    confidence_level: float = 0.95,
    method: str = "wilson",
) -> AuditCompliance:
    """Compliance rates of audit rows (one checklist item at one visit per row: ``passed`` 1, 0, or
    missing for not applicable) per touchpoint, standard and location, with Wilson intervals.

    >>> import cx_metrics as cx
    >>> a = cx.audit_compliance({"touchpoint": ["shop"] * 3, "standard": ["greeting"] * 3,
    ...                          "location": ["Leeds", "York", "York"], "passed": [1, 0, None]})
    >>> t = a.to_pandas()
    >>> t["checks"].tolist(), t["not_applicable"].tolist(), a.rate("shop")
    ([2], [1], 0.5)
    """
    t = AuditTally()
    fold_audit(t, data, touchpoint=touchpoint, standard=standard, location=location, passed=passed)
    return t.result(confidence_level, method)


def fold_audit(
    tally: AuditTally, data: object, *, touchpoint: str, standard: str, location: str, passed: str
) -> None:
    """Fold the audit rows of ``data`` (columns named as in :func:`audit_compliance`) into ``tally``."""
    tally.fold(_text(data, touchpoint), _text(data, standard), _text(data, location), _raw_list(data, passed))


_DATA = "data"


def sample_journey() -> pd.DataFrame:
    """The bundled synthetic journey survey (``scripts/make_sample_journey.py``, seed 20261207): brand,
    customer_id, segment, stage, touchpoint, ltr (0-10), csat (1-5), ces (1-7), one row per rated
    touchpoint use; 400 customers per brand, three brands.

    >>> import cx_metrics as cx
    >>> cx.sample_journey()["brand"].nunique()
    3
    """
    import io

    pd = require_pandas(None)

    raw = (resources.files("cx_metrics") / _DATA / "sample_journey.csv").read_bytes()
    return pd.read_csv(io.BytesIO(raw))


def sample_audit() -> pd.DataFrame:
    """The bundled synthetic mystery-shopping audit of the sample's brand Northwind: visit_id, touchpoint,
    location, standard, passed (1, 0, empty for not applicable).

    >>> import cx_metrics as cx
    >>> sorted(cx.sample_audit()["touchpoint"].unique())
    ['call centre', 'chat', 'shop', 'website']
    """
    import io

    pd = require_pandas(None)

    raw = (resources.files("cx_metrics") / _DATA / "sample_journey_audit.csv").read_bytes()
    return pd.read_csv(io.BytesIO(raw))


def sample_journey_map() -> Journey:
    """The journey map of the bundled sample: six stages from awareness to return, eleven touchpoints.

    >>> import cx_metrics as cx
    >>> [stage for stage, _ in cx.sample_journey_map().stages]
    ['awareness', 'consideration', 'purchase', 'delivery', 'support', 'return']
    """
    third = "third_party"
    return Journey(
        "sample retail journey",
        {
            "awareness": [("social ads", "social media", third), ("search", "search engine", third)],
            "consideration": [("website", "website", "own"), ("reviews", "review site", third)],
            "purchase": [
                ("app", "app", "own"),
                ("shop", "store", "own"),
                ("marketplace", "marketplace", third),
            ],
            "delivery": [("carrier", "delivery", third)],
            "support": [("call centre", "call centre", "own"), ("chat", "chat", "own")],
            "return": [("returns desk", "store", "own")],
        },
    )
