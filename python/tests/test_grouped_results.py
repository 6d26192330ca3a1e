"""pillar_summary(by=) and driver_analysis(by=) through the grouping engine: the figures of every group
against independent computations (pandas groupby; a driver analysis of each segment's rows alone), and
the rules shared with nps / csat / ces (categorical order, numbers numerically, text by code point, the
missing label last and warned about, unused levels kept, typed labels, several columns).

Tolerances: per-group means and top-box shares are the same weighted sums pandas takes, in another
order (1e-12 relative). A segment's analysis is the same computation on the same rows (1e-12).
"""

from __future__ import annotations

import datetime
import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, InvalidArgumentError, InvalidWeightError, SegmentError

SUMS = 1e-12
SAME = 1e-12


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 3000
    x = {p: rng.integers(1, 11, n).astype(float) for p in ("integrity", "empathy", "resolution")}
    x["resolution"][rng.random(n) < 0.2] = np.nan
    ltr = np.clip(np.round(0.4 * x["integrity"] + 0.3 * x["empathy"] + rng.normal(0, 1.5, n)), 0, 10)
    return pd.DataFrame(
        {
            **x,
            "ltr": ltr,
            "tier": rng.integers(1, 4, n),
            "region": pd.Categorical.from_codes(rng.integers(0, 3, n), categories=["south", "north", "east"]),
            "w": rng.uniform(0.2, 3.0, n),
        }
    )


# ----- pillar summary ---------------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_pillar_means_and_top_box_shares_equal_pandas_groupby(frame: pd.DataFrame, weighted: bool) -> None:
    items = ["integrity", "empathy", "resolution"]
    s = cx.pillar_summary(frame, items, by="tier", weights="w" if weighted else None)
    table = s.table.set_index(["tier", "pillar"])
    assert s.groups == (1, 2, 3)
    for p in items:
        d = frame.assign(wt=frame["w"] if weighted else 1.0).dropna(subset=[p])
        d = d.assign(wx=d["wt"] * d[p], top=d["wt"] * (d[p] >= 9))
        ref = d.groupby("tier")[["wt", "wx", "top"]].sum()
        for tier in (1, 2, 3):
            row = table.loc[(tier, p)]
            mean = ref.loc[tier, "wx"] / ref.loc[tier, "wt"]
            share = ref.loc[tier, "top"] / ref.loc[tier, "wt"]
            assert row["estimate"] == pytest.approx(mean, rel=SUMS)
            assert row["top_box_share"] == pytest.approx(share, rel=SUMS)
            assert row["n"] == int((d["tier"] == tier).sum())


def test_pillar_groups_follow_the_rules() -> None:
    data = pd.DataFrame(
        {
            "empathy": [9.0, 7, 10, 4, 8, 6, 5, 3],
            "brand": pd.Categorical(["B", "A", None, "B", "A", "B", "A", "A"], categories=["C", "B", "A"]),
            "wave": [2, 10, 2, 10, 2, 10, 2, 10],
        }
    )
    with pytest.warns(cx.MissingLabelWarning, match="1 rows have no brand label"):
        s = cx.pillar_summary(data, ["empathy"], by="brand")
    # Categorical order, the unused level C kept with n = 0, the missing label last.
    assert s.groups == ("C", "B", "A", None)
    assert s.table["n"].tolist() == [0, 3, 4, 1]
    assert np.isnan(s["C"].loc["empathy", "estimate"])
    # Integers numerically (2 before 10) and typed; several columns are the combinations that occur
    # (every combination of levels only when every column is categorical).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cx.MissingLabelWarning)
        both = cx.pillar_summary(data, ["empathy"], by=["wave", "brand"])
    assert both.by == ("wave", "brand")
    assert both.groups == ((2, "B"), (2, "A"), (2, None), (10, "B"), (10, "A"))
    assert both[(10, "A")].loc["empathy", "estimate"] == pytest.approx((7 + 3) / 2, rel=SUMS)
    assert list(both.table.columns[:7]) == ["wave", "brand", "pillar", "estimate", "ci_low", "ci_high", "n"]
    with pytest.raises(SegmentError, match="not found"):
        s["Z"]


def test_pillar_overall_row_and_typed_labels_survive_json(frame: pd.DataFrame) -> None:
    days = [datetime.date(2026, 1, 1) + datetime.timedelta(days=int(k)) for k in frame["tier"]]
    s = cx.pillar_summary(frame, ["integrity"], by=pd.Series(days, name="day"), weights="w", overall=True)
    table = s.table
    assert table["day"].tolist()[-1] == "(all)"
    alone = cx.pillar_summary(frame, ["integrity"], weights="w").table
    assert table["estimate"].iloc[-1] == pytest.approx(alone["estimate"].iloc[0], rel=SUMS)
    back = cx.PillarSummary.from_json(s.to_json())
    assert back.groups == s.groups and isinstance(back.groups[0], datetime.date)
    assert back[datetime.date(2026, 1, 2)].equals(s[datetime.date(2026, 1, 2)])
    assert pickle.loads(pickle.dumps(s)).groups == s.groups


def test_pillar_weight_errors_name_the_row_of_the_input() -> None:
    w = np.ones(6)
    w[4] = -1.0
    with pytest.raises(InvalidWeightError, match="4"):
        cx.pillar_summary(
            {"empathy": [1.0, 2, 3, 4, 5, 6], "g": list("ababab")}, ["empathy"], by="g", weights=w
        )


# ----- driver analysis by segment ---------------------------------------------------------------------


def _close(a: pd.DataFrame | pd.Series, b: pd.DataFrame | pd.Series) -> None:
    np.testing.assert_allclose(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=SAME, atol=SAME, equal_nan=True
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_each_segment_equals_the_analysis_of_its_rows_alone(frame: pd.DataFrame, weighted: bool) -> None:
    drivers = ["integrity", "empathy", "resolution"]
    w = "w" if weighted else None
    res = cx.driver_analysis(frame, drivers=drivers, weights=w, by="region")
    assert res.segments == ("south", "north", "east") and res.by == "region"
    for seg in res.segments:
        alone = cx.driver_analysis(frame[frame["region"] == seg], drivers=drivers, weights=w)
        _close(res[seg].coefficients, alone.coefficients)
        _close(res[seg].importance, alone.importance)
        assert res[seg].n == alone.n and res.n_rows[seg] == int((frame["region"] == seg).sum())


def test_segments_follow_the_rules() -> None:
    rng = np.random.default_rng(3)
    n = 120
    ease = rng.integers(1, 8, n).astype(float)
    data = pd.DataFrame(
        {
            "ltr": np.clip(ease + rng.normal(0, 1, n), 0, 10),
            "ease": ease,
            "tier": pd.array([10, 2, None] * 40, dtype="Int64"),
            "shop": pd.Categorical(["x", "y"] * 60, categories=["z", "y", "x"]),
        }
    )
    with pytest.warns(cx.MissingLabelWarning, match="40 rows have no tier label"):
        res = cx.driver_analysis(data, drivers=["ease"], by="tier")
    # Numbers numerically and typed, the missing label last.
    assert res.segments == (2, 10, None)
    assert res[2].n == 40 and res[None].n == 40
    alone = cx.driver_analysis(data[data["tier"].isna()], drivers=["ease"])
    _close(res[None].coefficients, alone.coefficients)
    table = res.to_pandas()
    assert table.columns[0] == "tier" and table["tier"].dtype == "Int64"
    with pytest.raises(SegmentError, match="not found"):
        res[3]
    # An unused categorical level is a skipped segment with no rows, in the categories' order.
    shops = cx.driver_analysis(data, drivers=["ease"], by="shop")
    assert shops.segments == ("z", "y", "x") and shops.n_rows["z"] == 0
    assert "no rows" in shops.skipped["z"]
    with pytest.raises(SegmentError, match="skipped"):
        shops["z"]
    # Several columns: the combinations that occur, the first column outermost.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cx.MissingLabelWarning)
        both = cx.driver_analysis(data, drivers=["ease"], by=["shop", "tier"])
    assert both.by == ("shop", "tier")
    assert both.segments == (("y", 2), ("y", 10), ("y", None), ("x", 2), ("x", 10), ("x", None))
    assert both.n_rows[("y", 2)] == 20
    alone = cx.driver_analysis(data[(data["shop"] == "y") & (data["tier"] == 2)], drivers=["ease"])
    _close(both[("y", 2)].coefficients, alone.coefficients)
    # Typed labels and by survive JSON.
    back = cx.SegmentDriverAnalyses.from_json(res.to_json())
    assert back.segments == res.segments and back.by == "tier"
    assert back.analyses == res.analyses
    assert json.loads(res.to_json())["labels"][0] == [{"kind": "int", "value": 2}]


def test_segment_errors_name_the_row_of_the_input() -> None:
    w = np.ones(12)
    w[9] = np.nan
    data = {"ltr": np.arange(12.0) % 11, "ease": np.arange(12.0) % 7, "g": ["a", "b"] * 6}
    with pytest.raises(InvalidWeightError, match="9"):
        cx.driver_analysis(data, drivers=["ease"], weights=w, by="g")
    # A missing value under missing="raise" is an error of the input at its row there (row 7), not a
    # segment skipped with the row's number inside the segment (3).
    data["ease"] = np.where(np.arange(12) == 7, np.nan, data["ease"])
    with pytest.raises(ColumnError, match="row 7 is missing"):
        cx.driver_analysis(data, drivers=["ease"], missing="raise", by="g")


@pytest.mark.parametrize("weighted", [False, True])
def test_overall_equals_the_analysis_without_by(frame: pd.DataFrame, weighted: bool) -> None:
    drivers = ["integrity", "empathy", "resolution"]
    w = "w" if weighted else None
    res = cx.driver_analysis(frame, drivers=drivers, weights=w, by="region", overall=True)
    alone = cx.driver_analysis(frame, drivers=drivers, weights=w)
    assert res.overall is not None
    _close(res.overall.coefficients, alone.coefficients)
    _close(res.overall.importance, alone.importance)
    assert res.overall.n == alone.n and res.overall.r_squared == pytest.approx(alone.r_squared, abs=SAME)
    # The segments are those of the analysis without overall.
    plain = cx.driver_analysis(frame, drivers=drivers, weights=w, by="region")
    assert plain.overall is None and res.analyses == plain.analyses
    # The overall rows come last in the table, labelled "(all)", one per driver.
    for table in (res.to_pandas(), res.to_polars().to_pandas()):
        last = table[table["region"] == "(all)"]
        assert list(last["driver"]) == list(alone.importance.index)
        assert list(last["n_rows"]) == [len(frame)] * len(drivers)
        np.testing.assert_allclose(last["lmg"], alone.importance["lmg"], rtol=SAME, atol=SAME)
        assert table.index[-1] == last.index[-1]
    assert "(all)" in str(res) and "(all)" in res._repr_html_()
    # Kept through JSON and pickle.
    back = cx.SegmentDriverAnalyses.from_json(res.to_json())
    assert back.overall is not None and back.overall.coefficients.equals(res.overall.coefficients)
    assert back.to_pandas().equals(res.to_pandas())
    again = pickle.loads(pickle.dumps(res))
    assert again.overall is not None and again.overall.importance.equals(res.overall.importance)
    # The overall analysis keeps every row, as the analysis without by does.
    _close(res.overall.vif, alone.vif)


def test_overall_with_several_columns_and_stored_results() -> None:
    rng = np.random.default_rng(5)
    n = 80
    ease = rng.integers(1, 8, n).astype(float)
    data = {
        "ltr": np.clip(ease + rng.normal(0, 1, n), 0, 10),
        "ease": ease,
        "a": ["x", "y"] * 40,
        "b": [1, 2] * 40,
    }
    res = cx.driver_analysis(data, drivers=["ease"], by=["a", "b"], overall=True)
    table = res.to_pandas()
    assert table.iloc[-1]["a"] == "(all)" and table.iloc[-1]["b"] == "(all)"
    assert "overall" in json.loads(res.to_json())
    # A result without the overall analysis is stored as before (no "overall" key) and loads.
    stored = cx.driver_analysis(data, drivers=["ease"], by="a").to_json()
    assert "overall" not in json.loads(stored)
    old = cx.SegmentDriverAnalyses.from_json(stored)
    assert old.overall is None and len(old.to_pandas()) == 2


def test_overall_without_by_is_an_error() -> None:
    data = {"ltr": [9.0, 7, 10, 4, 8, 6], "ease": [6.0, 5, 7, 2, 5, 4]}
    with pytest.raises(InvalidArgumentError, match="pass by="):
        cx.driver_analysis(data, drivers=["ease"], overall=True)  # type: ignore[call-overload]
