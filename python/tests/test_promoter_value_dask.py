"""cxd.nps_value on a distributed.LocalCluster of two worker processes: the survey and the outcomes in
Dask DataFrames of different partitionings, joined by the engine, give the in-memory result of the same
rows (counts exactly, every other figure to 1e-12 relative: ``_same.assert_same``), overall and by
segment; a customer answering twice or listed twice in the outcomes is refused even when the two rows
are in different partitions of the input (the joined rows are partitioned by id)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, InvalidArgumentError
from cx_metrics.promoter_value import PromoterValue, PromoterValueByGroup

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
cxd = pytest.importorskip("cx_metrics.dask")

from _promoter_value_data import MEASURES, tables  # noqa: E402
from _same import assert_same  # noqa: E402


def test_overall_equals_in_memory(client: Any) -> None:
    survey, outcomes = tables()
    want = cx.nps_value(survey, outcomes, id="customer", **MEASURES)
    got = cxd.nps_value(
        dd.from_pandas(survey, npartitions=3),
        dd.from_pandas(outcomes.sample(frac=1.0, random_state=1), npartitions=5),
        id="customer",
        **MEASURES,
    )
    assert isinstance(got, PromoterValue) and isinstance(want, PromoterValue)
    assert_same(got.to_dict(), want.to_dict())
    assert (got.n_survey_unmatched, got.n_outcomes_unmatched) == (want.n_survey_unmatched, 100)
    assert got.n_missing_score == int(survey["ltr"].isna().sum())
    assert got.retention is not None and got.retention["promoter"] is not None
    # A state merged per task of two partitions gives the same result.
    again = cxd.nps_value(
        dd.from_pandas(survey, npartitions=4),
        dd.from_pandas(outcomes, npartitions=2),
        id="customer",
        revenue="revenue",
        split_every=2,
    )
    assert_same(again.to_dict(), cx.nps_value(survey, outcomes, id="customer", revenue="revenue").to_dict())


def test_by_segment_equals_in_memory(client: Any) -> None:
    survey, outcomes = tables()
    want = cx.nps_value(survey, outcomes, id="customer", churned="churned", value="clv", by="region")
    got = cxd.nps_value(
        dd.from_pandas(survey, npartitions=4),
        dd.from_pandas(outcomes, npartitions=3),
        id="customer",
        churned="churned",
        value="clv",
        by="region",
    )
    assert isinstance(got, PromoterValueByGroup) and isinstance(want, PromoterValueByGroup)
    assert list(got.groups) == ["north", "south", "west"]
    assert got.groups.keys() == want.groups.keys()
    for k in want.groups:
        assert_same(got.groups[k].to_dict(), want.groups[k].to_dict())
    assert got.by == "region"
    assert_same(got.to_pandas().to_dict("list"), want.to_pandas().to_dict("list"))


def test_a_missing_segment_label_is_a_segment(client: Any) -> None:
    # Answers without a segment are the segment None (last), as in memory; the outcome rows without an
    # answer, which have no segment after the join either, are not counted as its answers.
    survey, outcomes = tables()
    survey["region"] = survey["region"].where(np.arange(len(survey)) % 17 != 0, None)
    want = cx.nps_value(survey, outcomes, id="customer", revenue="revenue", by="region")
    got = cxd.nps_value(
        dd.from_pandas(survey, npartitions=3),
        dd.from_pandas(outcomes, npartitions=2),
        id="customer",
        revenue="revenue",
        by="region",
    )
    assert isinstance(got, PromoterValueByGroup) and isinstance(want, PromoterValueByGroup)
    assert list(got.groups) == ["north", "south", "west", None]
    for k in want.groups:
        assert_same(got.groups[k].to_dict(), want.groups[k].to_dict())
    none = got.groups[None].to_dict()
    assert none["n_survey"] + none["n_missing_score"] == int(survey["region"].isna().sum())


def test_duplicates_across_partitions_are_refused(client: Any) -> None:
    survey, outcomes = tables()
    # The first answer again at the end: the two rows are in different input partitions.
    twice = pd.concat([survey, survey.iloc[[150]]], ignore_index=True)
    with pytest.raises(InvalidArgumentError, match=f"customer {survey['customer'][150]} is in rows"):
        cxd.nps_value(
            dd.from_pandas(twice, npartitions=4),
            dd.from_pandas(outcomes, npartitions=2),
            id="customer",
            revenue="revenue",
        )
    listed_twice = pd.concat([outcomes.iloc[[700]], outcomes], ignore_index=True)
    with pytest.raises(InvalidArgumentError, match="listed twice in the outcomes"):
        cxd.nps_value(
            dd.from_pandas(survey, npartitions=2),
            dd.from_pandas(listed_twice, npartitions=4),
            id="customer",
            revenue="revenue",
        )
    # A customer answering twice in two segments is refused too.
    other = survey.iloc[[150]].assign(region="elsewhere")
    with pytest.raises(InvalidArgumentError, match="answered twice"):
        cxd.nps_value(
            dd.from_pandas(pd.concat([survey, other], ignore_index=True), npartitions=3),
            dd.from_pandas(outcomes, npartitions=2),
            id="customer",
            revenue="revenue",
            by="region",
        )


def test_bad_arguments_are_named(client: Any) -> None:
    survey, outcomes = tables()
    s, o = dd.from_pandas(survey, npartitions=2), dd.from_pandas(outcomes, npartitions=2)
    with pytest.raises(ColumnError, match="spend"):
        cxd.nps_value(s, o, id="customer", revenue="spend")
    with pytest.raises(InvalidArgumentError, match=r"dask\.dataframe\.DataFrame"):
        cxd.nps_value(survey, o, id="customer", revenue="revenue")
    with pytest.raises(InvalidArgumentError, match="no outcome column"):
        cxd.nps_value(s, o, id="customer")
    with pytest.raises(InvalidArgumentError, match="both tables"):
        cxd.nps_value(
            s, o.rename(columns={"revenue": "region"}), id="customer", revenue="region", by="region"
        )
    assert np.isfinite(cxd.nps_value(s, o, id="customer", revenue="revenue").worth()[0])
