"""Time ``cx.driver_analysis`` against statsmodels and pingouin on the same data, in one run.

1. n = 10^6 respondents x 6 pillar ratings: ``cx.driver_analysis`` (OLS table, VIF, and every importance
   measure: LMG, Johnson, Pratt, first, last, beta squared, CAR, dominance) against statsmodels'
   ``OLS(...).fit()`` alone (coefficients and their standard errors only), from float64 columns and from
   pandas int16 columns (what survey ratings are; the core reads them as they are), and
   ``driver_analysis`` followed by the importance-performance ``matrix()`` (which reuses the fit).
2. p = 12 drivers, n = 2,000: ``cx.driver_analysis`` against pingouin's ``linear_regression(relimp=True)``
   (LMG), when pingouin is installed (``make bench`` installs it).
3. p = 6, 12, 18, 24 drivers, n = 5,000: the whole ``cx.driver_analysis`` call, to show how exact LMG over
   all 2^p subsets grows; the criterion bench ``lmg_exact`` times LMG alone on a correlation matrix.

Before timing, every contender's coefficients (and pingouin's LMG) are checked against ours, so the
ratios compare the same answer. Prints seconds per call (best of several rounds, the contenders timed
in turns) and the ratio peer / cx_metrics (above 1 means cx_metrics is faster). Figures depend on the
machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _timing import race

import cx_metrics as cx


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """(fastest wall-clock seconds of ``repeat`` calls, the value of the last call), for one contender."""
    return race({"only": fn}, repeat)["only"]


def survey(n: int, p: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """Correlated 1-10 driver ratings and a 0-10 recommendation score that depends on them."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=n)
    names = [f"d{j + 1:02d}" for j in range(p)]
    cols: dict[str, np.ndarray] = {}
    for name in names:
        latent = 0.6 * common + 0.8 * rng.normal(size=n)
        cols[name] = np.clip(np.rint(6.5 + 1.8 * latent), 1, 10)
    beta = np.linspace(0.5, 0.05, p)
    x = np.column_stack([cols[c] for c in names])
    ltr = np.clip(np.rint(1.0 + x @ beta / beta.sum() + rng.normal(scale=1.5, size=n)), 0, 10)
    return pd.DataFrame({"ltr": ltr, **cols}), names


def line(name: str, secs: float, ours: float | None) -> None:
    ratio = "" if ours is None else f"  ratio {secs / ours:7.2f}x"
    print(f"  {name:<44} {secs * 1e3:10.2f} ms{ratio}")


def versus_statsmodels(n: int, repeat: int) -> None:
    import statsmodels.api as sm

    df, names = survey(n, 6, 1)
    x = sm.add_constant(df[names].to_numpy())
    y = df["ltr"].to_numpy()
    narrow = df.astype({c: np.int16 for c in ["ltr", *names]})
    times = race(
        {
            "cx": lambda: cx.driver_analysis(df, drivers=names),
            "cx int16": lambda: cx.driver_analysis(narrow, drivers=names),
            "cx+matrix": lambda: cx.driver_analysis(narrow, drivers=names).matrix(scale=(1, 10), top_box=2),
            "sm": lambda: sm.OLS(y, x).fit(),
            "sm+X": lambda: sm.OLS(df["ltr"].to_numpy(), sm.add_constant(df[names].to_numpy())).fit(),
        },
        repeat,
    )
    (ours, r), (theirs, fit), (with_design, _) = times["cx"], times["sm"], times["sm+X"]
    (ours_int16, r16), (with_matrix, _) = times["cx int16"], times["cx+matrix"]
    if r16.to_dict() != r.to_dict():
        raise SystemExit("cx.driver_analysis of int16 and of float64 columns disagree")
    coef = r.coefficients
    if not np.allclose(coef["estimate"], fit.params, rtol=1e-9) or not np.allclose(
        coef["std_error"], fit.bse, rtol=1e-9
    ):
        raise SystemExit("statsmodels and cx.driver_analysis disagree")
    print(f"\nn = {n:,}, p = 6: full driver analysis vs OLS alone (ratio = peer / cx)")
    line("cx.driver_analysis (OLS, VIF, every measure)", ours, None)
    line("statsmodels OLS(...).fit()", theirs, ours)
    line("statsmodels add_constant + OLS(...).fit()", with_design, ours)
    print("  from pandas int16 columns (ratio = statsmodels OLS(...).fit() on float64 / cx)")
    line("cx.driver_analysis", ours_int16, None)
    line("statsmodels OLS(...).fit()", theirs, ours_int16)
    line("cx.driver_analysis + .matrix()", with_matrix, None)


def versus_pingouin(n: int, repeat: int) -> None:
    try:
        import pingouin as pg
    except ImportError:
        print("\npingouin is not installed: skipping the p = 12 comparison (`make bench` installs it)")
        return
    df, names = survey(n, 12, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        times = race(
            {
                "cx": lambda: cx.driver_analysis(df, drivers=names),
                "pingouin": lambda: pg.linear_regression(df[names], df["ltr"], relimp=True),
            },
            repeat,
        )
    (ours, r), (theirs, table) = times["cx"], times["pingouin"]
    lmg = table.set_index("names")["relimp"].drop("Intercept")
    if not np.allclose(lmg.to_numpy(), r.importance.loc[names, "lmg"].to_numpy(), rtol=1e-8):
        raise SystemExit("pingouin and cx.driver_analysis disagree on LMG")
    print(f"\nn = {n:,}, p = 12: LMG (ratio = peer / cx)")
    line("cx.driver_analysis (every measure)", ours, None)
    line("pingouin linear_regression(relimp=True)", theirs, ours)


def growth(n: int, repeat: int) -> None:
    print(f"\nn = {n:,}: cx.driver_analysis as the number of drivers grows (exact LMG, 2^p subsets)")
    for p in (6, 12, 18, 24):
        df, names = survey(n, p, 3 + p)
        secs, _ = best_time(lambda df=df, names=names: cx.driver_analysis(df, drivers=names), repeat)
        line(f"p = {p}", secs, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="respondents in the statsmodels run")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per contender")
    args = parser.parse_args()
    print(
        f"cx_metrics {cx.__version__}, numpy {np.__version__}; best of {args.repeat}, {os.cpu_count()} CPUs"
    )
    versus_statsmodels(args.n, args.repeat)
    versus_pingouin(2_000, args.repeat)
    growth(5_000, max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
