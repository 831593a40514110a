"""A one-line progress display on stderr for long batch jobs (`mlengine predict --chunk-rows`).

On a terminal the line is redrawn in place; otherwise (a log file, CI) a line is printed at most every
`every` seconds, and `done()` always prints the final count, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressLine:
    def __init__(self, label: str, stream: TextIO | None = None, every: float = 5.0):
        self.label, self.stream, self.every = label, stream or sys.stderr, every
        self.start = self.last = time.monotonic()
        self.rows, self.share = 0, None
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def _text(self) -> str:
        elapsed = time.monotonic() - self.start
        share = f" ({self.share:.0%})" if self.share is not None else ""
        rate = f", {self.rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        return f"{self.label}: {self.rows:,} rows{share} in {elapsed:.1f} s{rate}"

    def __call__(self, rows: int, share: float | None = None) -> None:
        self.rows, self.share = rows, share
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self._text())
            self.stream.flush()
        elif now - self.last >= self.every:
            self.stream.write(self._text() + "\n")
            self.last = now

    def done(self) -> None:
        self.stream.write(("\r" if self.tty else "") + self._text() + "\n")
        self.stream.flush()
