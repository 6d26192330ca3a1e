"""Arrow in, without copies: objects exposing the Arrow PyCapsule interface (``__arrow_c_stream__``,
``__arrow_c_array__``) folded chunk by chunk into the rating tallies.

Every figure is checked against the same values folded from a numpy array (counts exactly, weighted
figures to 1e-12) and against an independent numpy computation of the NPS written here.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import nanoarrow as na
import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pytest

import cx_metrics as cx
from cx_metrics import _native
from cx_metrics.exceptions import (
    ColumnError,
    InvalidArgumentError,
    InvalidWeightError,
    LengthMismatchError,
    MissingValueError,
    OutOfRangeError,
)

TOL = 1e-12

INT_TYPES = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()]
FLOAT_TYPES = [pa.float16(), pa.float32(), pa.float64()]


class StreamOnly:
    """An object of no known library that exposes only ``__arrow_c_stream__`` of ``inner``: what a
    library cx_metrics does not know (or a user's own class) hands over."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._inner.__arrow_c_stream__(requested_schema)


class ArrayOnly:
    """Exposes only ``__arrow_c_array__`` of ``inner`` (one array, no stream)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __arrow_c_array__(self, requested_schema: object = None) -> object:
        return self._inner.__arrow_c_array__(requested_schema)


def ArrowOnly(inner: Any) -> StreamOnly | ArrayOnly:  # noqa: N802  # reads as a wrapper class
    """``inner`` behind the Arrow PyCapsule interface only: its stream if it has one, else its array."""
    return StreamOnly(inner) if hasattr(inner, "__arrow_c_stream__") else ArrayOnly(inner)


def numpy_nps(values: npt.NDArray[Any], weights: npt.NDArray[np.float64] | None = None) -> dict[str, float]:
    """The NPS written out in numpy: shares of promoters (9-10) minus detractors (0-6), weighted."""
    v = np.asarray(values, dtype=np.float64)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = ~np.isnan(v)
    v, w = v[keep], w[keep]
    total = w.sum()
    return {
        "n": float(keep.sum()),
        "n_omitted": float((~keep).sum()),
        "score": float((w[v >= 9].sum() - w[v <= 6].sum()) / total),
        "effective_n": float(total**2 / (w**2).sum()),
    }


def assert_same_nps(got: Any, want: Any) -> None:
    """Counts exactly, weighted figures to 1e-12."""
    assert (got.n, got.n_omitted) == (want.n, want.n_omitted)
    assert (got.n_promoters, got.n_passives, got.n_detractors) == (
        want.n_promoters,
        want.n_passives,
        want.n_detractors,
    )
    for field in ("score", "promoters", "passives", "detractors", "std_error", "effective_n", "sum_weights"):
        assert getattr(got, field) == pytest.approx(getattr(want, field), rel=TOL, abs=TOL), field
    assert np.allclose(got.distribution, want.distribution, rtol=TOL, atol=TOL)


def assert_matches_numpy(
    got: Any, values: npt.NDArray[Any], weights: npt.NDArray[np.float64] | None = None
) -> None:
    ref = numpy_nps(values, weights)
    assert (got.n, got.n_omitted) == (ref["n"], ref["n_omitted"])
    assert got.score == pytest.approx(ref["score"], rel=TOL, abs=TOL)
    assert got.effective_n == pytest.approx(ref["effective_n"], rel=TOL, abs=TOL)


@pytest.fixture(scope="module")
def ratings() -> npt.NDArray[np.float64]:
    """2 000 ratings 0-10 with 5% missing (NaN), fixed seed."""
    rng = np.random.default_rng(20261207)
    v = rng.integers(0, 11, 2000).astype(np.float64)
    v[rng.random(2000) < 0.05] = np.nan
    return v


@pytest.fixture(scope="module")
def weights() -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(7)
    return rng.gamma(2.0, 0.5, 2000)


def chunked(values: npt.NDArray[np.float64], typ: pa.DataType, cuts: list[int]) -> pa.ChunkedArray:
    """``values`` as a chunked array of ``typ`` cut at ``cuts``, NaN as Arrow nulls."""
    mask = np.isnan(values)
    filled = np.where(mask, 0, values)
    pieces = np.split(np.arange(len(values)), cuts)
    return pa.chunked_array(
        [pa.array(filled[p], mask=mask[p]).cast(typ) if len(p) else pa.array([], typ) for p in pieces],
        type=typ,
    )


# ----- arrays and chunked arrays, every width --------------------------------------------------------


@pytest.mark.parametrize("typ", INT_TYPES + FLOAT_TYPES, ids=str)
def test_chunked_array_every_width_with_nulls(typ: pa.DataType, ratings: npt.NDArray[np.float64]) -> None:
    arr = chunked(ratings, typ, [1, 400, 401, 1500])  # five chunks, one of length 0
    assert arr.num_chunks == 5 and arr.null_count == int(np.isnan(ratings).sum())
    got = cx.nps(ArrowOnly(arr))
    assert_same_nps(got, cx.nps(ratings))
    assert_matches_numpy(got, ratings)


@pytest.mark.parametrize("typ", INT_TYPES + FLOAT_TYPES, ids=str)
def test_single_array_capsule_every_width_weighted(
    typ: pa.DataType, ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> None:
    arr = chunked(ratings, typ, []).chunk(0)
    got = cx.nps(ArrayOnly(arr), weights=weights)
    assert_same_nps(got, cx.nps(ratings, weights=weights))
    assert_matches_numpy(got, ratings, weights)


def test_pyarrow_objects_direct_to_native(
    ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> None:
    """The native fold takes pyarrow objects themselves (the façade sends them through numpy)."""
    arr = chunked(ratings, pa.int16(), [100, 1000])
    w = pa.chunked_array([weights[:3], weights[3:1999], weights[1999:]])
    t = cx.NpsTally()
    _native.fold_arrow(t._inner, arr, w, "omit")
    assert_same_nps(t.result(), cx.nps(ratings, weights=weights))


def test_weights_chunked_differently(
    ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> None:
    values = ArrowOnly(chunked(ratings, pa.int8(), [10, 20, 1000]))
    cut = np.split(weights, [1, 2, 3, 999, 1998])
    w = ArrowOnly(pa.chunked_array([pa.array(c) for c in cut]))
    got = cx.nps(values, weights=w)
    assert_same_nps(got, cx.nps(ratings, weights=weights))
    assert_matches_numpy(got, ratings, weights)
    # one weight chunk under many value chunks (borrowed slice by slice), and the other way round
    many = ArrowOnly(chunked(ratings, pa.int8(), list(range(100, 2000, 100))))
    assert_same_nps(
        cx.nps(many, weights=ArrowOnly(pa.chunked_array([weights]))), cx.nps(ratings, weights=weights)
    )
    many_w = ArrowOnly(pa.chunked_array(np.split(weights, range(7, 2000, 7))))
    assert_same_nps(
        cx.nps(ArrowOnly(chunked(ratings, pa.int8(), [])), weights=many_w), cx.nps(ratings, weights=weights)
    )
    # float32 and integer weights, numpy weights with Arrow values
    w32 = weights.astype(np.float32)
    got32 = cx.nps(ArrowOnly(chunked(ratings, pa.int8(), [5])), weights=ArrowOnly(pa.array(w32)))
    assert_same_nps(got32, cx.nps(ratings, weights=w32.astype(np.float64)))
    wint = np.arange(2000) % 3
    got_int = cx.nps(ArrowOnly(chunked(ratings, pa.int8(), [5])), weights=wint)
    assert_same_nps(got_int, cx.nps(ratings, weights=wint.astype(np.float64)))


def test_nan_policy_raise_names_position_across_chunks(ratings: npt.NDArray[np.float64]) -> None:
    first = int(np.flatnonzero(np.isnan(ratings))[0])
    arr = ArrowOnly(chunked(ratings, pa.int64(), [first // 2, first]))  # the null opens the third chunk
    with pytest.raises(MissingValueError, match=f"position {first} "):
        cx.nps(arr, nan_policy="raise")
    complete = ratings[~np.isnan(ratings)]
    assert cx.nps(ArrowOnly(pa.chunked_array([complete[:7], complete[7:]])), nan_policy="raise").n == len(
        complete
    )


def test_float_nan_and_null_are_both_missing() -> None:
    arr = pa.chunked_array([pa.array([10.0, float("nan"), None, 3.0]), pa.array([None, 9.0])])
    got = cx.nps(ArrowOnly(arr))
    assert (got.n, got.n_omitted) == (3, 3)
    assert_same_nps(got, cx.nps(np.array([10.0, np.nan, np.nan, 3.0, np.nan, 9.0])))


def test_out_of_range_position_across_chunks() -> None:
    arr = ArrowOnly(pa.chunked_array([pa.array([1, 2, 3], pa.int8()), pa.array([4, 11], pa.int8())]))
    with pytest.raises(OutOfRangeError, match="value 11 at position 4 "):
        cx.nps(arr)


def test_decimal_columns(ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> None:
    """DuckDB writes literals such as 1.5 as decimals: they are read as their value."""
    complete = ratings[~np.isnan(ratings)]
    w = np.round(weights[: len(complete)], 2)
    got = cx.nps(
        ArrowOnly(pa.array([Decimal(int(v)) for v in complete], pa.decimal128(4, 1))),
        weights=ArrowOnly(pa.array([Decimal(f"{x:.2f}") for x in w], pa.decimal128(6, 2))),
    )
    assert_same_nps(got, cx.nps(complete, weights=w))


def test_csat_ces_and_scale_tallies(ratings: npt.NDArray[np.float64]) -> None:
    five = np.where(np.isnan(ratings), np.nan, ratings % 5 + 1)
    seven = np.where(np.isnan(ratings), np.nan, ratings % 7 + 1)
    arr5 = ArrowOnly(chunked(five, pa.uint8(), [3, 900]))
    arr7 = ArrowOnly(chunked(seven, pa.float32(), [50]))
    got = cx.csat(arr5, satisfied="top_two_box")
    want = cx.csat(five, satisfied="top_two_box")
    assert (got.n, got.n_omitted) == (want.n, want.n_omitted)
    assert got.share_satisfied == pytest.approx(want.share_satisfied, abs=TOL)
    assert got.share_satisfied == pytest.approx(float(np.mean(five[~np.isnan(five)] >= 4)), abs=TOL)
    assert got.mean == pytest.approx(float(np.nanmean(five)), abs=TOL)
    got7, want7 = cx.ces(arr7), cx.ces(seven)
    assert (got7.n, got7.n_omitted) == (want7.n, want7.n_omitted)
    assert got7.share_agree == pytest.approx(want7.share_agree, abs=TOL)
    assert got7.share_agree == pytest.approx(float(np.mean(seven[~np.isnan(seven)] >= 5)), abs=TOL)
    tally = cx.ScaleTally(1, 5)
    tally.fold(arr5)
    ref = cx.ScaleTally(1, 5)
    ref.fold(five)
    assert tally == ref
    assert tally.rows() == [int(np.sum(five == p)) for p in range(1, 6)]


# ----- tables through data= ----------------------------------------------------------------------------


def table(ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> pa.Table:
    mask = np.isnan(ratings)
    segments = np.array(["north", "south", "east", "west"])[np.arange(len(ratings)) % 4]
    return pa.table(
        {
            "segment": pa.array(segments),
            "ltr": pa.array(np.where(mask, 0, ratings).astype(np.int8), mask=mask),
            "w": pa.array(weights),
        }
    )


def test_pyarrow_table_and_record_batch_reader(
    ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> None:
    tbl = table(ratings, weights)
    want = cx.nps(ratings, weights=weights)
    assert_same_nps(cx.nps("ltr", data=tbl, weights="w"), want)
    batches = tbl.to_batches(max_chunksize=128)
    assert len(batches) == 16
    reader = pa.RecordBatchReader.from_batches(tbl.schema, batches)
    got = cx.nps("ltr", data=reader, weights="w")
    assert_same_nps(got, want)
    assert_matches_numpy(got, ratings, weights)
    assert_same_nps(cx.nps("ltr", data=ArrowOnly(tbl)), cx.nps(ratings))


def test_polars_series_and_frame_with_string_view(
    ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> None:
    df = pl.from_arrow(table(ratings, weights))
    assert isinstance(df, pl.DataFrame)
    df = pl.concat([df[:700], df[700:1500], df[1500:]], rechunk=False)
    assert df.n_chunks() == 3
    schema = pa.RecordBatchReader.from_stream(df).schema
    assert schema.field("segment").type == pa.string_view()  # polars hands text over as string views
    want = cx.nps(ratings, weights=weights)
    assert_same_nps(cx.nps("ltr", data=ArrowOnly(df), weights="w"), want)
    assert_same_nps(cx.nps("ltr", data=df, weights="w"), want)
    assert_same_nps(cx.nps(ArrowOnly(df["ltr"]), weights=ArrowOnly(df["w"])), want)
    # the string-view column still splits the rows on the by= path
    by = cx.nps("ltr", by="segment", data=df, weights="w")
    seg = df["segment"].to_numpy()
    for name in ("east", "north", "south", "west"):
        keep = seg == name
        assert_same_nps(by.results[name], cx.nps(ratings[keep], weights=weights[keep]))


def test_duckdb_results(ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> None:
    con = duckdb.connect()
    con.register("survey", table(ratings, weights))
    want = cx.nps(ratings, weights=weights)
    rel = con.sql("select segment, ltr, w from survey")
    assert_same_nps(cx.nps("ltr", data=rel, weights="w"), want)
    assert_same_nps(cx.nps(con.sql("select ltr from survey"), weights=weights), want)
    assert_same_nps(cx.nps("ltr", data=con.sql("select * from survey").arrow(), weights="w"), want)
    # generated in DuckDB: the reference is the same numbers from numpy
    gen = con.sql("select (i * 7919 % 11)::TINYINT as ltr, 0.5 + (i % 4) * 0.25 as w from range(100000) t(i)")
    i = np.arange(100000)
    got = cx.nps("ltr", data=gen, weights="w")
    assert_matches_numpy(got, i * 7919 % 11, 0.5 + (i % 4) * 0.25)
    c = cx.csat(
        "ltr", data=con.sql("select (i % 5 + 1)::SMALLINT as ltr from range(1000) t(i)"), satisfied="top_box"
    )
    assert (c.n, c.share_satisfied) == (1000, pytest.approx(0.2, abs=TOL))
    e = cx.ces("ltr", data=con.sql("select (i % 7 + 1)::INTEGER as ltr from range(700) t(i)"))
    assert (e.n, e.share_agree) == (700, pytest.approx(3 / 7, abs=TOL))


def test_nanoarrow_arrays_and_streams(
    ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> None:
    arr = na.Array(chunked(ratings, pa.uint16(), [100, 1200]))
    assert arr.n_chunks == 3
    want = cx.nps(ratings, weights=weights)
    assert_same_nps(cx.nps(arr, weights=na.Array(pa.chunked_array([weights[:5], weights[5:]]))), want)
    tbl = table(ratings, weights)
    stream = na.ArrayStream(pa.RecordBatchReader.from_batches(tbl.schema, tbl.to_batches(max_chunksize=300)))
    assert_same_nps(cx.nps("ltr", data=stream, weights="w"), want)


def test_empty_stream_counts_nothing() -> None:
    empty = pa.RecordBatchReader.from_batches(pa.schema([("ltr", pa.int8())]), [])
    t = cx.NpsTally()
    t.fold(ArrowOnly(pa.chunked_array([], pa.int8())))
    assert (t.n, t.n_omitted) == (0, 0)
    t2 = cx.NpsTally()
    _native.fold_arrow_table(t2._inner, empty, "ltr", None, "omit")
    assert t2 == cx.NpsTally()


# ----- chunk by chunk, never concatenated ------------------------------------------------------------------


def test_chunks_are_consumed_one_at_a_time() -> None:
    """A stream of 200 chunks of 50 000 ratings, each made in pyarrow's memory pool as it is asked for:
    the pool never holds more than a few chunks at once (the native fold counts at most four at a time,
    one per thread), so the stream is folded chunk by chunk; all 10^7 ratings together would take 200
    times one chunk (``reader.read_all()`` of the same stream peaks at 199)."""
    n_chunks, size = 200, 50_000
    rng = np.random.default_rng(3)
    base = rng.integers(0, 11, size)
    produced: list[int] = []
    peak = [0]
    start = pa.total_allocated_bytes()

    def batches() -> Iterator[pa.RecordBatch]:
        for k in range(n_chunks):
            peak[0] = max(peak[0], pa.total_allocated_bytes() - start)
            values = pa.array((base + k) % 11).cast(pa.int16())  # allocated in the pool
            produced.append(k)
            yield pa.record_batch([values], names=["ltr"])

    reader = pa.RecordBatchReader.from_batches(pa.schema([("ltr", pa.int16())]), batches())
    got = cx.nps("ltr", data=reader)
    one_chunk = size * 2
    assert produced == list(range(n_chunks))
    assert peak[0] <= 5 * one_chunk, f"the pool held {peak[0] / one_chunk:.1f} chunks at once"
    all_values = np.concatenate([(base + k) % 11 for k in range(n_chunks)])
    assert got.n == n_chunks * size
    assert_same_nps(got, cx.nps(all_values))


def test_stream_consumed_lazily_and_stops_at_first_error() -> None:
    """A chunk that fails stops the stream there: the chunks after its group (at most four chunks are
    counted at a time) are never asked for."""
    produced: list[int] = []

    def batches() -> Iterator[pa.RecordBatch]:
        for k in range(50):
            produced.append(k)
            yield pa.record_batch([pa.array([5, 12 if k == 3 else 9], pa.int8())], names=["ltr"])

    reader = pa.RecordBatchReader.from_batches(pa.schema([("ltr", pa.int8())]), batches())
    with pytest.raises(OutOfRangeError, match="value 12 at position 7 "):
        cx.nps("ltr", data=reader)
    assert produced == list(range(len(produced))) and len(produced) <= 4 + 3


# ----- bad inputs: typed errors, the tally unchanged ------------------------------------------------------


def folded_tally() -> cx.NpsTally:
    t = cx.NpsTally()
    t.fold([10, 9, 3], weights=[1.0, 2.0, 0.5])
    return t


def test_string_columns_are_refused() -> None:
    t = folded_tally()
    before = t.copy()
    with pytest.raises(InvalidArgumentError, match=r"Arrow type Utf8 \(text\) is not numeric"):
        t.fold(ArrowOnly(pa.array(["9", "10"])))
    with pytest.raises(InvalidArgumentError, match="Utf8View"):
        t.fold(ArrowOnly(pa.array(["a"], pa.string_view())))
    with pytest.raises(InvalidArgumentError, match="booleans"):
        t.fold(ArrowOnly(pa.array([True, False])))
    df = pl.DataFrame({"ltr": [9, 10], "segment": ["a", "b"]})
    with pytest.raises(ColumnError, match='column "segment": the Arrow type Utf8View'):
        cx.nps("segment", data=ArrowOnly(df))
    with pytest.raises(ColumnError, match='column "lrt" not found; available columns: ltr, segment'):
        cx.nps("lrt", data=ArrowOnly(df))
    with pytest.raises(InvalidArgumentError, match=r"an Arrow table \(columns ltr, segment\)"):
        cx.nps(ArrowOnly(df))
    with pytest.raises(InvalidArgumentError, match="pass the name of the ratings column"):
        cx.nps([9, 10], data=ArrowOnly(df))
    assert t == before


def test_stream_ending_in_error() -> None:
    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([9, 10], pa.int8())], names=["ltr"])
        yield pa.record_batch([pa.array([3], pa.int8())], names=["ltr"])
        raise OSError("the connection dropped")

    t = folded_tally()
    before = t.copy()
    reader = pa.RecordBatchReader.from_batches(pa.schema([("ltr", pa.int8())]), batches())
    with pytest.raises(
        InvalidArgumentError, match=r"failed after 2 chunk\(s\) \(3 rows\).*connection dropped"
    ):
        t.fold(ArrowOnly(reader))
    assert t == before


def test_weights_errors(ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> None:
    t = folded_tally()
    before = t.copy()
    values = chunked(ratings, pa.int8(), [500, 1000])
    with pytest.raises(LengthMismatchError, match=r"lengths differ \(2000 vs 1999\)"):
        t.fold(ArrowOnly(values), weights=ArrowOnly(pa.chunked_array([weights[:1000], weights[1000:1999]])))
    with pytest.raises(LengthMismatchError, match=r"lengths differ \(2000 vs 2001\)"):
        t.fold(ArrowOnly(values), weights=ArrowOnly(pa.chunked_array([weights, weights[:1]])))
    with pytest.raises(LengthMismatchError, match=r"lengths differ \(2000 vs 10\)"):
        t.fold(ArrowOnly(values), weights=weights[:10])
    negative = weights.copy()
    negative[1234] = -1.0
    with pytest.raises(InvalidWeightError, match="position 1234 "):
        t.fold(ArrowOnly(values), weights=ArrowOnly(pa.chunked_array([negative[:1200], negative[1200:]])))
    with pytest.raises(InvalidWeightError, match="position 1 "):
        cx.nps("ltr", data=ArrowOnly(pa.table({"ltr": [9, 9], "w": [1.0, -2.0]})), weights="w")
    with pytest.raises(InvalidArgumentError, match="weight at position 1001 is null"):
        t.fold(
            ArrowOnly(values),
            weights=ArrowOnly(pa.chunked_array([weights[:1000], [weights[1000], None], weights[1002:]])),
        )
    with pytest.raises(InvalidArgumentError, match="booleans"):
        t.fold(ArrowOnly(values), weights=ArrowOnly(pa.array(np.ones(2000, dtype=bool))))
    with pytest.raises(InvalidArgumentError, match="booleans"):
        t.fold(ArrowOnly(values), weights=np.ones(2000, dtype=bool))
    assert t == before


# ----- which path pyarrow and polars inputs take --------------------------------------------------------


@pytest.fixture
def capsule_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each call of the native Arrow fold made by the façade."""
    calls: list[str] = []
    real = _native.fold_arrow

    def spy(tally: Any, values: Any, weights: Any = None, nan_policy: str = "omit") -> None:
        calls.append(type(values).__name__)
        real(tally, values, weights, nan_policy)

    monkeypatch.setattr(_native, "fold_arrow", spy)
    return calls


def test_multi_chunk_pyarrow_and_polars_take_the_capsule_path(
    capsule_calls: list[str], ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> None:
    want = cx.nps(ratings, weights=weights)
    assert capsule_calls == []
    arr = chunked(ratings, pa.int16(), [700, 1400])
    assert_same_nps(cx.nps(arr, weights=pa.chunked_array([weights[:5], weights[5:]])), want)
    assert_same_nps(cx.nps(arr, weights=weights), want)
    series = pl.concat([pl.from_arrow(c) for c in arr.chunks], rechunk=False)
    assert isinstance(series, pl.Series) and series.n_chunks() == 3
    assert_same_nps(cx.nps(series, weights=pl.Series(weights)), want)
    assert capsule_calls == ["ChunkedArray", "ChunkedArray", "Series"]
    # one chunk: the numpy path (zero-copy there), the same figures
    assert_same_nps(cx.nps(chunked(ratings, pa.int16(), []), weights=weights), want)
    assert_same_nps(cx.nps(pl.Series(ratings), weights=weights), want)
    assert_same_nps(cx.nps("ltr", data=table(ratings, weights), weights="w"), want)
    assert len(capsule_calls) == 3
    # a table of several batches: its column has several chunks
    many = pa.Table.from_batches(table(ratings, weights).to_batches(max_chunksize=500))
    assert_same_nps(cx.nps("ltr", data=many, weights="w"), want)
    assert capsule_calls[3:] == ["ChunkedArray"]


def test_multi_chunk_errors_match_the_numpy_path(ratings: npt.NDArray[np.float64]) -> None:
    arr = chunked(ratings, pa.int16(), [700, 1400])
    with pytest.raises(InvalidArgumentError, match="booleans"):
        cx.nps(arr, weights=pa.chunked_array([np.ones(1000, bool), np.ones(1000, bool)]))
    with pytest.raises(LengthMismatchError, match=r"lengths differ \(2000 vs 3\)"):
        cx.nps(arr, weights=[1.0, 2.0, 3.0])
    first = int(np.flatnonzero(np.isnan(ratings))[0])
    for values in (arr, chunked(ratings, pa.int16(), [])):
        with pytest.raises(MissingValueError, match=f"position {first} "):
            cx.nps(values, nan_policy="raise")
    text = pa.chunked_array([["9", "10"], ["3"]])
    with pytest.raises(InvalidArgumentError, match="not numeric"):
        cx.nps(text)


def test_weights_must_be_a_column_name_with_a_stream() -> None:
    stream = ArrowOnly(pa.table({"ltr": [9, 3], "w": [1.0, 2.0]}))
    with pytest.raises(InvalidArgumentError, match="pass the name of the weight column, got a list"):
        cx.nps("ltr", data=stream, weights=[1.0, 2.0])
    assert cx.nps("ltr", data=stream, weights="w").score == pytest.approx(-1 / 3, abs=TOL)


def test_folds_from_several_threads(
    ratings: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> None:
    """Streams folded into one tally from several threads at once: the tally of all of them."""
    from concurrent.futures import ThreadPoolExecutor

    parts = np.array_split(np.arange(len(ratings)), 8)
    shared = cx.NpsTally()

    def fold(idx: npt.NDArray[np.intp]) -> None:
        tbl = table(ratings[idx], weights[idx])
        reader = pa.RecordBatchReader.from_batches(tbl.schema, tbl.to_batches(max_chunksize=37))
        shared.fold(ArrowColumnsOf(reader))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(fold, parts))
    assert_same_nps(shared.result(), cx.nps(ratings, weights=weights))


def ArrowColumnsOf(reader: pa.RecordBatchReader) -> Any:  # noqa: N802  # reads as the class it builds
    """The ``ltr`` and ``w`` columns of a stream, as ``data=`` hands them to a tally's fold."""
    from cx_metrics._convert import arrow_columns

    return arrow_columns(StreamOnly(reader), "ltr", "w")


def test_sliced_arrays_start_at_their_offset() -> None:
    """A slice exported through the C interface carries an offset into its buffers (values and nulls)."""
    full = pa.array([0, 1, None, 10, 9, None, 7, 3, 10, 2], pa.int32())
    part = full.slice(2, 6)  # None, 10, 9, None, 7, 3
    got = cx.nps(ArrowOnly(part), weights=ArrowOnly(pa.array(np.arange(12.0)).slice(3, 6)))
    assert_same_nps(got, cx.nps(np.array([np.nan, 10, 9, np.nan, 7, 3]), weights=np.arange(3.0, 9.0)))
    with pytest.raises(InvalidArgumentError, match="weight at position 1 is null"):
        cx.nps(ArrowOnly(part), weights=ArrowOnly(pa.array([1.0, 2.0, None, 4.0, 5.0, 6.0, 7.0]).slice(1, 6)))
