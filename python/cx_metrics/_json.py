"""Numbers of results that cross as Python objects from serde: ``None`` stands for NaN or infinity."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["as_float"]


def as_float(x: Any) -> float:
    """A number as float; ``None`` (a NaN or infinity in the core's serialised form) as NaN."""
    return math.nan if x is None else float(x)
