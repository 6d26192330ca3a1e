"""Print an NPS / CSAT / CES report with intervals for the bundled sample survey.

Run with ``python -m cx_metrics.demo`` (``make demo``).
"""

from __future__ import annotations

import cx_metrics as cx
from cx_metrics.datasets import sample_survey


def main() -> None:
    survey = sample_survey()
    w = survey["weight"]
    print(f"Sample survey: {len(survey)} respondents, survey weights applied (Kish effective n shown)\n")

    c = cx.csat(survey["csat"], 5, satisfied="top_two_box", weights=w)
    print("CSAT  (1-5 satisfaction with the last contact; satisfied = top two boxes)")
    print(f"  {c}")
    for method in ("wilson", "agresti_coull", "jeffreys", "clopper_pearson"):
        print(f"  95% CI {method:<16} {c.ci(0.95, method)}")
    print(f"  mean {c.mean:.2f}, {c.mean_ci()}; bottom two boxes {100 * c.share_bottom:.1f}%")

    e = cx.ces(survey["ces"], version=2, weights=w)
    print("\nCES 2.0  (1-7 'the company made it easy to handle my issue')")
    print(f"  {e}")
    print(f"  agree share {e.ci()}; net {100 * e.net:+.1f} points")


if __name__ == "__main__":
    main()
