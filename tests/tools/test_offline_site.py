"""tools/offline_site.py: a built site rewritten to load MathJax, require.js and the widget manager locally."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("offline_site", REPO / "tools" / "offline_site.py")
offline_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(offline_site)

# The script tags a Jupyter Book 1 page carries (as in _build/html of `make book`).
HEAD = """<script src="_static/documentation_options.js"></script>
<script crossorigin="anonymous" integrity="sha256-Ae2Vz/4ePdIu6ZyI/5ZGsYnb+m0JlOmKPjt6XZ9JJkA=" \
src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js"></script>
<script src="https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@^1.0.1/dist/embed-amd.js"></script>
<script async="async" src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>
"""


def fake_node_modules(root: Path) -> Path:
    modules = root / "node_modules"
    for folder, file in [("mathjax/es5", "tex-mml-chtml.js"), ("requirejs", "require.js"),
                         ("@jupyter-widgets/html-manager/dist", "embed-amd.js")]:
        (modules / folder).mkdir(parents=True)
        (modules / folder / file).write_text(f"// {file}\n")
    return modules


def fake_site(root: Path) -> Path:
    site = root / "html"
    (site / "book" / "ch01").mkdir(parents=True)
    (site / "index.html").write_text(HEAD)
    (site / "book" / "ch01" / "page.html").write_text(HEAD)
    return site


def test_every_cdn_script_points_at_the_vendored_copy_relative_to_the_page(tmp_path):
    site = fake_site(tmp_path)
    assert offline_site.make_offline(site, fake_node_modules(tmp_path)) == []
    page = (site / "book" / "ch01" / "page.html").read_text()
    assert 'src="../../_static/vendor/mathjax/es5/tex-mml-chtml.js"' in page
    assert 'src="../../_static/vendor/requirejs/require.js"' in page
    assert 'src="../../_static/vendor/@jupyter-widgets/html-manager/dist/embed-amd.js"' in page
    assert 'src="_static/vendor/mathjax/es5/tex-mml-chtml.js"' in (site / "index.html").read_text()
    for referenced in ["mathjax/es5/tex-mml-chtml.js", "requirejs/require.js",
                       "@jupyter-widgets/html-manager/dist/embed-amd.js"]:
        assert (site / "_static" / "vendor" / referenced).is_file()
    assert "https://" not in page
    assert "integrity=" not in page  # the CDN's hash would make the browser refuse the local copy
    # the widget manager loads its fonts relative to its AMD address: require.js resolves it in the vendor folder
    assert page.index('require.config({baseUrl: "../../_static/vendor/"})') < page.index("embed-amd.js")


def test_tags_that_load_nothing_from_a_cdn_keep_their_attributes(tmp_path):
    tag = '<script integrity="sha256-x" src="_static/local.js"></script>'
    assert offline_site.rewrite_page(tag, "_static/vendor/") == tag


def test_an_unknown_remote_script_is_reported_with_its_page(tmp_path):
    site = fake_site(tmp_path)
    (site / "index.html").write_text(HEAD + '<script src="https://example.org/tracker.js"></script>')
    problems = offline_site.make_offline(site, fake_node_modules(tmp_path))
    assert problems == ['index.html: <script src="https://example.org/tracker.js"']


def test_running_twice_changes_nothing_more(tmp_path):
    site, modules = fake_site(tmp_path), fake_node_modules(tmp_path)
    offline_site.make_offline(site, modules)
    once = (site / "book" / "ch01" / "page.html").read_text()
    offline_site.make_offline(site, modules)
    assert (site / "book" / "ch01" / "page.html").read_text() == once


def test_missing_packages_or_site_say_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="make book"):
        offline_site.make_offline(tmp_path / "nothing", fake_node_modules(tmp_path))
    with pytest.raises(SystemExit, match="make book-offline"):
        offline_site.make_offline(fake_site(tmp_path), tmp_path / "empty")
