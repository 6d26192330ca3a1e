"""Funnels: every figure against a straightforward per-customer loop written here in pandas/Python
(counts exact), Wilson and Newcombe figures against statsmodels, the documented ClickHouse and
Mixpanel examples, bad input, states and pickling."""

from __future__ import annotations

import datetime
import itertools
import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import CxMetricsError, IncompatibleError

SEC = 1_000_000_000
BASE = pd.Timestamp("2026-03-01")


# ----- the reference: one customer at a time, in plain Python -------------------------------------


def reference(df: pd.DataFrame, steps: list[str], rules: dict[str, Any]) -> dict[str, Any]:
    """Counts of a funnel computed row by row from the rules as documented."""
    k = len(steps)
    excl = set(rules.get("exclusions", ()))
    w = rules["window_s"]
    inclusive = rules["window_end"] == "inclusive"
    order = rules["order"]
    df = df.reset_index(drop=True).copy()
    df["row"] = np.arange(len(df))
    known = df["event"].isin(steps) | df["event"].isin(excl)
    n_unknown = 0
    if rules["unknown_events"] == "drop":
        n_unknown = int((~known).sum())
        df = df[known]
    as_of = rules.get("as_of_s")
    if as_of is None:
        as_of = int(df["t"].max())

    def in_win(d: int) -> bool:
        return w is None or (d <= w if inclusive else d < w)

    def role(e: str) -> Any:
        if e in steps:
            return steps.index(e)
        return "X" if e in excl else "O"

    def attempt(evs: list[tuple[int, Any]], s: int) -> dict[str, Any]:
        t0, r0 = evs[s]
        if order == "any_order":
            entry, level, done = 0, 1, {r0}
        else:
            entry, level, done = r0, r0 + 1, set()
        last, status, resume, end = t0, None, len(evs), t0
        if level == k:
            return dict(
                entry=entry, level=level, status="complete", resume=s + 1, start=t0, end=t0, open=False
            )
        for j in range(s + 1, len(evs)):
            t, r = evs[j]
            if not in_win(t - t0):
                status, resume = "timeout", j
                break
            if r == "X":
                status, resume, end = "stopped", j + 1, t
                break
            same = rules["step_times"] == "increasing" and t == last
            if order in ("ordered", "strict"):
                if r == level and not same:
                    level, last, end = level + 1, t, t
                elif order == "strict" or (
                    isinstance(r, int) and entry <= r < level and rules["repeats"] == "stop"
                ):
                    status, resume, end = "stopped", j, t
                    break
            elif isinstance(r, int):
                if r in done:
                    if rules["repeats"] == "stop":
                        status, resume, end = "stopped", j, t
                        break
                elif not same:
                    done.add(r)
                    level, last, end = level + 1, t, t
            if level == k:
                status, resume = "complete", j + 1
                break
        is_open = status is None and in_win(as_of - t0)
        return dict(entry=entry, level=level, status=status, resume=resume, start=t0, end=end, open=is_open)

    def starts(r: Any) -> bool:
        return isinstance(r, int) and (rules["entry"] == "open" or r == 0)

    counts = {u: {"reached": [0] * k, "from_previous": [0] * k, "from_first": [0] * k} for u in ("a", "c")}
    outcomes = {"converted": 0, "stopped": 0, "in_window": 0, "timed_out": 0}
    durations: list[tuple[float, int]] = []
    reordered = 0
    for _, g in df.groupby("customer", sort=False):
        reordered += int((g["t"].diff() < 0).sum())
        if rules["ties"] == "step_order":

            def rank(e: str) -> int:
                r = role(e)
                return r if isinstance(r, int) else (k + 200 if r == "X" else k + 201)

            g = g.assign(rank=g["event"].map(rank)).sort_values(["t", "rank", "row"], kind="stable")
        else:
            g = g.sort_values(["t", "row"], kind="stable")
        evs = [(int(t), role(e)) for t, e in zip(g["t"], g["event"], strict=True)]
        firsts = [j for j, (_, r) in enumerate(evs) if starts(r)]
        atts: list[dict[str, Any]] = []
        if firsts:
            if rules["reentry"] == "first":
                atts = [attempt(evs, firsts[0])]
            elif rules["reentry"] == "best":
                # Every start tried; kept: the attempts whose steps (entry to furthest) no other
                # attempt covers, the earliest of equal ones.
                tried = [attempt(evs, j) for j in firsts]

                def covers(b: dict[str, Any], a: dict[str, Any]) -> bool:
                    return b["entry"] <= a["entry"] and b["level"] >= a["level"]

                atts = [
                    a
                    for i, a in enumerate(tried)
                    if not any(
                        covers(b, a) and (not covers(a, b) or i2 < i) for i2, b in enumerate(tried) if i2 != i
                    )
                ]
            else:
                s: int | None = firsts[0]
                while s is not None:
                    a = attempt(evs, s)
                    atts.append(a)
                    if a["open"]:
                        break
                    nxt = [j for j in firsts if j >= max(a["resume"], s + 1)]
                    s = nxt[0] if nxt else None
        anyc = {key: [False] * k for key in ("reached", "from_previous", "from_first")}
        for a in atts:
            e, lv = a["entry"], a["level"]
            for j in range(e, min(lv, k)):
                counts["a"]["reached"][j] += 1
                anyc["reached"][j] = True
                if j == 0 or j > e:
                    counts["a"]["from_previous"][j] += 1
                    anyc["from_previous"][j] = True
                if e == 0:
                    counts["a"]["from_first"][j] += 1
                    anyc["from_first"][j] = True
        for key, flags in anyc.items():
            for j, f in enumerate(flags):
                counts["c"][key][j] += int(f)
        entered = [a for a in atts if a["entry"] == 0]
        if rules["counting"] == "totals":
            chosen = entered
        elif rules["reentry"] == "after_end":
            done_ = [a for a in entered if a["status"] == "complete"]
            chosen = done_[:1] or entered[-1:]
        else:
            chosen = entered[:1]
        for a in chosen:
            if a["status"] == "complete":
                outcomes["converted"] += 1
                durations.append((a["end"] - a["start"], 1))
            elif a["status"] == "stopped":
                outcomes["stopped"] += 1
                durations.append((a["end"] - a["start"], 2))
            elif a["open"]:
                outcomes["in_window"] += 1
                durations.append((as_of - a["start"], 0))
            else:
                outcomes["timed_out"] += 1
                durations.append((w if w is not None else as_of - a["start"], 0))
    unit = counts["c"] if rules["counting"] == "uniques" else counts["a"]
    return dict(unit=unit, outcomes=outcomes, durations=durations, n_unknown=n_unknown, reordered=reordered)


def spec_of(steps: list[str], rules: dict[str, Any]) -> cx.FunnelSpec:
    w = rules["window_s"]
    as_of = rules.get("as_of_s")
    return cx.FunnelSpec(
        steps,
        order=rules["order"],
        window=None if w is None else datetime.timedelta(seconds=w),
        window_end=rules["window_end"],
        entry=rules["entry"],
        counting=rules["counting"],
        reentry=rules["reentry"],
        exclusions=tuple(rules.get("exclusions", ())),
        repeats=rules["repeats"],
        step_times=rules["step_times"],
        ties=rules["ties"],
        unknown_events=rules["unknown_events"],
        as_of=None if as_of is None else BASE + pd.Timedelta(seconds=as_of),
    )


def random_log(rng: np.random.Generator, n_customers: int, names: list[str]) -> pd.DataFrame:
    sizes = rng.integers(1, 9, n_customers)
    customer = np.repeat(np.arange(n_customers) * 7 + 3, sizes)
    n = len(customer)
    # Coarse times (many ties), not sorted within a customer.
    t = rng.integers(0, 40, n) * 5
    event = rng.choice(names, n, p=[0.3, 0.22, 0.18, 0.1, 0.1, 0.1])
    df = pd.DataFrame({"customer": customer, "event": event, "t": t})
    df = df.sample(frac=1.0, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)
    df["time"] = BASE + pd.to_timedelta(df["t"], unit="s")
    return df


STEPS = ["a", "b", "c", "d"]
NAMES = ["a", "b", "c", "d", "x", "z"]
MAIN = list(
    itertools.product(
        ["ordered", "strict", "any_order"],
        ["closed", "open"],
        ["uniques", "totals"],
        ["first", "best", "after_end"],
    )
)


@pytest.mark.parametrize(("order", "entry", "counting", "reentry"), MAIN)
def test_counts_equal_the_reference_for_every_rule(
    order: str, entry: str, counting: str, reentry: str
) -> None:
    for seed in range(3):
        rng = np.random.default_rng(hash((order, entry, counting, reentry, seed)) % (1 << 32))
        df = random_log(rng, 60, NAMES)
        rules = dict(
            order=order,
            entry=entry,
            counting=counting,
            reentry=reentry,
            window_s=[None, 30, 60][seed],
            window_end=["inclusive", "exclusive"][int(rng.integers(2))],
            repeats=["ignore", "stop"][int(rng.integers(2))],
            step_times=["non_decreasing", "increasing"][int(rng.integers(2))],
            ties=["input_order", "step_order"][int(rng.integers(2))],
            unknown_events=["drop", "keep"][int(rng.integers(2))],
            exclusions=["x"] if rng.integers(2) else [],
            as_of_s=None if seed == 0 else 260,
        )
        ref = reference(df, STEPS, rules)
        r = cx.funnel(df, spec_of(STEPS, rules), customer="customer", event="event", time="time")
        assert isinstance(r, cx.FunnelResult)
        got = {
            "reached": [s.count for s in r.steps],
            "from_previous": [s.from_previous for s in r.steps],
            "from_first": [s.from_first for s in r.steps],
        }
        assert got == ref["unit"], rules
        assert r.outcomes == ref["outcomes"], rules
        assert r.counts["n_unknown"] == ref["n_unknown"]
        assert r.counts["n_reordered"] == ref["reordered"]
        # The time-to-convert table: the same durations and outcomes, counted exactly.
        km = r.time_to_convert
        d = pd.DataFrame(ref["durations"], columns=["d", "o"])
        if km is None:
            assert d.empty
            continue
        per = d.groupby("d")["o"].agg(events=lambda o: int((o == 1).sum()), total="size").sort_index()
        np.testing.assert_array_equal(km.times, per.index.to_numpy(dtype=float))
        np.testing.assert_array_equal(km.events, per["events"].to_numpy(dtype=float))
        at_risk = per["total"][::-1].cumsum()[::-1].to_numpy(dtype=float)
        np.testing.assert_array_equal(km.at_risk, at_risk)


def test_rates_and_wilson_intervals_match_statsmodels() -> None:
    sm = pytest.importorskip("statsmodels.stats.proportion")
    rng = np.random.default_rng(11)
    df = random_log(rng, 400, NAMES)
    spec = cx.FunnelSpec(
        STEPS,
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    r = cx.funnel(df, spec, customer="customer", event="event", time="time")
    assert isinstance(r, cx.FunnelResult)
    for prev, s in zip(r.steps, r.steps[1:], strict=False):
        assert s.previous == prev.count
        assert s.conversion == pytest.approx(s.from_previous / prev.count, rel=1e-15)
        low, high = sm.proportion_confint(s.from_previous, prev.count, alpha=0.05, method="wilson")
        assert s.conversion_ci is not None
        assert s.conversion_ci.low == pytest.approx(low, abs=1e-12)
        assert s.conversion_ci.high == pytest.approx(high, abs=1e-12)
        assert s.drop_off == prev.count - s.from_previous
    low, high = sm.proportion_confint(r.converted, r.entered, alpha=0.05, method="wilson")
    assert r.conversion_ci is not None
    assert (r.conversion_ci.low, r.conversion_ci.high) == pytest.approx((low, high), abs=1e-12)


def test_two_funnels_compared_with_the_z_test_and_newcombe() -> None:
    sm = pytest.importorskip("statsmodels.stats.proportion")
    rng = np.random.default_rng(5)
    df = random_log(rng, 500, NAMES)
    df["segment"] = np.where(df["customer"] % 2 == 0, "even", "odd")
    spec = cx.FunnelSpec(
        STEPS,
        order="ordered",
        window=datetime.timedelta(seconds=120),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    by = cx.funnel(df, spec, customer="customer", event="event", time="time", by="segment")
    assert isinstance(by, cx.FunnelByGroup)
    even, odd = by["even"], by["odd"]
    # Each segment equals the funnel of its customers alone.
    alone = cx.funnel(df[df["segment"] == "even"], spec, customer="customer", event="event", time="time")
    assert isinstance(alone, cx.FunnelResult)
    assert [s.count for s in even.steps] == [s.count for s in alone.steps]
    c = even.compare(odd)
    for row, s, t in zip(c.steps[1:], even.steps[1:], odd.steps[1:], strict=True):
        z, p = sm.proportions_ztest([s.from_previous, t.from_previous], [s.previous, t.previous])
        assert row["conversion"]["z"] == pytest.approx(z, rel=1e-10)
        assert row["conversion"]["p_value"] == pytest.approx(p, rel=1e-9)
        lo, hi = sm.confint_proportions_2indep(
            s.from_previous, s.previous, t.from_previous, t.previous, method="newcomb", compare="diff"
        )
        assert row["conversion"]["interval"]["low"] == pytest.approx(lo, abs=1e-10)
        assert row["conversion"]["interval"]["high"] == pytest.approx(hi, abs=1e-10)
    assert "conversion_difference" in c.to_pandas().columns


def test_clickhouse_docs_example() -> None:
    # windowFunnel(6048000000000000)(timestamp, eventID = 1003, eventID = 1009, eventID = 1007,
    # eventID = 1010) on the docs' table (user 1) returns level 4. The docs' window is longer than
    # any span of the table; windows here are below 2**63 ns, so 6048000000 s stands for it.
    df = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1],
            "eventID": ["1003", "1007", "1009", "1010"],
            "timestamp": pd.to_datetime(
                ["2019-01-29 10:00:00", "2019-01-31 09:00:00", "2019-01-30 08:00:00", "2019-02-01 08:00:00"]
            ),
        }
    )
    spec = cx.FunnelSpec(
        ["1003", "1009", "1007", "1010"],
        order="ordered",
        window=datetime.timedelta(seconds=6048000000),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="best",
        unknown_events="drop",
    )
    r = cx.funnel(df, spec, customer="user_id", event="eventID", time="timestamp")
    assert isinstance(r, cx.FunnelResult)
    assert [s.count for s in r.steps] == [1, 1, 1, 1]
    assert r.counts["n_reordered"] == 1


def test_mixpanel_window_is_not_reset() -> None:
    # A at 1:00 pm, A at 1:30, B at 1:45, C at 2:15, one-hour window: converts to B, not to C.
    df = pd.DataFrame(
        {
            "user": ["u"] * 4,
            "event": ["A", "A", "B", "C"],
            "time": pd.to_datetime(
                ["2026-01-01 13:00", "2026-01-01 13:30", "2026-01-01 13:45", "2026-01-01 14:15"]
            ),
        }
    )
    spec = cx.FunnelSpec(
        ["A", "B", "C"],
        order="ordered",
        window=datetime.timedelta(hours=1),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    r = cx.funnel(df, spec, customer="user", event="event", time="time")
    assert isinstance(r, cx.FunnelResult)
    assert [s.count for s in r.steps] == [1, 1, 0]
    text = str(r)
    for rule in ("order: ordered", "window: 1 h", "entry: closed", "counting: uniques", "re-entry: first"):
        assert rule in text


def test_inputs_pandas_polars_arrow_and_predicates() -> None:
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(3)
    df = random_log(rng, 50, NAMES)
    spec = cx.FunnelSpec(
        [("start", lambda e: e in ("a", "z")), "b", ["c", "d"]],
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="totals",
        reentry="after_end",
    )
    kw: dict[str, Any] = dict(customer="customer", event="event", time="time")
    a = cx.funnel(df, spec, **kw)
    b = cx.funnel(pl.from_pandas(df), spec, **kw)
    c = cx.funnel(pa.Table.from_pandas(df), spec, **kw)
    assert (
        isinstance(a, cx.FunnelResult) and isinstance(b, cx.FunnelResult) and isinstance(c, cx.FunnelResult)
    )
    assert a.to_dict() == b.to_dict() == c.to_dict()
    assert a.steps[0].step == "start" and a.steps[2].step == "c | d"
    ref = reference(
        df.replace({"event": {"z": "a", "d": "c"}}),
        ["a", "b", "c"],
        dict(
            order="ordered",
            window_s=None,
            window_end="inclusive",
            entry="closed",
            counting="totals",
            reentry="after_end",
            repeats="ignore",
            step_times="non_decreasing",
            ties="input_order",
            unknown_events="drop",
        ),
    )
    assert [s.count for s in a.steps] == ref["unit"]["reached"]


def test_bad_input_is_named() -> None:
    spec = cx.FunnelSpec(
        ["a", "b"],
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
        unknown_events="raise",
        missing="raise",
    )
    df = pd.DataFrame({"c": [1, 1, 2], "e": ["a", "q", "a"], "t": pd.to_datetime(["2026-01-01"] * 3)})
    with pytest.raises(CxMetricsError, match="row 1"):
        cx.funnel(df, spec, customer="c", event="e", time="t")
    df2 = pd.DataFrame(
        {"c": [1, 1, 2], "e": ["a", "b", "a"], "t": pd.to_datetime(["2026-01-01", None, "2026-01-01"])}
    )
    with pytest.raises(CxMetricsError, match="row 1"):
        cx.funnel(df2, spec, customer="c", event="e", time="t")
    # Omitted rows are counted.
    lenient = cx.FunnelSpec(
        ["a", "b"],
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    r = cx.funnel(df2, lenient, customer="c", event="e", time="t")
    assert isinstance(r, cx.FunnelResult)
    assert r.counts["n_missing_time"] == 1 and r.counts["n_rows"] == 3
    # A mix of time-zone-aware and naive times.
    mixed = [
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 1),
        datetime.datetime(2026, 1, 2),
    ]
    with pytest.raises(CxMetricsError, match="row"):
        cx.funnel(None, lenient, customer=[1, 1, 2], event=["a", "b", "a"], time=mixed)
    # An empty step: a predicate that matches no event name.
    empty = cx.FunnelSpec(
        ["a", ("never", lambda e: False)],
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    with pytest.raises(CxMetricsError, match="step 2"):
        cx.funnel(df, empty, customer="c", event="e", time="t")
    with pytest.raises(CxMetricsError, match="window"):
        cx.FunnelSpec(
            ["a"],
            order="ordered",
            window=3600,
            window_end="inclusive",
            entry="closed",
            counting="uniques",
            reentry="first",
        ).describe()
    with pytest.raises(CxMetricsError, match="order"):
        cx.FunnelSpec(
            ["a"],
            order="sideways",  # type: ignore[arg-type]
            window=None,
            window_end="inclusive",
            entry="closed",
            counting="uniques",
            reentry="first",
        ).describe()


def test_states_merge_by_customer_and_refuse_splits() -> None:
    rng = np.random.default_rng(9)
    df = random_log(rng, 200, NAMES)
    spec = cx.FunnelSpec(
        STEPS,
        order="ordered",
        window=datetime.timedelta(seconds=60),
        window_end="exclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
        as_of=BASE + pd.Timedelta(seconds=500),
    )
    whole = cx.FunnelTally(spec)
    whole.fold(df["customer"], df["event"], df["time"])
    parts = []
    for _, part in df.groupby(df["customer"] % 3):
        t = cx.FunnelTally(spec)
        t.fold(part["customer"], part["event"], part["time"])
        parts.append(t)
    merged = parts[0] + parts[1] + parts[2]
    assert sum(parts) == whole
    assert merged == whole
    assert merged.result().to_dict() == whole.result().to_dict()
    with pytest.raises(IncompatibleError, match="same customer"):
        parts[0] + parts[0]
    # Customer split across two states: refused.
    first, second = cx.FunnelTally(spec), cx.FunnelTally(spec)
    first.fold([1, 2], ["a", "a"], [BASE, BASE])
    second.fold([1], ["b"], [BASE])
    with pytest.raises(IncompatibleError):
        first.merge(second)
    back = pickle.loads(pickle.dumps(whole))
    assert back == whole
    r = whole.result()
    assert cx.FunnelResult.from_json(r.to_json()).to_dict() == r.to_dict()
    assert pickle.loads(pickle.dumps(r)).to_dict() == r.to_dict()
    assert "<table>" in r._repr_html_()
    assert list(r.to_pandas().columns)[:3] == ["step", "count", "from_previous"]
    assert not math.isnan(r.to_pandas()["overall"].iloc[0])


def test_plot_funnel() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = random_log(np.random.default_rng(1), 30, NAMES)
    spec = cx.FunnelSpec(
        STEPS,
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    r = cx.funnel(df, spec, customer="customer", event="event", time="time")
    assert isinstance(r, cx.FunnelResult)
    ax = cx.plot.funnel(r)
    assert len(ax.patches) == len(STEPS)
    plt.close("all")


# ----- display, storage and equality ---------------------------------------------------------------


RULE_CASES = [
    dict(
        order="ordered",
        window=datetime.timedelta(hours=1),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
        exclusions=("z",),
        ties="input_order",
    ),
    dict(
        order="strict",
        window=datetime.timedelta(minutes=30),
        window_end="exclusive",
        entry="open",
        counting="totals",
        reentry="after_end",
        exclusions=(),
        ties="step_order",
    ),
    dict(
        order="any_order",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="best",
        exclusions=("x", "z"),
        ties="step_order",
    ),
]


def expected_rule_lines(rules: dict[str, Any]) -> list[str]:
    """What the printout must say of each rule, written here from the rules as documented."""
    order = {
        "ordered": "order: ordered (other events may occur between steps)",
        "strict": "order: strict (the next event must be the next step)",
        "any_order": "order: any_order (step k = k of the steps done, in any order)",
    }[rules["order"]]
    w = rules["window"]
    if w is None:
        window = "window: none (an attempt stays open to the end of the data)"
    else:
        length = f"{int(w.total_seconds() // 3600)} h" if w.total_seconds() % 3600 == 0 else None
        length = length or f"{int(w.total_seconds() // 60)} min"
        start = "1" if rules["entry"] == "closed" else "k"
        window = f"window: {length} from the attempt's first step-{start} event, end {rules['window_end']}"
    unit = "customers" if rules["counting"] == "uniques" else "attempts"
    excl = rules["exclusions"]
    return [
        order,
        window,
        f"entry: {rules['entry']} (attempts ",
        f"counting: {rules['counting']} ({unit})",
        f"re-entry: {rules['reentry']} (",
        "exclusions: " + ("none" if not excl else "[" + ", ".join(f'"{e}"' for e in excl) + "] stop"),
        f"equal timestamps: {rules['ties']}",
        "repeats of a reached step: ignore",
        "step times: non_decreasing",
        "unknown events: drop",
        "missing values: omit",
        f"denominator: {unit} entering step 1; step-to-step rates divide by the previous step",
    ]


@pytest.mark.parametrize("rules", RULE_CASES, ids=lambda r: f"{r['order']}-{r['entry']}-{r['counting']}")
def test_every_rule_is_printed_below_a_short_first_line(rules: dict[str, Any]) -> None:
    sm = pytest.importorskip("statsmodels.stats.proportion")
    df = random_log(np.random.default_rng(21), 300, NAMES)
    long_steps = [f"{name} {'step name ' * 12}" for name in STEPS]  # names far longer than a line
    df["event"] = df["event"].map(dict(zip(STEPS, long_steps, strict=True))).fillna(df["event"])
    spec = cx.FunnelSpec(long_steps, **rules)
    r = cx.funnel(df, spec, customer="customer", event="event", time="time", confidence_level=0.9)
    assert isinstance(r, cx.FunnelResult)
    text = str(r)
    lines = text.splitlines()
    assert len(lines[0]) <= 140, lines[0]
    # The first line: the conversion and its Wilson interval, labelled with its level (statsmodels).
    assert r.converted < r.entered
    low, high = sm.proportion_confint(r.converted, r.entered, alpha=0.1, method="wilson")
    unit = "customers" if rules["counting"] == "uniques" else "attempts"
    share = 100 * r.converted / r.entered
    in_window = f"; {r.outcomes['in_window']} still in their window" if r.outcomes["in_window"] else ""
    assert lines[0] == (
        f"Funnel of 4 steps: {r.converted} of {r.entered} {unit} converted, {share:.1f}% "
        f"(90% CI {100 * low:.1f}% to {100 * high:.1f}%, Wilson){in_window}"
    )
    # The second line: every row counted or dropped.
    c = r.counts
    assert lines[1].startswith(f"{c['n_rows']} rows, {r.n_dropped} dropped (missing customer 0, time 0")
    assert f"unknown event {c['n_unknown']}), {c['n_reordered']} out of time order" in lines[1]
    assert (
        r.n_dropped == c["n_unknown"] == int((~df["event"].isin([*long_steps, *rules["exclusions"]])).sum())
    )
    assert lines[1].endswith("as of 2026-03-01T00:03:15 UTC (latest event)")
    assert df["time"].max() == pd.Timestamp("2026-03-01 00:03:15")
    html = r._repr_html_()
    for rule in expected_rule_lines(rules):
        assert rule in text, rule
        head, _, rest = rule.partition(": ")
        assert html_escape(head) in html and html_escape(rest) in html, rule
    assert "steps: " + " -> ".join(long_steps) in text
    assert "(90% CI, Wilson)" in text and "(90% CI, Wilson)" in html


def html_escape(text: str) -> str:
    import html

    return html.escape(text)


def test_segments_print_their_rules_once_and_stack_their_tables() -> None:
    df = random_log(np.random.default_rng(22), 300, NAMES)
    df["segment"] = np.where(df["customer"] % 3 == 0, "c", np.where(df["customer"] % 3 == 1, "a", "b"))
    df["step"] = df["segment"]  # a label column that shares its name with a column of the steps
    spec = spec_of(STEPS, {**DEFAULTS, "window_s": 60, "window_end": "inclusive"})
    by = cx.funnel(df, spec, customer="customer", event="event", time="time", by=["segment", "step"])
    assert isinstance(by, cx.FunnelByGroup)
    text = str(by)
    assert text.count("order: ordered") == 1 and text.count("denominator: ") == 1
    assert len(text.splitlines()[0]) <= 140
    # The table: each segment's own table, stacked, after its labels (pandas concat as the reference).
    parts = []
    for lab, r in by:
        part = r.to_pandas()
        part.insert(0, "by_step", lab[1])
        part.insert(0, "segment", lab[0])
        parts.append(part)
    reference = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(by.to_pandas(), reference)
    assert by.to_polars().equals(pl_from_pandas(reference))
    # Each segment's conversion, with its interval, in the segments' table.
    for lab, r in by:
        ci = r.conversion_ci
        assert r.conversion is not None and ci is not None
        row = f"{lab[0]} / {lab[1]}"
        cells = f"{100 * r.conversion:.1f}% [{100 * ci.low:.1f}%, {100 * ci.high:.1f}%]"
        assert any(line.startswith(row) and cells in line for line in text.splitlines()), row
    assert by._repr_html_().count(">order<") == 1


def pl_from_pandas(frame: pd.DataFrame) -> Any:
    pl = pytest.importorskip("polars")
    return pl.from_pandas(frame)


DEFAULTS: dict[str, Any] = dict(
    order="ordered",
    entry="closed",
    counting="uniques",
    reentry="first",
    repeats="ignore",
    step_times="non_decreasing",
    ties="input_order",
    unknown_events="drop",
)


def test_copies_compare_equal_and_other_results_do_not() -> None:
    df = random_log(np.random.default_rng(23), 200, NAMES)
    df["segment"] = np.where(df["customer"] % 2 == 0, "even", "odd")
    spec = spec_of(STEPS, {**DEFAULTS, "window_s": 60, "window_end": "inclusive"})
    r = cx.funnel(df, spec, customer="customer", event="event", time="time")
    by = cx.funnel(df, spec, customer="customer", event="event", time="time", by="segment")
    assert isinstance(r, cx.FunnelResult) and isinstance(by, cx.FunnelByGroup)
    c = by["even"].compare(by["odd"])
    for x in (r, by, c):
        back = pickle.loads(pickle.dumps(x))
        assert back == x and type(x).from_json(x.to_json()) == x
        assert repr(back) == repr(x) and "\n" not in repr(x)
    assert by["even"] != by["odd"] and r != by["even"]
    assert c != by["odd"].compare(by["even"])
    other = spec_of(STEPS, {**DEFAULTS, "window_s": 60, "window_end": "exclusive"})
    r2 = cx.funnel(df, other, customer="customer", event="event", time="time")
    assert isinstance(r2, cx.FunnelResult)
    assert r2 != r  # the rules differ, even where the counts agree
    assert repr(r) == (
        f"FunnelResult(steps={STEPS!r}, entered={r.entered}, converted={r.converted}, "
        f"conversion={r.conversion!r}, counting='uniques')"
    )
    with pytest.raises(TypeError):
        hash(r)


def test_comparison_prints_its_intervals_and_tests() -> None:
    sm = pytest.importorskip("statsmodels.stats.proportion")
    df = random_log(np.random.default_rng(24), 400, NAMES)
    df["segment"] = np.where(df["customer"] % 2 == 0, "even", "odd")
    spec = spec_of(STEPS, {**DEFAULTS, "window_s": 120, "window_end": "inclusive"})
    by = cx.funnel(df, spec, customer="customer", event="event", time="time", by="segment")
    assert isinstance(by, cx.FunnelByGroup)
    even, odd = by["even"], by["odd"]
    c = cx.compare_funnels(even, odd, confidence_level=0.9)
    text = str(c).splitlines()
    assert text[0] == (
        "Funnel comparison, first - second: 90% CI Newcombe hybrid score, pooled two-proportion z test"
    )
    assert "conversion diff (90% CI)" in text[1] and "from step 1 diff (90% CI)" in text[1]
    for line, s, t in zip(text[3:], even.steps[1:], odd.steps[1:], strict=True):
        assert s.previous is not None and t.previous is not None
        lo, hi = sm.confint_proportions_2indep(
            s.from_previous,
            s.previous,
            t.from_previous,
            t.previous,
            method="newcomb",
            compare="diff",
            alpha=0.1,
        )
        z, p = sm.proportions_ztest([s.from_previous, t.from_previous], [s.previous, t.previous])
        diff = s.from_previous / s.previous - t.from_previous / t.previous
        assert line.split()[:5] == [s.step, f"{diff:+.4f}", f"[{lo:+.4f},", f"{hi:+.4f}]", f"{z:.3f}"]
        assert line.split()[5] == f"{p:.4g}"
    frame = c.to_pandas()
    assert frame["step"].tolist() == STEPS and math.isnan(frame["conversion_difference"].iloc[0])
    assert c._repr_html_().startswith('<div class="cx-metrics"><p>Funnel comparison')


def test_compare_refuses_funnels_counted_under_different_rules() -> None:
    """A difference of conversions counted as customers and as attempts (or within another window)
    mixes the rules with the customers: refused, naming the rules; another as_of compares."""
    import datetime

    import cx_metrics as cx
    from cx_metrics.exceptions import IncompatibleError

    log = {
        "who": [1, 1, 2, 2, 2, 3],
        "what": ["a", "b", "a", "a", "b", "a"],
        "when": ["2026-01-01", "2026-01-02", "2026-01-01", "2026-01-03", "2026-01-04", "2026-01-02"],
    }
    rules: dict[str, Any] = {
        "order": "ordered",
        "window": None,
        "window_end": "inclusive",
        "entry": "closed",
        "counting": "uniques",
        "reentry": "first",
    }
    base = cx.funnel(log, cx.FunnelSpec(["a", "b"], **rules), customer="who", event="what", time="when")
    totals = {**rules, "counting": "totals", "reentry": "after_end", "window": datetime.timedelta(days=1)}
    other = cx.funnel(log, cx.FunnelSpec(["a", "b"], **totals), customer="who", event="what", time="when")
    with pytest.raises(IncompatibleError, match=r"window, counting, reentry"):
        cx.compare_funnels(base, other)
    later_spec = cx.FunnelSpec(["a", "b"], **rules, as_of="2026-02-01")
    others = {**log, "who": [11, 11, 12, 12, 12, 13]}  # other customers: independent samples
    later = cx.funnel(others, later_spec, customer="who", event="what", time="when")
    assert cx.compare_funnels(base, later).steps[1]["overall"]["difference"] == 0.0
