"""Progress bars for the long loops a reader runs: a text bar where a person watches, none where pages are built.

``train``, ``evaluate``, ``train_multitask``, ``train_from_recipe`` and ``evaluate_after_steps`` take
``progress``: ``True`` or ``False`` force the bar on or off; ``None``, their default, shows it on Colab and in a
terminal and not where nobody watches: the book build (which executes the notebooks into static pages), nbval,
a script whose output goes to a file. ``MLBOOK_PROGRESS=1`` (or ``0``) in the environment decides instead, e.g.
in a local Jupyter, whose kernel looks like the book build's.

The bar is plain ``tqdm`` text on stderr, never ``tqdm.auto``'s widget: a widget is blank or a repr in a static
page, while text updates in place on Colab and in a terminal.
"""

from __future__ import annotations

import os
import sys

from tqdm import tqdm

from mlbook.validate import check_bool

#: ``1``: always show the bars whose ``progress`` is ``None``; ``0``: never.
ENVIRONMENT_VARIABLE = "MLBOOK_PROGRESS"


def show_progress(progress: bool | None = None) -> bool:
    """Whether a loop shows its bar: ``progress`` itself when given, else as the module docstring says."""
    if progress is not None:
        return check_bool("progress", progress)
    setting = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if setting:
        if setting not in ("0", "1"):
            raise ValueError(f"the environment variable {ENVIRONMENT_VARIABLE} must be 0 or 1, got {setting!r}")
        return setting == "1"
    if "google.colab" in sys.modules:
        return True
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def progress_bar(iterable, *, progress: bool | None, desc: str, **options) -> tqdm:
    """``tqdm(iterable, desc=desc, **options)``, shown when :func:`show_progress` says so."""
    return tqdm(iterable, desc=desc, disable=not show_progress(progress), **options)


__all__ = ["ENVIRONMENT_VARIABLE", "progress_bar", "show_progress"]
