"""Every documented example runs: the docstrings of the package, the Python blocks of the README and
every ```python block of the guide in docs/*.md.

A guide page runs top to bottom in one namespace: a block with ``>>>`` prompts is a doctest (ELLIPSIS and
NORMALIZE_WHITESPACE), any other block is executed as it stands. Plots are drawn with the Agg backend and
closed after each page; the working directory is a fresh temporary one.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import cx_metrics

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"
LIB_RS = REPO / "crates" / "cx-metrics" / "src" / "lib.rs"
SKIP = {"cx_metrics._native", "cx_metrics.demo"}

# A fenced block: the fence's language and the block's first line (1-based) in the page.
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


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


# ----- the guide: docs/*.md ---------------------------------------------------------------------------


def blocks(page: Path, language: str) -> list[tuple[int, str]]:
    """The fenced blocks of ``language`` in ``page``, with the line number of their first line."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        if m.group(1) == language:
            out.append((text.count("\n", 0, m.start(2)) + 1, m.group(2)))
    return out


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def python_pages() -> list[Path]:
    return [p for p in pages() if blocks(p, "python")]


def run_block(page: Path, line: int, source: str, namespace: dict[str, Any]) -> None:
    """Run one block in ``namespace``: a doctest when it has prompts, else plain code.

    Errors point at the page and its line: the source is padded so that line numbers match the page.
    """
    name = f"{page.name}:{line}"
    if re.search(r"^\s*>>> ", source, flags=re.MULTILINE):
        test = doctest.DocTestParser().get_doctest(source, namespace, name, str(page), line - 1)
        report: list[str] = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test, out=report.append, clear_globs=False)
        namespace.update(test.globs)  # a DocTest works on a copy of the namespace it was given
        assert runner.failures == 0, f"doctest failed in {name}:\n" + "".join(report)
    else:
        exec(compile("\n" * (line - 1) + source, str(page), "exec"), namespace)


@pytest.mark.parametrize("page", python_pages(), ids=lambda p: p.name)
def test_docs_page_python_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    try:
        for line, source in blocks(page, "python"):
            run_block(page, line, source, namespace)
    finally:
        plt.close("all")


def test_the_runner_catches_a_wrong_output(tmp_path: Path) -> None:
    page = tmp_path / "wrong.md"
    page.write_text("```python\n>>> 1 + 1\n3\n\n```\n")
    ((line, source),) = blocks(page, "python")
    with pytest.raises(AssertionError, match=r"doctest failed in wrong.md:2"):
        run_block(page, line, source, {})


def test_the_runner_reports_the_page_line_of_an_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text("# title\n\n```python\nx = 1\nraise KeyError(x)\n```\n")
    ((line, source),) = blocks(page, "python")
    with pytest.raises(KeyError) as info:
        run_block(page, line, source, {})
    assert info.traceback[-1].lineno + 1 == 5


def test_every_page_is_in_the_index() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    linked = {Path(target.split("#")[0]).name for target in LINK.findall(index)}
    for page in pages():
        if page.name != "README.md":
            assert page.name in linked, f"docs/README.md does not link to {page.name}"
    assert "../CHANGELOG.md" in index
    assert "notebooks/quickstart.ipynb" in index


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name} links to {target}, which does not exist"


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_every_fence_names_its_language(page: Path) -> None:
    # rustdoc compiles an unlabelled block of an included page as Rust; a label also picks the highlighting.
    for m in FENCE.finditer(page.read_text(encoding="utf-8")):
        assert m.group(1), f"{page.name}: a code block without a language: {m.group(2)[:60]!r}"


def test_pages_with_rust_blocks_are_doctests_of_the_crate() -> None:
    lib = LIB_RS.read_text(encoding="utf-8")
    for page in pages():
        if blocks(page, "rust"):
            include = f'include_str!("../../../docs/{page.name}")'
            assert include in lib, f"{page.name} has Rust blocks; add `#[doc = {include}]` to lib.rs"
