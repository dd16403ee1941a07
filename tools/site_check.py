"""Browser test of the built book: open every page of the table of contents in headless Chromium, as a reader would.

Usage: python tools/site_check.py [--html _build/html] [--out _build/site-check] [--pages DOCNAME ...]

For every page in ``_toc.yml`` it checks that the page
- loads, with its title (one H1, and a <title> that starts with it), and every file it requests exists;
- has no broken internal link, anchor (``#id`` must exist on the target page) or image (``naturalWidth > 0``);
- shows math markup where its source has math, and no raw TeX outside it;
- has Colab and Binder launch buttons pointing at its own notebook (notebook pages);
- has no traceback, warning text, stray object repr (``<torch._C.Generator at 0x...>``) or stderr block in any
  cell output;
and it measures the code cells cut off at the right edge at a 1280-px-wide window (a check once
``CUT_OFF_CELLS_ALLOWED`` is set). It saves full-page screenshots of a few pages under ``--out``, prints a table
per page and every problem (page: problem), then the slowest notebooks of the build (tools/exec_report.py),
and exits 1 if any page has a problem.

The site is served by a local http.server (not file://, so links resolve as on a web server). Every host but
that server is unresolvable in the browser, so the check is the same offline and online and never waits on the
network: MathJax, require.js and the Jupyter widget manager come from CDNs and do not load. Math is therefore
checked as the raw markup MathJax would typeset (``\\(..\\)``, ``\\[..\\]`` in ``.math`` elements), not as
rendered formulas.

Needs Chromium and chromedriver (Debian: ``apt-get install -y chromium chromium-driver``; ``make browser-env``)
and selenium; the environment variables CHROMIUM and CHROMEDRIVER override their paths.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import exec_report  # noqa: E402  (tools/exec_report.py, beside this file)
import offline_site  # noqa: E402  (tools/offline_site.py, beside this file)

REPO = Path(__file__).resolve().parents[1]
WINDOW_WIDTH = 1280  # px: a laptop browser window; cut-off cells and screenshots are measured at this width
WINDOW_HEIGHT = 900
# Code cells (input or output <pre>) wider than their column at WINDOW_WIDTH, allowed per page before the check
# fails (None: measured and reported only). 0 since _static/book.css wraps long lines in cells and outputs.
CUT_OFF_CELLS_ALLOWED: int | None = 0
# Full-page screenshots taken: the root page, the first chapter and the first exercise set of the TOC.
SCREENSHOT_MAX_HEIGHT = 16000  # px: longer pages are cut at this height (a chapter is ~24000 px: ~3 MB of PNG)
PAGE_LOAD_TIMEOUT = 30  # s, for loading a page
SCRIPT_TIMEOUT = 10  # s, for its images and the state script

GENERATED_PAGES = {"genindex", "search", "py-modindex"}  # TOC entries Sphinx writes itself (no source file)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL_HINT = "run `make browser-env` (Debian/Ubuntu: apt-get install -y chromium chromium-driver)"

# What must not appear in a cell output.
WARNING_RE = re.compile(r"\b\w*Warning\b")
OBJECT_REPR_RE = re.compile(r"<[\w.]+ (object )?at 0x[0-9a-f]+>")
FIGURE_REPR_RE = re.compile(r"<Figure size \d+x\d+ with \d+ Axes>")  # the text twin of a figure: a stray repr too
TRACEBACK_RE = re.compile(r"Traceback \(most recent call last\)|^\w+Error: ", re.M)
# Math in a source: $..$ / $$..$$ (dollarmath), \(..\), \[..\], \begin{..} (amsmath), {math} roles/directives.
SOURCE_MATH_RE = re.compile(r"\$\$|(?<![\\$])\$[^$\s][^$\n]*\$|\\\(|\\\[|\\begin\{|\{math\}")
# TeX shown to the reader as text (outside math markup and code; e.g. `$K$` in a Markdown table printed by a cell,
# which the gfm renderer does not turn into math): $$, $..$ delimited as dollarmath does, \( or \[.
RAW_TEX_RE = re.compile(r"\$\$|(?<![\\$\w])\$(?=[^\s$])[^$\n]{1,80}?(?<=[^\s$])\$(?![\d$])|\\\(|\\\[")


@dataclass
class Page:
    docname: str  # as in _toc.yml, without extension: book/ch01_introduction/ch01_learning_with_little_data
    source: Path | None  # the .md/.ipynb it is built from

    @property
    def html(self) -> str:
        return f"{self.docname}.html"

    @property
    def is_notebook(self) -> bool:
        return self.source is not None and self.source.suffix == ".ipynb"


@dataclass
class PageReport:
    page: str
    title: str = ""
    links: int = 0  # internal links checked (distinct targets)
    external_links: int = 0  # not followed (offline)
    images: int = 0
    outputs: int = 0  # cell output blocks
    cells_cut: int = 0  # input/output <pre> wider than the column
    cells_measured: int = 0
    cut_by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # input/output: (cut, measured)
    cut_cells: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # reported, not failures
    seconds: float = 0.0


def toc_pages(repo: Path = REPO) -> list[Page]:
    """Every page of the table of contents, in reading order."""
    toc = yaml.safe_load((repo / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    pages = []
    for name in files:
        docname = re.sub(r"\.(md|ipynb)$", "", name)
        candidates = [repo / f"{docname}{ext}" for ext in (".ipynb", ".md")]
        source = next((c for c in candidates if c.is_file()), None)
        pages.append(Page(docname, source))
    return pages


def source_has_math(source: Path | None) -> bool:
    """Whether the page's prose has math (markdown cells / Markdown text, code blocks left out)."""
    if source is None:
        return False
    if source.suffix == ".ipynb":
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = source.read_text(encoding="utf-8")
    text = re.sub(r"^(```|~~~)(?!\{math\}).*?^\1", "", text, flags=re.M | re.S)  # fenced code, not {math} blocks
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code
    return bool(SOURCE_MATH_RE.search(text))


def launch_targets(repo: Path = REPO) -> dict[str, str]:
    """The launch services configured in _config.yml, and the GitHub org/repo they launch from."""
    config = yaml.safe_load((repo / "_config.yml").read_text(encoding="utf-8"))
    buttons = config.get("launch_buttons") or {}
    url = ((config.get("repository") or {}).get("url") or "").rstrip("/")
    targets = {name: buttons[key].rstrip("/") for name, key in (("Colab", "colab_url"), ("Binder", "binderhub_url"))
               if buttons.get(key)}
    targets["repo"] = url.split("github.com/")[-1] if "github.com/" in url else ""
    return targets


# ---------------------------------------------------------------------------------------------- serving the site


class _Handler(SimpleHTTPRequestHandler):
    """Serves the built site quietly and records every request's status (a missing CSS/JS/image is a 404)."""

    requests: list[tuple[str, int]]  # set per server

    def log_request(self, code="-", size="-"):
        try:
            self.requests.append((unquote(urlsplit(self.path).path), int(code)))
        except ValueError:
            pass

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


class _QuietServer(ThreadingHTTPServer):
    """A browser that moves on to the next page drops the connections it no longer needs: not an error."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipeError, ConnectionResetError
            super().handle_error(request, client_address)


@contextmanager
def serve(html_dir: Path):
    """A local http.server on a free port over html_dir, in a thread. Yields (base URL, request log)."""
    log: list[tuple[str, int]] = []
    handler = type("Handler", (_Handler,), {"requests": log})
    server = _QuietServer(("127.0.0.1", 0), partial(handler, directory=str(html_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", log
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------------------------ browser


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    for path, what in ((CHROMIUM, "Chromium"), (CHROMEDRIVER, "chromedriver")):
        if not os.access(path, os.X_OK):
            return f"{what} not found at {path}: {INSTALL_HINT}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: run `make env`"
    return None


def start_browser():
    """Headless Chromium at WINDOW_WIDTH px, with every host but 127.0.0.1 unresolvable."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW_WIDTH},{WINDOW_HEIGHT}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        # No network: CDN scripts (MathJax, require.js, widgets) fail at once instead of timing out.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
    driver.set_script_timeout(SCRIPT_TIMEOUT)
    return driver


# What the page looks like, read in one script once it has loaded (images awaited).
_PAGE_STATE_JS = r"""
const done = arguments[arguments.length - 1];
const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
const text = el => (el ? el.textContent : '').replace(/[#¶]\s*$/, '').replace(/\s+/g, ' ').trim();
// a heading's text without its section number ("1. ") and permalink: what <title> starts with
const bare = h => {
  const c = h.cloneNode(true);
  c.querySelectorAll('.section-number, .headerlink').forEach(e => e.remove());
  return text(c);
};
const images = Array.from(document.images);
// MathJax, when it loaded (the offline copy vendors it; from a CDN it fails at once here), typesets after load
const typeset = (window.MathJax && MathJax.startup && MathJax.startup.promise) || null;
Promise.all(images.map(img => img.complete ? null : new Promise(r => { img.onload = img.onerror = r; }))
            .concat([typeset]))
  .then(() => {
    const cells = Array.from(document.querySelectorAll('div.cell'));
    const pres = sel => Array.from(document.querySelectorAll(sel));
    const measure = (pre, kind) => {
      const cell = pre.closest('div.cell');
      return {kind, cell: cells.indexOf(cell) + 1, scroll: pre.scrollWidth, client: pre.clientWidth};
    };
    // raw TeX shown as text: text nodes of the article (prose and rendered outputs) outside math and code
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    const prose = {};  // 0: the page's own text; n: the rendered output of cell n
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (el.closest('.math, pre, code, script, style, mjx-container, .MathJax')) continue;
      const key = el.closest('div.cell_output') ? cells.indexOf(el.closest('div.cell')) + 1 : 0;
      prose[key] = (prose[key] || '') + n.textContent;
    }
    done({
      title: document.title,
      h1: Array.from(article.querySelectorAll('h1')).map(text),
      h1bare: Array.from(article.querySelectorAll('h1')).map(bare),
      innerWidth: window.innerWidth,
      links: Array.from(document.querySelectorAll('a[href]')).map(a => ({href: a.href, text: text(a).slice(0, 60)})),
      images: images.map(img => ({src: img.currentSrc || img.src, w: img.naturalWidth, alt: img.alt})),
      math: Array.from(document.querySelectorAll('.math')).map(m => m.textContent.slice(0, 200)),
      mathjax: document.querySelectorAll('mjx-container, .MathJax').length,
      untypeset: Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector('mjx-container'))
                   .map(m => m.textContent.slice(0, 80)),
      prose,
      launch: Array.from(document.querySelectorAll('.dropdown-launch-buttons a[href]')).map(a => a.href),
      outputs: Array.from(document.querySelectorAll('div.cell_output > *')).map(o => ({
        cell: cells.indexOf(o.closest('div.cell')) + 1,
        cls: o.className, text: o.textContent})),
      inputs: cells.map(c => { const p = c.querySelector('.cell_input pre'); return p ? p.textContent : ''; }),
      pres: pres('div.cell_input pre').map(p => measure(p, 'input'))
            .concat(pres('div.cell_output pre').map(p => measure(p, 'output')))
            .concat(Array.from(article.querySelectorAll('pre')).filter(p => !p.closest('div.cell'))
                    .map((p, i) => ({kind: 'block', cell: i + 1, scroll: p.scrollWidth, client: p.clientWidth}))),
    });
  })
  .catch(e => done({error: String(e && e.stack || e)}));
"""


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value or "")


class Site:
    """The built site served locally and one headless browser over it."""

    def __init__(self, html_dir: Path, repo: Path = REPO, typeset: bool = False) -> None:
        self.html_dir = Path(html_dir)
        self.repo = repo
        self.typeset = typeset  # every math element must be typeset (MathJax vendored: tools/offline_site.py)
        self.launch = launch_targets(repo)
        self._targets: dict[str, tuple[int, set[str] | None]] = {}  # url -> (status, ids of an HTML page)

    def __enter__(self) -> Site:
        self._serving = serve(self.html_dir)
        self.base, self.requests = self._serving.__enter__()
        try:
            self.driver = start_browser()
        except BaseException:
            self._serving.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.driver.quit()
        finally:
            self._serving.__exit__(*exc)

    def _target(self, url: str) -> tuple[int, set[str] | None]:
        """HTTP status of an internal URL and, for an HTML page, the ids it defines."""
        if url not in self._targets:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    status = response.status
                    body = response.read() if "html" in response.headers.get("Content-Type", "") else None
            except urllib.error.HTTPError as exc:
                status, body = exc.code, None
            ids = None
            if body is not None:
                parser = _Ids()
                parser.feed(body.decode("utf-8", "replace"))
                ids = parser.ids
            self._targets[url] = (status, ids)
        return self._targets[url]

    def check(self, page: Page, screenshot: Path | None = None) -> PageReport:
        """Open one page and check it; save a full-page screenshot to `screenshot` if given."""
        began = time.perf_counter()
        report = PageReport(page.docname)
        problems = report.problems
        url = self.base + page.html
        if not (self.html_dir / page.html).is_file():
            problems.append(f"not built: {page.html} is missing from {self.html_dir}")
            return report
        del self.requests[:]
        self.driver.get_log("browser")  # drop the previous page's console
        try:
            self.driver.get(url)
            state = self.driver.execute_async_script(_PAGE_STATE_JS)
            if "error" in state:
                raise RuntimeError(f"the page check script failed: {state['error']}")
        except Exception as exc:  # selenium's TimeoutException, WebDriverException
            problems.append(f"did not load: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            return report

        self._check_title(page, state, report)
        self._check_requests(report)
        self._check_links(url, state, report)
        self._check_images(state, report)
        self._check_math(page, state, report)
        if page.is_notebook:
            self._check_launch(page, state, report)
        if page.html == exec_report.REPORT_PAGE.as_posix():
            self._check_exec_report(page, report)
        self._check_outputs(state, report)
        self._measure_cut_off(state, report)
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            if entry.get("level") == "SEVERE" and not any(s in message for s in ("ERR_NAME_NOT_RESOLVED", "favicon")):
                source, _, text = message.partition(" ")  # "URL line:column text"
                source = "the page" if source == url else source.removeprefix(self.base[:-1])
                report.notes.append(f"console ({source}): {text[:160]}")
        if screenshot is not None:
            self.screenshot(screenshot)
        report.seconds = time.perf_counter() - began
        return report

    # -- the checks, one per aspect; each appends "what is wrong" sentences to report.problems

    def _check_title(self, page: Page, state: dict, report: PageReport) -> None:
        h1 = state["h1"]
        report.title = h1[0] if h1 else ""
        if not h1 or not h1[0]:
            report.problems.append("no H1 title")
        elif len(h1) > 1:
            report.problems.append(f"{len(h1)} H1 headings (one expected): {' | '.join(h1)}")
        if not state["title"].strip():
            report.problems.append("empty <title>")
        elif h1 and h1[0] and not state["title"].startswith((h1[0], state["h1bare"][0])):  # numbered or not
            report.problems.append(f"<title> {state['title']!r} does not start with the H1 {h1[0]!r}")
        if state["innerWidth"] != WINDOW_WIDTH:
            report.notes.append(f"window is {state['innerWidth']} px wide, not {WINDOW_WIDTH}")

    def _check_requests(self, report: PageReport) -> None:
        for path, status in sorted(set(self.requests)):
            if status >= 400 and not path.endswith("/favicon.ico"):
                report.problems.append(f"the page requested {path}: HTTP {status}")

    def _check_links(self, url: str, state: dict, report: PageReport) -> None:
        seen = set()
        for link in state["links"]:
            href = link["href"]
            if href in seen:
                continue
            seen.add(href)
            if not href.startswith(self.base):
                if href.startswith(("http:", "https:")):
                    report.external_links += 1
                continue
            report.links += 1
            target, fragment = urldefrag(href)
            status, ids = self._target(target)
            shown = href[len(self.base) - 1:]
            if status != 200:
                report.problems.append(f"broken link {shown!r} ({link['text']!r}): HTTP {status}")
            elif fragment and ids is not None and unquote(fragment) not in ids:
                report.problems.append(f"broken anchor {shown!r} ({link['text']!r}): no id {unquote(fragment)!r}")

    def _check_images(self, state: dict, report: PageReport) -> None:
        report.images = len(state["images"])
        for img in state["images"]:
            if img["w"] == 0:
                report.problems.append(f"image not shown (naturalWidth 0): {img['src'][len(self.base) - 1:]}")

    def _check_math(self, page: Page, state: dict, report: PageReport) -> None:
        raw = [m for m in state["math"] if re.search(r"\\\(|\\\[|\$\$|\\begin", m)]
        if source_has_math(page.source) and not raw and not state["mathjax"]:
            report.problems.append("the source has math but the page has no math markup (.math with \\( or \\[)")
        if self.typeset and state["untypeset"]:
            n, total = len(state["untypeset"]), len(state["math"])
            example = state["untypeset"][0]
            report.problems.append(f"{n} of {total} math elements not typeset by MathJax, e.g. {example!r}")
        for key, text in sorted(state["prose"].items(), key=lambda item: int(item[0])):
            where = f"cell {key} output" if int(key) else "text"
            for match in RAW_TEX_RE.finditer(text):
                context = " ".join(text[max(0, match.start() - 40):match.end() + 40].split())
                report.problems.append(f"raw TeX in the {where} (not math markup): {match.group(0)!r} in {context!r}")

    def _check_launch(self, page: Page, state: dict, report: PageReport) -> None:
        path = page.source.relative_to(self.repo).as_posix()
        repo = self.launch.get("repo", "")
        for service in ("Colab", "Binder"):
            prefix = self.launch.get(service)
            if not prefix:
                continue
            hrefs = sorted({unquote(href) for href in state["launch"] if href.startswith(prefix)})
            if not hrefs:
                report.problems.append(f"no {service} launch button (a link to {prefix} in the rocket menu)")
                continue
            for href in hrefs:
                if not href.endswith(path):
                    report.problems.append(f"{service} button does not open this page's notebook {path}: {href}")
                if repo and f"/{repo}/" not in href:
                    report.problems.append(f"{service} button does not launch from the repository {repo}: {href}")

    def _check_exec_report(self, page: Page, report: PageReport) -> None:
        try:
            runs = exec_report.from_report_page(self.html_dir / page.html)
        except ValueError as exc:
            report.problems.append(str(exc))
            return
        if not runs:
            report.problems.append("the execution report lists no executed notebook")
        for run in runs:
            if not run.succeeded:
                report.problems.append(f"the execution report says {run.docname} failed")

    def _check_outputs(self, state: dict, report: PageReport) -> None:
        inputs = state["inputs"]
        seen: set[tuple[int, str]] = set()
        report.outputs = len(state["outputs"])
        for out in state["outputs"]:
            cell, text, cls = out["cell"], out["text"], out["cls"]
            source = inputs[cell - 1].strip() if 0 < cell <= len(inputs) else ""
            first = source.splitlines()[0][:50] if source else ""
            where = f"cell {cell} ({first!r})"

            def problem(what: str, where=where, cell=cell) -> None:
                if (cell, what) not in seen:
                    seen.add((cell, what))
                    report.problems.append(f"{where}: {what}")

            if "traceback" in cls.split() or TRACEBACK_RE.search(text):
                problem("traceback in the output")
            if "stderr" in cls.split():
                problem(f"stderr output: {' '.join(text.split())[:100]!r}")
            for line in text.splitlines():
                if WARNING_RE.search(line):
                    problem(f"warning in the output: {line.strip()[:120]!r}")
            for regex in (OBJECT_REPR_RE, FIGURE_REPR_RE):
                for match in regex.finditer(text):
                    problem(f"stray object repr in the output: {match.group(0)!r}")

    def _measure_cut_off(self, state: dict, report: PageReport) -> None:
        report.cells_measured = len(state["pres"])
        cut = [p for p in state["pres"] if p["scroll"] > p["client"] + 1]
        report.cells_cut = len(cut)
        for kind in ("input", "output", "block"):  # a cell's input, its output, a code block of the text
            of_kind = [p for p in state["pres"] if p["kind"] == kind]
            report.cut_by_kind[kind] = (sum(1 for p in of_kind if p in cut), len(of_kind))
        report.cut_cells = [
            (f"code block {p['cell']} of the text" if p["kind"] == "block" else f"cell {p['cell']} {p['kind']}")
            + f" ({p['scroll']} px in {p['client']} px)" for p in cut
        ]
        if CUT_OFF_CELLS_ALLOWED is not None and len(cut) > CUT_OFF_CELLS_ALLOWED:
            report.problems.append(
                f"{len(cut)} code cells cut off at the right edge at {WINDOW_WIDTH} px (allowed "
                f"{CUT_OFF_CELLS_ALLOWED}): {'; '.join(report.cut_cells)}"
            )

    def screenshot(self, path: Path) -> None:
        """A full-page PNG of the current page, WINDOW_WIDTH px wide (at most SCREENSHOT_MAX_HEIGHT tall): the
        page laid out in a window as tall as itself (Chromium's captureBeyondViewport squeezes the sidebar)."""
        height = min(self.driver.execute_script("return document.documentElement.scrollHeight"), SCREENSHOT_MAX_HEIGHT)
        metrics = {"width": WINDOW_WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        try:
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def screenshot_pages(pages: list[Page]) -> list[Page]:
    """The pages photographed: the root page, the first chapter and the first exercise set."""
    chosen = [pages[0]] if pages else []
    for prefix in ("book/", "exercises/"):
        chosen += [p for p in pages[1:] if p.docname.startswith(prefix) and p.is_notebook][:1]
    return chosen


def screenshot_name(page: Page) -> str:
    return page.docname.replace("/", "__") + ".png"


# ------------------------------------------------------------------------------------------------------ report


def format_table(reports: list[PageReport]) -> str:
    rows = [("page", "title", "links", "ext", "images", "outputs", "cut in", "cut out", "cut text", "problems", "s")]
    for r in reports:
        cut = ["{}/{}".format(*r.cut_by_kind.get(kind, (0, 0))) for kind in ("input", "output", "block")]
        rows.append((r.page, r.title[:40], str(r.links), str(r.external_links), str(r.images), str(r.outputs),
                     *cut, str(len(r.problems)), f"{r.seconds:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(cells)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def offline_copy(html_dir: Path, out_dir: Path, node_modules: Path) -> Path:
    """A copy of the site that loads MathJax, require.js and the widget manager locally (tools/offline_site.py)."""
    copy = out_dir / "html-offline"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(html_dir, copy)
    remote = offline_site.make_offline(copy, node_modules)
    if remote:
        raise SystemExit("the offline copy still loads scripts from the network:\n  " + "\n  ".join(remote))
    return copy


def run(html_dir: Path, out_dir: Path, only: list[str] | None = None, repo: Path = REPO,
        typeset: bool = False) -> list[PageReport]:
    pages = toc_pages(repo)
    if only:
        pages = [p for p in pages if p.docname in only]
    shots = {p.docname for p in screenshot_pages(toc_pages(repo))}
    reports = []
    with Site(html_dir, repo, typeset=typeset) as site:
        for page in pages:
            shot = out_dir / screenshot_name(page) if page.docname in shots else None
            reports.append(site.check(page, shot))
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=Path, default=REPO / "_build" / "html", help="the built site")
    parser.add_argument("--out", type=Path, help="where screenshots go (default: site-check/ beside --html)")
    parser.add_argument("--repo", type=Path, help="the checkout the site was built from (default: the one holding "
                        "--html's _build, else this one)")
    parser.add_argument("--pages", nargs="*", help="only these TOC docnames")
    parser.add_argument("--no-exec-report", action="store_true", help="do not print the slowest notebooks")
    parser.add_argument("--offline-from", type=Path, metavar="NODE_MODULES",
                        help="check a copy of the site made readable offline with the MathJax, require.js and "
                        "widget manager installed here (make book-offline's .cache/offline/node_modules): then "
                        "every equation must be typeset, and the screenshots show the math as a reader sees it")
    args = parser.parse_args(argv)
    out = args.out or args.html.parent / "site-check"
    repo = args.repo or (args.html.parent.parent if (args.html.parent.parent / "_toc.yml").is_file() else REPO)
    if not args.html.is_dir():
        print(f"no built site at {args.html}: build it first (make book)", file=sys.stderr)
        return 1
    missing = browser_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 1
    began = time.perf_counter()
    checked = args.html
    if args.offline_from:
        checked = offline_copy(args.html, out, args.offline_from)
        print(f"checking {checked}: {args.html} with MathJax and the widget manager from {args.offline_from}")
    reports = run(checked, out, args.pages, repo, typeset=bool(args.offline_from))
    print(format_table(reports))
    problems = [(r.page, p) for r in reports for p in r.problems]
    print(f"\n{len(problems)} problems on {sum(1 for r in reports if r.problems)} of {len(reports)} pages")
    for page, problem in problems:
        print(f"  {page}: {problem}")
    cut = [(r.page, c) for r in reports for c in r.cut_cells]
    state = "measured, not checked" if CUT_OFF_CELLS_ALLOWED is None else f"allowed per page: {CUT_OFF_CELLS_ALLOWED}"
    print(f"\ncode cells cut off at the right edge at {WINDOW_WIDTH} px ({state}): "
          f"{len(cut)} of {sum(r.cells_measured for r in reports)} measured <pre> blocks")
    for r in reports:
        if r.cells_cut:
            counts = ", ".join(f"{c} of {n} {kind}s" for kind, (c, n) in r.cut_by_kind.items())
            print(f"  {r.page}: {counts}: {'; '.join(r.cut_cells)}")
    notes: dict[str, list[str]] = {}  # the same note on many pages is printed once
    for r in reports:
        for note in r.notes:
            notes.setdefault(note, []).append(r.page)
    if notes:
        print("\nnotes (not failures):")
        for note, pages in notes.items():
            where = pages[0] if len(pages) == 1 else f"{len(pages)} pages"
            print(f"  {where}: {note}")
    shots = sorted(out.glob("*.png")) if out.is_dir() else []
    print(f"\nscreenshots ({WINDOW_WIDTH} px wide): " + ", ".join(str(s) for s in shots))
    print(f"browser test: {len(reports)} pages in {time.perf_counter() - began:.1f} s")
    if not args.no_exec_report:
        try:
            runs, source = exec_report.notebook_runs(args.html.parent)
            print("\n" + exec_report.format_report(runs, source))
        except (OSError, ValueError) as exc:
            print(f"\nno execution report: {exc}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
