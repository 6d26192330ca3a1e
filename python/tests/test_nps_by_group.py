"""NPS per period or segment: each group is the NPS of its rows, groups come in label order, missing
labels and all-missing groups are shown, never dropped or fatal."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import (
    InvalidArgumentError,
    InvalidWeightError,
    LengthMismatchError,
    MissingValueError,
    NotIntegralError,
)

# One table shape for every metric: the label column named after `by`, the estimate, its interval and
# n, then the metric's own columns.
COLUMNS = [
    "segment",
    "estimate",
    "ci_low",
    "ci_high",
    "n",
    "promoters",
    "passives",
    "detractors",
    "n_omitted",
    "n_promoters",
    "n_passives",
    "n_detractors",
    "effective_n",
    "std_error",
]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


def assert_same_result(a: cx.NpsResult, b: cx.NpsResult) -> None:
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize("weighted", [False, True])
def test_each_group_is_the_nps_of_its_rows(survey: pd.DataFrame, weighted: bool) -> None:
    weights = "weight" if weighted else None
    g = cx.nps_by_group(survey, by="wave", weights=weights)
    assert g.groups == cx.datasets.SAMPLE_SURVEY_WAVES
    for wave in g:
        rows = survey[survey["wave"] == wave]
        expected = cx.nps(rows["ltr"], weights=rows["weight"] if weighted else None)
        assert_same_result(g[wave], expected)
        assert g.intervals[wave] == expected.ci()
    assert_same_result(g.overall, cx.nps(survey["ltr"], weights=survey["weight"] if weighted else None))
    assert sum(g[w].n for w in g) == g.overall.n
    assert sum(g[w].n_omitted for w in g) == g.overall.n_omitted
    assert len(g) == 4 and list(g) == list(g.groups)


# The groups' figures against pandas' own split (groupby), with no cx_metrics call in the reference:
# the same weighted sums taken in another order, so they agree to 1e-12 relative.
SUMS = 1e-12


@pytest.mark.parametrize("weighted", [False, True])
def test_groups_match_a_pandas_groupby(survey: pd.DataFrame, weighted: bool) -> None:
    g = cx.nps_by_group(survey, by="segment", weights="weight" if weighted else None)
    rated = survey.dropna(subset=["ltr"]).assign(
        w=lambda d: d["weight"] if weighted else 1.0,
        promoter=lambda d: (d["ltr"] >= 9).astype(float),
        detractor=lambda d: (d["ltr"] <= 6).astype(float),
    )
    groups = rated.groupby("segment", observed=True)
    for segment, rows in groups:
        w = rows["w"].to_numpy()
        p = float(np.sum(w * rows["promoter"]) / np.sum(w))
        d = float(np.sum(w * rows["detractor"]) / np.sum(w))
        n_eff = float(np.sum(w) ** 2 / np.sum(w**2))
        r = g[str(segment)]
        assert r.n == len(rows)
        assert r.score == pytest.approx(p - d, rel=SUMS)
        assert r.effective_n == pytest.approx(n_eff, rel=SUMS)
        assert r.std_error == pytest.approx(math.sqrt((p + d - (p - d) ** 2) / n_eff), rel=SUMS)
    omitted = survey["ltr"].isna().groupby(survey["segment"], observed=True).sum()
    assert {str(k): int(v) for k, v in omitted.items()} == {s: g[s].n_omitted for s in g}


def test_nan_labels_of_every_table_kind_are_the_missing_group() -> None:
    ltr = [10, 9, 3, 7, 10, 0]
    wave = [1.0, np.nan, 2.0, None, 1.0, np.nan]
    with pytest.warns(cx.MissingLabelWarning, match="3 rows have no wave label"):
        expected = cx.nps_by_group({"ltr": ltr, "wave": wave}, by="wave")
    # Labels keep their type: float labels are floats, looked up as such.
    assert expected.groups == (1.0, 2.0, None) and expected[None].n == 3 and expected[1].n == 2
    tables: dict[str, Any] = {
        "pandas": pd.DataFrame({"ltr": ltr, "wave": wave}),
        "pandas Float64": pd.DataFrame({"ltr": ltr, "wave": pd.array(wave, dtype="Float64")}),
        "polars": pl.DataFrame({"ltr": ltr, "wave": wave}, strict=False),
        "pyarrow": pa.table({"ltr": ltr, "wave": pa.array(wave, from_pandas=False)}),
    }
    for kind, data in tables.items():
        with pytest.warns(cx.MissingLabelWarning, match="3 rows have no wave label"):
            got = cx.nps_by_group(data, by="wave")
        assert got.to_dict() == expected.to_dict(), kind


@pytest.mark.parametrize("method", ["wald", "tango", "dirichlet", "bootstrap"])
def test_intervals_use_the_level_and_the_method(survey: pd.DataFrame, method: str) -> None:
    g = cx.nps_by_group(survey, by="channel", confidence_level=0.8, method=method)  # type: ignore[arg-type]
    for c in g:
        assert g.intervals[c] == g[c].ci(0.8, method)  # type: ignore[arg-type]
    table = g.table
    assert table["ci_low"].tolist() == [g.intervals[c].low for c in g]  # type: ignore[union-attr]
    assert g.overall_interval == g.overall.ci(0.8, method)  # type: ignore[arg-type]


def test_table_columns_and_values(survey: pd.DataFrame) -> None:
    g = cx.nps_by_group(survey, by="segment", weights="weight")
    table = g.table
    assert list(table.columns) == COLUMNS
    assert table["segment"].tolist() == list(cx.datasets.SAMPLE_SURVEY_SEGMENTS)  # category order
    for _, row in table.iterrows():
        r = g[row["segment"]]
        assert (row["n"], row["estimate"], row["promoters"], row["detractors"]) == (
            r.n,
            r.score,
            r.promoters,
            r.detractors,
        )
        assert row["promoters"] - row["detractors"] == pytest.approx(row["estimate"], abs=1e-15)
        assert row["effective_n"] == r.effective_n and row["std_error"] == r.std_error
    assert pl.from_pandas(table).equals(g.to_polars())
    pd.testing.assert_frame_equal(g.to_pandas(), table)


def test_every_input_type_gives_the_same_groups(survey: pd.DataFrame) -> None:
    sub = survey[["ltr", "segment", "weight"]]
    ref = cx.nps_by_group(sub.assign(segment=sub["segment"].astype(str)), by="segment", weights="weight")
    inputs: dict[str, Any] = {
        "pandas text": sub.assign(segment=sub["segment"].astype(str)),
        "polars": pl.from_pandas(sub.assign(segment=sub["segment"].astype(str))),
        "pyarrow": pa.Table.from_pandas(sub.assign(segment=sub["segment"].astype(str)), preserve_index=False),
        "dict": {
            "ltr": sub["ltr"].astype("float64").tolist(),
            "segment": sub["segment"].astype(str).tolist(),
            "weight": sub["weight"].tolist(),
        },
    }
    for kind, data in inputs.items():
        g = cx.nps_by_group(data, by="segment", weights="weight")
        assert g.groups == ("east", "north", "south", "west"), kind  # text: alphabetical
        assert g.to_dict() == ref.to_dict(), kind


def test_label_order_follows_the_labels() -> None:
    ltr = [10, 9, 0, 7, 8, 10]
    # Labels keep their type (an integer label is looked up by the integer).
    ints = cx.nps_by_group({"ltr": ltr, "y": [2024, 10, 9, 10, 2024, 9]}, by="y")
    assert ints.groups == (9, 10, 2024) and ints[10].n == 2
    floats = {"ltr": ltr, "y": [2.5, 1.0, 1.0, np.nan, 2.5, 1.0]}
    with pytest.warns(cx.MissingLabelWarning):
        assert cx.nps_by_group(floats, by="y").groups == (1.0, 2.5, None)
    cat = pd.DataFrame(
        {"ltr": ltr, "y": pd.Categorical(["b", "a", "c", "a", "b", "c"], categories=["c", "a", "b"])}
    )
    assert cx.nps_by_group(cat, by="y").groups == ("c", "a", "b")
    enum = pl.DataFrame({"ltr": ltr, "y": ["lo", "hi", "mid", "hi", "lo", "mid"]}).with_columns(
        pl.col("y").cast(pl.Enum(["lo", "mid", "hi"]))
    )
    assert cx.nps_by_group(enum, by="y").groups == ("lo", "mid", "hi")
    dates = pd.DataFrame({"ltr": ltr, "y": pd.to_datetime(["2026-02-01", "2026-01-01"] * 3)})
    g = cx.nps_by_group(dates, by="y")
    assert [str(d)[:10] for d in g.groups] == ["2026-01-01", "2026-02-01"]
    assert g[pd.Timestamp("2026-01-01")].n == 3 and g[np.datetime64("2026-02-01")].n == 3


def test_missing_labels_form_their_own_group_last() -> None:
    data = pd.DataFrame({"ltr": [10, 9, 3, 7, 10, 0, 8], "wave": ["Q1", None, "Q2", "Q1", None, "Q2", pd.NA]})
    with pytest.warns(cx.MissingLabelWarning, match="3 rows have no wave label"):
        g = cx.nps_by_group(data, by="wave")
    assert g.groups == ("Q1", "Q2", None)
    assert g[None].n == 3 and g[None].score == pytest.approx(2 / 3)
    assert g.table["wave"].isna().tolist() == [False, False, True]
    assert g.to_polars()["wave"].to_list() == ["Q1", "Q2", None]
    assert "(missing)" in str(g) and "(missing)" in g._repr_html_()
    assert "no wave label" in g._repr_html_()
    assert sum(g[w].n for w in g) == g.overall.n == 7
    for kind in (
        pl.from_pandas(data),
        pa.Table.from_pandas(data),
        {"ltr": data["ltr"], "wave": list(data["wave"])},
    ):
        with pytest.warns(cx.MissingLabelWarning, match="3 rows have no wave label"):
            assert cx.nps_by_group(kind, by="wave").groups == ("Q1", "Q2", None)


def test_a_group_whose_ratings_are_all_missing_is_undefined_not_an_error() -> None:
    data = {"ltr": [10, 9, None, None, 3, 7], "shop": ["a", "a", "b", "b", "c", "c"]}
    g = cx.nps_by_group(data, by="shop")
    b = g["b"]
    assert b.undefined is not None and b.n == 0 and b.n_omitted == 2 and math.isnan(b.score)
    assert g.intervals["b"] is None
    row = g.table.set_index("shop").loc["b"]
    assert (
        row["n"] == 0 and row["n_omitted"] == 2 and math.isnan(row["estimate"]) and math.isnan(row["ci_low"])
    )
    assert g.to_polars().filter(pl.col("shop") == "b")["estimate"].to_list() == [None]
    assert "undefined" in str(g)
    html = g._repr_html_()
    assert "b: NPS undefined (2 rows omitted)" in html and 'class="cx-warning"' in html
    d = g.to_dict()
    assert d["groups"][1]["group"] == "b" and d["groups"][1]["score"] is None and d["groups"][1]["ci"] is None


def test_no_scores_at_all_still_checks_the_options() -> None:
    data = {"ltr": [None, None], "w": ["x", "y"]}
    g = cx.nps_by_group(data, by="w")
    assert g.overall.undefined is not None and g.overall_interval is None
    assert all(g[x].undefined is not None for x in g)
    with pytest.raises(InvalidArgumentError, match="method"):
        cx.nps_by_group(data, by="w", method="bogus")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="confidence_level"):
        cx.nps_by_group(data, by="w", confidence_level=1.5)


def test_labels_given_as_an_array() -> None:
    ltr = np.array([10, 9, 3, 7, 10, 0])
    labels = np.array(["x", "y", "x", "y", "x", "y"])
    g = cx.nps_by_group({"ltr": ltr}, by=labels)
    assert g.by == "group" and g.groups == ("x", "y")
    assert g["x"].score == pytest.approx(cx.nps([10, 3, 10]).score)
    g = cx.nps_by_group({"ltr": ltr}, by=pd.Series(labels, name="shop"))
    assert g.by == "shop"
    with pytest.raises(LengthMismatchError, match="3 labels for 6 rows"):
        cx.nps_by_group({"ltr": ltr}, by=["a", "b", "c"])


def test_errors_name_the_row_of_the_data() -> None:
    data = {"ltr": [10, 9, 3, 7.5, 10], "wave": ["b", "a", "b", "a", "a"]}
    with pytest.raises(NotIntegralError, match="position 3"):
        cx.nps_by_group(data, by="wave")
    data = {"ltr": [10, 9, 3, None, 10], "wave": ["b", "a", "b", "a", "a"]}
    with pytest.raises(MissingValueError, match="position 3"):
        cx.nps_by_group(data, by="wave", nan_policy="raise")
    with pytest.raises(InvalidWeightError):
        cx.nps_by_group(data, by="wave", weights=[1, 1, -1, 1, 1])
    # Typed labels: the integer 1 and the text "1" are two groups (they used to be refused as equal
    # text).
    assert cx.nps_by_group({"ltr": [10, 9], "g": [1, "1"]}, by="g").groups == (1, "1")
    with pytest.raises(KeyError, match="groups: a, b"):
        cx.nps_by_group({"ltr": [10, 9], "g": ["a", "b"]}, by="g")["c"]


def test_display_and_pickle(survey: pd.DataFrame) -> None:
    g = cx.nps_by_group(survey, by="wave", weights="weight", confidence_level=0.9, method="tango")
    text = str(g)
    assert text.splitlines()[0].startswith("NPS of ltr by wave: 4 groups")
    assert "90% CI Tango" in text and "all" in text.splitlines()[-1]
    html = g._repr_html_()
    for w in g:
        assert w in html  # type: ignore[operator]
    assert repr(g) == (
        "NpsByGroup(outcome='ltr', by='wave', groups=('2026-Q1', '2026-Q2', '2026-Q3', '2026-Q4'), "
        "confidence_level=0.9, method='tango')"
    )
    back = pickle.loads(pickle.dumps(g))
    assert back == g and back.to_dict() == g.to_dict()
