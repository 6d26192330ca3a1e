"""Plain result data shared by every metric: intervals and the formatting helpers of results."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Interval"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A two-sided confidence interval.

    Attributes
    ----------
    low, high : float
        The bounds.
    confidence_level : float
        Nominal coverage, in (0, 1).
    method : str
        The method that computed it (e.g. ``"adjusted_wald"``, ``"wilson"``).
    clipped : bool
        Whether a bound was clipped to the parameter's range (e.g. NPS to [-1, 1]).

    Examples
    --------
    >>> from cx_metrics import Interval
    >>> ci = Interval(0.14, 0.44, 0.95, "adjusted_wald")
    >>> print(ci)
    95% CI [0.140, 0.440] (adjusted_wald)
    >>> ci.contains(0.3), round(ci.width, 2)
    (True, 0.3)
    """

    low: float
    high: float
    confidence_level: float
    method: str
    clipped: bool = False

    @classmethod
    def _from_native(cls, raw: tuple[float, float, float, bool], method: str) -> Interval:
        low, high, level, clipped = raw
        return cls(float(low), float(high), float(level), method, bool(clipped))

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the closed interval."""
        return self.low <= x <= self.high

    def __str__(self) -> str:
        return f"{_level(self.confidence_level)} CI [{self.low:.3f}, {self.high:.3f}] ({self.method})"

    def to_dict(self) -> dict[str, Any]:
        """The interval as a JSON-safe dict."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}


def _level(confidence_level: float) -> str:
    pct = 100.0 * confidence_level
    return f"{pct:.0f}%" if math.isclose(pct, round(pct)) else f"{pct:g}%"


def json_safe(x: Any) -> Any:
    """Floats that JSON cannot hold (NaN, ±inf) become None; everything else as is."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def pct(share: float) -> str:
    """A share in [0, 1] as a percentage with one decimal."""
    return f"{100.0 * share:.1f}%"


def html_table(title: str, rows: list[tuple[str, str]]) -> str:
    """A small escaped two-column HTML table for Jupyter."""
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table><caption>{html.escape(title)}</caption><tbody>{body}</tbody></table>"
