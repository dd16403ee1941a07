"""Make a built site readable with no network: math and widgets from local copies instead of CDNs.

A page built by Jupyter Book loads MathJax, require.js and the Jupyter widget manager from CDNs when it is
viewed. Offline, the math shows as raw LaTeX and the widgets stay blank. This script copies those three
packages (installed from the npm registry by `make book-offline`) into ``_build/html/_static/vendor/`` and
points every page at the copies.

    python tools/offline_site.py _build/html --node-modules .cache/offline/node_modules

It fails, naming the page, if a page still loads a script from the network afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

VENDOR = Path("_static") / "vendor"

# A script address on a CDN -> (npm package folder to copy, the file inside it that replaces the address).
# The whole folder is copied because MathJax and the widget manager load further files relative to
# themselves (fonts, output components, widget modules).
REPLACEMENTS = [
    (re.compile(r"https://cdn\.jsdelivr\.net/npm/mathjax@3[^\"']*/es5/([\w.-]+\.js)"), "mathjax/es5", r"\1"),
    (re.compile(r"https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[\d.]+/require(\.min)?\.js"),
     "requirejs", "require.js"),
    (re.compile(r"https://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/@jupyter-widgets/html-manager@[^/\"']*"
                r"/dist/([\w.-]+\.js)"), "@jupyter-widgets/html-manager/dist", r"\1"),
]

WIDGET_MANAGER = "@jupyter-widgets/html-manager/dist/"
REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"'](https?:)?//[^\"']+[\"']")


SCRIPT_TAG = re.compile(r"<script\b[^>]*>")
# A subresource-integrity hash names the CDN's exact bytes; the vendored copy differs, so the attribute goes.
INTEGRITY = re.compile(r"\s(integrity|crossorigin)=\"[^\"]*\"")


def rewrite_tag(tag: str, prefix: str) -> str:
    """One ``<script ...>`` tag with a known CDN address replaced by ``prefix`` + the vendored path."""
    new = tag
    for pattern, folder, file in REPLACEMENTS:
        new = pattern.sub(lambda m, f=folder, n=file: f"{prefix}{f}/{m.expand(n)}", new)
    if new == tag:
        return tag
    new = INTEGRITY.sub("", new)
    if WIDGET_MANAGER in new:
        # The manager finds its fonts and widget modules relative to its AMD module address, which require.js
        # resolves against baseUrl (the page's folder by default): point baseUrl at the vendored packages.
        new = f'<script>require.config({{baseUrl: "{prefix}"}});</script>' + new
    return new


def rewrite_page(html: str, prefix: str) -> str:
    """Every script tag of a page that loads a known CDN address, pointed at the vendored copy instead."""
    return SCRIPT_TAG.sub(lambda m: rewrite_tag(m.group(0), prefix), html)


def remote_scripts(html: str) -> list[str]:
    """The ``<script src=...>`` tags of a page that still point at the network."""
    return [m.group(0) for m in REMOTE_SCRIPT.finditer(html)]


def vendor(node_modules: Path, site: Path) -> None:
    """Copy the folders that the replacements point at from ``node_modules`` into the site."""
    for _, folder, _ in REPLACEMENTS:
        source = node_modules / folder
        if not source.is_dir():
            sys.exit(f"{source} is missing: run `make book-offline` (it installs it from the npm registry)")
        target = site / VENDOR / folder
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)


def make_offline(site: Path, node_modules: Path) -> list[str]:
    """Vendor the packages, rewrite every page; return the problems (pages still loading remote scripts)."""
    if not (site / "index.html").is_file():
        sys.exit(f"no built site at {site} (index.html missing): run `make book` first")
    vendor(node_modules, site)
    problems = []
    for page in sorted(site.rglob("*.html")):
        if VENDOR in page.relative_to(site).parents:
            continue
        prefix = os.path.relpath(site / VENDOR, page.parent).replace(os.sep, "/") + "/"
        html = page.read_text(encoding="utf-8")
        new = rewrite_page(html, prefix)
        if new != html:
            page.write_text(new, encoding="utf-8")
        problems += [f"{page.relative_to(site)}: {tag}" for tag in remote_scripts(new)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site, e.g. _build/html")
    parser.add_argument("--node-modules", type=Path, required=True,
                        help="where npm installed mathjax, requirejs and @jupyter-widgets/html-manager")
    args = parser.parse_args(argv)
    problems = make_offline(args.site, args.node_modules)
    for problem in problems:
        print("still loads from the network:", problem)
    if not problems:
        print(f"{args.site}: every page loads MathJax, require.js and the widget manager from {VENDOR}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
