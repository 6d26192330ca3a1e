"""A polars-only install: with pandas absent (``sys.modules["pandas"] = None`` in a fresh interpreter),
table properties return polars DataFrames and every ``to_pandas()`` says how to get pandas instead of
failing with a bare ``ModuleNotFoundError``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("polars")

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.modules["pandas"] = None  # as if pandas were not installed
    import numpy as np
    import polars as pl
    import cx_metrics as cx
    from cx_metrics._results import PandasMissingError

    rng = np.random.default_rng(0)
    n = 300
    cols = {f"p{j}": np.clip(np.round(3 + 1.2 * j + rng.normal(0, 1, n)), 1, 10) for j in range(4)}
    cols["ltr"] = np.clip(np.round(sum(cols.values()) / 4 + rng.normal(0, 1, n)), 0, 10)
    df = pl.DataFrame(cols)
    out = {}
    r = cx.driver_analysis(df, "ltr", ["p0", "p1", "p2", "p3"])
    m = r.matrix(scale=(1, 10))
    w = r.what_if({"p0": 1.0}, scale=(1, 10))
    tables = {"matrix.drivers": m.drivers, "what_if.scenario": w.scenario}
    out["types"] = {k: type(v).__module__.split(".")[0] for k, v in tables.items()}
    out["matrix_columns"] = m.drivers.columns
    out["matrix_performance"] = m.drivers["performance"].to_list()
    results = {"nps": cx.nps(df["ltr"]), "drivers": r, "matrix": m, "what_if": w}
    out["to_polars"] = {k: type(v.to_polars()).__module__.split(".")[0] for k, v in results.items()}
    out["to_pandas"] = {}
    for k, v in results.items():
        try:
            v.to_pandas()
            out["to_pandas"][k] = "no error"
        except PandasMissingError as e:
            out["to_pandas"][k] = [type(e).__name__, str(e), isinstance(e, ModuleNotFoundError)]
    out["str"] = [len(str(v)) > 0 for v in results.values()]
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def report() -> dict:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_table_properties_are_polars_without_pandas(report: dict) -> None:
    assert report["types"] == {"matrix.drivers": "polars", "what_if.scenario": "polars"}
    # The key column that pandas would use as the index comes first.
    assert report["matrix_columns"][0] == "driver"
    assert "performance_low" in report["matrix_columns"]


def test_matrix_figures_are_the_same_as_with_pandas(report: dict) -> None:
    rng = np.random.default_rng(0)
    n = 300
    cols = {f"p{j}": np.clip(np.round(3 + 1.2 * j + rng.normal(0, 1, n)), 1, 10) for j in range(4)}
    expected = [float(np.mean(cols[f"p{j}"])) for j in range(4)]
    assert report["matrix_performance"] == pytest.approx(expected, abs=1e-12)


def test_to_polars_works_and_to_pandas_says_how_to_get_pandas(report: dict) -> None:
    assert set(report["to_polars"].values()) == {"polars"}
    for name, outcome in report["to_pandas"].items():
        assert outcome != "no error", name
        kind, message, is_module_error = outcome
        assert kind == "PandasMissingError", name
        assert "pip install pandas" in message and "to_polars()" in message, name
        assert is_module_error  # still catchable as the ImportError it is
    assert all(report["str"])


_SWEEP = textwrap.dedent(
    """
    import datetime as dt, io, json, sys
    from importlib import resources
    sys.modules["pandas"] = None  # as if pandas were not installed
    import numpy as np
    import polars as pl
    import cx_metrics as cx
    from cx_metrics._results import PandasMissingError
    from cx_metrics.datasets import sample_operations, sample_survey

    survey = sample_survey("polars")
    events = sample_operations("events", "polars")
    calls = sample_operations("calls", "polars")
    orders = sample_operations("orders", "polars")
    raw = (resources.files("cx_metrics") / "data" / "sample_journey.csv").read_bytes()
    journey = pl.read_csv(io.BytesIO(raw))
    journey_ours = journey.filter(pl.col("brand") == "Northwind")
    pillars = ["integrity", "expectations", "time_and_effort", "personalisation", "empathy"]
    survey_c = survey.drop_nulls(["ltr", *pillars])
    da = cx.driver_analysis(survey_c, "ltr", pillars, scales=(1, 10))
    spec = cx.FunnelSpec(["visit", "product_view", "add_to_cart", "checkout", "purchase"], order="ordered",
                         window=dt.timedelta(days=7), window_end="inclusive", entry="closed",
                         counting="uniques", reentry="first")
    funnel = cx.funnel(events, spec, customer="customer_id", event="event", time="time")
    scores = cx.touchpoint_scores(journey_ours, cx.sample_journey_map(), ltr="ltr", csat="csat", ces="ces")
    results = {
        "nps": cx.nps(survey["ltr"]),
        "nps_by": cx.nps("ltr", data=survey, by="wave"),
        "csat_by": cx.csat("csat", data=survey, by="segment", satisfied="top_two_box"),
        "ces_by": cx.ces("ces", data=survey, by="channel"),
        "compare": cx.compare_nps(survey["ltr"][:500], survey["ltr"][500:]),
        "all_pairs": cx.compare_all(survey, metric="nps", by="segment"),
        "trend": cx.trend(survey, metric="nps", by="wave"),
        "pillars": cx.pillar_summary(survey, by="segment"),
        "response_times": cx.response_times(
            durations=np.arange(1.0, 41.0), outcomes=np.tile(np.array([1, 0], dtype=np.uint8), 20)
        ),
        "drivers": da,
        "dominance": da.dominance,
        "matrix": da.matrix(scale=(1, 10)),
        "what_if": da.what_if({"empathy": 1.0}, scale=(1, 10)),
        "bootstrap": da.bootstrap(n_resamples=50, seed=1),
        "segments": cx.driver_analysis(survey_c, "ltr", pillars, by="segment", scales=(1, 10)),
        "promoters": cx.promoter_drivers(survey_c, "ltr", pillars, scales=(1, 10)),
        "retention": cx.retention_table(orders, customer_id="customer_id", time="order_date", period="month"),
        "repeat": cx.repeat_rate(orders, customer_id="customer_id", time="order_date",
                              window=(dt.date(2026, 1, 1), dt.date(2027, 1, 1))),
        "new_vs_returning": cx.new_vs_returning(events, customer="customer_id", time="time"),
        "sbg": cx.sbg([1000, 869, 743, 653, 593, 551, 517, 491]),
        "service_level": cx.service_level(calls, formula="icmi1", threshold=20, waits="wait_seconds",
                                          answered="answered", by="queue"),
        "handling": cx.handling_time(calls.filter(pl.col("answered") == 1),
                                     components=["talk", "hold", "acw"],
                                     talk="talk_seconds", hold="hold_seconds", acw="acw_seconds"),
        "funnel": funnel,
        "funnel_by": cx.funnel(events, spec, customer="customer_id", event="event", time="time",
                               by="channel"),
        "paths": cx.paths(events, customer="customer_id", event="event", time="time"),
        "touchpoints": scores,
        "gaps": cx.journey_gaps(scores, [{"name": "app", "metric": "csat", "threshold": 0.85}]),
        "pain": cx.pain_points(journey_ours, cx.sample_journey_map(), csat="csat", ces="ces",
                               n_resamples=100),
        "brands": cx.compare_brands(journey, cx.sample_journey_map(), reference="Northwind", ltr="ltr"),
    }
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    bare, polars_ok, tables, checked, plots, broken = [], {}, {}, 0, {}, []
    for name, r in results.items():
        if callable(getattr(r, "plot", None)):
            # A chart draws without pandas or says how to get it: never another error.
            try:
                r.plot()
                plots[name] = "drawn"
            except PandasMissingError:
                plots[name] = "pandas"
            except Exception as e:
                broken.append(f"{name}.plot(): {type(e).__name__}: {e}")
            plt.close("all")
        attrs = [a for a in dir(type(r)) if not a.startswith("_")]
        attrs = [a for a in attrs if isinstance(getattr(type(r), a), property)]
        calls_ = [(a, lambda a=a: getattr(r, a)) for a in attrs]
        calls_ += [("str", lambda: str(r)), ("html", lambda: r._repr_html_())]
        if hasattr(r, "to_polars"):
            polars_ok[name] = type(r.to_polars()).__module__.split(".")[0]
        for what, call in calls_:
            checked += 1
            try:
                value = call()
                if what == "table":
                    tables[name] = type(value).__module__.split(".")[0]
            except PandasMissingError:
                pass
            except ImportError as e:
                bare.append(f"{name}.{what}: {type(e).__name__}: {e}")
    print(json.dumps({"bare": bare, "polars": polars_ok, "tables": tables, "checked": checked,
                      "plots": plots, "broken": broken}))
    """
)


def test_no_bare_import_error_anywhere_without_pandas() -> None:
    """Every table property, printout and HTML rendering of the results of a polars-only session gives
    its table (polars where it can) or a PandasMissingError that says what to do: never a bare
    ModuleNotFoundError."""
    done = subprocess.run([sys.executable, "-c", _SWEEP], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["bare"] == []
    assert out["broken"] == [], out["broken"]
    # The driver analysis' chart draws from the analysis itself (it raised AttributeError on a polars
    # table); others may need pandas and say so.
    assert out["plots"]["drivers"] == "drawn"
    assert len(out["plots"]) >= 10, out["plots"]
    assert out["checked"] > 150
    assert set(out["polars"].values()) == {"polars"}, out["polars"]
    # The `table` properties of the grouped results are polars tables, not errors.
    assert {"nps_by", "csat_by", "ces_by", "trend", "all_pairs", "pillars"} <= set(out["tables"])
    assert set(out["tables"].values()) == {"polars"}, out["tables"]
