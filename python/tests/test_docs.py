"""Every documented example runs: the docstrings of the package and the Python blocks of the README."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import cx_metrics

README = Path(__file__).resolve().parents[2] / "README.md"
SKIP = {"cx_metrics._native", "cx_metrics.demo"}


def public_modules() -> list[ModuleType]:
    names = ["cx_metrics"] + [
        m.name for m in pkgutil.iter_modules(cx_metrics.__path__, "cx_metrics.") if m.name not in SKIP
    ]
    return [importlib.import_module(n) for n in names]


@pytest.mark.parametrize("module", public_modules(), ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module.__name__):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module.__name__}"


def test_every_public_function_has_an_example() -> None:
    for name in cx_metrics.__all__:
        obj = getattr(cx_metrics, name)
        if callable(obj) and not isinstance(obj, type) and name[0].islower():
            assert obj.__doc__ and ">>>" in obj.__doc__, f"cx_metrics.{name} has no runnable example"


def test_readme_python_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "README has no python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
