"""The book's bibliography: well-formed BibTeX, one entry per key, every entry cited or listed as further reading.

The .bib files are the ones `_config.yml` lists. Citations are the `{cite}`, `{cite:t}`, `{cite:p}`... roles in the
markdown of the book's pages and notebooks. `book/bibliography.md` prints the cited entries, then, under "Further
reading", the uncited ones its filter names: an entry that is neither would never be printed, and a key cited
but missing would be a broken reference.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pybtex.database import parse_file

REPO = Path(__file__).resolve().parents[1]
CONFIG = (REPO / "_config.yml").read_text(encoding="utf-8")
BIBLIOGRAPHY = (REPO / "book" / "bibliography.md").read_text(encoding="utf-8")
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")

REQUIRED = {
    "article": ("author", "title", "journal", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "book": ("title", "publisher", "year"),  # and an author or an editor
    "misc": ("author", "title", "year"),  # and an eprint or a url (an arXiv preprint)
    "mastersthesis": ("author", "title", "school", "year"),
    "phdthesis": ("author", "title", "school", "year"),
}
# Entries without a DOI, URL or arXiv id that could be verified (workshop papers, a thesis, old proceedings).
NO_LINK = {"dubuisson1994modified", "koch2015siamese", "bromley1993signature", "schmidhuber1987evolutionary",
           "santoro2016mann", "ren2023torchopt"}


def _bib_files() -> list[Path]:
    block = CONFIG.split("bibtex_bibfiles:", 1)[1]
    names = []
    for line in block.splitlines()[1:]:
        match = re.match(r"\s+-\s+(\S+)", line)
        if not match:
            break
        names.append(match.group(1))
    return [REPO / name for name in names]


def _entries() -> dict[str, tuple[Path, object]]:
    entries: dict[str, tuple[Path, object]] = {}
    for path in _bib_files():
        for key, entry in parse_file(str(path), bib_format="bibtex").entries.items():
            assert key not in entries, f"bibtex key {key!r} is defined in {entries[key][0]} and {path}"
            entries[key] = (path, entry)
    return entries


def _book_texts() -> dict[Path, str]:
    texts = {}
    for path in sorted([*REPO.glob("book/**/*.md"), *REPO.glob("book/**/*.ipynb"), *REPO.glob("exercises/**/*.ipynb"),
                        *REPO.glob("exercises/*.md")]):
        if "_build" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"]
                             if cell["cell_type"] == "markdown")
        texts[path] = text
    return texts


def _cited() -> dict[str, set[str]]:
    cited: dict[str, set[str]] = {}
    for path, text in _book_texts().items():
        for match in CITE.finditer(text):
            for key in match.group(1).split(","):
                cited.setdefault(key.strip(), set()).add(str(path.relative_to(REPO)))
    return cited


def _further_reading() -> set[str]:
    section = BIBLIOGRAPHY.split("## Further reading", 1)[1]
    match = re.search(r":filter:\s*not cited and key in \{([^}]*)\}", section)
    assert match, "the further-reading bibliography must name its entries: ':filter: not cited and key in {...}'"
    return {key.strip().strip('"').strip("'") for key in match.group(1).split(",") if key.strip()}


def test_every_bib_file_is_configured():
    found = sorted(p.relative_to(REPO) for p in REPO.glob("book/**/*.bib") if "_build" not in p.parts)
    assert sorted(p.relative_to(REPO) for p in _bib_files()) == found


def test_keys_are_unique_across_files():
    assert len(_entries()) > 40


@pytest.mark.parametrize("key", sorted(_entries()))
def test_entry_type_and_required_fields(key):
    path, entry = _entries()[key]
    kind = entry.type.lower()
    assert kind in REQUIRED, f"{key} ({path.name}): unexpected entry type @{kind}"
    missing = [f for f in REQUIRED[kind] if f == "author" and not entry.persons.get("author")
               or f != "author" and not entry.fields.get(f)]
    assert not missing, f"{key} (@{kind}): missing {missing}"
    if kind == "book":
        assert entry.persons.get("author") or entry.persons.get("editor"), f"{key}: a book needs an author or editor"
    if kind == "misc":
        assert entry.fields.get("eprint") or entry.fields.get("url"), f"{key}: a preprint needs its eprint id or url"
    venue = entry.fields.get("journal", "") + entry.fields.get("booktitle", "")
    assert "arxiv" not in venue.lower(), f"{key}: an arXiv preprint is @misc with eprint, not a journal"
    if entry.fields.get("eprint"):
        assert re.fullmatch(r"\d{4}\.\d{4,5}", entry.fields["eprint"]), f"{key}: eprint must be a new-style arXiv id"
        assert entry.fields.get("archiveprefix", "").lower() == "arxiv", f"{key}: archiveprefix = {{arXiv}}"
    if entry.fields.get("doi"):
        assert re.fullmatch(r"10\.\d{4,9}/\S+", entry.fields["doi"]), f"{key}: malformed doi"
    if key not in NO_LINK:
        assert any(entry.fields.get(f) for f in ("doi", "url", "eprint")), f"{key}: no doi, url or eprint"


def test_every_cited_key_exists():
    missing = {key: sorted(paths) for key, paths in _cited().items() if key not in _entries()}
    assert not missing, f"cited but not in any .bib file: {missing}"


def test_every_entry_is_cited_or_further_reading():
    cited, further = set(_cited()), _further_reading()
    assert not further & cited, f"further reading must list uncited entries only: {sorted(further & cited)}"
    orphans = sorted(set(_entries()) - cited - further)
    assert not orphans, f"entries neither cited nor listed under further reading (never printed): {orphans}"
    assert further <= set(_entries()), f"unknown keys under further reading: {sorted(further - set(_entries()))}"


def test_the_bibliography_prints_cited_entries_only():
    assert ":all:" not in BIBLIOGRAPHY
    main = BIBLIOGRAPHY.split("## Further reading", 1)[0]
    assert re.search(r":filter:\s*cited\s*$", main, re.MULTILINE), "the main bibliography must use ':filter: cited'"


def test_author_year_style_is_configured():
    assert re.search(r"bibtex_reference_style:\s*author_year_round", CONFIG)
    assert re.search(r"bibtex_default_style:\s*authoryear", CONFIG)
