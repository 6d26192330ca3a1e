#!/usr/bin/env python3
"""Generate the synthetic journey survey and mystery-shopping audit bundled with cx-metrics.

The data are fully determined by ``--seed``: the same arguments give the same bytes. Only the
Python standard library and NumPy are used (``numpy.random.Generator`` over ``PCG64``).

Model:

1. Three brands (``Northwind``, the company, and two competitors ``Contoso`` and ``Fabrikam``), each
   with ``--customers`` customers in two segments (``new``, ``returning``).
2. The journey map (``JOURNEY`` below): six stages from awareness to return, eleven touchpoints, own
   channels and third parties. Each customer reaches the next stage with a stage-specific
   probability (``REACH``), so fewer customers reach the later stages.
3. At each stage reached, the customer uses one touchpoint of the stage (chosen with
   touchpoint-specific probabilities) and, with probability 0.3, a second one.
4. Each use is rated: a latent experience ``L`` = touchpoint quality + brand effect + customer
   effect (normal, sd 0.6) + noise (sd 1); ``ltr`` (0-10), ``csat`` (1-5) and ``ces`` (CES 2.0,
   1-7, higher = easier) are thresholded from ``L`` and from ``L`` plus the touchpoint's effort
   penalty. Each rating is blanked with probability 0.04 (item non-response).
5. The audit: 40 mystery-shopping visits per audited touchpoint of Northwind (shop, call centre,
   chat, website) at three locations; each visit checks every standard of the touchpoint, passed
   with a standard- and location-specific probability, not applicable with probability 0.05.

Usage::

    python scripts/make_sample_journey.py --seed 20261207 --customers 400 \\
        --out python/cx_metrics/data/sample_journey.csv \\
        --audit-out python/cx_metrics/data/sample_journey_audit.csv
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import numpy as np

# stage, touchpoint, channel, ownership, use probability within the stage, quality, effort penalty
JOURNEY = [
    ("awareness", "social ads", "social media", "third_party", 0.55, 0.6, 0.0),
    ("awareness", "search", "search engine", "third_party", 0.45, 0.8, 0.0),
    ("consideration", "website", "website", "own", 0.7, 0.7, 0.3),
    ("consideration", "reviews", "review site", "third_party", 0.3, 0.4, 0.0),
    ("purchase", "app", "app", "own", 0.35, 0.9, 0.0),
    ("purchase", "shop", "store", "own", 0.4, 0.6, 0.2),
    ("purchase", "marketplace", "marketplace", "third_party", 0.25, 0.3, 0.4),
    ("delivery", "carrier", "delivery", "third_party", 1.0, -0.4, 0.6),
    ("support", "call centre", "call centre", "own", 0.6, -0.6, 1.4),
    ("support", "chat", "chat", "own", 0.4, 0.1, 0.6),
    ("return", "returns desk", "store", "own", 1.0, -0.2, 0.9),
]
STAGES = ["awareness", "consideration", "purchase", "delivery", "support", "return"]
# Probability of reaching stage s + 1 from stage s.
REACH = [0.8, 0.75, 0.95, 0.45, 0.5]
BRANDS = {"Northwind": 0.0, "Contoso": 0.35, "Fabrikam": -0.3}
SEGMENTS = {"new": -0.2, "returning": 0.2}

# touchpoint, standard, pass probability
STANDARDS = [
    ("shop", "greeted within 30 s", 0.85),
    ("shop", "price tags correct", 0.93),
    ("shop", "offered help at the till", 0.6),
    ("call centre", "answered within 60 s", 0.55),
    ("call centre", "identity check done", 0.95),
    ("call centre", "summary at the end", 0.7),
    ("chat", "first reply within 2 min", 0.75),
    ("chat", "issue solved in the chat", 0.65),
    ("website", "checkout under 3 steps", 0.9),
    ("website", "delivery cost shown early", 0.8),
]
LOCATIONS = {"Leeds": 0.05, "Bristol": 0.0, "Glasgow": -0.12}


def _cut(x: float, cuts: list[float], low: int) -> int:
    return low + int(np.searchsorted(cuts, x))


def survey(seed: int, customers: int) -> list[dict[str, object]]:
    rng = np.random.Generator(np.random.PCG64(seed))
    rows: list[dict[str, object]] = []
    ltr_cuts = [-2.2, -1.8, -1.4, -1.0, -0.6, -0.25, 0.1, 0.5, 1.0, 1.6]
    csat_cuts = [-1.6, -0.7, 0.2, 1.2]
    ces_cuts = [-2.0, -1.3, -0.6, 0.0, 0.6, 1.4]
    cid = 0
    for brand, brand_effect in BRANDS.items():
        for _ in range(customers):
            cid += 1
            segment = "new" if rng.random() < 0.5 else "returning"
            person = rng.normal(0.0, 0.6) + SEGMENTS[segment] + brand_effect
            for s, stage in enumerate(STAGES):
                if s > 0 and rng.random() >= REACH[s - 1]:
                    break
                tps = [t for t in JOURNEY if t[0] == stage]
                p = np.array([t[4] for t in tps])
                first = int(rng.choice(len(tps), p=p / p.sum()))
                used = [first]
                if len(tps) > 1 and rng.random() < 0.3:
                    used.append(int(rng.choice([k for k in range(len(tps)) if k != first])))
                for k in used:
                    _, name, _, _, _, quality, effort = tps[k]
                    latent = quality + person + rng.normal(0.0, 1.0)
                    ratings: dict[str, object] = {
                        "ltr": _cut(latent + 0.3 * rng.normal(), ltr_cuts, 0),
                        "csat": _cut(latent + 0.3 * rng.normal(), csat_cuts, 1),
                        "ces": _cut(latent - effort + 0.4 * rng.normal(), ces_cuts, 1),
                    }
                    for col in ratings:
                        if rng.random() < 0.04:
                            ratings[col] = ""
                    rows.append(
                        {
                            "brand": brand,
                            "customer_id": cid,
                            "segment": segment,
                            "stage": stage,
                            "touchpoint": name,
                            **ratings,
                        }
                    )
    return rows


def audit(seed: int) -> list[dict[str, object]]:
    rng = np.random.Generator(np.random.PCG64(seed + 1))
    rows: list[dict[str, object]] = []
    visit = 0
    for touchpoint in dict.fromkeys(t for t, _, _ in STANDARDS):
        for _ in range(40):
            visit += 1
            location = list(LOCATIONS)[int(rng.integers(len(LOCATIONS)))]
            for tp, standard, p in STANDARDS:
                if tp != touchpoint:
                    continue
                if rng.random() < 0.05:
                    passed: object = ""
                else:
                    passed = int(rng.random() < min(1.0, p + LOCATIONS[location]))
                rows.append(
                    {
                        "visit_id": visit,
                        "touchpoint": touchpoint,
                        "location": location,
                        "standard": standard,
                        "passed": passed,
                    }
                )
    return rows


def to_csv(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--customers", type=int, default=400, help="customers per brand")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--audit-out", type=Path, required=True)
    a = ap.parse_args()
    a.out.write_bytes(to_csv(survey(a.seed, a.customers)))
    a.audit_out.write_bytes(to_csv(audit(a.seed)))


if __name__ == "__main__":
    main()
