"""Promoter and detractor models: logistic regressions of "is a promoter" (9-10) and "is a detractor"
(0-6) on the drivers, from a 0-10 ``ltr`` column. Comparing the two shows when what creates promoters
differs from what prevents detractors. The fits run in Rust (IRLS, Wald intervals, McFadden's pseudo-R²).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

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
    num,
    p_value,
    text_table,
)
from ._table import Table
from .drivers import (
    MissingCodeSpec,
    MissingPolicy,
    ScaleSpec,
    _declarations,
    _driver_names,
    _numeric_weights,
    _options,
)
from .exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

    from .scoring import LogisticModel

__all__ = ["NpsDriverModel", "NpsModelBootstrap", "detractor_drivers", "promoter_drivers"]

WeightKind = Literal["sampling", "frequency"]

_COLUMNS = (
    "estimate",
    "std_error",
    "z",
    "p_value",
    "ci_low",
    "ci_high",
    "odds_ratio",
    "or_ci_low",
    "or_ci_high",
)


@dataclass(frozen=True)
class NpsDriverModel(NativeResult, Tabular):
    """A logistic model of being a promoter or a detractor.

    Attributes
    ----------
    target : {"promoter", "detractor"}
        The group modelled (y = 1).
    drivers : tuple of str
        The drivers, in input order.
    pseudo_r2 : float
        McFadden's pseudo-R² ``1 - l/l0``.
    n, n_events, n_omitted : int
        Complete rows, rows in the group, rows dropped for a missing value.
    log_likelihood, null_log_likelihood, aic : float
        Fit statistics (weighted).
    converged : bool
        Whether the fit converged.
    confidence_level : float
        Level of the coefficient and odds-ratio intervals.
    std_error_type : {"model-based", "sandwich (HC0)"}
        Which standard errors (and so z, p-values and intervals) the table carries: the design-based
        sandwich with sampling weights (the default for weighted data; unchanged when every weight is
        multiplied by a constant), model-based without weights or with frequency weights.
    weight_kind : {"sampling", "frequency"} or None
        What the weights stood for (None without weights).
    warnings : tuple of str
        Things to know (few events per driver, separation), with rounded figures and what to do.

    ``to_pandas()`` / ``to_polars()`` give :attr:`coefficients` with the term as the first column.
    """

    target: str
    drivers: tuple[str, ...]
    pseudo_r2: float
    n: int
    n_events: int
    n_omitted: int
    log_likelihood: float
    null_log_likelihood: float
    aic: float
    converged: bool
    confidence_level: float
    std_error_type: str
    weight_kind: str | None
    warnings: tuple[str, ...]
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.NpsDriverModel
    _native: Any = field(repr=False, compare=False)
    # The converted input arrays, for :meth:`bootstrap` (never pickled or serialised).
    _inputs: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> NpsDriverModel:
        return cls(
            target=native.target,
            drivers=tuple(native.drivers),
            pseudo_r2=native.pseudo_r2,
            n=native.n,
            n_events=native.n_events,
            n_omitted=native.n_omitted,
            log_likelihood=native.log_likelihood,
            null_log_likelihood=native.null_log_likelihood,
            aic=native.aic,
            converged=native.converged,
            confidence_level=native.confidence_level,
            std_error_type=native.std_error_type,
            weight_kind=native.weight_kind,
            warnings=tuple(native.warning_messages),
            _native=native,
        )

    def bootstrap(self, n_resamples: int = 2000, seed: int | None = None) -> NpsModelBootstrap:
        """Percentile bootstrap of the coefficients and odds ratios: the complete rows resampled with
        replacement (each keeping its weight), the model refitted ``n_resamples`` times (at least 100),
        the ``(1 - level)/2`` and ``(1 + level)/2`` percentiles of each coefficient at the model's
        :attr:`confidence_level`. Resamples that cannot be fitted (separation, a driver without
        variation) are counted in ``n_failed`` and warned about. ``seed`` makes it reproducible (a
        random one is drawn and reported when None).

        Examples
        --------
        >>> import cx_metrics as cx
        >>> m = cx.promoter_drivers(cx.datasets.sample_survey(), drivers=cx.PILLARS, weights="weight")
        >>> b = m.bootstrap(n_resamples=200, seed=1)
        >>> b.n_resamples, list(b.coefficients.columns[:2])
        (200, ['estimate', 'std_error'])
        """
        if self._inputs is None:
            raise InvalidArgumentError(
                "this model was restored without its rows (from JSON or a pickle): fit it again with "
                "cx.promoter_drivers / cx.detractor_drivers to bootstrap it"
            )
        y, names, cols, w, weight_kind, plain = self._inputs
        if not plain:
            raise InvalidArgumentError(
                "the bootstrap of a promoter / detractor model resamples complete rows, which is the "
                "model's sample only with missing='listwise' and no missing_codes; fit the model that "
                "way to bootstrap it"
            )
        native = _native.nps_model_bootstrap(
            y,
            names,
            cols,
            w,
            target=self.target,  # type: ignore[arg-type]
            confidence_level=self.confidence_level,
            weight_kind=weight_kind,
            n_resamples=int(n_resamples),
            seed=secrets.randbits(63) if seed is None else int(seed),
        )
        return NpsModelBootstrap._from_native(native)

    def model(self) -> LogisticModel:
        """The fitted model that scores new rows with the probability of the category
        (:class:`~cx_metrics.LogisticModel`): this model's coefficients, as a small JSON document."""
        from .scoring import LogisticModel

        return LogisticModel._from_native(_native.LogisticModel.of_nps_model(self._native))

    @property
    def coefficients(self) -> pd.DataFrame:
        """Table indexed by term, intercept first: ``estimate`` (log-odds), ``std_error``, ``z``,
        ``p_value``, ``ci_low``, ``ci_high``, ``odds_ratio``, ``or_ci_low``, ``or_ci_high``."""
        return self.to_pandas().set_index("term")

    def _columns(self) -> list[FrameColumn]:
        table = self._native.coefficients
        out: list[FrameColumn] = [("term", "str", list(table["term"]))]
        out += [(c, "float", table[c].tolist()) for c in _COLUMNS]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def _rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (
                str(t["name"]),
                num(as_float(t["odds_ratio"])),
                f"[{num(as_float(t['odds_ratio_interval']['low']))}, "
                f"{num(as_float(t['odds_ratio_interval']['high']))}]",
                p_value(as_float(t["p_value"])),
            )
            for t in self._raw["drivers"]
        ]

    def _headline(self) -> str:
        return (
            f"{self.target.capitalize()} model: pseudo-R² = {self.pseudo_r2:.3f}, n = {self.n} "
            f"({self.n_events} {self.target}s, {self.n_omitted} omitted); "
            f"{self.std_error_type} standard errors"
            + (f" ({self.weight_kind} weights)" if self.weight_kind else "")
        )

    def _warnings(self) -> list[str]:
        out = [] if self.converged else ["the fit did not converge: the estimates are not reliable"]
        return out + list(self.warnings)

    def _header(self) -> tuple[str, ...]:
        return ("driver", "odds_ratio", f"{level_text(self.confidence_level)} CI", "p_value")

    def __str__(self) -> str:
        lines = [self._headline(), "", *text_table(self._header(), self._rows())]
        return "\n".join(lines + [f"warning: {w}" for w in self._warnings()])

    def _repr_html_(self) -> str:
        table = html_table(None, self._rows(), header=self._header(), warnings=self._warnings())
        return html_block(table, headline=self._headline())


def _model(
    target: Literal["promoter", "detractor"],
    data: object,
    outcome: str,
    drivers: Sequence[Any] | str,
    weights: object,
    confidence_level: float,
    columns: Sequence[str] | None,
    sample: dict[str, Any],
    weight_kind: WeightKind = "sampling",
) -> NpsDriverModel:
    table = Table(data, columns)
    names = _driver_names(drivers)
    y = table.numeric_column(outcome)
    cols = [table.numeric_column(n) for n in names]
    # The sample of a driver analysis with the same options (declared codes and scales, missing=).
    options = _options(
        outcome, sample["missing"], sample["indicator_for"], None, None, confidence_level
    ).declare(**_declarations(outcome, names, "auto", sample["scales"], sample["missing_codes"]))
    native = _native.nps_model(
        y,
        names,
        cols,
        _numeric_weights(table, weights),
        target=target,
        confidence_level=float(confidence_level),
        options=options,
        weight_kind=weight_kind,
    )
    model = NpsDriverModel._from_native(native)
    # The bootstrap resamples complete rows: it is the analysed sample only for listwise deletion
    # without declared codes (see NpsDriverModel.bootstrap).
    plain = sample["missing"] == "listwise" and not sample["missing_codes"]
    inputs = (y, names, cols, _numeric_weights(table, weights), weight_kind, plain)
    return dataclasses.replace(model, _inputs=inputs)


@dataclass(frozen=True)
class NpsModelBootstrap(NativeResult, Tabular):
    """Percentile bootstrap of a promoter or detractor model (:meth:`NpsDriverModel.bootstrap`).

    Attributes
    ----------
    target : {"promoter", "detractor"}
        The group modelled.
    n_resamples, n_failed : int
        Resamples drawn, and those that could not be fitted (left out).
    seed : int
        The seed (pass it again for the same intervals).
    confidence_level : float
        Level of the percentile intervals.
    warnings : tuple of str
        Things to know (failed resamples).

    ``to_pandas()`` / ``to_polars()`` give :attr:`coefficients` with the term as the first column:
    ``estimate`` (the fit on all rows), ``std_error`` (the replicates' standard deviation),
    ``ci_low``, ``ci_high`` (percentiles), ``odds_ratio``, ``or_ci_low``, ``or_ci_high``.
    """

    target: str
    n_resamples: int
    n_failed: int
    seed: int
    confidence_level: float
    warnings: tuple[str, ...]
    _native_type: ClassVar[Any] = _native.NpsModelBootstrap
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> NpsModelBootstrap:
        return cls(
            target=native.target,
            n_resamples=native.n_resamples,
            n_failed=native.n_failed,
            seed=native.seed,
            confidence_level=native.confidence_level,
            warnings=tuple(native.warning_messages),
            _native=native,
        )

    @property
    def coefficients(self) -> pd.DataFrame:
        """Table indexed by term, intercept first (see the class)."""
        return self.to_pandas().set_index("term")

    def _columns(self) -> list[FrameColumn]:
        table = self._native.coefficients
        out: list[FrameColumn] = [("term", "str", list(table["term"]))]
        out += [(c, "float", table[c].tolist()) for c in _BOOTSTRAP_COLUMNS]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    def _rows(self) -> list[tuple[str, str, str]]:
        t = self._native.coefficients
        return [
            (str(term), num(t["odds_ratio"][i]), f"[{num(t['or_ci_low'][i])}, {num(t['or_ci_high'][i])}]")
            for i, term in enumerate(t["term"])
            if i > 0
        ]

    def _headline(self) -> str:
        return (
            f"Bootstrap of the {self.target} model: {self.n_resamples} resamples "
            f"({self.n_failed} failed), seed {self.seed}, percentile intervals"
        )

    def __str__(self) -> str:
        header = ("driver", "odds_ratio", f"{level_text(self.confidence_level)} percentile CI")
        lines = [self._headline(), "", *text_table(header, self._rows())]
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])

    def _repr_html_(self) -> str:
        header = ("driver", "odds_ratio", f"{level_text(self.confidence_level)} percentile CI")
        table = html_table(None, self._rows(), header=header, warnings=list(self.warnings))
        return html_block(table, headline=self._headline())


_BOOTSTRAP_COLUMNS = ("estimate", "std_error", "ci_low", "ci_high", "odds_ratio", "or_ci_low", "or_ci_high")


def promoter_drivers(
    data: object,
    outcome: str = "ltr",
    drivers: Sequence[Any] | str = (),
    weights: object = None,
    confidence_level: float = 0.95,
    *,
    columns: Sequence[str] | None = None,
    missing: MissingPolicy = "listwise",
    indicator_for: Sequence[str] | None = None,
    scales: ScaleSpec | None = "auto",
    missing_codes: MissingCodeSpec | None = None,
    weight_kind: WeightKind = "sampling",
) -> NpsDriverModel:
    """Logistic model of being a promoter (9-10 versus 0-8 on ``outcome``) on the drivers.

    ``data``, ``drivers``, ``weights`` and ``columns`` as in :func:`~cx_metrics.driver_analysis`. The
    sample is that of a driver analysis with the same ``missing=``, ``indicator_for``, ``scales`` and
    ``missing_codes``: the outcome is checked on 0-10 and the drivers on their declared scales; declared
    codes are missing values; ``"listwise"`` drops incomplete rows (counted in ``n_omitted``),
    ``"raise"`` fails on one, ``"indicator"`` fills the drivers as the analysis does and adds each
    ``<driver>_missing`` indicator to the model as a term; ``"pairwise"`` is refused (a logistic model
    is fitted on rows). Separated data raise :class:`~cx_metrics.exceptions.SeparationError`.

    ``weight_kind`` says what the weights are. ``"sampling"`` (the default): survey weights, with
    design-based sandwich standard errors (HC0, as statsmodels ``GLM(..., var_weights=w)
    .fit(cov_type="HC0")``; R ``survey::svyglm`` reports them times ``sqrt(n/(n-1))``), which do not
    change when every weight is multiplied by a constant. ``"frequency"``: a weight counts identical
    respondents, with model-based standard errors of ``sum(w)`` observations (statsmodels
    ``freq_weights``). Without weights the standard errors are model-based. The result says which in
    ``std_error_type``.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> m = cx.promoter_drivers(cx.datasets.sample_survey(), drivers=cx.PILLARS, weights="weight")
    >>> m.target, bool(m.coefficients.loc["time_and_effort", "odds_ratio"] > 1)
    ('promoter', True)
    """
    sample = {
        "missing": missing,
        "indicator_for": indicator_for,
        "scales": scales,
        "missing_codes": missing_codes,
    }
    return _model("promoter", data, outcome, drivers, weights, confidence_level, columns, sample, weight_kind)


def detractor_drivers(
    data: object,
    outcome: str = "ltr",
    drivers: Sequence[Any] | str = (),
    weights: object = None,
    confidence_level: float = 0.95,
    *,
    columns: Sequence[str] | None = None,
    missing: MissingPolicy = "listwise",
    indicator_for: Sequence[str] | None = None,
    scales: ScaleSpec | None = "auto",
    missing_codes: MissingCodeSpec | None = None,
    weight_kind: WeightKind = "sampling",
) -> NpsDriverModel:
    """Logistic model of being a detractor (0-6 versus 7-10 on ``outcome``) on the drivers.

    See :func:`promoter_drivers`.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> m = cx.detractor_drivers(cx.datasets.sample_survey(), drivers=cx.PILLARS)
    >>> m.target, bool(m.coefficients.loc["time_and_effort", "odds_ratio"] < 1)
    ('detractor', True)
    """
    sample = {
        "missing": missing,
        "indicator_for": indicator_for,
        "scales": scales,
        "missing_codes": missing_codes,
    }
    return _model(
        "detractor", data, outcome, drivers, weights, confidence_level, columns, sample, weight_kind
    )
