"""cx.response_times with tickets closed unanswered: the intervals of the time to a reply (the quantiles
of the Aalen-Johansen cumulative incidence of a reply, CIF) and of P(reply within target).

The interval of a quantile inverts the pointwise band of the CIF (the Brookmeyer-Crowley principle):
the lower limit is the first time the band's upper curve reaches p, the upper limit the first time its
lower curve does.

References and tolerances:
- lifelines 0.30 ``AalenJohansenFitter(event_of_interest=1)``, on distinct durations (lifelines jitters
  tied times) whose last one is censored (at the last time with everyone leaving, lifelines' variance is
  NaN): its ``cumulative_density_`` to 1e-12 absolute, its ``variance_`` to 1e-9 relative, its
  ``confidence_interval_`` (log(-log F) transform; its two columns hold the limits in the other order,
  hence min / max) to 1e-9 relative. The quantile limits are read from lifelines' interval columns by a
  numpy scan written here, and must be the same observed durations (1e-12 absolute).
- The ``log`` and ``plain`` transforms: numpy formulas written here on lifelines' variance, 1e-9 relative.
- Weights: integer weights against the same tickets repeated (a brute-force computation, 1e-12), and
  real weights against lifelines' weighted fit (weights as frequencies), 1e-9 relative.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.service_times import ResponseTimes, ResponseTimesByGroup

lifelines = pytest.importorskip("lifelines")

Z95 = 1.959963984540054


def _tickets(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct durations (no ties), outcomes 0 open / 1 reply / 2 closed unanswered, the longest open."""
    rng = np.random.default_rng(seed)
    d = np.round(rng.permutation(n) + rng.uniform(0.05, 0.95, n), 6) + 1.0
    o = rng.choice([0, 1, 2], size=n, p=[0.1, 0.6, 0.3]).astype(np.uint8)
    o[np.argmax(d)] = 0
    return d, o


def _lifelines(d: np.ndarray, o: np.ndarray, w: np.ndarray | None = None) -> pd.DataFrame:
    """lifelines' curve, variance and limits per time (the t=0 row and rows with F=0 dropped)."""
    aj = lifelines.AalenJohansenFitter(calculate_variance=True).fit(d, o, event_of_interest=1, weights=w)
    ci = aj.confidence_interval_.to_numpy()
    frame = pd.DataFrame(
        {
            "F": aj.cumulative_density_.iloc[:, 0].to_numpy(),
            "var": aj.variance_.to_numpy(),
            "lo": ci.min(axis=1),
            "hi": ci.max(axis=1),
        },
        index=aj.cumulative_density_.index.to_numpy(),
    )
    return frame[frame["F"] > 0]


def _first(times: np.ndarray, curve: np.ndarray, p: float) -> float | None:
    reached = np.flatnonzero(curve >= p)
    return None if len(reached) == 0 else float(times[reached[0]])


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_band_of_the_reply_incidence_is_lifelines(seed: int) -> None:
    d, o = _tickets(300, seed)
    r = cx.response_times(durations=d, outcomes=o, quantiles=(0.5,))
    assert isinstance(r, ResponseTimes)
    ref = _lifelines(d, o)
    km = r.curve
    se, lo, hi = km.incidence_band(0.95, "log_log")
    at = np.searchsorted(km.times, ref.index.to_numpy())
    assert np.allclose(km.times[at], ref.index.to_numpy(), rtol=0, atol=1e-12)
    assert np.allclose(km.cif_event[at], ref["F"], rtol=0, atol=1e-12)
    assert np.allclose(se[at] ** 2, ref["var"], rtol=1e-9, atol=0)
    assert np.allclose(lo[at], ref["lo"], rtol=1e-9, atol=0)
    assert np.allclose(hi[at], ref["hi"], rtol=1e-9, atol=0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_reply_quantile_intervals_invert_lifelines_band(seed: int) -> None:
    d, o = _tickets(300, seed)
    qs = (0.1, 0.25, 0.4, 0.5, 0.6, 0.8)
    r = cx.response_times(durations=d, outcomes=o, quantiles=qs, target=40.0)
    assert isinstance(r, ResponseTimes) and r.competing
    ref = _lifelines(d, o)
    t = ref.index.to_numpy()
    for q in r.reply_quantiles:
        assert q.estimator == "aalen_johansen" and q.conf_type == "log_log"
        assert _same(q.estimate, _first(t, ref["F"].to_numpy(), q.p)), q
        assert _same(q.low, _first(t, ref["hi"].to_numpy(), q.p)), q
        assert _same(q.high, _first(t, ref["lo"].to_numpy(), q.p)), q
    # Some limits exist, and 80% is beyond the data (about two thirds of the tickets are ever answered).
    assert any(q.low is not None and q.high is not None for q in r.reply_quantiles)
    assert r.reply_quantiles[-1].estimate is None
    # P(reply within 40): lifelines' F and limits at the last time <= 40.
    row = ref[ref.index <= 40.0].iloc[-1]
    assert r.within == pytest.approx(row["F"], abs=1e-12)
    assert r.within_low == pytest.approx(row["lo"], rel=1e-9)
    assert r.within_high == pytest.approx(row["hi"], rel=1e-9)


@pytest.mark.parametrize("conf_type", ["log", "plain"])
def test_other_transforms_apply_to_the_incidence(conf_type: str) -> None:
    d, o = _tickets(250, 7)
    qs = (0.2, 0.35, 0.5)
    r = cx.response_times(durations=d, outcomes=o, quantiles=qs, target=30.0, conf_type=conf_type)  # type: ignore[arg-type]
    assert isinstance(r, ResponseTimes)
    ref = _lifelines(d, o)
    f, se = ref["F"].to_numpy(), np.sqrt(ref["var"].to_numpy())
    if conf_type == "log":  # log F: R survfit's transform of a multi-state curve
        lo, hi = f * np.exp(-Z95 * se / f), np.minimum(f * np.exp(Z95 * se / f), 1.0)
    else:
        lo, hi = np.maximum(f - Z95 * se, 0.0), np.minimum(f + Z95 * se, 1.0)
    t = ref.index.to_numpy()
    for q in r.reply_quantiles:
        assert q.conf_type == conf_type
        assert _same(q.low, _first(t, hi, q.p)) and _same(q.high, _first(t, lo, q.p)), q
    j = int(np.flatnonzero(t <= 30.0)[-1])
    assert (r.within_low, r.within_high) == pytest.approx((lo[j], hi[j]), rel=1e-9)
    assert f"{conf_type} band of CIF_reply" in str(r)


def test_integer_weights_are_frequencies_and_real_weights_match_lifelines() -> None:
    d, o = _tickets(120, 11)
    rng = np.random.default_rng(11)
    w = rng.integers(1, 4, len(d)).astype(float)
    qs = (0.2, 0.4, 0.5)
    weighted = cx.response_times(
        durations=d, outcomes=o, weights=w, quantiles=qs, quantile_method="nearest_rank"
    )
    repeated = cx.response_times(
        durations=np.repeat(d, w.astype(int)), outcomes=np.repeat(o, w.astype(int)), quantiles=qs
    )
    assert isinstance(weighted, ResponseTimes) and isinstance(repeated, ResponseTimes)
    for a, b in zip(weighted.reply_quantiles, repeated.reply_quantiles, strict=True):
        assert (a.estimate, a.low, a.high) == (b.estimate, b.low, b.high)
    se_w, lo_w, _ = weighted.curve.incidence_band(0.95, "log_log")
    se_r, lo_r, _ = repeated.curve.incidence_band(0.95, "log_log")
    assert np.allclose(se_w, se_r, rtol=1e-12, atol=0) and np.allclose(lo_w, lo_r, rtol=1e-12, atol=1e-15)
    assert "weights as frequencies" in str(weighted)
    real = rng.gamma(2.0, 0.5, len(d))
    r = cx.response_times(durations=d, outcomes=o, weights=real, quantiles=qs, quantile_method="nearest_rank")
    assert isinstance(r, ResponseTimes)
    with pytest.warns(Warning):  # lifelines warns that the weights are not integers
        ref = _lifelines(d, o, real)
    se, lo, _ = r.curve.incidence_band(0.95, "log_log")
    at = np.searchsorted(r.curve.times, ref.index.to_numpy())
    assert np.allclose(se[at] ** 2, ref["var"], rtol=1e-9, atol=0)
    assert np.allclose(lo[at], ref["lo"], rtol=1e-9, atol=0)
    t = ref.index.to_numpy()
    for q in r.reply_quantiles:
        assert _same(q.low, _first(t, ref["hi"].to_numpy(), q.p))
        assert _same(q.high, _first(t, ref["lo"].to_numpy(), q.p))


def test_an_upper_limit_beyond_the_data_is_printed_unbounded() -> None:
    # Replies at 1..6, closures at 1.5, 2.5, one open at 7: CIF_reply reaches 6/8 by 6; with so few
    # tickets the lower band stays below 70% within the data.
    d = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.5, 2.5, 7.0])
    o = np.array([1, 1, 1, 1, 1, 1, 2, 2, 0], dtype=np.uint8)
    r = cx.response_times(durations=d, outcomes=o, quantiles=(0.5, 0.6), unit="hours")
    assert isinstance(r, ResponseTimes)
    q = r.reply_quantiles[1]
    assert q.estimate is not None and q.low is not None and q.high is None
    _, lo, _ = r.curve.incidence_band(0.95, "log_log")
    assert lo.max() < 0.6  # the lower band never reaches p: no upper limit within the data
    text = str(r)
    assert f"time to reply p60 {q.estimate:.2f} (95% CI {q.low:.2f} to unbounded;" in text
    assert "delta-method variance of CIF_reply as lifelines' AalenJohansenFitter" in text
    assert "unbounded" in r._repr_html_()
    assert r.to_dict()["reply_quantiles"][1]["high"] is None
    assert "covers p" in r.estimates()["reply_quantiles"]


def test_stored_results_keep_the_intervals_and_older_ones_get_them_from_the_curve() -> None:
    d, o = _tickets(80, 5)
    r = cx.response_times(durations=d, outcomes=o, quantiles=(0.25, 0.5), confidence_level=0.9)
    assert isinstance(r, ResponseTimes)
    assert ResponseTimes.from_json(r.to_json()).reply_quantiles == r.reply_quantiles
    # A result stored before the intervals: six fields per reply quantile, low and high None.
    stored = json.loads(r.to_json())
    body = stored if "reply_quantiles" in stored else next(v for v in stored.values() if isinstance(v, dict))
    body["reply_quantiles"] = [[*q[:2], None, None, *q[4:6]] for q in body["reply_quantiles"]]
    back = ResponseTimes.from_json(json.dumps(stored))
    assert back.reply_quantiles == r.reply_quantiles
    assert any(q.low is not None for q in back.reply_quantiles)


def test_groups_get_the_same_intervals_as_their_tickets_alone() -> None:
    d, o = _tickets(400, 21)
    channel = np.random.default_rng(21).choice(["chat", "mail"], len(d))
    by = cx.response_times(durations=d, outcomes=o, by=channel, quantiles=(0.3, 0.5))
    assert isinstance(by, ResponseTimesByGroup)
    for label, res in by.groups.items():
        alone = cx.response_times(
            durations=d[channel == label], outcomes=o[channel == label], quantiles=(0.3, 0.5)
        )
        assert isinstance(alone, ResponseTimes)
        assert res.reply_quantiles == alone.reply_quantiles
    frame = by.to_pandas()
    for col in ("reply_p30_low", "reply_p30_high", "reply_p50_low", "reply_p50_high"):
        assert col in frame.columns
    chat = by.groups["chat"].reply_quantiles[0]
    assert frame.loc[frame.iloc[:, 0] == "chat", "reply_p30_low"].iloc[0] == chat.low
