"""A tqdm progress bar for a search on a terminal: trials done of the budget (or seconds used of a time budget),
the best score so far and the time left.

Drawn only when `mlengine.log.console_is_terminal()` (stderr a TTY, not --quiet, text log format); elsewhere
`start` returns a `NoBar` and the per-trial log lines are the whole progress output, exactly as without this
module. While the bar is up, console log lines are written through `tqdm.write` (`mlengine.log.console_through`),
so each trial's line prints above the bar instead of through it. A daemon thread redraws the bar every second:
a trial in this process blocks the search loop, and the clock and the ETA should still move meanwhile.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import ExitStack
from typing import Any

from mlengine import log as mlog

REFRESH_SECONDS = 1.0
FALLBACK_COLUMNS = 100  # when the terminal does not tell its width


def _columns(file: Any) -> int:
    import os

    try:
        return os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


class NoBar:
    """The bar when none is drawn (not a terminal, --quiet, json logs): every call does nothing."""

    def trial_done(self, number: int, best: Any) -> None:
        pass

    def close(self) -> None:
        pass


def start(trials: int | None, time_budget: float | None, metric: str, t0: float,
          force: bool | None = None) -> NoBar | SearchBar:
    """The search's progress display: a `SearchBar` on a terminal, else a `NoBar`. `force` overrides the
    terminal check (tests)."""
    if not (mlog.console_is_terminal() if force is None else force):
        return NoBar()
    return SearchBar(trials, time_budget, metric, t0)


def eta_seconds(done: int, trials: int | None, time_budget: float | None, elapsed: float,
                elapsed_at_done: float) -> float | None:
    """Seconds left: the pace of the finished trials times the trials still to run (counted from now), capped by
    what is left of the time budget; None while nothing is known (no trial finished, no time budget)."""
    left = [time_budget - elapsed] if time_budget else []
    if trials and done:
        left.append(elapsed_at_done / done * trials - elapsed)
    return max(0.0, min(left)) if left else None


def render(done: int, trials: int | None, time_budget: float | None, metric: str, best: Any,
           elapsed: float, eta: float | None) -> tuple[str, str, float | None, float]:
    """(text left of the bar, text right of it, bar total, bar position): a trial budget counts trials, a time
    budget alone counts seconds, neither draws no bar (total None). The time comes before the best score, so a
    narrow terminal cuts the model name, not the ETA."""
    from tqdm import tqdm

    fmt = tqdm.format_interval
    best_text = (f"best {metric} {best.mean:.4f} (trial {best.number}, {best.model})" if best is not None
                 else "no trial finished yet")
    eta_text = f"ETA {fmt(eta)}" if eta is not None else "ETA ?"
    if trials:
        budget = f" of {fmt(time_budget)}" if time_budget else ""
        return (f"search: trial {done}/{trials}", f"{fmt(elapsed)}{budget} elapsed, {eta_text} | {best_text}",
                float(trials), float(min(done, trials)))
    if time_budget:
        used = min(elapsed, time_budget)
        return (f"search: {used:.0f}/{time_budget:g}s", f"{eta_text} | {done} trial(s) done, {best_text}",
                float(time_budget), used)
    return f"search: trial {done}", f"{fmt(elapsed)} elapsed | {best_text}", None, float(done)


class SearchBar:
    """One tqdm bar on stderr for the length of a search; `close` leaves its last state on screen."""

    def __init__(self, trials: int | None, time_budget: float | None, metric: str, t0: float):
        from tqdm import tqdm

        self.trials, self.time_budget, self.metric, self.t0 = trials, time_budget, metric, t0
        self.done, self.best, self.elapsed_at_done = 0, None, 0.0
        self.file = sys.stderr
        total = float(trials) if trials else (float(time_budget) if time_budget else None)
        known = _columns(self.file) > 0  # a pty may report 0 columns (no size set): then a fixed width
        self.bar = tqdm(total=total, file=self.file, dynamic_ncols=known, ncols=None if known else FALLBACK_COLUMNS,
                        nrows=None if known else 24,
                        leave=True, mininterval=0, bar_format="{desc}")
        self._stack = ExitStack()
        self._stack.enter_context(mlog.console_through(self.write))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.draw()
        self._thread = threading.Thread(target=self._tick, name="mlengine-search-bar", daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        """A log line above the bar (the console handler's writer while the bar is up)."""
        from tqdm import tqdm

        tqdm.write(line, file=self.file)

    def trial_done(self, number: int, best: Any) -> None:
        with self._lock:
            self.done += 1
            self.best = best
            self.elapsed_at_done = time.time() - self.t0
        self.draw()

    def draw(self) -> None:
        with self._lock:
            elapsed = time.time() - self.t0
            eta = eta_seconds(self.done, self.trials, self.time_budget, elapsed, self.elapsed_at_done)
            left, right, total, n = render(self.done, self.trials, self.time_budget, self.metric, self.best,
                                           elapsed, eta)
            esc = lambda s: s.replace("{", "{{").replace("}", "}}")  # noqa: E731 - bar_format is a format string
            self.bar.bar_format = (f"{esc(left)} |{{bar}}| {esc(right)}" if total is not None
                                   else f"{esc(left)} | {esc(right)}")
            self.bar.n = n
            self.bar.refresh()

    def _tick(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            try:
                self.draw()
            except Exception:  # noqa: BLE001 - a display glitch must not end the search; the log lines go on
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.draw()
        finally:
            self.bar.close()
            self._stack.close()
