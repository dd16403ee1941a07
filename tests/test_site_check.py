"""tools/site_check.py finds what it claims to find: on a small hand-written site shaped like a Jupyter Book build
(MyST-NB cells, the theme's launch menu), a clean page passes and every kind of fault on a broken page is named.
Needs Chromium and chromedriver (``make browser-env``; the test command installs them), skipped without them."""

from __future__ import annotations

import json
import shutil
import sys
import zlib
from pathlib import Path
from struct import pack

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import exec_report  # noqa: E402  (tools/ is not a package)
import site_check  # noqa: E402

REPO_URL = "https://github.com/example-org/example-book"
COLAB = "https://colab.research.google.com/github/example-org/example-book/blob/main/book/{nb}.ipynb"
BINDER = "https://mybinder.org/v2/gh/example-org/example-book/main?urlpath=tree/book/{nb}.ipynb"


def png(width: int = 4, height: int = 3) -> bytes:
    """A valid grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def page(title: str, body: str, launch: str = "") -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} — Test book</title>
<style>.bd-article {{ width: 600px }} pre {{ overflow: auto }}</style></head><body>
<nav><a href="intro.html">Intro</a> <a href="good.html">Good</a> <a href="bad.html">Bad</a></nav>
<div class="dropdown dropdown-launch-buttons"><ul class="dropdown-menu">{launch}</ul></div>
<article class="bd-article">{body}</article></body></html>"""


def cell(source: str, output: str) -> str:
    return (f'<div class="cell docutils container"><div class="cell_input docutils container"><div class="highlight">'
            f'<pre>{source}</pre></div></div><div class="cell_output docutils container">{output}</div></div>')


def stream(text: str, kind: str = "stream") -> str:
    return f'<div class="output {kind} notranslate"><div class="highlight"><pre>{text}</pre></div></div>'


GOOD = page(
    "Good page",
    '<section id="good-page"><h1>Good page<a class="headerlink" href="#good-page">#</a></h1>'
    '<p>Math: <span class="math notranslate nohighlight">\\(x^2\\)</span>.'
    ' See <a href="intro.html#intro">intro</a>.</p>'
    '<section id="results"><h2>Results</h2>'
    + cell("print(1)", stream("1"))
    + cell("plot()", '<img alt="a plot" src="../_images/plot.png">')
    + "</section></section>",
    launch=f'<li><a href="{BINDER.format(nb="good")}">Binder</a></li>'
    f'<li><a href="{COLAB.format(nb="good")}">Colab</a></li>',
)
BAD = page(
    "Bad page",
    "<h1>Bad page</h1><h1>Second title</h1>"
    '<p>No math markup here, but raw $\\alpha_i$ text. Links: <a href="missing.html">gone</a>, '
    '<a href="good.html#no-such-section">bad anchor</a>.</p>'
    '<img alt="x" src="../_images/missing.png">'
    '<div class="highlight"><pre>pip install "a-package @ git+https://example.org/a/very/long/address/that/does/not/fit/in/the/column/at/all"</pre></div>'
    + cell("run()", stream("Traceback (most recent call last):\n  ...\nValueError: boom", kind="traceback"))
    + cell("warn()", stream("/x.py:3: UserWarning: careful", kind="stderr"))
    + cell("gen()", stream("&lt;torch._C.Generator at 0x7f00deadbeef&gt;", kind="text_plain"))
    + cell("x = 'a very long line of code that goes on and on' * 10 + 'and on and on and on and on and on and on'", ""),
    launch=f'<li><a href="{COLAB.format(nb="other")}">Colab</a></li>',
)


def notebook(markdown: str) -> str:
    return json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": [markdown]}], "metadata": {},
                       "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = site_check.browser_missing()
    if missing:
        pytest.skip(missing)
    repo = tmp_path_factory.mktemp("book")
    (repo / "_toc.yml").write_text("root: book/intro\nchapters:\n- file: book/good\n- file: book/bad\n")
    (repo / "_config.yml").write_text(
        f"repository:\n  url: {REPO_URL}\nlaunch_buttons:\n  binderhub_url: https://mybinder.org\n"
        "  colab_url: https://colab.research.google.com\n"
    )
    (repo / "book").mkdir()
    (repo / "book" / "intro.md").write_text("# Intro\n")
    (repo / "book" / "good.ipynb").write_text(notebook("# Good page\n\nMath: $x^2$."))
    (repo / "book" / "bad.ipynb").write_text(notebook("# Bad page\n\n$$\\alpha$$"))
    html = repo / "_build" / "html"
    (html / "book").mkdir(parents=True)
    (html / "_images").mkdir()
    (html / "_images" / "plot.png").write_bytes(png())
    intro = page("Intro", '<section id="intro"><h1>Intro</h1><p>Welcome.</p></section>')
    for name, text in (("intro", intro), ("good", GOOD), ("bad", BAD)):
        (html / "book" / f"{name}.html").write_text(text, encoding="utf-8")
    with site_check.Site(html, repo) as served:
        yield served, repo


def check(site, docname):
    served, repo = site
    (found,) = [p for p in site_check.toc_pages(repo) if p.docname == docname]
    return served.check(found)


def test_a_clean_page_passes(site):
    report = check(site, "book/good")
    assert report.problems == []
    assert (report.title, report.images, report.outputs, report.cells_cut) == ("Good page", 1, 2, 0)
    assert report.links == 5  # intro, good, bad, intro#intro, #good-page: distinct internal targets


def test_every_fault_is_named(site):
    problems = "\n".join(check(site, "book/bad").problems)
    for expected in [
        "2 H1 headings",
        "broken link '/book/missing.html'",
        "broken anchor '/book/good.html#no-such-section'",
        "no id 'no-such-section'",
        "image not shown (naturalWidth 0): /_images/missing.png",
        "the page requested /_images/missing.png: HTTP 404",
        "the source has math but the page has no math markup",
        "raw TeX in the text (not math markup): '$\\\\alpha_i$'",
        "no Binder launch button",
        "Colab button does not open this page's notebook book/bad.ipynb",
        "cell 1 ('run()'): traceback in the output",
        "cell 2 ('warn()'): stderr output",
        "cell 2 ('warn()'): warning in the output: '/x.py:3: UserWarning: careful'",
        "cell 3 ('gen()'): stray object repr in the output: '<torch._C.Generator at 0x7f00deadbeef>'",
    ]:
        assert expected in problems, f"{expected!r} not in:\n{problems}"


def test_cut_off_cells_are_measured_and_fail_the_page(site, monkeypatch):
    assert site_check.CUT_OFF_CELLS_ALLOWED == 0  # the book's CSS wraps long lines: none may be cut off
    report = check(site, "book/bad")
    assert report.cells_cut == 2 and report.cut_by_kind["input"] == (1, 4) and report.cut_by_kind["block"] == (1, 1)
    assert any("2 code cells cut off at the right edge" in p and "code block 1 of the text" in p
               for p in report.problems)
    monkeypatch.setattr(site_check, "CUT_OFF_CELLS_ALLOWED", None)  # None: measured and reported only
    assert not any("cut off" in p for p in check(site, "book/bad").problems)


def test_the_books_toc_is_read():
    """The browser test's page list is this book's _toc.yml: the root page first, every entry but Sphinx's own pages
    (genindex) with its source file."""
    pages = site_check.toc_pages()
    assert pages[0].docname == "book/intro"
    sourceless = [p.docname for p in pages if p.source is None]
    assert set(sourceless) <= site_check.GENERATED_PAGES, sourceless
    assert any(p.is_notebook for p in pages)


EXEC_TABLE = """<html><body><table class="table"><thead><tr><th><p>Document</p></th><th><p>Modified</p></th>
<th><p>Method</p></th><th><p>Run Time (s)</p></th><th><p>Status</p></th></tr></thead><tbody>
<tr><td><p><a href="a.html"><span class="doc">book/a</span></a></p></td><td><p>2026-12-02 15:34</p></td>
<td><p>force</p></td><td><p>3.47</p></td><td><p>✅</p></td></tr>
<tr><td><p><a href="b.html"><span class="doc">book/b</span></a></p></td><td><p>2026-12-02 15:34</p></td>
<td><p>force</p></td><td><p>61.2</p></td><td><p><abbr title="boom">❌</abbr></p></td></tr>
<tr><td><p><a href="c.html"><span class="doc">book/c</span></a></p></td><td><p></p></td>
<td><p>cache</p></td><td><p>-</p></td><td><p>✅</p></td></tr>
</tbody></table></body></html>"""


def test_exec_report_reads_the_published_table(tmp_path):
    """tools/exec_report.py reads MyST-NB's {nb-exec-table} as the site shows it and lists the slowest first."""
    page = tmp_path / "html" / exec_report.REPORT_PAGE
    page.parent.mkdir(parents=True)
    page.write_text(EXEC_TABLE, encoding="utf-8")
    runs, source = exec_report.notebook_runs(tmp_path)
    assert source == page
    assert [(r.docname, r.seconds, r.succeeded) for r in runs] == [
        ("book/a", 3.47, True), ("book/b", 61.2, False), ("book/c", None, True)
    ]
    lines = exec_report.format_report(runs, source).splitlines()
    assert "book/b" in lines[1] and "FAILED" in lines[1] and "book/a" in lines[2]
    assert "not executed in this build: book/c" in lines[3]
    assert exec_report.main([str(tmp_path)]) == 1  # a failed notebook fails the report


NODE_MODULES = Path(__file__).resolve().parents[1] / ".cache" / "offline" / "node_modules"
MATHJAX_PAGE = page(
    "Good page",
    '<section id="good-page"><h1>Good page</h1><p>Math: <span class="math notranslate nohighlight">\\(x^2\\)</span>'
    ' and <span class="math notranslate nohighlight">\\(\\mathcal{D}^{\\mathrm{tr}}_i\\)</span>.</p></section>',
    launch=f'<li><a href="{BINDER.format(nb="good")}">Binder</a></li>'
    f'<li><a href="{COLAB.format(nb="good")}">Colab</a></li>',
).replace("</head>", '<script defer="defer" src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js">'
          "</script></head>")


def test_on_the_offline_copy_every_equation_must_be_typeset(site, tmp_path):
    if not (NODE_MODULES / "mathjax").is_dir():
        pytest.skip(f"MathJax is not installed in {NODE_MODULES} (make browser-env installs it when npm is there)")
    _, repo = site
    html = tmp_path / "html"
    shutil.copytree(repo / "_build" / "html", html)
    (html / "book" / "good.html").write_text(MATHJAX_PAGE, encoding="utf-8")
    (html / "index.html").write_text(page("Intro", "<h1>Intro</h1>"), encoding="utf-8")
    (good,) = [p for p in site_check.toc_pages(repo) if p.docname == "book/good"]
    with site_check.Site(html, repo, typeset=True) as online:  # the CDN is unreachable: nothing is typeset
        assert any("2 of 2 math elements not typeset by MathJax" in p for p in online.check(good).problems)
    offline = site_check.offline_copy(html, tmp_path / "out", NODE_MODULES)
    with site_check.Site(offline, repo, typeset=True) as local:
        assert local.check(good).problems == []
