"""Time NPS by 20 segments over 10^7 rows against polars ``group_by`` and pandas ``groupby`` of the same
NPS expression on the same labels, in one run.

Three cases: labels from a pandas categorical column (unweighted and weighted), and from a polars string
column (the labels must be hashed). Prints seconds per call (best of several rounds, the contenders
timed in turns) and the ratio peer / cx_metrics (above 1 means cx_metrics is faster); every contender's
scores are checked against ours first. Run with ``make bench``. Figures depend on the machine; nothing
here is asserted.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from _timing import race

import cx_metrics as cx

SEGMENTS = [f"segment {i:02d}" for i in range(20)]


def polars_nps(df: pl.DataFrame, weighted: bool) -> dict[Any, float]:
    y = pl.col("ltr")
    if weighted:
        w = pl.col("w")
        expr = ((w * (y >= 9)).sum() - (w * (y <= 6)).sum()) / w.sum()
    else:
        expr = (y >= 9).mean() - (y <= 6).mean()
    out = df.group_by("segment").agg(expr.alias("nps"))
    return dict(zip(out["segment"].to_list(), out["nps"].to_list(), strict=True))


def pandas_nps(df: pd.DataFrame, weighted: bool) -> dict[Any, float]:
    y = df["ltr"]
    w = df["w"] if weighted else pd.Series(1.0, index=df.index)
    parts = pd.DataFrame({"segment": df["segment"], "p": w * (y >= 9), "d": w * (y <= 6), "w": w})
    sums = parts.groupby("segment", observed=True, sort=False)[["p", "d", "w"]].sum()
    return dict(zip(sums.index, (sums["p"] - sums["d"]) / sums["w"], strict=True))


def ours(ltr: Any, segment: Any, w: Any) -> dict[Any, float]:
    g = cx.nps(ltr, by=segment, weights=w)
    return {k: g[k].score for k in g}


def report(title: str, timings: Mapping[str, tuple[float, dict[Any, float]]]) -> None:
    mine, value = timings["cx.nps(by=)"]
    print(f"\n{title}")
    for name, (secs, v) in timings.items():
        same = set(map(str, v)) == set(map(str, value)) and all(
            np.isclose(v[k], value[k], rtol=1e-9, atol=1e-12) for k in value
        )
        if not same:
            raise SystemExit(f"{name} disagrees with cx.nps(by=)")
        ratio = "" if name == "cx.nps(by=)" else f"  ratio {secs / mine:6.1f}x"
        print(f"  {name:<34} {secs * 1e3:9.2f} ms{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000_000, help="respondents (default 10^7)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per contender")
    args = parser.parse_args()

    rng = np.random.default_rng(20261123)
    ltr = rng.integers(0, 11, args.n, dtype=np.int16)
    codes = rng.integers(0, len(SEGMENTS), args.n, dtype=np.int8)
    w = rng.uniform(0.3, 3.0, args.n)
    segment = pd.Categorical.from_codes(codes, categories=SEGMENTS)
    pdf = pd.DataFrame({"ltr": ltr, "segment": segment, "w": w})
    pldf = pl.from_pandas(pdf)  # the segment as a polars Categorical
    text = pl.Series("segment", np.asarray(SEGMENTS, dtype=object)[codes].tolist(), dtype=pl.String)
    pltext = pl.DataFrame({"ltr": ltr, "segment": text, "w": w})
    pdtext = pd.DataFrame({"ltr": ltr, "segment": text.to_pandas(), "w": w})
    print(
        f"cx_metrics {cx.__version__}, polars {pl.__version__}, pandas {pd.__version__}; "
        f"n = {args.n:,}, {len(SEGMENTS)} segments, int16 ratings; best of {args.repeat}, "
        f"{os.cpu_count()} CPUs"
    )
    for weighted in (False, True):
        report(
            f"labels from a pandas categorical column, {'weighted' if weighted else 'unweighted'} "
            "(ratio = peer time / cx_metrics time)",
            race(
                {
                    "cx.nps(by=)": lambda weighted=weighted: ours(
                        pdf["ltr"], pdf["segment"], pdf["w"] if weighted else None
                    ),
                    "polars group_by (Categorical)": lambda weighted=weighted: polars_nps(pldf, weighted),
                    "pandas groupby (categorical)": lambda weighted=weighted: pandas_nps(pdf, weighted),
                },
                args.repeat,
            ),
        )
    report(
        "labels from a polars string column (hashed), unweighted",
        race(
            {
                "cx.nps(by=)": lambda: ours(pltext["ltr"], pltext["segment"], None),
                "polars group_by (String)": lambda: polars_nps(pltext, False),
                "pandas groupby (str)": lambda: pandas_nps(pdtext, False),
            },
            args.repeat,
        ),
    )


if __name__ == "__main__":
    main()
