"""Whether driver importance differs between two segments: the core's bootstrap test of a segment
driver analysis, as a result with a table of differences and adjusted p-values
(:meth:`SegmentDriverAnalyses.compare`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from . import _native
from ._json import as_float
from ._results import (
    FrameColumn,
    Kind,
    NativeResult,
    Tabular,
    html_block,
    html_table,
    json_dict,
    level_text,
    num,
    p_value,
    table_frame,
    text_table,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SegmentComparison"]

_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("segment_score", "float"),
    ("against_score", "float"),
    ("difference", "float"),
    ("std_error", "float"),
    ("ci_low", "float"),
    ("ci_high", "float"),
    ("p_value", "float"),
    ("p_adjusted", "float"),
    ("significant", "bool"),
)


@dataclass(frozen=True)
class SegmentComparison(NativeResult, Tabular):
    """Driver by driver, whether importance differs between a segment and another segment (or the rest
    of the rows): a bootstrap resampling each group separately, the difference of the importance
    measures with its standard error, percentile interval and two-sided p-value, adjusted across the
    drivers of each measure.

    Attributes
    ----------
    segment, against : str
        The groups compared (``against`` is ``"(rest)"`` when the segment is compared with every other
        row); the differences are ``segment - against``.
    n_segment, n_against : int
        Rows resampled in each group.
    n_resamples, n_failed : int
        Replicates drawn, and those left out because a group could not be fitted.
    seed : int
        The seed of the resampling.
    confidence_level : float
        Level of the intervals; a difference is significant when ``p_adjusted <= 1 - confidence_level``.
    adjustment : str
        The multiplicity adjustment across drivers (``"holm"``, ``"benjamini_hochberg"``, ``"none"``).

    :attr:`differences` (and ``to_pandas()`` / ``to_polars()``) give one row per measure and driver:
    ``measure``, ``driver``, ``segment_score``, ``against_score``, ``difference``, ``std_error``,
    ``ci_low``, ``ci_high``, ``p_value``, ``p_adjusted``, ``significant``.
    """

    segment: str
    against: str
    n_segment: int
    n_against: int
    n_resamples: int
    n_failed: int
    seed: int
    confidence_level: float
    adjustment: str
    # Set before the ``_native`` field, which hides the module of that name in the class body.
    _native_type: ClassVar[Any] = _native.SegmentImportanceTest
    _native: Any = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, native: Any) -> SegmentComparison:
        raw = native.to_dict()
        return cls(
            segment=str(raw["segment"]),
            against="(rest)" if raw["against"] is None else str(raw["against"]),
            n_segment=int(raw["n_segment"]),
            n_against=int(raw["n_against"]),
            n_resamples=int(raw["n_resamples"]),
            n_failed=int(raw["n_failed"]),
            seed=int(raw["seed"]),
            confidence_level=float(raw["confidence_level"]),
            adjustment=str(raw["adjustment"]),
            _native=native,
        )

    def _records(self) -> list[dict[str, Any]]:
        out = []
        for m in self._raw["measures"]:
            for d in m["drivers"]:
                out.append(
                    {
                        "measure": str(m["measure"]),
                        "driver": str(d["driver"]),
                        "segment_score": as_float(d["segment_score"]),
                        "against_score": as_float(d["against_score"]),
                        "difference": as_float(d["difference"]),
                        "std_error": as_float(d["std_error"]),
                        "ci_low": as_float(d["percentile"]["low"]),
                        "ci_high": as_float(d["percentile"]["high"]),
                        "p_value": as_float(d["p_value"]),
                        "p_adjusted": as_float(d["p_adjusted"]),
                        "significant": bool(d["significant"]),
                    }
                )
        return out

    def _columns(self) -> list[FrameColumn]:
        rows = self._records()
        out: list[FrameColumn] = [
            ("measure", "str", [r["measure"] for r in rows]),
            ("driver", "str", [r["driver"] for r in rows]),
        ]
        out += [(c, k, [r[c] for r in rows]) for c, k in _COLUMNS]
        return out

    @property
    def differences(self) -> pd.DataFrame:
        """One row per measure and driver (see the class docstring); a pandas DataFrame indexed by
        (measure, driver), or a polars DataFrame when pandas is not installed."""
        frame = table_frame(self._columns())
        return frame.set_index(["measure", "driver"]) if hasattr(frame, "set_index") else frame

    def to_dict(self) -> dict[str, Any]:
        """The core's result as a JSON-safe dict."""
        return json_dict(self._raw)

    _HEADER = ("measure", "driver", "difference", "CI", "p", "p adjusted", "significant")

    def _rows(self) -> list[tuple[str, ...]]:
        return [
            (
                r["measure"],
                r["driver"],
                num(r["difference"], 3),
                f"{num(r['ci_low'], 3)} to {num(r['ci_high'], 3)}",
                p_value(r["p_value"]),
                p_value(r["p_adjusted"]),
                "yes" if r["significant"] else "no",
            )
            for r in self._records()
        ]

    def _headline(self) -> str:
        return (
            f"Importance in {self.segment} (n = {self.n_segment}) minus {self.against} "
            f"(n = {self.n_against}): "
            f"{self.n_resamples} bootstrap resamples, {level_text(self.confidence_level)} percentile "
            f"intervals, p-values adjusted by {self.adjustment}"
        )

    def _notes(self) -> list[str]:
        if self.n_failed:
            return [f"{self.n_failed} of {self.n_resamples} resamples could not be fitted and were left out"]
        return []

    def __str__(self) -> str:
        return "\n".join([self._headline(), "", *text_table(self._HEADER, self._rows()), *self._notes()])

    def _repr_html_(self) -> str:
        table = html_table(None, self._rows(), header=self._HEADER, warnings=self._notes())
        return html_block(table, headline=self._headline())
