"""cx_metrics.contact_center (handling time, service level) against independent references.

References and tolerances:
- ``frt_minutes`` of operations_vectors.json: mean, type-7 median and p90, nearest-rank p90 of ten
  numbers (1e-12 absolute), and ``sla_within_10`` (0.8: 8 of 10 answered within 10) as ICMI formula 2.
- ICMI's published service level example (T = 20 s; 1000 answered, 860 within; 60 abandoned, 20 within
  20 s of which 10 within 5 s): 83.0 %, 86.0 %, 81.1 %, 82.7 %, 82.1 % (rounded there to 0.1 %:
  5e-4 absolute; the exact fractions 1e-15).
- pandas / numpy computations written here on seeded random contacts: per-group means, np.quantile
  (``linear`` = Hyndman-Fan type 7, ``inverted_cdf`` = nearest rank), each formula counted by hand (1e-12);
  scipy.stats ``binomtest(...).proportion_ci("wilson")`` (1e-9) and ``t.interval`` (1e-8: the core's
  t quantile) for the intervals.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from conftest import load_vectors

from cx_metrics.contact_center import (
    HandlingTally,
    HandlingTime,
    HandlingTimeByGroup,
    ServiceLevel,
    ServiceLevelByGroup,
    ServiceLevelTally,
    handling_time,
    service_level,
)
from cx_metrics.exceptions import CxMetricsError, InvalidArgumentError

stats = pytest.importorskip("scipy.stats")

TOL = 1e-12


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    n = 600
    return pd.DataFrame(
        {
            "agent": rng.choice(["ana", "ben", "cy"], n),
            "talk": rng.gamma(2.0, 150.0, n).round(),
            "hold": np.where(rng.random(n) < 0.3, rng.exponential(60.0, n).round(), 0.0),
            "acw": rng.gamma(3.0, 10.0, n).round(),
            "dial": rng.integers(3, 15, n).astype(float),
            "wait": rng.exponential(25.0, n).round(1),
            "answered": rng.random(n) < 0.9,
        }
    )


# ----- handling time ---------------------------------------------------------------------------------


def test_handling_time_reproduces_the_fixture() -> None:
    f: dict[str, Any] = load_vectors("operations_vectors.json")["frt_minutes"]
    r = handling_time(components=["talk"], talk=f["values"], quantiles=(0.5, 0.9))
    assert isinstance(r, HandlingTime)
    assert abs(r.aht - f["mean"]) < TOL
    assert abs(r.quantiles[0][1] - f["median"]) < TOL
    assert abs(r.quantiles[1][1] - f["p90_type7"]) < 1e-9
    nr = handling_time(
        components=["talk"], talk=f["values"], quantiles=(0.9,), quantile_method="nearest_rank"
    )
    assert nr.quantiles[0][1] == f["p90_nearest_rank"]
    x = np.asarray(f["values"])
    low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=x.std(ddof=1) / math.sqrt(len(x)))
    assert r.aht_ci is not None
    assert abs(r.aht_ci.low - low) < 1e-8 and abs(r.aht_ci.high - high) < 1e-8


def test_handling_time_against_pandas_by_agent(calls: pd.DataFrame) -> None:
    r = handling_time(
        calls,
        components=["talk", "hold", "acw"],
        talk="talk",
        hold="hold",
        acw="acw",
        dial="dial",
        by="agent",
        quantiles=(0.5, 0.9),
    )
    assert isinstance(r, HandlingTimeByGroup)
    total = calls["talk"] + calls["hold"] + calls["acw"]
    for agent, rows in calls.groupby("agent"):
        g = r.groups[agent]
        t = total[rows.index].to_numpy()
        assert g.handled == len(t)
        assert abs(g.aht - t.mean()) < 1e-9
        assert abs(g.sd - t.std(ddof=1)) < 1e-9
        assert abs(g.quantiles[0][1] - np.quantile(t, 0.5)) < TOL
        assert abs(g.quantiles[1][1] - np.quantile(t, 0.9)) < TOL
        # Every component given is reported; dialling is given but not counted.
        assert abs(g.component_means["dial"] - rows["dial"].mean()) < 1e-9
        assert g.components == ("talk", "hold", "acw")
        # Another vendor's AHT (with dialling) is the sum of its components' means.
        with_dial = sum(g.component_means[c] for c in ("talk", "hold", "acw", "dial"))
        assert abs(with_dial - (t + rows["dial"].to_numpy()).mean()) < 1e-9
    frame = r.to_pandas()
    assert list(frame["agent"]) == sorted(calls["agent"].unique())
    assert r.to_polars().shape == frame.shape


def test_handling_nearest_rank_and_polars(calls: pd.DataFrame) -> None:
    pl_calls = pl.from_pandas(calls)
    r = handling_time(
        pl_calls,
        components=["talk", "acw"],
        talk="talk",
        acw="acw",
        quantiles=(0.9,),
        quantile_method="nearest_rank",
    )
    t = (calls["talk"] + calls["acw"]).to_numpy()
    assert r.quantiles[0][1] == np.quantile(t, 0.9, method="inverted_cdf")


def test_handling_tally_merges_to_the_one_pass_figures(calls: pd.DataFrame) -> None:
    comps = ["talk", "hold", "acw"]
    parts = []
    for _, rows in calls.groupby("agent"):
        t = HandlingTally(comps)
        t.fold(rows, talk="talk", hold="hold", acw="acw")
        parts.append(t)
    merged = sum(parts)
    one = handling_time(calls, components=comps, talk="talk", hold="hold", acw="acw")
    m = merged.result()
    assert merged.n == len(calls)
    assert abs(m.aht - one.aht) < 1e-9 and abs(m.sd - one.sd) < 1e-9
    assert m.quantiles == ()  # the state keeps no values
    assert "no values" in str(m) or "keeps no values" in str(m)
    back = pickle.loads(pickle.dumps(merged))
    assert back == merged
    assert HandlingTally.from_json(merged.to_json()) == merged
    assert HandlingTally.from_bytes(merged.to_bytes()) == merged
    with pytest.raises(CxMetricsError):
        merged.merge(HandlingTally(["talk"]))


def test_handling_results_print_and_round_trip(calls: pd.DataFrame) -> None:
    r = handling_time(calls, components=["talk", "hold", "acw"], talk="talk", hold="hold", acw="acw")
    assert isinstance(r, HandlingTime)
    text = str(r)
    assert "AHT = (talk + hold + acw) / handled" in text and "95% CI" in text
    assert "<table>" in r._repr_html_()
    assert HandlingTime.from_json(r.to_json()) == r
    assert pickle.loads(pickle.dumps(r)) == r
    assert r.to_dict()["handled"] == len(calls)


def test_handling_bad_input_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match="hold = NaN at position 1"):
        handling_time(components=["talk", "hold"], talk=[1.0, 2.0], hold=[0.0, float("nan")])
    with pytest.raises(InvalidArgumentError, match="no acw column"):
        handling_time(components=["talk", "acw"], talk=[1.0])
    with pytest.raises(InvalidArgumentError, match="components"):
        handling_time(components=["talk", "wrap"], talk=[1.0])
    with pytest.raises(TypeError):
        handling_time(talk=[1.0])  # type: ignore[call-arg]  # components are required


# ----- service level ---------------------------------------------------------------------------------

ICMI = {"answered_within": 860, "answered_after": 140, "abandoned_within": 20, "abandoned_after": 40}


@pytest.mark.parametrize(
    ("formula", "exact", "published"),
    [
        ("icmi1", 880 / 1060, 0.830),
        ("icmi2", 860 / 1000, 0.860),
        ("icmi3", 860 / 1060, 0.811),
        ("icmi4", 860 / 1040, 0.827),
        ("cisco_positive", 880 / 1060, 0.830),
        ("cisco_negative", 860 / 1060, 0.811),
        ("cisco_ignored", 860 / 1040, 0.827),
    ],
)
def test_icmi_published_example(formula: Any, exact: float, published: float) -> None:
    r = ServiceLevelTally.from_counts(20, **ICMI).result(formula)
    assert abs(r.service_level - exact) < 1e-15
    assert abs(r.service_level - published) < 5e-4
    assert r.asa is None  # counts without the answered waits


def test_icmi5_counts_short_abandons_as_met() -> None:
    counts = {**ICMI, "abandoned_within": 10, "abandoned_short": 10}
    r = ServiceLevelTally.from_counts(20, short_abandon=5, **counts).result("icmi5")
    assert abs(r.service_level - 870 / 1060) < 1e-15 and abs(r.service_level - 0.821) < 5e-4
    with pytest.raises(InvalidArgumentError, match="short_abandon"):
        ServiceLevelTally.from_counts(20, **ICMI).result("icmi5")


def test_frt_fixture_share_within_10() -> None:
    f: dict[str, Any] = load_vectors("operations_vectors.json")["frt_minutes"]
    r = service_level(formula="icmi2", threshold=10, waits=f["values"], answered=[True] * len(f["values"]))
    assert isinstance(r, ServiceLevel)
    assert r.service_level == f["sla_within_10"]
    assert abs(r.asa - f["mean"]) < TOL  # type: ignore[operator]


def _by_hand(w: np.ndarray, a: np.ndarray, t: float, n: float | None) -> dict[str, float]:
    short = ~a & (w <= n) if n is not None else np.zeros(len(w), bool)
    keep = ~short
    ans, ab = a & keep, ~a & keep
    aw, bw = (ans & (w <= t)).sum(), (ab & (w <= t)).sum()
    big_a, big_b = ans.sum(), ab.sum()
    out = {
        "icmi1": (aw + bw) / (big_a + big_b),
        "icmi2": aw / big_a,
        "icmi3": aw / (big_a + big_b),
        "icmi4": aw / (big_a + big_b - bw),
        "cisco_positive": (aw + bw) / (big_a + big_b),
        "cisco_negative": aw / (big_a + big_b),
        "cisco_ignored": aw / (big_a + big_b - bw),
    }
    if n is not None:
        out["icmi5"] = (aw + short.sum()) / (a.sum() + (~a).sum())
    return out


@pytest.mark.parametrize("short", [None, 4.0])
def test_every_formula_against_pandas_by_agent(calls: pd.DataFrame, short: float | None) -> None:
    formulas = ["icmi1", "icmi2", "icmi3", "icmi4", "cisco_ignored", "cisco_negative", "cisco_positive"]
    for formula in formulas + (["icmi5"] if short else []):
        r = service_level(
            calls,
            formula=formula,
            threshold=20,
            waits="wait",
            answered="answered",
            short_abandon=short,
            by="agent",
        )  # type: ignore[arg-type]
        assert isinstance(r, ServiceLevelByGroup)
        for agent, rows in calls.groupby("agent"):
            w, a = rows["wait"].to_numpy(), rows["answered"].to_numpy()
            want = _by_hand(w, a, 20, short)
            g = r.groups[agent]
            assert abs(g.service_level - want[formula]) < TOL, (formula, agent)
            for k, v in want.items():
                assert abs(g.every_formula[k] - v) < TOL, (k, agent)
            keep = a | (w > short) if short is not None else np.ones(len(w), bool)
            assert g.short_abandons_excluded == int((~keep).sum())
            assert abs(g.abandonment_rate - (~a & keep).sum() / keep.sum()) < TOL
            assert abs(g.asa - w[a].mean()) < 1e-9  # type: ignore[operator]
            ci = stats.binomtest(g.numerator, g.denominator).proportion_ci(0.95, "wilson")
            assert g.service_level_ci is not None
            assert (
                abs(g.service_level_ci.low - ci.low) < 1e-9 and abs(g.service_level_ci.high - ci.high) < 1e-9
            )
            lo, hi = stats.t.interval(
                0.95, a.sum() - 1, loc=w[a].mean(), scale=w[a].std(ddof=1) / math.sqrt(a.sum())
            )
            assert g.asa_ci is not None and abs(g.asa_ci.low - lo) < 1e-8 and abs(g.asa_ci.high - hi) < 1e-8
    assert len(r.to_pandas()) == 3


def test_service_level_tally_merges_after_the_fact(calls: pd.DataFrame) -> None:
    parts = []
    for _, rows in calls.groupby("agent"):
        t = ServiceLevelTally(20, short_abandon=4)
        t.fold(rows["wait"], rows["answered"])
        parts.append(t)
    merged = sum(parts)
    one = service_level(
        calls, formula="icmi3", threshold=20, waits="wait", answered="answered", short_abandon=4
    )
    for formula in ("icmi1", "icmi3", "icmi5", "cisco_ignored"):
        m = merged.result(formula)
        o = service_level(
            calls, formula=formula, threshold=20, waits="wait", answered="answered", short_abandon=4
        )
        assert (m.numerator, m.denominator) == (o.numerator, o.denominator)  # type: ignore[union-attr]
    assert abs(merged.result("icmi3").asa - one.asa) < 1e-9  # type: ignore[operator, union-attr]
    assert pickle.loads(pickle.dumps(merged)) == merged
    assert ServiceLevelTally.from_json(merged.to_json()) == merged
    with pytest.raises(CxMetricsError):
        merged.merge(ServiceLevelTally(30))


def test_service_level_prints_the_formula_and_round_trips(calls: pd.DataFrame) -> None:
    r = service_level(calls, formula="cisco_ignored", threshold=20, waits="wait", answered="answered")
    assert isinstance(r, ServiceLevel)
    text = str(r)
    assert (
        "cisco_ignored" in text and "answered within T / (answered + abandoned - abandoned within T)" in text
    )
    assert "<table>" in r._repr_html_()
    assert ServiceLevel.from_json(r.to_json()) == r
    assert pickle.loads(pickle.dumps(r)) == r


def test_service_level_bad_input_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match="position 2"):
        service_level(formula="icmi1", threshold=20, waits=[1.0, 2.0, -3.0], answered=[True, True, True])
    with pytest.raises(InvalidArgumentError, match="position 1"):
        service_level(formula="icmi1", threshold=20, waits=[1.0, 2.0], answered=[1, 2])
    with pytest.raises(InvalidArgumentError, match="no default"):
        service_level(formula="sl", threshold=20, waits=[1.0], answered=[True])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        service_level(threshold=20, waits=[1.0], answered=[True])  # type: ignore[call-arg]
    with pytest.raises(InvalidArgumentError, match="short_abandon"):
        ServiceLevelTally(5, short_abandon=10)


def test_unused_categorical_level_is_listed_not_an_error() -> None:
    """An unused level of a categorical label has no contact: listed in ``no_contacts`` and printed."""
    frame = pd.DataFrame(
        {
            "wait": [4.0, 30.0, 12.0],
            "answered": [True, False, True],
            "talk": [300.0, 200.0, 250.0],
            "queue": pd.Categorical(["a", "c", "a"], categories=["a", "b", "c"]),
        }
    )
    kwargs: dict[str, Any] = {"formula": "icmi2", "threshold": 20, "waits": "wait", "answered": "answered"}
    sl = service_level(frame, by="queue", **kwargs)
    assert list(sl.groups) == ["a", "c"] and sl.no_contacts == ("b",)
    assert sl.groups["a"].service_level == 1.0 and "no contacts: b" in str(sl)
    ht = handling_time(frame, components=["talk"], talk="talk", by="queue")
    assert list(ht.groups) == ["a", "c"] and ht.no_contacts == ("b",)
    assert ht.groups["a"].aht == 275.0


def test_by_groups_in_one_native_call_equal_each_group_alone() -> None:
    """``by=`` folds every group in one call of the core (the rows gathered group by group): each group's
    result equals the function on that group's rows alone, exactly (the same rows in the same order
    through the same code), for two label columns, with a missing label; a bad value is named by its
    row in the whole input."""
    rng = np.random.default_rng(12)
    n = 3000
    frame = pd.DataFrame(
        {
            "agent": rng.choice(["ann", "bob", "cy", None], n, p=[0.4, 0.3, 0.25, 0.05]),
            "shift": rng.integers(1, 4, n),
            "talk": rng.gamma(3.0, 100.0, n),
            "acw": rng.gamma(2.0, 15.0, n),
            "wait": rng.exponential(25.0, n),
            "answered": rng.random(n) < 0.9,
        }
    )
    ht = handling_time(frame, components=["talk", "acw"], talk="talk", acw="acw", by=["agent", "shift"])
    sl = service_level(
        frame,
        formula="icmi5",
        threshold=20,
        short_abandon=4,
        waits="wait",
        answered="answered",
        by=["agent", "shift"],
    )
    assert list(ht.groups) == list(sl.groups) and len(ht.groups) == 12
    assert list(ht.groups)[-1] == (None, 3)  # the missing label last
    for agent, shift in ht.groups:
        at = frame["agent"].isna() if agent is None else frame["agent"] == agent
        rows = frame[at & (frame["shift"] == shift)]
        alone = handling_time(rows, components=["talk", "acw"], talk="talk", acw="acw")
        assert ht.groups[(agent, shift)].to_dict() == alone.to_dict()
        by_hand = service_level(
            rows, formula="icmi5", threshold=20, short_abandon=4, waits="wait", answered="answered"
        )
        assert sl.groups[(agent, shift)].to_dict() == by_hand.to_dict()
    bad = frame.assign(acw=frame["acw"].where(frame.index != 2718, -1.0))
    with pytest.raises(InvalidArgumentError, match="at position 2718"):
        handling_time(bad, components=["talk", "acw"], talk="talk", acw="acw", by="agent")
    bad = frame.assign(wait=frame["wait"].where(frame.index != 2718, np.nan))
    with pytest.raises(CxMetricsError, match="2718"):
        service_level(bad, formula="icmi2", threshold=20, waits="wait", answered="answered", by="agent")
