"""Coverage of the NPS confidence intervals by simulation (the table in docs/intervals.md).

For every sample size n and every true share pattern (promoters, passives, detractors), draw
``--samples`` multinomial samples (numpy, seeded), compute each method's 95 % interval with
cx_metrics and count how often it contains the true NPS. A sample's interval depends only on its
three counts, so each distinct outcome is computed once and weighted by how often it was drawn: the
result is the same as computing every sample's interval.

The Monte Carlo standard error of a coverage c is sqrt(c (1 - c) / samples): 0.0015 at c = 0.95 with
20,000 samples, so a coverage below 0.947 is under nominal beyond doubt (two standard errors).

Run (about ten minutes with a release build; ``make develop`` first):

    .venv/bin/python scripts/coverage_nps.py            # the full table, as Markdown
    .venv/bin/python scripts/coverage_nps.py --samples 2000 --n 20 50   # a quick look
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

import cx_metrics as cx

METHODS = ("adjusted_wald", "wald", "tango", "dirichlet", "bootstrap")
PATTERNS = {
    "90/5/5": (0.90, 0.05, 0.05),
    "70/20/10": (0.70, 0.20, 0.10),
    "45/30/25": (0.45, 0.30, 0.25),
    "20/30/50": (0.20, 0.30, 0.50),
}
"""Shares of promoters / passives / detractors (true NPS +85, +60, +20, -30)."""


def coverage(
    n: int, shares: tuple[float, float, float], samples: int, level: float, seed: int
) -> dict[str, float]:
    """Share of ``samples`` samples of size ``n`` whose interval contains the true NPS, per method."""
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, shares, size=samples)
    truth = shares[0] - shares[2]
    hits = dict.fromkeys(METHODS, 0)
    for (p, o, d), count in Counter(map(tuple, draws.tolist())).items():
        r = cx.nps([10] * p + [7] * o + [0] * d)
        for m in METHODS:
            if r.ci(level, m).contains(truth):  # type: ignore[arg-type]
                hits[m] += count
    return {m: hits[m] / samples for m in METHODS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--n", type=int, nargs="+", default=[20, 50, 100, 500])
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    print(f"| n | promoters / passives / detractors | {' | '.join(METHODS)} |")
    print("| --- | --- |" + " --- |" * len(METHODS))
    for i, n in enumerate(args.n):
        for j, (name, shares) in enumerate(PATTERNS.items()):
            c = coverage(n, shares, args.samples, args.level, args.seed + 100 * i + j)
            low = args.level - 0.003  # two Monte Carlo standard errors below nominal at 20,000 samples
            cells = " | ".join(f"**{c[m]:.3f}**" if c[m] < low else f"{c[m]:.3f}" for m in METHODS)
            print(f"| {n} | {name} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
