"""The importance-performance matrix and the what-if simulation of a driver analysis.

Both run in Rust on the rows the analysis was computed from; see :meth:`DriverAnalysis.matrix` and
:meth:`DriverAnalysis.what_if`.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._json import as_float
from ._results import Interval

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ImportancePerformance", "WhatIf"]


@dataclass(frozen=True)
class ImportancePerformance:
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
    """

    measure: str
    share: bool
    performance: str
    importance_line: float
    performance_line: float
    direction: str
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> ImportancePerformance:
        return cls(
            measure=str(raw["measure"]),
            share=bool(raw["share"]),
            performance=str(raw["performance"]),
            importance_line=as_float(raw["importance_line"]),
            performance_line=as_float(raw["performance_line"]),
            direction=str(raw["direction"]),
            _raw=raw,
        )

    @property
    def drivers(self) -> pd.DataFrame:
        """One row per driver (input order): importance, performance, headroom, expected_gain, quadrant,
        uncertain_importance, uncertain_performance, priority, n, n_missing."""
        import pandas as pd

        rows = self._raw["drivers"]
        cols = [
            "importance",
            "performance",
            "headroom",
            "expected_gain",
            "quadrant",
            "uncertain_importance",
            "uncertain_performance",
            "priority",
            "n",
            "n_missing",
        ]
        data = {c: [as_float(r[c]) if isinstance(r[c], float) else r[c] for r in rows] for c in cols}
        return pd.DataFrame(data, index=pd.Index([r["name"] for r in rows], name="driver"))

    def quadrant(self, driver: str) -> str:
        """The quadrant of ``driver``."""
        for r in self._raw["drivers"]:
            if r["name"] == driver:
                return str(r["quadrant"])
        raise KeyError(driver)

    @property
    def priorities(self) -> tuple[str, ...]:
        """The drivers by priority, first = act on it first."""
        return tuple(r["name"] for r in sorted(self._raw["drivers"], key=lambda r: r["priority"]))

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return copy.deepcopy(dict(self._raw))

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        return [
            (
                str(r["priority"]),
                str(r["name"]),
                f"{as_float(r['importance']):.3f}",
                f"{as_float(r['performance']):.3f}",
                str(r["quadrant"]),
            )
            for r in sorted(self._raw["drivers"], key=lambda r: r["priority"])
        ]

    def _headline(self) -> str:
        unit = "share" if self.share else "R²"
        return (
            f"Importance ({self.measure} {unit}, cut at {self.importance_line:.3f}) against performance "
            f"({self.performance}, cut at {self.performance_line:.3f})"
        )

    def __str__(self) -> str:
        from .drivers import _text_table

        header = ("priority", "driver", "importance", "performance", "quadrant")
        return "\n".join([self._headline(), "", *_text_table(header, self._rows())])

    def _repr_html_(self) -> str:
        from .drivers import _html_table

        header = ("priority", "driver", "importance", "performance", "quadrant")
        return f"<div><p>{html.escape(self._headline())}</p>{_html_table(header, self._rows())}</div>"


@dataclass(frozen=True)
class WhatIf:
    """Expected NPS if driver ratings changed: the model's slopes applied to each respondent's change,
    keeping their own residual. NPS figures are fractions in [-1, 1] (``str`` shows points).

    Attributes
    ----------
    baseline, simulated, change : float
        NPS of the observed answers, of the simulated answers, and their difference.
    interval : Interval or None
        Bootstrap percentile interval of ``change`` (with ``n_resamples``).
    n, n_dropped, n_zero_weight : int
        Rows used, dropped for a missing value, and of weight zero.
    n_capped, n_clipped_low, n_clipped_high : int
        Respondents whose change was cut by a scale's end; simulated answers clipped to 0 or 10.
    binning : str
        ``"latent"`` (fractional respondents, the default) or ``"round"``.
    n_resamples, n_failed_resamples : int
        Bootstrap replicates drawn and those that could not be fitted.
    seed : int or None
        The bootstrap seed.
    """

    baseline: float
    simulated: float
    change: float
    interval: Interval | None
    n: int
    n_dropped: int
    n_zero_weight: int
    n_capped: int
    n_clipped_low: int
    n_clipped_high: int
    binning: str
    n_resamples: int
    n_failed_resamples: int
    seed: int | None
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> WhatIf:
        ci = raw.get("interval")
        interval = (
            None
            if ci is None
            else Interval(
                as_float(ci["low"]), as_float(ci["high"]), as_float(ci["confidence_level"]), "percentile"
            )
        )
        return cls(
            baseline=as_float(raw["baseline"]),
            simulated=as_float(raw["simulated"]),
            change=as_float(raw["change"]),
            interval=interval,
            n=int(raw["n"]),
            n_dropped=int(raw["n_dropped"]),
            n_zero_weight=int(raw["n_zero_weight"]),
            n_capped=int(raw["n_capped"]),
            n_clipped_low=int(raw["n_clipped_low"]),
            n_clipped_high=int(raw["n_clipped_high"]),
            binning=str(raw["binning"]),
            n_resamples=int(raw["n_resamples"]),
            n_failed_resamples=int(raw["n_failed_resamples"]),
            seed=None if raw.get("seed") is None else int(raw["seed"]),
            _raw=raw,
        )

    @property
    def scenario(self) -> pd.DataFrame:
        """What each driver's shift did: shift, coefficient, n_changed, n_capped, mean_change,
        top_box_before, top_box_after."""
        import pandas as pd

        rows = self._raw["scenario"]
        cols = ["coefficient", "n_changed", "n_capped", "mean_change", "top_box_before", "top_box_after"]
        data: dict[str, list[Any]] = {"shift": [str(r["shift"]) for r in rows]}
        for c in cols:
            data[c] = [r[c] if isinstance(r[c], int) else as_float(r[c]) for r in rows]
        return pd.DataFrame(data, index=pd.Index([r["driver"] for r in rows], name="driver"))

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return copy.deepcopy(dict(self._raw))

    def __str__(self) -> str:
        ci = ""
        if self.interval is not None:
            level = f"{100 * self.interval.confidence_level:g}%"
            ci = f", {level} CI {100 * self.interval.low:+.1f} to {100 * self.interval.high:+.1f}"
        drivers = ", ".join(f"{r['driver']} {r['shift']}" for r in self._raw["scenario"])
        return (
            f"What if {drivers}: NPS {100 * self.baseline:+.1f} -> {100 * self.simulated:+.1f} "
            f"(change {100 * self.change:+.1f} points{ci}; n = {self.n}, {self.n_dropped} dropped)"
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(str(self))}</p>"
