"""docs/zh/tutorial.md, the Chinese edition of docs/tutorial.md, keeps the English page's code, outputs and pictures.

Only the prose is written anew; every fenced block (```python, ```text, ```bash, ...) is the English page's, in the
same order and byte for byte, so the Chinese page runs and prints exactly what tests/test_docs.py checks on the
English one. When a block is added to or changed in docs/tutorial.md, the first test names it, and the Chinese page
gets the same block at the same place.
"""
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = ROOT / "docs" / "tutorial.md"
CHINESE = ROOT / "docs" / "zh" / "tutorial.md"

OPENING = re.compile(r"^\s*(`{3,}|~{3,})")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)")
SECTION_NUMBER = re.compile(r"^## (\d+[a-z]?)\.", re.MULTILINE)


@dataclass
class Fenced:
    line: int  # the opening fence's line number, counting from 1
    text: str  # the opening fence, the body and the closing fence, exactly as on the page

    def describe(self):
        kind = self.text.split("\n", 1)[0].strip()
        return f"the {kind} block at line {self.line}"


def fenced_blocks(page):
    """Every fenced code block of the page, of any language, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = OPENING.match(lines[i])
        if not opening:
            i += 1
            continue
        fence = opening.group(1)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
        assert end is not None, f"{page.relative_to(ROOT)}: the fence at line {i + 1} is never closed"
        blocks.append(Fenced(i + 1, "\n".join(lines[i:end + 1])))
        i = end + 1
    return blocks


def prose(page):
    """The page without its fenced blocks, so that a link or picture quoted inside a block is not taken for one."""
    lines = page.read_text(encoding="utf-8").splitlines()
    for block in fenced_blocks(page):
        first = block.line - 1
        lines[first:first + block.text.count("\n") + 1] = [""] * (block.text.count("\n") + 1)
    return "\n".join(lines)


def first_difference(a, b):
    """The first line where two blocks differ, as a short description."""
    a_lines, b_lines = a.split("\n"), b.split("\n")
    for number, (x, y) in enumerate(zip(a_lines, b_lines), 1):
        if x != y:
            return f"line {number} of the block: English {x!r}, Chinese {y!r}"
    longer, which = (a_lines, "English") if len(a_lines) > len(b_lines) else (b_lines, "Chinese")
    return f"the {which} block goes on with {longer[min(len(a_lines), len(b_lines))]!r}"


def test_chinese_page_has_the_english_code_blocks():
    english, chinese = fenced_blocks(ENGLISH), fenced_blocks(CHINESE)
    assert english, "docs/tutorial.md has no fenced blocks: the parser is broken"
    for number, (en, zh) in enumerate(zip(english, chinese), 1):
        assert en.text == zh.text, (
            f"block {number} differs: docs/tutorial.md has {en.describe()}, docs/zh/tutorial.md has "
            f"{zh.describe()}; {first_difference(en.text, zh.text)}. Copy the English block into the Chinese page "
            f"unchanged.")
    if len(english) > len(chinese):
        missing = english[len(chinese)]
        raise AssertionError(
            f"docs/zh/tutorial.md has {len(chinese)} fenced blocks, docs/tutorial.md {len(english)}: block "
            f"{len(chinese) + 1}, {missing.describe()} of docs/tutorial.md, is missing from the Chinese page")
    assert len(english) == len(chinese), (
        f"docs/zh/tutorial.md has {len(chinese)} fenced blocks, docs/tutorial.md {len(english)}: block "
        f"{len(english) + 1}, {chinese[len(english)].describe()} of docs/zh/tutorial.md, is not on the English page")


def test_chinese_page_has_the_english_sections_and_pictures():
    english, chinese = ENGLISH.read_text(encoding="utf-8"), CHINESE.read_text(encoding="utf-8")
    assert SECTION_NUMBER.findall(chinese) == SECTION_NUMBER.findall(english), "the numbered sections differ"
    assert chinese.count("\n## ") == english.count("\n## "), "the number of ## sections differs"
    english_pictures = [Path(target).name for target in IMAGE.findall(prose(ENGLISH))]
    chinese_pictures = [Path(target).name for target in IMAGE.findall(prose(CHINESE))]
    assert english_pictures, "docs/tutorial.md shows no pictures: the pattern is broken"
    assert chinese_pictures == english_pictures, "the Chinese page should show the English page's pictures, in order"


def test_every_picture_and_local_link_of_the_chinese_page_exists():
    text = prose(CHINESE)
    targets = IMAGE.findall(text) + LINK.findall(text)
    local = [target.split("#", 1)[0] for target in targets if not re.match(r"^[a-z]+:", target)]
    assert IMAGE.findall(text) and local, "the Chinese page references no pictures or files: the pattern is broken"
    missing = [target for target in local if target and not (CHINESE.parent / target).exists()]
    assert not missing, f"docs/zh/tutorial.md references files that do not exist: {missing}"


def test_both_editions_link_to_each_other_and_the_readme_to_the_chinese_one():
    assert "(zh/tutorial.md)" in ENGLISH.read_text(encoding="utf-8")
    assert "(../tutorial.md)" in CHINESE.read_text(encoding="utf-8")
    assert "(docs/zh/tutorial.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
