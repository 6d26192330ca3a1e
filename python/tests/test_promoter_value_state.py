"""cx.NpsValueTally, the mergeable state of cx.nps_value, from Python: folded from joined rows (a pandas
outer join written here), split into parts, stored as bytes / JSON / pickle and merged in any order,
it gives the in-memory result of the two tables: counts exactly, every other figure to 1e-12 relative
(``_same.assert_same``). The in-memory figures themselves are checked against pandas and scipy in
test_promoter_value.py."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from _promoter_value_data import MEASURES, tables
from _same import assert_same

import cx_metrics as cx
from cx_metrics.exceptions import IncompatibleError, InvalidArgumentError, InvalidStateError
from cx_metrics.promoter_value import PromoterValue


def _joined(survey: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The outer join by customer, with the state's column names."""
    s = survey.assign(answered=True).rename(columns={"customer": "id", "ltr": "score"})
    o = outcomes.assign(has_outcome=True).rename(
        columns={"customer": "id", "clv": "value", "months": "duration"}
    )
    j = s.merge(o, on="id", how="outer")
    j["answered"] = j["answered"].notna() & j["answered"].astype(object).eq(True)
    j["has_outcome"] = j["has_outcome"].notna() & j["has_outcome"].astype(object).eq(True)
    return j[["id", "answered", "score", "has_outcome", "churned", "revenue", "value", "duration"]]


def test_parts_merged_in_any_order_equal_the_in_memory_result() -> None:
    survey, outcomes = tables()
    want = cx.nps_value(survey, outcomes, id="customer", **MEASURES)
    assert isinstance(want, PromoterValue)
    joined = _joined(survey, outcomes).sample(frac=1.0, random_state=3)  # any row order
    parts = []
    for rows in np.array_split(np.arange(len(joined)), 4):
        t = cx.NpsValueTally(churned=True, revenue=True, value=True, duration=True)
        t.fold(joined.iloc[rows])
        parts.append(t)
    assert sum(p.n for p in parts) == len(joined)
    stored = [
        cx.NpsValueTally.from_bytes(parts[0].to_bytes()),
        cx.NpsValueTally.from_json(parts[1].to_json()),
        pickle.loads(pickle.dumps(parts[2])),
        parts[3].copy(),
    ]
    assert stored == parts
    for order in ([0, 1, 2, 3], [3, 1, 0, 2]):
        merged = sum((stored[i] for i in order[1:]), stored[order[0]].copy())
        got = merged.result()
        assert_same(got.to_dict(), want.to_dict())
        assert got.n_survey_unmatched == want.n_survey_unmatched == int(survey["ltr"][:100].notna().sum())
        assert got.n_outcomes_unmatched == want.n_outcomes_unmatched == 100
        assert got.n_missing_score == int(survey["ltr"].isna().sum())
    assert merged.n_answers == len(survey) and merged.n_outcome_rows == len(outcomes)
    assert merged.measures == ("churned", "revenue", "value", "duration")


def test_a_segment_with_every_outcome_row() -> None:
    # One segment's answers joined to all outcome rows: outcome_rows= gives the in-memory by= count.
    survey, outcomes = tables()
    want = cx.nps_value(survey, outcomes, id="customer", revenue="revenue", by="region")
    north = survey[survey["region"] == "north"]
    joined = _joined(north, outcomes)
    t = cx.NpsValueTally(revenue=True)
    t.fold(joined[joined["answered"]][["id", "answered", "score", "has_outcome", "revenue"]])
    got = t.result(outcome_rows=len(outcomes))
    assert_same(got.to_dict(), want.groups["north"].to_dict())  # type: ignore[union-attr]


def test_text_ids_and_errors() -> None:
    survey, outcomes = tables()
    joined = _joined(survey, outcomes)
    t = cx.NpsValueTally(churned=True, revenue=True, value=True, duration=True)
    t.fold(joined.assign(id=joined["id"].map(lambda v: f"c{v}")))
    u = cx.NpsValueTally(churned=True, revenue=True, value=True, duration=True)
    u.fold(joined)
    assert t == u
    dup = pd.concat([joined.iloc[:5], joined.iloc[[2]]], ignore_index=True)
    before = t.copy()
    with pytest.raises(InvalidArgumentError, match=r"customer \d+ is in rows 2 and 5"):
        t.fold(dup)
    bad = joined.iloc[:10].copy()
    bad.loc[bad.index[4], "score"] = 11.0
    bad.loc[bad.index[4], "answered"] = True
    with pytest.raises(cx.exceptions.ColumnError, match="row 4: 11"):
        t.fold(bad)
    with pytest.raises(InvalidArgumentError, match="have no customer id"):
        t.fold(joined.iloc[:10].assign(id=[1.0, np.nan, *range(3, 11)]))
    with pytest.raises(cx.exceptions.ColumnError, match='"duration" not found'):
        t.fold(joined.drop(columns=["duration"]))
    with pytest.raises(InvalidArgumentError, match="outcome columns"):
        t._inner.fold(
            {
                "id": np.arange(2),
                "answered": np.ones(2, bool),
                "score": np.ones(2),
                "has_outcome": np.ones(2, bool),
                "revenue": np.ones(2),
            }
        )
    assert t == before
    with pytest.raises(IncompatibleError):
        t.merge(cx.NpsValueTally(revenue=True))
    with pytest.raises(InvalidArgumentError, match="durations"):
        cx.NpsValueTally(duration=True)
    with pytest.raises(InvalidArgumentError, match="no outcome column"):
        cx.NpsValueTally()
    with pytest.raises(InvalidStateError):
        cx.NpsValueTally.from_bytes(t.to_bytes()[:-3])
    with pytest.raises(InvalidStateError):
        cx.PillarTally.from_bytes(t.to_bytes())
