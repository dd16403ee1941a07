"""Where exercise sets live: ``exercises/<set>/`` with the student notebook ``<set>_exercises.ipynb``, its public
tests ``tests/`` (both generated) and the master notebook ``source/<set>_exercises.ipynb`` (solutions and hidden
tests, otter-assign format)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlbook.validate import check_folder

EXERCISES_ENV = "MLBOOK_EXERCISES"


def exercises_root(start: str | Path | None = None) -> Path:
    """The ``exercises/`` directory: ``$MLBOOK_EXERCISES``, else the nearest ``exercises/`` above ``start``
    (default: the working directory), else the one beside the installed (editable) package."""
    if start is not None:
        check_folder("start", start)
    if os.environ.get(EXERCISES_ENV):
        return Path(os.environ[EXERCISES_ENV]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if folder.name == "exercises" and any(folder.glob("*/source/*.ipynb")):
            return folder
        candidate = folder / "exercises"
        if candidate.is_dir() and any(candidate.glob("*/source/*.ipynb")):
            return candidate
    beside_package = Path(__file__).resolve().parents[2] / "exercises"
    if beside_package.is_dir():
        return beside_package
    raise FileNotFoundError(
        f"no exercises/ directory found above {here} or beside the mlbook package: run from the repository or set "
        f"{EXERCISES_ENV}=/path/to/exercises"
    )


@dataclass(frozen=True)
class ExerciseSet:
    """One chapter's exercises, e.g. ``ExerciseSet("ch01", Path("exercises/ch01"))``."""

    name: str
    directory: Path

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be the set's name such as 'ch01', got {self.name!r}")
        if not isinstance(self.directory, Path):
            raise TypeError(f"directory must be a pathlib.Path, got {type(self.directory).__name__}")

    @property
    def notebook_name(self) -> str:
        return f"{self.name}_exercises.ipynb"

    @property
    def source(self) -> Path:
        """The master notebook (solutions + hidden tests)."""
        return self.directory / "source" / self.notebook_name

    @property
    def student_notebook(self) -> Path:
        return self.directory / self.notebook_name

    @property
    def student_tests(self) -> Path:
        return self.directory / "tests"


def list_sets(root: str | Path | None = None) -> list[ExerciseSet]:
    """Every set under ``root`` (default :func:`exercises_root`) that has a master notebook."""
    base = check_folder("root", root) if root is not None else exercises_root()
    return [
        ExerciseSet(folder.name, folder)
        for folder in sorted(p for p in base.iterdir() if p.is_dir())
        if (folder / "source" / f"{folder.name}_exercises.ipynb").is_file()
    ]


def get_set(name: str, root: str | Path | None = None) -> ExerciseSet:
    """The set called ``name`` (e.g. ``"ch01"``) under ``root`` (default :func:`exercises_root`)."""
    sets = {s.name: s for s in list_sets(root)}
    if name not in sets:
        raise ValueError(f"name must be one of the sets {sorted(sets)}, got {name!r}")
    return sets[name]



def launch_links(name: str, ref: str | None = None) -> dict[str, str]:
    """One-click links to a set's student notebook (for the chapter page): Colab, Binder and GitHub, at ``ref``
    (default ``mlbook.project.REF``, the ref the pages are built from)."""
    from urllib.parse import quote

    from mlbook.project import REF, REPOSITORY

    ref = REF if ref is None else ref
    path = f"exercises/{name}/{name}_exercises.ipynb"
    return {
        "colab": f"https://colab.research.google.com/github/{REPOSITORY}/blob/{ref}/{path}",
        "binder": f"https://mybinder.org/v2/gh/{REPOSITORY}/{ref}?labpath={quote(path, safe='')}",
        "github": f"https://github.com/{REPOSITORY}/blob/{ref}/{path}",
    }


def launch_markdown(name: str, ref: str | None = None) -> str:
    """A Markdown line with the launch links, e.g. for ``IPython.display.Markdown`` in a chapter notebook."""
    links = launch_links(name, ref)
    return (
        f"**Graded exercises for this chapter:** [open in Colab]({links['colab']}) · "
        f"[open on Binder]({links['binder']}) · [view on GitHub]({links['github']})"
    )
