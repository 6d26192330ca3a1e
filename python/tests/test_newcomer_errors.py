"""The mistakes a newcomer makes with the sample survey, and what cx-metrics answers.

Each case raises the precise ``cx_metrics.exceptions`` class, and its message names the column or the
position at fault *and* says what to do: both parts are asserted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import (
    ColumnError,
    CxMetricsError,
    InvalidArgumentError,
    InvalidWeightError,
    LengthMismatchError,
    OutOfRangeError,
    TooFewRowsError,
    UndefinedError,
)


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return cx.datasets.sample_survey()


def raised(call: Callable[[], Any], cls: type[CxMetricsError]) -> str:
    """Run ``call``, check it raises exactly ``cls`` (a ValueError too), return the message."""
    with pytest.raises(CxMetricsError) as info:
        call()
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    assert isinstance(info.value, ValueError)
    return str(info.value)


@pytest.mark.parametrize(
    ("where", "kwargs", "typo"),
    [
        ("driver", {"drivers": ["integrity", "time_and_efort"]}, "time_and_efort"),
        ("outcome", {"outcome": "LTR", "drivers": ["integrity"]}, "LTR"),
        ("weights", {"drivers": ["integrity"], "weights": "weights"}, "weights"),
    ],
)
def test_a_misspelt_column_name(survey: pd.DataFrame, where: str, kwargs: dict[str, Any], typo: str) -> None:
    message = raised(lambda: cx.driver_analysis(survey, **kwargs), ColumnError)
    # Names the column asked for ...
    assert f'column "{typo}" not found' in message
    # ... and what to pick instead: the columns that exist, the intended one among them.
    assert "available columns: respondent_id, wave, segment, channel, weight, ltr," in message
    assert {"driver": "time_and_effort", "outcome": "ltr", "weights": "weight"}[where] in message


@pytest.mark.parametrize("column", ["channel", "segment", "wave"])
def test_a_label_column_as_a_driver(survey: pd.DataFrame, column: str) -> None:
    message = raised(lambda: cx.driver_analysis(survey, drivers=["integrity", column]), ColumnError)
    assert f'column "{column}": holds category values, not numbers' in message
    assert "categories as 0/1 dummies, first" in message


def test_a_text_column_as_a_driver(survey: pd.DataFrame) -> None:
    data = survey.assign(ease_text=survey["time_and_effort"].astype(str))
    message = raised(lambda: cx.driver_analysis(data, drivers=["ease_text"]), ColumnError)
    assert 'column "ease_text": holds str values, not numbers' in message
    assert "ratings, drivers and outcomes must be numeric" in message


@pytest.mark.parametrize("backend", ["pandas", "polars"])
def test_a_label_column_as_nps_values(backend: str) -> None:
    data = cx.datasets.sample_survey(backend)  # type: ignore[call-overload]
    message = raised(lambda: cx.nps(data["channel"]), InvalidArgumentError)
    assert f"value 'web' at position 0 of the {backend} Series \"channel\" is text, not a rating" in message
    assert "pass the column that holds the ratings" in message


def test_ratings_stored_as_text_as_nps_values(survey: pd.DataFrame) -> None:
    as_text = survey["ltr"].astype(str).rename("ltr")
    message = raised(lambda: cx.nps(as_text), InvalidArgumentError)
    assert "value '8' at position 0 of the pandas Series \"ltr\" is text, not a number" in message
    assert "convert the column to numbers first (e.g. pandas.to_numeric)" in message
    # Converting as told works, and gives the figure of the numeric column.
    assert cx.nps(pd.to_numeric(as_text, errors="coerce")).n == cx.nps(survey["ltr"]).n


def test_a_0_to_10_column_passed_as_ces(survey: pd.DataFrame) -> None:
    message = raised(lambda: cx.ces(survey["ltr"]), OutOfRangeError)
    assert "value 8 at position 0 is outside the scale 1..=7" in message
    assert "check the column is on this scale, or recode it first" in message
    # The CES column itself is on the scale.
    assert cx.ces(survey["ces"]).n == 1928


def test_values_and_weights_of_different_lengths(survey: pd.DataFrame) -> None:
    message = raised(lambda: cx.nps(survey["ltr"], weights=survey["weight"][:100]), LengthMismatchError)
    assert "values and weights: lengths differ (2000 vs 100)" in message
    assert "pass one weight per value" in message


def test_weights_of_another_length_in_a_driver_analysis(survey: pd.DataFrame) -> None:
    short = survey["weight"].to_numpy()[:100]
    message = raised(
        lambda: cx.driver_analysis(survey, drivers=cx.PILLARS, weights=short), LengthMismatchError
    )
    assert "outcome and weights: lengths differ (2000 vs 100)" in message
    assert "pass inputs of the same length" in message


@pytest.mark.parametrize("where", ["nps", "driver_analysis"])
def test_a_missing_weight(survey: pd.DataFrame, where: str) -> None:
    data = survey.copy()
    data.loc[5, "weight"] = np.nan
    if where == "nps":
        message = raised(lambda: cx.nps(data["ltr"], weights=data["weight"]), InvalidWeightError)
    else:
        message = raised(
            lambda: cx.driver_analysis(data, drivers=cx.PILLARS, weights="weight"), InvalidWeightError
        )
    assert "weight at position 5 is missing (NaN)" in message
    assert "give every row a weight or drop the rows without one" in message


def test_a_filter_that_selects_nothing(survey: pd.DataFrame) -> None:
    north = survey[survey["segment"] == "North"]  # the labels are lower case
    assert len(north) == 0
    message = raised(lambda: cx.driver_analysis(north, drivers=cx.PILLARS), TooFewRowsError)
    assert "no complete rows, but the model needs at least 8" in message
    assert "check the filter that selected the rows" in message
    # An NPS of nothing is undefined (not an error) until an interval is asked of it.
    empty = cx.nps(north["ltr"])
    assert empty.undefined is not None and empty.n == 0
    message = raised(empty.ci, UndefinedError)
    assert "no rows were counted (empty input, or every value was missing)" in message


def test_a_segment_with_too_few_rows(survey: pd.DataFrame) -> None:
    small = survey.head(60)
    by_segment = cx.driver_analysis(small, drivers=cx.PILLARS, by="segment")
    # No segment disappears: the ones that cannot be analysed are listed with the reason.
    assert set(by_segment.skipped) == {"south", "east"}
    assert by_segment.skipped["east"].startswith("only 2 complete rows, but the model needs at least 8")
    with pytest.raises(KeyError, match="segment 'east' was skipped: only 2 complete rows") as info:
        by_segment["east"]
    # A cx_metrics error too (and a ValueError), whose message reads unquoted.
    assert isinstance(info.value, cx.exceptions.SegmentError)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("segment 'east' was skipped")
    # Analysed on its own, the segment raises the core's error, with what to do.
    east = small[small["segment"] == "east"]
    message = raised(lambda: cx.driver_analysis(east, drivers=cx.PILLARS), TooFewRowsError)
    assert "only 2 complete rows" in message
    assert "collect more responses or use fewer drivers" in message


@pytest.mark.parametrize(
    ("values", "fragment", "advice"),
    [
        (
            lambda s: s[["ltr", "csat"]].to_numpy(),
            "expected a 1-D array, got 2-D with shape (2000, 2)",
            "pass one column (e.g. arr[:, 0]) or flatten it with .ravel()",
        ),
        (
            lambda s: s[["ltr"]].to_numpy(),
            "expected a 1-D array, got 2-D with shape (2000, 1)",
            "pass one column (e.g. arr[:, 0]) or flatten it with .ravel()",
        ),
        (
            lambda s: s[["ltr"]],
            "got a pandas DataFrame (columns ltr)",
            'pass one column, e.g. df["ltr"]',
        ),
        (
            lambda s: pl.from_pandas(s[["ltr", "csat"]]),
            "got a polars DataFrame (columns ltr, csat)",
            'pass one column, e.g. df["ltr"]',
        ),
    ],
    ids=["2-D array", "column vector", "pandas DataFrame", "polars DataFrame"],
)
def test_two_dimensional_values(survey: pd.DataFrame, values: Any, fragment: str, advice: str) -> None:
    message = raised(lambda: cx.nps(values(survey)), InvalidArgumentError)
    assert message.startswith("invalid values: ")
    assert fragment in message
    assert advice in message


def test_two_dimensional_weights(survey: pd.DataFrame) -> None:
    weights = survey[["weight"]].to_numpy()
    message = raised(lambda: cx.nps(survey["ltr"], weights=weights), InvalidArgumentError)
    assert "invalid weights: expected a 1-D array, got 2-D with shape (2000, 1)" in message
    assert "flatten it with .ravel()" in message
