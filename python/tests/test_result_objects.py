"""Results of driver analysis, its derived results, the NPS models and pillar summaries as objects.

Each result holds the Rust result (``_native``); these tests check that every figure equals what the
JSON path of the bindings gave before results crossed as objects (``data/driver_results_json_path.json``,
the ``to_dict()`` of the same calls written by the previous release of the bindings, where results
crossed as serde JSON text; the two matrices were written again when their performance moved to the
rows the analysis used), that results round-trip through pickle and JSON, and that a pickled
driver analysis does not carry its rows.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx

REFERENCE: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "driver_results_json_path.json").read_text()
)

# The same core code computes both sides: figures agree to the last bits (a relative 1e-12 allows for
# nothing more than a different order of summation).
RTOL = 1e-12


def _results() -> Iterator[tuple[str, Any]]:
    s = cx.datasets.sample_survey()
    kw: dict[str, Any] = {"weights": "weight", "missing": "indicator", "indicator_for": ["resolution"]}
    # The reference predates sandwich standard errors: model-based ones reproduce it.
    r = cx.driver_analysis(s, drivers=cx.PILLARS, covariance="classical", **kw)
    yield "driver_analysis", r
    yield "driver_analysis_pairwise", cx.pillar_driver_analysis(s, missing="pairwise")
    yield (
        "driver_analysis_groups",
        cx.pillar_driver_analysis(
            s,
            groups={
                "foundation": ["integrity", "resolution"],
                "distinguishing": ["personalisation", "empathy"],
            },
        ),
    )
    yield "bootstrap", r.bootstrap(n_resamples=50, seed=3)
    yield "matrix", r.matrix(scale=(1, 10), top_box=2)
    yield (
        "matrix_top_box",
        r.matrix(
            scale=(1, 10),
            top_box=2,
            performance="top_box",
            importance_cut="median",
            performance_cut=0.5,
            share=False,
        ),
    )
    # The what-if runs on the sample of its analysis; the reference was written from the complete rows,
    # which are the sample of the listwise analysis.
    yield (
        "what_if",
        cx.pillar_driver_analysis(s, weights="weight").what_if(
            {"time_and_effort": 1, "integrity": ("below", 5, 2)}, scale=(1, 10), n_resamples=50, seed=2
        ),
    )
    yield (
        "segments",
        cx.driver_analysis(s, drivers=cx.PILLARS, by="segment", weights="weight", covariance="classical"),
    )
    yield (
        "promoter_model",
        cx.promoter_drivers(s, drivers=cx.PILLARS, weights="weight", weight_kind="frequency"),
    )
    yield "detractor_model", cx.detractor_drivers(s, drivers=cx.PILLARS)
    yield "pillar_summary", cx.pillar_summary(s, by="segment", weights="weight")


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return dict(_results())


NAMES = list(REFERENCE)


# Fields renamed since the reference was written (the same figures under the names every result uses).
RENAMED = {"n_dropped": "n_omitted", "standard_error": "std_error"}


def _same(new: Any, old: Any, path: str) -> None:
    """``new`` equals ``old`` (floats to RTOL); a driver analysis may add its ``options``, analyses by
    segment their typed ``labels`` and ``by`` columns."""
    if path.startswith("matrix") and path.endswith(".uncertain_performance"):
        assert isinstance(new, bool), path  # now from the rows' performance intervals (was always False)
        return
    if isinstance(old, dict):
        assert isinstance(new, dict), path
        old = {RENAMED.get(k, k): v for k, v in old.items()}
        extra = set(new) - set(old)
        allowed = {"options"} | ({"labels", "by"} if path == "segments" else set())
        if path.startswith("matrix"):  # performance intervals, the spread test and the scale came later
            allowed |= {"performance_spread", "scale", "importance_interval", "performance_interval"}
        if path.startswith("matrix"):  # where the importance intervals came from, later still
            allowed |= {"importance_source"}
        if path.startswith("matrix"):  # the analysed rows the performance is computed on
            allowed |= {"performance_rows"}
        if path.startswith("bootstrap"):  # the share intervals came later
            allowed |= {"shares", "n_share_failed"}
        # What the standard errors are (added with the sandwich covariances).
        allowed |= {"covariance_type", "coefficient_covariance", "covariance_note"}
        allowed |= {"std_error_type", "weight_kind", "warnings"}
        assert extra <= allowed, f"{path}: new keys {extra}"
        assert set(old) <= set(new), f"{path}: missing keys {set(old) - set(new)}"
        for k in old:
            _same(new[k], old[k], f"{path}.{k}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), path
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _same(a, b, f"{path}[{i}]")
    elif isinstance(old, float) and not isinstance(new, bool):
        assert isinstance(new, int | float), path
        assert math.isclose(new, old, rel_tol=RTOL, abs_tol=1e-300), f"{path}: {new!r} != {old!r}"
    else:
        assert new == old, f"{path}: {new!r} != {old!r}"


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_equals_the_json_path(results: dict[str, Any], name: str) -> None:
    _same(results[name].to_dict(), REFERENCE[name], name)


def test_driver_analysis_reports_its_options(results: dict[str, Any]) -> None:
    options = results["driver_analysis"].to_dict()["options"]
    assert options["missing"] == "indicator" and options["indicator_for"] == ["resolution"]
    groups = results["driver_analysis_groups"].to_dict()["options"]["groups"]
    assert [g["name"] for g in groups] == ["foundation", "distinguishing"]


@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip(results: dict[str, Any], name: str) -> None:
    r = results[name]
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is type(r)
    assert back == r
    assert back.to_dict() == r.to_dict()
    assert str(back) == str(r) and back._repr_html_() == r._repr_html_()
    if hasattr(r, "to_pandas"):
        pd.testing.assert_frame_equal(back.to_pandas(), r.to_pandas())


@pytest.mark.parametrize("name", NAMES)
def test_json_round_trip(results: dict[str, Any], name: str) -> None:
    r = results[name]
    text = r.to_json()
    assert isinstance(text, str) and json.loads(text)
    back = type(r).from_json(text)
    assert back == r and back.to_dict() == r.to_dict()


def test_native_results_round_trip(results: dict[str, Any]) -> None:
    for name, r in results.items():
        native = r._native
        back = type(native).from_json(native.to_json())
        assert back.to_json() == native.to_json(), name
        _same(json.loads(json.dumps(back.to_dict())), json.loads(native.to_json()), name)


def test_tables_cross_as_numpy(results: dict[str, Any]) -> None:
    native = results["driver_analysis"]._native
    assert isinstance(native.vif, np.ndarray) and native.vif.dtype == np.float64
    assert all(isinstance(v, np.ndarray) for v in native.importance.values())
    table = native.coefficients
    assert table["term"][0] == "(Intercept)" and isinstance(table["estimate"], np.ndarray)
    scores = results["pillar_summary"]._native.scores
    assert isinstance(scores, np.ndarray) and scores.shape == (6, results["pillar_summary"].n_respondents)


def test_matrix_reuses_the_fit(results: dict[str, Any]) -> None:
    r = results["driver_analysis"]
    m = results["matrix"]
    lmg = r.importance["lmg_share"]
    assert m.drivers["importance"].to_dict() == pytest.approx(lmg.to_dict(), rel=0, abs=0)


def test_a_restored_result_asks_for_the_data(results: dict[str, Any]) -> None:
    survey = cx.datasets.sample_survey()
    r = results["driver_analysis"]
    back = cx.DriverAnalysis.from_json(r.to_json())
    for call in (
        lambda a: a.bootstrap(n_resamples=10, seed=1),
        lambda a: a.matrix(scale=(1, 10)),
        lambda a: a.what_if({"integrity": 1}, scale=(1, 10)),
    ):
        with pytest.raises(cx.exceptions.InvalidArgumentError, match=r"with_data\(data, weights=") as e:
            call(back)
        assert "restored from JSON or a pickle" in str(e.value)
    again = back.with_data(survey, weights="weight")
    assert again.matrix(scale=(1, 10), top_box=2) == results["matrix"]
    assert again.bootstrap(n_resamples=50, seed=3).to_dict() == results["bootstrap"].to_dict()
    shifts: dict[str, Any] = {"time_and_effort": 1, "integrity": ("below", 5, 2)}
    w = again.what_if(shifts, scale=(1, 10), n_resamples=50, seed=2)
    assert w == r.what_if(shifts, scale=(1, 10), n_resamples=50, seed=2)


def test_segments_keep_their_rows_until_pickled(results: dict[str, Any]) -> None:
    seg = results["segments"]
    name = next(iter(seg))
    assert seg[name]._native.has_rows
    assert seg[name].bootstrap(n_resamples=10, seed=1).n_resamples == 10
    back = pickle.loads(pickle.dumps(seg))
    assert not back[name]._native.has_rows


def test_pickled_driver_analysis_of_a_million_rows_is_small() -> None:
    rng = np.random.default_rng(5)
    n = 10**6
    x = rng.integers(1, 11, size=(n, 6)).astype(np.float64)
    y = np.clip(np.round(x @ np.array([0.3, 0.1, 0.2, 0.5, 0.1, 0.2]) / 1.4 + rng.normal(0, 1.5, n)), 0, 10)
    data = {**{p: x[:, i] for i, p in enumerate(cx.PILLARS)}, "ltr": y}
    r = cx.pillar_driver_analysis(data)
    size = len(pickle.dumps(r))
    # The input is 56 MB of float64; the result without its rows is a few kilobytes.
    assert size <= 1_000_000, size
    assert pickle.loads(pickle.dumps(r)) == r


def test_undefined_figures_round_trip() -> None:
    # Ten resamples leave BCa undefined (an infinite bias correction): stored as null, read as NaN.
    r = cx.pillar_driver_analysis(cx.datasets.sample_survey(), weights="weight")
    b = r.bootstrap(n_resamples=10, seed=1)
    back = cx.DriverBootstrap.from_json(b.to_json())
    assert back == b and back.to_dict() == b.to_dict()
    pd.testing.assert_frame_equal(back.to_pandas(), b.to_pandas())
    assert pickle.loads(pickle.dumps(b)).to_dict() == b.to_dict()


def test_pillar_summary_by_numbers_round_trips() -> None:
    s = cx.datasets.sample_survey()
    labels = np.arange(len(s)) % 3
    p = cx.pillar_summary(s, by=labels, weights="weight")
    back = cx.PillarSummary.from_json(p.to_json())
    assert back.to_dict() == p.to_dict() and str(back) == str(p)
    np.testing.assert_array_equal(back.scores.to_numpy(), p.scores.to_numpy())
