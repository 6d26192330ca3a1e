#!/usr/bin/env python3
"""Generate the synthetic customer-experience survey bundled with cx-metrics.

The data are fully determined by ``--seed`` and ``--n``: the same arguments give the same bytes.
Only the Python standard library and NumPy are used (``numpy.random.Generator`` over ``PCG64``).

Model (see ``python/cx_metrics/data/README.md`` for the full description):

1. Each respondent gets a ``segment`` (region), a ``channel`` and a ``wave`` (quarter).
2. Whether the respondent had a problem contact depends on the channel (phone contacts are mostly
   about problems). Customers with no problem contact have no ``resolution`` rating (structurally
   missing, about 40 %).
3. A latent experience factor ``L`` = standard normal + segment effect + channel effect + wave trend
   - a penalty for having had a problem.
4. Six pillar ratings on 1-10: a pillar-specific mix of ``L`` and independent noise, shifted by
   pillar- and channel-specific means, rounded and clipped to 1..10. Loadings on ``L`` of 0.72-0.82
   give pairwise correlations of about 0.45-0.65.
5. ``ltr`` (0-10 likelihood to recommend) = intercept + sum of ``TRUE_WEIGHTS`` x (pillar rating -
   5.5) + normal noise, rounded and clipped to 0..10. The weights are per rating point and are the
   truth a driver analysis should recover (up to rounding and clipping of ``ltr``). For customers
   without a problem contact the resolution rating they would have given enters ``ltr`` in the same
   way and is then withheld, so a regression on complete cases is unbiased.
6. ``csat`` (1-5) and ``ces`` (CES 2.0, 1-7, higher = easier) follow the experience factor, ``ces``
   mostly the time-and-effort pillar.
7. Post-stratification-like ``weight``: population share / sample share of the segment and of the
   channel, times log-normal noise, trimmed to [0.3, 3] and scaled to mean 1.
8. Item non-response: each rating is blanked independently with a small column-specific probability.

Usage::

    python scripts/make_sample_survey.py --seed 20261123 --n 2000 \\
        --out python/cx_metrics/data/sample_survey.csv
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

DEFAULT_SEED = 20261123
DEFAULT_N = 2000

COLUMNS = (
    "respondent_id",
    "wave",
    "segment",
    "channel",
    "weight",
    "ltr",
    "csat",
    "ces",
    "integrity",
    "resolution",
    "expectations",
    "time_and_effort",
    "personalisation",
    "empathy",
)
PILLARS = (
    "integrity",
    "resolution",
    "expectations",
    "time_and_effort",
    "personalisation",
    "empathy",
)
WAVES = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
SEGMENTS = ("north", "south", "east", "west")
CHANNELS = ("web", "phone", "store", "app")

# Sample composition (who answered) and population composition (who the weights restore).
SEGMENT_SAMPLE = (0.30, 0.25, 0.25, 0.20)
SEGMENT_POPULATION = (0.25, 0.25, 0.28, 0.22)
CHANNEL_SAMPLE = (0.35, 0.25, 0.15, 0.25)
CHANNEL_POPULATION = (0.30, 0.30, 0.20, 0.20)

# Shifts of the latent experience factor.
SEGMENT_EFFECT = {"north": 0.10, "south": -0.30, "east": 0.00, "west": 0.35}
CHANNEL_EFFECT = {"web": 0.00, "phone": -0.20, "store": 0.15, "app": 0.10}
WAVE_TREND = 0.04  # per quarter
PROBLEM_EFFECT = -0.35
# Probability of a problem contact by channel (about 60 % overall).
PROBLEM_PROBABILITY = {"web": 0.55, "phone": 0.80, "store": 0.45, "app": 0.55}

# Pillars: loading on the experience factor, mean and spread of the rating (1-10 scale).
LOADING = {
    "integrity": 0.74,
    "resolution": 0.78,
    "expectations": 0.82,
    "time_and_effort": 0.78,
    "personalisation": 0.72,
    "empathy": 0.80,
}
PILLAR_MEAN = {
    "integrity": 7.4,
    "resolution": 6.9,
    "expectations": 7.1,
    "time_and_effort": 6.8,
    "personalisation": 6.4,
    "empathy": 6.9,
}
PILLAR_SD = 1.9
# Channel-specific pillar shifts (rating points): phone queues cost effort, stores feel personal.
CHANNEL_PILLAR_SHIFT = {
    ("phone", "time_and_effort"): -0.6,
    ("app", "time_and_effort"): 0.4,
    ("store", "personalisation"): 0.5,
    ("store", "empathy"): 0.4,
    ("web", "empathy"): -0.3,
}

# True weights of the pillars in ltr, per rating point (the truth for driver analysis).
TRUE_WEIGHTS = {
    "integrity": 0.20,
    "resolution": 0.35,
    "expectations": 0.25,
    "time_and_effort": 0.40,
    "personalisation": 0.05,
    "empathy": 0.15,
}
LTR_INTERCEPT = 6.6  # latent ltr when every pillar is rated 5.5 (before noise)
LTR_NOISE_SD = 1.5

# Item non-response probability per rating column (independent, completely at random).
ITEM_NONRESPONSE = {
    "ltr": 0.01,
    "csat": 0.02,
    "ces": 0.03,
    "integrity": 0.03,
    "resolution": 0.03,
    "expectations": 0.03,
    "time_and_effort": 0.03,
    "personalisation": 0.05,
    "empathy": 0.04,
}
WEIGHT_TRIM = (0.3, 3.0)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def _clip_round(x: FloatArray, low: int, high: int) -> IntArray:
    return np.clip(np.rint(x), low, high).astype(np.int64)


def _pick(rng: np.random.Generator, probs: tuple[float, ...], n: int) -> IntArray:
    return rng.choice(len(probs), size=n, p=np.asarray(probs)).astype(np.int64)


def _weights(rng: np.random.Generator, seg: IntArray, chan: IntArray) -> FloatArray:
    seg_ratio = np.asarray(SEGMENT_POPULATION) / np.asarray(SEGMENT_SAMPLE)
    chan_ratio = np.asarray(CHANNEL_POPULATION) / np.asarray(CHANNEL_SAMPLE)
    sigma = 0.35
    w = seg_ratio[seg] * chan_ratio[chan] * np.exp(sigma * rng.standard_normal(seg.size))
    low, high = WEIGHT_TRIM
    for _ in range(20):  # trim and rescale until both hold
        w = np.clip(w / w.mean(), low, high)
    rounded: FloatArray = np.round(w / w.mean(), 4)
    return rounded


def generate(seed: int = DEFAULT_SEED, n: int = DEFAULT_N) -> dict[str, NDArray[np.generic]]:
    """Draw the survey.

    Returns every public column (ratings as float, NaN for a blank) plus two hidden columns that
    the CSV does not contain: ``had_problem`` (bool; False means resolution is structurally
    missing) and ``ltr_latent`` (float, the recommendation score before rounding and clipping).
    The order of the random draws is part of the output: changing it changes the data.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.Generator(np.random.PCG64(seed))

    seg = _pick(rng, SEGMENT_SAMPLE, n)
    chan = _pick(rng, CHANNEL_SAMPLE, n)
    wave = rng.integers(0, len(WAVES), size=n).astype(np.int64)
    chan_names = np.asarray(CHANNELS)[chan]
    p_problem = np.asarray([PROBLEM_PROBABILITY[c] for c in CHANNELS])[chan]
    had_problem = rng.random(n) < p_problem

    experience = (
        rng.standard_normal(n)
        + np.asarray([SEGMENT_EFFECT[s] for s in SEGMENTS])[seg]
        + np.asarray([CHANNEL_EFFECT[c] for c in CHANNELS])[chan]
        + WAVE_TREND * wave
        + PROBLEM_EFFECT * had_problem
    )

    pillars: dict[str, FloatArray] = {}
    for name in PILLARS:
        lam = LOADING[name]
        z = lam * experience + np.sqrt(1.0 - lam * lam) * rng.standard_normal(n)
        shift = np.zeros(n)
        for (c, p), delta in CHANNEL_PILLAR_SHIFT.items():
            if p == name:
                shift += np.where(chan_names == c, delta, 0.0)
        pillars[name] = _clip_round(PILLAR_MEAN[name] + shift + PILLAR_SD * z, 1, 10).astype(np.float64)

    ltr_latent = LTR_INTERCEPT + LTR_NOISE_SD * rng.standard_normal(n)
    for name in PILLARS:
        ltr_latent = ltr_latent + TRUE_WEIGHTS[name] * (pillars[name] - 5.5)
    ltr = _clip_round(ltr_latent, 0, 10).astype(np.float64)

    csat = _clip_round(
        4.3 + 0.75 * experience + 0.1 * (pillars["expectations"] - 7.0) + 0.6 * rng.standard_normal(n),
        1,
        5,
    ).astype(np.float64)
    ces = _clip_round(
        5.1 + 0.45 * (pillars["time_and_effort"] - 6.8) + 0.35 * experience + 0.9 * rng.standard_normal(n),
        1,
        7,
    ).astype(np.float64)

    weight = _weights(rng, seg, chan)

    columns: dict[str, NDArray[np.generic]] = {
        "respondent_id": np.arange(1, n + 1, dtype=np.int64),
        "wave": np.asarray(WAVES)[wave],
        "segment": np.asarray(SEGMENTS)[seg],
        "channel": chan_names,
        "weight": weight,
        "ltr": ltr,
        "csat": csat,
        "ces": ces,
        **pillars,
    }
    columns["resolution"] = np.where(had_problem, pillars["resolution"], np.nan)
    for name, rate in ITEM_NONRESPONSE.items():
        blank = rng.random(n) < rate
        values = np.asarray(columns[name], dtype=np.float64)
        columns[name] = np.where(blank, np.nan, values)
    columns["had_problem"] = had_problem
    columns["ltr_latent"] = ltr_latent
    return columns


def to_csv(columns: dict[str, NDArray[np.generic]]) -> str:
    """Render the public columns as CSV text: integers as integers, blanks as empty fields,
    ``\\n`` line endings."""
    n = len(columns["respondent_id"])
    out = io.StringIO()
    out.write(",".join(COLUMNS) + "\n")
    for i in range(n):
        fields = []
        for name in COLUMNS:
            value = columns[name][i]
            if name in ("wave", "segment", "channel"):
                fields.append(str(value))
            elif name == "weight":
                fields.append(f"{float(value):.4f}")
            elif name == "respondent_id":
                fields.append(str(int(value)))
            else:
                v = float(value)
                fields.append("" if np.isnan(v) else str(int(v)))
        out.write(",".join(fields) + "\n")
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--n", type=int, default=DEFAULT_N)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    text = to_csv(generate(args.seed, args.n))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(text.encode("utf-8"))


if __name__ == "__main__":
    main()
