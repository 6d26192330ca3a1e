"""The six pillars of customer experience (the KPMG model): the pillar preset of driver analysis, and
pillar scores per respondent from survey items with their summaries per group.

The ids, display names, descriptions and groups come from the Rust ``Pillar`` enum; this module only
mirrors them as a Python :class:`~enum.Enum`. Pillar scores and their summaries are computed in Rust
(``PillarItems::score``, ``PillarScores::summarize_groups`` on the grouping engine); the scores
cross as one numpy array.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Final, Literal, overload

import numpy as np
import numpy.typing as npt

from . import _native
from ._convert import _module_of
from ._groups import key_columns
from ._json import as_float
from ._results import (
    FrameColumn,
    Tabular,
    fixed,
    html_block,
    html_table,
    json_clean,
    json_dict,
    json_safe,
    level_text,
    pct,
    require_pandas,
    text_table,
)
from ._table import Table
from ._tally import _State
from .drivers import (
    CovarianceName,
    DriverAnalysis,
    MissingCodeSpec,
    MissingPolicy,
    OutcomeScale,
    ScaleSpec,
    SegmentDriverAnalyses,
    _higher_is_better,
    _scale_bounds,
    _weights,
    _whole,
    driver_analysis,
)
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

__all__ = [
    "PILLARS",
    "MergedPillarSummary",
    "Pillar",
    "PillarSummary",
    "PillarTally",
    "pillar_driver_analysis",
    "pillar_summary",
]


@cache
def _table() -> dict[str, tuple[str, str, str]]:
    return {pid: (name, description, group) for pid, name, description, group in _native.pillars()}


class Pillar(enum.Enum):
    """A pillar of experience; the value is its stable snake_case id (the driver column name).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> p = cx.Pillar("time_and_effort")
    >>> p.id, p.name, p.group
    ('time_and_effort', 'Time and Effort', 'intermediate')
    >>> [q.id for q in cx.Pillar if q.group == "foundation"]
    ['integrity', 'resolution']
    """

    INTEGRITY = "integrity"
    RESOLUTION = "resolution"
    EXPECTATIONS = "expectations"
    TIME_AND_EFFORT = "time_and_effort"
    PERSONALISATION = "personalisation"
    EMPATHY = "empathy"

    @property
    def id(self) -> str:
        """The snake_case id, as the Rust ``Pillar`` parses it (``"time_and_effort"``)."""
        return str(self.value)

    @property
    def name(self) -> str:
        """The display name (``"Time and Effort"``); the member's Python name is ``_name_``."""
        return _table()[self.id][0]

    @property
    def description(self) -> str:
        """What the customer judges on this pillar."""
        return _table()[self.id][1]

    @property
    def group(self) -> str:
        """The tier: ``"foundation"``, ``"intermediate"`` or ``"distinguishing"``."""
        return _table()[self.id][2]

    def __str__(self) -> str:
        return self.id


PILLARS: Final[tuple[str, ...]] = tuple(p.id for p in Pillar)
"""The six pillar ids in model order: the driver names of the pillar preset."""


@overload
def pillar_driver_analysis(
    data: object,
    outcome: str = "ltr",
    weights: object = None,
    missing: MissingPolicy = "listwise",
    always: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence_level: float = 0.95,
    *,
    indicator_for: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    by: None = None,
    overall: Literal[False] = False,
    outcome_scale: OutcomeScale = "auto",
    scales: ScaleSpec | None = (1, 10),
    missing_codes: MissingCodeSpec | None = None,
    covariance: CovarianceName | None = None,
) -> DriverAnalysis: ...


@overload
def pillar_driver_analysis(
    data: object,
    outcome: str = "ltr",
    weights: object = None,
    missing: MissingPolicy = "listwise",
    always: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence_level: float = 0.95,
    *,
    indicator_for: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    by: object,
    overall: bool = False,
    outcome_scale: OutcomeScale = "auto",
    scales: ScaleSpec | None = (1, 10),
    missing_codes: MissingCodeSpec | None = None,
    covariance: CovarianceName | None = None,
) -> SegmentDriverAnalyses: ...


def pillar_driver_analysis(
    data: object,
    outcome: str = "ltr",
    weights: object = None,
    missing: MissingPolicy = "listwise",
    always: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence_level: float = 0.95,
    *,
    indicator_for: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    by: object = None,
    overall: bool = False,
    outcome_scale: OutcomeScale = "auto",
    scales: ScaleSpec | None = (1, 10),
    missing_codes: MissingCodeSpec | None = None,
    covariance: CovarianceName | None = None,
) -> DriverAnalysis | SegmentDriverAnalyses:
    """:func:`~cx_metrics.driver_analysis` with the six pillar columns (:data:`PILLARS`) as drivers.

    The pillars are checked on their 1-10 scale (``scales=(1, 10)``; None checks nothing) and the
    outcome ``ltr`` on 0-10: a value off its scale raises
    :class:`~cx_metrics.exceptions.OutOfScaleError` naming the column, the row and the value, unless
    it is declared missing (``missing_codes=[99]``, or per column), which hands those rows to
    ``missing=`` and counts them in :attr:`~cx_metrics.DriverAnalysis.declared_missing`. ``by``,
    ``overall`` and ``covariance`` are those of :func:`~cx_metrics.driver_analysis` (with ``by``, the
    analysis of all rows comes last with ``overall=True``).

    Examples
    --------
    >>> import cx_metrics as cx
    >>> r = cx.pillar_driver_analysis(cx.datasets.sample_survey(), weights="weight",
    ...                               missing="indicator", indicator_for=["resolution"])
    >>> r.units == cx.PILLARS
    True
    """
    return driver_analysis(
        data,
        outcome,
        PILLARS,
        weights,
        missing,
        always,
        groups,
        confidence_level,
        indicator_for=indicator_for,
        columns=columns,
        by=by,
        overall=overall,
        outcome_scale=outcome_scale,
        scales=scales,
        missing_codes=missing_codes,
        covariance=covariance,
    )


# ----- pillar scores and their summaries ------------------------------------------------------------

_SUMMARY_COLUMNS: Final[tuple[str, ...]] = (
    "n",
    "n_unscored",
    "effective_n",
    "mean",
    "mean_ci_low",
    "mean_ci_high",
    "sd",
    "top_box_share",
    "top_box_ci_low",
    "top_box_ci_high",
    "n_zero_weight",
)


@dataclass(frozen=True)
class PillarSummary(Tabular):
    """Pillar scores per respondent and their summaries per group (``cx.pillar_summary``).

    A respondent's score on a pillar is the mean of its answered items, given at least
    ``min(min_answered, items of the pillar)`` answers; otherwise the respondent is *unscored* on that
    pillar (counted, never dropped silently). Each group's summary of a pillar has the weighted mean
    with a Student-t interval (``n_eff - 1`` degrees of freedom, standard error ``sd / sqrt(n_eff)``,
    clipped to the scale), the weighted standard deviation and the weighted top-box share with a
    Wilson interval at Kish's effective sample size ``n_eff = (sum w)^2 / sum w^2``.

    Attributes
    ----------
    items : dict of str to str
        Item column -> pillar id.
    pillars : tuple of Pillar
        The measured pillars, in model order.
    by : str, tuple of str, or None
        The label column (``"group"`` for labels given as an unnamed array), the columns, or None
        without groups.
    groups : tuple
        The groups' keys in the order of the guide's "Grouping rules", typed as the labels are, a
        tuple per group for several columns (``("all",)`` without
        ``by``); ``None`` is the group of rows with a missing label, last; an unused categorical level
        is a group with n = 0.
    show_overall : bool
        Whether the table ends with the rows of all respondents (``overall=True``), keyed ``"(all)"``.
    scale : (int, int)
        The items' scale, ``(min, max)``.
    direction : str
        ``"higher_is_better"`` or ``"lower_is_better"``.
    min_answered, top_box : int
        The scoring rule and how many of the best points make the top box.
    top_box_threshold : float
        The lowest score counted as top box (the highest, on a lower-is-better scale).
    confidence_level : float
        Level of the intervals.
    n_respondents : int
        Rows of the data.
    n_unscored : dict of str to int
        Respondents without a score, per pillar id.
    weighted : bool
        Whether survey weights were given.

    :attr:`scores` has the scores (NaN when unscored); :attr:`table`, ``to_pandas()`` and
    ``to_polars()`` have one row per group and pillar, in the shape of every result by group: the label
    columns named after ``by`` (typed; ``group`` without ``by``), ``pillar`` (the id), ``estimate`` (the
    mean score), ``ci_low``, ``ci_high`` (its interval), ``n`` (scored respondents of positive weight),
    then ``n_unscored``, ``effective_n``, ``sd``, ``top_box_share``, ``top_box_ci_low``,
    ``top_box_ci_high`` and ``n_zero_weight``; undefined figures (no scored respondent, ``n_eff <= 1``
    for the sd and the mean's interval) are NaN. ``result[key]`` is one group's rows (``r[1]``,
    ``r["A"]``, ``r[None]``). :meth:`plot` draws the pillar profile of every group.
    """

    items: dict[str, str]
    pillars: tuple[Pillar, ...]
    by: str | tuple[str, ...] | None
    groups: tuple[Key, ...]
    scale: tuple[int, int]
    direction: str
    min_answered: int
    top_box: int
    top_box_threshold: float
    confidence_level: float
    n_respondents: int
    n_unscored: dict[str, int]
    weighted: bool
    show_overall: bool
    _rows: tuple[dict[str, Any], ...] = field(repr=False)
    _index: Any = field(repr=False, compare=False)
    _native: Any = field(repr=False, compare=False)

    @cached_property
    def _scores(self) -> dict[str, npt.NDArray[np.float64]]:
        """The scores per pillar id: rows of the core's array (NaN where unscored), not copies."""
        table = self._native.scores
        return {p: table[k] for k, p in enumerate(self._native.pillars)}

    @property
    def has_scores(self) -> bool:
        """Whether the per-respondent scores are kept (not in a summary merged over partitions)."""
        return True

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_scores", None)  # a view of the native result, rebuilt on access
        return state

    def to_json(self) -> str:
        """The summary as JSON text, for storage: its options, and the core's scores, summaries and
        typed group labels (``report``). The index of a pandas ``data`` is not kept."""
        options = {
            "items": self.items,
            "by": self.by,
            "scale": list(self.scale),
            "direction": self.direction,
            "min_answered": self.min_answered,
            "top_box": self.top_box,
            "confidence_level": self.confidence_level,
            "weighted": self.weighted,
            "overall": self.show_overall,
        }
        return f'{{"options":{json.dumps(json_clean(options))},"report":{self._native.to_json()}}}'

    @classmethod
    def from_json(cls, text: str) -> PillarSummary:
        """A summary from the text written by :meth:`to_json`."""
        stored = json.loads(text)
        o = stored["options"]
        by = o["by"]
        return _from_native(
            _native.PillarScores.from_json(json.dumps(stored["report"])),
            items=dict(o["items"]),
            by=tuple(by) if isinstance(by, list) else by,
            scale=(int(o["scale"][0]), int(o["scale"][1])),
            direction=o["direction"],
            min_answered=int(o["min_answered"]),
            top_box=int(o["top_box"]),
            confidence_level=float(o["confidence_level"]),
            weighted=bool(o["weighted"]),
            overall=bool(o.get("overall", False)),
            index=None,
        )

    @property
    def scores(self) -> pd.DataFrame:
        """One row per respondent (the index of a pandas ``data``), one column per measured pillar id;
        NaN where the respondent is unscored."""
        pd = require_pandas("use to_polars() for the summaries")

        frame = pd.DataFrame({p.id: self._scores[p.id] for p in self.pillars})
        if self._index is not None:
            frame.index = self._index
        return frame

    @property
    def table(self) -> pd.DataFrame:
        """One row per group and pillar, as a pandas DataFrame (the same as :meth:`to_pandas`; polars
        when pandas is not installed)."""
        return labelled_frame(self._label_columns(), self._columns())

    @property
    def by_columns(self) -> tuple[str, ...]:
        """The label columns' names (``("group",)`` without ``by``)."""
        if self.by is None:
            return ("group",)
        return self.by if isinstance(self.by, tuple) else (self.by,)

    def __getitem__(self, key: Key) -> pd.DataFrame:
        """The rows of group ``key`` (typed, as in :attr:`groups`), indexed by pillar id."""
        g = find_key(self.groups, key)
        frame = self.to_pandas()
        rows = [i for i, r in enumerate(self._rows) if r["group"] is g or r["group"] == g]
        return frame.iloc[rows].drop(columns=list(self.by_columns)).set_index("pillar")

    def __iter__(self) -> Iterator[Key]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def n_respondents_of(self, key: Key) -> int:
        """Respondents of group ``key`` (scored or not, any weight)."""
        g = find_key(self.groups, key)
        r = next((r for r in self._rows if r["group"] is g or r["group"] == g), None)
        return 0 if r is None else r["n"] + r["n_unscored"] + r["n_zero_weight"]

    def _label_columns(self) -> list[tuple[str, list[Any]]]:
        return key_columns_of(self.by_columns, [r["group"] for r in self._rows])

    def _columns(self) -> list[FrameColumn]:
        rows = self._rows
        out: list[FrameColumn] = [
            ("pillar", "str", [r["pillar"] for r in rows]),
            ("estimate", "float", [as_float(r["mean"]) for r in rows]),
            ("ci_low", "float", [as_float(r["mean_ci_low"]) for r in rows]),
            ("ci_high", "float", [as_float(r["mean_ci_high"]) for r in rows]),
            ("n", "int", [r["n"] for r in rows]),
        ]
        for c in _SUMMARY_COLUMNS:
            if c in ("n", "mean", "mean_ci_low", "mean_ci_high"):
                continue
            kind: Literal["int", "float"] = "int" if c in ("n_unscored", "n_zero_weight") else "float"
            out.append((c, kind, [r[c] if kind == "int" else as_float(r[c]) for r in rows]))
        return out

    def to_pandas(self) -> pd.DataFrame:
        """The table as a pandas DataFrame: typed label columns, then the figures (see the class
        docstring); undefined figures are NaN."""
        return labelled_pandas(self._label_columns(), self._columns())

    def to_polars(self) -> pl.DataFrame:
        """The table as a polars DataFrame (the columns of :meth:`to_pandas`; undefined figures are
        null)."""
        return labelled_polars(self._label_columns(), self._columns())

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe builtins: options, one summary per group and pillar (the columns of
        :attr:`table`, undefined figures None) and, when it has them (:attr:`has_scores`), the scores
        per pillar id (None when unscored)."""
        return json_dict(
            {
                "items": self.items,
                "pillars": [p.id for p in self.pillars],
                "by": self.by,
                "groups": [json_key(g) for g in self.groups],
                "scale": list(self.scale),
                "direction": self.direction,
                "min_answered": self.min_answered,
                "top_box": self.top_box,
                "top_box_threshold": self.top_box_threshold,
                "confidence_level": self.confidence_level,
                "n_respondents": self.n_respondents,
                "n_unscored": self.n_unscored,
                "weighted": self.weighted,
                "summaries": [{**r, "group": json_key(r["group"])} for r in self._rows],
            }
            | ({"scores": {p: col.tolist() for p, col in self._scores.items()}} if self.has_scores else {})
        )

    def _level(self) -> str:
        return f"{level_text(self.confidence_level)} CI"

    def _text_rows(self) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for r in self._rows:
            mean, share = r["mean"], r["top_box_share"]
            out.append(
                (
                    key_text(r["group"]),
                    Pillar(r["pillar"]).name,
                    str(r["n"]),
                    fixed(mean),
                    _range(r["mean_ci_low"], r["mean_ci_high"], fixed),
                    "n/a" if share is None else pct(share),
                    _range(r["top_box_ci_low"], r["top_box_ci_high"], pct),
                )
            )
        return out

    def _header(self) -> tuple[str, ...]:
        lo, hi = self.scale
        return (
            " / ".join(self.by_columns),
            "pillar",
            "n",
            f"mean ({lo}-{hi})",
            self._level(),
            "top box",
            self._level(),
        )

    def _headline(self) -> str:
        lo, hi = self.scale
        weighted = ", weighted" if self.weighted else ""
        by = " / ".join(self.by_columns)
        groups = "" if self.by is None else f" by {by} ({len(self.groups)} groups)"
        pillars = f"{len(self.pillars)} pillar{'' if len(self.pillars) == 1 else 's'}"
        items = f"{len(self.items)} item{'' if len(self.items) == 1 else 's'}"
        best = "the best point" if self.top_box == 1 else f"the best {self.top_box} points"
        return (
            f"Pillar scores{groups}: {pillars} from {items} on {lo}-{hi}, n = {self.n_respondents}"
            f"{weighted}; top box = {best}"
        )

    def _warnings(self) -> list[str]:
        out = []
        unscored = [f"{Pillar(p).name} {k}" for p, k in self.n_unscored.items() if k]
        if unscored:
            rule = (
                "no item answered"
                if self.min_answered == 1
                else f"fewer than {self.min_answered} items answered"
            )
            out.append(f"respondents unscored ({rule}) of {self.n_respondents}: {', '.join(unscored)}")
        out += [
            f"{key_text(r['group'])}, {Pillar(r['pillar']).name}: no scored respondent; the summary is "
            "undefined"
            for r in self._rows
            if r["mean"] is None
        ]
        if any(has_missing_label(g) for g in self.groups):
            by = " / ".join(self.by_columns)
            out.append(f"(missing): respondents without a {by} label form their own group")
        return out

    def __str__(self) -> str:
        lines = [self._headline(), "", *text_table(self._header(), self._text_rows())]
        return "\n".join(lines + [f"note: {w}" for w in self._warnings()])

    def _repr_html_(self) -> str:
        table = html_table(None, self._text_rows(), header=self._header(), warnings=self._warnings())
        return html_block(table, headline=self._headline())

    def plot(self, **kwargs: Any) -> Axes:
        """The pillar means of every group with their intervals (:func:`cx_metrics.plot.pillar_profile`:
        ``ax``); needs matplotlib (the ``plot`` extra)."""
        from .plot import pillar_profile

        return pillar_profile(self, **kwargs)


def _range(low: float | None, high: float | None, show: Any) -> str:
    if low is None or high is None:
        return "n/a"
    return f"{show(low)} to {show(high)}"


def _pillar_id(p: object) -> str:
    if isinstance(p, Pillar):
        return p.id
    if isinstance(p, str):
        return p
    raise InvalidArgumentError(
        f"invalid items: {p!r} is not a pillar; use a cx.Pillar or one of {', '.join(PILLARS)}"
    )


def _items(items: Mapping[str, Pillar | str] | Sequence[Pillar | str] | None) -> dict[str, str]:
    if items is None:
        return {p: p for p in PILLARS}
    if isinstance(items, Mapping):
        return {str(k): _pillar_id(v) for k, v in items.items()}
    if isinstance(items, str):
        return {items: items}
    return {_pillar_id(p): _pillar_id(p) for p in items}


def pillar_summary(
    data: object,
    items: Mapping[str, Pillar | str] | Sequence[Pillar | str] | None = None,
    scale: tuple[int, int] = (1, 10),
    by: object = None,
    weights: object = None,
    min_answered: int = 1,
    top_box: int = 2,
    confidence_level: float = 0.95,
    *,
    direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better",
    overall: bool = False,
) -> PillarSummary:
    """Pillar scores per respondent from survey items, summarised per group.

    Parameters
    ----------
    data : table
        A pandas, polars or pyarrow table, or a dict of columns.
    items : mapping of item column to pillar, or sequence of pillars, optional
        Which pillar each item column measures (a :class:`Pillar` or its id); several items may
        measure one pillar. A sequence of pillars means columns named by their ids. Default: the six
        pillar id columns (:data:`PILLARS`), each measuring its own pillar; a missing column raises
        :class:`~cx_metrics.exceptions.ColumnError`.
    scale : (int, int)
        The items' scale ``(min, max)``; an answer off the scale is an error naming its column and row.
    by : str, list of str, or array, optional
        The label column (name, or one label per row), or several (``["wave", "brand"]``): a segment,
        a brand, a wave. Groups follow the grouping rules of every ``by=`` (the guide's "Grouping rules"):
        categorical order, else numbers numerically, dates chronologically, text by code point;
        labels keep their type; respondents with a missing label form the group ``None``, last, with a
        :class:`MissingLabelWarning`; unused categorical levels are groups with n = 0. Without ``by``,
        one group ``"all"``.
    weights : str or array, optional
        Survey weights: a column name or one weight per row (finite, >= 0).
    min_answered : int
        Items of a pillar a respondent must answer to be scored (capped at the pillar's item count).
    top_box : int
        How many of the best scale points count as top box (2 on 1-10: scores of 9 or more).
    confidence_level : float
        Level of the intervals.
    direction : {"higher_is_better", "lower_is_better"}
        Which end of the scale is best (decides the top box).
    overall : bool
        With ``by``: whether the table ends with the rows of all respondents (label ``"(all)"``).

    Returns
    -------
    PillarSummary

    Examples
    --------
    >>> import cx_metrics as cx
    >>> data = {
    ...     "trust": [9, 7, 10, 4, None, 8],
    ...     "honest": [10, 6, 9, None, None, 8],
    ...     "easy": [6, 9, 10, 3, 7, 5],
    ...     "brand": ["A", "A", "B", "B", "A", "B"],
    ... }
    >>> items = {"trust": "integrity", "honest": "integrity", "easy": cx.Pillar.TIME_AND_EFFORT}
    >>> s = cx.pillar_summary(data, items, by="brand")
    >>> s.scores["integrity"].tolist()
    [9.5, 6.5, 9.5, 4.0, nan, 8.0]
    >>> s.table[["brand", "pillar", "n", "estimate", "top_box_share"]].round(3).to_dict("records")[:2]
    [{'brand': 'A', 'pillar': 'integrity', 'n': 2, 'estimate': 8.0, 'top_box_share': 0.5},
     {'brand': 'A', 'pillar': 'time_and_effort', 'n': 3, 'estimate': 7.333, 'top_box_share': 0.333}]
    >>> round(float(s["B"].loc["integrity", "estimate"]), 3)
    7.167
    """
    higher = _higher_is_better(direction)
    lo, hi = _scale_bounds(scale)
    min_answered = _whole("min_answered", min_answered, count=True)
    top_box = _whole("top_box", top_box, count=True)
    mapping = _items(items)
    table = Table(data)
    names = list(mapping)
    columns = [table.float_column(n) for n in names]
    n_rows = table.n_rows if not columns else columns[0].shape[0]
    w = _weights(table, weights)
    keys = None if by is None else key_columns(by, table, n_rows)
    native = _native.pillar_scores(
        names,
        columns,
        item_pillars=[mapping[n] for n in names],
        min=lo,
        max=hi,
        higher_is_better=higher,
        min_answered=min_answered,
        groups=None if keys is None else keys.specs,
        weights=w,
        top_box=top_box,
        confidence_level=float(confidence_level),
        overall=bool(overall) and keys is not None,
    )
    out = _from_native(
        native,
        items=mapping,
        by=None if keys is None else keys.by_name,
        scale=(lo, hi),
        direction=direction,
        min_answered=min_answered,
        top_box=top_box,
        confidence_level=float(confidence_level),
        weighted=w is not None,
        overall=bool(overall) and keys is not None,
        index=getattr(data, "index", None) if _module_of(data) == "pandas" else None,
    )
    if keys is not None:
        missing = sum(out.n_respondents_of(g) for g in out.groups if has_missing_label(g))
        warn_missing_labels(missing, keys.names, stacklevel=3)
    return out


def _from_native(
    native: Any,
    *,
    items: dict[str, str],
    by: str | tuple[str, ...] | None,
    scale: tuple[int, int],
    direction: str,
    min_answered: int,
    top_box: int,
    confidence_level: float,
    weighted: bool,
    overall: bool,
    index: Any,
) -> PillarSummary:
    """The summary of the core's report: its summaries come group by group (in the order of its
    labels; the one group ``"all"`` without ``by``), then, with ``overall``, those of all rows."""
    lo, hi = scale
    measured = list(native.pillars)
    summaries = native.summaries
    labels = native.labels
    n_by = 1 if by is None or isinstance(by, str) else len(by)
    groups: tuple[Key, ...] = group_keys(labels, n_by) if by is not None else ("all",)
    keys = [g for g in groups for _ in measured] + (["(all)"] * len(measured) if overall else [])
    # Without by and without respondents the core has no summary.
    rows = [_summary_row(s, k) for s, k in zip(summaries, keys, strict=by is not None)]
    higher = direction == "higher_is_better"
    threshold = float(hi - top_box + 1) if higher else float(lo + top_box - 1)
    if summaries:
        threshold = as_float(summaries[0]["top_box_threshold"])
    return PillarSummary(
        items=items,
        pillars=tuple(Pillar(p) for p in measured),
        by=by,
        groups=groups,
        scale=scale,
        direction=direction,
        min_answered=min_answered,
        top_box=top_box,
        top_box_threshold=threshold,
        confidence_level=confidence_level,
        n_respondents=native.n_respondents,
        n_unscored=dict(zip(measured, native.n_unscored, strict=True)),
        weighted=weighted,
        show_overall=overall,
        _rows=tuple(rows),
        _index=index,
        _native=native,
    )


def _summary_row(s: Mapping[str, Any], group: Key) -> dict[str, Any]:
    mean_ci = s.get("mean_ci") or {}
    top_ci = s.get("top_box_ci") or {}
    return {
        "group": group,
        "pillar": str(s["pillar"]),
        "n": int(s["n"]),
        "n_unscored": int(s["n_unscored"]),
        "effective_n": json_safe(s["effective_n"]),
        "mean": s["mean"],
        "mean_ci_low": mean_ci.get("low"),
        "mean_ci_high": mean_ci.get("high"),
        "sd": s["sd"],
        "top_box_share": s["top_box_share"],
        "top_box_ci_low": top_ci.get("low"),
        "top_box_ci_high": top_ci.get("high"),
        "n_zero_weight": int(s["n_zero_weight"]),
    }


# ----- the mergeable state: summaries over partitions -------------------------------------------------


class PillarTally(_State):
    """The mergeable state of pillar summaries: per pillar the weighted moments of the scores (Chan et
    al.'s pairwise merge), the top-box weight and the respondents without a score. It finishes into the
    same figures as :func:`pillar_summary` (whose groups are folded by this state's code in the core);
    it keeps no per-respondent scores, so its result has summaries only.

    It folds pillar *scores* (columns named by pillar ids, NaN where a respondent is unscored: the
    ``scores`` of a :class:`PillarSummary`), not item answers: scoring is row by row, so the engines
    score each partition and fold the scores. Weights are used as given (finite, >= 0, the largest
    within 2^+-256).

    >>> t = PillarTally(["integrity", "empathy"], scale=(1, 5))
    >>> t.fold({"integrity": [5.0, 4.0, float("nan")], "empathy": [2.0, 5.0, 4.0]})
    >>> row = t.result()["all"].loc["integrity"]
    >>> int(row["n"]), int(row["n_unscored"]), float(row["estimate"])
    (2, 1, 4.5)
    """

    __slots__ = ()
    _native_type = _native.State
    _kind = "pillar_tally"

    def __init__(
        self,
        pillars: Sequence[Pillar | str],
        scale: tuple[int, int] = (1, 10),
        top_box: int = 2,
        *,
        direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better",
    ) -> None:
        if isinstance(pillars, str | Pillar):
            pillars = [pillars]
        _higher_is_better(direction)
        lo, hi = _scale_bounds(scale)
        config = {
            "min": lo,
            "max": hi,
            "direction": direction,
            "pillars": [_pillar_id(p) for p in pillars],
            "top_box": _whole("top_box", top_box, count=True),
        }
        self._inner = _native.State(self._kind, config)

    def _config(self) -> dict[str, Any]:
        data: dict[str, Any] = self._inner.data()
        return data

    @property
    def pillars(self) -> tuple[Pillar, ...]:
        """The pillars, in model order."""
        return tuple(Pillar(p) for p in self._config()["pillars"])

    @property
    def scale(self) -> tuple[int, int]:
        """The scores' scale ``(min, max)``."""
        s = self._config()["scale"]
        return (int(s["min"]), int(s["max"]))

    @property
    def direction(self) -> str:
        return str(self._config()["scale"]["direction"])

    @property
    def top_box(self) -> int:
        return int(self._config()["top_box"])

    def fold(self, scores: object, weights: object = None) -> None:
        """Fold pillar scores: a table (or dict of columns) with one column per pillar of the tally,
        named by its id, NaN where the respondent is unscored; ``weights``: a column name of
        ``scores`` or one weight per row. A score off the scale is an error naming the pillar and the
        row; on error nothing changes."""
        table = Table(scores)
        ids = [p.id for p in self.pillars]
        extra = [c for c in table.names if c not in ids and c != weights]
        if extra:
            raise InvalidArgumentError(
                f"invalid scores: column {extra[0]!r} is not a pillar of this tally "
                f"({', '.join(ids)}); fold the scores of its pillars only"
            )
        columns = {p: np.asarray(table.float_column(p), dtype=np.float64) for p in ids}
        w = _weights(table, weights)
        self._inner.fold(columns, None if w is None else np.asarray(w, dtype=np.float64))

    def result(self, confidence_level: float = 0.95) -> MergedPillarSummary:
        """The summaries of every pillar over everything folded (group ``"all"``): a
        :class:`MergedPillarSummary` whose items are the pillar score columns themselves."""
        pillars = [p.id for p in self.pillars]
        return merged_summary(
            [("all", self)],
            items={p: p for p in pillars},
            by=None,
            scale=self.scale,
            direction=self.direction,
            min_answered=1,
            top_box=self.top_box,
            confidence_level=confidence_level,
            weighted=self._weighted(),
            overall=False,
        )

    def _weighted(self) -> bool:
        """Whether weights other than 1 were folded (a sum of weights differs from its rows)."""
        for cell in self._config()["cells"]:
            m = cell["moments"]
            if m["sum_w"] != m["n"] or m["sum_w2"] != m["n"] or m["n_zero_weight"]:
                return True
        return False


@dataclass(frozen=True)
class _MergedReport:
    """What a :class:`MergedPillarSummary` keeps in place of the core's report: the merged tallies'
    summaries per group (typed keys), those of all groups with ``overall``, no per-respondent scores."""

    pillars: tuple[str, ...]
    groups: tuple[tuple[Key, int, tuple[dict[str, Any], ...]], ...]  # key, respondents, summaries
    overall: tuple[dict[str, Any], ...] | None

    @property
    def n_respondents(self) -> int:
        return sum(n for _, n, _ in self.groups)

    def to_json(self) -> str:
        from ._groups import key_to_json

        groups = [
            {
                "key": key_to_json(k if isinstance(k, tuple) else (k,)),
                "n_respondents": n,
                "summaries": list(s),
            }
            for k, n, s in self.groups
        ]
        overall = None if self.overall is None else list(self.overall)
        return json.dumps(json_clean({"pillars": list(self.pillars), "groups": groups, "overall": overall}))

    @classmethod
    def from_json(cls, text: str, n_by: int) -> _MergedReport:
        from ._groups import key_from_json

        stored = json.loads(text)
        groups = []
        for g in stored["groups"]:
            label = tuple(key_from_json(g["key"]))
            key = label[0] if n_by == 1 else label
            groups.append((key, int(g["n_respondents"]), tuple(g["summaries"])))
        overall = stored["overall"]
        return cls(tuple(stored["pillars"]), tuple(groups), None if overall is None else tuple(overall))


@dataclass(frozen=True)
class MergedPillarSummary(PillarSummary):
    """A :class:`PillarSummary` finished from merged :class:`PillarTally` states (``cxd.pillar_summary``,
    ``cxs.pillar_summary``, :meth:`PillarTally.result`): the same summaries per group and pillar as in
    memory, but **no per-respondent scores** (the states keep none): :attr:`scores` raises
    :class:`~cx_metrics.exceptions.UndefinedError`, :attr:`has_scores` is False and ``to_dict()`` has
    no ``scores``."""

    @property
    def has_scores(self) -> bool:
        """False: a merged summary has summaries only."""
        return False

    @property
    def _scores(self) -> dict[str, npt.NDArray[np.float64]]:
        raise _no_scores()

    @property
    def scores(self) -> pd.DataFrame:
        """Not available: the merged states keep summaries only (see the class docstring)."""
        raise _no_scores()

    @classmethod
    def from_json(cls, text: str) -> MergedPillarSummary:
        """A merged summary from the text written by :meth:`to_json`."""
        stored = json.loads(text)
        o = stored["options"]
        by = tuple(o["by"]) if isinstance(o["by"], list) else o["by"]
        n_by = 1 if by is None or isinstance(by, str) else len(by)
        return _merged(
            _MergedReport.from_json(json.dumps(stored["report"]), n_by),
            items=dict(o["items"]),
            by=by,
            scale=(int(o["scale"][0]), int(o["scale"][1])),
            direction=o["direction"],
            min_answered=int(o["min_answered"]),
            top_box=int(o["top_box"]),
            confidence_level=float(o["confidence_level"]),
            weighted=bool(o["weighted"]),
        )


def _no_scores() -> Exception:
    from .exceptions import UndefinedError

    return UndefinedError(
        "no per-respondent scores: this pillar summary was finished from merged PillarTally states "
        "(over partitions), which keep summaries only; call cx.pillar_summary on the rows for the scores"
    )


def merged_summary(
    groups: Sequence[tuple[Key, PillarTally]],
    *,
    items: dict[str, str],
    by: str | tuple[str, ...] | None,
    scale: tuple[int, int],
    direction: str,
    min_answered: int,
    top_box: int,
    confidence_level: float,
    weighted: bool,
    overall: bool,
) -> MergedPillarSummary:
    """The summary of one tally per group (in the grouping rules' order; ``[("all", tally)]`` without
    ``by``), each finished by the core; with ``overall``, the rows of all groups' merged tally follow."""
    level = float(confidence_level)
    tallies = [t for _, t in groups]
    parts = []
    for key, t in groups:
        f = t._inner.result(confidence_level=level).to_dict()
        parts.append((key, int(f["n_respondents"]), tuple(f["summaries"])))
    total = None
    if overall and tallies:
        merged = sum(tallies[1:], tallies[0].copy())
        total = tuple(merged._inner.result(confidence_level=level).to_dict()["summaries"])
    pillars = tuple(p.id for p in tallies[0].pillars) if tallies else ()
    return _merged(
        _MergedReport(pillars, tuple(parts), total),
        items=items,
        by=by,
        scale=scale,
        direction=direction,
        min_answered=min_answered,
        top_box=top_box,
        confidence_level=level,
        weighted=weighted,
    )


def _merged(
    report: _MergedReport,
    *,
    items: dict[str, str],
    by: str | tuple[str, ...] | None,
    scale: tuple[int, int],
    direction: str,
    min_answered: int,
    top_box: int,
    confidence_level: float,
    weighted: bool,
) -> MergedPillarSummary:
    rows: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    for key, n, summaries in report.groups:
        if by is None and not n:
            continue  # as in memory: no respondent, no summary
        rows += [_summary_row(s, key) for s in summaries]
        first = first or (summaries[0] if summaries else None)
    if report.overall is not None:
        rows += [_summary_row(s, "(all)") for s in report.overall]
    n_unscored = {
        p: sum(int(s[k]["n_unscored"]) for _, _, s in report.groups) for k, p in enumerate(report.pillars)
    }
    lo, hi = scale
    threshold = float(hi - top_box + 1) if direction == "higher_is_better" else float(lo + top_box - 1)
    if first is not None:
        threshold = as_float(first["top_box_threshold"])
    return MergedPillarSummary(
        items=items,
        pillars=tuple(Pillar(p) for p in report.pillars),
        by=by,
        groups=tuple(k for k, _, _ in report.groups),
        scale=scale,
        direction=direction,
        min_answered=min_answered,
        top_box=top_box,
        top_box_threshold=threshold,
        confidence_level=confidence_level,
        n_respondents=report.n_respondents,
        n_unscored=n_unscored,
        weighted=weighted,
        show_overall=report.overall is not None,
        _rows=tuple(rows),
        _index=None,
        _native=report,
    )
