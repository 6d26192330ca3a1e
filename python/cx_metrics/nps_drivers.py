"""Promoter and detractor models: logistic regressions of "is a promoter" (9-10) and "is a detractor"
(0-6) on the drivers, from a 0-10 ``ltr`` column. Comparing the two shows when what creates promoters
differs from what prevents detractors. The fits run in Rust (IRLS, Wald intervals, McFadden's pseudo-R²).
"""

from __future__ import annotations

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

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NpsDriverModel", "detractor_drivers", "promoter_drivers"]

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
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.NpsDriverModel
    _native: Any = field(repr=False, compare=False)

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
            _native=native,
        )

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
            f"({self.n_events} {self.target}s, {self.n_omitted} omitted)"
        )

    def _warnings(self) -> list[str]:
        return [] if self.converged else ["the fit did not converge: the estimates are not reliable"]

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
    )
    return NpsDriverModel._from_native(native)


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
    scales: ScaleSpec | None = None,
    missing_codes: MissingCodeSpec | None = None,
) -> NpsDriverModel:
    """Logistic model of being a promoter (9-10 versus 0-8 on ``outcome``) on the drivers.

    ``data``, ``drivers``, ``weights`` and ``columns`` as in :func:`~cx_metrics.driver_analysis`. The
    sample is that of a driver analysis with the same ``missing=``, ``indicator_for``, ``scales`` and
    ``missing_codes``: the outcome is checked on 0-10 and the drivers on their declared scales; declared
    codes are missing values; ``"listwise"`` drops incomplete rows (counted in ``n_omitted``),
    ``"raise"`` fails on one, ``"indicator"`` fills the drivers as the analysis does and adds each
    ``<driver>_missing`` indicator to the model as a term; ``"pairwise"`` is refused (a logistic model
    is fitted on rows). Separated data raise :class:`~cx_metrics.exceptions.SeparationError`.

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
    return _model("promoter", data, outcome, drivers, weights, confidence_level, columns, sample)


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
    scales: ScaleSpec | None = None,
    missing_codes: MissingCodeSpec | None = None,
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
    return _model("detractor", data, outcome, drivers, weights, confidence_level, columns, sample)
