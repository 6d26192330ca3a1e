"""Peak extra memory of ``cx.driver_analysis`` on 10^7 respondents x 7 int16 columns (134 MiB).

Each measurement runs in a fresh Python subprocess so that no earlier allocation hides in the peak:
the child builds the pandas DataFrame of int16 columns (an outcome and six drivers), reads its peak
resident set size (``VmHWM`` in ``/proc/self/status``, else ``resource.getrusage``), runs the analysis
once and reads the peak again. The extra memory is the rise of the peak during the call; the figure to
hold it against is the size of the input (the target is at most a quarter of it). The child then checks
the coefficients against a float64 solve of the normal equations, so the figure is that of a correct
answer. Figures depend on the machine and the allocator; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    import pandas as pd
    import cx_metrics as cx

    def peak_bytes():
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale

    n, p, weighted = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    rng = np.random.default_rng(7)
    names = [f"d{j + 1}" for j in range(p)]
    # Integer arithmetic only, so that building the data leaves no float64 temporaries in the peak.
    common = rng.integers(-3, 4, size=n, dtype=np.int16)
    cols = {}
    for name in names:
        cols[name] = np.clip(6 + common + rng.integers(-3, 4, size=n, dtype=np.int16), 1, 10).astype(np.int16)
    ltr = np.zeros(n, dtype=np.int16)
    for name in names[:3]:
        ltr += cols[name]
    ltr = np.clip(ltr // 3 + rng.integers(-2, 3, size=n, dtype=np.int16), 0, 10).astype(np.int16)
    df = pd.DataFrame({"ltr": ltr, **cols}, copy=False)
    del cols, ltr, common
    if weighted:
        df["w"] = rng.uniform(0.5, 2.0, size=n)
    input_bytes = int(df.memory_usage(index=False, deep=True).sum())
    import gc; gc.collect()
    try:  # reset the peak to the current resident set (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = peak_bytes()
    r = cx.driver_analysis(df, drivers=names, weights="w" if weighted else None)
    after = peak_bytes()
    # The same coefficients from the normal equations in float64, in slices (not measured).
    k = p + 1
    xtx = np.zeros((k, k)); xty = np.zeros(k)
    wcol = df["w"].to_numpy() if weighted else None
    for s in range(0, n, 1 << 20):
        x = np.column_stack([np.ones(min(n, s + (1 << 20)) - s)] +
                            [df[c].to_numpy()[s:s + (1 << 20)].astype(np.float64) for c in names])
        y = df["ltr"].to_numpy()[s:s + (1 << 20)].astype(np.float64)
        if wcol is not None:
            ws = wcol[s:s + (1 << 20)]
            xtx += x.T @ (x * ws[:, None]); xty += x.T @ (y * ws)
        else:
            xtx += x.T @ x; xty += x.T @ y
    beta = np.linalg.solve(xtx, xty)
    ok = bool(np.allclose(r.coefficients["estimate"].to_numpy(), beta, rtol=1e-8, atol=1e-10))
    print(json.dumps({"input": input_bytes, "extra": after - before, "ok": ok}))
    """
)


def measure(n: int, p: int, weighted: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(p), "1" if weighted else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000_000, help="respondents")
    parser.add_argument("--drivers", type=int, default=6, help="driver columns (plus the outcome)")
    args = parser.parse_args()
    mib = 1024.0 * 1024.0
    print(f"\nn = {args.n:,}, {args.drivers} int16 drivers + int16 outcome: peak extra memory of one call")
    for weighted in (False, True):
        r = measure(args.n, args.drivers, weighted)
        label = "cx.driver_analysis" + (" (float64 weights)" if weighted else "")
        check = "" if r["ok"] else "  COEFFICIENTS DISAGREE WITH THE NORMAL EQUATIONS"
        print(
            f"  {label:<44} input {r['input'] / mib:8.1f} MiB  extra {r['extra'] / mib:8.1f} MiB"
            f"  ({r['extra'] / r['input']:.2f} of the input){check}"
        )


if __name__ == "__main__":
    main()
