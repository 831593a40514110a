"""Logging: progress to stderr (unless quiet) and a full log file in each run directory."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOGGER = logging.getLogger("mlengine")
_CONSOLE_TAG = "_mlengine_console"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (it may be replaced, e.g. by a test's capture)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


def setup_console(quiet: bool = False, verbose: bool = False) -> None:
    """Progress lines on stderr; --quiet keeps warnings only."""
    LOGGER.setLevel(logging.DEBUG)
    LOGGER.propagate = False
    for h in list(LOGGER.handlers):
        if getattr(h, _CONSOLE_TAG, False):
            LOGGER.removeHandler(h)
    handler = _StderrHandler()
    setattr(handler, _CONSOLE_TAG, True)
    handler.setLevel(logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO))
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: getattr(record, "console", True))  # extra={"console": False}: run.log only
    LOGGER.addHandler(handler)


@contextmanager
def run_log(path: Path) -> Iterator[None]:
    """Write everything logged during a run to `path`."""
    LOGGER.setLevel(logging.DEBUG)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S"))
    LOGGER.addHandler(handler)
    try:
        yield
    finally:
        LOGGER.removeHandler(handler)
        handler.close()


@contextmanager
def console_at_least(level: int) -> Iterator[None]:
    """Raise the console's level for a while (`mlengine validate` runs the stages without their progress lines)."""
    handlers = [h for h in LOGGER.handlers if getattr(h, _CONSOLE_TAG, False)]
    saved = [h.level for h in handlers]
    for h in handlers:
        h.setLevel(max(h.level, level))
    try:
        yield
    finally:
        for h, old in zip(handlers, saved, strict=True):
            h.setLevel(old)
