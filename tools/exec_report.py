"""Print how long each notebook took to execute in the last book build, slowest first.

Usage: python tools/exec_report.py [BUILD_DIR] [--top N]     (BUILD_DIR defaults to _build)

The times come from the published execution report, ``book/execution_report`` (MyST-NB's ``{nb-exec-table}``,
so CI output and the site show the same numbers). When that page is not in the build, they are read from the
Sphinx environment MyST-NB stores them in (``.doctrees/environment.pickle``; that needs Sphinx installed).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

REPORT_PAGE = Path("book") / "execution_report.html"  # the page `book/execution_report.md` builds into
RUNTIME_HEADER = "Run Time (s)"


@dataclass
class NotebookRun:
    docname: str
    seconds: float | None  # None: not executed in this build (taken from a cache or not run)
    method: str
    succeeded: bool


class _TableParser(HTMLParser):
    """Rows of every <table> in a page, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def from_report_page(page: Path) -> list[NotebookRun]:
    """The runs listed in the built execution report page (the {nb-exec-table} table)."""
    parser = _TableParser()
    parser.feed(page.read_text(encoding="utf-8"))
    for rows in parser.tables:
        if rows and RUNTIME_HEADER in rows[0]:
            header = rows[0]
            col = {name: header.index(name) for name in header}
            runs = []
            for row in rows[1:]:
                runtime = row[col[RUNTIME_HEADER]]
                runs.append(
                    NotebookRun(
                        docname=row[col["Document"]],
                        seconds=None if runtime in ("", "-") else float(runtime),
                        method=row[col["Method"]],
                        succeeded="✅" in row[col["Status"]],
                    )
                )
            return runs
    raise ValueError(f"{page} has no execution table (a table with a {RUNTIME_HEADER!r} column)")


def from_environment(doctrees: Path) -> list[NotebookRun]:
    """The runs MyST-NB recorded in the Sphinx environment of the build."""
    with open(doctrees / "environment.pickle", "rb") as f:
        env = pickle.load(f)
    runs = []
    for docname, data in sorted(getattr(env, "nb_metadata", {}).items()):
        exec_data = data.get("exec_data")
        if exec_data:
            method = exec_data.get("method", "")
            runs.append(NotebookRun(docname, exec_data.get("runtime"), method, bool(exec_data["succeeded"])))
    return runs


def notebook_runs(build: Path) -> tuple[list[NotebookRun], Path]:
    """The runs of the build under `build` (the folder holding html/), and the file they were read from."""
    page = build / "html" / REPORT_PAGE
    if page.is_file():
        return from_report_page(page), page
    doctrees = build / ".doctrees"
    return from_environment(doctrees), doctrees / "environment.pickle"


def format_report(runs: list[NotebookRun], source: Path, top: int = 10) -> str:
    timed = sorted((r for r in runs if r.seconds is not None), key=lambda r: -r.seconds)
    lines = [f"slowest notebooks of this build (from {source}):"]
    for run in timed[:top]:
        status = "ok" if run.succeeded else "FAILED"
        lines.append(f"  {run.seconds:8.1f} s  {status:<6}  {run.docname}")
    untimed = [r.docname for r in runs if r.seconds is None]
    if untimed:
        lines.append(f"  not executed in this build: {', '.join(untimed)}")
    total = sum(r.seconds for r in timed)
    lines.append(f"  {total:8.1f} s  total over {len(timed)} executed notebooks")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build", nargs="?", default="_build", type=Path, help="the build folder (holding html/)")
    parser.add_argument("--top", type=int, default=10, help="how many notebooks to list")
    args = parser.parse_args(argv)
    try:
        runs, source = notebook_runs(args.build)
    except (OSError, ValueError) as exc:
        print(f"no execution report: {exc}", file=sys.stderr)
        return 1
    print(format_report(runs, source, args.top))
    return 0 if all(r.succeeded for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
