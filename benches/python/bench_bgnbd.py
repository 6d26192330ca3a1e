"""Time the BG/NBD fit of ``cx_metrics`` on the CDNOW sample (2,357 customers) against the same
likelihood written in numpy and maximised with ``scipy.optimize.minimize`` (L-BFGS-B on the
log-parameters, numerical gradient, as a careful user would write it), and against lifetimes'
``BetaGeoFitter.fit`` (not a dependency of this project: give ``--lifetimes-python`` the interpreter
of a throwaway environment where ``pip install lifetimes`` worked; it is timed there, in a
subprocess, best of the same number of rounds).

Prints seconds per fit (best of a few rounds, the contenders timed in turns), the ratios (above 1
means cx_metrics is faster) and the fitted parameters of each, which must agree. Figures depend on
the machine and on the build (``maturin develop`` builds without optimisation; a wheel is faster);
nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess

import numpy as np
from _timing import race
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

import cx_metrics as cx
from cx_metrics.buy_till_you_die import cdnow_summary


def neg_ll(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> float:
    r, alpha, a, b = np.exp(theta)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + t)
    bx = np.maximum(b + x - 1, 1e-300)
    a4 = np.where(x > 0, np.log(a) - np.log(bx) - (r + x) * np.log(alpha + tx), -np.inf)
    return -float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lifetimes-python", help="python of an environment with lifetimes installed")
    args = parser.parse_args()
    data = cdnow_summary()
    x, tx, t = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))

    def ours() -> list[float]:
        return list(cx.bgnbd(data).params.values())

    def scipy_fit() -> list[float]:
        res = minimize(neg_ll, np.zeros(4), args=(x, tx, t), method="L-BFGS-B", options={"ftol": 1e-12})
        return [float(v) for v in np.exp(res.x)]

    out = race({"cx_metrics": ours, "scipy": scipy_fit}, args.rounds)
    if args.lifetimes_python:
        out["lifetimes"] = _time_lifetimes(args.lifetimes_python, args.rounds)
    base = out["cx_metrics"][0]
    for name, (sec, params) in out.items():
        ratio = sec / base
        print(
            f"{name:>10}: {sec * 1e3:9.2f} ms  ({ratio:6.1f}x cx_metrics)  "
            f"r, alpha, a, b = {np.round(params, 4)}"
        )


_LIFETIMES = """
import json, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter
d = pd.read_csv(sys.argv[1])
best = float("inf")
for _ in range(int(sys.argv[2]) + 1):
    start = time.perf_counter()
    f = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    best = min(best, time.perf_counter() - start)
print(json.dumps([best, [float(f.params_[k]) for k in ("r", "alpha", "a", "b")]]))
"""


def _time_lifetimes(python: str, rounds: int) -> tuple[float, list[float]]:
    from importlib import resources

    path = str(resources.files("cx_metrics") / "data" / "cdnow_summary.csv")
    done = subprocess.run(
        [python, "-c", _LIFETIMES, path, str(rounds)], capture_output=True, text=True, check=True
    )
    best, params = json.loads(done.stdout.strip().splitlines()[-1])
    return float(best), params


if __name__ == "__main__":
    main()
