"""cx.response_times: the time to a reply when tickets are closed unanswered, tickets created after as_of
with by=, and weighted quantiles.

References and tolerances:
- lifelines 0.30 ``AalenJohansenFitter(event_of_interest=1)``: the quantile of the time to a reply is the
  first time at which its ``cumulative_density_`` reaches p, computed here from lifelines' curve; both are
  observed durations, compared to 1e-9 minutes (the same timestamps converted the same way). P(reply within
  target) against its cumulative density at the target: 1e-9 relative.
- lifelines ``KaplanMeierFitter`` on "reply or closure" as the event: the time to the first outcome
  (``km_quantiles``), exact times; without closures its median is the time to a reply, unchanged.
- Counts of tickets created after as_of per group: numpy masks written in the test, exact.
- Weighted nearest-rank quantile: a numpy cumulative sum written in the test, exact. Weighted time to a
  reply: lifelines' weighted ``AalenJohansenFitter`` curve, 1e-12 (observed durations).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import InvalidArgumentError
from cx_metrics.service_times import ResponseTimes, ResponseTimesByGroup

lifelines = pytest.importorskip("lifelines")

MINUTE = np.timedelta64(60_000_000_000, "ns")


def _tickets(n: int, seed: int, as_of_minutes: float = 3 * 24 * 60 + 30) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Tickets created over three days with first-reply and closing times (a third closed before any
    reply), and an "as of" time ``as_of_minutes`` after the start."""
    rng = np.random.default_rng(seed)
    base = np.datetime64("2026-03-02T08:00:00", "ns")
    created = base + (rng.uniform(0, 3 * 24 * 60, n) * MINUTE.astype(np.int64)).astype("timedelta64[ns]")
    reply = created + (rng.exponential(14.0, n) * MINUTE.astype(np.int64)).astype("timedelta64[ns]")
    closed = created + (rng.exponential(25.0, n) * MINUTE.astype(np.int64)).astype("timedelta64[ns]")
    closes_first = rng.random(n) < 0.35
    frame = pd.DataFrame(
        {
            "created": created,
            "first_reply": np.where(closes_first, np.datetime64("NaT"), reply),
            "closed": np.where(closes_first, closed, np.datetime64("NaT")),
        }
    )
    return frame, pd.Timestamp(base + np.timedelta64(int(as_of_minutes * 60), "s"))


def _reference(frame: pd.DataFrame, as_of: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Durations in minutes and outcome codes (0 open, 1 reply, 2 closed unanswered) by numpy, of the
    tickets created by as_of."""
    c = frame["created"].to_numpy().view(np.int64)
    nat = np.iinfo(np.int64).min
    r = frame["first_reply"].to_numpy().view(np.int64)
    x = frame["closed"].to_numpy().view(np.int64)
    now = as_of.to_datetime64().astype("datetime64[ns]").view(np.int64)
    replied = (r != nat) & (r <= now)
    closed = ~replied & (x != nat) & (x <= now)
    end = np.where(replied, r, np.where(closed, x, now))
    codes = np.where(replied, 1, np.where(closed, 2, 0))
    keep = c <= now
    return (end - c)[keep].astype(np.float64) / 60e9, codes[keep]


def _aj_quantile(aj: object, p: float) -> float | None:
    cif = aj.cumulative_density_.iloc[:, 0]  # type: ignore[attr-defined]
    reached = np.flatnonzero(cif.to_numpy() >= p)
    return None if len(reached) == 0 else float(cif.index[reached[0]])


@pytest.mark.parametrize(("seed", "as_of_minutes"), [(1, 4350.0), (2, 4350.0), (3, 4310.0), (4, 3000.0)])
def test_time_to_reply_is_the_aalen_johansen_quantile_of_lifelines(seed: int, as_of_minutes: float) -> None:
    # as_of 30 minutes after the last creation (few open tickets), 10 minutes before it (open tickets,
    # some created after as_of), and within the third day (a third of the tickets after as_of).
    frame, as_of = _tickets(400, seed, as_of_minutes)
    qs = (0.25, 0.5, 0.75)
    r = cx.response_times(
        frame,
        created="created",
        first_reply="first_reply",
        closed="closed",
        as_of=as_of,
        quantiles=qs,
        target=20.0,
    )
    assert isinstance(r, ResponseTimes)
    d, codes = _reference(frame, as_of)
    assert (r.n_answered, r.n_closed_unanswered, r.n_open) == tuple(
        int((codes == k).sum()) for k in (1, 2, 0)
    )
    assert r.n_excluded_future == len(frame) - len(d)
    assert r.competing
    aj = lifelines.AalenJohansenFitter(calculate_variance=False).fit(d, codes, event_of_interest=1)
    for q in r.reply_quantiles:
        assert q.estimator == "aalen_johansen" and q.conf_type == "log_log"
        expected = _aj_quantile(aj, q.p)
        if expected is None:
            assert q.estimate is None
            assert q.max_incidence is not None and q.max_incidence < q.p
        else:
            assert q.estimate == pytest.approx(expected, abs=1e-9)
    cif = aj.cumulative_density_.iloc[:, 0]
    at = int(np.searchsorted(cif.index.to_numpy(), 20.0, side="right")) - 1
    assert r.within == pytest.approx(float(cif.iloc[at]), rel=1e-9)
    # The Kaplan-Meier quantiles are those of the time to the first outcome, reply or closure.
    km = lifelines.KaplanMeierFitter().fit(d, event_observed=codes > 0)
    assert r.km_quantiles[1].estimate == pytest.approx(km.median_survival_time_, abs=1e-9)
    assert r.km_quantiles[1].estimate < r.reply_quantiles[1].estimate  # type: ignore[operator]
    text = str(r)
    assert "time to reply p50" in text and "Aalen-Johansen" in text
    assert "interval where the band of CIF_reply covers it" in text
    assert "time to first outcome (reply or closure), Kaplan-Meier p50" in text
    assert "P(reply within 20) (CIF_reply, Aalen-Johansen, log_log band of CIF_reply)" in text


def test_a_queue_with_only_a_closure_has_no_reply_median() -> None:
    t = pd.DataFrame(
        {
            "created": pd.to_datetime(["2026-01-05 09:00"]),
            "first_reply": pd.to_datetime([None]),
            "closed": pd.to_datetime(["2026-01-05 09:30"]),
        }
    )
    r = cx.response_times(
        t,
        created="created",
        first_reply="first_reply",
        closed="closed",
        as_of=pd.Timestamp("2026-01-05 12:00"),
    )
    assert isinstance(r, ResponseTimes)
    assert (r.n_answered, r.n_closed_unanswered) == (0, 1)
    assert [q.estimate for q in r.reply_quantiles] == [None, None]
    assert r.reply_quantiles[0].max_incidence == 0.0
    text = str(r)
    assert "time to reply p50 undefined: CIF_reply never reaches 50.0%" in text
    # 30 minutes is the time to the closure, and is named so, never as a reply time.
    assert "\n  Kaplan-Meier p50" not in text
    assert "time to first outcome (reply or closure), Kaplan-Meier p50 30.00" in text
    d = r.to_dict()
    assert d["reply_quantiles"][0]["estimate"] is None
    assert d["estimates"]["reply_quantiles"].startswith("time to reply: first t with CIF_reply(t) >= p")
    assert d["estimates"]["km_quantiles"].startswith("time to first outcome (reply or closure)")
    html = r._repr_html_()
    assert "time to reply p50 (Aalen-Johansen CIF_reply)" in html
    back = ResponseTimes.from_json(r.to_json())
    assert back.reply_quantiles == r.reply_quantiles


def test_without_closures_the_kaplan_meier_figures_are_unchanged() -> None:
    rng = np.random.default_rng(5)
    d = rng.exponential(12.0, 300)
    o = (rng.random(300) < 0.8).astype(np.uint8)  # answered or still open
    r = cx.response_times(durations=d, outcomes=o, quantiles=(0.5,), target=10.0)
    assert isinstance(r, ResponseTimes)
    assert not r.competing and r.reply_quantiles == r.km_quantiles
    assert r.reply_quantiles[0].estimator == "kaplan_meier"
    km = lifelines.KaplanMeierFitter().fit(d, event_observed=o)
    assert r.km_quantiles[0].estimate == km.median_survival_time_
    text = str(r)
    assert "  Kaplan-Meier p50" in text and "Aalen-Johansen" not in text
    assert "P(reply within 10) (1 - S, Kaplan-Meier)" in text
    assert r.to_dict()["estimates"]["within"].startswith("P(reply within target): 1 - S(target)")


def test_by_group_counts_the_tickets_created_after_as_of_per_group() -> None:
    frame, as_of = _tickets(300, 7)
    rng = np.random.default_rng(8)
    frame["queue"] = rng.choice(["billing", "tech"], len(frame))
    # A third queue whose every ticket is after as_of, and some later tickets in the others.
    late = frame.sample(40, random_state=1).index
    frame.loc[late, "created"] = as_of + pd.Timedelta(minutes=5)
    frame.loc[late, "first_reply"] = as_of + pd.Timedelta(minutes=9)
    frame.loc[late, "closed"] = pd.NaT
    frame.loc[late[:10], "queue"] = "new"
    by = cx.response_times(
        frame, created="created", first_reply="first_reply", closed="closed", as_of=as_of, by="queue"
    )
    assert isinstance(by, ResponseTimesByGroup)
    assert list(by.groups) == ["billing", "tech"]
    assert by.future_only == {"new": 10}
    after = frame["created"] > as_of
    for label, res in by.groups.items():
        mine = frame["queue"] == label
        assert res.n_excluded_future == int((mine & after).sum())
        alone = cx.response_times(
            frame[mine], created="created", first_reply="first_reply", closed="closed", as_of=as_of
        )
        assert isinstance(alone, ResponseTimes)
        assert (res.n, res.n_excluded_future) == (alone.n, alone.n_excluded_future)
        assert res.reply_quantiles == alone.reply_quantiles
    frame_out = by.to_pandas()
    assert list(frame_out["n_excluded_future"]) == [
        int((frame["queue"] == q)[after].sum()) for q in by.groups
    ]
    assert "new: all 10 tickets created after as_of were left out" in str(by)
    back = ResponseTimesByGroup.from_json(by.to_json())
    assert back.future_only == {"new": 10}


def test_every_ticket_after_as_of_is_an_error_saying_so() -> None:
    frame, _ = _tickets(20, 9)
    early = frame["created"].min() - pd.Timedelta(minutes=1)
    for by in (None, np.array(["a"] * 20)):
        with pytest.raises(InvalidArgumentError, match="all 20 tickets were created after as_of"):
            cx.response_times(
                frame, created="created", first_reply="first_reply", closed="closed", as_of=early, by=by
            )


def test_weighted_default_quantiles_name_the_method_to_pass() -> None:
    d = np.array([4.0, 1.0, 7.0, 3.0, 9.0, 2.0])
    w = np.array([1.0, 3.0, 0.5, 2.0, 1.0, 1.5])
    with pytest.raises(InvalidArgumentError) as e:
        cx.response_times(durations=d, weights=w)
    message = str(e.value)
    assert 'quantile_method="nearest_rank"' in message and "no weighted definition" in message
    r = cx.response_times(durations=d, weights=w, quantiles=(0.5, 0.9), quantile_method="nearest_rank")
    assert isinstance(r, ResponseTimes)
    order = np.argsort(d)
    share = np.cumsum(w[order]) / w.sum()
    for p, v in r.answered_quantiles:
        assert v == d[order][np.flatnonzero(share >= p)[0]]


@pytest.mark.filterwarnings("ignore:It looks like your weights are not integers")
def test_weighted_time_to_reply_matches_lifelines_weighted_aalen_johansen() -> None:
    rng = np.random.default_rng(12)
    n = 300
    d = rng.permutation(np.arange(1, n + 1, dtype=float)) / 10.0  # distinct: lifelines jitters ties
    o = rng.choice([0, 1, 2], size=n, p=[0.1, 0.6, 0.3]).astype(np.uint8)
    w = rng.gamma(2.0, 0.5, n)
    r = cx.response_times(
        durations=d, outcomes=o, weights=w, quantiles=(0.2, 0.4, 0.8), quantile_method="nearest_rank"
    )
    assert isinstance(r, ResponseTimes)
    aj = lifelines.AalenJohansenFitter(calculate_variance=False).fit(d, o, event_of_interest=1, weights=w)
    for q in r.reply_quantiles:
        expected = _aj_quantile(aj, q.p)
        assert (q.estimate is None) == (expected is None)
        if expected is not None:
            assert q.estimate == pytest.approx(expected, abs=1e-12)
    assert r.reply_quantiles[2].estimate is None  # about 60% of the weight is ever answered
