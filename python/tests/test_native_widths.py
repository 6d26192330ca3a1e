"""Driver, outcome and weight columns of any numeric width are read by the core as they are (no float64
copy in Python): every width gives the figures of float64 columns bit for bit, missing values of
nullable pandas, polars and Arrow columns included."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import cx_metrics as cx
from cx_metrics._table import Table

WIDTHS = [
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float32,
    np.float64,
]


def _survey(n: int = 400) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    x = rng.integers(1, 11, size=(n, 3))
    ltr = np.clip(np.rint(x @ np.array([0.4, 0.3, 0.2]) / 0.9 + rng.normal(0, 1.5, n)), 0, 10)
    weight = rng.integers(1, 4, size=n)
    return {"ltr": ltr, "a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "weight": weight}


DRIVERS = ["a", "b", "c"]


def _reference(data: dict[str, np.ndarray], **kw: Any) -> dict[str, Any]:
    floats = {k: np.asarray(v, dtype=np.float64) for k, v in data.items()}
    return cx.driver_analysis(floats, drivers=DRIVERS, **kw).to_dict()


@pytest.mark.parametrize("dtype", WIDTHS, ids=lambda t: np.dtype(t).name)
def test_every_width_gives_the_float64_figures(dtype: Any) -> None:
    data = _survey()
    typed = {k: np.asarray(v).astype(dtype) for k, v in data.items()}
    assert Table(typed).numeric_column("a").dtype == np.dtype(dtype)  # no float64 copy in Python
    for kw in ({}, {"weights": "weight"}):
        assert cx.driver_analysis(typed, drivers=DRIVERS, **kw).to_dict() == _reference(data, **kw)
    frame = pd.DataFrame(typed)
    got = cx.driver_analysis(frame, drivers=DRIVERS, weights="weight").matrix(scale=(1, 10))
    assert got == cx.driver_analysis(pd.DataFrame(data), drivers=DRIVERS, weights="weight").matrix(
        scale=(1, 10)
    )


def _with_missing(data: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    missing = np.zeros(len(data["a"]), dtype=bool)
    missing[::17] = True
    floats = {k: np.asarray(v, dtype=np.float64) for k, v in data.items()}
    floats["b"] = np.where(missing, np.nan, floats["b"])
    return floats, missing


def test_nullable_columns_are_missing_where_null() -> None:
    data = _survey()
    floats, missing = _with_missing(data)
    expected = cx.driver_analysis(floats, drivers=DRIVERS, weights="weight").to_dict()
    assert expected["n_omitted"] == int(missing.sum())

    pandas = pd.DataFrame({k: pd.array(v, dtype="Int16") for k, v in data.items()})
    pandas.loc[missing, "b"] = pd.NA
    assert isinstance(Table(pandas).numeric_column("b"), np.ma.MaskedArray)
    assert cx.driver_analysis(pandas, drivers=DRIVERS, weights="weight").to_dict() == expected

    b = pa.array(data["b"].astype(np.int16), mask=missing)
    arrow = pa.table({**{k: pa.array(v.astype(np.int16)) for k, v in data.items() if k != "b"}, "b": b})
    assert cx.driver_analysis(arrow, drivers=DRIVERS, weights="weight").to_dict() == expected
    chunked = pa.table({**{k: arrow[k] for k in data if k != "b"}, "b": pa.chunked_array([b[:150], b[150:]])})
    assert cx.driver_analysis(chunked, drivers=DRIVERS, weights="weight").to_dict() == expected

    polars = pl.DataFrame({k: pl.Series(v.astype(np.int16)) for k, v in data.items()}).with_columns(
        pl.when(pl.Series(missing)).then(None).otherwise(pl.col("b")).alias("b")
    )
    assert cx.driver_analysis(polars, drivers=DRIVERS, weights="weight").to_dict() == expected

    floats64 = pd.DataFrame({k: pd.array(v, dtype="Float64") for k, v in floats.items()})
    assert cx.driver_analysis(floats64, drivers=DRIVERS, weights="weight").to_dict() == expected


def test_models_and_segments_read_native_widths() -> None:
    data = _survey()
    typed = {k: np.asarray(v).astype(np.int16) for k, v in data.items()}
    typed["segment"] = np.where(np.arange(len(data["a"])) % 2 == 0, "x", "y")
    floats = {k: (np.asarray(v, dtype=np.float64) if k != "segment" else v) for k, v in typed.items()}
    assert (
        cx.promoter_drivers(typed, drivers=DRIVERS, weights="weight").to_dict()
        == cx.promoter_drivers(floats, drivers=DRIVERS, weights="weight").to_dict()
    )
    assert (
        cx.driver_analysis(typed, drivers=DRIVERS, by="segment").to_dict()
        == cx.driver_analysis(floats, drivers=DRIVERS, by="segment").to_dict()
    )


def test_a_missing_weight_is_still_an_error() -> None:
    data = _survey()
    frame = pd.DataFrame({k: pd.array(v, dtype="Int32") for k, v in data.items()})
    frame.loc[3, "weight"] = pd.NA
    with pytest.raises(cx.exceptions.InvalidWeightError, match="3"):
        cx.driver_analysis(frame, drivers=DRIVERS, weights="weight")


def test_bool_and_float16_columns() -> None:
    data = _survey()
    floats = {k: np.asarray(v, dtype=np.float64) for k, v in data.items()}
    floats["c"] = (floats["c"] > 5).astype(np.float64)
    typed = dict(floats)
    typed["c"] = floats["c"].astype(bool)
    typed["a"] = floats["a"].astype(np.float16)  # not a width the core reads: crosses as float64
    assert (
        cx.driver_analysis(typed, drivers=DRIVERS).to_dict()
        == cx.driver_analysis(floats, drivers=DRIVERS).to_dict()
    )


# Large designs (more than 2^18 cells) are read in blocks, converted to float64 block by block, never
# copied whole; the figures are those of float64 columns. Reference: the same data as float64 (the
# same arithmetic on the same numbers: equal), and statsmodels WLS on the complete rows (1e-9).
LARGE = 80_000


def _large(n: int = LARGE) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(23)
    common = rng.integers(-2, 3, size=n)
    x = np.clip(6 + common[:, None] + rng.integers(-3, 4, size=(n, 3)), 1, 10)
    ltr = np.clip(np.rint(x @ np.array([0.4, 0.3, 0.2]) / 0.9 + rng.normal(0, 1.5, n)), 0, 10)
    return {"ltr": ltr, "a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "weight": rng.integers(1, 4, size=n)}


def _close(got: dict[str, Any], want: dict[str, Any], rel: float) -> None:
    assert (got["n"], got["n_zero_weight"]) == (want["n"], want["n_zero_weight"])
    for key in ("r_squared", "adj_r_squared", "effective_n"):
        assert got[key] == pytest.approx(want[key], rel=rel)
    for g, w in zip(got["regression"]["coefficients"], want["regression"]["coefficients"], strict=True):
        assert g["estimate"] == pytest.approx(w["estimate"], rel=rel)
        assert g["std_error"] == pytest.approx(w["std_error"], rel=rel)


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.uint8, np.float32, np.float64], ids=lambda t: np.dtype(t).name
)
def test_large_designs_of_every_width_give_the_float64_figures(dtype: Any) -> None:
    data = _large()
    typed = {k: np.asarray(v).astype(dtype) for k, v in data.items() if k != "weight"}
    typed["weight"] = data["weight"].astype(np.float64)
    for kw in ({}, {"weights": "weight"}):
        got = cx.driver_analysis(typed, drivers=DRIVERS, **kw).to_dict()
        assert got["n_omitted"] == 0
        _close(got, _reference(data, **kw), 1e-12)


def test_large_masked_columns_are_missing_and_match_statsmodels() -> None:
    import statsmodels.api as sm

    data = _large()
    missing = np.zeros(LARGE, dtype=bool)
    missing[::13] = True
    missing[5::101] = True
    frame = pd.DataFrame(
        {k: pd.array(np.asarray(v).astype(np.int16), dtype="Int16") for k, v in data.items()}
    )
    frame.loc[missing, "b"] = pd.NA
    frame["flag"] = np.asarray(data["c"]) > 5  # a bool driver
    drivers = [*DRIVERS, "flag"]
    # Model-based standard errors, as statsmodels WLS(...).fit() below.
    got = cx.driver_analysis(frame, drivers=drivers, weights="weight", covariance="classical")
    assert got.n_omitted == int(missing.sum())
    # The same as dropping those rows first (1e-12: only the blocks the rows are folded in differ).
    kept = {k: np.asarray(v, dtype=np.float64)[~missing] for k, v in data.items()}
    kept["flag"] = (kept["c"] > 5).astype(np.float64)
    dropped = cx.driver_analysis(kept, drivers=drivers, weights="weight", covariance="classical")
    _close(got.to_dict(), dropped.to_dict(), 1e-12)
    # And statsmodels WLS on the complete rows.
    x = sm.add_constant(np.column_stack([kept[d] for d in drivers]))
    fit = sm.WLS(kept["ltr"], x, weights=kept["weight"]).fit()
    np.testing.assert_allclose(got.coefficients["estimate"].to_numpy(), fit.params, rtol=1e-9)
    np.testing.assert_allclose(got.coefficients["std_error"].to_numpy(), fit.bse, rtol=1e-9)


def test_large_design_errors_name_the_column() -> None:
    data = _large()
    typed = {k: np.asarray(v).astype(np.int16) for k, v in data.items()}
    typed["k"] = np.full(LARGE, 7, dtype=np.uint8)
    with pytest.raises(cx.exceptions.ColumnError, match=r'"k".*zero variance'):
        cx.driver_analysis(typed, drivers=["a", "k"])
    f = np.asarray(data["c"], dtype=np.float32)
    f[LARGE // 2] = np.inf
    with pytest.raises(cx.exceptions.ColumnError, match=f'"f".*row {LARGE // 2}'):
        cx.driver_analysis({**typed, "f": f}, drivers=["a", "f"])
    typed["a+b"] = typed["a"].astype(np.int32) + typed["b"]
    with pytest.raises(cx.exceptions.CollinearityError, match="a\\+b"):
        cx.driver_analysis(typed, drivers=["a", "b", "a+b"])
    with pytest.raises(cx.exceptions.TooFewRowsError):
        cx.driver_analysis({k: v[:2] for k, v in typed.items()}, drivers=["a"])
