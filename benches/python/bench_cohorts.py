"""Time a monthly cohort retention table from 10^7 order events against the pandas idiom, in one run.

The pandas idiom: the first-purchase month of each customer (``groupby(...).transform("min")``), then a
pivot of the distinct customers active per cohort and month offset (``pivot_table(aggfunc="nunique")``).
Both start from the same pandas DataFrame of integer customer ids and ``datetime64[ns]`` order times and
give the same counts (checked before timing). Prints seconds per call (best of several rounds, the
contenders timed in turns) and the ratio pandas / cx_metrics (above 1 means cx_metrics is faster). Run
with ``make bench``. Figures depend on the machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np
import pandas as pd
from _timing import race

import cx_metrics as cx


def pandas_idiom(df: pd.DataFrame) -> pd.DataFrame:
    month = df["time"].dt.to_period("M")
    cohort = month.groupby(df["customer"]).transform("min")
    offset = (month.dt.year - cohort.dt.year) * 12 + (month.dt.month - cohort.dt.month)
    active = pd.DataFrame({"customer": df["customer"], "cohort": cohort, "offset": offset})
    return active.pivot_table(index="cohort", columns="offset", values="customer", aggfunc="nunique")


def ours(df: pd.DataFrame) -> cx.RetentionTable:
    return cx.retention_table(df, customer_id="customer", time="time", period="month")


def same(table: cx.RetentionTable, pivot: pd.DataFrame) -> bool:
    """Whether every cell of the pandas pivot (cohorts by their month) is ours (an empty cell is 0)."""
    rows = {str(c)[:7]: i for i, c in enumerate(table.cohorts)}
    counts = table.counts
    for cohort, row in zip(pivot.index, pivot.itertuples(index=False), strict=True):
        i = rows[str(cohort)]
        for j, v in zip(pivot.columns, row, strict=True):
            got = counts[i, int(j)]
            # An empty cell of the pivot is 0 here, or NaN where the cohort was not observed yet.
            if not (got == v or (math.isnan(v) and (got == 0 or math.isnan(got)))):
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000_000, help="order events (default 10^7)")
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers (default 10^6)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats per contender")
    args = parser.parse_args()

    rng = np.random.default_rng(20261206)
    customer = rng.integers(0, args.customers, args.n, dtype=np.int64)
    # Each customer starts on a day of two years and orders over the following months.
    start = (customer * 7919) % 730
    day = start + rng.exponential(120, args.n).astype(np.int64) % 1000
    time = np.datetime64("2024-01-01", "ns") + day.astype("timedelta64[D]")
    df = pd.DataFrame({"customer": customer, "time": time})
    print(
        f"cx_metrics {cx.__version__}, pandas {pd.__version__}; n = {args.n:,} order events, "
        f"{args.customers:,} customers, monthly cohorts; best of {args.repeat}, {os.cpu_count()} CPUs"
    )
    if not same(ours(df), pandas_idiom(df)):
        raise SystemExit("the pandas idiom disagrees with cx.retention_table")
    timings = race(
        {"cx.retention_table": lambda: ours(df), "pandas idiom": lambda: pandas_idiom(df)}, args.repeat
    )
    mine = timings["cx.retention_table"][0]
    print("\nmonthly cohort retention table (ratio = pandas time / cx_metrics time)")
    for name, (secs, _) in timings.items():
        ratio = "" if name == "cx.retention_table" else f"  ratio {secs / mine:6.1f}x"
        print(f"  {name:<34} {secs * 1e3:9.1f} ms{ratio}")


if __name__ == "__main__":
    main()
