"""The quickstart notebook (docs/notebooks/quickstart.ipynb) runs top to bottom in a real Jupyter kernel.

The kernel imports the same cx_metrics as these tests (its directory is put first on the kernel's
PYTHONPATH), draws with the Agg backend (MPLBACKEND in the kernel's environment, so the notebook itself
keeps inline plots for readers), works in a temporary directory, and any cell error fails the test.
The notebook is stored without outputs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import cx_metrics

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "quickstart.ipynb"
TIMEOUT = 600  # seconds per cell; the whole notebook takes a few seconds


def read() -> Any:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_stored_without_outputs() -> None:
    nb = read()
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    for cell in code:
        assert cell.execution_count is None, f"cell {cell.get('id')} is stored with an execution count"
        assert cell.outputs == [], f"cell {cell.get('id')} is stored with outputs"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_quickstart_runs_in_a_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package_dir = str(Path(cx_metrics.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (package_dir, path) if p))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = read()
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError naming the cell on any error

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    warnings = [o.text for c in code for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not warnings, f"the notebook shows warnings: {warnings}"
    # The kernel used the package under test, and computed the figures the guide shows.
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for c in code for o in c.outputs
    )
    assert f"'{cx_metrics.__version__}'" in text
    assert "NPS +21.7 (95% CI +17.7 to +25.6, adjusted Wald; n=1981" in text
    assert "time_and_effort" in text
    assert not list(tmp_path.iterdir()), "the notebook wrote files into its working directory"
