"""The bundled operational data (customers, orders, tickets, calls): reproducible from their seed,
consistent with their documented layout and with the sample survey they join, and telling the stories
they are bundled for (churn that depends on the NPS category; open tickets that answered-only figures
leave out), each checked against a pandas computation written here."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import cx_metrics as cx
from cx_metrics import datasets

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "scripts" / "make_sample_operations.py"
DATA = REPO / "python" / "cx_metrics" / "data"
AS_OF = pd.Timestamp(datasets.SAMPLE_OPERATIONS_AS_OF)


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_operations", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {t: datasets.sample_operations(t) for t in datasets.SAMPLE_OPERATIONS_TABLES}


def test_files_are_reproducible_from_seed(generator: ModuleType, tmp_path: Path) -> None:
    generator.main(["--seed", str(datasets.SAMPLE_OPERATIONS_SEED), "--out", str(tmp_path)])
    for table in datasets.SAMPLE_OPERATIONS_TABLES:
        name = f"sample_{table}.csv"
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
    assert AS_OF.to_pydatetime() == generator.AS_OF
    assert generator.DEFAULT_SEED == datasets.SAMPLE_OPERATIONS_SEED


def test_layout_and_consistency(tables: dict[str, pd.DataFrame]) -> None:
    for table, columns in datasets.SAMPLE_OPERATIONS_TABLES.items():
        assert tuple(tables[table].columns) == columns
        polars = datasets.sample_operations(table, "polars")
        assert polars.columns == list(columns) and polars.height == len(tables[table])
    customers, orders = tables["customers"], tables["orders"]
    tickets, calls = tables["tickets"], tables["calls"]
    assert customers["customer_id"].is_unique and orders["order_id"].is_unique
    survey = datasets.sample_survey()
    assert set(survey["respondent_id"]) <= set(customers["customer_id"])
    assert (customers["cancelled"].dropna() >= customers.loc[customers["cancelled"].notna(), "signup"]).all()
    assert customers["cancelled"].max() <= AS_OF and customers["signup"].min() >= pd.Timestamp("2024-01-01")
    joined = orders.merge(customers, on="customer_id", validate="many_to_one")
    assert (joined["order_date"] >= joined["signup"]).all()
    assert (joined["order_date"] <= joined["cancelled"].fillna(AS_OF)).all()
    assert (tickets["first_reply"].dropna() >= tickets.loc[tickets["first_reply"].notna(), "created"]).all()
    assert (tickets[["created", "first_reply", "resolved"]].max() <= AS_OF).all()
    abandoned = calls[calls["answered"] == 0]
    assert set(calls["answered"]) == {0, 1} and (calls["wait_seconds"] >= 0).all()
    assert (abandoned[["talk_seconds", "hold_seconds", "acw_seconds"]] == 0).all().all()
    with pytest.raises(ValueError, match="table must be one of"):
        datasets.sample_operations("invoices")


def _category(ltr: pd.Series) -> pd.Series:
    return pd.Series(
        np.select([ltr >= 9, ltr <= 6], ["promoter", "detractor"], "passive"), index=ltr.index
    ).where(ltr.notna())


def test_churn_by_nps_category_matches_pandas(tables: dict[str, pd.DataFrame]) -> None:
    """Customers surveyed in 2026-Q1, churn over the rest of the year, by NPS category: the library's
    churn equals the pandas count exactly, and detractors leave more often than promoters."""
    survey = datasets.sample_survey()
    q1 = survey[survey["wave"] == "2026-Q1"]
    data = tables["customers"].merge(
        pd.DataFrame({"customer_id": q1["respondent_id"], "category": _category(q1["ltr"].astype(float))}),
        on="customer_id",
    )
    data = data[data["category"].notna()]
    start, end = pd.Timestamp("2026-03-01"), pd.Timestamp("2027-01-01")
    result = cx.churn(
        data, start="signup", end="cancelled", period_start=start, period_end=end, by="category"
    )
    for category in ("detractor", "passive", "promoter"):
        rows = data[data["category"] == category]
        # Active at the start: started at or before it and not ended by then; lost: ended after the
        # start, at or before the end (docs/retention.md).
        at_start = rows[(rows["signup"] <= start) & ~(rows["cancelled"] <= start)]
        lost = at_start["cancelled"].between(start, end, inclusive="right").sum()
        r = result[category]
        assert r is not None
        assert (r.customers_start, r.lost) == (len(at_start), int(lost))
        assert r.churn == pytest.approx(lost / len(at_start), rel=1e-15)
    assert result["detractor"].churn > result["passive"].churn > result["promoter"].churn


def test_open_tickets_are_what_answered_only_figures_leave_out(tables: dict[str, pd.DataFrame]) -> None:
    tickets = tables["tickets"]
    december = tickets[(tickets["channel"] == "email") & (tickets["created"] >= "2026-12-01")]
    r = cx.response_times(
        december, created="created", first_reply="first_reply", closed="resolved", as_of=AS_OF, unit="hours"
    )
    open_now = december["first_reply"].isna() & december["resolved"].isna()
    unanswered = december["first_reply"].isna() & december["resolved"].notna()
    assert (r.n_open, r.n_closed_unanswered, r.n_answered) == (
        int(open_now.sum()),
        int(unanswered.sum()),
        int(december["first_reply"].notna().sum()),
    )
    waits = (december["first_reply"] - december["created"]).dropna().dt.total_seconds() / 3600
    assert r.answered_mean == pytest.approx(waits.mean(), rel=1e-12)
    assert dict(r.answered_quantiles)[0.9] == pytest.approx(np.quantile(waits, 0.9), rel=1e-12)
    # The holiday backlog: the open tickets are the slow ones, so Kaplan-Meier's p90 is longer.
    km_p90 = next(q for q in r.km_quantiles if q.p == 0.9).estimate
    assert km_p90 is not None and km_p90 > dict(r.answered_quantiles)[0.9]


def test_events_belong_to_december_customers(tables: dict[str, pd.DataFrame]) -> None:
    events, customers = tables["events"], tables["customers"]
    assert events["time"].is_monotonic_increasing
    assert events["time"].min() >= pd.Timestamp("2026-12-01") and events["time"].max() <= AS_OF
    joined = events.merge(customers, on="customer_id", validate="many_to_one")
    assert len(joined) == len(events)
    assert not (joined["cancelled"] < pd.Timestamp("2026-12-01")).any()
    assert set(events["event"].cat.categories) == {
        "visit",
        "search",
        "product_view",
        "add_to_cart",
        "checkout",
        "payment_error",
        "contact_support",
        "purchase",
        "refund",
    }
    # The app logs some add-to-cart and checkout events in the same second, so the order of equal
    # timestamps matters to a funnel.
    app = events[events["channel"] == "app"]
    same = app.groupby(["customer_id", "time"], observed=True)["event"].agg(set)
    assert any({"add_to_cart", "checkout"} <= s for s in same)


def test_events_tell_the_payment_error_story(tables: dict[str, pd.DataFrame]) -> None:
    """Checkouts that hit a payment error end in a purchase less often (pandas, per customer), and
    the bundled funnel counts every customer who visited exactly once (a pandas count)."""
    events = tables["events"]
    per = events.groupby("customer_id")["event"].agg(set)
    erred = per[per.map(lambda s: "payment_error" in s)]
    clean = per[per.map(lambda s: "checkout" in s and "payment_error" not in s)]
    bought = lambda s: "purchase" in s  # noqa: E731
    assert len(erred) >= 20
    assert erred.map(bought).mean() < clean.map(bought).mean() - 0.2
    spec = cx.FunnelSpec(
        ["visit", "product_view", "add_to_cart", "checkout", "purchase"],
        order="ordered",
        window=dt.timedelta(days=7),
        window_end="inclusive",
        entry="closed",
        counting="uniques",
        reentry="first",
        as_of=AS_OF.to_pydatetime(),
    )
    r = cx.funnel(events, spec, customer="customer_id", event="event", time="time")
    assert r.entered == events.loc[events["event"] == "visit", "customer_id"].nunique()
    assert 0 < r.converted < r.entered
