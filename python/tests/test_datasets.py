"""Tests of the bundled sample survey: reproducibility, layout, ranges and the documented model.

The statistical checks use the bounds stated in ``cx_metrics/data/README.md``; every figure is
computed here with NumPy from the CSV (parsed with the standard library), not taken from the loader.
"""

from __future__ import annotations

import csv
import doctest
import importlib.util
import io
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from cx_metrics import datasets

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "scripts" / "make_sample_survey.py"
BUNDLED = REPO / "python" / "cx_metrics" / "data" / "sample_survey.csv"
PILLARS = datasets.SAMPLE_SURVEY_PILLARS
RANGES = {"ltr": (0, 10), "csat": (1, 5), "ces": (1, 7), **{p: (1, 10) for p in PILLARS}}

Columns = dict[str, NDArray[np.float64]]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_survey", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def raw() -> bytes:
    return BUNDLED.read_bytes()


@pytest.fixture(scope="module")
def rows(raw: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


@pytest.fixture(scope="module")
def ratings(rows: list[dict[str, str]]) -> Columns:
    """Rating columns and the weight as float arrays, NaN for a blank."""
    out: Columns = {}
    for name in (*datasets.SAMPLE_SURVEY_RATINGS, "weight"):
        out[name] = np.array([float(r[name]) if r[name] else np.nan for r in rows])
    return out


@pytest.fixture(scope="module")
def labels(rows: list[dict[str, str]]) -> dict[str, NDArray[np.str_]]:
    return {k: np.array([r[k] for r in rows]) for k in ("wave", "segment", "channel")}


def _nps(ltr: NDArray[np.float64], weight: NDArray[np.float64] | None = None) -> float:
    answered = ~np.isnan(ltr)
    x = ltr[answered]
    w = np.ones_like(x) if weight is None else weight[answered]
    return float(100.0 * (w[x >= 9].sum() - w[x <= 6].sum()) / w.sum())


def _corr(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    both = ~np.isnan(a) & ~np.isnan(b)
    return float(np.corrcoef(a[both], b[both])[0, 1])


# --- reproducibility and metadata -------------------------------------------------------------


def test_csv_is_reproducible_from_seed(generator: ModuleType, raw: bytes, tmp_path: Path) -> None:
    out = tmp_path / "survey.csv"
    seed, n = str(datasets.SAMPLE_SURVEY_SEED), str(datasets.SAMPLE_SURVEY_N)
    generator.main(["--seed", seed, "--n", n, "--out", str(out)])
    assert out.read_bytes() == raw


def test_other_seed_gives_other_data(generator: ModuleType, raw: bytes) -> None:
    text = generator.to_csv(generator.generate(datasets.SAMPLE_SURVEY_SEED + 1, 2000))
    assert text.encode() != raw


def test_packaged_file_is_the_repository_file(raw: bytes) -> None:
    assert datasets._sample_survey_bytes() == raw


def test_metadata_matches_generator(generator: ModuleType) -> None:
    assert generator.DEFAULT_SEED == datasets.SAMPLE_SURVEY_SEED
    assert generator.DEFAULT_N == datasets.SAMPLE_SURVEY_N
    assert generator.COLUMNS == datasets.SAMPLE_SURVEY_COLUMNS
    assert generator.PILLARS == datasets.SAMPLE_SURVEY_PILLARS
    assert generator.WAVES == datasets.SAMPLE_SURVEY_WAVES
    assert generator.SEGMENTS == datasets.SAMPLE_SURVEY_SEGMENTS
    assert generator.CHANNELS == datasets.SAMPLE_SURVEY_CHANNELS
    assert dict(datasets.SAMPLE_SURVEY_TRUE_WEIGHTS) == generator.TRUE_WEIGHTS
    assert list(datasets.describe()) == list(datasets.SAMPLE_SURVEY_COLUMNS)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(datasets, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5
    assert result.failed == 0


def test_docs_page_examples_run() -> None:
    page = REPO / "docs" / "datasets.md"
    result = doctest.testfile(str(page), module_relative=False)
    assert result.attempted >= 5
    assert result.failed == 0


# --- layout -----------------------------------------------------------------------------------


def test_layout(raw: bytes, rows: list[dict[str, str]]) -> None:
    text = raw.decode("utf-8")
    assert "\r" not in text and text.endswith("\n")
    assert text.splitlines()[0] == ",".join(datasets.SAMPLE_SURVEY_COLUMNS)
    assert len(rows) == datasets.SAMPLE_SURVEY_N
    assert [int(r["respondent_id"]) for r in rows] == list(range(1, len(rows) + 1))
    for r in rows:
        for name in datasets.SAMPLE_SURVEY_RATINGS:  # integers as integers, blanks empty
            assert r[name] == "" or r[name].isdigit()


def test_categories(labels: dict[str, NDArray[np.str_]]) -> None:
    assert set(labels["wave"]) == set(datasets.SAMPLE_SURVEY_WAVES)
    assert set(labels["segment"]) == set(datasets.SAMPLE_SURVEY_SEGMENTS)
    assert set(labels["channel"]) == set(datasets.SAMPLE_SURVEY_CHANNELS)
    for name in ("wave", "segment", "channel"):
        _, counts = np.unique(labels[name], return_counts=True)
        assert counts.min() >= 0.1 * datasets.SAMPLE_SURVEY_N


# --- ranges, weights, missing values ----------------------------------------------------------


def test_rating_ranges(ratings: Columns) -> None:
    for name, (low, high) in RANGES.items():
        x = ratings[name][~np.isnan(ratings[name])]
        assert x.min() == low and x.max() == high, name  # every scale is used end to end


def test_weights(ratings: Columns) -> None:
    w = ratings["weight"]
    assert not np.isnan(w).any()
    assert abs(w.mean() - 1.0) < 1e-3  # stored with 4 decimals
    assert w.min() >= 0.3 - 1e-4
    assert w.max() <= 3.0 + 1e-4
    kish = w.sum() ** 2 / (w**2).sum()
    assert 0.7 * w.size < kish < 0.95 * w.size  # a realistic design effect of 1.05-1.4


def test_item_nonresponse_rates(ratings: Columns) -> None:
    for name in datasets.SAMPLE_SURVEY_RATINGS:
        rate = float(np.isnan(ratings[name]).mean())
        if name == "resolution":
            assert 0.35 <= rate <= 0.48
        else:
            assert 0.005 <= rate <= 0.07, (name, rate)


def test_resolution_blank_when_no_problem(generator: ModuleType, ratings: Columns) -> None:
    hidden = generator.generate(datasets.SAMPLE_SURVEY_SEED, datasets.SAMPLE_SURVEY_N)
    no_problem = ~hidden["had_problem"]
    blank = np.isnan(ratings["resolution"])
    assert 0.35 <= no_problem.mean() <= 0.45
    assert blank[no_problem].all()  # structurally missing, always
    assert blank[~no_problem].mean() <= 0.06  # item non-response only
    assert (blank & no_problem).sum() / blank.sum() >= 0.9
    # The hidden columns agree with the file.
    np.testing.assert_array_equal(hidden["resolution"], ratings["resolution"])
    np.testing.assert_array_equal(hidden["ltr"], ratings["ltr"])


# --- the model --------------------------------------------------------------------------------


def test_pillar_correlations(ratings: Columns) -> None:
    for i, a in enumerate(PILLARS):
        for b in PILLARS[i + 1 :]:
            assert 0.4 <= _corr(ratings[a], ratings[b]) <= 0.7, (a, b)


def test_outcome_correlations(ratings: Columns) -> None:
    for p in PILLARS:
        assert 0.45 <= _corr(ratings["ltr"], ratings[p]) <= 0.75, p
    for other in ("csat", "ces"):
        assert 0.4 <= _corr(ratings["ltr"], ratings[other]) <= 0.75, other
    # CES follows Time and Effort more than any other pillar.
    by_pillar = {p: _corr(ratings["ces"], ratings[p]) for p in PILLARS}
    assert max(by_pillar, key=by_pillar.__getitem__) == "time_and_effort"


def _ols(
    y: NDArray[np.float64], x: NDArray[np.float64]
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]], float]:
    """Slopes, their classical standard errors and R^2 of an OLS fit with intercept."""
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    sigma2 = resid @ resid / (len(y) - design.shape[1])
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
    r2 = 1.0 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))
    return coef[1:], se[1:], float(r2)


def test_latent_ltr_recovers_true_weights(generator: ModuleType, ratings: Columns) -> None:
    # ltr_latent = intercept + sum(weight * pillar) + N(0, 1.5^2): OLS on the complete cases is
    # unbiased, so each estimate lies within 4 standard errors of the truth.
    hidden = generator.generate(datasets.SAMPLE_SURVEY_SEED, datasets.SAMPLE_SURVEY_N)
    x = np.column_stack([ratings[p] for p in PILLARS])
    complete = ~np.isnan(x).any(axis=1)
    coef, se, _ = _ols(hidden["ltr_latent"][complete], x[complete])
    truth = np.array([datasets.SAMPLE_SURVEY_TRUE_WEIGHTS[p] for p in PILLARS])
    assert np.all(np.abs(coef - truth) <= 4 * se), (coef, se)


def test_observed_ltr_driver_pattern(ratings: Columns) -> None:
    x = np.column_stack([ratings[p] for p in PILLARS])
    y = ratings["ltr"]
    complete = ~np.isnan(x).any(axis=1) & ~np.isnan(y)
    assert complete.sum() >= 800
    coef, _, r2 = _ols(y[complete], x[complete])
    assert 0.5 <= r2 <= 0.75  # "pillars explain about two thirds"
    ranked = [PILLARS[i] for i in np.argsort(-coef)]
    assert set(ranked[:2]) == {"time_and_effort", "resolution"}
    assert ranked[-1] == "personalisation"


def test_nps_overall_and_by_segment(ratings: Columns, labels: dict[str, NDArray[np.str_]]) -> None:
    ltr = ratings["ltr"]
    assert 10 <= _nps(ltr) <= 35
    assert 10 <= _nps(ltr, ratings["weight"]) <= 35
    by_segment = {s: _nps(ltr[labels["segment"] == s]) for s in datasets.SAMPLE_SURVEY_SEGMENTS}
    assert all(0 <= v <= 45 for v in by_segment.values()), by_segment
    assert max(by_segment.values()) - min(by_segment.values()) >= 10, by_segment
    by_wave = [_nps(ltr[labels["wave"] == w]) for w in datasets.SAMPLE_SURVEY_WAVES]
    assert 0 < by_wave[-1] - by_wave[0] <= 20  # a modest upward trend


# --- loaders ----------------------------------------------------------------------------------


def test_pandas_loader(ratings: Columns) -> None:
    pd = pytest.importorskip("pandas")
    frame = datasets.sample_survey()
    assert list(frame.columns) == list(datasets.SAMPLE_SURVEY_COLUMNS)
    assert frame.shape == (datasets.SAMPLE_SURVEY_N, len(datasets.SAMPLE_SURVEY_COLUMNS))
    assert frame["respondent_id"].dtype == np.int64
    assert frame["weight"].dtype == np.float64
    for name in datasets.SAMPLE_SURVEY_RATINGS:
        assert frame[name].dtype == pd.Int64Dtype(), name
        values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        np.testing.assert_array_equal(values, ratings[name])
    for name, cats in (
        ("wave", datasets.SAMPLE_SURVEY_WAVES),
        ("segment", datasets.SAMPLE_SURVEY_SEGMENTS),
        ("channel", datasets.SAMPLE_SURVEY_CHANNELS),
    ):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
        assert tuple(frame[name].cat.categories) == cats
    assert frame["wave"].cat.ordered


def test_polars_loader(ratings: Columns) -> None:
    pl = pytest.importorskip("polars")
    frame = datasets.sample_survey("polars")
    assert frame.columns == list(datasets.SAMPLE_SURVEY_COLUMNS)
    assert frame.height == datasets.SAMPLE_SURVEY_N
    assert frame.schema["respondent_id"] == pl.Int64
    assert frame.schema["weight"] == pl.Float64
    for name in datasets.SAMPLE_SURVEY_RATINGS:
        assert frame.schema[name] == pl.Int64, name
        values = frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
        np.testing.assert_array_equal(values, ratings[name])
    assert frame.schema["segment"] == pl.Enum(list(datasets.SAMPLE_SURVEY_SEGMENTS))
    np.testing.assert_array_equal(frame["weight"].to_numpy(), ratings["weight"])


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="backend"):
        datasets.sample_survey("arrow")  # type: ignore[call-overload]
