"""Every figure of ``proportion_vectors.json`` through the Python API, at the Rust tests' tolerance.

Tolerance: relative 1e-12, or absolute 1e-12 where the reference value is 0 (as in the core's
``tests/proportion_vectors.rs``). Agreement proves the bindings pass numbers through unaltered.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx

METHODS = {
    "wilson": "wilson",
    "agresti_coull_clipped": "agresti_coull",
    "jeffreys": "jeffreys",
    "clopper_pearson": "clopper_pearson",
}


def close(got: float, want: float) -> bool:
    return abs(got) <= 1e-12 if want == 0.0 else abs((got - want) / want) <= 1e-12


def counts(key: str) -> tuple[float, float]:
    x, n = key.split("/")
    return float(x), float(n)


def rows(per_point: list[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.repeat(np.arange(1, len(per_point) + 1), per_point)


def test_single_proportion_intervals(proportion_vectors: dict[str, Any]) -> None:
    single = proportion_vectors["single"]
    assert len(single) == 4
    for key, methods in single.items():
        x, n = counts(key)
        for name, method in METHODS.items():
            lo, hi = methods[name]
            ci = cx.proportion_ci(x, n, 0.95, method)  # type: ignore[arg-type]
            assert close(ci.low, lo) and close(ci.high, hi), (key, name, ci, lo, hi)
            assert ci.confidence_level == 0.95 and ci.method == method
            assert ci.clipped == (method == "agresti_coull" and key in ("0/20", "1/29"))


def test_newcombe_hybrid_differences(proportion_vectors: dict[str, Any]) -> None:
    diffs = proportion_vectors["difference_newcombe"]
    assert len(diffs) == 2
    for key, (lo, hi) in diffs.items():
        a, b = key.split("-")
        (x1, n1), (x2, n2) = counts(a), counts(b)
        c = cx.compare_proportions(x1, n1, x2, n2)
        ci = c.ci(0.95)
        assert close(ci.low, lo) and close(ci.high, hi), (key, ci)
        assert close(c.difference, x1 / n1 - x2 / n2)


@pytest.mark.parametrize("container", [np.asarray, list, pd.Series])
def test_csat_five_point_example(proportion_vectors: dict[str, Any], container: Any) -> None:
    c = proportion_vectors["csat_5pt"]
    answers = container(rows(c["counts_1_to_5"]))
    r = cx.csat(answers, 5, satisfied="top_two_box")
    assert r.n == 100 and r.effective_n == 100.0
    assert close(r.share_satisfied, c["top2"])
    ci = r.ci(0.95, "wilson")
    assert close(ci.low, c["top2_wilson"][0]) and close(ci.high, c["top2_wilson"][1])
    assert close(r.mean, c["mean"]) and close(r.sd, c["sd"])
    mci = r.mean_ci(0.95)
    assert close(mci.low, c["mean_t_ci"][0]) and close(mci.high, c["mean_t_ci"][1])
    assert not mci.clipped
    assert close(r.share_bottom, c["bottom2"])
    assert close(r.net, c["net"])
    assert close(r.mean_0_100, c["rescaled_0_100"])
    m100 = r.mean_0_100_ci(0.95)
    to_100 = [(b - 1) / 4 * 100 for b in c["mean_t_ci"]]
    assert close(m100.low, to_100[0]) and close(m100.high, to_100[1])
    r4 = cx.csat(answers, 5, satisfied=4)
    assert (r4.share_satisfied, r4.share_bottom) == (r.share_satisfied, r.share_bottom)


def test_ces2_seven_point_example(proportion_vectors: dict[str, Any]) -> None:
    c = proportion_vectors["ces2_7pt"]
    r = cx.ces(rows(c["counts_1_to_7"]).astype(np.uint8), version=2)
    assert r.n == 100
    assert close(r.mean, c["mean"])
    assert close(r.share_agree, c["agree_5_7"])
    assert close(r.share_disagree, c["disagree_1_3"])
    assert close(r.net, c["net"])
    assert close(r.share_neutral, 0.1)
