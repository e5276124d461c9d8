"""Every ```python block of README.md and docs/*.md (not the folders below docs/) runs, as a reader who pastes a
page's blocks would run them.

A page's blocks run in order in one namespace, like a notebook's cells, inside a fresh temporary folder (files
they write land there) with matplotlib's Agg backend. A block written as an interactive session (``>>>``
prompts) runs as a doctest, so the output it shows is checked too. docs/cuda.md runs on numba's CUDA simulator
(tests/conftest.py sets NUMBA_ENABLE_CUDASIM=1) and is skipped without numba-cuda. An HTML comment on the line
before a block's opening fence changes what happens to it:

    <!-- excerpt: tensorlite/ops/elementwise.py -->   the block quotes that file: its code lines must appear
                                                       there, in order (blank lines and comments aside)
    <!-- notest: the reason -->                        the block is not run (the reason is required)
"""
import doctest
import re
import sys
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OPTIONAL_PACKAGES = {"torch", "matplotlib", "onnx", "onnxruntime"}  # a page that imports one of these is skipped where it is missing

FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)")
MARKER = re.compile(r"^\s*<!--\s*(notest|excerpt):\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    line: int  # the opening fence's line number, counting from 1
    code: str  # dedented, preceded by blank lines so that line numbers in tracebacks are the page's
    marker: str = None  # "notest", "excerpt" or None
    argument: str = None  # the marker's reason or file


def python_blocks(page):
    """The page's ```python blocks, in order, each with the marker on the line before its fence."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), len(lines))
        if opening.group(2) == "python":
            marker = MARKER.match(lines[i - 1]) if i > 0 else None
            body = textwrap.dedent("\n".join(lines[i + 1:end]))
            blocks.append(Block(i + 1, "\n" * (i + 1) + body + "\n", *(marker.groups() if marker else ())))
        i = end + 1
    return blocks


def where(page, block):
    return f"{page.relative_to(ROOT)}, block at line {block.line}"


def code_lines(text):
    """The lines that carry code: stripped, comments and blank lines dropped."""
    stripped = (re.sub(r"\s+#.*$", "", line).strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def check_excerpt(page, block):
    """The block's code lines appear in the quoted file in the same order."""
    source = code_lines((ROOT / block.argument).read_text(encoding="utf-8"))
    remaining = iter(source)  # `in` consumes it up to the match, so the lines must come in order
    missing = [line for line in code_lines(block.code) if line not in remaining]
    assert not missing, (f"{where(page, block)} quotes {block.argument}, which has no line "
                         f"{missing[0]!r} (in this order)")


def run_doctest(page, block, namespace):
    test = doctest.DocTestParser().get_doctest(block.code.lstrip("\n"), namespace, page.name, str(page), block.line)
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)
    if runner.failures:
        pytest.fail(f"{where(page, block)}:\n{''.join(report)}", pytrace=False)


def run_page(page, namespace):
    for block in python_blocks(page):
        if block.marker == "notest":
            assert block.argument, f"{where(page, block)}: a notest marker needs a reason"
        elif block.marker == "excerpt":
            check_excerpt(page, block)
        elif block.code.lstrip().startswith(">>>"):
            run_doctest(page, block, namespace)
        else:
            try:
                exec(compile(block.code, str(page), "exec"), namespace)
            except Exception as error:
                if isinstance(error, ModuleNotFoundError) and error.name in OPTIONAL_PACKAGES:
                    pytest.skip(f"{where(page, block)} needs {error.name}, which is not installed")
                frames = traceback.format_exception(type(error), error, error.__traceback__.tb_next)  # the page's
                pytest.fail(f"{where(page, block)}:\n{''.join(frames)}", pytrace=False)


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_page_runs(page, tmp_path, monkeypatch):
    if page.name == "cuda.md":
        pytest.importorskip("numba_cuda", reason="docs/cuda.md needs numba-cuda (the cuda extra)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # read when matplotlib is imported; if it already is, switch it
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    from tensorlite import compat

    try:
        run_page(page, {"__name__": "__main__"})
    finally:
        if compat.installed():
            compat.uninstall()


def test_every_block_is_found():
    """The extractor misses no ```python fence (an unclosed fence before it, say, would hide it)."""
    fences = {page.name: page.read_text(encoding="utf-8").count("```python") for page in PAGES}
    assert {page.name: len(python_blocks(page)) for page in PAGES} == fences


def section(page, title):
    """The text of the page's ``## title`` section, up to the next ``## `` heading."""
    text = page.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


def test_kernels_md_quotes_the_measured_compile_times():
    """The compile and cold-start times docs/kernels.md quotes are those benchmarks.md reports."""
    seconds = re.compile(r"\b(\d+(?:\.\d+)?) s\b")
    quoted = seconds.findall(section(ROOT / "docs" / "kernels.md", "Figures"))
    measured = seconds.findall(section(ROOT / "docs" / "benchmarks.md", "Compile time and cold start"))
    assert quoted and set(quoted) <= set(measured), f"not in benchmarks.md: {sorted(set(quoted) - set(measured))}"
