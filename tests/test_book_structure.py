"""The book reads as a book: numbered chapters as the map, captioned figures with real alt text, the book's figure
style in every chapter, chapters and exercises linked both ways, a general index (issue 16)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "book").glob("ch0*/*.ipynb"))
EXERCISE_SOURCES = sorted((REPO / "exercises").glob("ch*/source/ch*_exercises.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_chapters_are_numbered_as_the_map():
    """Sphinx numbers the chapters of the numbered parts in order: that order must be chapters 1, 2, ..., 6."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    numbered = [c["file"] for part in toc["parts"] if part.get("numbered") for c in part["chapters"]]
    numbers = [int(re.search(r"/ch(\d\d)_", f).group(1)) for f in numbered]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 6
    assert not [p for p in toc["parts"] if not p.get("numbered") and re.search(r"book/ch\d\d_", str(p))]


def test_general_index_is_in_the_table_of_contents():
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s*- file: genindex\s*$", toc, re.MULTILINE) and (REPO / "genindex.md").is_file()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_figures_have_captions_names_and_alt_text(path):
    figures = [c["metadata"]["mystnb"] for c in _cells(path) if "mystnb" in c.get("metadata", {})]
    assert figures, f"{path.name} has no captioned figure"
    for fig in figures:
        name, caption, alt = fig["figure"]["name"], fig["figure"]["caption"], fig["image"]["alt"]
        assert name.startswith(f"fig-ch{path.parent.name[2:4]}-"), name
        assert len(caption) > 20 and len(alt) > 40, name
        assert not re.search(r"\.(png|svg|jpe?g)\b|/", alt), f"{name}: alt text must describe the figure, not a file"


def test_figure_names_are_unique():
    names = [c["metadata"]["mystnb"]["figure"]["name"] for p in CHAPTERS for c in _cells(p)
             if "mystnb" in c.get("metadata", {})]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_uses_the_book_figure_style(path):
    assert any("book_style()" in _source(c) for c in _cells(path) if c["cell_type"] == "code")


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem != "sinusoid"], ids=lambda p: p.stem)
def test_chapter_links_to_its_exercises(path):
    chapter = path.parent.name[:4]  # ch01
    text = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "markdown")
    assert f"../../exercises/{chapter}/{chapter}_exercises.ipynb)" in text


@pytest.mark.parametrize("path", EXERCISE_SOURCES, ids=lambda p: p.stem)
def test_exercises_link_back_to_their_chapter(path):
    chapter = path.parent.parent.name  # ch01
    text = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "markdown")
    target = re.search(rf"\]\((\.\./\.\./book/{chapter}_[a-z_]+/{chapter}_[a-z_]+\.ipynb)\)", text)
    assert target, f"{path.name} does not link to its chapter"
    assert (path.parent.parent / target.group(1)).is_file()  # relative to the student notebook's folder
