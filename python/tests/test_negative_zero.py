"""No "-0.0" in printouts: a difference that rounds to zero prints with a plus sign."""

from __future__ import annotations

import re

import pandas as pd

import cx_metrics as cx
from cx_metrics._results import points, signed


def test_signed_never_prints_negative_zero() -> None:
    assert signed(-0.04) == "+0.0"
    assert signed(-0.0) == "+0.0"
    assert signed(-0.06) == "-0.1"
    assert signed(-0.00004, 4) == "+0.0000"
    assert points(-0.0004) == "+0.0"
    assert points(0.123) == "+12.3"


def test_comparison_and_trend_print_plus_zero() -> None:
    # The NPS of a is 0.0025 points below that of b: the difference rounds to zero.
    a = [10] * 2501 + [7] * 7500 + [0]
    b = [10] * 2500 + [7] * 7500
    negative_zero = re.compile(r"-0\.0+(?!\d)")
    text = str(cx.compare_nps(a, b))
    assert "difference +0.0 points" in text and not negative_zero.search(text)
    assert not negative_zero.search(cx.compare_nps(a, b)._repr_html_())
    d = pd.DataFrame({"wave": [1] * len(a) + [2] * len(b), "ltr": a + b})
    t = str(cx.trend(d, metric="nps", by="wave"))
    assert "+0.0 pts" in t and not negative_zero.search(t)
