"""Where the book lives: its GitHub repository and the ref (branch or tag) its pages are built and launched from.

This is the one place both are written. The package imports them (``mlbook.grading.colab``,
``mlbook.grading.sets``, ``mlbook.results``); ``tools/sync_project_links.py`` writes them into ``_config.yml``
(the pages' Colab, Binder and GitHub buttons), the README files, every notebook's install cell and the exercise
links, and ``tests/test_launch.py`` fails when a tracked file spells them otherwise or is stale.

``REF`` ties a page to what it launches: the buttons open the notebook at ``REF``, whose first cell installs
``mlbook`` at ``REF`` (:data:`PIP_REQUIREMENT`), and on Colab the exercise sets fetch their public tests and the
chapters their benchmark results from ``REF`` too. So a page, the notebook it opens and the package that notebook
imports are one version, provided the site is built from ``REF``. The site is built from ``main``, so ``REF`` is
``"main"``. A release sets ``REF = "v" + version`` (its tag; ``tests/test_launch.py`` accepts nothing else),
runs ``python tools/sync_project_links.py``, commits and tags that commit: the site built from the tag then
launches and installs exactly the tag, however far ``main`` has moved since.
"""

from __future__ import annotations

import re
from urllib.parse import quote

#: ``owner/name`` on GitHub.
REPOSITORY = "learning-to-learn-book/learning-to-learn"
#: The branch or tag the book's pages are built from, and what they launch and install.
REF = "main"

GITHUB_URL = f"https://github.com/{REPOSITORY}"
#: What a notebook's install cell gives ``pip install`` (the ``widgets`` and ``grading`` extras add to it).
PIP_REQUIREMENT = f"mlbook @ git+{GITHUB_URL}@{REF}"
#: Files of the repository at ``REF``, e.g. ``f"{RAW_URL}/benchmarks/results/maml_sinusoid.json"``.
RAW_URL = f"https://raw.githubusercontent.com/{REPOSITORY}/{REF}"
#: The repository at ``REF`` as one ``.tar.gz`` (top folder ``<name>-<ref>``).
ARCHIVE_URL = f"https://codeload.github.com/{REPOSITORY}/tar.gz/{REF}"

#: The first code cell of every notebook (chapters and exercise sets): a no-op outside Colab.
INSTALL_CELL = (
    "# On Colab, install the book's package (the version this page was built from); elsewhere this does nothing.\n"
    "import sys\n"
    'if "google.colab" in sys.modules:\n'
    f'    %pip install --quiet "{PIP_REQUIREMENT}"'
)


def _check_text(name: str, value: object, *, pattern: str, allowed: str, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string ({allowed}), got {type(value).__name__}")
    if not (empty and value == "") and not re.fullmatch(pattern, value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def _check_path(path: object) -> str:
    """A path relative to the repository root; ``""`` is the root itself."""
    if isinstance(path, str) and ".." in path.split("/"):
        raise ValueError(f"path must stay inside the repository (no '..'), got {path!r}")
    return _check_text("path", path, pattern=r"[\w.-]+(/[\w.-]+)*", allowed="a path relative to the repository root, "
                       "e.g. 'exercises/ch01/ch01_exercises.ipynb', or '' for the root", empty=True)


def pip_requirement(extras: str = "") -> str:
    """:data:`PIP_REQUIREMENT` with extras, e.g. ``pip_requirement("widgets")``."""
    _check_text("extras", extras, pattern=r"[a-z]+(,[a-z]+)*", allowed="'' or extras such as 'widgets,grading'",
                empty=True)
    return PIP_REQUIREMENT.replace("mlbook", f"mlbook[{extras}]", 1) if extras else PIP_REQUIREMENT


def github_url(path: str) -> str:
    """A file of the repository at ``REF`` on GitHub (``path`` relative to the repository root)."""
    _check_path(path)
    return f"{GITHUB_URL}/blob/{REF}/{path}"


def colab_url(path: str) -> str:
    """A notebook of the repository at ``REF``, opened on Colab."""
    _check_path(path)
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{REF}/{path}"


def binder_url(path: str) -> str:
    """A notebook of the repository at ``REF``, opened in JupyterLab on Binder."""
    _check_path(path)
    return f"https://mybinder.org/v2/gh/{REPOSITORY}/{REF}?labpath={quote(path, safe='')}"


__all__ = [
    "ARCHIVE_URL",
    "GITHUB_URL",
    "INSTALL_CELL",
    "PIP_REQUIREMENT",
    "RAW_URL",
    "REF",
    "REPOSITORY",
    "binder_url",
    "colab_url",
    "github_url",
    "pip_requirement",
]
