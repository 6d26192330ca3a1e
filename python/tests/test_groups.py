"""The grouping engine from Python: every score takes by=, one set of rules for every kind of label
column, figures per group against pandas groupby and polars group_by (no cx_metrics call in the
references), errors naming the row of the input."""

from __future__ import annotations

import datetime
import math
import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cx_metrics as cx
from cx_metrics.exceptions import (
    InvalidArgumentError,
    InvalidWeightError,
    LengthMismatchError,
    MissingValueError,
    OutOfRangeError,
    SegmentError,
)

# The groups' figures are the same weighted sums as the references take, in another order.
SUMS = 1e-12


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 50_000
    ltr = rng.integers(0, 11, n).astype(np.float64)
    ltr[rng.random(n) < 0.03] = np.nan
    return pd.DataFrame(
        {
            "ltr": ltr,
            "csat": rng.integers(1, 6, n),
            "ces": rng.integers(1, 8, n),
            "segment": pd.Categorical.from_codes(rng.integers(0, 6, n), categories=list("fedcba")),
            "wave": rng.integers(2024, 2027, n),
            "w": rng.uniform(0.2, 3.0, n),
        }
    )


def reference(frame: pd.DataFrame, by: str, rating: str, good: Any, bad: Any, weighted: bool) -> pd.DataFrame:
    """Per group, with pandas groupby: n, omitted, share good - share bad, Kish n, standard error."""
    rated = frame.dropna(subset=[rating]).assign(
        wt=lambda d: d["w"] if weighted else 1.0,
        g=lambda d: good(d[rating]).astype(float),
        b=lambda d: bad(d[rating]).astype(float),
    )
    rated = rated.assign(wg=rated["wt"] * rated["g"], wb=rated["wt"] * rated["b"], w2=rated["wt"] ** 2)
    sums = rated.groupby(by, observed=True)[["wt", "wg", "wb", "w2"]].sum()
    out = pd.DataFrame(
        {
            "n": rated.groupby(by, observed=True).size(),
            "good": sums["wg"] / sums["wt"],
            "bad": sums["wb"] / sums["wt"],
            "n_eff": sums["wt"] ** 2 / sums["w2"],
        }
    )
    out["omitted"] = frame[rating].isna().groupby(frame[by], observed=True).sum()
    return out


@pytest.mark.parametrize("weighted", [False, True])
def test_nps_per_group_matches_pandas_groupby(frame: pd.DataFrame, weighted: bool) -> None:
    g = cx.nps(frame["ltr"], by=frame["segment"], weights=frame["w"] if weighted else None)
    ref = reference(frame, "segment", "ltr", lambda y: y >= 9, lambda y: y <= 6, weighted)
    assert g.groups == tuple("fedcba")  # categorical order
    for seg, row in ref.iterrows():
        r = g[seg]
        assert r.n == row["n"] and r.n_omitted == row["omitted"]
        p, d = row["good"], row["bad"]
        assert r.score == pytest.approx(p - d, rel=SUMS, abs=1e-15)
        assert r.effective_n == pytest.approx(row["n_eff"], rel=SUMS)
        assert r.std_error == pytest.approx(math.sqrt((p + d - (p - d) ** 2) / row["n_eff"]), rel=SUMS)


@pytest.mark.parametrize("weighted", [False, True])
def test_nps_per_group_matches_polars_group_by(frame: pd.DataFrame, weighted: bool) -> None:
    df = pl.from_pandas(frame[["ltr", "wave", "w"]]).with_columns(one=pl.lit(1.0))
    wt = pl.col("w") if weighted else pl.col("one")
    missing = pl.col("ltr").is_null() | pl.col("ltr").is_nan().fill_null(True)  # NaN became null
    rated = df.filter(~missing)
    agg = (
        rated.group_by("wave")
        .agg(
            pl.len().alias("n"),
            ((wt * (pl.col("ltr") >= 9)).sum() / wt.sum()).alias("p"),
            ((wt * (pl.col("ltr") <= 6)).sum() / wt.sum()).alias("d"),
            (wt.sum() ** 2 / (wt**2).sum()).alias("n_eff"),
        )
        .sort("wave")
    )
    omitted = df.group_by("wave").agg(missing.sum().alias("o")).sort("wave")
    g = cx.nps("ltr", data=df, by="wave", weights="w" if weighted else None)
    assert g.groups == (2024, 2025, 2026)  # integers, numerically
    for row, o in zip(agg.iter_rows(named=True), omitted["o"], strict=True):
        r = g[row["wave"]]
        assert (r.n, r.n_omitted) == (row["n"], o)
        p, d = row["p"], row["d"]
        assert r.score == pytest.approx(p - d, rel=SUMS, abs=1e-15)
        assert r.effective_n == pytest.approx(row["n_eff"], rel=SUMS)
        assert r.std_error == pytest.approx(math.sqrt((p + d - (p - d) ** 2) / row["n_eff"]), rel=SUMS)


@pytest.mark.parametrize("weighted", [False, True])
def test_csat_and_ces_per_group_match_pandas(frame: pd.DataFrame, weighted: bool) -> None:
    w = frame["w"] if weighted else None
    c = cx.csat(frame["csat"], satisfied="top_two_box", by=frame["segment"], weights=w)
    ref = reference(frame, "segment", "csat", lambda y: y >= 4, lambda y: y <= 2, weighted)
    e = cx.ces(frame["ces"], by=frame["segment"], weights=w)
    ref_e = reference(frame, "segment", "ces", lambda y: y >= 5, lambda y: y <= 3, weighted)
    for seg in ref.index:
        assert c[seg].n == ref.loc[seg, "n"]
        assert c[seg].share_satisfied == pytest.approx(ref.loc[seg, "good"], rel=SUMS)
        assert c[seg].share_bottom == pytest.approx(ref.loc[seg, "bad"], rel=SUMS)
        assert c[seg].effective_n == pytest.approx(ref.loc[seg, "n_eff"], rel=SUMS)
        assert e[seg].share_agree == pytest.approx(ref_e.loc[seg, "good"], rel=SUMS)
        assert e[seg].share_disagree == pytest.approx(ref_e.loc[seg, "bad"], rel=SUMS)
    # One table shape for every metric.
    for result, own in ((c, "share_satisfied"), (e, "share_agree")):
        table = result.to_pandas()
        assert list(table.columns[:5]) == ["segment", "estimate", "ci_low", "ci_high", "n"]
        assert own not in table.columns and "n_omitted" in table.columns
        assert table["estimate"].tolist() == [getattr(result[s], own) for s in result]


def test_each_group_equals_the_score_of_its_rows(frame: pd.DataFrame) -> None:
    g = cx.nps(frame["ltr"], by=frame["wave"], weights=frame["w"])
    for wave in g:
        rows = frame[frame["wave"] == wave]
        alone = cx.nps(rows["ltr"], weights=rows["w"])
        assert g[wave].n == alone.n and g[wave].score == pytest.approx(alone.score, rel=SUMS)
    whole = cx.nps(frame["ltr"], weights=frame["w"])
    assert g.overall == whole  # the overall result is the ungrouped score, bit for bit


def test_every_kind_of_label_column_gives_the_same_groups() -> None:
    ltr = np.array([10, 9, 0, 7, 8, 10, 3, 6], dtype=np.int8)
    text = ["web", "app", "web", None, "store", "app", "Web", "web"]
    expected = ("Web", "app", "store", "web", None)  # code-point order, missing last
    columns: dict[str, Any] = {
        "list": text,
        "numpy object": np.array(text, dtype=object),
        "pandas object": pd.Series(text, dtype=object),
        "pandas str": pd.Series(text, dtype="str"),
        "polars String": pl.Series(text),
        "pyarrow string": pa.array(text, pa.string()),
        "pyarrow large_string": pa.array(text, pa.large_string()),
        "pyarrow string_view": pa.array(text, pa.string_view()),
        "pyarrow chunked": pa.chunked_array([text[:3], text[3:]]),
        "pyarrow sliced": pa.array(["x", *text], pa.string()).slice(1),
        "polars Categorical": pl.Series(text, dtype=pl.Categorical),
        "pyarrow dictionary": pa.array(text).dictionary_encode(),
    }
    reference = None
    for kind, labels in columns.items():
        with pytest.warns(cx.MissingLabelWarning, match="1 rows have no group label"):
            g = cx.nps(ltr, by=labels)
        assert g.groups == expected, kind
        if reference is None:
            reference = g.to_dict()
        assert g.to_dict() == reference, kind


def test_order_rules_for_each_kind() -> None:
    ltr = [10, 9, 0, 7, 8, 10]
    assert cx.nps(ltr, by=np.array([10, -2, 3, 10, 3, 3], dtype=np.int16)).groups == (-2, 3, 10)
    assert cx.nps(ltr, by=np.array([3, 1, 2, 3, 2, 1], dtype=np.uint64)).groups == (1, 2, 3)
    assert cx.nps(ltr, by=[True, False, True, True, False, False]).groups == (False, True)
    assert cx.nps(ltr, by=np.array([0.5, -0.0, 0.0, 2.0, 0.5, 2.0])).groups == (0.0, 0.5, 2.0)
    days = np.array(["2026-03-01", "2026-01-01", "2026-02-01"] * 2, dtype="datetime64[D]")
    g = cx.nps(ltr, by=days)
    assert g.groups == tuple(datetime.date(2026, m, 1) for m in (1, 2, 3))
    assert g[datetime.date(2026, 2, 1)].n == 2
    moments = pd.Series(pd.to_datetime(["2026-01-01 12:00", "2026-01-01 09:30"] * 3))
    g = cx.nps(ltr, by=moments)
    assert [str(k)[:16] for k in g.groups] == ["2026-01-01T09:30", "2026-01-01T12:00"]
    assert g[pd.Timestamp("2026-01-01 09:30")].n == 3
    pl_dates = pl.Series([datetime.date(2026, 2, 1), datetime.date(2026, 1, 1)] * 3)
    assert cx.nps(ltr, by=pl_dates).groups == (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1))
    # Categoricals keep their order and report unused levels with n = 0.
    cat = pd.Series(pd.Categorical(["lo", "hi", "lo", "hi", "lo", "hi"], categories=["hi", "mid", "lo"]))
    g = cx.nps(ltr, by=cat)
    assert g.groups == ("hi", "mid", "lo") and g["mid"].n == 0 and g["mid"].undefined is not None
    assert g.to_pandas()["n"].tolist() == [3, 0, 3]
    enum = pl.Series(["lo", "hi", "lo", "hi", "lo", "hi"], dtype=pl.Enum(["lo", "mid", "hi"]))
    assert cx.nps(ltr, by=enum).groups == ("lo", "mid", "hi")
    ordered = pa.DictionaryArray.from_arrays(
        pa.array([2, 0, 2, 0, 2, 0], pa.int8()), pa.array(["z", "y", "x"]), ordered=True
    )
    assert cx.nps(ltr, by=ordered).groups == ("z", "y", "x")
    unordered = pa.DictionaryArray.from_arrays(
        pa.array([2, 0, 2, 0, 2, 0], pa.int8()), pa.array(["z", "y", "x"])
    )
    assert cx.nps(ltr, by=unordered).groups == ("x", "z")  # sorted, used entries only
    # Integer categories are integers.
    ints = pd.Series(pd.Categorical([3, 1, 3, 1, 3, 1], categories=[3, 2, 1]))
    g = cx.nps(ltr, by=ints)
    assert g.groups == (3, 2, 1) and g[1].n == 3


def test_missing_labels_are_one_group_last_counted_and_warned() -> None:
    ltr = [10, 9, 0, 7, None, 10, 3]
    labels = pd.Series([1.0, np.nan, 2.0, None, np.nan, 1.0, 2.0], dtype="Float64")
    with pytest.warns(cx.MissingLabelWarning, match="3 rows have no group label"):
        g = cx.nps(ltr, by=labels)
    assert g.groups == (1.0, 2.0, None)
    assert (g[None].n, g[None].n_omitted) == (2, 1) and g.n_missing_label == 3
    assert sum(g[k].n for k in g) == g.overall.n == 6
    assert g.to_pandas()["group"].isna().tolist() == [False, False, True]
    codes = pd.Series(pd.Categorical(["a", None, "b", "a", "b", "a", None]))
    with pytest.warns(cx.MissingLabelWarning):
        assert cx.nps(ltr, by=codes).groups == ("a", "b", None)
    ints = pl.Series([2, None, 1, 2, 1, 2, None], dtype=pl.Int32)
    with pytest.warns(cx.MissingLabelWarning):
        assert cx.nps(ltr, by=ints).groups == (1, 2, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cx.nps(ltr, by=["a"] * 7)  # no missing label: no warning


def test_several_columns_and_typed_lookup() -> None:
    data = pd.DataFrame(
        {
            "ltr": [10, 9, 0, 7, 8, 10, 3, 6],
            "wave": [2, 1, 1, 2, 1, 2, 2, 1],
            "channel": ["web", "app", "web", "app", None, "web", "web", "app"],
        }
    )
    with pytest.warns(cx.MissingLabelWarning, match="1 rows have no wave / channel label"):
        g = cx.nps("ltr", data=data, by=["wave", "channel"], overall=True)
    assert g.by == ("wave", "channel")
    assert g.groups == ((1, "app"), (1, "web"), (1, None), (2, "app"), (2, "web"))
    assert g[(2, "web")].n == 3 and g[(1, None)].n == 1
    table = g.to_pandas()
    assert list(table.columns[:2]) == ["wave", "channel"]
    assert table["wave"].tolist()[:-1] == [1, 1, 1, 2, 2] and table["wave"].tolist()[-1] == "(all)"
    assert table["n"].tolist() == [2, 1, 1, 1, 3, 8]
    # Two categoricals: every combination of their levels, unused ones with n = 0.
    a = pd.Series(pd.Categorical(["x", "y", "x"], categories=["x", "y"]))
    b = pd.Series(pd.Categorical(["p", "p", "p"], categories=["p", "q"]))
    g = cx.nps([10, 9, 0], by=[a, b])
    assert g.groups == (("x", "p"), ("x", "q"), ("y", "p"), ("y", "q"))
    assert [g[k].n for k in g] == [2, 0, 1, 0]
    with pytest.raises(SegmentError, match="groups: x / p, x / q"):
        g[("z", "p")]


def test_empty_input() -> None:
    g = cx.nps(np.array([], dtype=np.int8), by=np.array([], dtype=object))
    assert g.groups == () and g.overall.n == 0 and len(g.to_pandas()) == 0
    cat = pd.Series(pd.Categorical([], categories=["a", "b"]))
    g = cx.nps(np.array([], dtype=np.int8), by=cat)
    assert g.groups == ("a", "b") and [g[k].n for k in g] == [0, 0]


def test_errors_name_the_row_of_the_input() -> None:
    n = 200_000
    labels = pd.Series(pd.Categorical.from_codes(np.arange(n) % 7, categories=list("abcdefg")))
    ltr = np.full(n, 7.0)
    ltr[123_457] = 11.0
    ltr[150_000] = 2.5
    with pytest.raises(OutOfRangeError, match="position 123457"):
        cx.nps(ltr, by=labels)
    ltr[123_457] = np.nan
    ltr[150_000] = 7.0
    with pytest.raises(MissingValueError, match="position 123457"):
        cx.nps(ltr, by=labels, nan_policy="raise")
    w = np.ones(n)
    w[99_999] = -1.0
    with pytest.raises(InvalidWeightError, match="position 99999"):
        cx.csat(np.full(n, 3), satisfied="top_box", by=labels, weights=w)
    with pytest.raises(LengthMismatchError, match="3 labels for 5 rows"):
        cx.nps([10, 9, 8, 7, 6], by=["a", "b", "c"])
    with pytest.raises(InvalidArgumentError, match=r"label \{'x': 1\} at position 1"):
        cx.nps([10, 9], by=["a", {"x": 1}])
    with pytest.raises(cx.exceptions.ColumnError, match="wav"):
        cx.nps("ltr", data={"ltr": [10], "wave": [1]}, by=["wave", "wav"])
    with pytest.raises(InvalidArgumentError, match="no data table"):
        cx.nps([10], by="wave")


def test_results_display_convert_pickle_and_plot(frame: pd.DataFrame) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = cx.csat(frame["csat"], satisfied="top_box", by=frame["segment"], confidence_level=0.9, overall=True)
    assert isinstance(c, cx.CsatByGroup) and c.metric == "CSAT"
    assert str(c).startswith("CSAT by segment: 6 groups") and "90% CI" in c._repr_html_()
    back = pickle.loads(pickle.dumps(c))
    assert back.to_dict() == c.to_dict() and back.groups == c.groups
    assert c.to_polars()["segment"].to_list() == [*"fedcba", "(all)"]
    assert c.intervals["f"] == c["f"].ci(0.9, "wilson")
    ax = c.plot(kind="bar")
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([100 * c[s].share_satisfied for s in c])
    plt.close(ax.figure)
    e = cx.ces(frame["ces"], by=frame["wave"])
    assert isinstance(e, cx.CesByGroup) and e.groups == (2024, 2025, 2026)
    assert e.to_polars()["wave"].dtype == pl.Int64


rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 10)),  # rating (None: missing)
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])),  # label (None: missing)
        st.integers(0, 8),  # weight in quarters: sums are exact in any order
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(rows, st.integers(0, 60))
def test_grouped_fold_equals_each_group_alone_and_any_split_merged(
    data: list[tuple[int | None, str | None, int]], split: int
) -> None:
    ltr = [r[0] for r in data]
    labels = [r[1] for r in data]
    w = [r[2] / 4 for r in data]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cx.MissingLabelWarning)
        g = cx.nps(ltr, by=labels, weights=w)
    assert g.groups == tuple(sorted({x for x in labels if x is not None})) + (
        (None,) if None in labels else ()
    )
    s = min(split, len(data))
    for key in g:
        rows_of = [i for i, x in enumerate(labels) if x == key]
        alone = cx.NpsTally()
        alone.fold([ltr[i] for i in rows_of], weights=[w[i] for i in rows_of])
        assert g[key].to_dict() == alone.result().to_dict()  # (NaN figures compare as None)
        parts = cx.NpsTally(), cx.NpsTally()
        for part, rows_in in zip(
            parts, ([i for i in rows_of if i < s], [i for i in rows_of if i >= s]), strict=True
        ):
            part.fold([ltr[i] for i in rows_in], weights=[w[i] for i in rows_in])
        assert g[key].to_dict() == (parts[0] + parts[1]).result().to_dict()
