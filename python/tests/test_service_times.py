"""cx.response_times and the EventTable state against independent references.

References and tolerances:
- ``frt_minutes`` of operations_vectors.json (answered-only mean, type-7 median and p90, nearest-rank p90,
  share within 10): 1e-12 absolute (closed forms on ten numbers).
- lifelines 0.30 ``KaplanMeierFitter`` (S(t), Greenwood standard errors, the log-log band, the median and
  the times where its band crosses 0.5) and ``AalenJohansenFitter`` (cumulative incidence and its variance):
  1e-9 relative on the curve and bands (lifelines sums logs; we multiply), exact on times.
- R ``survival`` conventions, by hand: durations 1..6 with the fourth open give S(3) = 0.5 exactly, the
  median 3 (smallest t with S(t) <= 0.5) and 4 (R's midpoint of the flat stretch [3, 5)); four uncensored
  times 1..4 give 2 and 2.5. R's default ``conf.type = "log"`` band at t = 3 is
  0.5·exp(±1.96·sqrt(1/6)), computed here by hand.
"""

from __future__ import annotations

import datetime
import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from conftest import load_vectors

import cx_metrics as cx
from cx_metrics.exceptions import CxMetricsError, InvalidArgumentError
from cx_metrics.service_times import EventTable, ResponseTimes, ResponseTimesByGroup

lifelines = pytest.importorskip("lifelines")

RTOL = 1e-9


def test_answered_only_figures_reproduce_the_fixture() -> None:
    f: dict[str, Any] = load_vectors("operations_vectors.json")["frt_minutes"]
    r = cx.response_times(durations=f["values"], quantiles=(0.5, 0.9), target=10)
    assert isinstance(r, ResponseTimes)
    assert r.answered_mean == pytest.approx(f["mean"], abs=1e-12)
    assert r.answered_quantiles[0][1] == pytest.approx(f["median"], abs=1e-12)
    assert r.answered_quantiles[1][1] == pytest.approx(f["p90_type7"], abs=1e-12)
    assert r.answered_within == pytest.approx(f["sla_within_10"], abs=1e-12)
    # Nothing is open: P(within 10) is the same share.
    assert r.within == pytest.approx(f["sla_within_10"], abs=1e-12)
    nr = cx.response_times(durations=f["values"], quantiles=(0.9,), quantile_method="nearest_rank")
    assert isinstance(nr, ResponseTimes)
    assert nr.answered_quantiles[0][1] == f["p90_nearest_rank"]


def test_the_textbook_example_and_both_median_conventions() -> None:
    d, o = [1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 1]
    r = cx.response_times(durations=d, outcomes=o, quantiles=(0.5,))
    assert isinstance(r, ResponseTimes)
    assert r.curve.survival_at(3.0) == 0.5  # exactly: a running product, not exp(sum(log))
    assert r.km_quantiles[0].estimate == 3.0
    m = cx.response_times(durations=d, outcomes=o, quantiles=(0.5,), convention="midpoint")
    assert isinstance(m, ResponseTimes)
    assert m.km_quantiles[0].estimate == 4.0
    assert "midpoint convention" in str(m)
    four = cx.response_times(durations=[1, 2, 3, 4], quantiles=(0.5,), convention="midpoint")
    assert isinstance(four, ResponseTimes)
    assert four.km_quantiles[0].estimate == 2.5
    # lifelines gives 5 on the first example: its S(3) is 0.5000000000000001.
    kmf = lifelines.KaplanMeierFitter().fit(d, np.array(o) == 1)
    assert kmf.median_survival_time_ == 5.0
    # R's default band (conf.type = "log") at t = 3, by hand.
    lo, hi = r.curve.band(0.95, "log")
    z = 1.959963984540054
    assert lo[2] == pytest.approx(0.5 * math.exp(-z * math.sqrt(1 / 6)), rel=1e-12)
    assert hi[2] == pytest.approx(min(1.0, 0.5 * math.exp(z * math.sqrt(1 / 6))), rel=1e-12)


def _random_tickets(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = np.round(rng.exponential(30.0, n), 1) + 0.1
    o = (rng.random(n) < 0.8).astype(np.uint8)  # 1 answered, 0 open
    return d, o


def test_kaplan_meier_matches_lifelines() -> None:
    d, o = _random_tickets(2000, 1)
    r = cx.response_times(durations=d, outcomes=o, quantiles=(0.5,))
    assert isinstance(r, ResponseTimes)
    kmf = lifelines.KaplanMeierFitter().fit(d, o == 1)
    sf = kmf.survival_function_.iloc[1:, 0]  # lifelines starts its timeline at 0
    np.testing.assert_array_equal(r.curve.times, sf.index.to_numpy())
    np.testing.assert_allclose(r.curve.survival, sf.to_numpy(), rtol=RTOL)
    # Greenwood standard errors: lifelines' variance is S^2 * sum d/(n(n-d)).
    ci = kmf.confidence_interval_survival_function_.iloc[1:]
    lo, hi = r.curve.band(0.95, "log_log")
    inside = r.curve.survival > 0  # where S is 0 the band is undefined (R: NA)
    assert inside.sum() >= len(inside) - 1
    np.testing.assert_allclose(lo[inside], ci.iloc[:, 0].to_numpy()[inside], rtol=RTOL)
    np.testing.assert_allclose(hi[inside], ci.iloc[:, 1].to_numpy()[inside], rtol=RTOL)
    # The median and the times where lifelines' band crosses 0.5 (Brookmeyer-Crowley).
    from lifelines.utils import median_survival_times

    q = r.km_quantiles[0]
    assert q.estimate == kmf.median_survival_time_
    band = median_survival_times(kmf.confidence_interval_)
    assert (q.low, q.high) == (band.iloc[0, 0], band.iloc[0, 1])


def test_greenwood_standard_errors_by_hand() -> None:
    d, o = _random_tickets(300, 2)
    r = cx.response_times(durations=d, outcomes=o)
    assert isinstance(r, ResponseTimes)
    c = r.curve
    n, ev = c.at_risk, c.events
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(ev > 0, ev / (n * (n - ev)), 0.0))
    inside = c.survival > 0
    np.testing.assert_allclose(c.std_error[inside], (c.survival * np.sqrt(gw))[inside], rtol=1e-12)


def test_cumulative_incidence_matches_lifelines_aalen_johansen() -> None:
    rng = np.random.default_rng(3)
    n = 500
    # Distinct times so that lifelines does not jitter ties.
    d = rng.permutation(np.arange(1, n + 1, dtype=float))
    o = rng.choice([0, 1, 2], size=n, p=[0.2, 0.6, 0.2]).astype(np.uint8)
    r = cx.response_times(durations=d, outcomes=o, target=250.0)
    assert isinstance(r, ResponseTimes)
    aj = lifelines.AalenJohansenFitter(calculate_variance=True).fit(d, o, event_of_interest=1)
    cif = aj.cumulative_density_.iloc[1:, 0]
    np.testing.assert_array_equal(r.curve.times, cif.index.to_numpy())
    np.testing.assert_allclose(r.curve.cif_event, cif.to_numpy(), rtol=RTOL)
    at = np.searchsorted(cif.index.to_numpy(), 250.0, side="right") - 1
    assert r.within == pytest.approx(cif.iloc[at], rel=RTOL)
    var = aj.variance_.iloc[1:].to_numpy().ravel()
    _, se, _ = r.curve.within(250.0, 0.95, "log_log")
    assert se == pytest.approx(math.sqrt(var[at]), rel=1e-7)
    ci = aj.confidence_interval_cumulative_density_.iloc[1:]
    assert r.within_low == pytest.approx(min(ci.iloc[at]), rel=1e-7)
    assert r.within_high == pytest.approx(max(ci.iloc[at]), rel=1e-7)
    # Replied + closed unanswered + still waiting = 1.
    np.testing.assert_allclose(r.curve.cif_event + r.curve.cif_competing + r.curve.survival, 1.0, atol=1e-14)


def test_restricted_mean_matches_lifelines() -> None:
    from lifelines.utils import restricted_mean_survival_time

    d, o = _random_tickets(1000, 4)
    r = cx.response_times(durations=d, outcomes=o, horizon=60.0)
    assert isinstance(r, ResponseTimes)
    kmf = lifelines.KaplanMeierFitter().fit(d, o == 1)
    assert r.restricted_mean == pytest.approx(restricted_mean_survival_time(kmf, t=60.0), rel=1e-9)


def test_weighted_curve_matches_lifelines() -> None:
    d, o = _random_tickets(400, 5)
    w = np.random.default_rng(6).uniform(0.5, 2.0, len(d))
    r = cx.response_times(durations=d, outcomes=o, weights=w, quantile_method="nearest_rank")
    assert isinstance(r, ResponseTimes)
    with pytest.warns(Warning):
        kmf = lifelines.KaplanMeierFitter().fit(d, o == 1, weights=w)
    np.testing.assert_allclose(r.curve.survival, kmf.survival_function_.iloc[1:, 0].to_numpy(), rtol=RTOL)


def test_states_merge_pickle_and_round_trip() -> None:
    d, o = _random_tickets(1000, 7)
    a, b = EventTable(), EventTable()
    a.fold(d[:400], o[:400])
    b.fold(d[400:], o[400:])
    whole = EventTable()
    whole.fold(d, o)
    assert a + b == whole == sum([a, b])
    assert pickle.loads(pickle.dumps(whole)) == whole
    assert EventTable.from_bytes(whole.to_bytes()) == whole
    assert EventTable.from_json(whole.to_json()) == whole
    binned = EventTable(bin_width=5.0)
    with pytest.raises(CxMetricsError, match="bin"):
        binned.merge(whole)


def test_timestamps_from_pandas_polars_and_numpy_agree() -> None:
    created = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 09:10", "2026-01-05 10:00", "2026-01-05 11:00"])
    reply = pd.to_datetime(["2026-01-05 09:30", None, "2026-01-05 10:05", None])
    closed = pd.to_datetime([None, "2026-01-05 09:40", None, None])
    as_of = pd.Timestamp("2026-01-05 12:00")
    df = pd.DataFrame({"created": created, "reply": reply, "closed": closed, "id": [1, 2, 3, 4]})
    r = cx.response_times(
        df, created="created", first_reply="reply", closed="closed", as_of=as_of, ticket_id="id"
    )
    assert isinstance(r, ResponseTimes)
    assert (r.n_answered, r.n_open, r.n_closed_unanswered) == (2, 1, 1)
    np.testing.assert_array_equal(r.curve.times, [5.0, 30.0, 60.0])
    p = cx.response_times(
        pl.from_pandas(df),
        created="created",
        first_reply="reply",
        closed="closed",
        as_of=as_of.to_pydatetime(),
    )
    n = cx.response_times(
        created=created.to_numpy(),
        first_reply=reply.to_numpy(),
        closed=closed.to_numpy(),
        as_of=np.datetime64("2026-01-05T12:00"),
    )
    assert isinstance(p, ResponseTimes) and isinstance(n, ResponseTimes)
    np.testing.assert_array_equal(p.curve.survival, r.curve.survival)
    np.testing.assert_array_equal(n.curve.survival, r.curve.survival)
    # Tickets created after as_of are left out and counted; a reply after as_of is not known yet.
    early = cx.response_times(
        df, created="created", first_reply="reply", as_of=pd.Timestamp("2026-01-05 10:02")
    )
    assert isinstance(early, ResponseTimes)
    assert (early.n, early.n_excluded_future, early.n_open) == (3, 1, 2)


def test_bad_input_names_the_row() -> None:
    c = pd.Series(pd.to_datetime(["2026-01-05 09:00", "2026-01-05 10:00"]))
    r = pd.Series(pd.to_datetime(["2026-01-05 09:30", "2026-01-05 09:59"]))
    with pytest.raises(InvalidArgumentError, match="position 1 is before"):
        cx.response_times(created=c, first_reply=r, as_of=pd.Timestamp("2026-01-06"))
    with pytest.raises(InvalidArgumentError, match="tz-aware"):
        cx.response_times(created=c.dt.tz_localize("UTC"), first_reply=r, as_of=pd.Timestamp("2026-01-06"))
    aware = datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    with pytest.raises(InvalidArgumentError, match="position 1"):
        cx.response_times(
            created=[aware, datetime.datetime(2026, 1, 5)], first_reply=[None, None], as_of=aware
        )
    with pytest.raises(InvalidArgumentError, match="position 2"):
        cx.response_times(durations=[1.0, 2.0, -3.0])
    with pytest.raises(InvalidArgumentError, match="position 2 repeats position 0"):
        cx.response_times(durations=[1.0, 2.0, 3.0], ticket_id=["a", "b", "a"])
    with pytest.raises(InvalidArgumentError, match="position 1"):
        cx.response_times(durations=[1.0, 2.0], outcomes=[1, 7])


def test_by_group_equals_separate_calls() -> None:
    d, o = _random_tickets(600, 8)
    g = np.random.default_rng(9).choice(["web", "mail", "chat"], len(d))
    by = cx.response_times(durations=d, outcomes=o, by=g, target=20.0)
    assert isinstance(by, ResponseTimesByGroup)
    assert list(by.groups) == ["chat", "mail", "web"]
    for label, res in by.groups.items():
        alone = cx.response_times(durations=d[g == label], outcomes=o[g == label], target=20.0)
        assert isinstance(alone, ResponseTimes)
        np.testing.assert_array_equal(res.curve.survival, alone.curve.survival)
        assert res.km_quantiles == alone.km_quantiles
        assert res.answered_mean == pytest.approx(alone.answered_mean, rel=1e-12)
    frame = by.to_pandas()
    assert frame.shape[0] == 3 and list(frame.columns[1:3]) == ["n", "n_open"]


def test_result_displays_and_plots() -> None:
    r = cx.response_times(durations=[1, 2, 3, 4, 5, 6], outcomes=[1, 1, 1, 0, 1, 1], target=3, horizon=6)
    assert isinstance(r, ResponseTimes)
    text = str(r)
    assert "leave out 1 open" in text and "Brookmeyer-Crowley" in text and "log_log" in text
    assert "<table" in r._repr_html_()
    assert r.to_dict()["km_quantiles"][0]["estimate"] == 3.0
    assert r.to_polars().height == 6
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from cx_metrics import plot

    ax = plot.survival_curve(r)
    assert ax.get_ylabel() == "still waiting"
