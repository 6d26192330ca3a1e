"""Time a 5-step funnel of ``cx_metrics`` against the same funnel written in pandas and in polars, one
run: 10^7 events of 10^6 customers (event names a-e and one name of no step), distinct times, the
same events in two row orders: in time order (as event logs are written) and shuffled.

The spec: ordered, closed entry, unique customers, first attempt, a one-hour window from the first
step-1 event, inclusive end. The pandas and polars versions compute it step by step: the first step-1
time per customer, then for each step the earliest event of that step after the previous step and
inside the window (with distinct times this is the ordered first-attempt funnel). All contenders must
give the same counts (checked). Each reads the table as generated (event names a pandas categorical,
times datetime64[ns]) with its library's ordinary calls.

``cx_metrics`` folds this spec in place with extra memory per customer, not per event
(docs/funnels.md): rows in time order in one pass (each customer's attempt a state machine fed its
rows in order, the customers split in one range per thread), other rows by passes over the columns
(one per step, the rows split in one contiguous chunk per thread). Its time on one thread
(``RAYON_NUM_THREADS=1``, in a fresh process) is printed too, and, on the shuffled rows, the time of
its sorted fold (the rows grouped by customer and sorted, the way a fold by segment always runs:
``by=`` a column of one value).

Peak memory: in a fresh (spawned) process per contender, the table is built, the peak resident size
is reset (``/proc/self/clear_refs``), the contender runs once, and the rise of the peak over the
resident size before the call is reported (the table itself is not counted); ``cx_metrics``'s is
also given at a tenth of the events (same customers), to show that it does not grow with the events.
The load average before the run is printed. Figures depend on the machine; nothing is asserted
beyond the equal counts.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import os
import resource
import time
from typing import Any

import numpy as np
import pandas as pd
from _timing import race

import cx_metrics as cx

STEPS = ["a", "b", "c", "d", "e"]
WINDOW_NS = 3600 * 1_000_000_000


ORDERS = ("time order", "shuffled")


def make(n: int, n_customers: int, order: str = "time order") -> pd.DataFrame:
    """The events, in time order (sorted by time, as a log is written) or shuffled (the same events,
    the rows in random order)."""
    rng = np.random.default_rng(20261207)
    customer = rng.integers(0, n_customers, n)
    # Steps tend to follow each other: the time grows with the step, plus noise (2 h scale).
    step = rng.choice(6, n, p=[0.3, 0.25, 0.18, 0.12, 0.08, 0.07])
    t = (step * 900 + rng.exponential(7200.0, n)) * 1e9
    t = t.astype(np.int64) + np.arange(n, dtype=np.int64) % 997  # distinct times in practice
    names = np.array([*STEPS, "other"])
    rows = np.argsort(t, kind="stable") if order == "time order" else np.arange(n)
    return pd.DataFrame(
        {
            "customer": customer[rows],
            "event": pd.Categorical(names[step[rows]]),
            "time": pd.to_datetime(t[rows], unit="ns"),
        }
    )


def _spec() -> cx.FunnelSpec:
    """The funnel every contender computes: ordered, a 1-hour window from the first step-1 event
    (inclusive end), closed entry, unique customers, first attempt."""
    return cx.FunnelSpec(
        STEPS,
        order="ordered",
        window=datetime.timedelta(hours=1),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )


def ours(df: pd.DataFrame) -> list[int]:
    spec = _spec()
    r = cx.funnel(df, spec, customer="customer", event="event", time="time")
    assert isinstance(r, cx.FunnelResult)
    return [s.count for s in r.steps]


def ours_sorted(df: pd.DataFrame) -> list[int]:
    """The same funnel by the sorted fold: one segment (a fold by segment is always sorted)."""
    spec = _spec()
    one = np.zeros(len(df), dtype=np.int8)
    r = cx.funnel(df, spec, customer="customer", event="event", time="time", by=one)
    assert isinstance(r, cx.FunnelByGroup) and len(r) == 1
    return [s.count for s in r.results[0].steps]


def with_pandas(df: pd.DataFrame) -> list[int]:
    t = df["time"].to_numpy().view(np.int64)
    d = pd.DataFrame({"customer": df["customer"].to_numpy(), "event": df["event"], "t": t})
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
            "event": pl.from_pandas(df["event"]),  # a polars Categorical
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
SORTED = "cx_metrics, sorted fold"
TIMED: dict[str, Any] = {**CONTENDERS, SORTED: ours_sorted}


def _status_kib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def _peak(name: str, n: int, n_customers: int, order: str, out: Any) -> None:
    df = make(n, n_customers, order)
    try:  # reset the peak resident size to the current one (Linux)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = _status_kib("VmRSS")
    except OSError:
        before = None
    if before is None:  # elsewhere: the rise of the lifetime peak (0 if the table made it)
        before = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        TIMED[name](df)
        out.put((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024.0)
        return
    TIMED[name](df)
    out.put(((_status_kib("VmHWM") or before) - before) / 1024.0)


def peak_mib(name: str, n: int, n_customers: int, order: str) -> float:
    ctx = mp.get_context("spawn")  # polars may deadlock in a forked child
    q = ctx.Queue()
    p = ctx.Process(target=_peak, args=(name, n, n_customers, order, q))
    p.start()
    value = float(q.get())
    p.join()
    return value


def _one_thread(n: int, n_customers: int, order: str, rounds: int, out: Any) -> None:
    df = make(n, n_customers, order)
    ours(df)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        ours(df)
        best = min(best, time.perf_counter() - start)
    out.put(best)


def one_thread_seconds(n: int, n_customers: int, order: str, rounds: int) -> float:
    """The best time of ``cx_metrics`` on one thread, in a fresh process."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    old = os.environ.get("RAYON_NUM_THREADS")
    os.environ["RAYON_NUM_THREADS"] = "1"  # read when the child's thread pool starts
    try:
        p = ctx.Process(target=_one_thread, args=(n, n_customers, order, rounds, q))
        p.start()
    finally:
        if old is None:
            del os.environ["RAYON_NUM_THREADS"]
        else:
            os.environ["RAYON_NUM_THREADS"] = old
    value = float(q.get())
    p.join()
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"5-step funnel of {args.n:,} events, {args.customers:,} customers (cx_metrics on "
        f"{os.cpu_count()} cores, best of {args.rounds} rounds, load average {load:.1f} before the run; "
        "ratios are contender time / cx_metrics time)"
    )
    tenth = args.n // 10
    for order in ORDERS:
        df = make(args.n, args.customers, order)
        timed = TIMED if order == "shuffled" else CONTENDERS
        times = race({k: (lambda f=f, d=df: f(d)) for k, f in timed.items()}, rounds=args.rounds)
        del df
        counts = {k: v[1] for k, v in times.items()}
        assert len({tuple(c) for c in counts.values()}) == 1, counts
        t_ours = times["cx_metrics"][0]
        print(f"rows in {order}; counts {counts['cx_metrics']}")
        for name in timed:
            t = times[name][0]
            ratio = "" if name == "cx_metrics" else f"  ({t / t_ours:.1f}x)"
            peak = peak_mib(name, args.n, args.customers, order)
            print(f"  {name:<23} {t:7.3f} s{ratio}  peak +{peak:.0f} MiB")
        peak = peak_mib("cx_metrics", tenth, args.customers, order)
        print(f"  cx_metrics peak at {tenth:,} events: +{peak:.0f} MiB")
        t1 = one_thread_seconds(args.n, args.customers, order, args.rounds)
        print(
            f"  cx_metrics on one thread {t1:.3f} s: pandas {times['pandas'][0] / t1:.1f}x, "
            f"polars {times['polars'][0] / t1:.1f}x of it"
        )


if __name__ == "__main__":
    main()
