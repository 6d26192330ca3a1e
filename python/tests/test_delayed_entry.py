"""Delayed entry (left truncation) in the Kaplan-Meier estimate, against independent references.

References and tolerances:
- lifelines 0.30 ``KaplanMeierFitter.fit(durations, event_observed, entry=..., weights=...)``: S(t), the
  median, the log-log band (Greenwood; unweighted only: lifelines' ``KaplanMeierFitter._additive_var``
  truncates a weighted risk set to an integer, ``population.astype("uint64")``, so its weighted band is
  not Greenwood's formula on summed weights, which the brute force below checks instead), the
  entrants and the risk set its estimate uses at every time, on datasets
  with tied exits, tied entries, entries tied with exits, and weights: 1e-9 relative on the curve and
  band (lifelines sums logs; we multiply), exact on risk sets without weights, 1e-12 relative with them.
  lifelines' ``event_table["at_risk"]`` counts the rows entering at t, but its estimate uses
  ``at_risk - entrance`` (lifelines issue 497), i.e. entry < t as here.
- R survival's convention (``Surv(start, stop, event)``: intervals "open on the left and closed on the
  right", at risk at t when start < t <= stop): a brute-force numpy risk set computed in the test from
  the rows themselves, with the product-limit curve and Greenwood sum on it, 1e-12 relative.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import InvalidArgumentError, LengthMismatchError
from cx_metrics.service_times import EventTable, ResponseTimes

lifelines = pytest.importorskip("lifelines")

RTOL = 1e-9


def _truncated(n: int, seed: int, ties_with_exits: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries on half minutes (whole minutes with ``ties_with_exits``), exits a whole number of minutes
    later: ties among exits, among entries and between entries and exits; about a third of the rows
    observed from 0; 25 % open."""
    rng = np.random.default_rng(seed)
    entry = np.where(rng.random(n) < 0.35, 0.0, np.floor(rng.uniform(0, 40, n)) + 0.5)
    if ties_with_exits:
        entry = np.floor(entry)
    d = entry + np.floor(rng.exponential(20.0, n)) + 1.0
    o = (rng.random(n) < 0.75).astype(np.uint8)
    return d, o, entry


def _brute_force(d: np.ndarray, o: np.ndarray, e: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """At every distinct exit time t: n = sum of w over entry < t <= exit, the product-limit S and the
    Greenwood sum, from the rows (no event table)."""
    times = np.unique(d)
    n = np.array([w[(e < t) & (t <= d)].sum() for t in times])
    ev = np.array([w[(d == t) & (o == 1)].sum() for t in times])
    s = np.cumprod(1 - ev / n)
    with np.errstate(divide="ignore"):
        gw = np.cumsum(np.where(ev > 0, ev / (n * (n - ev)), 0.0))
    return times, n, s, gw


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_delayed_entry_matches_lifelines(seed: int, weighted: bool) -> None:
    d, o, e = _truncated(1500, seed)
    w = np.random.default_rng(seed + 10).uniform(0.5, 2.0, len(d)) if weighted else None
    t = EventTable()
    t.fold(d, o, weights=w, entry=e)
    km = t.result()
    assert km.left_truncated and km.n_entered == len(d) == t.n_entered
    if weighted:
        with pytest.warns(Warning):  # lifelines warns that weights are not integers
            kmf = lifelines.KaplanMeierFitter().fit(d, o == 1, entry=e, weights=w)
    else:
        kmf = lifelines.KaplanMeierFitter().fit(d, o == 1, entry=e)
    times = km.times
    # Same timeline: every exit and entry time (lifelines' starts at 0, an entry time here).
    np.testing.assert_array_equal(times, kmf.survival_function_.index.to_numpy())
    theirs = kmf.survival_function_.iloc[:, 0].to_numpy()
    table = kmf.event_table
    if weighted and km.survival[-1] == 0:
        # Every row at risk at the last time ends with the event: S = 0. lifelines' risk set there is a
        # difference of running float sums a hair below its deaths, and it carries S over instead.
        last = table.iloc[-1]
        assert last["observed"] == pytest.approx(last["at_risk"] - last["entrance"], rel=1e-12)
        theirs[-1] = 0.0
    np.testing.assert_allclose(km.survival, theirs, rtol=RTOL)
    exits = km.events + km.censored > 0
    # The risk set lifelines' estimate uses: its at_risk column less the rows entering at t (but the
    # first time's, where nothing exits here).
    entrance = table["entrance"].to_numpy().copy()
    entrance[0] = 0
    at_risk = (table["at_risk"].to_numpy() - entrance)[exits]
    assert np.isin(e[e > 0], d).any()  # entries tied with exits
    if weighted:
        np.testing.assert_allclose(km.at_risk[exits], at_risk, rtol=1e-12)
    else:
        np.testing.assert_array_equal(km.at_risk[exits], at_risk)
    np.testing.assert_allclose(km.entered, table["entrance"].to_numpy(), rtol=1e-12)
    q = km.quantile(0.5, 0.95, "log_log", "smallest")
    assert q[1] == kmf.median_survival_time_
    if weighted:
        return  # the weighted Greenwood sums are checked against the brute force below
    lo, hi = km.band(0.95, "log_log")
    ci = kmf.confidence_interval_survival_function_
    inside = (km.survival > 0) & (km.survival < 1)
    assert inside.sum() > 50
    np.testing.assert_allclose(lo[inside], ci.iloc[:, 0].to_numpy()[inside], rtol=RTOL)
    np.testing.assert_allclose(hi[inside], ci.iloc[:, 1].to_numpy()[inside], rtol=RTOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_entries_tied_with_exits_follow_r_survival(weighted: bool) -> None:
    d, o, e = _truncated(800, 4, ties_with_exits=True)
    assert np.isin(e[e > 0], d).any()  # the case where the conventions differ
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(d)) if weighted else np.ones(len(d))
    t = EventTable()
    t.fold(d, o, weights=w if weighted else None, entry=e)
    km = t.result()
    times, n, s, gw = _brute_force(d, o, e, w)
    at = np.searchsorted(km.times, times)
    np.testing.assert_array_equal(km.times[at], times)
    np.testing.assert_allclose(km.at_risk[at], n, rtol=1e-12)
    np.testing.assert_allclose(km.survival[at], s, rtol=1e-12, atol=1e-15)
    inside = s > 0
    np.testing.assert_allclose(km.std_error[at][inside], (s * np.sqrt(gw))[inside], rtol=1e-12)
    # Counting the rows entering at t in the risk set at t (entry <= t) gives another curve.
    n_le = np.array([w[(e <= t) & (t <= d)].sum() for t in times])
    ev = np.array([w[(d == t) & (o == 1)].sum() for t in times])
    assert not np.allclose(km.survival[at], np.cumprod(1 - ev / n_le), rtol=1e-6)


def test_an_emptied_risk_set_is_reported_where_lifelines_refuses() -> None:
    # Two rows observed from 0 both answered by 2: S(2) = 0 and nobody is at risk until the rows
    # entering at 3 and 4. The product-limit curve stays 0 (R survfit's); the gap is reported.
    d, o, e = [1.0, 2.0, 5.0, 6.0, 7.0, 8.0], [1, 1, 1, 0, 1, 1], [0.0, 0.0, 3.0, 4.0, 3.0, 4.0]
    r = cx.response_times(durations=d, outcomes=o, entry=e, quantiles=(0.5,))
    assert isinstance(r, ResponseTimes)
    assert r.risk_set_gaps == (2.0,) and r.curve.risk_set_gaps == [2.0]
    assert [r.curve.survival_at(t) for t in (1.0, 2.0, 5.0, 8.0)] == [0.5, 0.0, 0.0, 0.0]
    assert "nobody was at risk after 2" in str(r)
    assert "nobody at risk after 2 until later tickets entered" in r._repr_html_()
    with pytest.raises(lifelines.exceptions.StatError):
        lifelines.KaplanMeierFitter().fit(d, np.array(o) == 1, entry=e)
    # After a censored row the curve multiplies on from S(2) = 0.5 (no warning needed about 0).
    r = cx.response_times(durations=d, outcomes=[1, 0, 1, 0, 1, 1], entry=e, quantiles=(0.5,))
    assert isinstance(r, ResponseTimes)
    assert r.curve.survival_at(2.0) == 0.5 and r.curve.survival_at(5.0) == 0.5 * 3 / 4


def test_bad_entries_name_the_row() -> None:
    d, o = [3.0, 5.0, 2.0], [1, 1, 0]
    cases = [
        ([0.0, 6.0, 1.0], "position 1 is after its duration"),
        ([0.0, 1.0, float("nan")], "position 2 is missing"),
        ([0.0, 1.0, None], "position 2 is missing"),
        ([-1.0, 1.0, 1.0], "position 0 is negative"),
        ([0.0, 5.0, 1.0], "position 1 equals its duration"),
    ]
    for entry, message in cases:
        t = EventTable()
        with pytest.raises(InvalidArgumentError, match=message):
            t.fold(d, o, entry=entry)
        assert t.n == 0  # nothing folded
    with pytest.raises(LengthMismatchError, match="entry times"):
        EventTable().fold(d, o, entry=[0.0, 1.0])
    with pytest.raises(InvalidArgumentError, match="invalid entry"):
        EventTable().fold(d, o, entry=["a", "b", "c"])
    with pytest.raises(InvalidArgumentError, match="entry= goes with durations="):
        cx.response_times(
            created=np.array(["2026-01-05T09:00"], dtype="datetime64[ns]"),
            first_reply=np.array(["2026-01-05T09:30"], dtype="datetime64[ns]"),
            as_of=np.datetime64("2026-01-05T12:00"),
            entry=[0.0],
        )


def test_tables_with_entries_merge_pickle_and_round_trip() -> None:
    d, o, e = _truncated(3000, 6, ties_with_exits=True)
    w = np.random.default_rng(7).uniform(0.0, 2.0, len(d))
    whole = EventTable()
    whole.fold(d, o, weights=w, entry=e)
    parts = []
    for k in range(0, len(d), 700):
        p = EventTable()
        p.fold(d[k : k + 700], o[k : k + 700], weights=w[k : k + 700], entry=e[k : k + 700])
        parts.append(p)
    merged = sum(parts)
    assert isinstance(merged, EventTable)
    np.testing.assert_allclose(merged.result().survival, whole.result().survival, rtol=1e-12)
    assert merged.n_entered == whole.n_entered == len(d)
    for back in (
        pickle.loads(pickle.dumps(whole)),
        EventTable.from_bytes(whole.to_bytes()),
        EventTable.from_json(whole.to_json()),
    ):
        assert back == whole
    # A table without entries adds rows at risk from 0.
    plain = EventTable()
    plain.fold([10.0], [1])
    mixed = whole + plain
    assert (mixed.n, mixed.n_entered) == (len(d) + 1, len(d))


def test_response_times_with_entry_prints_and_stores_it() -> None:
    import pandas as pd

    d, o, e = _truncated(400, 8)
    frame = pd.DataFrame(
        {"wait": d, "outcome": o, "since": e, "team": np.where(np.arange(400) % 2, "a", "b")}
    )
    r = cx.response_times(frame, durations="wait", outcomes="outcome", entry="since", quantiles=(0.5,))
    assert isinstance(r, ResponseTimes)
    assert r.n_entered == 400
    assert "delayed entry: 400 tickets" in str(r)
    assert "delayed entry: 400 tickets at risk only when entry &lt; t &lt;= duration" in r._repr_html_()
    back = ResponseTimes.from_json(r.to_json())
    assert back.n_entered == 400 and back.curve == r.curve
    kmf = lifelines.KaplanMeierFitter().fit(d, o == 1, entry=e)
    assert r.km_quantiles[0].estimate == kmf.median_survival_time_
    by = cx.response_times(frame, durations="wait", outcomes="outcome", entry="since", by="team")
    assert isinstance(by, cx.ResponseTimesByGroup)
    a = frame[frame.team == "a"]
    alone = cx.response_times(durations=a.wait, outcomes=a.outcome, entry=a.since)
    assert isinstance(alone, ResponseTimes)
    assert by.groups["a"].curve == alone.curve
    # Without entry= the result says nothing about it (and entries of 0 change no exit's risk set).
    zero = cx.response_times(durations=d, outcomes=o, entry=np.zeros(len(d)))
    plain = cx.response_times(durations=d, outcomes=o)
    assert isinstance(zero, ResponseTimes) and isinstance(plain, ResponseTimes)
    assert plain.n_entered == 0 and "delayed entry" not in str(plain)
    np.testing.assert_array_equal(zero.curve.survival[1:], plain.curve.survival)
