"""Time paths of 10^7 events (transition counts and the top-k variants) against the pandas and polars
idioms, in one run.

The idioms: sort by customer and time (stable), the next event within the customer
(``groupby(...).shift(-1)`` / ``shift(-1).over(...)``), then the counts per (event, next event); and
for variants, each customer's events joined into one text, counted, the top k kept. ``cx.paths``
computes both at once (plus exits, median gaps and the Sankey base) from the same DataFrame; the
transition counts and top-k variants of every contender are checked equal before timing. Prints
seconds per call (best of several rounds, contenders timed in turns) and the ratio idiom / cx_metrics
(above 1 means cx_metrics is faster). Figures depend on the machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
from _timing import race

import cx_metrics as cx

EVENTS = np.array(["home", "search", "product", "cart", "checkout", "pay", "help", "account"])


def pandas_transitions(df: pd.DataFrame) -> pd.Series:
    d = df.sort_values(["customer", "time"], kind="stable")
    nxt = d.groupby("customer", sort=False)["event"].shift(-1)
    return d.assign(next=nxt).dropna(subset=["next"]).groupby(["event", "next"]).size()


def pandas_variants(df: pd.DataFrame, k: int) -> pd.Series:
    d = df.sort_values(["customer", "time"], kind="stable")
    return d.groupby("customer", sort=False)["event"].agg(" > ".join).value_counts().head(k)


def polars_transitions(pf: object) -> object:
    import polars as pl

    d = pf.sort(["customer", "time"], maintain_order=True)  # type: ignore[attr-defined]
    d = d.with_columns(next=pl.col("event").shift(-1).over("customer"))
    return d.drop_nulls("next").group_by(["event", "next"]).len()


def polars_variants(pf: object, k: int) -> object:
    import polars as pl

    d = pf.sort(["customer", "time"], maintain_order=True)  # type: ignore[attr-defined]
    paths = d.group_by("customer", maintain_order=True).agg(pl.col("event").str.join(" > "))
    return paths.group_by("event").len().sort("len", descending=True).head(k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000_000, help="events (default 10^7)")
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers (default 10^6)")
    parser.add_argument("--k", type=int, default=10, help="top-k variants (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats per contender")
    args = parser.parse_args()

    rng = np.random.default_rng(20261207)
    customer = rng.integers(0, args.customers, args.n, dtype=np.int64)
    # Few distinct steps, skewed: a realistic number of distinct variants.
    p = np.array([0.3, 0.2, 0.18, 0.12, 0.06, 0.05, 0.05, 0.04])
    event = EVENTS[rng.choice(len(EVENTS), args.n, p=p)]
    secs = rng.integers(0, 90 * 86_400, args.n)
    time = np.datetime64("2026-01-01", "ns") + secs.astype("timedelta64[s]")
    df = pd.DataFrame({"customer": customer, "event": event, "time": time})
    print(
        f"cx_metrics {cx.__version__}, pandas {pd.__version__}; n = {args.n:,} events, "
        f"{args.customers:,} customers, {len(EVENTS)} event names, rows in random order; "
        f"best of {args.repeat}, {os.cpu_count()} CPUs"
    )

    def ours() -> cx.PathResult:
        r = cx.paths(df, customer="customer", event="event", time="time")
        assert isinstance(r, cx.PathResult)
        return r

    r = ours()
    ref_t = pandas_transitions(df)
    g = r.graph.to_pandas().set_index(["from", "to"])["count"]
    if not g.sort_index().equals(
        ref_t.sort_index().rename("count").astype(g.dtype).rename_axis(["from", "to"])
    ):
        raise SystemExit("the pandas transition counts disagree with cx.paths")
    ref_v = pandas_variants(df, args.k)
    if r.variants(args.k)["count"] != ref_v.tolist():
        raise SystemExit("the pandas top-k variant counts disagree with cx.paths")
    contenders = {
        "cx.paths (all tables)": ours,
        "pandas transitions": lambda: pandas_transitions(df),
        "pandas top-k variants": lambda: pandas_variants(df, args.k),
    }
    try:
        import polars as pl

        pf = pl.from_pandas(df)
        if polars_transitions(pf)["len"].sum() != int(ref_t.sum()):  # type: ignore[index]
            raise SystemExit("the polars transition counts disagree with pandas")
        contenders["polars transitions"] = lambda: polars_transitions(pf)
        contenders["polars top-k variants"] = lambda: polars_variants(pf, args.k)
    except ImportError:
        pass
    timings = race(contenders, args.repeat)
    mine = timings["cx.paths (all tables)"][0]
    print("\npaths of an event log (ratio = idiom time / cx_metrics time)")
    for name, (secs, _) in timings.items():
        ratio = "" if name.startswith("cx.") else f"  ratio {secs / mine:6.1f}x"
        print(f"  {name:<34} {secs * 1e3:9.1f} ms{ratio}")


if __name__ == "__main__":
    main()
