"""Promoter and detractor models: logistic regressions of "is a promoter" (9-10) and "is a detractor"
(0-6) on the drivers, from a 0-10 ``ltr`` column. Comparing the two shows when what creates promoters
differs from what prevents detractors. The fits run in Rust (IRLS, Wald intervals, McFadden's pseudo-R²).
"""

from __future__ import annotations

import copy
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from . import _native
from ._json import as_float, loads
from ._table import Table
from .drivers import _driver_names, _num, _p, _text_table, _weights

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NpsDriverModel", "detractor_drivers", "promoter_drivers"]


@dataclass(frozen=True)
class NpsDriverModel:
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
    _raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, raw: Mapping[str, Any]) -> NpsDriverModel:
        return cls(
            target=str(raw["outcome"]),
            drivers=tuple(t["name"] for t in raw["drivers"]),
            pseudo_r2=as_float(raw["pseudo_r2"]),
            n=int(raw["n"]),
            n_events=int(raw["n_events"]),
            n_omitted=int(raw["n_omitted"]),
            log_likelihood=as_float(raw["log_likelihood"]),
            null_log_likelihood=as_float(raw["null_log_likelihood"]),
            aic=as_float(raw["aic"]),
            converged=bool(raw["converged"]),
            confidence_level=as_float(raw["confidence_level"]),
            _raw=raw,
        )

    def _terms(self) -> list[Mapping[str, Any]]:
        return [self._raw["intercept"], *self._raw["drivers"]]

    @property
    def coefficients(self) -> pd.DataFrame:
        """Table indexed by term, intercept first: ``estimate`` (log-odds), ``std_error``, ``z``,
        ``p_value``, ``ci_low``, ``ci_high``, ``odds_ratio``, ``or_ci_low``, ``or_ci_high``."""
        import pandas as pd

        terms = self._terms()
        return pd.DataFrame(
            {
                "estimate": [as_float(t["estimate"]) for t in terms],
                "std_error": [as_float(t["std_error"]) for t in terms],
                "z": [as_float(t["z"]) for t in terms],
                "p_value": [as_float(t["p_value"]) for t in terms],
                "ci_low": [as_float(t["interval"]["low"]) for t in terms],
                "ci_high": [as_float(t["interval"]["high"]) for t in terms],
                "odds_ratio": [as_float(t["odds_ratio"]) for t in terms],
                "or_ci_low": [as_float(t["odds_ratio_interval"]["low"]) for t in terms],
                "or_ci_high": [as_float(t["odds_ratio_interval"]["high"]) for t in terms],
            },
            index=pd.Index([t["name"] for t in terms], name="term"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return copy.deepcopy(dict(self._raw))

    def _rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (
                str(t["name"]),
                _num(t["odds_ratio"]),
                f"[{_num(t['odds_ratio_interval']['low'])}, {_num(t['odds_ratio_interval']['high'])}]",
                _p(t["p_value"]),
            )
            for t in self._raw["drivers"]
        ]

    def _headline(self) -> str:
        return (
            f"{self.target.capitalize()} model: pseudo-R² = {self.pseudo_r2:.3f}, n = {self.n} "
            f"({self.n_events} {self.target}s, {self.n_omitted} omitted)"
        )

    def __str__(self) -> str:
        level = f"{100 * self.confidence_level:g}% CI"
        return "\n".join(
            [self._headline(), "", *_text_table(("driver", "odds_ratio", level, "p_value"), self._rows())]
        )

    def _repr_html_(self) -> str:
        from .drivers import _html_table

        level = f"{100 * self.confidence_level:g}% CI"
        table = _html_table(("driver", "odds_ratio", level, "p_value"), self._rows())
        return f"<div><p>{html.escape(self._headline())}</p>{table}</div>"


def _model(
    target: Literal["promoter", "detractor"],
    data: object,
    outcome: str,
    drivers: Sequence[Any] | str,
    weights: object,
    confidence_level: float,
    columns: Sequence[str] | None,
) -> NpsDriverModel:
    table = Table(data, columns)
    names = _driver_names(drivers)
    y = table.float_column(outcome)
    cols = [table.float_column(n) for n in names]
    raw = loads(_native.nps_model_json(target, y, names, cols, _weights(table, weights), confidence_level))
    return NpsDriverModel._from_json(raw)


def promoter_drivers(
    data: object,
    outcome: str = "ltr",
    drivers: Sequence[Any] | str = (),
    weights: object = None,
    confidence_level: float = 0.95,
    *,
    columns: Sequence[str] | None = None,
) -> NpsDriverModel:
    """Logistic model of being a promoter (9-10 versus 0-8 on ``outcome``) on the drivers.

    ``data``, ``drivers``, ``weights`` and ``columns`` as in :func:`~cx_metrics.driver_analysis`; rows
    with a missing value are dropped and counted (``n_omitted``). Separated data raise
    :class:`~cx_metrics.exceptions.SeparationError`.

    Examples
    --------
    >>> import cx_metrics as cx
    >>> m = cx.promoter_drivers(cx.datasets.sample_survey(), drivers=cx.PILLARS, weights="weight")
    >>> m.target, bool(m.coefficients.loc["time_and_effort", "odds_ratio"] > 1)
    ('promoter', True)
    """
    return _model("promoter", data, outcome, drivers, weights, confidence_level, columns)


def detractor_drivers(
    data: object,
    outcome: str = "ltr",
    drivers: Sequence[Any] | str = (),
    weights: object = None,
    confidence_level: float = 0.95,
    *,
    columns: Sequence[str] | None = None,
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
    return _model("detractor", data, outcome, drivers, weights, confidence_level, columns)
