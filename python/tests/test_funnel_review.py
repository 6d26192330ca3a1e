"""Funnel defects of an acceptance review, each with the test that catches it: counts under every
order x entry x re-entry x counting against an independent per-customer reference (exact), the
ClickHouse strict_order example, entrants still in their window (figures against a numpy
Aalen-Johansen written here, 1e-12), and the messages of bad input and refused merges."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import IncompatibleError, InvalidArgumentError, LengthMismatchError

BASE = pd.Timestamp("2026-03-01")
STEPS = ["A", "B", "C", "D"]
H = datetime.timedelta(hours=1)


def spec(steps: list[str], **rules: Any) -> cx.FunnelSpec:
    base: dict[str, Any] = dict(
        order="ordered", window=H, window_end="inclusive", entry="closed", counting="uniques", reentry="first"
    )
    base.update(rules)
    return cx.FunnelSpec(steps, **base)


def run(rows: list[tuple[int, str, str]], steps: list[str], **rules: Any) -> cx.FunnelResult:
    log = pd.DataFrame(rows, columns=["c", "e", "t"])
    log["t"] = pd.to_datetime("2026-03-01 " + log["t"])
    r = cx.funnel(log, spec(steps, **rules), customer="c", event="e", time="t")
    assert isinstance(r, cx.FunnelResult)
    return r


def counts(r: cx.FunnelResult) -> list[int]:
    return [s.count for s in r.steps]


# ----- best re-entry under open entry ----------------------------------------------------------


def test_open_entry_best_counts_every_step_an_attempt_reached() -> None:
    # A 10:00, B 10:01, C 10:02, D 12:00, one-hour window: the attempt from A reaches C, and the D
    # (two hours later) is an attempt of its own. It counted [0, 0, 0, 1] with no outcome.
    rows = [(1, "A", "10:00"), (1, "B", "10:01"), (1, "C", "10:02"), (1, "D", "12:00")]
    assert counts(run(rows, STEPS, entry="open", reentry="first")) == [1, 1, 1, 0]
    for counting in ("uniques", "totals"):
        best = run(rows, STEPS, entry="open", reentry="best", counting=counting)
        assert counts(best) == [1, 1, 1, 1]
        assert counts(run(rows, STEPS, entry="open", reentry="after_end", counting=counting)) == [1, 1, 1, 1]
        # The attempt from A is the customer's time-to-convert unit: timed out (the data end at D).
        assert best.outcomes == {"converted": 0, "stopped": 0, "in_window": 0, "timed_out": 1}
        assert best.counts["n_attempts"] == 2  # A -> C and D; those from B and C are covered by A's
    assert (
        "kept: the attempts whose steps no other attempt covers"
        in run(rows, STEPS, entry="open", reentry="best").rules
    )
    # Closed entry: one attempt, the furthest.
    assert counts(run(rows, STEPS, entry="closed", reentry="best")) == [1, 1, 1, 0]


def reference_counts(df: pd.DataFrame, rules: dict[str, Any]) -> dict[str, list[int]]:
    """Counts from the documented rules, one customer at a time: every start's attempt is walked
    (window inclusive, measured from the start; an exclusion stops it; strict: any other step stops
    it; any order: each new step adds one). A customer counts at a step if any of their attempts
    reached it; under best re-entry the attempts counted as totals are the maximal ones (no other
    attempt covers their steps), found by comparing every pair."""
    k = len(STEPS)
    w = rules["window_s"]
    out = {u: {"reached": [0] * k, "from_previous": [0] * k, "from_first": [0] * k} for u in ("c", "a")}
    rank = {**{s: i for i, s in enumerate(STEPS)}, "X": 100}
    for _, g in df[df["e"].isin([*STEPS, "X"])].groupby("c"):
        keys = ["t", "r", "i"] if rules["ties"] == "step_order" else ["t", "i"]
        g = g.assign(r=g["e"].map(rank)).sort_values(keys)
        ev = list(zip(g["t"].tolist(), g["e"].tolist(), strict=True))

        def walk(ev: list[tuple[int, str]], s: int) -> dict[str, Any]:
            t0, e0 = ev[s]
            got = [e0]
            end = None
            if e0 == STEPS[-1] and rules["order"] != "any_order":
                return dict(entry=entry_of(got), got=got, end="done", next=s + 1)
            for j in range(s + 1, len(ev)):
                t, e = ev[j]
                if w is not None and t - t0 > w:
                    return dict(entry=entry_of(got), got=got, end="timeout", next=j)
                if e == "X":
                    return dict(entry=entry_of(got), got=got, end="stop", next=j + 1)
                if rules["order"] == "any_order":
                    if e not in got:
                        got.append(e)
                elif STEPS.index(e) == STEPS.index(got[-1]) + 1:
                    got.append(e)
                elif rules["order"] == "strict":
                    return dict(entry=entry_of(got), got=got, end="stop", next=j)
                if len(got) == k or (rules["order"] != "any_order" and got[-1] == STEPS[-1]):
                    return dict(entry=entry_of(got), got=got, end="done", next=j + 1)
            if len(got) == k or (rules["order"] != "any_order" and got[-1] == STEPS[-1]):
                end = "done"
            elif w is None or rules["as_of_s"] - t0 <= w:
                end = "open"
            else:
                end = "timeout"
            return dict(entry=entry_of(got), got=got, end=end, next=len(ev))

        def entry_of(got: list[str]) -> int:
            return 0 if rules["order"] == "any_order" else STEPS.index(got[0])

        def span(a: dict[str, Any]) -> range:
            if rules["order"] == "any_order":
                return range(0, len(a["got"]))
            return range(a["entry"], STEPS.index(a["got"][-1]) + 1)

        starts = [i for i, (_, e) in enumerate(ev) if rules["entry"] == "open" or e == STEPS[0]]
        starts = [i for i in starts if ev[i][1] != "X"]
        if not starts:
            continue
        if rules["reentry"] == "first":
            atts = [walk(ev, starts[0])]
        elif rules["reentry"] == "after_end":
            atts, s = [], starts[0]
            while True:
                a = walk(ev, s)
                atts.append(a)
                nxt = [i for i in starts if i >= max(a["next"], s + 1)]
                if a["end"] == "open" or not nxt:
                    break
                s = nxt[0]
        else:
            tried = [walk(ev, s) for s in starts]
            spans = [set(span(a)) for a in tried]
            atts = [
                a
                for i, a in enumerate(tried)
                if not any(spans[i] < spans[j] or (spans[i] == spans[j] and j < i) for j in range(len(tried)))
            ]
        flags = {key: [False] * k for key in out["c"]}
        for a in atts:
            sp = span(a)
            for j in sp:
                hits = {"reached": True, "from_previous": j == 0 or j > sp.start, "from_first": sp.start == 0}
                for key, hit in hits.items():
                    if hit:
                        out["a"][key][j] += 1
                        flags[key][j] = True
        for key, f in flags.items():
            out["c"][key] = [x + int(y) for x, y in zip(out["c"][key], f, strict=True)]
    return out["c"] if rules["counting"] == "uniques" else out["a"]


def random_log(rng: np.random.Generator) -> pd.DataFrame:
    n = 500
    df = pd.DataFrame(
        {
            "c": rng.integers(0, 80, n),
            "e": rng.choice(["A", "B", "C", "D", "X", "U"], n, p=[0.22, 0.2, 0.2, 0.2, 0.05, 0.13]),
            "t": rng.integers(0, 60, n) * 60,  # whole minutes over an hour: many equal times
        }
    )
    df["i"] = np.arange(n)
    df["time"] = BASE + pd.to_timedelta(df["t"], unit="s")
    return df


@pytest.mark.parametrize(
    ("order", "entry", "reentry", "counting"),
    list(
        itertools.product(
            ["ordered", "strict", "any_order"],
            ["closed", "open"],
            ["first", "best", "after_end"],
            ["uniques", "totals"],
        )
    ),
)
def test_every_rule_combination_against_an_independent_reference(
    order: str, entry: str, reentry: str, counting: str
) -> None:
    # Exact counts (tolerance 0): at each step, from the previous step and from step 1.
    for seed, (window_s, ties) in enumerate(
        [(600, "input_order"), (None, "step_order"), (1200, "step_order")]
    ):
        rng = np.random.default_rng([seed, len(order), len(entry), len(reentry), len(counting)])
        df = random_log(rng)
        rules = dict(
            order=order,
            entry=entry,
            reentry=reentry,
            counting=counting,
            window_s=window_s,
            ties=ties,
            as_of_s=3600,
        )
        ref = reference_counts(df, rules)
        s = spec(
            STEPS,
            order=order,
            entry=entry,
            reentry=reentry,
            counting=counting,
            window=None if window_s is None else datetime.timedelta(seconds=window_s),
            ties=ties,
            exclusions=["X"],
            as_of=BASE + pd.Timedelta(hours=1),
        )
        r = cx.funnel(df, s, customer="c", event="e", time="time")
        assert isinstance(r, cx.FunnelResult)
        got = {
            "reached": [x.count for x in r.steps],
            "from_previous": [x.from_previous for x in r.steps],
            "from_first": [x.from_first for x in r.steps],
        }
        assert got == ref, (rules, got, ref)


# ----- ClickHouse strict_order ---------------------------------------------------------------


def test_clickhouse_strict_order_is_strict_with_unknown_events_kept() -> None:
    # ClickHouse's documented example: A->B->D->C stops finding A->B->C at the D: level 2. D is no
    # condition of the chain; ClickHouse records such rows as event 0, which breaks the order.
    rows = [(1, "A", "10:00"), (1, "B", "10:01"), (1, "D", "10:02"), (1, "C", "10:03")]
    kept = run(rows, ["A", "B", "C"], order="strict", reentry="best", unknown_events="keep")
    assert counts(kept) == [1, 1, 0]
    dropped = run(rows, ["A", "B", "C"], order="strict", reentry="best", unknown_events="drop")
    assert counts(dropped) == [1, 1, 1]  # the D unseen: not what ClickHouse does


# ----- entrants still in their window ----------------------------------------------------------


def aalen_johansen(d: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, cumulative incidence of code 1 and all-cause survival, from the definition."""
    times = np.unique(d)
    s, cif, out_cif, out_s = 1.0, 0.0, [], []
    for t in times:
        at_risk = int((d >= t).sum())
        e1 = int(((d == t) & (code == 1)).sum())
        e_all = int(((d == t) & (code > 0)).sum())
        cif += s * e1 / at_risk
        s *= 1 - e_all / at_risk
        out_cif.append(cif)
        out_s.append(s)
    return times, np.array(out_cif), np.array(out_s)


def test_entrants_in_their_window_are_reported_apart() -> None:
    rows = [(c, "visit", "2026-03-01 10:00") for c in range(50)]
    rows += [(c, "buy", "2026-03-02 10:00") for c in range(0, 50, 2)]
    rows += [(c, "visit", "2026-03-31 09:00") for c in range(50, 100)]
    log = pd.DataFrame(rows, columns=["c", "e", "t"])
    log["t"] = pd.to_datetime(log["t"])
    s = spec(["visit", "buy"], window=datetime.timedelta(days=7), as_of="2026-03-31 10:00")
    r = cx.funnel(log, s, customer="c", event="e", time="t")
    assert isinstance(r, cx.FunnelResult)
    assert (r.converted, r.entered, r.in_window) == (25, 100, 50)
    assert r.conversion_closed == 0.5
    lines = str(r).splitlines()
    assert lines[0].endswith("; 50 still in their window")
    assert "all 100 customers entering step 1, 50 of them still inside their window at as_of" in lines[2]
    assert "of the 50 whose window closed 25 converted, 50.0%" in lines[2]
    buy = r.steps[1]
    assert (buy.drop_off, buy.in_window, buy.drop_off_closed) == (75, 50, 25)
    html = r._repr_html_()
    assert "in their window at as_of" in html and "of which in window" in html
    # Conversion by the end of the window: Aalen-Johansen written here (1e-12).
    day = 86_400.0
    d = np.array([day] * 25 + [7 * day] * 25 + [3600.0] * 50)
    code = np.array([1] * 25 + [0] * 75)
    times, cif, surv = aalen_johansen(d, code)
    at_w = cif[times <= 7 * day][-1]
    assert r.conversion_by_window_end == pytest.approx(at_w, abs=1e-12)
    ttc = r.time_to_convert
    assert ttc is not None
    np.testing.assert_allclose(ttc.times, times, atol=0)
    np.testing.assert_allclose(ttc.cif_event, cif, atol=1e-12)
    np.testing.assert_allclose(ttc.survival, surv, atol=1e-12)
    table = ttc.table()
    assert list(table["converted_n"]) == [0.0, 25.0, 0.0]
    assert "25 converted, 0 stopped, 50 in their window at as_of and 25 timed out" in str(ttc)
    assert ttc.to_dict()["outcomes"] == r.outcomes
    assert "time to convert" in ttc._repr_html_()


def test_time_to_convert_curves_with_stops_against_aalen_johansen() -> None:
    # Random log with exclusions: cif_event against a numpy Aalen-Johansen of the reference's
    # durations (1e-12); survival is all-cause (conversion or stop), not one minus the conversion.
    rng = np.random.default_rng(11)
    n = 600
    df = pd.DataFrame(
        {"c": rng.integers(0, 150, n), "e": rng.choice(["A", "B", "C", "X"], n, p=[0.35, 0.3, 0.3, 0.05])}
    )
    df["t"] = rng.integers(0, 200, n)
    df["ts"] = BASE + pd.to_timedelta(df["t"], unit="min")
    w, as_of = 30, 200
    rows = []
    for _, g in df.groupby("c"):
        ev = sorted(zip(g["t"], g["e"], np.arange(len(g)), strict=True), key=lambda x: (x[0], x[2]))
        first = [i for i, (_, e, _) in enumerate(ev) if e == "A"]
        if not first:
            continue
        t0, level, out = ev[first[0]][0], 1, None
        for t, e, _ in ev[first[0] + 1 :]:
            if t - t0 > w:
                break
            if e == "X":
                out = (2, t - t0)
                break
            if e == ["A", "B", "C"][level]:
                level += 1
                if level == 3:
                    out = (1, t - t0)
                    break
        rows.append(out or (0, w if as_of - t0 > w else as_of - t0))
    code = np.array([r[0] for r in rows])
    d = np.array([r[1] for r in rows], dtype=float) * 60
    s = spec(
        ["A", "B", "C"],
        window=datetime.timedelta(minutes=w),
        exclusions=["X"],
        as_of=BASE + pd.Timedelta(minutes=as_of),
    )
    r = cx.funnel(df, s, customer="c", event="e", time="ts")
    assert isinstance(r, cx.FunnelResult)
    times, cif, surv = aalen_johansen(d, code)
    ttc = r.time_to_convert
    assert ttc is not None
    np.testing.assert_array_equal(ttc.times, times)
    np.testing.assert_allclose(ttc.cif_event, cif, atol=1e-12)
    np.testing.assert_allclose(ttc.survival, surv, atol=1e-12)
    assert (code == 2).any() and ttc.survival[-1] < 1 - ttc.cif_event[-1] - 1e-3
    assert r.conversion_by_window_end == pytest.approx(cif[times <= w * 60][-1], abs=1e-12)


@pytest.mark.parametrize("seed", [1, 2])
def test_time_to_convert_band_is_lifelines(seed: int) -> None:
    # Each customer: A at a start, then B (converted), X (stopped, an exclusion) or nothing (still
    # in the window at as_of), at durations distinct across customers so that lifelines' fit needs
    # no jitter. Reference: lifelines' AalenJohansenFitter on those durations (event 1 = converted,
    # 2 = stopped, 0 = censored): the curve to 1e-12, the log(-log) band to 1e-9 relative.
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(seed)
    n = 300
    starts = rng.permutation(n) * 7  # seconds after BASE
    dur = rng.permutation(np.arange(1, 3 * n + 1))[:n] + 0.5  # distinct seconds
    outcome = rng.choice([0, 1, 2], size=n, p=[0.2, 0.55, 0.25])
    as_of = int(starts.max() + dur.max()) + 10
    dur = np.where(outcome == 0, as_of - starts, dur)  # censored at as_of - start
    assert outcome[np.argmax(dur)] == 0  # the longest censored: lifelines' variance defined throughout
    rows: list[tuple[int, str, pd.Timestamp]] = []
    for c in range(n):
        t0 = BASE + pd.Timedelta(seconds=int(starts[c]))
        rows.append((c, "A", t0))
        if outcome[c] == 1:
            rows.append((c, "B", t0 + pd.Timedelta(seconds=float(dur[c]))))
        elif outcome[c] == 2:
            rows.append((c, "X", t0 + pd.Timedelta(seconds=float(dur[c]))))
    log = pd.DataFrame(rows, columns=["c", "e", "t"])
    s = spec(["A", "B"], window=None, exclusions=["X"], as_of=BASE + pd.Timedelta(seconds=as_of))
    r = cx.funnel(log, s, customer="c", event="e", time="t", confidence_level=0.9)
    assert isinstance(r, cx.FunnelResult)
    ttc = r.time_to_convert
    assert ttc is not None and len(np.unique(dur)) == n
    fitter = lifelines.AalenJohansenFitter(calculate_variance=True, alpha=0.1)
    aj = fitter.fit(dur, outcome, event_of_interest=1)
    f_ref = aj.cumulative_density_.iloc[:, 0]
    ci = aj.confidence_interval_.to_numpy()
    keep = (f_ref > 0).to_numpy()
    t_ref = f_ref.index.to_numpy()[keep]
    at = np.searchsorted(ttc.times, t_ref)
    np.testing.assert_allclose(ttc.times[at], t_ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ttc.cif_event[at], f_ref.to_numpy()[keep], rtol=0, atol=1e-12)
    low, high = ttc.converted_band()
    np.testing.assert_allclose(low[at], ci.min(axis=1)[keep], rtol=1e-9)
    np.testing.assert_allclose(high[at], ci.max(axis=1)[keep], rtol=1e-9)
    table = ttc.table()
    np.testing.assert_array_equal(table["converted_low"].to_numpy(), low)
    assert (table["converted_low"] <= table["converted"]).all()
    assert (table["converted"] <= table["converted_high"]).all()


def test_time_to_convert_plots() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import cx_metrics.plot as cxplot

    rows = [(1, "A", "10:00"), (1, "B", "10:20"), (2, "A", "10:30"), (3, "A", "10:40"), (3, "X", "10:45")]
    r = run(rows, ["A", "B"], exclusions=["X"])
    ax = cxplot.time_to_convert(r)
    assert ax.get_ylabel() == "share of entrants"
    plt.close(ax.figure)
    ttc = r.time_to_convert
    assert ttc is not None
    ax = ttc.plot()
    assert [line.get_label() for line in ax.get_lines()][:2] == ["converted", "converted or stopped"]
    plt.close(ax.figure)
    with pytest.raises(InvalidArgumentError, match="time_to_convert draws"):
        cxplot.time_to_convert(r.steps)


# ----- printouts and messages --------------------------------------------------------------------


def test_step_order_ties_print_where_exclusions_go() -> None:
    r = run(
        [(1, "A", "10:00"), (1, "X", "10:01"), (1, "B", "10:01")],
        ["A", "B"],
        ties="step_order",
        exclusions=["X"],
    )
    assert counts(r) == [1, 1]  # the step B sorts before the exclusion at the same time
    assert "equal timestamps: step_order (steps in step order, then exclusions, then other events" in str(r)
    with pytest.warns(cx.FunnelStepWarning, match='step 2 \\("B"\\)'):
        one = run([(1, "A", "10:00")], ["A", "B"])
    assert "equal timestamps: input_order\n" in str(one)


def test_time_errors_print_iso_instants() -> None:
    with pytest.raises(InvalidArgumentError) as e:
        cx.funnel(
            None,
            spec(["A", "B"], as_of="2026-02-01"),
            customer=[1, 1],
            event=["A", "B"],
            time=["2026-03-01 10:00", "2026-03-01 10:30"],
        )
    assert "row 0 is at 2026-03-01T10:00:00Z, after as_of (2026-02-01)" in str(e.value)
    assert " ns" not in str(e.value)
    a, b = (
        cx.FunnelTally(spec(["A", "B"], as_of="2026-03-02")),
        cx.FunnelTally(spec(["A", "B"], as_of="2026-03-03")),
    )
    with pytest.raises(IncompatibleError):
        a + b  # different specs (as_of is a rule): refused before the ends of data are compared


def test_length_mismatch_names_the_column() -> None:
    t = ["2026-03-01 10:00", "2026-03-01 10:30"]
    with pytest.raises(LengthMismatchError, match="customer has 3 labels for 2 rows"):
        cx.funnel(None, spec(["A", "B"]), customer=[1, 1, 2], event=["A", "B"], time=t)
    with pytest.raises(LengthMismatchError, match="event has 3 labels for 2 rows"):
        cx.funnel(None, spec(["A", "B"]), customer=[1, 1], event=["A", "B", "A"], time=t)
    with pytest.raises(LengthMismatchError, match="customer has 3 labels for 2 rows"):
        cx.paths(None, customer=[1, 1, 2], event=["A", "B"], time=t)


def test_integer_and_text_customer_ids_do_not_merge() -> None:
    s = spec(["A", "B"], as_of="2026-03-02")
    t1, t2 = cx.FunnelTally(s), cx.FunnelTally(s)
    t1.fold([1], ["A"], ["2026-03-01 10:00"])
    t2.fold(["1"], ["B"], ["2026-03-01 10:10"])
    with pytest.raises(IncompatibleError, match="keyed by integers and by texts"):
        t1 + t2
    with pytest.raises(IncompatibleError, match="keyed by integers and by texts"):
        t1.fold(["2"], ["A"], ["2026-03-01 11:00"])
    with pytest.warns(cx.FunnelStepWarning):  # no B in the data
        assert counts(t1.result()) == [1, 0]  # the refused fold changed nothing
    t3 = cx.FunnelTally(s)
    t3.fold([2], ["A"], ["2026-03-01 11:00"])
    with pytest.warns(cx.FunnelStepWarning):
        assert counts((t1 + t3).result()) == [2, 0]
    # The kinds survive storage.
    back = cx.FunnelTally.from_json(t2.to_json())
    with pytest.raises(IncompatibleError, match="keyed by integers and by texts"):
        t1 + back


def test_compare_refuses_funnels_that_share_customers() -> None:
    rows = [(1, "A", "10:00"), (1, "B", "10:05"), (2, "A", "10:00"), (3, "A", "11:00")]
    r = run(rows, ["A", "B"])
    with pytest.raises(IncompatibleError, match=r"share 3 customers \(of 3 and 3\).*independent samples"):
        r.compare(r)
    partly = run([(3, "A", "10:00"), (4, "A", "10:00"), (4, "B", "10:10")], ["A", "B"])
    with pytest.raises(IncompatibleError, match="share 1 customers"):
        cx.compare_funnels(r, partly)
    others = run([(5, "A", "10:00"), (6, "A", "10:00"), (6, "B", "10:10")], ["A", "B"])
    assert r.compare(others).steps[1]["overall"]["difference"] == pytest.approx(1 / 3 - 1 / 2, abs=1e-15)


def test_predicate_steps_and_tallies_say_what_works() -> None:
    s = spec(["A", ("B*", lambda n: n.startswith("B"))], window=None, as_of="2026-01-03")
    with pytest.raises(InvalidArgumentError, match=r"predicate, which only cx.funnel evaluates"):
        cx.FunnelTally(s)
    with pytest.raises(InvalidArgumentError, match=r"\('B\*', \[n for n in names if predicate\(n\)\]\)"):
        s.describe()
    r = cx.funnel(None, s, customer=[1, 1], event=["A", "B2"], time=["2026-01-01", "2026-01-02"])
    assert isinstance(r, cx.FunnelResult)
    assert counts(r) == [1, 1]
    resolved = spec(["A", ("B*", ["B2"])], window=None, as_of="2026-01-03")
    t = cx.FunnelTally(resolved)
    t.fold([1, 1], ["A", "B2"], ["2026-01-01", "2026-01-02"])
    assert t.result() == r


def test_a_misspelt_step_warns_with_the_closest_names() -> None:
    import difflib

    names = ["visit", "purchase", "purchased", "purse", "chase"]
    rows = [(i, e, "10:00") for i, e in enumerate(names)]
    with pytest.warns(cx.FunnelStepWarning) as caught:
        r = run(rows, ["visit", "purchse", "ZZZ"])
    assert counts(r) == [1, 0, 0]  # zeros are a count: no error
    assert len(caught) == 2 and len(r.warnings) == 2
    close = difflib.get_close_matches("purchse", names, n=3, cutoff=0.6)  # the reference
    quoted = ", ".join(f'"{c}"' for c in close)
    assert r.warnings[0] == (
        f'step 2 ("purchse") matches no event name of the data, so it counts 0 (closest event names: '
        f"{quoted}); check the spelling"
    )
    assert "step 3" in r.warnings[1] and "no event name of the data is close" in r.warnings[1]
    assert difflib.get_close_matches("ZZZ", names, n=3, cutoff=0.6) == []
    text = str(r)
    assert f"warning: {r.warnings[0]}" in text.splitlines()[2]
    assert "cx-warning" in r._repr_html_()
    assert cx.FunnelResult.from_json(r.to_json()).warnings == r.warnings
    # Merged partitions: a step seen in either is no warning.
    s = spec(["visit", "purchse"], as_of="2026-03-02")
    t1, t2 = cx.FunnelTally(s), cx.FunnelTally(s)
    t1.fold([1], ["visit"], ["2026-03-01 10:00"])
    t2.fold([2], ["purchse"], ["2026-03-01 10:00"])
    merged = (t1 + t2).result()
    assert merged.warnings == []
