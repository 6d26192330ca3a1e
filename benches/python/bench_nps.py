"""Time ``cx.nps`` against what a user would otherwise write: numpy and pandas, same data, one run.

Prints seconds per call (best of several rounds, the contenders timed in turns) and the ratio
peer / cx_metrics (above 1 means cx_metrics is faster). Unweighted on int16 and int64 ratings, and
weighted with float64 weights; then the Dirichlet and bootstrap intervals of one large result.
Run with ``make bench``. Figures depend on the machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import numpy.typing as npt
import pandas as pd
from _timing import race

import cx_metrics as cx


def numpy_nps(y: npt.NDArray[np.integer]) -> float:
    return float((np.count_nonzero(y >= 9) - np.count_nonzero(y <= 6)) / y.size)


def numpy_weighted_nps(y: npt.NDArray[np.integer], w: npt.NDArray[np.float64]) -> float:
    return float((w[y >= 9].sum() - w[y <= 6].sum()) / w.sum())


def pandas_nps(s: pd.Series) -> float:
    return float((s >= 9).mean() - (s <= 6).mean())


def pandas_weighted_nps(s: pd.Series, w: pd.Series) -> float:
    return float((w[s >= 9].sum() - w[s <= 6].sum()) / w.sum())


def report(
    title: str,
    timings: dict[str, tuple[float, float]],
    base: str = "cx.nps",
    atol: float = 1e-12,
) -> None:
    """Seconds per contender and the ratio to ``base``; every value must equal ``base``'s within
    ``atol`` (Monte Carlo peers within their sampling error)."""
    ours, value = timings[base]
    print(f"\n{title}")
    for name, (secs, v) in timings.items():
        if not np.isclose(v, value, rtol=1e-9, atol=atol):
            raise SystemExit(f"{name} disagrees with {base}: {v} vs {value}")
        ratio = "" if name == base else f"  ratio {secs / ours:6.2f}x"
        print(f"  {name:<28} {secs * 1e3:9.2f} ms{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000_000, help="respondents (default 10^7)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per contender")
    args = parser.parse_args()

    rng = np.random.default_rng(20261123)
    y64 = rng.integers(0, 11, args.n, dtype=np.int64)
    y16 = y64.astype(np.int16)
    w = rng.uniform(0.3, 3.0, args.n)
    s64, s16, ws = pd.Series(y64), pd.Series(y16), pd.Series(w)
    print(
        f"cx_metrics {cx.__version__}, numpy {np.__version__}, pandas {pd.__version__}; "
        f"n = {args.n:,}, best of {args.repeat}, {os.cpu_count()} CPUs"
    )

    for label, y, s in (("int16", y16, s16), ("int64", y64, s64)):
        report(
            f"unweighted, {label} ratings (ratio = peer time / cx.nps time)",
            race(
                {
                    "cx.nps": lambda y=y: cx.nps(y).score,
                    "numpy count_nonzero": lambda y=y: numpy_nps(y),
                    "pandas Series": lambda s=s: pandas_nps(s),
                },
                args.repeat,
            ),
        )
    report(
        "weighted, int64 ratings, float64 weights",
        race(
            {
                "cx.nps": lambda: cx.nps(y64, weights=w).score,
                "numpy masked sums": lambda: numpy_weighted_nps(y64, w),
                "pandas Series": lambda: pandas_weighted_nps(s64, ws),
            },
            args.repeat,
        ),
    )
    # Intervals of a large sample: the Dirichlet and bootstrap intervals no longer grow with n (they
    # took 8 s at n = 10^7 while holding the GIL). The peers are what a user would write in numpy:
    # Monte Carlo draws of the Dirichlet posterior, and a multinomial bootstrap of the counts.
    r = cx.nps(y64)
    counts = np.array([r.n_detractors, r.n_passives, r.n_promoters], dtype=np.float64)

    def numpy_dirichlet(draws: int = 100_000) -> tuple[float, float]:
        g = np.random.default_rng(1).dirichlet(counts + 1.0, draws)
        lo, hi = np.quantile(g[:, 2] - g[:, 0], [0.025, 0.975])
        return float(lo), float(hi)

    def numpy_bootstrap(resamples: int = 9999) -> tuple[float, float]:
        m = np.random.default_rng(1).multinomial(int(counts.sum()), counts / counts.sum(), resamples)
        lo, hi = np.quantile((m[:, 2] - m[:, 0]) / counts.sum(), [0.025, 0.975])
        return float(lo), float(hi)

    report(
        f"95% intervals of one result, n = {args.n:,} (ratio = peer time / cx time)",
        race(
            {
                "cx dirichlet": lambda: r.ci(method="dirichlet").low,
                "numpy Dirichlet draws (10^5)": lambda: numpy_dirichlet()[0],
            },
            args.repeat,
        ),
        base="cx dirichlet",
        atol=2e-3,  # Monte Carlo error of a 2.5 % quantile from 10^5 draws, with room
    )
    report(
        f"bootstrap interval of one result, n = {args.n:,}, 9999 resamples",
        race(
            {
                "cx bootstrap": lambda: r.ci(method="bootstrap").low,
                "numpy multinomial bootstrap": lambda: numpy_bootstrap()[0],
            },
            args.repeat,
        ),
        base="cx bootstrap",
        atol=2e-3,
    )


if __name__ == "__main__":
    main()
