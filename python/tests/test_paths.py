"""Paths, new vs returning and abandonment against independent pandas computations on randomised
event logs (fixed seeds). Tolerances: counts exact; shares and probabilities 1e-12 (relative and
absolute); median gaps exact to 1e-12 relative (both sides average two int64 gaps in float64);
Wilson intervals against statsmodels' ``proportion_confint(method="wilson")`` to 1e-12."""

from __future__ import annotations

import datetime
import pickle

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import IncompatibleError, InvalidArgumentError

TOL = 1e-12
EVENTS = ["home", "search", "product", "cart", "checkout", "pay", "help"]


def _log(seed: int, n: int = 4_000, customers: int = 300, shuffle: bool = True) -> pd.DataFrame:
    """A random event log: integer customers, event names, second-resolution times over 60 days
    (with repeated times, so ties occur), rows shuffled."""
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2026-01-01T00:00:00", "ns")
    secs = rng.integers(0, 60 * 86_400, n)
    # Bunch some events of a customer close together, so short gaps and session splits occur.
    secs = (secs // 600) * 600 + rng.integers(0, 5, n) * 60
    df = pd.DataFrame(
        {
            "customer": rng.integers(0, customers, n),
            "event": rng.choice(EVENTS, n, p=[0.25, 0.2, 0.2, 0.15, 0.08, 0.07, 0.05]),
            "time": t0 + secs.astype("timedelta64[s]"),
            "channel": rng.choice(["web", "app"], n),
        }
    )
    if shuffle:
        df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return df


def _reference_paths(
    df: pd.DataFrame, gap_s: float | None = None, session: str | None = None
) -> pd.DataFrame:
    """The log sorted into paths the pandas way: stable sort by customer, (session), time (row order
    breaks ties), then a path id, the position in the path, the next event and the gap to it."""
    keys = ["customer"] + ([session] if session else []) + ["time"]
    d = df.reset_index(names="row").sort_values([*keys, "row"], kind="mergesort").reset_index(drop=True)
    gap = d["time"].diff().dt.total_seconds()
    new = d["customer"].ne(d["customer"].shift())
    if session:
        new |= d[session].ne(d[session].shift())
    if gap_s is not None:
        new |= gap > gap_s
    d["path"] = new.cumsum()
    d["pos"] = d.groupby("path").cumcount() + 1
    d["next"] = d.groupby("path")["event"].shift(-1)
    d["gap_ns"] = (d.groupby("path")["time"].shift(-1) - d["time"]).dt.total_seconds() * 1e9
    return d


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(b))


@pytest.mark.parametrize(("seed", "gap"), [(1, None), (2, 1800.0), (3, 120.0)])
def test_paths_against_pandas(seed: int, gap: float | None) -> None:
    df = _log(seed)
    r = cx.paths(df, customer="customer", event="event", time="time", session_gap=gap)
    d = _reference_paths(df, gap)
    n_paths = int(d["path"].nunique())
    assert (r.n_paths, r.n_events, r.n_customers) == (n_paths, len(df), df["customer"].nunique())

    # Transitions between events, with the exact median gap.
    pairs = d.dropna(subset=["next"])
    ref = pairs.groupby(["event", "next"])["gap_ns"].agg(["size", "median", "min", "max"])
    g = r.graph.to_pandas().set_index(["from", "to"])
    assert len(g) == len(ref)
    for (a, b), row in ref.iterrows():
        mine = g.loc[(a, b)]
        assert int(mine["count"]) == int(row["size"])
        assert _close(mine["median_gap"] * 1e9, row["median"])
        assert _close(mine["min_gap"] * 1e9, row["min"])
        assert _close(mine["max_gap"] * 1e9, row["max"])

    # Transition matrix with the pseudo-states: counts exact, probabilities 1e-12.
    firsts = d[d["pos"] == 1]["event"].value_counts()
    lasts = d[d["next"].isna()]["event"].value_counts()
    occurrences = d["event"].value_counts()
    t = r.transitions.to_pandas().set_index(["from", "to"])
    expected = {("(start)", e): (c, c / n_paths) for e, c in firsts.items()}
    expected |= {(e, "(end)"): (c, c / occurrences[e]) for e, c in lasts.items()}
    expected |= {(a, b): (int(n), n / occurrences[a]) for (a, b), n in ref["size"].items()}
    assert len(t) == len(expected)
    for key, (count, prob) in expected.items():
        assert int(t.loc[key, "count"]) == count
        assert _close(float(t.loc[key, "probability"]), prob)

    # Exits: the last event of every path.
    ex = r.exits.to_pandas().set_index("event")
    assert len(ex) == len(lasts)
    for e, c in lasts.items():
        assert int(ex.loc[e, "count"]) == c
        assert _close(float(ex.loc[e, "share"]), c / n_paths)

    # Variants: every path as a tuple, counted; order by count then steps.
    seqs = d.groupby("path")["event"].apply(tuple).value_counts()
    ref_v = sorted(((-c, s) for s, c in seqs.items()))
    v = r.variants(None)
    assert len(v) == len(ref_v)
    assert v["path"] == [" > ".join(s) for _, s in ref_v]
    assert v["count"] == [-c for c, _ in ref_v]
    assert all(_close(a, -c / n_paths) for a, (c, _) in zip(v["share"], ref_v, strict=True))
    top = r.variants(5)
    assert top["count"] == [-c for c, _ in ref_v[:5]]

    # Sankey links over the first 4 steps.
    nxt = d[(d["pos"] < 4) & d["next"].notna()]
    ref_s = nxt.groupby(["pos", "event", "next"]).size()
    s = r.sankey(4).to_pandas().set_index(["source_step", "source", "target"])
    assert len(s) == len(ref_s)
    for key, c in ref_s.items():
        assert int(s.loc[key, "value"]) == c
    assert (s.reset_index()["target_step"] == s.reset_index()["source_step"] + 1).all()


def test_session_column_and_by() -> None:
    df = _log(11)
    df["session"] = (df["time"].dt.day // 3).astype(np.int64)
    r = cx.paths(df, customer="customer", event="event", time="time", session="session")
    d = _reference_paths(df, session="session")
    assert r.n_paths == d["path"].nunique()
    seqs = d.groupby("path")["event"].apply(tuple).value_counts()
    assert r.variants(1)["count"] == [int(seqs.max())]

    by = cx.paths(df, customer="customer", event="event", time="time", by="channel")
    assert set(by) == {"web", "app"}
    for channel, res in by.items():
        sub = df[df["channel"] == channel].reset_index(drop=True)
        assert res == cx.paths(sub, customer="customer", event="event", time="time")


def test_missing_rows_and_reordering_are_counted() -> None:
    df = pd.DataFrame(
        {
            "customer": [1, 1, None, 1, 2, 2, 2],
            "event": ["a", "b", "a", None, "a", "b", "c"],
            "time": pd.to_datetime(
                [
                    "2026-01-01 10:00",
                    "2026-01-01 10:02",
                    "2026-01-01 00:00",
                    "2026-01-01 00:00",
                    None,
                    "2026-01-02 09:00",
                    "2026-01-02 08:00",
                ]
            ),
        }
    )
    r = cx.paths(df, customer="customer", event="event", time="time")
    assert r.omitted == {"customer": 1, "event": 1, "time": 1, "session": 0}
    assert r.n_omitted == 3
    # Customer 2: c (08:00) arrives after b (09:00).
    assert r.n_reordered == 1
    assert r.variants(None)["path"] == ["a > b", "c > b"]
    assert "3 rows left out, 1 reordered" in str(r)


def test_inputs_pandas_polars_arrow_agree() -> None:
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    df = _log(5, n=800, shuffle=False)
    a = cx.paths(df, customer="customer", event="event", time="time")
    b = cx.paths(pl.from_pandas(df), customer="customer", event="event", time="time")
    c = cx.paths(pa.Table.from_pandas(df), customer="customer", event="event", time="time")
    d = cx.paths(customer=df["customer"].to_numpy(), event=df["event"].tolist(), time=df["time"].to_numpy())
    assert a == b == c == d


def test_columns_read_in_place_or_as_arrow_text_give_the_same_paths() -> None:
    # Int64 customers and sessions are read in place, text in object or unicode columns crosses as
    # Arrow strings: each must give what the same labels given one Python object per row give.
    df = _log(8, n=1_500)
    df["session"] = (df["time"].dt.day // 7).astype(np.int64)
    events = df["event"].astype(object)
    events[[3, 50, 700]] = [None, np.nan, None]
    kwargs = {"time": df["time"].to_numpy(), "session_gap": 3600}
    want = cx.paths(
        customer=df["customer"].tolist(), event=events.tolist(), session=df["session"].tolist(), **kwargs
    )
    assert want.omitted["event"] == 3
    for customer, event, session in [
        (df["customer"], events, df["session"]),
        (df["customer"].to_numpy(), events.to_numpy(), df["session"].to_numpy()),
        (df["customer"].astype(str).tolist(), events.tolist(), df["session"].astype(str).tolist()),
    ]:
        assert cx.paths(customer=customer, event=event, session=session, **kwargs) == want
    # A unicode array (no missing values), against the same labels as a list.
    full = df["event"].to_numpy().astype(str)
    assert cx.paths(customer=df["customer"], event=full, **kwargs) == cx.paths(
        customer=df["customer"], event=full.tolist(), **kwargs
    )
    # Objects that are not all text keep the labels' route.
    mixed = np.array([1.5, "a", 2, "b"], dtype=object)
    at = np.arange(4).astype("datetime64[s]")
    r = cx.paths(customer=[1, 1, 2, 2], event=mixed, time=at)
    assert r == cx.paths(customer=[1, 1, 2, 2], event=mixed.tolist(), time=at)
    assert r.variants(None)["path"] == ["1.5 > a", "2 > b"]
    # The smallest int64 is an id like any other (not a missing customer).
    low = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).min, 5], dtype=np.int64)
    r = cx.paths(customer=low, event=["a", "b", "a"], time=np.arange(3).astype("datetime64[s]"))
    assert (r.n_customers, r.n_omitted, r.variants(None)["path"]) == (2, 0, ["a", "a > b"])


def test_time_zones() -> None:
    aware = pd.to_datetime(["2026-01-01 10:00", "2026-01-01 11:00"]).tz_localize("Europe/Paris")
    r = cx.paths(customer=[1, 1], event=["a", "b"], time=aware)
    assert r.graph["median_gap"] == [3600.0]
    mixed = [datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), datetime.datetime(2026, 1, 2)]
    with pytest.raises(InvalidArgumentError, match="row 0 is time-zone-aware but row 1 is naive"):
        cx.paths(customer=[1, 1], event=["a", "b"], time=mixed)


def test_results_serialise_and_print() -> None:
    r = cx.paths(
        _log(7, n=500),
        customer="customer",
        event="event",
        time="time",
        session_gap=datetime.timedelta(minutes=30),
    )
    assert r.session_gap == 1800.0
    assert pickle.loads(pickle.dumps(r)) == r
    assert cx.PathResult.from_json(r.to_json()) == r
    assert r.to_dict()["n_paths"] == r.n_paths
    assert "paths of" in str(r) and "<table>" in r._repr_html_()
    rows, cols, m = r.matrix("probability")
    assert rows[0] == "(start)" and cols[-1] == "(end)"
    np.testing.assert_allclose(m.sum(axis=1), 1.0, rtol=0, atol=TOL)
    assert r.variants(3).to_polars().height == 3 if _has_polars() else True


def _has_polars() -> bool:
    try:
        import polars  # noqa: F401
    except ImportError:
        return False
    return True


def test_tally_merges_customer_partitions_and_refuses_splits() -> None:
    df = _log(9, n=2_000)
    whole = cx.paths(df, customer="customer", event="event", time="time").to_dict()
    parts = []
    for k in range(3):
        sub = df[df["customer"] % 3 == k]
        t = cx.PathTally()
        t.fold(sub["customer"].to_numpy(), sub["event"], sub["time"])
        parts.append(t)
    merged = sum(parts[1:], parts[0])
    restored = cx.PathTally.from_bytes(merged.to_bytes())
    assert restored == merged
    assert pickle.loads(pickle.dumps(merged)) == merged
    got = merged.result().to_dict()
    # The tally keys customers by their own ids; the one-shot result by dense codes: same figures.
    for key in ("n_paths", "n_events", "n_customers", "variants", "transitions", "edges", "exits"):
        assert got[key] == whole[key], key
    # A customer split across two tallies (or two folds) is refused.
    a, b = cx.PathTally(), cx.PathTally()
    a.fold([1, 1], ["x", "y"], ["2026-01-01", "2026-01-02"])
    b.fold([1], ["z"], ["2026-01-03"])
    with pytest.raises(IncompatibleError, match="customer 1 has events in both"):
        a.merge(b)
    with pytest.raises(InvalidArgumentError, match="customer 1 already has events"):
        a.fold([1], ["z"], ["2026-01-03"])
    assert a.result().n_events == 2


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="session_gap"):
        cx.paths(customer=[1], event=["a"], time=["2026-01-01"], session_gap=-5)
    with pytest.raises(InvalidArgumentError, match="max_steps"):
        cx.paths(customer=[1], event=["a"], time=["2026-01-01"], max_steps=0)
    with pytest.raises(InvalidArgumentError, match="pseudo-state"):
        cx.paths(customer=[1], event=["(end)"], time=["2026-01-01"])
    r = cx.paths(customer=[1, 1, 1], event=["a", "a", "a"], time=["2026-01-01"] * 3, max_steps=2)
    assert (r.variants_dropped, len(r.variants(None))) == (1, 0)
    with pytest.raises(InvalidArgumentError, match="depth"):
        r.sankey(1)


# ----- new vs returning -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "freq", "lookback"), [("month", "M", None), ("week", "W-SUN", 2), ("day", "D", 7)]
)
def test_new_vs_returning_against_pandas(period: str, freq: str, lookback: int | None) -> None:
    df = _log(21, n=3_000, customers=400)
    r = cx.new_vs_returning(df, customer="customer", time="time", period=period, lookback=lookback)  # type: ignore[arg-type]
    p = (
        df.assign(p=df["time"].dt.to_period(freq))
        .drop_duplicates(["customer", "p"])
        .sort_values(["customer", "p"])
    )
    p["ordinal"] = p["p"].map(lambda x: x.ordinal)
    p["prev"] = p.groupby("customer")["ordinal"].shift()
    p["kind"] = np.where(
        p["prev"].isna(),
        "new",
        np.where(
            (lookback is None) | (p["ordinal"] - p["prev"] <= (lookback or 0)), "returning", "reactivated"
        ),
    )
    ref = p.groupby(["p", "kind"]).size().unstack(fill_value=0)
    full = pd.period_range(ref.index.min(), ref.index.max(), freq=freq)
    ref = ref.reindex(full, fill_value=0)
    for k in ("new", "returning", "reactivated"):
        if k not in ref:
            ref[k] = 0
    assert r.starts == [np.datetime64(x.start_time.date(), "D") for x in full]
    assert r.new == ref["new"].tolist()
    assert r.returning == ref["returning"].tolist()
    assert r.reactivated == ref["reactivated"].tolist()
    assert r.active == (ref["new"] + ref["returning"] + ref["reactivated"]).tolist()
    assert r.customers == df["customer"].nunique()
    frame = r.to_pandas()
    assert frame["active"].tolist() == r.active
    assert pickle.loads(pickle.dumps(r)) == r
    assert "look-back" in str(r)


def test_new_vs_returning_agrees_with_repeat_rate() -> None:
    df = _log(23, n=1_500)
    r = cx.new_vs_returning(df, customer="customer", time="time", period="month")
    for start, new, ret in zip(r.starts, r.new, r.returning, strict=True):
        end = (pd.Timestamp(start) + pd.offsets.MonthBegin(1)).date()
        w = cx.repeat_rate(df, customer_id="customer", time="time", window=(pd.Timestamp(start).date(), end))
        assert (w.new, w.returning) == (new, ret)


# ----- abandonment ----------------------------------------------------------------------------------


def test_abandonment_against_pandas_and_statsmodels() -> None:
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    df = _log(31, n=2_500, customers=500)
    stages = ["home", "product", "cart", "checkout", "pay"]
    a = cx.abandonment(df, customer="customer", event="event", stages=stages)
    rank = df["event"].map({s: i for i, s in enumerate(stages)})
    furthest = rank.groupby(df["customer"]).max().dropna().astype(int)
    n = len(furthest)
    counts = furthest.value_counts().reindex(range(len(stages)), fill_value=0)
    assert a.customers == n
    assert a.customers_without_stage == df["customer"].nunique() - n
    assert a.last == counts.tolist()
    assert a.reached == counts[::-1].cumsum()[::-1].tolist()
    for k, c in enumerate(counts):
        assert _close(a.share[k], c / n)
        lo, hi = proportion.proportion_confint(c, n, alpha=0.05, method="wilson")
        assert _close(a.share_ci[k].low, lo) and _close(a.share_ci[k].high, hi)
    assert a.to_pandas()["last"].tolist() == a.last
    assert pickle.loads(pickle.dumps(a)) == a


def test_abandonment_errors() -> None:
    with pytest.raises(InvalidArgumentError, match='"chekout" is not an event in the data'):
        cx.abandonment(customer=[1, 2], event=["cart", "checkout"], stages=["cart", "chekout"])
    with pytest.raises(InvalidArgumentError, match="listed twice"):
        cx.abandonment(customer=[1, 2], event=["cart", "pay"], stages=["cart", "cart"])
    with pytest.raises(InvalidArgumentError, match="list of event names"):
        cx.abandonment(customer=[1], event=["cart"], stages="cart")


def test_transition_heatmap_draws_the_matrix() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = cx.paths(_log(41, n=600), customer="customer", event="event", time="time")
    assert isinstance(r, cx.PathResult)
    rows, cols, m = r.matrix("probability")
    ax = cx.plot.transition_heatmap(r)
    drawn = ax.images[0].get_array()
    np.testing.assert_array_equal(np.ma.getdata(drawn)[~np.ma.getmaskarray(drawn)], m[m > 0])
    assert [t.get_text() for t in ax.get_yticklabels()] == rows
    assert [t.get_text() for t in ax.get_xticklabels()] == cols
    plt.close("all")
    with pytest.raises(InvalidArgumentError):
        cx.plot.transition_heatmap(object())


def test_new_vs_returning_and_abandonment_by_group() -> None:
    """by=: each group's result is the function on the group's rows (its own figures checked against
    pandas in the tests above); a stage that one group never reached counts 0 there, while a misspelt
    stage is still refused, checked against the whole log."""
    events = cx.datasets.sample_operations("events")
    segment = (events["customer_id"] % 3).map({0: "a", 1: "b", 2: "c"})
    events = events.assign(segment=segment)
    stages = ["visit", "product_view", "add_to_cart", "checkout", "purchase"]
    nvr = cx.new_vs_returning(events, customer="customer_id", time="time", period="week", by="segment")
    ab = cx.abandonment(events, customer="customer_id", event="event", stages=stages, by="segment")
    paths = cx.paths(events, customer="customer_id", event="event", time="time", by="segment")
    assert list(nvr) == list(ab) == list(paths) == ["a", "b", "c"]
    for s, rows in events.groupby("segment"):
        sub = rows.reset_index(drop=True)
        assert nvr[s] == cx.new_vs_returning(sub, customer="customer_id", time="time", period="week")
        assert ab[s] == cx.abandonment(sub, customer="customer_id", event="event", stages=stages)
        assert paths[s] == cx.paths(sub, customer="customer_id", event="event", time="time")
        # pandas: customers whose furthest stage is "purchase", and their share.
        furthest = (
            sub[sub["event"].isin(stages)]
            .groupby("customer_id")["event"]
            .agg(lambda e: max(stages.index(x) for x in e))
        )
        assert ab[s].last[-1] == int((furthest == len(stages) - 1).sum())
        assert ab[s].share[-1] == pytest.approx((furthest == len(stages) - 1).mean(), rel=1e-15)
    assert len(nvr.to_pandas()) == sum(len(r.to_pandas()) for r in nvr.values())
    assert list(ab.to_pandas().columns[:2]) == ["segment", "stage"]
    # A stage that one group never reached (no refund among group "x") counts 0 there.
    only = events.assign(segment=np.where(events["event"] == "refund", "y", "x"))
    refunds = cx.abandonment(
        only, customer="customer_id", event="event", stages=["visit", "refund"], by="segment"
    )
    assert refunds["x"].reached[-1] == 0 and refunds["x"].last[-1] == 0
    with pytest.raises(cx.exceptions.InvalidArgumentError, match="not an event in the data"):
        cx.abandonment(
            events, customer="customer_id", event="event", stages=["visit", "purchse"], by="segment"
        )
