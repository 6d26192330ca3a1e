"""The state contract from Python: every state merges, sums, pickles and round-trips through the binary
format and the enveloped JSON; the golden files of every format version are read; rejected states and
merge overflows raise their own exception classes; the regression moments agree with numpy."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import (
    ColumnError,
    IncompatibleError,
    InvalidStateError,
    MergeOverflowError,
    UndefinedError,
)

GOLDEN = Path(__file__).resolve().parents[2] / "crates" / "cx-metrics" / "tests" / "golden"


def states() -> list[Any]:
    """One state of each public kind with weights, folded from fixed data."""
    nps = cx.NpsTally()
    nps.fold([10, 9, 9, 8, 7, 6, 3, 0, None, 10], weights=[1.25, 0.75, 1, 2, 0.5, 1.5, 1, 0.25, 1, 3])
    csat = cx.CsatTally(5)
    csat.fold([5, 4, 3, 2, 1, 5, None], weights=[1, 2, 0.5, 0.5, 1.5, 0.75, 1])
    ces2 = cx.CesTally(version=2)
    ces2.fold([7, 6, 5, 4, 3, 1, 7, 5])
    scale = cx.ScaleTally(1, 5)
    scale.fold([5, 4, 4, 3, 1, None], weights=[1.5, 0.5, 2, 1, 0.25, 1])
    moments = cx.RegressionMoments("y", ["x1", "x2"])
    moments.fold(
        {"x1": [1, 2, 4, 3, 5], "x2": [3, 1, 2, 2, 4], "y": [6, 5, 9, 7, 10]},
        weights=[1.0, 2.0, 1.0, 0.5, 0.0],
    )
    paired = cx.PairedNpsTally()
    paired.fold([10, 9, 3, 7, None, 8], [9, 6, 3, 10, 5, 2], weights=[1.0, 0.5, 2.0, 1.5, 1.0, 0.75])
    return [nps, csat, ces2, scale, moments, paired]


@pytest.mark.parametrize("state", states(), ids=lambda s: type(s).__name__)
def test_every_state_round_trips_through_bytes_json_and_pickle(state: Any) -> None:
    data = state.to_bytes()
    assert data[:4] == b"CXST"
    assert int.from_bytes(data[12:20], "little") == len(data) - 20
    envelope = json.loads(state.to_json())
    # The rating tallies write format version 2 (with the weight exponent), the moments version 1.
    assert envelope["version"] == (1 if isinstance(state, cx.RegressionMoments) else 2)
    assert "state" in envelope
    kind = type(state)
    restore = (lambda b: kind.from_bytes(b, version=2)) if kind is cx.CesTally else kind.from_bytes
    assert restore(data) == state
    assert pickle.loads(pickle.dumps(state)) == state
    if kind is cx.CesTally:
        assert kind.from_json(state.to_json(), version=2) == state
    else:
        assert kind.from_json(state.to_json()) == state
    # Python's sum starts from 0.
    assert sum([state, state]) == state + state
    assert sum([state]) == state
    assert (sum([state, state, state])).n == 3 * state.n


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (cx.NpsTally, "nps_tally"),
        (cx.CsatTally, "csat_tally"),
        (cx.ScaleTally, "scale_tally"),
        (cx.RegressionMoments, "moments"),
        (cx.PairedNpsTally, "paired_nps_tally"),
    ],
)
def test_golden_files_of_every_version_are_read(kind: Any, name: str) -> None:
    expected = next(s for s in states() if type(s) is kind)
    assert kind.from_bytes((GOLDEN / f"{name}.v1.bin").read_bytes()) == expected
    assert kind.from_json((GOLDEN / f"{name}.v1.json").read_text()) == expected
    # The bare JSON that earlier releases wrote.
    assert kind.from_json((GOLDEN / f"{name}.v0.json").read_text()) == expected


class _OldPickle:
    """Pickles as an earlier release's NpsTally did: from_bytes of the bare JSON."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (cx.NpsTally.from_bytes, (self.data,))


def test_pickles_of_earlier_releases_are_read() -> None:
    # Earlier releases pickled (and to_bytes wrote) the bare serde JSON as bytes.
    old_bytes = (GOLDEN / "nps_tally.v0.json").read_bytes()
    expected = states()[0]
    assert cx.NpsTally.from_bytes(old_bytes) == expected
    assert pickle.loads(pickle.dumps(_OldPickle(old_bytes))) == expected


def test_ces_golden_files_are_read() -> None:
    expected = next(s for s in states() if type(s) is cx.CesTally)
    assert cx.CesTally.from_bytes((GOLDEN / "ces2_tally.v1.bin").read_bytes()) == expected
    assert cx.CesTally.from_json((GOLDEN / "ces2_tally.v0.json").read_text()) == expected
    with pytest.raises(InvalidStateError, match="the bytes hold a ces2_tally state"):
        cx.CesTally.from_bytes((GOLDEN / "ces2_tally.v1.bin").read_bytes(), version=1)


def test_sum_of_partitions_equals_one_pass() -> None:
    survey = cx.datasets.sample_survey()
    parts = np.array_split(np.arange(len(survey)), 7)
    tallies = []
    for idx in parts:
        t = cx.NpsTally()
        t.fold(survey["ltr"].iloc[idx], weights=survey["weight"].iloc[idx])
        tallies.append(t)
    whole = cx.NpsTally()
    whole.fold(survey["ltr"], weights=survey["weight"])
    total = sum(tallies)
    assert total.n == whole.n and total.n_omitted == whole.n_omitted
    assert total.result().score == pytest.approx(whole.result().score, rel=1e-13)
    # Counts against numpy: promoters are the 9s and 10s.
    ltr = survey["ltr"].to_numpy()
    assert total.result().n_promoters == int(np.count_nonzero(ltr >= 9))
    with pytest.raises(TypeError):
        sum(tallies, 1)  # type: ignore[arg-type]
    with pytest.raises(IncompatibleError, match="merge tallies of the same kind"):
        total + cx.CsatTally(5)  # type: ignore[operator]


def test_contradictory_states_are_rejected_with_the_reason() -> None:
    t = states()[0]
    broken = json.loads(t.to_json())
    # Weight on point 10 that its 2 rows cannot carry: an effective n above n.
    broken["state"]["weight"][10] = 50.0
    with pytest.raises(InvalidStateError, match=r"point 10 \(2 rows\).*effective n above n"):
        cx.NpsTally.from_json(json.dumps(broken))
    # A promoter share without promoter rows.
    broken = json.loads(t.to_json())
    broken["state"]["rows"][9] = 0
    with pytest.raises(InvalidStateError, match="without any row"):
        cx.NpsTally.from_json(json.dumps(broken))
    data = t.to_bytes()
    for cut in (0, 3, 19, 20, len(data) - 1):
        with pytest.raises(InvalidStateError):
            cx.NpsTally.from_bytes(data[:cut])
    with pytest.raises(InvalidStateError, match="trailing bytes"):
        cx.NpsTally.from_bytes(data + b"\0")
    with pytest.raises(InvalidStateError, match="hold a csat_tally state"):
        cx.NpsTally.from_bytes(cx.CsatTally(5).to_bytes())
    with pytest.raises(InvalidStateError, match="format version 9"):
        cx.NpsTally.from_bytes(data[:6] + (9).to_bytes(2, "little") + data[8:])
    assert isinstance(InvalidStateError("x"), ValueError)


def test_merge_overflow_raises_and_changes_nothing() -> None:
    t = cx.NpsTally()
    t.fold([9])
    for _ in range(63):
        t = t + t
    assert t.n == 2**63
    before = t.copy()
    with pytest.raises(MergeOverflowError, match="would overflow"):
        t.merge(t.copy())
    assert t == before and t.n == 2**63
    assert isinstance(MergeOverflowError("x"), ValueError)


def weighted_cov(columns: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.cov(columns, aweights=w)


def test_regression_moments_agree_with_numpy_and_merge_across_frame_types() -> None:
    survey = cx.datasets.sample_survey()
    drivers = list(cx.PILLARS)
    complete = survey.dropna(subset=[*drivers, "ltr", "weight"]).reset_index(drop=True)
    halves = [complete.iloc[: len(complete) // 2], complete.iloc[len(complete) // 2 :]]
    a = cx.RegressionMoments("ltr", drivers)
    a.fold(halves[0], weights="weight")
    b = cx.RegressionMoments("ltr", drivers)
    b.fold(pl.from_pandas(halves[1]), weights=halves[1]["weight"].to_numpy())
    total = pickle.loads(pickle.dumps(sum([a, b])))
    assert total.names == [*drivers, "ltr"] and total.outcome == "ltr" and total.drivers == drivers
    assert total.n == len(complete)
    x = complete[[*drivers, "ltr"]].to_numpy(dtype=np.float64).T
    w = complete["weight"].to_numpy()
    # numpy's weighted mean and aweights covariance (the same unbiased divisor): 1e-12 relative.
    np.testing.assert_allclose(total.means, np.average(x, axis=1, weights=w), rtol=1e-12)
    np.testing.assert_allclose(total.covariance, weighted_cov(x, w), rtol=1e-12, atol=1e-12)
    assert total.effective_n == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-12)
    assert total.sum_weights == pytest.approx(w.sum(), rel=1e-13)
    one = cx.RegressionMoments("ltr", drivers)
    one.fold(complete, weights="weight")
    np.testing.assert_allclose(one.covariance, total.covariance, rtol=1e-12, atol=1e-13)
    assert cx.RegressionMoments.from_json(total.to_json()) == total
    assert cx.RegressionMoments.from_bytes(total.to_bytes()) == total


def test_regression_moments_errors() -> None:
    m = cx.RegressionMoments("ltr", ["empathy"])
    with pytest.raises(UndefinedError):
        _ = m.covariance
    with pytest.raises(ColumnError, match="column 'ltr' not found"):
        m.fold(pd.DataFrame({"empathy": [1.0]}))
    with pytest.raises(cx.CxMetricsError, match="not finite"):
        m.fold({"ltr": [1.0, np.nan], "empathy": [2.0, 3.0]})
    assert m.n == 0
    with pytest.raises(IncompatibleError):
        m.merge(cx.RegressionMoments("ltr", ["integrity"]))
    with pytest.raises(cx.CxMetricsError, match="appears twice"):
        cx.RegressionMoments("ltr", ["ltr"])
    with pytest.raises(cx.CxMetricsError, match="list of column names"):
        cx.RegressionMoments("ltr", "empathy")
    broken = json.loads(cx.RegressionMoments.from_json((GOLDEN / "moments.v1.json").read_text()).to_json())
    broken["state"]["comoment"][0] = -5.0
    with pytest.raises(InvalidStateError, match="negative"):
        cx.RegressionMoments.from_json(json.dumps(broken))


def test_paired_tally_agrees_with_numpy_and_the_comparison_from_rows() -> None:
    survey = cx.datasets.sample_survey()
    q = survey[survey["wave"] == "2026-Q4"].reset_index(drop=True)
    # Two ratings of the same respondents: ltr, and ltr shifted by the CES answer (a stand-in second wave).
    a = q["ltr"].to_numpy(dtype=float)
    b = np.clip(a + np.where(q["ces"].to_numpy() >= 5, 1.0, -2.0), 0, 10)
    parts = [cx.PairedNpsTally() for _ in range(3)]
    for part, idx in zip(parts, np.array_split(np.arange(len(q)), 3), strict=True):
        part.fold(a[idx], b[idx])
    total = pickle.loads(pickle.dumps(sum(parts)))
    keep = ~(np.isnan(a) | np.isnan(b))
    score = lambda x: np.where(x >= 9, 1.0, np.where(x <= 6, -1.0, 0.0))  # noqa: E731
    d = score(a[keep]) - score(b[keep])
    r = total.result()
    assert total.n == int(keep.sum()) and total.n_omitted == int((~keep).sum())
    # The paired difference and its SE by hand with numpy: mean of d, sqrt(var(d) / n).
    assert r.difference == pytest.approx(d.mean(), rel=1e-12)
    assert r.std_error == pytest.approx(np.sqrt(d.var() / d.size), rel=1e-12)
    rows = cx.compare_nps(a, b, paired=True)
    assert (r.difference, r.std_error, r.p_value) == pytest.approx(
        (rows.difference, rows.std_error, rows.p_value)
    )
    assert r.ci(0.9) == rows.ci(0.9)


def test_regression_moments_finish_into_the_driver_analysis_of_the_rows() -> None:
    """Moments folded per partition and merged give the driver analysis of the same complete rows
    (coefficients, standard errors, R² and LMG to 1e-9 relative: co-moments instead of the rows'
    refined QR), without rows kept."""
    survey = cx.datasets.sample_survey()
    drivers = list(cx.PILLARS)
    complete = survey.dropna(subset=["ltr", *drivers, "weight"]).reset_index(drop=True)
    parts = [complete.iloc[: len(complete) // 3], complete.iloc[len(complete) // 3 :]]
    states = []
    for part in parts:
        m = cx.RegressionMoments("ltr", drivers)
        m.fold(part, weights="weight")
        states.append(pickle.loads(pickle.dumps(m)))
    merged = sum(states)
    got = merged.driver_analysis(confidence_level=0.9)
    want = cx.driver_analysis(
        complete,
        outcome="ltr",
        drivers=drivers,
        weights="weight",
        confidence_level=0.9,
        covariance="classical",  # what the moments can give: no per-row residuals for a sandwich
    )
    assert got.n == want.n == len(complete)
    np.testing.assert_allclose(got.r_squared, want.r_squared, rtol=1e-9)
    a, b = got.coefficients, want.coefficients
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a["std_error"], b["std_error"], rtol=1e-9)
    np.testing.assert_allclose(got.importance["lmg"], want.importance["lmg"], rtol=1e-9)
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="with_data"):
        got.what_if({"empathy": 1}, scale=(1, 10))
