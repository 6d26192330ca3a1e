"""Time a 5-step funnel of ``cx_metrics`` against the same funnel written in pandas and in polars, one
run: 10^7 events of 10^6 customers (event names a-e and one name of no step), distinct times.

The spec: ordered, closed entry, unique customers, first attempt, a one-hour window from the first
step-1 event, inclusive end. The pandas and polars versions compute it step by step: the first step-1
time per customer, then for each step the earliest event of that step after the previous step and
inside the window (with distinct times this is the ordered first-attempt funnel). All three must
give the same counts (checked). Peak memory: the rise of the process's peak resident size while one
contender runs, each in a fresh (spawned) process. Figures depend on the machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import resource
from typing import Any

import numpy as np
import pandas as pd
from _timing import race

import cx_metrics as cx

STEPS = ["a", "b", "c", "d", "e"]
WINDOW_NS = 3600 * 1_000_000_000


def make(n: int, n_customers: int) -> pd.DataFrame:
    rng = np.random.default_rng(20261207)
    customer = rng.integers(0, n_customers, n)
    # Steps tend to follow each other: the time grows with the step, plus noise (2 h scale).
    step = rng.choice(6, n, p=[0.3, 0.25, 0.18, 0.12, 0.08, 0.07])
    t = (step * 900 + rng.exponential(7200.0, n)) * 1e9
    t = t.astype(np.int64) + np.arange(n, dtype=np.int64) % 997  # distinct times in practice
    names = np.array([*STEPS, "other"])
    return pd.DataFrame(
        {
            "customer": customer,
            "event": pd.Categorical(names[step]),
            "time": pd.to_datetime(t, unit="ns"),
        }
    )


def ours(df: pd.DataFrame) -> list[int]:
    spec = cx.FunnelSpec(
        STEPS,
        order="ordered",
        window=datetime.timedelta(hours=1),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    r = cx.funnel(df, spec, customer="customer", event="event", time="time")
    assert isinstance(r, cx.FunnelResult)
    return [s.count for s in r.steps]


def with_pandas(df: pd.DataFrame) -> list[int]:
    t = df["time"].to_numpy().view(np.int64)
    d = pd.DataFrame(
        {"customer": df["customer"].to_numpy(), "event": df["event"].astype(str).to_numpy(), "t": t}
    )
    first = d[d["event"] == STEPS[0]].groupby("customer")["t"].min().rename("t0")
    reached = first.to_frame()
    reached["prev"] = reached["t0"]
    counts = [len(reached)]
    for step in STEPS[1:]:
        ev = d[d["event"] == step]
        m = ev.merge(reached, left_on="customer", right_index=True)
        m = m[(m["t"] > m["prev"]) & (m["t"] - m["t0"] <= WINDOW_NS)]
        nxt = m.groupby("customer")["t"].min()
        reached = reached.loc[nxt.index]
        reached["prev"] = nxt
        counts.append(len(reached))
    return counts


def with_polars(df: pd.DataFrame) -> list[int]:
    import polars as pl

    d = pl.DataFrame(
        {
            "customer": df["customer"].to_numpy(),
            "event": df["event"].astype(str).to_numpy(),
            "t": df["time"].to_numpy().view(np.int64),
        }
    )
    reached = (
        d.filter(pl.col("event") == STEPS[0])
        .group_by("customer")
        .agg(pl.col("t").min().alias("t0"))
        .with_columns(pl.col("t0").alias("prev"))
    )
    counts = [reached.height]
    for step in STEPS[1:]:
        nxt = (
            d.filter(pl.col("event") == step)
            .join(reached, on="customer")
            .filter((pl.col("t") > pl.col("prev")) & (pl.col("t") - pl.col("t0") <= WINDOW_NS))
            .group_by("customer")
            .agg(pl.col("t").min().alias("prev"))
        )
        reached = reached.drop("prev").join(nxt, on="customer")
        counts.append(reached.height)
    return counts


CONTENDERS: dict[str, Any] = {"cx_metrics": ours, "pandas": with_pandas, "polars": with_polars}


def _peak(name: str, n: int, n_customers: int, out: Any) -> None:
    df = make(n, n_customers)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    CONTENDERS[name](df)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put((after - before) / 1024.0)


def peak_mib(name: str, n: int, n_customers: int) -> float:
    ctx = mp.get_context("spawn")  # polars may deadlock in a forked child
    q = ctx.Queue()
    p = ctx.Process(target=_peak, args=(name, n, n_customers, q))
    p.start()
    value = float(q.get())
    p.join()
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    df = make(args.n, args.customers)
    times = race({k: (lambda f=f: f(df)) for k, f in CONTENDERS.items()}, rounds=args.rounds)
    counts = {k: v[1] for k, v in times.items()}
    assert counts["cx_metrics"] == counts["pandas"] == counts["polars"], counts
    t_ours = times["cx_metrics"][0]
    print(f"5-step funnel of {args.n:,} events, {args.customers:,} customers; counts {counts['cx_metrics']}")
    for name in CONTENDERS:
        t = times[name][0]
        ratio = "" if name == "cx_metrics" else f"  ({t / t_ours:.1f}x)"
        print(f"  {name:<11} {t:7.3f} s{ratio}  peak +{peak_mib(name, args.n, args.customers):.0f} MiB")


if __name__ == "__main__":
    main()
