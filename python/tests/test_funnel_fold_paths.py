"""Funnels folded by passes (the default for closed entry, first attempt) and by the sorted fold (a
fold by group) give every figure alike, the in-window ones against a pandas reference written here
(exact counts); one kind of customer id per fold (a mix, or float ids, refused naming the row); the
step warning points at the caller."""

from __future__ import annotations

import datetime
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import InvalidArgumentError

W = datetime.timedelta(minutes=30)
AS_OF = pd.Timestamp("2026-03-01 12:00")
STEPS = ["A", "B", "C"]


def spec(steps: list[str], **rules: Any) -> cx.FunnelSpec:
    base: dict[str, Any] = dict(
        order="ordered", window=W, window_end="inclusive", entry="closed", counting="uniques", reentry="first"
    )
    base.update(rules)
    return cx.FunnelSpec(steps, **base)


def log(seed: int, n: int = 3000) -> pd.DataFrame:
    # Distinct times (a permutation of seconds over the four hours before AS_OF), so no ties.
    rng = np.random.default_rng(seed)
    seconds = rng.permutation(4 * 3600)[:n]
    return pd.DataFrame(
        {
            "c": rng.integers(0, 400, n),
            "e": pd.Categorical(rng.choice(["A", "B", "C", "other"], n, p=[0.3, 0.3, 0.3, 0.1])),
            "t": AS_OF - pd.to_timedelta(seconds, unit="s"),
        }
    )


def reference(df: pd.DataFrame, steps: list[str]) -> tuple[list[int], list[int], int]:
    """Per step, the customers reaching it and those lost before it with their window still open at
    AS_OF; and the entrants in their window: each customer's first A, then the first B after it, the
    first C after that, each within W of the A (inclusive)."""
    reached = [0] * len(steps)
    in_window = [0] * len(steps)
    open_entrants = 0
    for _, g in df.sort_values("t").groupby("c"):
        starts = g[g["e"] == "A"]
        if starts.empty:
            continue
        t0 = starts["t"].iloc[0]
        level, at = 1, t0
        for step in steps[1:]:
            nxt = g[(g["e"] == step) & (g["t"] > at) & (g["t"] - t0 <= W)]
            if nxt.empty:
                break
            level, at = level + 1, nxt["t"].iloc[0]
        for j in range(level):
            reached[j] += 1
        if level < len(steps) and AS_OF - t0 <= W:
            in_window[level] += 1
            open_entrants += 1
    return reached, in_window, open_entrants


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_passes_and_the_sorted_fold_give_every_figure(seed: int) -> None:
    df = log(seed)
    df["all"] = "all"
    s = spec([*STEPS, "Z"], as_of=AS_OF)  # "Z": no event of the data
    with pytest.warns(cx.FunnelStepWarning):
        passes = cx.funnel(df, s, customer="c", event="e", time="t")
    with pytest.warns(cx.FunnelStepWarning):
        grouped = cx.funnel(df, s, customer="c", event="e", time="t", by="all")
    assert isinstance(passes, cx.FunnelResult) and isinstance(grouped, cx.FunnelByGroup)
    sorted_fold = grouped["all"]
    assert passes.to_dict() == sorted_fold.to_dict()
    # The same through text ids (coded labels, not read in place) and text event names.
    text = df.assign(c=df["c"].map(lambda c: f"id{c}"), e=df["e"].astype(str))
    with pytest.warns(cx.FunnelStepWarning):
        by_text = cx.funnel(text, s, customer="c", event="e", time="t")
    assert by_text.to_dict() == passes.to_dict()
    # Against the reference.
    reached, in_window, open_entrants = reference(df, [*STEPS, "Z"])
    assert [st.count for st in passes.steps] == reached
    assert [st.in_window for st in passes.steps] == in_window
    assert passes.in_window == open_entrants > 0
    drop_off_closed = [st.drop_off - st.in_window for st in passes.steps if st.in_window is not None]
    assert [st.drop_off_closed for st in passes.steps] == drop_off_closed
    assert passes.warnings == sorted_fold.warnings and 'step 4 ("Z")' in passes.warnings[0]


def test_a_mix_of_integer_and_text_ids_in_one_fold_is_refused() -> None:
    t = [pd.Timestamp("2026-03-01 10:00"), pd.Timestamp("2026-03-01 10:05")]
    s = spec(["visit", "buy"])
    # "1" and 1 would be two customers: the buy would be lost ([1, 0]).
    ids = pd.Series(["1", 1], dtype=object)
    lost = r'row 1 holds an integer customer id and row 0 a text: the integer 1 and the text "1"'
    with pytest.raises(InvalidArgumentError, match=lost):
        cx.funnel(None, s, customer=ids, event=["visit", "buy"], time=t)
    tally = cx.FunnelTally(s)
    with pytest.raises(InvalidArgumentError, match="row 2 holds a text customer id and row 0 an integer"):
        tally.fold(pd.Series([7, None, "7"], dtype=object), ["visit", "visit", "buy"], [*t, t[1]])
    with pytest.raises(InvalidArgumentError, match="row 1 holds an integer"):
        cx.funnel(None, s, customer=ids, event=["visit", "buy"], time=t, by=["g", "g"])
    # Nothing was folded by the refused calls; one kind works, missing ids aside.
    tally.fold(pd.Series(["1", "1", None], dtype=object), ["visit", "buy", "visit"], [*t, t[1]])
    assert [st.count for st in tally.result().steps] == [1, 1]
    assert tally.result().counts["n_missing_customer"] == 1


def test_float_customer_ids_are_refused() -> None:
    t = [pd.Timestamp("2026-03-01 10:00"), pd.Timestamp("2026-03-01 10:05")]
    s = spec(["visit", "buy"])
    floats = "row 0 holds a float customer id; ids are integers or texts"
    with pytest.raises(InvalidArgumentError, match=floats):
        cx.funnel(None, s, customer=np.array([1.5, 2.0]), event=["visit", "buy"], time=t)
    with pytest.raises(InvalidArgumentError, match="row 1 holds a float customer id"):
        cx.funnel(None, s, customer=pd.Series(["a", 2.5], dtype=object), event=["visit", "buy"], time=t)


def test_the_step_warning_points_at_the_caller() -> None:
    df = pd.DataFrame({"c": [1, 1], "e": ["A", "B"], "t": pd.to_datetime(["2026-03-01 10:00"] * 2)})
    s = spec(["A", "Bx"])
    with pytest.warns(cx.FunnelStepWarning) as caught:
        cx.funnel(df, s, customer="c", event="e", time="t")
    with pytest.warns(cx.FunnelStepWarning) as caught_by:
        cx.funnel(df, s, customer="c", event="e", time="t", by="c")
    tally = cx.FunnelTally(s)
    tally.fold(df["c"], df["e"], df["t"])
    with pytest.warns(cx.FunnelStepWarning) as caught_tally:
        tally.result()
    for w in [*caught, *caught_by, *caught_tally]:
        assert w.filename == __file__, w.filename
    # Shown once per place with the default filters, as any warning of the caller's line.
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")
        for _ in range(2):
            tally.result()
    assert len(shown) == 1
