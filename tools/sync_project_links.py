"""Write the repository and ref of ``mlbook/project.py`` wherever the book spells them; ``--check`` only reports.

    python tools/sync_project_links.py           # rewrite what is stale, regenerate the student notebooks it touched
    python tools/sync_project_links.py --check   # exit 1, naming each stale file, when anything is out of date

``mlbook/project.py`` is the single source. From it this writes, in every tracked text file that is not Python:

* ``_config.yml``: ``repository.url`` and ``repository.branch`` (the pages' Colab, Binder and GitHub buttons);
* every notebook's install cell (the first code cell): exactly ``mlbook.project.INSTALL_CELL``;
* every ``mlbook @ git+https://github.com/...`` requirement, Colab (``colab.research.google.com/github/...``) and
  Binder (``mybinder.org/v2/gh/...``) link, whatever repository and ref they spell now: those forms only ever
  point at this book;
* every other spelling of the repository (``github.com/<owner>/<name>/...``, ``<owner>/<name>``) of the current
  repository or of the one ``_config.yml`` names (the previous sync), links to files pinned to ``REF``.

Python code imports ``mlbook.project`` instead: a Python file (or any file of another type) other than
``mlbook/project.py`` that spells this repository is reported, never rewritten (a URL of another repository, e.g. a
test's example, is not this repository). The student notebooks (``exercises/<set>/<set>_exercises.ipynb``) are
generated from their sources by ``otter assign``, so they are not edited here: a set whose source or student
notebook is stale is regenerated with ``python -m mlbook.grading assign --set <set>``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILE = "mlbook/project.py"
#: Non-Python files these rules rewrite; any other tracked file that spells the repository is reported.
TEXT_SUFFIXES = {".md", ".ipynb", ".yml", ".yaml", ".txt", ".rst", ".cfg", ".toml", ".html"}

_SLUG = r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+"
_REF = r"[A-Za-z0-9_.-]+"
#: URL forms that only ever mean this book, whatever repository and ref they name.
PIP_FORM = re.compile(r"(mlbook(?:\[[A-Za-z0-9_,]+\])?) @ git\+https://github\.com/" + _SLUG + r"(?:@" + _REF + ")?")
COLAB_FORM = re.compile(r"https://colab\.research\.google\.com/github/" + _SLUG + "/blob/" + _REF + "/")
BINDER_FORM = re.compile(r"https://mybinder\.org/v2/gh/" + _SLUG + "/" + _REF + r"(?![A-Za-z0-9_.-])")


def load_project(root: Path = ROOT):
    """``mlbook/project.py`` as a module, without importing ``mlbook`` (and torch)."""
    spec = importlib.util.spec_from_file_location("_mlbook_project", root / PROJECT_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tracked_files(root: Path = ROOT) -> list[str]:
    """Tracked files and new files git does not ignore (relative POSIX paths) that exist."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    return sorted({path for path in listed if path and (root / path).is_file()})


def student_notebook_set(path: str, root: Path = ROOT) -> str | None:
    """The exercise set whose generated student notebook ``path`` is, else None."""
    match = re.fullmatch(r"exercises/([^/]+)/([^/]+)_exercises\.ipynb", path)
    if match and match[1] == match[2] and (root / f"exercises/{match[1]}/source/{match[1]}_exercises.ipynb").is_file():
        return match[1]
    return None


def source_notebook_set(path: str) -> str | None:
    match = re.fullmatch(r"exercises/([^/]+)/source/([^/]+)_exercises\.ipynb", path)
    return match[1] if match and match[1] == match[2] else None


def previous_repository(root: Path = ROOT) -> str | None:
    """The repository ``_config.yml`` names (what the last sync wrote), to find its spellings after a move."""
    config = root / "_config.yml"
    if not config.is_file():
        return None
    found = re.search(r"^\s+url:\s*https://github\.com/(" + _SLUG + r")\s*$", config.read_text(), re.MULTILINE)
    return found[1].removesuffix(".git") if found else None


def ours_pattern(repositories: list[str]) -> re.Pattern:
    """Spellings of these repositories (any case): a URL (GitHub, its raw files and archives, Colab, Binder) or
    the bare slug."""
    slugs = "|".join(re.escape(slug) for slug in sorted(set(repositories), key=len, reverse=True))
    hosts = "|".join(re.escape(host) for host in (
        "github.com", "raw.githubusercontent.com", "codeload.github.com", "colab.research.google.com/github",
        "mybinder.org/v2/gh",
    ))
    return re.compile(
        r"(?P<prefix>https://(?:" + hosts + r")/|(?<![A-Za-z0-9_./-]))"
        r"(?P<slug>" + slugs + r")(?:\.git)?(?![A-Za-z0-9_-])(?P<tail>/(?:blob|tree)/" + _REF + "/)?",
        re.IGNORECASE,
    )


def rewrite_text(text: str, project, ours: re.Pattern) -> str:
    """``text`` with every spelling of the repository and ref written from ``project``."""
    text = PIP_FORM.sub(lambda m: project.pip_requirement(m[1].removeprefix("mlbook").strip("[]")), text)
    text = COLAB_FORM.sub(lambda m: project.colab_url(""), text)
    text = BINDER_FORM.sub(f"https://mybinder.org/v2/gh/{project.REPOSITORY}/{project.REF}", text)

    def ours_sub(match: re.Match) -> str:
        prefix = match["prefix"]
        if prefix.startswith(("https://raw.", "https://codeload.")):
            return match[0]  # only Python spells these (and is reported for it)
        tail = f"/{match['tail'].split('/')[1]}/{project.REF}/" if match["tail"] else ""
        return f"{prefix}{project.REPOSITORY}{tail}"

    return ours.sub(ours_sub, text)


def rewrite_config(text: str, project) -> str:
    """``repository.url`` and ``repository.branch`` of ``_config.yml``."""
    lines, inside = text.split("\n"), False
    for index, line in enumerate(lines):
        if line and not line[0].isspace():
            inside = line.startswith("repository:")
        elif inside:
            line = re.sub(r"^(\s+url:\s*)\S+", lambda m: m[1] + project.GITHUB_URL, line)
            lines[index] = re.sub(r"^(\s+branch:\s*)\S+", lambda m: m[1] + project.REF, line)
    return "\n".join(lines)


def install_cell_index(notebook: dict) -> int | None:
    """The index of the install cell: the first code cell, when it installs mlbook on Colab."""
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            return index if "google.colab" in source and "%pip install" in source and "mlbook" in source else None
    return None


def rewrite_notebook(text: str, project, path: str) -> tuple[str, list[str]]:
    """The notebook's text with its install cell set to ``INSTALL_CELL`` (same JSON layout as nbformat's)."""
    notebook = json.loads(text)
    index = install_cell_index(notebook)
    if index is None and any(cell["cell_type"] == "code" for cell in notebook["cells"]):
        return text, [f"{path}: its first code cell is not the install cell (mlbook.project.INSTALL_CELL)"]
    wanted = project.INSTALL_CELL.splitlines(keepends=True)
    if index is None or notebook["cells"][index]["source"] == wanted:
        return text, []
    notebook["cells"][index]["source"] = wanted
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", []


@dataclass
class Plan:
    """What a sync would do: new texts by path, sets to regenerate, and problems no rewrite fixes."""

    changes: dict[str, str] = field(default_factory=dict)
    stale_sets: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def stale(self) -> list[str]:
        return [*sorted(self.changes), *(f"exercises/{name} (student notebook)" for name in sorted(self.stale_sets))]


def plan(root: Path = ROOT) -> Plan:
    project = load_project(root)
    ours = ours_pattern([project.REPOSITORY] + [r for r in [previous_repository(root)] if r])
    result = Plan()
    for path in tracked_files(root):
        if path == PROJECT_FILE:
            continue
        try:
            text = (root / path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        suffix = Path(path).suffix
        if suffix not in TEXT_SUFFIXES:  # Python and data: only this repository's spellings are wrong there
            spelled = [match[0] for match in ours.finditer(text)]
            if spelled:
                result.problems.append(
                    f"{path}: spells the repository ({spelled[0]}); import it from mlbook.project instead"
                )
            continue
        new = rewrite_text(text, project, ours)
        if path == "_config.yml":
            new = rewrite_config(new, project)
        student_set = student_notebook_set(path, root)
        if suffix == ".ipynb" and (path.startswith("book/") or source_notebook_set(path) or student_set):
            new, problems = rewrite_notebook(new, project, path)
            result.problems += problems
        if student_set:
            if new != text:
                result.stale_sets.add(student_set)
        elif new != text:
            result.changes[path] = new
            if source_notebook_set(path):
                result.stale_sets.add(source_notebook_set(path))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    args = parser.parse_args(argv)
    result = plan()
    for problem in result.problems:
        print(f"problem: {problem}", file=sys.stderr)
    if args.check:
        for path in result.stale():
            print(f"stale: {path}")
        if result.stale():
            print("regenerate with: python tools/sync_project_links.py", file=sys.stderr)
        return 1 if result.stale() or result.problems else 0
    for path, text in result.changes.items():
        (ROOT / path).write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    for name in sorted(result.stale_sets):
        subprocess.run([sys.executable, "-m", "mlbook.grading", "assign", "--set", name], cwd=ROOT, check=True)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
