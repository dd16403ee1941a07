"""The built site in a real browser (tools/site_check.py): every page of the table of contents loads with its title,
no broken internal link, anchor or image, math markup where the source has math, launch buttons to the page's own
notebook, and no traceback, warning, stray object repr or stderr block in any output.

These tests need a build: they are skipped when ``_build/html`` (or ``$MLBOOK_SITE_HTML``) does not exist, so the
unit tests never build the book. The test command's "browser test" stage runs the same check on its fresh build
(``python tools/site_check.py``, which also prints the per-page table and saves screenshots)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("MLBOOK_SITE_HTML", REPO / "_build" / "html"))
sys.path.insert(0, str(REPO / "tools"))

import site_check  # noqa: E402  (tools/ is not a package)

pytestmark = pytest.mark.skipif(
    not HTML.is_dir(), reason=f"no built site at {HTML}: run `make book` (the test command checks its own build)"
)
# the checkout the site was built from: this one, or the one holding $MLBOOK_SITE_HTML's _build
BUILT_FROM = HTML.parent.parent if (HTML.parent.parent / "_toc.yml").is_file() else REPO
PAGES = site_check.toc_pages(BUILT_FROM)


@pytest.fixture(scope="module")
def site():
    missing = site_check.browser_missing()
    if missing:
        pytest.skip(missing)
    with site_check.Site(HTML, BUILT_FROM) as served:
        yield served


@pytest.mark.parametrize("page", PAGES, ids=[p.docname for p in PAGES])
def test_page(site, page):
    report = site.check(page)
    assert not report.problems, f"{page.docname}:\n  " + "\n  ".join(report.problems)
