"""Print an NPS / CSAT / CES report with intervals for the bundled sample survey.

Run with ``python -m cx_metrics.demo`` (``make demo``).
"""

from __future__ import annotations

import cx_metrics as cx
from cx_metrics.datasets import sample_survey


def points(x: float) -> str:
    return f"{100 * x:+6.1f}"


def main() -> None:
    survey = sample_survey()
    w = survey["weight"]
    print(f"Sample survey: {len(survey)} respondents, survey weights applied (Kish effective n shown)\n")

    r = cx.nps(survey["ltr"], weights=w)
    print("Net Promoter Score  (0-10 'how likely are you to recommend us?')")
    print(f"  {r}")
    print(f"  effective n {r.effective_n:.0f}; {r.n_omitted} blank answers omitted")
    for method in ("adjusted_wald", "wald", "tango", "dirichlet"):
        ci = r.ci(0.95, method)
        print(f"  95% CI {method:<14} {points(ci.low)} to {points(ci.high)}")
    print("  by segment (unweighted, adjusted Wald):")
    for segment, group in survey.groupby("segment", observed=True):
        s = cx.nps(group["ltr"])
        ci = s.ci()
        print(f"    {segment:<6} NPS {points(s.score)}  [{points(ci.low)}, {points(ci.high)}]  n={s.n}")
    north = survey.loc[survey["segment"] == "north", "ltr"]
    west = survey.loc[survey["segment"] == "west", "ltr"]
    print(f"  north - west: {cx.compare_nps(north, west)}")

    c = cx.csat(survey["csat"], 5, satisfied="top_two_box", weights=w)
    print("\nCSAT  (1-5 satisfaction with the last contact; satisfied = top two boxes)")
    print(f"  {c}")
    for method in ("wilson", "agresti_coull", "jeffreys", "clopper_pearson"):
        print(f"  95% CI {method:<16} {c.ci(0.95, method)}")
    print(f"  mean {c.mean:.2f}, {c.mean_ci()}; bottom two boxes {100 * c.share_bottom:.1f}%")

    e = cx.ces(survey["ces"], version=2, weights=w)
    print("\nCES 2.0  (1-7 'the company made it easy to handle my issue')")
    print(f"  {e}")
    print(f"  agree share {e.ci()}; net {100 * e.net:+.1f} points")

    print(f"\nNPS needed for a +-5 point 95% interval: {cx.nps_sample_size(0.05)} respondents")


if __name__ == "__main__":
    main()
