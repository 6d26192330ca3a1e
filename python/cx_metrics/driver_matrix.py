"""The importance-performance matrix and the what-if simulation of a driver analysis.

Both run in Rust on the rows the analysis was computed from; see :meth:`DriverAnalysis.matrix` and
:meth:`DriverAnalysis.what_if`.
"""

from __future__ import annotations

import math
import warnings as _warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from . import _native
from ._json import as_float
from ._results import (
    FrameColumn,
    Interval,
    Kind,
    NativeResult,
    Tabular,
    fixed,
    html_block,
    html_table,
    json_dict,
    level_text,
    num,
    p_equals,
    pct,
    points,
    table_frame,
    text_table,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["ImportancePerformance", "PerformanceNoiseWarning", "SpreadTest", "WhatIf"]


class PerformanceNoiseWarning(UserWarning):
    """The drivers' performances differ by no more than sampling noise: the performance cut of the
    importance-performance matrix separates drivers that the data cannot tell apart (see
    :attr:`ImportancePerformance.spread`)."""


@dataclass(frozen=True)
class SpreadTest:
    """Whether the drivers' performances differ beyond noise.

    Attributes
    ----------
    statistic : float
        Chi-square statistic ``Q = sum((p_i - p_bar)**2 / se_i**2)``: for means ``se_i`` is the
        standard error of driver i's mean and ``p_bar`` the inverse-variance weighted mean; for top-box
        shares ``se_i**2 = p_bar (1 - p_bar) / n_eff_i`` with the pooled share (Pearson's chi-square of
        the k x 2 table). NaN when a driver's mean has no standard error.
    df : int
        Degrees of freedom, the number of drivers minus one.
    p_value : float
        ``P(chi2(df) >= Q)``. The drivers share respondents, which the test ignores: it is conservative.
    intervals_overlap : bool
        Every pair of performance intervals overlaps.
    confidence_level : float
        The level of the intervals; the test is read at ``1 - confidence_level``.
    within_noise : bool
        The test is not significant, or every pair of intervals overlaps.
    """

    statistic: float
    df: int
    p_value: float
    intervals_overlap: bool
    confidence_level: float
    within_noise: bool

    def __str__(self) -> str:
        verdict = "within noise" if self.within_noise else "beyond noise"
        overlap = "; every pair of intervals overlaps" if self.intervals_overlap else ""
        return (
            f"spread of performance {verdict}: chi2({self.df}) = {fixed(self.statistic)}, "
            f"{p_equals(self.p_value)}{overlap}"
        )


_MATRIX_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("importance", "float"),
    ("performance", "float"),
    ("headroom", "float"),
    ("expected_gain", "float"),
    ("quadrant", "str"),
    ("importance_low", "float"),
    ("importance_high", "float"),
    ("performance_low", "float"),
    ("performance_high", "float"),
    ("uncertain_importance", "bool"),
    ("uncertain_performance", "bool"),
    ("priority", "int"),
    ("n", "int"),
    ("n_missing", "int"),
)
_SCENARIO_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("coefficient", "float"),
    ("n_changed", "int"),
    ("n_capped", "int"),
    ("mean_change", "float"),
    ("top_box_before", "float"),
    ("top_box_after", "float"),
)


@dataclass(frozen=True)
class ImportancePerformance(NativeResult, Tabular):
    """The importance-performance matrix: each driver's importance against its performance, split into
    four quadrants (``fix_first``, ``keep_it_up``, ``low_priority``, ``possible_overkill``) by two cut
    lines, and ranked by expected gain (importance x headroom; priority 1 = act first).

    Attributes
    ----------
    measure : str
        The importance measure; ``share`` says whether as shares of 1 or in R² units.
    performance : str
        ``"mean"`` rating or ``"top_box"`` share.
    importance_line, performance_line : float
        Where the axes are cut.
    direction : str
        The direction of the performance axis.
    spread : SpreadTest or None
        Whether the drivers' performances differ beyond noise (from rows, with two drivers or more).
        When they do not, making the matrix warns (:class:`PerformanceNoiseWarning`) and the printout
        says so.

    Each driver has a performance interval (``performance_low``, ``performance_high``): computed from
    the rows at the matrix's ``confidence_level`` (95% by default; a t interval of the weighted mean
    with Kish's effective sample size, or the Wilson interval of the top-box share), and an importance
    interval when one was given or read from a bootstrap of the analysis
    (:attr:`importance_source` says which bootstrap, interval and level). A driver
    whose interval contains a cut line is *uncertain* on that axis: its quadrant could be the
    neighbouring one.

    ``to_pandas()`` / ``to_polars()`` give :attr:`drivers` with the driver as the first column;
    :meth:`plot` draws the matrix.
    """

    measure: str
    share: bool
    performance: str
    importance_line: float
    performance_line: float
    direction: str
    spread: SpreadTest | None
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.ImportancePerformance
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> ImportancePerformance:
        """The result of a matrix just computed: warns when the spread of performance is noise."""
        out = cls._restore(native)
        if out.spread is not None and out.spread.within_noise:
            _warnings.warn(
                f"{out._noise_note()} (category cx.PerformanceNoiseWarning)",
                PerformanceNoiseWarning,
                stacklevel=3,
            )
        return out

    @classmethod
    def _restore(cls, native: Any) -> ImportancePerformance:
        raw = native.to_dict().get("performance_spread")
        spread = (
            None
            if raw is None
            else SpreadTest(
                statistic=as_float(raw["statistic"]),
                df=int(raw["df"]),
                p_value=as_float(raw["p_value"]),
                intervals_overlap=bool(raw["intervals_overlap"]),
                confidence_level=float(raw["confidence_level"]),
                within_noise=bool(raw["within_noise"]),
            )
        )
        return cls(
            measure=native.measure,
            share=native.share,
            performance=native.performance,
            importance_line=native.importance_line,
            performance_line=native.performance_line,
            direction=native.direction,
            spread=spread,
            _native=native,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self)._restore, (self._native,))

    @classmethod
    def from_json(cls, text: str) -> ImportancePerformance:
        """A result from the text written by :meth:`to_json` (no warning is repeated)."""
        return cls._restore(cls._native_type.from_json(text))

    @property
    def importance_source(self) -> dict[str, Any] | None:
        """Where the importance intervals came from, when read from a bootstrap of the analysis:
        ``n_resamples``, ``n_failed`` (replicates left out of these intervals), ``seed``, ``interval``
        (``"percentile"`` or ``"bca"``), ``confidence_level`` and ``share`` (intervals of the shares,
        or of the R² scores). None when the intervals were given as numbers, or when there are none."""
        source: dict[str, Any] | None = self._native.importance_source
        return source

    @property
    def performance_rows(self) -> int | None:
        """The rows the performance was computed on: those the driver analysis used (its missing-data
        policy and declared codes, as its what-if and bootstrap), or None when each driver's available
        ratings were used (pairwise deletion, which has no single sample)."""
        rows = self._raw.get("performance_rows")
        return None if rows is None else int(rows)

    def _sample_note(self) -> str:
        rows = self.performance_rows
        if rows is None:
            return "performance: each driver's available ratings"
        return f"performance: the {rows} rows the analysis used"

    def _source_note(self) -> str | None:
        """The importance intervals' origin in words (None without importance intervals)."""
        s = self.importance_source
        if s is None:
            given = any(r.get("importance_interval") for r in self._raw["drivers"])
            return "importance intervals: given by the caller" if given else None
        what = f"{self.measure} shares" if s["share"] else f"{self.measure} scores (R² units)"
        return (
            f"importance intervals: {level_text(float(s['confidence_level']))} {s['interval']} intervals "
            f"of the {what} from a bootstrap of {s['n_resamples']} resamples ({s['n_failed']} failed), "
            f"seed {s['seed']}"
        )

    def _noise_note(self) -> str:
        s = self.spread
        if s is None:
            return ""
        return (
            f"the drivers' performances do not differ beyond noise (chi2({s.df}) = {fixed(s.statistic)}, "
            f"{p_equals(s.p_value)}"
            + ("; every pair of performance intervals overlaps" if s.intervals_overlap else "")
            + "): the performance cut separates drivers the data cannot tell apart, so read the "
            "quadrants as one group"
        )

    @property
    def drivers(self) -> pd.DataFrame:
        """One row per driver (input order): importance, performance, headroom, expected_gain, quadrant,
        importance_low, importance_high, performance_low, performance_high (NaN when there is no
        interval), uncertain_importance, uncertain_performance, priority, n, n_missing. A pandas
        DataFrame indexed by driver, or a polars DataFrame (driver as the first column) when pandas is
        not installed."""
        return table_frame(self._columns(), index="driver")

    def _columns(self) -> list[FrameColumn]:
        t = self._native.drivers
        rows = self._raw["drivers"]
        bounds = {
            f"{axis}_{end}": [
                math.nan if r.get(f"{axis}_interval") is None else as_float(r[f"{axis}_interval"][end])
                for r in rows
            ]
            for axis in ("importance", "performance")
            for end in ("low", "high")
        }
        out: list[FrameColumn] = [("driver", "str", list(t["driver"]))]
        out += [
            (c, k, bounds[c] if c in bounds else list(t[c]) if k == "str" else t[c].tolist())
            for c, k in _MATRIX_COLUMNS
        ]
        return out

    def _by_priority(self) -> list[dict[str, Any]]:
        """One dict per driver (the columns of :attr:`drivers`), first priority first."""
        columns = self._columns()
        rows = [{name: values[i] for name, _, values in columns} for i in range(len(columns[0][2]))]
        return sorted(rows, key=lambda r: int(r["priority"]))

    def quadrant(self, driver: str) -> str:
        """The quadrant of ``driver``."""
        t = self._native.drivers
        for name, q in zip(t["driver"], t["quadrant"], strict=True):
            if name == driver:
                return str(q)
        raise KeyError(driver)

    @property
    def priorities(self) -> tuple[str, ...]:
        """The drivers by priority, first = act on it first."""
        return tuple(r["driver"] for r in self._by_priority())

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def _rows(self) -> list[tuple[str, str, str, str, str, str, str]]:
        show = pct if self.share else num
        shown = pct if self.performance == "top_box" else num

        def interval(r: dict[str, Any]) -> str:
            lo, hi = r["performance_low"], r["performance_high"]
            return "n/a" if math.isnan(lo) else f"{shown(lo)} to {shown(hi)}"

        return [
            (
                str(r["driver"]),
                str(r["priority"]),
                show(r["importance"]),
                shown(r["performance"]),
                interval(r),
                str(r["quadrant"])
                + (" (uncertain)" if r["uncertain_importance"] or r["uncertain_performance"] else ""),
                str(r["n"]),
            )
            for r in self._by_priority()
        ]

    def _headline(self) -> str:
        unit = "share" if self.share else "R²"
        return (
            f"Importance ({self.measure} {unit}, cut at {self.importance_line:.3f}) against performance "
            f"({self.performance}, cut at {self.performance_line:.3f})"
        )

    @property
    def _level(self) -> str:
        rows = self._raw["drivers"]
        ivs = [r["performance_interval"] for r in rows if r.get("performance_interval")]
        return level_text(float(ivs[0]["confidence_level"])) if ivs else "95%"

    @property
    def _header(self) -> tuple[str, ...]:
        return ("driver", "priority", "importance", "performance", f"{self._level} CI", "quadrant", "n")

    def _notes(self) -> list[str]:
        out = []
        if self.spread is not None and self.spread.within_noise:
            out.append("Warning: " + self._noise_note() + ".")
        n_uncertain = sum(
            1 for r in self._by_priority() if r["uncertain_importance"] or r["uncertain_performance"]
        )
        if n_uncertain:
            out.append(
                f"{n_uncertain} driver(s) marked uncertain: an interval contains a cut line, so the "
                "quadrant could be the neighbouring one."
            )
        return out

    def __str__(self) -> str:
        source = self._source_note()
        head = [self._headline(), self._sample_note()] + ([source] if source else [])
        lines = [*head, "", *text_table(self._header, self._rows())]
        notes = self._notes()
        return "\n".join([*lines, "", *notes] if notes else lines)

    def _repr_html_(self) -> str:
        t = self._native.drivers
        uncertain = [
            f"{name}: its interval crosses a cut line; the quadrant could be the neighbouring one"
            for name, ui, up in zip(
                t["driver"], t["uncertain_importance"], t["uncertain_performance"], strict=True
            )
            if ui or up
        ]
        if self.spread is not None and self.spread.within_noise:
            uncertain.insert(0, self._noise_note())
        caption = "; ".join(n for n in (self._sample_note(), self._source_note()) if n)
        table = html_table(caption, self._rows(), header=self._header, warnings=uncertain)
        return html_block(table, headline=self._headline())

    def plot(self, **kwargs: Any) -> Axes:
        """The matrix: drivers as points, the cut lines and the quadrants
        (:func:`cx_metrics.plot.importance_performance`: ``ax``); needs matplotlib (the ``plot`` extra)."""
        from .plot import importance_performance

        return importance_performance(self, **kwargs)


@dataclass(frozen=True)
class WhatIf(NativeResult, Tabular):
    """Expected NPS if driver ratings changed: the model's slopes applied to each respondent's change,
    keeping their own residual. NPS figures are fractions in [-1, 1] (``str`` shows points).

    Attributes
    ----------
    baseline, simulated, change : float
        NPS of the observed answers, of the simulated answers, and their difference.
    interval : Interval or None
        Bootstrap percentile interval of ``change`` (with ``n_resamples``).
    n, n_omitted, n_zero_weight : int
        Rows used, left out for a missing value, and of weight zero.
    n_capped, n_clipped_low, n_clipped_high : int
        Respondents whose change was cut by a scale's end; simulated answers clipped to 0 or 10.
    binning : str
        ``"latent"`` (fractional respondents, the default) or ``"round"``.
    n_resamples, n_failed_resamples : int
        Bootstrap replicates drawn and those that could not be fitted.
    seed : int or None
        The bootstrap seed.

    ``to_pandas()`` / ``to_polars()`` give the scenario, one row per shifted driver: ``driver``,
    ``shift`` (in words), ``coefficient``, ``n_changed``, ``n_capped``, ``mean_change``,
    ``top_box_before``, ``top_box_after``.
    """

    baseline: float
    simulated: float
    change: float
    interval: Interval | None
    n: int
    n_omitted: int
    n_zero_weight: int
    n_capped: int
    n_clipped_low: int
    n_clipped_high: int
    binning: str
    n_resamples: int
    n_failed_resamples: int
    seed: int | None
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.WhatIf
    _native: Any = field(repr=False, compare=False)

    @property
    def n_dropped(self) -> int:
        """Deprecated name of :attr:`n_omitted`."""
        _warnings.warn(
            "n_dropped is now n_omitted, as in every other result", DeprecationWarning, stacklevel=2
        )
        return self.n_omitted

    @classmethod
    def _from_native(cls, native: Any) -> WhatIf:
        ci = native.interval
        return cls(
            baseline=native.baseline,
            simulated=native.simulated,
            change=native.change,
            interval=None if ci is None else Interval(ci[0], ci[1], ci[2], "percentile"),
            n=native.n,
            n_omitted=native.n_omitted,
            n_zero_weight=native.n_zero_weight,
            n_capped=native.n_capped,
            n_clipped_low=native.n_clipped_low,
            n_clipped_high=native.n_clipped_high,
            binning=native.binning,
            n_resamples=native.n_resamples,
            n_failed_resamples=native.n_failed_resamples,
            seed=native.seed,
            _native=native,
        )

    @property
    def scenario(self) -> pd.DataFrame:
        """What each driver's shift did: shift, coefficient, n_changed, n_capped, mean_change,
        top_box_before, top_box_after."""
        return table_frame(self._columns(), index="driver")

    def _columns(self) -> list[FrameColumn]:
        t = self._native.scenario
        out: list[FrameColumn] = [
            ("driver", "str", list(t["driver"])),
            ("shift", "str", [_shift_text(r["shift"]) for r in self._raw["scenario"]]),
        ]
        out += [(c, k, t[c].tolist()) for c, k in _SCENARIO_COLUMNS]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def _ci_text(self) -> str:
        if self.interval is None:
            return ""
        level = level_text(self.interval.confidence_level)
        return f"{level} CI {points(self.interval.low)} to {points(self.interval.high)}"

    def __str__(self) -> str:
        ci = self._ci_text()
        drivers = ", ".join(f"{r['driver']} {_shift_text(r['shift'])}" for r in self._raw["scenario"])
        lines = [
            f"What if {drivers}:",
            f"NPS {points(self.baseline)} -> {points(self.simulated)} "
            f"(change {points(self.change)} points{', ' + ci if ci else ''}; n = {self.n}, "
            f"{self.n_omitted} omitted)",
            f"  sample: {self._sample_text()}; baseline = the NPS of these respondents",
            f"  method: {self.binning} binning; "
            + (
                f"interval from {self.n_resamples} bootstrap resamples"
                if self.n_resamples
                else "no interval (pass n_resamples= for a bootstrap one)"
            ),
        ]
        lines += [f"  note: {n}" for n in self._notes()]
        return "\n".join(lines)

    def _sample_text(self) -> str:
        """The analysed sample: the missing-data policy, and the rows it filled."""
        missing = str(self._raw.get("missing", "listwise"))
        filled = int(self._raw.get("n_filled", 0) or 0)
        text = f"missing={missing!r}"
        if filled:
            text += f", {filled} rows with a filled value"
        return text

    def _notes(self) -> list[str]:
        out = []
        if self.n_capped:
            out.append(f"{self.n_capped} respondents' change was cut by the end of a scale")
        if self.n_clipped_low or self.n_clipped_high:
            out.append(
                f"simulated answers clipped to 0-10: {self.n_clipped_low} at 0, {self.n_clipped_high} at 10"
            )
        if self.n_failed_resamples:
            out.append(f"{self.n_failed_resamples} of {self.n_resamples} bootstrap resamples failed")
        return out

    def _repr_html_(self) -> str:
        drivers = ", ".join(str(r["driver"]) for r in self._raw["scenario"])
        summary = [
            ("NPS observed", points(self.baseline)),
            ("NPS simulated", points(self.simulated)),
            ("change (points)", points(self.change)),
        ]
        if self.interval is not None:
            summary.append(
                (
                    f"{level_text(self.interval.confidence_level)} CI of the change (bootstrap)",
                    f"{points(self.interval.low)} to {points(self.interval.high)}",
                )
            )
        summary += [
            ("n (omitted)", f"{self.n} ({self.n_omitted})"),
            ("sample", self._sample_text()),
            ("binning", self.binning),
        ]
        rows = [
            (
                str(r["driver"]),
                _shift_text(r["shift"]),
                num(as_float(r["coefficient"])),
                str(r["n_changed"]),
                pct(as_float(r["top_box_before"])),
                pct(as_float(r["top_box_after"])),
            )
            for r in self._raw["scenario"]
        ]
        header = ("driver", "shift", "coefficient", "changed", "top box before", "top box after")
        return html_block(
            html_table(f"What if: {drivers}", summary, warnings=self._notes()),
            html_table("Scenario", rows, header=header),
        )


def _shift_text(shift: Mapping[str, Any]) -> str:
    """A shift as the core reports it (``{"all": 1.0}``, ...) in words."""
    if "all" in shift:
        return f"{as_float(shift['all']):+g} points"
    if "below" in shift:
        b = shift["below"]
        return f"{as_float(b['delta']):+g} points below {as_float(b['threshold']):g}"
    if "top_box_target" in shift:
        return f"top box to {pct(as_float(shift['top_box_target']['share']))}"
    return ", ".join(f"{k} {v}" for k, v in shift.items())
