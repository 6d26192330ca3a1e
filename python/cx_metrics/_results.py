"""Plain result data shared by every metric: intervals and the formatting helpers of results."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Comparison", "Interval"]


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


@dataclass(frozen=True)
class Comparison:
    """Difference of a score between two samples, ``a - b``, with its z test.

    Attributes
    ----------
    difference : float
        Estimated difference (fractions: 0.1 is 10 points).
    std_error : float
        Standard error of the difference.
    z : float
        Test statistic.
    p_value : float
        Two-sided p-value of ``z`` under the standard normal.
    method : str
        How the difference and its interval were computed.

    Call :meth:`ci` for the interval at any confidence level.
    """

    difference: float
    std_error: float
    z: float
    p_value: float
    method: str
    # The native function and its leading arguments: ci(level) calls it again with the level.
    _redo: tuple[str, tuple[Any, ...]] = field(repr=False, compare=False)

    @classmethod
    def _compute(cls, function: str, args: tuple[Any, ...], method: str) -> Comparison:
        from . import _native

        raw = getattr(_native, function)(*args, 0.95)
        return cls(
            float(raw.difference),
            float(raw.std_error),
            float(raw.z),
            float(raw.p_value),
            method,
            (function, args),
        )

    def ci(self, confidence_level: float = 0.95) -> Interval:
        """Confidence interval of the difference."""
        from . import _native

        function, args = self._redo
        raw = getattr(_native, function)(*args, confidence_level)
        return Interval._from_native(raw.interval, self.method)

    def __str__(self) -> str:
        ci = self.ci()
        return (
            f"difference {100 * self.difference:+.1f} points (95% CI {100 * ci.low:+.1f} to "
            f"{100 * ci.high:+.1f}); z = {self.z:.2f}, p = {self.p_value:.3g} ({self.method})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-safe dict (with the 95% interval)."""
        out = {f.name: json_safe(getattr(self, f.name)) for f in fields(self) if not f.name.startswith("_")}
        out["ci"] = self.ci().to_dict()
        return out
