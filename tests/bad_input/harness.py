"""The bad-input tables: one row per (public entry point, mistake a reader makes), and the rule every row obeys.

A row says which public name of ``mlbook`` it calls, which argument is wrong, and a zero-argument ``call`` that
makes the mistake (valid fixtures are built inside ``call``, so a table is cheap to import). The rule: the call
raises ``TypeError`` or ``ValueError`` (or the row's own ``errors``) and the message names the argument.

``classify`` sorts a row's outcome as the issue that asked for this suite counted them: ``clear`` (the rule holds),
``unclear`` (an error, but of another type or not naming the argument) or ``silent`` (no error at all: a result
was returned for a wrong input). ``tools/bad_input_report.py`` prints the counts for a checkout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BadInput:
    entry: str  # the public name called, e.g. "mlbook.data.EpisodeSampler"
    argument: str  # the argument that is wrong; the message must contain this text
    mistake: str  # what is wrong, in a few words (the test id)
    call: Callable[[], object] = field(repr=False)
    errors: tuple[type[BaseException], ...] = (TypeError, ValueError)

    @property
    def id(self) -> str:
        return f"{self.entry.removeprefix('mlbook.')}:{self.argument}:{self.mistake}"


def classify(row: BadInput) -> tuple[str, str]:
    """``("clear" | "unclear" | "silent", what happened)`` for one row."""
    try:
        result = row.call()
    except row.errors as error:
        message = str(error)
        if row.argument in message:
            return "clear", f"{type(error).__name__}: {message}"
        return "unclear", f"{type(error).__name__} does not name {row.argument!r}: {message}"
    except Exception as error:  # noqa: BLE001 - any other error is what this suite exists to find
        return "unclear", f"{type(error).__name__} (wanted {'/'.join(e.__name__ for e in row.errors)}): {error}"
    return "silent", f"returned {type(result).__name__} without an error"


def assert_clear(row: BadInput) -> None:
    verdict, detail = classify(row)
    assert verdict == "clear", f"{row.id}: {verdict}: {detail}"
