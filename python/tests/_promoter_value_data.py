"""Seeded survey and outcome tables shared by the tests of ``nps_value`` over partitions: 900 customers,
800 answers (some without a score) and 800 outcome rows, 100 answers without an outcome and 100
outcome rows without an answer."""

from __future__ import annotations

import numpy as np
import pandas as pd


def tables(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 900
    ids = rng.permutation(np.arange(10_000, 10_000 + n))
    ltr = rng.integers(0, 11, n).astype(float)
    ltr[rng.random(n) < 0.04] = np.nan
    survey = pd.DataFrame(
        {"customer": ids[:800], "ltr": ltr[:800], "region": rng.choice(["north", "south", "west"], 800)}
    )
    base = np.where(ltr >= 9, 140.0, np.where(ltr >= 7, 110.0, 90.0))
    outcomes = pd.DataFrame(
        {
            "customer": ids[100:],
            "churned": rng.random(800) < np.where(ltr[100:] >= 9, 0.1, 0.3),
            "revenue": rng.gamma(4.0, base[100:] / 4.0).round(2) + 1e5,
            "clv": rng.gamma(2.0, 400.0, 800),
            "months": rng.integers(1, 25, 800).astype(float),
        }
    )
    return survey, outcomes


MEASURES = {"churned": "churned", "revenue": "revenue", "value": "clv", "duration": "months"}
