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
