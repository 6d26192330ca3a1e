"""Segment against segment: whether driver importance differs (the core's bootstrap test, exposed as
``SegmentDriverAnalyses.compare``). Scores against LMG computed here from least squares, adjusted
p-values against statsmodels, and the difference that is built into the data is found."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

import cx_metrics as cx
from cx_metrics.driver_segments import SegmentComparison
from cx_metrics.exceptions import CxMetricsError

DRIVERS = ["speed", "ease", "empathy"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """Three segments of 250 rows; in "b" the outcome follows ease, elsewhere speed."""
    rng = np.random.default_rng(11)
    n = 750
    segment = np.repeat(["a", "b", "c"], n // 3)
    x = {d: np.clip(np.round(rng.normal(6.5, 1.8, n)), 1, 10) for d in DRIVERS}
    in_b = segment == "b"
    latent = np.where(in_b, 0.15 * x["speed"] + 0.8 * x["ease"], 0.8 * x["speed"] + 0.15 * x["ease"])
    latent = latent + 0.1 * x["empathy"] + rng.normal(0, 1.0, n)
    return pd.DataFrame({**x, "ltr": np.clip(np.round(latent - 0.5), 0, 10), "segment": segment})


def lmg(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """LMG by definition: each driver's R² increment averaged over every order of entry."""

    def r2(cols: tuple[int, ...]) -> float:
        if not cols:
            return 0.0
        design = np.column_stack([np.ones(len(y)), x[:, list(cols)]])
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ beta
        return 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())

    k = x.shape[1]
    out = np.zeros(k)
    orders = list(itertools.permutations(range(k)))
    for order in orders:
        for pos, j in enumerate(order):
            before = tuple(sorted(order[:pos]))
            out[j] += r2(tuple(sorted((*before, j)))) - r2(before)
    return out / len(orders)


@pytest.fixture(scope="module")
def comparison(data: pd.DataFrame) -> SegmentComparison:
    s = cx.driver_analysis(data, "ltr", DRIVERS, by="segment")
    return s.compare("b", "a", n_resamples=300, seed=5)


def test_scores_are_each_groups_lmg(data: pd.DataFrame, comparison: SegmentComparison) -> None:
    t = comparison.differences.loc["lmg"]
    for name, col in (("b", "segment_score"), ("a", "against_score")):
        rows = data[data["segment"] == name]
        expected = lmg(rows["ltr"].to_numpy(), rows[DRIVERS].to_numpy())
        assert t.loc[DRIVERS, col].to_numpy() == pytest.approx(expected, abs=1e-10)
    assert (t["difference"] == t["segment_score"] - t["against_score"]).all()
    assert comparison.n_segment == 250 and comparison.n_against == 250
    assert comparison.segment == "b" and comparison.against == "a"


def test_adjusted_p_values_are_holms(comparison: SegmentComparison) -> None:
    t = comparison.differences.loc["lmg"]
    expected = multipletests(t["p_value"].to_numpy(), method="holm")[1]
    assert t["p_adjusted"].to_numpy() == pytest.approx(expected, abs=1e-12)
    assert (t["significant"] == (t["p_adjusted"] <= 1 - comparison.confidence_level)).all()
    assert (t["ci_low"] <= t["ci_high"]).all()
    assert comparison.adjustment == "holm"


def test_the_built_in_difference_is_found(comparison: SegmentComparison) -> None:
    t = comparison.differences.loc["lmg"]
    # Ease matters in b, speed elsewhere: both differences are large and significant.
    assert t.loc["ease", "difference"] > 0.2 and t.loc["ease", "significant"]
    assert t.loc["speed", "difference"] < -0.2 and t.loc["speed", "significant"]
    assert t.loc["ease", "ci_low"] > 0 and t.loc["speed", "ci_high"] < 0
    text = str(comparison)
    assert "Importance in b (n = 250) minus a (n = 250)" in text and "holm" in text
    assert "<table>" in comparison._repr_html_()


def test_alike_segments_against_the_rest_and_reproducibility(data: pd.DataFrame) -> None:
    s = cx.driver_analysis(data, "ltr", DRIVERS, by="segment")
    c = s.compare("c", n_resamples=200, seed=1, adjustment="bh", measures=("lmg", "johnson"))
    assert c.against == "(rest)" and c.n_against == 500
    t = c.differences
    assert set(t.index.get_level_values("measure")) == {"lmg", "johnson"}
    bh = multipletests(t.loc["lmg", "p_value"].to_numpy(), method="fdr_bh")[1]
    assert t.loc["lmg", "p_adjusted"].to_numpy() == pytest.approx(bh, abs=1e-12)
    again = s.compare("c", n_resamples=200, seed=1, adjustment="bh", measures=("lmg", "johnson"))
    pd.testing.assert_frame_equal(again.differences, t)
    # a vs c: the same process, so the differences are small.
    same = s.compare("a", "c", n_resamples=200, seed=2).differences.loc["lmg"]
    assert (same["difference"].abs() < 0.1).all()
    assert not math.isnan(same["std_error"].iloc[0])
    assert set(c.to_polars().columns) >= {"measure", "driver", "p_adjusted"}
    assert c.to_dict()["segment"] == "c"


def test_errors_name_the_problem(data: pd.DataFrame) -> None:
    s = cx.driver_analysis(data, "ltr", DRIVERS, by="segment")
    with pytest.raises(KeyError):
        s.compare("nowhere", "a")
    with pytest.raises(CxMetricsError, match=r"itself|same"):
        s.compare("a", "a", n_resamples=50)
    restored = type(s).from_json(s.to_json())
    with pytest.raises(CxMetricsError, match="without its rows"):
        restored.compare("a", "b", n_resamples=50)
