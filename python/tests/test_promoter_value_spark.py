"""cxs.nps_value in Spark local mode (two executor threads, Python workers in other processes): the
survey and the outcomes in two Spark DataFrames, joined by the engine (a full outer join, then
repartitioned by id), give the in-memory result of the same rows (counts exactly, every other figure to
1e-12 relative: ``_same.assert_same``), overall and by segment; a customer answering twice or listed
twice in the outcomes is refused wherever the two rows were."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import ColumnError, InvalidArgumentError
from cx_metrics.promoter_value import PromoterValue, PromoterValueByGroup

pytest.importorskip("pyspark")
cxs = pytest.importorskip("cx_metrics.spark")

from _promoter_value_data import MEASURES, tables  # noqa: E402
from _same import assert_same  # noqa: E402


def _frame(spark: Any, frame: pd.DataFrame, partitions: int) -> Any:
    return spark.createDataFrame(frame).repartition(partitions)


def test_overall_and_by_segment_equal_in_memory(spark: Any) -> None:
    survey, outcomes = tables()
    s, o = _frame(spark, survey, 3), _frame(spark, outcomes, 5)
    want = cx.nps_value(survey, outcomes, id="customer", **MEASURES)
    got = cxs.nps_value(s, o, id="customer", **MEASURES)
    assert isinstance(got, PromoterValue) and isinstance(want, PromoterValue)
    assert_same(got.to_dict(), want.to_dict())
    assert (got.n_survey_unmatched, got.n_outcomes_unmatched) == (want.n_survey_unmatched, 100)
    want_by = cx.nps_value(survey, outcomes, id="customer", churned="churned", revenue="revenue", by="region")
    got_by = cxs.nps_value(s, o, id="customer", churned="churned", revenue="revenue", by="region")
    assert isinstance(got_by, PromoterValueByGroup) and isinstance(want_by, PromoterValueByGroup)
    assert list(got_by.groups) == ["north", "south", "west"]
    for k in want_by.groups:
        assert_same(got_by.groups[k].to_dict(), want_by.groups[k].to_dict())


def test_a_missing_segment_label_is_a_segment(spark: Any) -> None:
    survey, outcomes = tables()
    survey["region"] = survey["region"].where(survey.index % 17 != 0, None)
    want = cx.nps_value(survey, outcomes, id="customer", value="clv", by="region")
    got = cxs.nps_value(
        _frame(spark, survey, 2), _frame(spark, outcomes, 3), id="customer", value="clv", by="region"
    )
    assert isinstance(got, PromoterValueByGroup) and isinstance(want, PromoterValueByGroup)
    assert list(got.groups) == ["north", "south", "west", None]
    for k in want.groups:
        assert_same(got.groups[k].to_dict(), want.groups[k].to_dict())


def test_duplicates_are_refused(spark: Any) -> None:
    survey, outcomes = tables()
    twice = pd.concat([survey, survey.iloc[[150]]], ignore_index=True)
    with pytest.raises(InvalidArgumentError, match=f"customer {survey['customer'][150]} is in rows"):
        cxs.nps_value(_frame(spark, twice, 4), _frame(spark, outcomes, 2), id="customer", revenue="revenue")
    listed_twice = pd.concat([outcomes.iloc[[700]], outcomes], ignore_index=True)
    with pytest.raises(InvalidArgumentError, match="listed twice in the outcomes"):
        cxs.nps_value(_frame(spark, survey, 2), _frame(spark, listed_twice, 3), id="customer", value="clv")


def test_bad_arguments_are_named(spark: Any) -> None:
    survey, outcomes = tables()
    s, o = _frame(spark, survey, 2), _frame(spark, outcomes, 2)
    with pytest.raises(ColumnError, match="spend"):
        cxs.nps_value(s, o, id="customer", revenue="spend")
    with pytest.raises(InvalidArgumentError, match=r"pyspark\.sql\.DataFrame"):
        cxs.nps_value(s, outcomes, id="customer", revenue="revenue")
