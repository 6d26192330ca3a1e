"""Driver analysis: which drivers move the outcome (by default the 0-10 ``ltr`` score), and by how much.

:func:`driver_analysis` regresses the outcome on named driver columns of a table and decomposes the
explained variance among them (LMG/Shapley, Johnson's relative weights as ``johnson``, Pratt, first,
last, squared betas, CAR scores), with dominance analysis, VIFs and structured warnings. Every figure is
computed in Rust; the result stays there (a native handle, ``_native``) and crosses on access: scalars
as Python numbers, tables as numpy arrays. pandas is imported only by the accessors that return
DataFrames.
"""

from __future__ import annotations

import html
import math
import secrets
import warnings as _warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

import numpy as np
import numpy.typing as npt

from . import _native
from ._groups import key_columns
from ._json import as_float
from ._results import (
    FrameColumn,
    NativeResult,
    Tabular,
    html_block,
    html_table,
    json_dict,
    level_text,
    num,
    p_value,
    require_pandas,
    table_frame,
    text_table,
)
from ._table import Table
from .exceptions import InvalidArgumentError, SegmentError
from .nps_groups import (
    Key,
    find_key,
    group_keys,
    has_missing_label,
    key_columns_of,
    key_text,
    labelled_pandas,
    labelled_polars,
    warn_missing_labels,
)

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    from matplotlib.axes import Axes

    from .driver_bootstrap import DriverBootstrap
    from .driver_matrix import ImportancePerformance, WhatIf
    from .driver_segments import SegmentComparison
    from .scoring import DriverModel

__all__ = [
    "Dominance",
    "DriverAnalysis",
    "DriverWarning",
    "MissingPolicy",
    "driver_analysis",
]

MissingPolicy = Literal["listwise", "raise", "pairwise", "indicator"]
"""What to do with missing values, spelled as the Rust ``MissingPolicy`` parses them."""

Column = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DriverWarning:
    """Something to know about a driver analysis.

    Attributes
    ----------
    kind : str
        The Rust ``DriverWarning`` variant in snake_case (``"severe_vif"``, ``"small_sample"``,
        ``"negative_correlation"``, ``"binary_outcome"``, ``"pairwise_deletion"``,
        ``"missing_indicator"``, ``"moderate_vif"``, ``"importance"``).
    details : dict
        The variant's fields as the core reports them.
    """

    kind: str
    details: Mapping[str, Any]

    @property
    def message(self) -> str:
        """The warning as one readable sentence: rounded figures, and what to do."""
        d = self.details
        k = self.kind
        if k == "small_sample":
            return (
                f"small sample: {d['n']} rows for {d['terms']} terms ({d['recommended']} or more "
                "recommended): rankings are unstable; collect more rows or rank fewer drivers"
            )
        if k == "severe_vif":
            return (
                f"severe collinearity: {d['driver']} has VIF {as_float(d['vif']):.1f}, its coefficient is "
                "unstable; group it with the drivers it overlaps (groups=)"
            )
        if k == "moderate_vif":
            return (
                f"moderate collinearity: {d['driver']} has VIF {as_float(d['vif']):.1f}; read its "
                "coefficient with care (lmg shares the overlap)"
            )
        if k == "negative_correlation":
            return (
                f"{d['driver']} correlates negatively with the outcome "
                f"(r = {as_float(d['correlation']):.2f}); if its scale is reverse-coded, recode it "
                "(11 - x on 1-10)"
            )
        if k == "binary_outcome":
            low, high = (_round(as_float(v)) for v in d["values"])
            return (
                f"the outcome {d['outcome']} takes two values only ({low}, {high}): use "
                "cx.promoter_drivers / cx.detractor_drivers, not a linear model"
            )
        if k == "pairwise_deletion":
            return (
                f"pairwise deletion: correlations rest on {d['min_pair_n']} to {d['max_pair_n']} rows "
                f'({d["incomplete_rows"]} incomplete); check the ranking with missing="listwise"'
            )
        if k == "missing_indicator":
            return (
                f"{d['driver']}: {d['n_missing']} missing values filled with "
                f"{as_float(d['fill_value']):.2f}, adjusted for by {d['indicator']}; biased if answers "
                "exist but were not given"
            )
        if k == "exact_fit":
            return (
                f"R² = 1 (1 - R² = {as_float(d['unexplained']):.1e}): the outcome is an exact linear "
                "function of the drivers; standard errors are zero and say nothing; leave a computed "
                "outcome out or model its parts"
            )
        if k == "sampled_importance":
            return (
                f"lmg sampled from {d['permutations']} random orders of entry ({d['units']} drivers, more "
                f"than 25; SE up to {as_float(d['max_std_error']):.2g}), no dominance; groups= ranks exactly"
            )
        if k == "importance":
            inner = d.get("detail", {})
            if inner.get("kind") == "sign_disagreement":
                estimate = d.get("estimate")
                coef = (
                    f"coefficient {num(as_float(estimate), 3)}"
                    if estimate is not None
                    else f"standardized coefficient {as_float(inner['coefficient']):.2f}"
                )
                return (
                    f"{inner['driver']}: r = {as_float(inner['correlation']):.2f} with the outcome but "
                    f"{coef} (suppression): importance says how much, not which way"
                )
            if inner.get("kind") == "shares_undefined":
                return f"importance: the {inner.get('measure')} scores sum to zero, so they have no shares"
            return f"importance: {inner.get('kind', '')} {_fields(inner)}".rstrip()
        return f"{k}: {_fields(d)}"

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The warning as the core reports it: ``{"kind": ..., **details}`` (JSON-safe)."""
        return {"kind": self.kind, **json_dict(self.details)}

    def _repr_html_(self) -> str:
        return html_table(f"Driver analysis warning: {self.kind}", [], warnings=[self.message])


def _fields(d: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_round(v)}" for k, v in d.items() if k != "kind")


def _round(v: Any) -> Any:
    """A figure of a warning rounded to 4 significant digits; anything else as it is."""
    return num(v) if isinstance(v, float) else v


def _warnings_of(native: Any) -> tuple[DriverWarning, ...]:
    """The core's warnings; a sign disagreement also gets the coefficient the table shows
    (``estimate``), besides the standardized one the core reports."""
    table = native.coefficients
    estimates = {str(t): float(e) for t, e in zip(table["term"], table["estimate"], strict=True)}
    out = []
    for w in native.warnings:
        details = {k: v for k, v in w.items() if k != "kind"}
        inner = details.get("detail")
        if (
            w["kind"] == "importance"
            and isinstance(inner, Mapping)
            and inner.get("kind") == "sign_disagreement"
        ):
            details["estimate"] = estimates.get(str(inner.get("driver")))
        out.append(DriverWarning(w["kind"], details))
    return tuple(out)


@dataclass(frozen=True)
class Dominance(Tabular):
    """Dominance analysis of the ranked drivers (Budescu 1993; Azen & Budescu 2003).

    Pairwise tables code 1 when the row driver dominates the column driver, 0 when the column dominates
    the row, 0.5 when neither does. ``to_pandas()`` / ``to_polars()`` give one row per driver:
    ``driver``, ``general`` (the general dominance weight, equal to LMG), ``conditional_0`` ... (the
    average R² increment over the models with 0, 1, ... other drivers) and ``completely_dominates``
    (the drivers it completely dominates, comma-separated).
    """

    names: tuple[str, ...]
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def conditional_by_size(self) -> pd.DataFrame:
        """Average R² increment of each driver over the models of each size (0 = alone)."""
        pd = require_pandas()

        rows = self._raw["conditional_by_size"]
        frame = pd.DataFrame([[as_float(x) for x in r] for r in rows], index=list(self.names))
        frame.index.name = "driver"
        frame.columns.name = "model_size"
        return frame

    @property
    def general(self) -> pd.Series:
        """General dominance weights (equal to LMG)."""
        pd = require_pandas()

        return pd.Series([as_float(x) for x in self._raw["general"]], index=list(self.names), name="general")

    def _pairwise(self, key: str) -> pd.DataFrame:
        pd = require_pandas()

        names = list(self.names)
        return pd.DataFrame([[as_float(x) for x in r] for r in self._raw[key]], index=names, columns=names)

    @property
    def complete(self) -> pd.DataFrame:
        """Pairwise complete dominance."""
        return self._pairwise("complete")

    @property
    def conditional(self) -> pd.DataFrame:
        """Pairwise conditional dominance."""
        return self._pairwise("conditional")

    @property
    def general_pairwise(self) -> pd.DataFrame:
        """Pairwise general dominance."""
        return self._pairwise("general_pairwise")

    def _dominated(self, i: int) -> list[str]:
        row = self._raw["complete"][i]
        return [self.names[j] for j, x in enumerate(row) if j != i and x is not None and float(x) == 1.0]

    def _columns(self) -> list[FrameColumn]:
        sizes = len(self._raw["conditional_by_size"][0]) if self.names else 0
        out: list[FrameColumn] = [
            ("driver", "str", list(self.names)),
            ("general", "float", [as_float(x) for x in self._raw["general"]]),
        ]
        for k in range(sizes):
            out.append(
                (f"conditional_{k}", "float", [as_float(r[k]) for r in self._raw["conditional_by_size"]])
            )
        out.append(
            ("completely_dominates", "str", [", ".join(self._dominated(i)) for i in range(len(self.names))])
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The core's dominance analysis as a JSON-safe dict."""
        return json_dict(self._raw)

    def _rows(self) -> list[tuple[str, str, str]]:
        general = [as_float(x) for x in self._raw["general"]]
        return [(n, num(general[i]), ", ".join(self._dominated(i)) or "-") for i, n in enumerate(self.names)]

    def __str__(self) -> str:
        header = ("driver", "general", "completely dominates")
        return "\n".join(
            [f"Dominance analysis of {len(self.names)} drivers", "", *text_table(header, self._rows())]
        )

    def _repr_html_(self) -> str:
        header = ("driver", "general", "completely dominates")
        return html_table(f"Dominance analysis of {len(self.names)} drivers", self._rows(), header=header)


@dataclass(frozen=True)
class DriverAnalysis(NativeResult, Tabular):
    """The result of :func:`driver_analysis`: plain data, computed in Rust.

    Attributes
    ----------
    outcome : str
        The outcome column.
    drivers : tuple of str
        The named drivers, in input order.
    terms : tuple of str
        The model's terms: the drivers, then the missing-value indicators.
    always : tuple of str
        Terms adjusted for in every model and not ranked (``always`` drivers, then indicators).
    units : tuple of str
        The ranked units (drivers, or group names): the rows of :attr:`importance`.
    missing : str
        The missing-value policy applied.
    r_squared, adj_r_squared : float
        R² and adjusted R² of the full model.
    n : int
        Rows used (with positive weight).
    effective_n : float
        Kish's effective sample size.
    n_omitted : int
        Rows left out for a missing value (``n_dropped`` before; that name still works, with a
        ``DeprecationWarning``).
    n_zero_weight : int
        Rows of weight zero, not counted in ``n``.
    confidence_level : float
        Level of the coefficient intervals.
    warnings : tuple of DriverWarning
        Things to know about the result.
    declared_missing : dict of str to int
        Values recoded to missing per column with declared ``missing_codes`` (then handled by
        ``missing=``: under ``"listwise"`` their rows are among ``n_omitted``).
    outcome_scale : (float, float) or None
        The range the outcome was checked on (None: not checked).
    r_squared_always : float
        R² of the ``always`` covariates alone, reported apart: the measures split
        ``r_squared - r_squared_always`` (relaimpo's ``always``).

    The tables (:attr:`coefficients`, :attr:`importance`, :attr:`vif`, :attr:`dominance`) are built on
    access, as pandas objects. ``to_pandas()`` / ``to_polars()`` give the driver table, one row per
    ranked unit: ``driver``, the importance measures of :attr:`importance` (``lmg`` ... ``lmg_share``),
    then, for units that are model terms, ``estimate``, ``std_error``, ``t``, ``p_value``, ``ci_low``,
    ``ci_high``, ``vif`` and ``correlation`` (NaN for a group of drivers). :meth:`plot` draws the
    importance.

    The fitted result lives in Rust. :meth:`matrix` reuses it as fitted; :meth:`bootstrap`,
    :meth:`what_if` and the performance axis of :meth:`matrix` also need the rows, which the native
    result keeps in memory (the converted float64 columns, not the original table). Rows are never
    part of :meth:`to_dict`, :meth:`to_json`, a pickle, ``repr`` or equality: a result restored from
    JSON or a pickle has none, and :meth:`with_data` gives them back.
    """

    outcome: str
    drivers: tuple[str, ...]
    terms: tuple[str, ...]
    always: tuple[str, ...]
    units: tuple[str, ...]
    missing: str
    r_squared: float
    adj_r_squared: float
    n: int
    effective_n: float
    n_omitted: int
    n_zero_weight: int
    confidence_level: float
    warnings: tuple[DriverWarning, ...]
    declared_missing: Mapping[str, int]
    outcome_scale: tuple[float, float] | None
    r_squared_always: float
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.DriverAnalysis
    _native: Any = field(repr=False, compare=False)

    @property
    def n_dropped(self) -> int:
        """Deprecated name of :attr:`n_omitted`."""
        _warnings.warn(
            "n_dropped is now n_omitted, as in every other result", DeprecationWarning, stacklevel=2
        )
        return self.n_omitted

    @classmethod
    def _from_native(cls, native: Any) -> DriverAnalysis:
        return cls(
            outcome=native.outcome,
            drivers=tuple(native.drivers),
            terms=tuple(native.terms),
            always=tuple(native.always),
            units=tuple(native.units),
            missing=native.missing,
            r_squared=native.r_squared,
            adj_r_squared=native.adj_r_squared,
            n=native.n,
            effective_n=native.effective_n,
            n_omitted=native.n_omitted,
            n_zero_weight=native.n_zero_weight,
            confidence_level=native.confidence_level,
            warnings=_warnings_of(native),
            declared_missing=dict(native.declared_missing),
            outcome_scale=native.outcome_scale,
            r_squared_always=native.r_squared_always,
            _native=native,
        )

    def with_data(
        self, data: object, weights: object = None, *, columns: Sequence[str] | None = None
    ) -> DriverAnalysis:
        """The same result holding the rows again, for :meth:`bootstrap`, :meth:`matrix` and
        :meth:`what_if` after a restore from JSON or a pickle.

        ``data`` must be the table the analysis was computed from (the outcome and driver columns are
        read by name), ``weights`` the same weights (a column name or an array); nothing is refitted.

        Examples
        --------
        >>> import pickle
        >>> import cx_metrics as cx
        >>> survey = cx.datasets.sample_survey()
        >>> r = pickle.loads(pickle.dumps(cx.pillar_driver_analysis(survey)))
        >>> r.with_data(survey).matrix(scale=(1, 10)).priorities[0]
        'time_and_effort'
        """
        table = Table(data, columns)
        y = table.numeric_column(self.outcome)
        cols = [table.numeric_column(n) for n in self.drivers]
        return DriverAnalysis._from_native(self._native.with_rows(y, cols, _numeric_weights(table, weights)))

    # ----- tables -------------------------------------------------------------------------------

    @property
    def coefficients(self) -> pd.DataFrame:
        """Regression table indexed by term, intercept first.

        Columns: ``estimate``, ``std_error``, ``t``, ``p_value``, ``ci_low``, ``ci_high`` (at
        :attr:`confidence_level`); a polars DataFrame with ``term`` as its first column when pandas is
        not installed.
        """
        table = dict(self._native.coefficients)
        columns: list[FrameColumn] = [("term", "str", list(table.pop("term")))]
        columns += [(c, "float", list(v)) for c, v in table.items()]
        return table_frame(columns, index="term")

    @property
    def importance(self) -> pd.DataFrame:
        """Relative importance indexed by ranked unit (driver or group).

        One column per measure in R² units, in relaimpo's order and spelled as the Rust
        ``ImportanceMeasure`` parses them: ``lmg`` (Shapley value of R²), ``last``, ``first``,
        ``beta_squared`` (squared standardized coefficient; relaimpo's ``betasq``), ``pratt``,
        ``johnson`` (Johnson's relative weights, identical to Genizi's decomposition, relaimpo's
        ``genizi``) and ``car``; then ``lmg_share`` (LMG as a share of the decomposed R²). Per-driver
        measures are absent when drivers are grouped. A polars DataFrame with ``driver`` as its first
        column when pandas is not installed.
        """
        columns: list[FrameColumn] = [("driver", "str", list(self.units))]
        columns += [(c, "float", v) for c, v in self._importance_columns().items()]
        return table_frame(columns, index="driver")

    def _importance_columns(self) -> dict[str, list[float]]:
        return {measure: values.tolist() for measure, values in self._native.importance.items()}

    @property
    def vif(self) -> pd.Series:
        """Variance inflation factor of each term."""
        pd = require_pandas()

        return pd.Series(self._native.vif, index=pd.Index(list(self.terms), name="term"), name="vif")

    @property
    def correlations(self) -> pd.Series:
        """Zero-order (weighted) correlation of each term with the outcome."""
        pd = require_pandas()

        return pd.Series(
            self._native.correlations, index=pd.Index(list(self.terms), name="term"), name="correlation"
        )

    @property
    def dominance(self) -> Dominance | None:
        """Dominance analysis of the ranked units (None when there are too many for exact subsets)."""
        d = self._raw.get("dominance")
        if d is None:
            return None
        return Dominance(tuple(d["names"]), d)

    @property
    def covariance_type(self) -> str:
        """The regression table's standard errors: ``"classical"`` (model-based ``s^2 (X'WX)^-1``) or
        a sandwich ``"HC0"`` ... ``"HC3"`` (see :func:`driver_analysis`)."""
        return str(self._native.covariance_type)

    @property
    def covariance_note(self) -> str | None:
        """Why the standard errors are model-based where a sandwich was the default (pairwise
        deletion, a covariance or moments summary), or None."""
        note = self._native.covariance_note
        return None if note is None else str(note)

    def _covariance_text(self) -> str:
        text = f"standard errors: {self.covariance_type}"
        return text + (f" ({self.covariance_note})" if self.covariance_note else "")

    @property
    def f_statistic(self) -> float:
        """F statistic of the full model against the intercept-only model."""
        return float(self._native.f_statistic)

    @property
    def f_p_value(self) -> float:
        """p-value of :attr:`f_statistic`."""
        return float(self._native.f_p_value)

    @property
    def sigma(self) -> float:
        """Residual standard error."""
        return float(self._native.sigma)

    @property
    def top_driver(self) -> str | None:
        """The ranked unit with the largest LMG score (None when LMG was not computed)."""
        top: str | None = self._native.top_driver
        return top

    def _scores(self, measure: str, kind: str = "raw") -> list[float]:
        for s in self._raw["importance"]["scores"]:
            if s["measure"] == measure and s[kind] is not None:
                return [as_float(x) for x in s[kind]]
        return []

    # ----- methods derived from the fitted result (and, where needed, its rows) -------------------

    def bootstrap(
        self,
        n_resamples: int = 1000,
        seed: int | None = None,
        confidence_level: float = 0.95,
        *,
        measures: Sequence[str] = ("lmg", "johnson"),
        adjustment: str = "holm",
    ) -> DriverBootstrap:
        """Bootstrap the analysis on the rows it was computed from (case resampling, weights kept), with
        the options it ran with.

        Parameters
        ----------
        n_resamples : int
            Replicates (at least 2; 1000 or more for BCa intervals).
        seed : int, optional
            Seed of the resampling; None draws one at random (reported as ``.seed``).
        confidence_level : float
            Level of every interval.
        measures : sequence of str
            Importance measures to bootstrap; the first ranks the drivers. Empty: coefficients only.
        adjustment : {"holm", "benjamini_hochberg", "none"}
            Adjustment of the pairwise p-values.

        Examples
        --------
        >>> import cx_metrics as cx
        >>> r = cx.pillar_driver_analysis(cx.datasets.sample_survey())
        >>> b = r.bootstrap(n_resamples=200, seed=1)
        >>> b.n_resamples, b.seed, b.units == cx.PILLARS
        (200, 1, True)
        """
        from .driver_bootstrap import DriverBootstrap

        if seed is None:
            seed = secrets.randbits(64)
        native = self._native.bootstrap(
            n_resamples=n_resamples,
            seed=seed,
            confidence_level=confidence_level,
            measures=_measure_list(measures),
            adjustment=adjustment,
        )
        return DriverBootstrap._from_native(native)

    def matrix(
        self,
        scale: tuple[int, int] | Mapping[str, tuple[int, int]],
        top_box: int = 1,
        measure: str = "lmg",
        share: bool = True,
        performance: Literal["mean", "top_box"] = "mean",
        importance_cut: str | float = "mean",
        performance_cut: str | float = "mean",
        *,
        direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better",
        importance_intervals: Sequence[tuple[float, float]]
        | DriverBootstrap
        | Literal["bootstrap"]
        | None = None,
        confidence_level: float = 0.95,
        interval: Literal["percentile", "bca"] = "percentile",
        n_resamples: int = 1000,
        seed: int | None = None,
    ) -> ImportancePerformance:
        """The importance-performance matrix of the ranked drivers: importance from this fitted analysis
        (nothing is refitted), performance from the drivers' rows.

        Parameters
        ----------
        scale : (min, max) or mapping of driver to (min, max)
            The drivers' rating scale (the same for all, or one per driver).
        top_box : int
            The best points of the scale that count as the top box (1 = top box, 2 = top-2 box).
        measure, share : str, bool
            The importance axis: a measure (as in :attr:`importance`), as shares of 1 or in R² units.
        performance : {"mean", "top_box"}
            The performance axis: the weighted mean rating or the weighted top-box share.
        importance_cut, performance_cut : "mean", "median" or a number
            Where each axis is cut.
        direction : {"higher_is_better", "lower_is_better"}
            The direction of the scale.
        importance_intervals : sequence of (low, high), DriverBootstrap or "bootstrap", optional
            Importance intervals, one per ranked driver (in the units of the axis): a driver whose
            interval contains the cut line is marked uncertain. A :class:`DriverBootstrap` of this
            analysis (``analysis.bootstrap(...)``, at ``confidence_level``, with ``measure`` among its
            measures) gives them: its :attr:`~DriverBootstrap.shares` intervals when ``share`` is
            true, its R²-unit :attr:`~DriverBootstrap.importance` intervals otherwise; a bootstrap of
            another analysis is refused. ``"bootstrap"`` runs that bootstrap here (``n_resamples``,
            ``seed``, the measure only). The printout says where the intervals came from.
        confidence_level : float
            Level of the performance intervals computed from the rows (give importance intervals of
            the same level).
        interval : {"percentile", "bca"}
            Which bootstrap interval to read (with a bootstrap only).
        n_resamples, seed : int
            Of the bootstrap run with ``importance_intervals="bootstrap"`` (seed None: drawn at random,
            reported in the printout).

        Examples
        --------
        >>> import cx_metrics as cx
        >>> r = cx.pillar_driver_analysis(cx.datasets.sample_survey())
        >>> m = r.matrix(scale=(1, 10), top_box=2)
        >>> m.quadrant("time_and_effort")
        'fix_first'
        """
        from .driver_bootstrap import DriverBootstrap
        from .driver_matrix import ImportancePerformance

        if isinstance(importance_intervals, str):
            if importance_intervals != "bootstrap":
                raise InvalidArgumentError(
                    f"invalid importance_intervals: {importance_intervals!r}; give a sequence of "
                    '(low, high), a DriverBootstrap of this analysis, or "bootstrap"'
                )
            importance_intervals = self.bootstrap(
                n_resamples, seed, confidence_level, measures=(measure,), adjustment="holm"
            )
        boot = importance_intervals if isinstance(importance_intervals, DriverBootstrap) else None
        given = None if isinstance(importance_intervals, DriverBootstrap) else importance_intervals
        if boot is None and interval != "percentile":
            raise InvalidArgumentError(
                f"invalid interval: {interval!r} reads a bootstrap's intervals; pass "
                'importance_intervals=analysis.bootstrap(...) or "bootstrap"'
            )
        intervals = None if given is None else [(float(lo), float(hi)) for lo, hi in given]
        native = self._native.matrix(
            _scales(self.drivers, scale, top_box, direction),
            measure=measure,
            share=bool(share),
            performance=performance,
            importance_cut=_cut(importance_cut),
            performance_cut=_cut(performance_cut),
            intervals=intervals,
            interval_level=float(confidence_level),
            bootstrap=None if boot is None else boot._native,
            interval=interval,
        )
        return ImportancePerformance._from_native(native)

    def what_if(
        self,
        shifts: Mapping[str, float | tuple[Any, ...]],
        *,
        scale: tuple[int, int] | Mapping[str, tuple[int, int]],
        top_box: int = 1,
        direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better",
        binning: Literal["latent", "round"] = "latent",
        n_resamples: int | None = None,
        seed: int = 0,
        confidence_level: float = 0.95,
    ) -> WhatIf:
        """Expected NPS if the ratings of some drivers changed, on the sample this analysis used.

        The outcome must be the 0-10 recommendation score (``ltr``, or an outcome declared with
        ``outcome_scale=(0, 10)``): for any other outcome the NPS is undefined and this raises
        :class:`~cx_metrics.exceptions.InvalidArgumentError`. The model is refitted on the analysed
        sample: the declared missing codes are missing, and the analysis's ``missing=`` policy applies
        (``"listwise"``: the complete rows; ``"indicator"``: the filled respondents stay, the model
        adjusts for the indicators, and a shift of a driver does not move a respondent whose rating of
        it was filled; ``"pairwise"`` has no single sample and is refused). ``baseline`` is the NPS of
        that sample and ``n`` its size (the analysis's ``n``).

        Parameters
        ----------
        shifts : mapping of driver to change
            ``{"driver": delta}`` moves every rating ``delta`` points toward the best end (capped at the
            scale's end); ``("below", threshold, delta)`` moves only ratings worse than ``threshold``;
            ``("top_box_target", share)`` lifts the lowest-rated respondents into the top box until its
            weighted share reaches ``share``.
        scale, top_box, direction
            The drivers' scale, as in :meth:`matrix`.
        binning : {"latent", "round"}
            How simulated answers are binned into promoters, passives and detractors.
        n_resamples : int, optional
            With a number, a bootstrap percentile interval of the change from that many resamples.
        seed, confidence_level
            Of the bootstrap.

        Examples
        --------
        >>> import cx_metrics as cx
        >>> r = cx.driver_analysis(cx.datasets.sample_survey(), drivers=["time_and_effort", "integrity"])
        >>> w = r.what_if({"time_and_effort": 1}, scale=(1, 10))
        >>> bool(w.change > 0), w.simulated == w.baseline + w.change
        (True, True)
        """
        from .driver_matrix import WhatIf

        native = self._native.what_if(
            _scales(self.drivers, scale, top_box, direction),
            [_shift(name, s) for name, s in shifts.items()],
            binning=binning,
            n_resamples=n_resamples,
            seed=seed,
            confidence_level=confidence_level,
        )
        return WhatIf._from_native(native)

    def model(self) -> DriverModel:
        """The fitted model that scores new rows (:class:`~cx_metrics.DriverModel`): this analysis's
        coefficients, scales and missing-value policy, as a small JSON document (no rows)."""
        from .scoring import DriverModel

        return DriverModel._from_native(_native.DriverModel.of_analysis(self._native))

    # ----- formatting ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict (NaN and infinities are None; the options it ran with
        under ``"options"``)."""
        return json_dict(self._raw)

    def _columns(self) -> list[FrameColumn]:
        out: list[FrameColumn] = [("driver", "str", list(self.units))]
        out += [(c, "float", values) for c, values in self._importance_columns().items()]
        table = self._native.coefficients
        row = {t: i for i, t in enumerate(table["term"])}
        terms = {t: i for i, t in enumerate(self.terms)}
        nan = math.nan

        def by_unit(values: Any, index: Mapping[str, int]) -> list[float]:
            return [float(values[index[u]]) if u in index else nan for u in self.units]

        out += [(c, "float", by_unit(table[c], row)) for c in _COEFFICIENT_COLUMNS]
        out += [
            ("vif", "float", by_unit(self._native.vif, terms)),
            ("correlation", "float", by_unit(self._native.correlations, terms)),
        ]
        return out

    def _headline(self) -> str:
        dropped = f", {self.n_omitted} omitted" if self.n_omitted else ""
        zero = f", {self.n_zero_weight} of weight zero" if self.n_zero_weight else ""
        codes = ", ".join(f"{c} {k}" for c, k in self.declared_missing.items() if k)
        declared = f" ({codes} declared missing)" if codes else ""
        return (
            f"Driver analysis of {self.outcome}: R² = {self.r_squared:.3f} (adjusted "
            f"{self.adj_r_squared:.3f}), n = {self.n}{dropped}{zero}, missing = {self.missing}"
            f"{declared}"
        )

    def _coef_rows(self) -> list[tuple[str, str, str, str, str]]:
        t = self._native.coefficients
        return [
            (
                str(term),
                num(t["estimate"][i]),
                num(t["std_error"][i]),
                p_value(t["p_value"][i]),
                f"[{num(t['ci_low'][i])}, {num(t['ci_high'][i])}]",
            )
            for i, term in enumerate(t["term"])
        ]

    def _importance_rows(self) -> list[tuple[str, str, str]]:
        raw = self._scores("lmg")
        share = self._scores("lmg", "share")
        return [
            (
                u,
                num(raw[i]) if raw else "-",
                f"{100 * share[i]:.1f}%" if share else "-",
            )
            for i, u in enumerate(self.units)
        ]

    def __str__(self) -> str:
        level = f"{level_text(self.confidence_level)} CI"
        lines = [self._headline(), ""]
        lines += text_table(("term", "estimate", "std_error", "p_value", level), self._coef_rows())
        lines.append(self._covariance_text())
        lines.append("")
        lines += text_table(("driver", "lmg", "lmg_share"), self._importance_rows())
        if self.warnings:
            lines.append("")
            lines += [f"warning: {w.message}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        level = f"{level_text(self.confidence_level)} CI"
        coefficients = html_table(
            "Regression", self._coef_rows(), header=("term", "estimate", "std_error", "p_value", level)
        )
        coefficients += f"<p>{html.escape(self._covariance_text())}</p>"
        importance = html_table(
            "Relative importance",
            self._importance_rows(),
            header=("driver", "lmg", "lmg_share"),
            warnings=[w.message for w in self.warnings],
        )
        return html_block(coefficients, importance, headline=self._headline())

    def plot(self, **kwargs: Any) -> Axes:
        """Bars of driver importance, most important on top (:func:`cx_metrics.plot.importance`:
        ``measure``, default ``"lmg_share"``, and ``ax``); needs matplotlib (the ``plot`` extra)."""
        from .plot import importance

        return importance(self, **kwargs)


_COEFFICIENT_COLUMNS = ("estimate", "std_error", "t", "p_value", "ci_low", "ci_high")


def _cut(cut: str | float) -> str | float:
    return cut if isinstance(cut, str) else float(cut)


def _higher_is_better(direction: str) -> bool:
    """Whether ``direction`` is ``"higher_is_better"`` (``"lower_is_better"`` the only other word)."""
    if direction not in ("higher_is_better", "lower_is_better"):
        raise InvalidArgumentError(
            f'invalid direction: {direction!r}; use "higher_is_better" or "lower_is_better"'
        )
    return direction == "higher_is_better"


def _whole(name: str, value: object, *, count: bool = False) -> int:
    """An integer argument (a whole float such as 10.0 too), never truncated: a fraction, a bool or
    text is an error, and so is a negative ``count`` (of points or items; the core checks the range)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidArgumentError(f"invalid {name}: {value!r}; give a whole number")
    if isinstance(value, float | np.floating) and not float(value).is_integer():
        raise InvalidArgumentError(f"invalid {name}: {value!r} is not a whole number; give one")
    number = int(value)
    if count and number < 0:
        raise InvalidArgumentError(f"invalid {name}: {number} is negative; give a count of at least 1")
    return number


def _scale_bounds(scale: object) -> tuple[int, int]:
    """``(min, max)`` of a rating scale given as a pair of whole numbers."""
    if isinstance(scale, str | bytes) or not isinstance(scale, Sequence) or len(scale) != 2:
        raise InvalidArgumentError(f"invalid scale: {scale!r}; give (min, max), e.g. (1, 10)")
    return _whole("scale", scale[0]), _whole("scale", scale[1])


def _scales(
    names: Sequence[str],
    scale: tuple[int, int] | Mapping[str, tuple[int, int]],
    top_box: int,
    direction: str,
) -> list[Any]:
    higher = _higher_is_better(direction)
    box = _whole("top_box", top_box, count=True)
    out = []
    for n in names:
        if isinstance(scale, Mapping):
            if n not in scale:
                raise InvalidArgumentError(f"invalid scale: no scale for driver {n!r}")
            lo, hi = _scale_bounds(scale[n])
        else:
            lo, hi = _scale_bounds(scale)
        out.append(_native.DriverScale(min=lo, max=hi, higher_is_better=higher, top_box=box))
    return out


def _shift(name: str, s: float | tuple[Any, ...]) -> tuple[str, Any]:
    if isinstance(s, tuple):
        if len(s) == 3 and s[0] == "below":
            return (name, _native.Shift.below(float(s[1]), float(s[2])))
        if len(s) == 2 and s[0] == "top_box_target":
            return (name, _native.Shift.top_box_target(float(s[1])))
        raise InvalidArgumentError(
            f'invalid shift for {name!r}: {s!r}; use a number, ("below", threshold, delta) or '
            '("top_box_target", share)'
        )
    return (name, _native.Shift.all(float(s)))


def _driver_names(drivers: Sequence[Any] | str) -> list[str]:
    if isinstance(drivers, str):
        return [drivers]
    names = []
    for i, d in enumerate(drivers):
        name = getattr(d, "value", d)
        if not isinstance(name, str):
            raise InvalidArgumentError(
                f"invalid drivers: entry {i} is {d!r}, a {type(d).__name__}; drivers are column names "
                "(text) or cx.Pillar members (for a 2-D array, name its columns with columns=[...] and "
                "pass those names)"
            )
        names.append(name)
    return names


def _check_unique_columns(table: Table, columns: Sequence[str] | None, used: Sequence[str]) -> None:
    """Refuse column names given twice: in ``columns=`` of a 2-D array (any of them), or in a table
    (those the analysis reads), where a name would not say which column it means."""
    names = table.names
    seen: set[str] = set()
    twice = [c for c in names if c in seen or seen.add(c)]  # type: ignore[func-returns-value]
    if columns is None:
        twice = [c for c in twice if c in used]
    if twice:
        shown = ", ".join(repr(c) for c in dict.fromkeys(twice))
        where = "columns=" if columns is not None else "the table's columns"
        raise InvalidArgumentError(
            f"invalid columns: {shown} appears more than once in {where}; give every column a "
            "distinct name (a name must say which column it means)"
        )


def _measure_list(measures: Sequence[str], name: str = "measures") -> list[str]:
    """``measures`` as a list of names; one name given as a bare string is refused with the fix."""
    if isinstance(measures, str):
        raise InvalidArgumentError(
            f"invalid {name}: got the string {measures!r}; pass a list of measure names, e.g. "
            f"{name}=[{measures!r}]"
        )
    return [str(m) for m in measures]


def _weights(table: Table, weights: object) -> Column | None:
    """Weights (a column name, or one per row) as float64 with NaN for a missing value."""
    w = _numeric_weights(table, weights)
    if w is None:
        return None
    if isinstance(w, np.ma.MaskedArray):
        return np.ascontiguousarray(np.ma.filled(w.astype(np.float64), np.nan))
    return np.ascontiguousarray(w, dtype=np.float64)


def _numeric_weights(table: Table, weights: object) -> npt.NDArray[Any] | None:
    """Weights (a column name, or one per row) in their own numeric width, for the core to read;
    booleans are refused (see ``_convert``)."""
    if weights is None:
        return None
    if isinstance(weights, str):
        return table.weight_column(weights)
    from ._table import numeric_weights

    return numeric_weights(weights)


OutcomeScale = Literal["auto"] | tuple[float, float] | None
"""The outcome's scale: ``"auto"`` (0-10 for ``ltr``, else unchecked), ``(min, max)`` or None."""

ScaleSpec = tuple[float, float] | Mapping[str, tuple[float, float]] | Literal["auto"]
"""The drivers' scales: one ``(min, max)`` for all, one per driver named in a mapping, or ``"auto"``
(no scale declared; drivers checked for "don't know" codes)."""

MissingCodeSpec = Sequence[float] | Mapping[str, Sequence[float]]
"""Codes that mean "no answer": for every column, or per column named in a mapping."""


def _pair(name: str, value: object) -> tuple[float, float]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise InvalidArgumentError(f"invalid {name}: {value!r}; give (min, max), e.g. (1, 10)")
    return float(value[0]), float(value[1])


def _codes(name: str, value: object) -> list[float]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise InvalidArgumentError(f"invalid {name}: {value!r}; give a list of codes, e.g. [99]")
    return [float(v) for v in value]


def _declarations(
    outcome: str,
    drivers: Sequence[str],
    outcome_scale: OutcomeScale,
    scales: ScaleSpec | None,
    missing_codes: MissingCodeSpec | None,
) -> dict[str, Any]:
    """The declared scales and missing codes in the form of ``DriverOptions.declare``."""
    if isinstance(outcome_scale, str):
        if outcome_scale != "auto":
            raise InvalidArgumentError(
                f'invalid outcome_scale: {outcome_scale!r}; give "auto", (min, max) or None'
            )
        out_scale: Any = "auto"
    else:
        out_scale = None if outcome_scale is None else _pair("outcome_scale", outcome_scale)
    if scales is None or isinstance(scales, str):
        if scales is not None and scales != "auto":
            raise InvalidArgumentError(
                f'invalid scales: {scales!r}; give "auto", (min, max), a mapping of driver to (min, max)'
                " or None"
            )
        declared: list[tuple[str, float, float]] = []
    elif isinstance(scales, Mapping):
        declared = [(str(k), *_pair("scales", v)) for k, v in scales.items()]
    else:
        lo, hi = _pair("scales", scales)
        declared = [(d, lo, hi) for d in drivers]
    if missing_codes is None:
        codes: list[tuple[str, list[float]]] = []
    elif isinstance(missing_codes, Mapping):
        codes = [(str(k), _codes("missing_codes", v)) for k, v in missing_codes.items()]
    else:
        every = _codes("missing_codes", missing_codes)
        codes = [(c, every) for c in (outcome, *drivers)]
    return {
        "outcome_scale": out_scale,
        "scales": declared,
        "missing_codes": codes,
        "check_codes": scales is not None,
    }


def _options(
    outcome: str,
    missing: MissingPolicy,
    indicator_for: Sequence[str] | None,
    always: Sequence[str] | None,
    groups: Mapping[str, Sequence[str]] | None,
    confidence_level: float,
    covariance: CovarianceName | None = None,
) -> Any:
    return _native.DriverOptions(
        outcome=outcome,
        missing=missing,
        indicator_for=list(indicator_for or []),
        always=list(always or []),
        groups=[_native.DriverGroup(str(k), [str(m) for m in v]) for k, v in (groups or {}).items()],
        confidence_level=float(confidence_level),
        covariance=covariance,
    )


CovarianceName = Literal["classical", "HC0", "HC1", "HC2", "HC3"]


@overload
def driver_analysis(
    data: object,
    outcome: str = "ltr",
    drivers: Sequence[Any] | str = (),
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
    scales: ScaleSpec | None = "auto",
    missing_codes: MissingCodeSpec | None = None,
    covariance: CovarianceName | None = None,
) -> DriverAnalysis: ...


@overload
def driver_analysis(
    data: object,
    outcome: str = "ltr",
    drivers: Sequence[Any] | str = (),
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
    scales: ScaleSpec | None = "auto",
    missing_codes: MissingCodeSpec | None = None,
    covariance: CovarianceName | None = None,
) -> SegmentDriverAnalyses: ...


def driver_analysis(
    data: object,
    outcome: str = "ltr",
    drivers: Sequence[Any] | str = (),
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
    scales: ScaleSpec | None = "auto",
    missing_codes: MissingCodeSpec | None = None,
    covariance: CovarianceName | None = None,
) -> DriverAnalysis | SegmentDriverAnalyses:
    """Regress ``outcome`` on ``drivers`` and rank the drivers by their share of the explained variance.

    Parameters
    ----------
    data : table
        A pandas, polars or pyarrow table, a dict of columns, or a 2-D numpy array with ``columns=``.
        Numeric columns of any width (int8 to uint64, float32, float64, bool; nullable pandas,
        polars and Arrow columns with their missing values) are read by the core as they are, and
        become float64 there; a text or date column raises
        :class:`~cx_metrics.exceptions.ColumnError` naming it.
    outcome : str
        The outcome column (default ``"ltr"``, the 0-10 recommendation score).
    drivers : sequence of str
        The driver columns (names, or :class:`~cx_metrics.Pillar` members; see ``cx.PILLARS``).
    weights : str or array, optional
        Survey weights: a column name or an array with one weight per row (finite, >= 0).
    missing : {"listwise", "raise", "pairwise", "indicator"}
        Missing values: drop the row (counted in ``n_omitted``), raise, pairwise-complete
        correlations, or the indicator method for structurally missing driver answers (fill with the
        mean and adjust for a 0/1 ``<driver>_missing`` covariate; biased for answers that exist but
        were not given).
    always : sequence of str, optional
        Columns adjusted for in every model and not ranked (relaimpo's ``always``): drivers, or other
        columns of ``data``, which are then added to the model. The R² they explain alone is reported
        apart (:attr:`DriverAnalysis.r_squared_always`) and the measures split the rest.
    groups : mapping of str to sequence of str, optional
        Groups of drivers ranked as one unit, ``{"group name": [driver, ...]}``.
    confidence_level : float
        Level of the coefficient intervals.
    indicator_for : sequence of str, optional
        With ``missing="indicator"``: the drivers to fill (default every driver with a missing value).
    columns : sequence of str, optional
        Column names of a 2-D numpy ``data``.
    by : str, list of str, or array, optional
        The segment column (name, or one label per row), or several (``["wave", "segment"]``): run the
        analysis in every segment and return a :class:`SegmentDriverAnalyses`. Segments follow the
        grouping rules of every ``by=`` (the guide's "Grouping rules"): categorical order, else numbers
        numerically, dates chronologically, text by code point; labels keep their type; rows with a
        missing label form the segment ``None``, last, with a :class:`MissingLabelWarning`; an unused
        categorical level is a skipped segment with no rows.
    overall : bool
        With ``by``: also analyse all rows together (the same as without ``by``), as
        :attr:`SegmentDriverAnalyses.overall` and the table's last rows, labelled ``"(all)"``.
    outcome_scale : "auto", (min, max) or None
        The outcome's scale, checked: ``"auto"`` (default) checks the recommendation score ``ltr`` on
        0-10 and leaves any other outcome unchecked; ``(1, 5)`` declares a scale; ``None`` checks
        nothing (a continuous outcome). :meth:`DriverAnalysis.what_if` needs an outcome on 0-10.
    scales : "auto", (min, max), mapping of driver to (min, max), or None
        The drivers' scales, checked: one for every driver (``(1, 10)``), or one per driver named in a
        mapping. A driver without one (and every driver under ``"auto"``, the default) is checked
        for "don't know" codes only: an integer column that is a 0-10 rating apart from at most
        three values that are negative or at least twice its highest rating (such as 99) raises
        :class:`~cx_metrics.exceptions.OutOfScaleError` naming the first of them, so that a code is
        never fitted as a rating; any other column (a count past 10, a continuous measure) is not
        checked. ``None`` checks nothing. :func:`~cx_metrics.pillar_driver_analysis` checks the
        pillars on 1-10 by default.
    missing_codes : sequence of numbers, or mapping of column to sequence of numbers, optional
        Codes that mean "no answer" (``[99]`` for "don't know"): in every outcome and driver column,
        or per column (``{"resolution": [99], "ltr": [-1]}``). They become missing values, handled
        by ``missing=`` like any other, and are counted in
        :attr:`DriverAnalysis.declared_missing`. A value off its scale that is not declared raises
        :class:`~cx_metrics.exceptions.OutOfScaleError` naming the column, the row and the value.
    covariance : {"classical", "HC0", "HC1", "HC2", "HC3"}, optional
        The regression table's standard errors. Default: ``"HC1"`` (design-based sandwich, as Stata's
        ``regress [pweight=]``) with weights, ``"classical"`` (model-based) without. HC0-HC3 are
        White's heteroskedasticity-consistent sandwiches (HC1 ``x n/(n-p-1)``, HC2 and HC3 adjusted
        for leverage); with weights they do not change when every weight is multiplied by a constant.
        Pairwise deletion has no rows to form a sandwich from: model-based (``covariance_note`` says
        so), and asking for HC0-HC3 raises. The result says which in ``covariance_type``.

    Returns
    -------
    DriverAnalysis, or SegmentDriverAnalyses with ``by``

    Examples
    --------
    >>> import cx_metrics as cx
    >>> data = {
    ...     "ltr": [9, 7, 10, 4, 8, 6, 9, 3, 7, 10],
    ...     "ease": [6, 5, 7, 2, 5, 4, 7, 1, 4, 6],
    ...     "speed": [5, 6, 6, 3, 4, 5, 5, 2, 6, 7],
    ... }
    >>> r = cx.driver_analysis(data, drivers=["ease", "speed"])
    >>> r.n, r.top_driver
    (10, 'ease')
    >>> round(sum(r.importance["lmg"]), 12) == round(r.r_squared, 12)
    True
    """
    table = Table(data, columns)
    names = _driver_names(drivers)
    # An `always` column of the data that is not among the drivers joins the model (relaimpo's
    # `always`: in every subset, not ranked).
    # A scale given for every driver covers the drivers named; missing codes cover every column read.
    declared = _declarations(outcome, names, outcome_scale, scales, None)
    for a in dict.fromkeys(always or []):
        if a not in names and a != outcome:
            table.numeric_column(a)  # a column of the data (else a ColumnError naming the data's columns)
            names.append(a)
    declared["missing_codes"] = _declarations(outcome, names, None, None, missing_codes)["missing_codes"]
    options = _options(outcome, missing, indicator_for, always, groups, confidence_level, covariance).declare(
        **declared
    )
    _check_unique_columns(table, columns, [outcome, *names, *([weights] if isinstance(weights, str) else [])])
    y = table.numeric_column(outcome)
    cols = [table.numeric_column(n) for n in names]
    w = _numeric_weights(table, weights)
    if by is None:
        if overall:
            raise InvalidArgumentError(
                "overall=True adds the analysis of all rows to an analysis by segment; pass by= "
                "(without by the analysis is already of all rows)"
            )
        return DriverAnalysis._from_native(_native.driver_analysis(y, names, cols, w, options))
    keys = key_columns(by, table, len(y))
    native = _native.segment_driver_analysis(
        y, names, cols, w, options, keys.specs, list(keys.names), overall=bool(overall)
    )
    out = SegmentDriverAnalyses._from_native(native)
    n_missing = sum(out.n_rows[g] for g in out.segments if has_missing_label(g))
    warn_missing_labels(n_missing, keys.names, stacklevel=3)
    return out


@dataclass(frozen=True)
class SegmentDriverAnalyses(NativeResult, Tabular):
    """A driver analysis per segment (``cx.driver_analysis(..., by=...)``): no segment disappears.

    Attributes
    ----------
    by : str or tuple of str
        The segment column (``"group"`` for labels given as an unnamed array), or the columns.
    segments : tuple
        Every segment's key, in the order of the grouping rules, typed as the labels are (a tuple per
        segment for several columns); ``None`` is the missing label, last.
    analyses : mapping of key to DriverAnalysis
        The segments that could be analysed.
    skipped : mapping of key to str
        The segments that could not, with the reason (too few rows, a driver without variation, an
        unused categorical level with no rows...).
    n_rows : mapping of key to int
        Rows labelled with each segment.
    overall : DriverAnalysis or None
        With ``overall=True``, the analysis of all rows together (the same as ``cx.driver_analysis``
        without ``by``); None otherwise.

    ``result["web"]`` (``result[1]``, ``result[None]``) is the analysis of a segment; iterating gives
    the analysed segments. ``to_pandas()`` / ``to_polars()`` stack the segments' driver tables (see
    :class:`DriverAnalysis`) after the label columns named after ``by`` (typed), ``n_rows``, ``n``,
    ``r_squared`` and ``skipped``; a skipped segment keeps one row, with no driver, NaN figures and its
    reason in ``skipped``. With ``overall`` the analysis of all rows comes last, its label columns
    holding ``"(all)"``.
    """

    by: str | tuple[str, ...]
    segments: tuple[Key, ...]
    analyses: Mapping[Key, DriverAnalysis]
    skipped: Mapping[Key, str]
    n_rows: Mapping[Key, int]
    overall: DriverAnalysis | None
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.SegmentAnalyses
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> SegmentDriverAnalyses:
        names = tuple(native.segments)
        by_names = tuple(native.by) or ("segment",)
        labels = native.labels
        keys = group_keys(labels, len(by_names)) if labels else names
        analyses: dict[Key, DriverAnalysis] = {}
        skipped: dict[Key, str] = {}
        for key, name, reason in zip(keys, names, native.skipped, strict=True):
            if reason is None:
                analyses[key] = DriverAnalysis._from_native(native.analysis(name))
            else:
                skipped[key] = reason
        return cls(
            by=by_names[0] if len(by_names) == 1 else by_names,
            segments=keys,
            analyses=analyses,
            skipped=skipped,
            n_rows=dict(zip(keys, native.n_rows, strict=True)),
            overall=None if native.overall is None else DriverAnalysis._from_native(native.overall),
            _native=native,
        )

    @property
    def by_columns(self) -> tuple[str, ...]:
        """The label columns' names (one name for one column)."""
        return self.by if isinstance(self.by, tuple) else (self.by,)

    def __getitem__(self, segment: Key) -> DriverAnalysis:
        key = find_key(self.segments, segment)
        if key in self.skipped:
            raise SegmentError(f"segment {key_text(key)!r} was skipped: {self.skipped[key]}")
        return self.analyses[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self.analyses)

    def __len__(self) -> int:
        return len(self.analyses)

    def importance(self, column: str = "lmg_share") -> pd.DataFrame:
        """One column of :attr:`DriverAnalysis.importance` per analysed segment (drivers x segments)."""
        pd = require_pandas()

        return pd.DataFrame({s: a.importance[column] for s, a in self.analyses.items()})

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._native.to_dict())

    def _entries(self) -> list[tuple[Key, int, DriverAnalysis | None]]:
        """Every segment (key, rows labelled, analysis or None when skipped), then with ``overall``
        the analysis of all rows, keyed ``"(all)"``."""
        out = [(s, self.n_rows[s], self.analyses.get(s)) for s in self.segments]
        if self.overall is not None:
            out.append(("(all)", sum(self.n_rows.values()), self.overall))
        return out

    def _keys_and_columns(self) -> tuple[list[Key], list[FrameColumn]]:
        keys: list[tuple[Key, int, int, float, str | None]] = []
        tables: list[list[FrameColumn]] = []
        entries = self._entries()
        for s, n_rows, a in entries:
            if a is None:
                keys.append((s, n_rows, 0, math.nan, self.skipped[s]))
                tables.append([])
                continue
            cols = a._columns()
            keys += [(s, n_rows, a.n, a.r_squared, None)] * len(a.units)
            tables.append(cols)
        names: list[str] = []
        for cols in tables:
            names += [c[0] for c in cols if c[0] not in names]
        data: dict[str, list[Any]] = {name: [] for name in names}
        for (_, _, a), cols in zip(entries, tables, strict=True):
            have = {c[0]: c[2] for c in cols}
            rows = 1 if a is None else len(a.units)
            for name in names:
                data[name] += (
                    list(have[name]) if name in have else [None if name == "driver" else math.nan] * rows
                )
        out: list[FrameColumn] = [
            ("n_rows", "int", [k[1] for k in keys]),
            ("n", "int", [k[2] for k in keys]),
            ("r_squared", "float", [k[3] for k in keys]),
            ("skipped", "str", [k[4] for k in keys]),
        ]
        out += [(name, "str" if name == "driver" else "float", data[name]) for name in names]
        return [k[0] for k in keys], out

    def _columns(self) -> list[FrameColumn]:
        return self._keys_and_columns()[1]

    def to_pandas(self) -> pd.DataFrame:
        """The stacked table as a pandas DataFrame: typed label columns, then the figures."""
        keys, columns = self._keys_and_columns()
        return labelled_pandas(key_columns_of(self.by_columns, keys), columns)

    def to_polars(self) -> pl.DataFrame:
        """The stacked table as a polars DataFrame (the columns of :meth:`to_pandas`)."""
        keys, columns = self._keys_and_columns()
        return labelled_polars(key_columns_of(self.by_columns, keys), columns)

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        out = []
        for s, n_rows, a in self._entries():
            name = key_text(s)
            if a is None:
                out.append((name, str(n_rows), "-", "-", "skipped"))
            else:
                out.append((name, str(n_rows), str(a.n), f"{a.r_squared:.3f}", a.top_driver or "-"))
        return out

    def _headline(self) -> str:
        return f"Driver analysis by segment: {len(self.analyses)} analysed, {len(self.skipped)} skipped"

    def __str__(self) -> str:
        header = (" / ".join(self.by_columns), "rows", "n", "r_squared", "top driver")
        lines = [self._headline(), "", *text_table(header, self._rows())]
        skipped = [f"skipped {key_text(s)}: {reason}" for s, reason in self.skipped.items()]
        return "\n".join(lines + skipped)

    def _repr_html_(self) -> str:
        header = (" / ".join(self.by_columns), "rows", "n", "r_squared", "top driver")
        warnings = [f"{key_text(s)} skipped: {reason}" for s, reason in self.skipped.items()]
        warnings += [f"{key_text(s)}: {w.message}" for s, a in self.analyses.items() for w in a.warnings]
        if self.overall is not None:
            warnings += [f"(all): {w.message}" for w in self.overall.warnings]
        return html_block(
            html_table(None, self._rows(), header=header, warnings=warnings), headline=self._headline()
        )

    # ----- segment against segment (driver_segments.py) ----------------------------------------------

    def compare(
        self,
        segment: Key,
        against: Key | None = None,
        *,
        n_resamples: int = 1000,
        seed: int = 0,
        confidence_level: float = 0.95,
        measures: Sequence[str] = ("lmg",),
        adjustment: str = "holm",
    ) -> SegmentComparison:
        """Whether each driver's importance differs between ``segment`` and ``against`` (another
        segment, or None for all other rows): a bootstrap of each group with the options of this
        analysis; p-values adjusted across drivers (``"holm"``, ``"bh"`` or ``"none"``). Needs the rows
        (not a result restored from JSON). See :class:`~cx_metrics.driver_segments.SegmentComparison`."""
        from .driver_segments import SegmentComparison

        names = dict(zip(self.segments, self._native.segments, strict=True))
        other = None if against is None else names[find_key(self.segments, against)]
        native = self._native.compare(
            names[find_key(self.segments, segment)],
            other,
            n_resamples=int(n_resamples),
            seed=int(seed),
            confidence_level=float(confidence_level),
            measures=[str(m) for m in measures],
            adjustment=str(adjustment),
        )
        return SegmentComparison._from_native(native)
