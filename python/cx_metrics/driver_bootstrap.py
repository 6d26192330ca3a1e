"""The bootstrap of a driver analysis: intervals of every coefficient and importance, pairwise
differences of importance with adjusted p-values, and rank probabilities. Resampling runs in Rust
(seeded ChaCha streams: the result depends on the seed only); see :meth:`DriverAnalysis.bootstrap`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from . import _native
from ._json import as_float
from ._results import (
    FrameColumn,
    NativeResult,
    Tabular,
    html_block,
    html_table,
    json_dict,
    level_text,
    require_pandas,
    text_table,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["DriverBootstrap"]

_ESTIMATE_COLUMNS = ("estimate", "std_error", "bias", "ci_low", "ci_high", "bca_low", "bca_high")


@dataclass(frozen=True)
class DriverBootstrap(NativeResult, Tabular):
    """Bootstrap of a driver analysis (case resampling with survey weights kept).

    Attributes
    ----------
    outcome : str
        The outcome.
    units : tuple of str
        The ranked drivers (or groups).
    measures : tuple of str
        The importance measures bootstrapped; the first ranks the drivers.
    n : int
        Rows resampled.
    n_resamples, n_failed : int
        Replicates drawn, and those that could not be fitted (left out).
    seed : int
        The seed (drawn at random when none was given; reuse it to reproduce the result).
    confidence_level : float
        Level of every interval.
    adjustment : str
        Multiplicity adjustment of the pairwise p-values.

    Intervals are percentile intervals (``ci_low``, ``ci_high``) and BCa intervals (``bca_low``,
    ``bca_high``; NaN where BCa is undefined). :attr:`importance` is in R² units; :attr:`shares` has
    the same figures for each driver's share of the measure (its score over the sum of the scores,
    replicate by replicate: for LMG the share of R²), the importance axis of
    :meth:`DriverAnalysis.matrix`, which reads either table from this result
    (``importance_intervals=boot``). ``to_pandas()`` / ``to_polars()`` give one row per
    bootstrapped figure: ``measure`` (an importance measure, or ``"coefficient"``), ``term`` (the
    driver, or the model term), then ``estimate``, ``std_error``, ``bias``, ``ci_low``, ``ci_high``,
    ``bca_low`` and ``bca_high``; importance first. :meth:`plot` draws the importance with its
    intervals.
    """

    outcome: str
    units: tuple[str, ...]
    measures: tuple[str, ...]
    n: int
    n_resamples: int
    n_failed: int
    seed: int
    confidence_level: float
    adjustment: str
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.DriverBootstrap
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> DriverBootstrap:
        return cls(
            outcome=native.outcome,
            units=tuple(native.units),
            measures=tuple(native.measures),
            n=native.n,
            n_resamples=native.n_resamples,
            n_failed=native.n_failed,
            seed=native.seed,
            confidence_level=native.confidence_level,
            adjustment=native.adjustment,
            _native=native,
        )

    @property
    def coefficients(self) -> pd.DataFrame:
        """Bootstrap of each regression coefficient, indexed by term."""
        pd = require_pandas()

        keep, terms = self._estimates("coefficient")
        return pd.DataFrame(
            {c: self._native.estimates[c][keep] for c in _ESTIMATE_COLUMNS},
            index=pd.Index(terms, name="term"),
        )

    def _estimates(self, measure: str | None) -> tuple[npt.NDArray[np.bool_], list[str]]:
        """Which rows of the native table are ``measure`` (every importance measure when None), and
        their terms."""
        t = self._native.estimates
        is_coef = np.array([m == "coefficient" for m in t["measure"]], dtype=np.bool_)
        keep = is_coef if measure == "coefficient" else ~is_coef
        return keep, [term for term, k in zip(t["term"], keep, strict=True) if k]

    @property
    def importance(self) -> pd.DataFrame:
        """Bootstrap of each importance score (R² units), indexed by (measure, driver)."""
        pd = require_pandas()

        t = self._native.estimates
        keep, terms = self._estimates(None)
        measures = [m for m, k in zip(t["measure"], keep, strict=True) if k]
        index = pd.MultiIndex.from_arrays([measures, terms], names=["measure", "driver"])
        return pd.DataFrame({c: t[c][keep] for c in _ESTIMATE_COLUMNS}, index=index)

    @property
    def shares(self) -> pd.DataFrame:
        """Bootstrap of each driver's share of the measure (its score over the sum of the measure's
        scores, replicate by replicate; for LMG, Johnson, Pratt and CAR the share of the decomposed
        R²), indexed by (measure, driver), with the columns of :attr:`importance`. A measure whose
        scores sum to 0 has no rows. Not the R² interval divided by R²: the sum varies with the
        replicate too.

        Examples
        --------
        >>> import cx_metrics as cx
        >>> r = cx.pillar_driver_analysis(cx.datasets.sample_survey())
        >>> s = r.bootstrap(n_resamples=200, seed=1).shares.loc["lmg"]
        >>> round(float(s["estimate"].sum()), 12)
        1.0
        """
        pd = require_pandas()

        t = self._native.share_estimates
        index = pd.MultiIndex.from_arrays([list(t["measure"]), list(t["term"])], names=["measure", "driver"])
        return pd.DataFrame({c: t[c] for c in _ESTIMATE_COLUMNS}, index=index)

    @property
    def n_share_failed(self) -> dict[str, int]:
        """Per measure, the fitted replicates whose scores summed to 0: they have no shares and are
        left out of :attr:`shares` (counted, never hidden)."""
        return {m: int(k) for m, k in self._native.n_share_failed}

    def resample_counts(self) -> npt.NDArray[np.uint32]:
        """How many times each resampled row was drawn in each replicate: an ``(n_resamples, n)``
        array whose rows sum to ``n``. The columns are the rows the bootstrap resampled (the complete
        rows with positive weight, in input order), so any statistic can be recomputed on the same
        resamples with the weights ``count * weight``. Regenerated from the seed, not stored.

        Examples
        --------
        >>> import cx_metrics as cx
        >>> r = cx.pillar_driver_analysis(cx.datasets.sample_survey())
        >>> b = r.bootstrap(n_resamples=50, seed=1)
        >>> m = b.resample_counts()
        >>> m.shape == (50, b.n), bool((m.sum(axis=1) == b.n).all())
        (True, True)
        """
        counts: npt.NDArray[np.uint32] = self._native.resample_counts()
        return counts

    @property
    def differences(self) -> pd.DataFrame:
        """Pairwise differences of importance (``first - second``) with their tests."""
        pd = require_pandas()

        out = []
        for m in self._raw["importance"]:
            for d in m["differences"]:
                e = d["difference"]
                out.append(
                    {
                        "measure": m["measure"],
                        "first": d["first"],
                        "second": d["second"],
                        "difference": as_float(e["estimate"]),
                        "std_error": as_float(e["std_error"]),
                        "ci_low": as_float(e["percentile"]["low"]),
                        "ci_high": as_float(e["percentile"]["high"]),
                        "p_value": as_float(d["p_value"]),
                        "p_adjusted": as_float(d["p_adjusted"]),
                        "significant": bool(d["significant"]),
                    }
                )
        return pd.DataFrame(out)

    @property
    def rank_probabilities(self) -> pd.DataFrame | None:
        """Probability of each driver (rows) taking each rank (columns, 1 = most important) under the
        first measure, with ``top`` (probability of rank 1) and the rank interval; None without
        measures."""
        pd = require_pandas()

        ranks = self._raw.get("ranks")
        if ranks is None:
            return None
        g = len(self.units)
        frame = pd.DataFrame(
            [[as_float(x) for x in row] for row in ranks["probabilities"]],
            index=pd.Index(list(self.units), name="driver"),
            columns=list(range(1, g + 1)),
        )
        frame["rank"] = ranks["rank"]
        frame["rank_low"] = [i["low"] for i in ranks["intervals"]]
        frame["rank_high"] = [i["high"] for i in ranks["intervals"]]
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def _columns(self) -> list[FrameColumn]:
        t = self._native.estimates
        out: list[FrameColumn] = [("measure", "str", list(t["measure"])), ("term", "str", list(t["term"]))]
        out += [(c, "float", t[c].tolist()) for c in _ESTIMATE_COLUMNS]
        return out

    def _rows(self) -> list[tuple[str, str, str]]:
        if not self.measures:
            return []
        t = self._native.estimates
        first = self.measures[0]
        return [
            (str(term), f"{t['estimate'][i]:.4f}", f"[{t['ci_low'][i]:.4f}, {t['ci_high'][i]:.4f}]")
            for i, (m, term) in enumerate(zip(t["measure"], t["term"], strict=True))
            if m == first
        ]

    def _headline(self) -> str:
        return (
            f"Bootstrap of the driver analysis of {self.outcome}: {self.n_resamples} resamples "
            f"({self.n_failed} failed), seed {self.seed}, n = {self.n}"
        )

    def _warnings(self) -> list[str]:
        out = []
        if self.n_failed:
            out.append(
                f"{self.n_failed} of {self.n_resamples} resamples could not be fitted and were left out; "
                "the intervals rest on the others"
            )
        out += [
            f"{k} fitted resamples had {m} scores summing to 0 and no shares; the share intervals rest "
            "on the others"
            for m, k in self.n_share_failed.items()
            if k
        ]
        return out

    def __str__(self) -> str:
        level = f"{level_text(self.confidence_level)} CI"
        measure = self.measures[0] if self.measures else "-"
        lines = [self._headline(), "", *text_table(("driver", measure, level), self._rows())]
        return "\n".join(lines + [f"warning: {w}" for w in self._warnings()])

    def _repr_html_(self) -> str:
        level = f"{level_text(self.confidence_level)} CI (percentile)"
        measure = self.measures[0] if self.measures else "-"
        table = html_table(None, self._rows(), header=("driver", measure, level), warnings=self._warnings())
        return html_block(table, headline=self._headline())

    def plot(self, **kwargs: Any) -> Axes:
        """Bars of the bootstrapped importance with their intervals (:func:`cx_metrics.plot.importance`:
        ``measure``, ``interval`` and ``ax``); needs matplotlib (the ``plot`` extra)."""
        from .plot import importance

        return importance(self, **kwargs)
