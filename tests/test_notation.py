"""The chapters and exercise sets keep to the notation page (book/notation.md).

A guard against the inconsistencies the book once had: two spellings of the support and query sets, g_θ for
the model, K for inner steps as well as shots, and φ for a meta-learned relation module.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    p for p in [*REPO.glob("book/**/*.ipynb"), *REPO.glob("book/**/*.md"), *REPO.glob("exercises/ch*/source/*.ipynb")]
    if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts
)
FORBIDDEN = {
    r"(?<![\w\\{}])D_i\^": r"the support/query sets are \mathcal{D}^{\mathrm{tr}}_i and \mathcal{D}^{\mathrm{ts}}_i",
    r"\\mathcal\{D\}_i\^": r"write \mathcal{D}^{\mathrm{tr}}_i (superscript first, \mathrm{tr})",
    r"\^\{t[rs]\}": r"write ^{\mathrm{tr}} / ^{\mathrm{ts}}",
    r"g_\\theta": r"the model is f_\theta",
    r"g_\\phi|g_\\varphi": r"the relation module is g_\psi: \phi is reserved for task parameters",
    r"\$[Kk]\$ (?:inner |gradient |SGD )?steps": "the number of inner steps is S (K counts shots)",
    r"\\phi(?:_i)?\^\{\(k\)\}|\\phi(?:_i)?\^\{\(K\)\}": r"inner-loop iterates are \phi^{(s)}, s = 0..S",
}


def _markdown(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "markdown")
    return text


def test_the_notation_page_is_in_the_table_of_contents():
    assert (REPO / "book" / "notation.md").exists()
    assert re.search(r"file:\s*book/notation\s*$", (REPO / "_toc.yml").read_text(), re.MULTILINE)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_chapters_and_exercises_follow_the_notation_page(path):
    if path.name == "notation.md":
        return
    text = _markdown(path)
    problems = [f"{m.group(0)!r}: {why}" for pattern, why in FORBIDDEN.items() for m in re.finditer(pattern, text)]
    assert not problems, f"{path.relative_to(REPO)} departs from book/notation.md: {problems}"
