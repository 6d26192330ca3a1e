"""Every result writes itself as JSON for storage and reads itself back: the same figures, tables,
printout and intervals; typed group labels (integers, floats, booleans, text, dates, moments, the
missing label, several columns) come back with their types; a document of another kind, of another
format version or that is not JSON is refused with a clear error."""

from __future__ import annotations

import datetime
import inspect
import json
import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics._groups import key_from_json, key_to_json
from cx_metrics.exceptions import InvalidArgumentError

RNG = np.random.default_rng(20261206)
N = 400


def _same_tables(a: Any, b: Any) -> None:
    pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas())


def _round_trip(r: Any) -> Any:
    text = r.to_json()
    json.loads(text)  # valid JSON (NaN written as null)
    back = type(r).from_json(text)
    assert type(back) is type(r)
    assert back.to_json() == text
    assert str(back) == str(r)
    assert pickle.loads(pickle.dumps(back)).to_json() == text
    return back


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ltr": RNG.integers(0, 11, N).astype(float),
            "csat": RNG.integers(1, 6, N),
            "ces": RNG.integers(1, 8, N),
            "wave": pd.to_datetime(RNG.choice(["2026-01-01", "2026-02-01", "2026-03-01"], N)),
            "day": RNG.choice([datetime.date(2026, 1, 1), datetime.date(2026, 1, 2)], N),
            "seg": RNG.choice(["web", "shop", None], N),
            "tier": RNG.integers(1, 4, N),
            "score": RNG.choice([0.5, 1.5], N),
            "flag": RNG.choice([True, False], N),
            "w": RNG.uniform(0.5, 2.0, N),
        }
    )


def test_single_results_round_trip() -> None:
    d = _frame()
    for r in (
        cx.nps(d["ltr"]),
        cx.nps(d["ltr"], weights=d["w"]),
        cx.nps(np.array([], dtype=float)),
        cx.csat(d["csat"], satisfied="top_two_box"),
        cx.csat(np.array([], dtype=float), satisfied="top_box"),
        cx.ces(d["ces"]),
        cx.ces(d["csat"], version=1),
    ):
        back = _round_trip(r)
        _same_tables(r, back)
        if r.undefined is None:
            assert back.ci(0.9) == r.ci(0.9)


@pytest.mark.parametrize("by", ["wave", "day", "seg", "tier", "score", "flag", ["day", "seg"]])
def test_by_group_results_keep_typed_labels(by: str | list[str]) -> None:
    d = _frame()
    cols = d[by] if isinstance(by, str) else [d[b] for b in by]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [
            cx.nps(d["ltr"], by=cols, weights=d["w"], overall=True),
            cx.csat(d["csat"], by=cols, satisfied="top_box"),
            cx.ces(d["ces"], by=cols),
        ]
    for r in results:
        back = _round_trip(r)
        assert back.groups == r.groups
        assert [type(g) for g in back.groups] == [type(g) for g in r.groups]
        _same_tables(r, back)
        for g in r.groups:
            assert back.intervals[g] == r.intervals[g]
            assert back[g].n == r[g].n


def test_trend_and_all_pairs_round_trip() -> None:
    d = _frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = cx.trend(d, metric="nps", outcome="ltr", by="wave", segment="seg")
        a = cx.compare_all(d, metric="csat", outcome="csat", by="tier", satisfied="top_box")
    back_t = _round_trip(t)
    assert back_t.waves == t.waves and back_t.segments == t.segments
    for table in ("waves", "changes", "tests"):
        pd.testing.assert_frame_equal(back_t.to_pandas(table), t.to_pandas(table))
    back_a = _round_trip(a)
    assert back_a.groups == a.groups
    pd.testing.assert_frame_equal(back_a.to_pandas(), a.to_pandas())


def test_comparisons_round_trip_without_rows() -> None:
    a = RNG.integers(0, 11, 300).astype(float)
    b = RNG.integers(0, 11, 300).astype(float)
    comparisons = [
        cx.compare_nps(a, b),
        cx.compare_nps(a, b, method="wald"),
        cx.compare_nps(a, b, paired=True, weights=RNG.uniform(0.5, 2.0, 300)),
        cx.compare_csat(cx.csat(a % 5 + 1, satisfied="top_box"), cx.csat(b % 5 + 1, satisfied="top_box")),
        cx.compare_ces(cx.ces(a % 7 + 1), cx.ces(b % 7 + 1)),
        cx.compare_proportions(30, 100, 45, 120),
    ]
    for c in comparisons:
        back = cx.Comparison.from_json(c.to_json())
        assert back == c
        assert str(back) == str(c)
        assert back.ci(0.8) == c.ci(0.8)


def test_paired_comparison_keeps_the_table_of_pairs_not_the_ratings() -> None:
    # A paired comparison used to keep both rating arrays for its intervals: its pickle grew with n.
    sizes = []
    for n in (100, 100_000):
        a = RNG.integers(0, 11, n).astype(float)
        b = RNG.integers(0, 11, n).astype(float)
        sizes.append(len(pickle.dumps(cx.compare_nps(a, b, paired=True))))
    assert sizes[1] < sizes[0] + 64


def test_operational_results_round_trip() -> None:
    d = pd.DataFrame(
        {
            "start": pd.to_datetime(["2025-12-01", "2025-12-05", "2026-01-03", "2025-11-01", "2025-10-01"]),
            "end": pd.to_datetime(["2026-01-20", None, None, "2026-03-01", "2026-01-10"]),
            "seg": ["a", "b", "a", "b", "a"],
        }
    )
    by = cx.churn(d, start="start", end="end", period_start="2026-01-01", period_end="2026-02-01", by="seg")
    back = _round_trip(by)
    assert back.labels == by.labels
    one = cx.churn(customers_start=200, lost=12)
    assert cx.ChurnResult.from_json(one.to_json()) == one

    durations = RNG.exponential(10.0, N)
    outcomes = RNG.choice([1, 0, 2], N, p=[0.8, 0.15, 0.05])
    rt = cx.response_times(durations=durations, outcomes=outcomes, target=10.0, horizon=60.0)
    back_rt = _round_trip(rt)
    assert back_rt.km_quantiles == rt.km_quantiles and back_rt.within == rt.within
    groups = RNG.choice([1, 2, 3], N)
    rg = cx.response_times(durations=durations, outcomes=outcomes, target=10.0, by=groups)
    back_rg = _round_trip(rg)
    assert list(back_rg.groups) == list(rg.groups)
    _same_tables(rg, back_rg)


def _funnel_log() -> pd.DataFrame:
    n_customers = 120
    customer = np.repeat(np.arange(n_customers), 4)
    event = RNG.choice(["visit", "cart", "buy", "refund"], len(customer), p=[0.4, 0.3, 0.2, 0.1])
    seconds = RNG.integers(0, 7200, len(customer))
    return pd.DataFrame(
        {
            "customer": customer,
            "event": event,
            "time": pd.Timestamp("2026-03-01") + pd.to_timedelta(seconds, unit="s"),
            # Labels constant per customer (a customer is in the segment of their first event).
            "tier": (customer % 3 + 1).astype(np.int64),
            "day": [datetime.date(2026, 3, 1 + c % 2) for c in customer],
            "seg": np.where(customer % 5 == 0, None, np.where(customer % 2 == 0, "web", "app")),
        }
    )


@pytest.mark.parametrize("by", ["tier", "day", "seg", ["day", "seg"]])
def test_funnel_results_round_trip_with_typed_labels(by: str | list[str]) -> None:
    log = _funnel_log()
    spec = cx.FunnelSpec(
        ["visit", "cart", "buy"],
        order="ordered",
        window=datetime.timedelta(minutes=30),
        window_end="exclusive",
        entry="closed",
        counting="totals",
        reentry="after_end",
        exclusions=["refund"],
    )
    whole = cx.funnel(log, spec, customer="customer", event="event", time="time", confidence_level=0.9)
    assert isinstance(whole, cx.FunnelResult)
    back = _round_trip(whole)
    assert back == whole and back.to_dict() == whole.to_dict()
    _same_tables(whole, back)
    assert [s.conversion_ci for s in back.steps] == [s.conversion_ci for s in whole.steps]
    by_group = cx.funnel(log, spec, customer="customer", event="event", time="time", by=by)
    assert isinstance(by_group, cx.FunnelByGroup)
    back_g = _round_trip(by_group)
    assert back_g == by_group
    assert back_g.labels == by_group.labels
    assert [type(v) for lab in back_g.labels for v in lab] == [
        type(v) for lab in by_group.labels for v in lab
    ]
    _same_tables(by_group, back_g)
    for lab, r in by_group:
        assert back_g[lab] == r
    first, second = by_group.results[:2]
    comparison = first.compare(second)
    back_c = _round_trip(comparison)
    assert back_c == comparison and back_c.steps == comparison.steps
    _same_tables(comparison, back_c)
    # The time to convert: its curve, counts, window and outcomes come back; so do the read-through
    # attributes of the curve.
    ttc = whole.time_to_convert
    assert ttc is not None
    back_t = _round_trip(ttc)
    _same_tables(ttc, back_t)
    assert back_t.to_dict() == ttc.to_dict()
    assert (back_t.window_s, back_t.outcomes, back_t.unit) == (1800.0, ttc.outcomes, ttc.unit)
    t_mid = float(np.median(ttc.times))
    assert back_t.survival_at(t_mid) == ttc.survival_at(t_mid)
    assert (back_t.band(0.95, "log_log")[0] == ttc.band(0.95, "log_log")[0]).all()
    assert (back_t.std_error == ttc.std_error).all() and back_t.counts == ttc.counts
    with pytest.raises(InvalidArgumentError, match="not a TimeToConvert"):
        cx.TimeToConvert.from_json(whole.to_json())
    stored_t = json.loads(ttc.to_json())
    curve = stored_t["curve"]
    outcomes = stored_t["outcomes"]
    for bad, match in [
        ({**stored_t, "outcomes": {"converted": 1}}, "are not the counts of"),
        ({**stored_t, "outcomes": {**outcomes, "converted": 3.7}}, "are not counts >= 0"),
        ({**stored_t, "outcomes": {**outcomes, "stopped": -1}}, "are not counts >= 0"),
        ({**stored_t, "outcomes": {**outcomes, "stopped": True}}, "are not counts >= 0"),
        ({**stored_t, "outcomes": {**outcomes, "converted": 10**6}}, "do not match the curve"),
        ({k: v for k, v in stored_t.items() if k != "curve"}, "KeyError"),
        ({**stored_t, "confidence_level": 1.5}, "confidence_level 1.5"),
        ({**stored_t, "confidence_level": "0.9"}, "confidence_level '0.9'"),
        ({**stored_t, "window_s": -5}, "window_s -5"),
        ({**stored_t, "window_s": "12"}, "window_s '12'"),
        ({**stored_t, "unit": 5}, "unit 5"),
        ({**stored_t, "curve": {**curve, "times": curve["times"][:-1]}}, "entries for"),
        ({**stored_t, "curve": {**curve, "times": curve["times"][::-1]}}, "above the one before"),
    ]:
        with pytest.raises(InvalidArgumentError, match=match):
            cx.TimeToConvert.from_json(json.dumps(bad))


def test_bad_funnel_documents_are_refused() -> None:
    log = _funnel_log()
    spec = cx.FunnelSpec(
        ["visit", "buy"],
        order="ordered",
        window=None,
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
    )
    by_group = cx.funnel(log, spec, customer="customer", event="event", time="time", by=["day", "seg"])
    assert isinstance(by_group, cx.FunnelByGroup)
    stored = json.loads(by_group.to_json())
    with pytest.raises(InvalidArgumentError, match="not a FunnelByGroup"):
        cx.FunnelByGroup.from_json(cx.nps([10.0, 3.0], by=["a", "b"]).to_json())
    short = {**stored, "results": stored["results"][:1]}
    with pytest.raises(InvalidArgumentError, match=f"{len(by_group)} labels but 1 results"):
        cx.FunnelByGroup.from_json(json.dumps(short))
    one_value = {**stored, "labels": [lab[:1] for lab in stored["labels"]]}
    with pytest.raises(InvalidArgumentError, match="2 values, one per by column"):
        cx.FunnelByGroup.from_json(json.dumps(one_value))
    with pytest.raises(InvalidArgumentError, match="KeyError"):
        cx.FunnelByGroup.from_json(json.dumps({k: v for k, v in stored.items() if k != "labels"}))


@pytest.mark.parametrize(
    "key",
    [
        None,
        True,
        3,
        2.5,
        float("inf"),
        "web",
        datetime.date(2026, 1, 31),
        datetime.datetime(2026, 1, 31, 8, 30),
        np.datetime64("2026-01-31T08:00:00", "s"),
        np.datetime64("2026-01-31T08:00:00.000000001", "ns"),
        (datetime.date(2026, 1, 1), "web", None),
    ],
)
def test_label_codec_keeps_types(key: Any) -> None:
    back = key_from_json(json.loads(json.dumps(key_to_json(key))))
    assert type(back) is type(key)
    assert back == key or (isinstance(key, tuple) and back[2] is None and back[:2] == key[:2])
    if isinstance(key, np.datetime64):
        assert np.datetime_data(back.dtype) == np.datetime_data(key.dtype)


def test_bad_documents_are_refused() -> None:
    r = cx.nps(np.array([10.0, 9.0, 3.0]), by=np.array(["a", "b", "a"]))
    with pytest.raises(InvalidArgumentError, match="not a CsatByGroup"):
        cx.CsatByGroup.from_json(r.to_json())
    stored = json.loads(r.to_json())
    stored["version"] = 99
    with pytest.raises(InvalidArgumentError, match="format version 99"):
        cx.NpsByGroup.from_json(json.dumps(stored))
    stored["version"] = 1
    stored["results"] = stored["results"][:1]
    with pytest.raises(InvalidArgumentError, match="2 groups but 1 results"):
        cx.NpsByGroup.from_json(json.dumps(stored))
    with pytest.raises(InvalidArgumentError, match="invalid Trend JSON"):
        cx.Trend.from_json("{not json")
    with pytest.raises(InvalidArgumentError, match="not an object"):
        cx.AllPairs.from_json("[1, 2]")
    with pytest.raises(InvalidArgumentError, match="stored label"):
        key_from_json({"planet": "mars"})
    bad = json.loads(cx.compare_proportions(1, 10, 2, 10).to_json())
    bad["function"] = "__import__"
    with pytest.raises(InvalidArgumentError, match="unknown function"):
        cx.Comparison.from_json(json.dumps(bad))


# Classes that are not results: values, options, warnings, enumerations and the typing helpers.
NOT_RESULTS = {"Any", "Interval", "DriverWarning", "Pillar", "ByGroup"}


def test_every_exported_result_writes_and_reads_json() -> None:
    """The contract: every public class with a table or a ``to_dict`` is stored with ``to_json`` and
    read back with ``from_json``."""
    missing = []
    for name in sorted(cx.__all__):
        obj = getattr(cx, name)
        if not inspect.isclass(obj) or issubclass(obj, BaseException | Warning) or name in NOT_RESULTS:
            continue
        tabular = hasattr(obj, "to_dict") or hasattr(obj, "to_pandas")
        stored = callable(getattr(obj, "to_json", None)) and callable(getattr(obj, "from_json", None))
        if tabular and not stored:
            missing.append(name)
    assert missing == []
