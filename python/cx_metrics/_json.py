"""Results that cross from Rust as JSON: parsing, and the ``null`` that stands for NaN or infinity."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["as_float", "loads"]


def loads(text: str) -> dict[str, Any]:
    """Parse a result serialised by the core (serde_json)."""
    out: dict[str, Any] = json.loads(text)
    return out


def as_float(x: Any) -> float:
    """A JSON number as float; ``null`` (a NaN or infinity in Rust) as NaN."""
    return math.nan if x is None else float(x)
