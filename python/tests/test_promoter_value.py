"""cx.nps_value (what a promoter is worth) against a pandas computation written here.

References and tolerances:
- pandas merge + groupby on seeded random customers: counts exact; shares and means 1e-12.
- scipy.stats: ``binomtest(...).proportion_ci("wilson")`` per category and
  ``ttest_ind(equal_var=False).confidence_interval()`` (Welch) for the differences in mean revenue:
  1e-8 (the core's t quantile at a fractional df).
- Newcombe's hybrid score interval of a difference of proportions, by hand from the two Wilson
  intervals (Newcombe 1998, method 10): 1e-9.
- Kaplan-Meier per category: S(t) by hand (product of 1 - d/n over the churn times of the category),
  1e-12.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics.exceptions import InvalidArgumentError
from cx_metrics.promoter_value import PromoterValue, PromoterValueByGroup

stats = pytest.importorskip("scipy.stats")


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 900
    ids = rng.permutation(np.arange(10_000, 10_000 + n))
    ltr = rng.integers(0, 11, n)
    survey = pd.DataFrame(
        {"customer": ids[:800], "ltr": ltr[:800], "region": rng.choice(["north", "south"], 800)}
    )
    base = np.where(ltr >= 9, 140.0, np.where(ltr >= 7, 110.0, 90.0))
    outcomes = pd.DataFrame(
        {
            "customer": ids[100:],  # 100 answers without an outcome, 100 outcomes without an answer
            "churned": rng.random(800) < np.where(ltr[100:] >= 9, 0.1, np.where(ltr[100:] >= 7, 0.2, 0.35)),
            "revenue": rng.gamma(4.0, base[100:] / 4.0).round(2),
            "months": rng.integers(1, 25, 800).astype(float),
        }
    )
    return survey, outcomes


def _category(ltr: pd.Series) -> pd.Series:
    return pd.Series(
        np.where(ltr >= 9, "promoter", np.where(ltr >= 7, "passive", "detractor")), index=ltr.index
    )


def test_against_pandas(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    survey, outcomes = tables
    r = cx.nps_value(survey, outcomes, id="customer", churned="churned", revenue="revenue", duration="months")
    assert isinstance(r, PromoterValue)
    joined = survey.merge(outcomes, on="customer", how="inner")
    joined["category"] = _category(joined["ltr"])
    assert r.n_survey_unmatched == 100 and r.n_outcomes_unmatched == 100
    for cat, g in joined.groupby("category"):
        c = r.categories[str(cat)]
        assert c["n"] == len(g)
        assert c["churned"] == int(g["churned"].sum())
        assert abs(c["churn"] - g["churned"].mean()) < 1e-12
        ci = stats.binomtest(int(g["churned"].sum()), len(g)).proportion_ci(0.95, "wilson")
        assert abs(c["churn_ci"]["low"] - ci.low) < 1e-9 and abs(c["churn_ci"]["high"] - ci.high) < 1e-9
        assert abs(c["revenue"]["mean"] - g["revenue"].mean()) < 1e-9
        assert abs(c["revenue"]["sd"] - g["revenue"].std(ddof=1)) < 1e-9
    by_cat = {str(k): g for k, g in joined.groupby("category")}
    for a, b in (("promoter", "detractor"), ("passive", "detractor"), ("promoter", "passive")):
        d, ci = r.worth("revenue", to=a, from_=b)
        ref = stats.ttest_ind(by_cat[a]["revenue"], by_cat[b]["revenue"], equal_var=False)
        want = ref.confidence_interval(0.95)
        assert abs(d - (by_cat[a]["revenue"].mean() - by_cat[b]["revenue"].mean())) < 1e-9
        assert ci is not None and abs(ci.low - want.low) < 1e-8 and abs(ci.high - want.high) < 1e-8
        # Churn: Newcombe's hybrid score interval from the two Wilson intervals.
        churn = next(x for x in r.differences if x["measure"] == "churn" and x["a"] == a and x["b"] == b)
        xa, na = int(by_cat[a]["churned"].sum()), len(by_cat[a])
        xb, nb = int(by_cat[b]["churned"].sum()), len(by_cat[b])
        pa, pb = xa / na, xb / nb
        la, ua = stats.binomtest(xa, na).proportion_ci(0.95, "wilson")
        lb, ub = stats.binomtest(xb, nb).proportion_ci(0.95, "wilson")
        low = pa - pb - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
        high = pa - pb + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
        assert abs(churn["difference"] - (pa - pb)) < 1e-12
        assert abs(churn["ci"]["low"] - low) < 1e-9 and abs(churn["ci"]["high"] - high) < 1e-9
    # Kaplan-Meier of promoters: S(t) = prod over churn times <= t of (1 - d / n at risk).
    g = by_cat["promoter"]
    km = r.retention["promoter"]  # type: ignore[index]
    s = 1.0
    for t in sorted(g.loc[g["churned"], "months"].unique()):
        at_risk = (g["months"] >= t).sum()
        d = ((g["months"] == t) & g["churned"]).sum()
        s *= 1 - d / at_risk
        assert abs(km.survival_at(t) - s) < 1e-12
    text = str(r)
    assert "not an experiment" in text and "moving one detractor to promoter" in text
    assert len(r.to_pandas()) == 3


def test_round_trip_and_display(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    survey, outcomes = tables
    r = cx.nps_value(survey, outcomes, id="customer", churned="churned", revenue="revenue")
    assert isinstance(r, PromoterValue)
    assert PromoterValue.from_json(r.to_json()) == r
    assert pickle.loads(pickle.dumps(r)) == r
    assert "<table>" in r._repr_html_()
    assert r.retention is None


def test_by_segment(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    survey, outcomes = tables
    r = cx.nps_value(survey, outcomes, id="customer", revenue="revenue", by="region")
    assert isinstance(r, PromoterValueByGroup)
    joined = survey.merge(outcomes, on="customer")
    for region, g in joined.groupby("region"):
        part = r.groups[region]
        promoters = g[g["ltr"] >= 9]
        assert part.categories["promoter"]["n"] == len(promoters)
        assert abs(part.categories["promoter"]["revenue"]["mean"] - promoters["revenue"].mean()) < 1e-9
    assert set(r.to_pandas()["region"]) == {"north", "south"}


def test_bad_input_is_named(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    survey, outcomes = tables
    dup = pd.concat([survey, survey.iloc[[5]]], ignore_index=True)
    with pytest.raises(InvalidArgumentError, match="position 800 of the survey repeats position 5"):
        cx.nps_value(dup, outcomes, id="customer", revenue="revenue")
    bad = survey.assign(ltr=survey["ltr"].astype(float))
    bad.loc[3, "ltr"] = 12.0
    with pytest.raises(InvalidArgumentError, match="12 at position 3"):
        cx.nps_value(bad, outcomes, id="customer", revenue="revenue")
    missing = survey.assign(ltr=survey["ltr"].astype(float))
    missing.loc[[0, 1], "ltr"] = np.nan
    r = cx.nps_value(missing, outcomes, id="customer", revenue="revenue")
    assert isinstance(r, PromoterValue) and r.n_missing_score == 2
    with pytest.raises(InvalidArgumentError, match="durations"):
        cx.nps_value(survey, outcomes, id="customer", revenue="revenue", duration="months")


def test_by_segment_checks_the_whole_tables(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    survey, outcomes = tables
    # A customer who answered in two segments is refused (each segment alone would count them once).
    other = survey.iloc[[7]].assign(region="east" if survey["region"][7] == "west" else "west")
    with pytest.raises(InvalidArgumentError, match="position 800 of the survey repeats position 7"):
        cx.nps_value(
            pd.concat([survey, other], ignore_index=True),
            outcomes,
            id="customer",
            revenue="revenue",
            by="region",
        )
    bad = survey.assign(ltr=survey["ltr"].astype(float))
    bad.loc[650, "ltr"] = 10.5
    with pytest.raises(InvalidArgumentError, match=r"10\.5 at position 650"):
        cx.nps_value(bad, outcomes, id="customer", revenue="revenue", by="region")


def test_a_missing_interval_says_why() -> None:
    # One passive: no standard deviation, so no Welch interval for it or its differences; the
    # printout says so instead of printing a bare figure (pandas: the passive group has 1 row).
    survey = pd.DataFrame({"customer": [1, 2, 3, 4, 5, 6], "ltr": [10, 9, 8, 3, 5, 0]})
    outcomes = pd.DataFrame({"customer": [1, 2, 3, 4, 5, 6], "revenue": [120.0, 100, 80, 20, 40, 30]})
    r = cx.nps_value(survey, outcomes, id="customer", revenue="revenue")
    assert isinstance(r, PromoterValue)
    text = str(r)
    category = pd.cut(survey["ltr"], [-1, 6, 8, 10])
    groups = outcomes.groupby(category, observed=False)["revenue"]
    assert groups.count().tolist() == [3, 1, 2]
    passive_mean = groups.mean().iloc[1]
    assert (
        f"revenue {passive_mean:.2f} (no interval: fewer than 2 customers with revenue: 1 in passive)" in text
    )
    gap = groups.mean().iloc[2] - passive_mean
    assert f"{gap:+.2f} (no interval: fewer than 2 customers with revenue: 1 in passive)" in text
