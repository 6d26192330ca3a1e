"""NPS per period or segment: one score per group of rows (a wave, a region, a channel), with intervals.

Rows are split by label in Python (numpy); each group is then counted and scored in Rust by the same
:class:`~cx_metrics.NpsTally` as :func:`~cx_metrics.nps`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._groups import split_rows
from ._results import (
    FrameColumn,
    Interval,
    Tabular,
    html_block,
    html_table,
    label_text,
    level_text,
    pct,
    points,
    text_table,
)
from ._table import Table
from ._tally import NanPolicy
from .drivers import _weights
from .exceptions import SegmentError
from .nps import NpsMethod, NpsResult, NpsTally, _ci_points, _method_name, _nps_columns

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["NpsByGroup", "nps_by_group"]


@dataclass(frozen=True)
class NpsByGroup(Tabular):
    """The NPS of every group of rows (``cx.nps_by_group``), and of all rows together.

    Attributes
    ----------
    outcome : str
        The 0-10 rating column.
    by : str
        The label column (``"group"`` when the labels were given as an array).
    groups : tuple of str or None
        The groups in sorted label order (numbers numerically, pandas categoricals and polars enums in
        category order, text alphabetically); ``None`` is the group of rows with a missing label, last.
    results : dict of group to NpsResult
        The result of each group. A group whose ratings are all missing is undefined (its
        ``undefined`` says why), never an error.
    intervals : dict of group to Interval or None
        Each group's interval at ``confidence_level`` by ``method`` (None when undefined).
    overall : NpsResult
        All rows together (the groups' ``n`` add up to ``overall.n``).
    overall_interval : Interval or None
        Its interval.
    confidence_level : float
        Level of the intervals.
    method : str
        Interval method (see :meth:`NpsResult.ci`).

    ``result["2026-Q1"]`` is a group's :class:`NpsResult`; iterating gives the groups. :attr:`table`,
    ``to_pandas()`` and ``to_polars()`` give one row per group: ``group``, ``n``, ``score``, ``ci_low``,
    ``ci_high``, ``promoters``, ``passives``, ``detractors`` (scores and shares as fractions: 0.25 is
    NPS +25), then ``n_omitted``, ``n_promoters``, ``n_passives``, ``n_detractors``, ``effective_n``
    and ``std_error``. :meth:`plot` draws the scores with their intervals.
    """

    outcome: str
    by: str
    groups: tuple[str | None, ...]
    results: dict[str | None, NpsResult] = field(repr=False)
    intervals: dict[str | None, Interval | None] = field(repr=False)
    overall: NpsResult = field(repr=False)
    overall_interval: Interval | None = field(repr=False)
    confidence_level: float
    method: NpsMethod

    def __getitem__(self, group: str | None) -> NpsResult:
        if group in self.results:
            return self.results[group]
        shown = ", ".join(label_text(g) for g in self.groups)
        raise SegmentError(f"group {group!r} not found; groups: {shown}")

    def __iter__(self) -> Iterator[str | None]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def table(self) -> pd.DataFrame:
        """One row per group, as a pandas DataFrame (the same as :meth:`to_pandas`)."""
        return self.to_pandas()

    def _columns(self) -> list[FrameColumn]:
        results = [self.results[g] for g in self.groups]
        intervals = [self.intervals[g] for g in self.groups]
        return [("group", "str", list(self.groups)), *_nps_columns(results, intervals)]

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe builtins: options, then each group and the overall result (each an
        :meth:`NpsResult.to_dict` whose ``ci`` is the interval at this result's level and method)."""

        def entry(r: NpsResult, ci: Interval | None) -> dict[str, Any]:
            out = r.to_dict()
            out["ci"] = None if ci is None else ci.to_dict()
            return out

        return {
            "outcome": self.outcome,
            "by": self.by,
            "confidence_level": self.confidence_level,
            "method": self.method,
            "groups": [{"group": g, **entry(self.results[g], self.intervals[g])} for g in self.groups],
            "overall": entry(self.overall, self.overall_interval),
        }

    def _level(self) -> str:
        return f"{level_text(self.confidence_level)} CI"

    def _rows(self) -> list[tuple[str, str, str, str, str, str, str]]:
        return [self._row(label_text(g), self.results[g], self.intervals[g]) for g in self.groups]

    @staticmethod
    def _row(name: str, r: NpsResult, ci: Interval | None) -> tuple[str, str, str, str, str, str, str]:
        if r.undefined is not None:
            return (name, str(r.n), "undefined", "-", "-", "-", "-")
        return (
            name,
            str(r.n),
            points(r.score),
            "-" if ci is None else _ci_points(ci),
            pct(r.promoters),
            pct(r.passives),
            pct(r.detractors),
        )

    def _header(self) -> tuple[str, ...]:
        return (self.by, "n", "NPS", self._level(), "promoters", "passives", "detractors")

    def _headline(self) -> str:
        weighted = ", weighted" if self.overall.weighted else ""
        return (
            f"NPS of {self.outcome} by {self.by}: {len(self.groups)} groups, n = {self.overall.n} "
            f"({self.overall.n_omitted} omitted{weighted}); {self._level()} {_method_name(self.method)}"
        )

    def _warnings(self) -> list[str]:
        out = [
            f"{label_text(g)}: NPS undefined ({r.n_omitted} rows omitted): {r.undefined}"
            for g, r in self.results.items()
            if r.undefined is not None
        ]
        if None in self.results:
            out.append(f"(missing): {self.results[None].n} rows have no {self.by} label")
        return out

    def __str__(self) -> str:
        total = self._row("all", self.overall, self.overall_interval)
        lines = [self._headline(), "", *text_table(self._header(), [*self._rows(), total])]
        return "\n".join(lines + [f"warning: {w}" for w in self._warnings()])

    def _repr_html_(self) -> str:
        table = html_table(
            None,
            self._rows(),
            header=self._header(),
            total=self._row("all", self.overall, self.overall_interval),
            warnings=self._warnings(),
        )
        return html_block(table, headline=self._headline())

    def plot(self, **kwargs: Any) -> Axes:
        """The score of each group with its interval (:func:`cx_metrics.plot.nps_by_group`: ``ax``,
        ``kind="line"`` or ``"bar"``); needs matplotlib (the ``plot`` extra)."""
        from .plot import nps_by_group as draw

        return draw(self, **kwargs)


def nps_by_group(
    data: object,
    outcome: str = "ltr",
    by: object = "wave",
    weights: object = None,
    nan_policy: NanPolicy = "omit",
    confidence_level: float = 0.95,
    method: NpsMethod = "adjusted_wald",
) -> NpsByGroup:
    """Net Promoter Score per period or segment, with an interval for each group.

    Parameters
    ----------
    data : table
        A pandas, polars or pyarrow table, or a dict of columns.
    outcome : str
        The 0-10 rating column (default ``"ltr"``). Values are validated as by :func:`nps`; an error
        names the row's position in ``data``.
    by : str or array
        The label column (name, or one label per row): a wave, a region, a brand. Groups come in sorted
        label order (numbers numerically, categoricals and enums in category order). Rows whose label
        is missing are not dropped: they form their own group, keyed ``None`` and shown last as
        "(missing)", so the groups' ``n`` always add up to the overall ``n``.
    weights : str or array, optional
        Survey weights: a column name or one weight per row (finite, >= 0).
    nan_policy : {"omit", "raise"}
        Missing ratings: omitted and counted per group (``n_omitted``), or an error.
    confidence_level : float
        Level of the intervals.
    method : {"adjusted_wald", "wald", "tango", "dirichlet", "bootstrap"}
        Interval method, as in :meth:`NpsResult.ci`.

    Returns
    -------
    NpsByGroup
        One :class:`NpsResult` per group and the overall result. A group whose ratings are all missing
        has an undefined result (NaN score, no interval), shown as such.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> data = {"ltr": [10, 9, 3, 8, 10, 0, 7, 9], "wave": ["Q2", "Q1", "Q1", "Q2", "Q1", "Q2", "Q1", "Q2"]}
    >>> g = cx.nps_by_group(data, by="wave")
    >>> g.groups
    ('Q1', 'Q2')
    >>> [round(g[w].score, 2) for w in g], g.overall.n
    ([0.25, 0.25], 8)
    >>> g.table[["group", "n", "score"]].to_dict("list")
    {'group': ['Q1', 'Q2'], 'n': [4, 4], 'score': [0.25, 0.25]}
    """
    table = Table(data)
    values = table.float_column(outcome)
    w = _weights(table, weights)
    whole = NpsTally()
    whole.fold(values, weights=w, nan_policy=nan_policy)  # validates every row, naming its position
    overall = whole.result()
    overall_interval = overall._interval_or_none(confidence_level, method)  # checks the options
    name, groups = split_rows(table, by, values.shape[0])
    results: dict[str | None, NpsResult] = {}
    intervals: dict[str | None, Interval | None] = {}
    for label, rows in zip(groups.labels, groups.rows(), strict=True):
        t = NpsTally()
        t.fold(values[rows], weights=None if w is None else w[rows], nan_policy=nan_policy)
        results[label] = t.result()
        intervals[label] = results[label]._interval_or_none(confidence_level, method)
    return NpsByGroup(
        outcome=outcome,
        by=name,
        groups=groups.labels,
        results=results,
        intervals=intervals,
        overall=overall,
        overall_interval=overall_interval,
        confidence_level=float(confidence_level),
        method=method,
    )
