"""Logging: progress to stderr (unless quiet) and a full log file in each run directory."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOGGER = logging.getLogger("mlengine")
_CONSOLE_TAG = "_mlengine_console"
# While a progress bar is drawn on stderr (mlengine.search.progress_bar), console lines go through its writer,
# which clears the bar, prints the line and draws the bar again below it, so neither garbles the other.
_WRITER: Callable[[str], None] | None = None


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (it may be replaced, e.g. by a test's capture)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        writer = _WRITER
        if writer is None:
            super().emit(record)
            return
        try:
            writer(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise into the run (as StreamHandler.emit)
            self.handleError(record)

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


ENV_FORMAT = "MLENGINE_LOG_FORMAT"  # text | json; sweep jobs and other workers inherit it
FORMATS = ("text", "json")


class JsonLines(logging.Formatter):
    """One JSON object per log line (for CI and log shippers): time, level, message, and the job in a sweep."""

    def __init__(self, job: int | None = None):
        super().__init__()
        self.job = job

    def format(self, record: logging.LogRecord) -> str:
        import json
        import time

        out = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
                       + f".{int(record.msecs):03d}", "level": record.levelname.lower(),
               "message": record.getMessage()}
        if self.job is not None:
            out["job"] = self.job
        return json.dumps(out, ensure_ascii=False)


def setup_console(quiet: bool = False, verbose: bool = False, fmt: str | None = None,
                  job: int | None = None) -> None:
    """Progress lines on stderr; --quiet keeps warnings only. `fmt` json (default: $MLENGINE_LOG_FORMAT, else
    text) writes one JSON object per line; `job` prefixes each line with the sweep job it comes from."""
    import os

    fmt = fmt or os.environ.get(ENV_FORMAT) or "text"
    LOGGER.setLevel(logging.DEBUG)
    LOGGER.propagate = False
    for h in list(LOGGER.handlers):
        if getattr(h, _CONSOLE_TAG, False):
            LOGGER.removeHandler(h)
    handler = _StderrHandler()
    setattr(handler, _CONSOLE_TAG, True)
    handler.setLevel(logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO))
    handler._mlengine_plain = fmt == "json" or job is not None  # type: ignore[attr-defined]  # no bar
    if fmt == "json":
        handler.setFormatter(JsonLines(job))
    else:
        handler.setFormatter(logging.Formatter("%(message)s" if job is None else f"[job {job}] %(message)s"))
    handler.addFilter(lambda record: getattr(record, "console", True))  # extra={"console": False}: run.log only
    LOGGER.addHandler(handler)


def console_is_terminal() -> bool:
    """True when progress lines go to an interactive terminal as plain text: a console handler at INFO or below
    (not --quiet), text format (not json), not a parallel sweep job (their lines interleave), stderr a TTY and
    TERM not dumb. Only then is a redrawn progress bar readable; everywhere else the plain lines stay."""
    import os

    handlers = [h for h in LOGGER.handlers if getattr(h, _CONSOLE_TAG, False)]
    if not handlers or any(h.level > logging.INFO or getattr(h, "_mlengine_plain", False) for h in handlers):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


@contextmanager
def console_through(writer: Callable[[str], None]) -> Iterator[None]:
    """Send console lines through `writer` (a progress bar's) for a while; run.log is not affected."""
    global _WRITER
    saved, _WRITER = _WRITER, writer
    try:
        yield
    finally:
        _WRITER = saved


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
