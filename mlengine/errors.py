"""One small exception hierarchy; each class knows its CLI exit code.

User errors (bad recipe, bad data) exit 2 and print a message without a traceback. Internal errors exit 1.
A quality gate that is not met exits 3.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class MlengineError(Exception):
    """Base of every error mlengine raises on purpose."""

    exit_code = 1


class UserError(MlengineError):
    """The user's input (recipe, overrides, data, arguments) is wrong; exit 2, no traceback."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One validation problem: the dotted key path and a sentence saying what is wrong and what is allowed."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RecipeError(UserError):
    """The recipe (file, overrides or merged result) is invalid; carries every problem at once."""

    def __init__(self, problems: Iterable[Problem] | str, source: str | None = None):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.problems = list(problems)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        where = f" in {self.source}" if self.source else ""
        if len(self.problems) == 1:
            return f"Invalid recipe{where}: {self.problems[0]}"
        lines = [f"Invalid recipe{where}: {len(self.problems)} problems."]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class DataError(UserError):
    """The data does not fit the recipe (missing file, absent column, too few rows, ...)."""


class ExportError(MlengineError):
    """A model could not be exported or failed its parity check."""


class ModelLoadError(UserError):
    """A run directory's model cannot be loaded (missing, corrupt or tampered artifact)."""


class QualityGateError(MlengineError):
    """The run completed but a quality gate in `evaluate.require` was not met; exit 3."""

    exit_code = 3


class ReplayMismatch(MlengineError):
    """A replay diverged from the recorded run; exit 1."""

    exit_code = 1


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """Return " Did you mean 'x'?" for the closest choice, or "" when nothing is close."""
    choices = [str(c) for c in choices]
    match = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in choices}
        if str(word).lower() in lowered:
            match = [lowered[str(word).lower()]]
    return f" Did you mean '{match[0]}'?" if match else ""


def allowed(choices: Iterable[str]) -> str:
    """Format a list of allowed names for a message."""
    return ", ".join(sorted(str(c) for c in choices))


def unknown_name(kind: str, value: object, choices: Iterable[str]) -> str:
    """Message for an unknown registered name: the value, a did-you-mean and what is allowed."""
    choices = list(choices)
    return f"unknown {kind} {value!r}.{did_you_mean(value, choices)} Allowed: {allowed(choices)}."


class RunInterrupted(BaseException):
    """SIGTERM arrived during a run (a BaseException like KeyboardInterrupt, so no stage's `except Exception`
    swallows it): the run directory is marked interrupted and the CLI exits 143."""


# The interrupt a signal asked for, kept after its first raise: that raise can be lost (raised inside a finalizer,
# where Python prints and drops it, or under a library's broad `except`), so the run raises it again at the next
# check point (before a stage, a trial or a fold) instead of running on.
_REQUESTED: list[BaseException] = []


def request_interrupt(exc: BaseException) -> BaseException:
    """Remember the interrupt a signal handler raises (see `raise_if_interrupted`) and return it."""
    _REQUESTED[:] = [exc]
    return exc


def raise_if_interrupted() -> None:
    """Raise again the interrupt a signal asked for during this run, if there was one."""
    if _REQUESTED:
        raise _REQUESTED[0]


def clear_interrupt() -> None:
    _REQUESTED.clear()


_UNRAISABLE: list[Any] = []  # sys.unraisablehook before `hush_lost_interrupts`, while it is on


def hush_lost_interrupts() -> None:
    """Keep a remembered interrupt that Python cannot raise from printing a traceback on stderr.

    A signal that lands inside a C library's call back into Python (XGBoost's data iterator, a ctypes callback, a
    finalizer) raises there, and Python reports it through `sys.unraisablehook` as "Exception ignored in ..." with a
    traceback, then drops it. It is not lost: it was remembered, and the next check point raises it again. Any other
    unraisable error still reaches the previous hook."""
    import sys

    if _UNRAISABLE:
        return
    previous = sys.unraisablehook
    _UNRAISABLE.append(previous)

    def hook(unraisable: Any) -> None:
        if _REQUESTED and unraisable.exc_value is _REQUESTED[0]:
            return
        previous(unraisable)

    sys.unraisablehook = hook


def unhush_lost_interrupts() -> None:
    """The unraisable hook from before `hush_lost_interrupts` back."""
    import sys

    if _UNRAISABLE:
        sys.unraisablehook = _UNRAISABLE.pop()
