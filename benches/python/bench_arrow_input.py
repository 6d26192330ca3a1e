"""Time folding 10^7 ratings handed over through the Arrow PyCapsule interface against the numpy path.

Contenders (all give the same NPS, checked first): ``cx.nps`` of a numpy int16 array (the reference
path); a pyarrow ChunkedArray of 100 chunks through the façade (the capsule path: each chunk borrowed
and folded in turn) and converted to one numpy array first (what the numpy path does); a pyarrow Table
by column and as a record-batch stream; a polars Series of 100 chunks both ways; a DuckDB result (the
query runs as the stream is read) through ``data=``, beside the same query fetched to numpy first and
DuckDB's own NPS aggregate; a nanoarrow stream of the 100 chunks. Optionally weighted
(``--weighted``). Prints seconds per call (best of several rounds, the contenders timed in turns) and
the ratio to the numpy path (above 1 means slower than numpy). Figures depend on the machine; nothing
here is asserted. Run from ``benches/python`` with the release build installed (``make develop``).
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

import duckdb
import nanoarrow as na
import numpy as np
import polars as pl
import pyarrow as pa
from _timing import race

import cx_metrics as cx


class Capsule:
    """Only the Arrow PyCapsule stream of ``inner``: forces the capsule path for pyarrow and polars."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._inner.__arrow_c_stream__(requested_schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000_000, help="ratings (default 10^7)")
    parser.add_argument("--chunks", type=int, default=100, help="chunks of the Arrow inputs")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per contender")
    parser.add_argument("--weighted", action="store_true", help="fold with survey weights")
    args = parser.parse_args()

    rng = np.random.default_rng(20261207)
    ltr = rng.integers(0, 11, args.n, dtype=np.int16)
    w = rng.uniform(0.3, 3.0, args.n) if args.weighted else None
    cuts = np.linspace(0, args.n, args.chunks + 1).astype(int)
    chunked = pa.chunked_array([ltr[a:b] for a, b in itertools.pairwise(cuts)])
    wchunked = None if w is None else pa.chunked_array([w[a:b] for a, b in itertools.pairwise(cuts)])
    table = pa.table({"ltr": chunked} | ({} if wchunked is None else {"w": wchunked}))
    series = pl.concat([pl.Series("ltr", c.to_numpy()) for c in chunked.chunks], rechunk=False)
    assert series.n_chunks() == args.chunks
    wseries = None if w is None else pl.Series("w", w)
    con = duckdb.connect()
    con.register("survey", table)
    query = "select ltr" + (", w" if w is not None else "") + " from survey"
    wname = None if w is None else "w"
    duck_sql = (
        "select (sum(case when ltr >= 9 then w else 0 end) "
        "- sum(case when ltr <= 6 then w else 0 end)) / sum(w) "
        if w is not None
        else "select (count_if(ltr >= 9) - count_if(ltr <= 6)) / count(*) "
    ) + "from survey"

    def duck_numpy() -> float:
        cols = con.sql(query).fetchnumpy()
        return cx.nps(cols["ltr"], weights=cols.get("w")).score

    def numpy_first(values: Any, weights: Any) -> float:
        # What the façade did before: one numpy array of all the chunks, then the numpy path.
        return cx.nps(values.to_numpy(), weights=None if weights is None else weights.to_numpy()).score

    contenders = {
        "numpy int16 (reference)": lambda: cx.nps(ltr, weights=w).score,
        "pyarrow chunked (capsule path)": lambda: cx.nps(chunked, weights=wchunked).score,
        "pyarrow chunked, to_numpy first": lambda: numpy_first(chunked, wchunked),
        "pyarrow Table data= (column)": lambda: cx.nps("ltr", data=table, weights=wname).score,
        "pyarrow Table as a stream data=": lambda: cx.nps("ltr", data=Capsule(table), weights=wname).score,
        "polars Series (capsule path)": lambda: cx.nps(series, weights=wseries).score,
        "polars Series, to_numpy first": lambda: numpy_first(series, wseries),
        "DuckDB result data= (capsule)": lambda: cx.nps("ltr", data=con.sql(query), weights=wname).score,
        "DuckDB fetchnumpy + cx.nps": duck_numpy,
        "DuckDB SQL NPS aggregate": lambda: float(con.sql(duck_sql).fetchall()[0][0]),
        "nanoarrow stream (capsule)": lambda: (
            cx.nps(
                na.ArrayStream(chunked), weights=None if wchunked is None else na.ArrayStream(wchunked)
            ).score
        ),
    }
    timings = race(contenders, args.repeat)
    ref_secs, ref = timings["numpy int16 (reference)"]
    weighted = "weighted" if w is not None else "unweighted"
    print(f"NPS of {args.n:,} ratings ({weighted}), Arrow inputs in {args.chunks} chunks")
    for name, (secs, score) in timings.items():
        if not np.isclose(score, ref, rtol=1e-9, atol=1e-12):
            raise SystemExit(f"{name} gives {score}, not {ref}")
        print(f"  {name:<36} {secs * 1e3:9.2f} ms  ratio to numpy {secs / ref_secs:6.2f}x")


if __name__ == "__main__":
    main()
