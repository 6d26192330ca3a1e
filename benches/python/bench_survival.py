"""Time the Kaplan-Meier estimate of ``cx_metrics`` against lifelines ``KaplanMeierFitter.fit`` on the
same tickets, one run: 10^7 waits in minutes rounded to a tenth (so many tied times, as real ticket
data have), 20 % still open.

Prints seconds per call (best of a few rounds, the contenders timed in turns) and the ratio
lifelines / cx_metrics (above 1 means cx_metrics is faster), checks that both give the same median, then
the phases of ours (fold, result, quantile with its Brookmeyer-Crowley interval). The fold uses the
threads of rayon's pool: all cores, or ``RAYON_NUM_THREADS`` (run once with ``RAYON_NUM_THREADS=1`` for
the single-thread figure). Run with ``make bench``. Figures depend on the machine; nothing here is
asserted.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _timing import race

from cx_metrics import EventTable


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import lifelines

    rng = np.random.default_rng(20261206)
    waits = np.round(rng.exponential(30.0, args.n), 1) + 0.1
    answered = rng.random(args.n) < 0.8
    codes = answered.astype(np.uint8)

    def ours() -> float:
        t = EventTable()
        t.fold(waits, codes)
        q = t.result().quantile(0.5, 0.95, "log_log", "smallest")
        return float(q[1] if q[1] is not None else np.nan)

    def theirs() -> float:
        kmf = lifelines.KaplanMeierFitter().fit(waits, answered)
        return float(kmf.median_survival_time_)

    times = race({"cx_metrics": ours, "lifelines": theirs}, rounds=args.rounds)
    (t_ours, m_ours), (t_theirs, m_theirs) = times["cx_metrics"], times["lifelines"]
    print(f"Kaplan-Meier of {args.n:,} tickets (median {m_ours:g}; lifelines {m_theirs:g})")
    print(f"  cx_metrics EventTable.fold + result: {t_ours:.3f} s")
    print(f"  lifelines KaplanMeierFitter.fit:     {t_theirs:.3f} s  ({t_theirs / t_ours:.1f}x)")
    threads = os.environ.get("RAYON_NUM_THREADS") or f"{os.cpu_count()} (all cores)"
    table = EventTable()
    table.fold(waits, codes)
    km = table.result()

    def fold() -> None:
        EventTable().fold(waits, codes)

    for name, call in (
        ("fold", fold),
        ("result", table.result),
        ("quantile + interval", lambda: km.quantile(0.5, 0.95, "log_log", "smallest")),
    ):
        best = float("inf")
        for _ in range(args.rounds):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
        print(f"    {name}: {best:.4f} s")
    print(f"  ({len(km.times):,} distinct times; fold threads: {threads})")


if __name__ == "__main__":
    main()
