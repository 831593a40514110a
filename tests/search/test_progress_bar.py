"""The search's progress bar: drawn under a real pseudo-terminal, absent (plain lines, no carriage returns) when
stderr is a pipe or --quiet, and log lines printed while it is up go above it through tqdm."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from mlengine import log as mlog
from mlengine.search import progress_bar

SEARCH = """
name: bar
seed: 3
task: binary
data:
  source: {kind: csv, path: data/titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model: {name: logistic_regression, n_jobs: 1}
cv: {folds: 3}
search:
  estimators: [logistic_regression]
  trials: 4
  metric: roc_auc
"""
BEST = SimpleNamespace(mean=0.84181, number=3, model="logistic_regression")


def test_render_counts_trials_or_seconds_and_says_the_time_left():
    left, right, total, n = progress_bar.render(2, 4, None, "roc_auc", BEST, 10.0, 10.0)
    assert (left, total, n) == ("search: trial 2/4", 4.0, 2.0)
    assert right == "00:10 elapsed, ETA 00:10 | best roc_auc 0.8418 (trial 3, logistic_regression)"
    left, right, total, n = progress_bar.render(5, None, 60, "rmse", None, 75.0, 0.0)
    assert (left, total, n) == ("search: 60/60s", 60.0, 60.0)  # the bar never runs past the budget
    assert right == "ETA 00:00 | 5 trial(s) done, no trial finished yet"
    left, _, total, _ = progress_bar.render(3, None, None, "f1", BEST, 1.0, None)
    assert (left, total) == ("search: trial 3", None)


def test_eta_is_the_pace_so_far_capped_by_the_budget():
    assert progress_bar.eta_seconds(0, 4, None, 5.0, 0.0) is None  # nothing known yet
    assert progress_bar.eta_seconds(2, 4, None, 10.0, 10.0) == 10.0  # 5 s a trial, 2 to go
    assert progress_bar.eta_seconds(2, 4, None, 13.0, 10.0) == 7.0  # counted from now, not from the last trial
    assert progress_bar.eta_seconds(2, 100, 30, 10.0, 10.0) == 20.0  # the time budget ends it first
    assert progress_bar.eta_seconds(1, None, 30, 40.0, 1.0) == 0.0


def test_no_bar_unless_a_terminal(capsys):
    mlog.setup_console()
    assert not mlog.console_is_terminal()  # capsys: stderr is not a TTY
    assert isinstance(progress_bar.start(4, None, "roc_auc", time.time()), progress_bar.NoBar)


def test_log_lines_go_above_the_bar_and_plain_again_after(capsys):
    mlog.setup_console()
    logger = logging.getLogger("mlengine")
    bar = progress_bar.start(4, None, "roc_auc", time.time(), force=True)
    assert isinstance(bar, progress_bar.SearchBar)
    seen: list[str] = []
    real_write = bar.write
    bar_write = lambda line: (seen.append(line), real_write(line))  # noqa: E731
    with mlog.console_through(bar_write):
        logger.info("trial %d done", 1)
    bar.trial_done(1, BEST)
    bar.close()
    logger.info("after the bar")
    err = capsys.readouterr().err
    assert seen == ["trial 1 done"]
    assert "search: trial 1/4" in err and "trial 1 done\n" in err and err.endswith("after the bar\n")
    assert mlog._WRITER is None  # the handler writes plainly again


def _pty_run(args: list[str], cwd: os.PathLike[str], timeout: float = 120) -> tuple[int, str]:
    """Run `python -m mlengine ARGS` with stdout and stderr on a real pseudo-terminal (120 x 40)."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "mlengine", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
    return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_bar_on_a_terminal_plain_lines_in_a_pipe(tmp_path, write_recipe):
    path = write_recipe(SEARCH)
    code, screen = _pty_run(["run", str(path), "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert code == 0, screen
    assert "search: trial 2/4 |" in screen and "search: trial 4/4 |" in screen
    assert re.search(r"search: trial [1-4]/4 \|.*\| \d\d:\d\d elapsed, ETA \d\d:\d\d \| best roc_auc 0\.\d{4} "
                     r"\(trial \d, logistic_regression\)", screen)
    assert "trial 4/4 logistic_regression" in screen and "run complete" in screen  # the log lines still print

    piped = subprocess.run([sys.executable, "-m", "mlengine", "run", str(path), "--runs-dir", str(tmp_path / "r2")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr and "search: trial" not in piped.stderr and "ETA" not in piped.stderr
    assert re.search(r"trial 2/4 logistic_regression .* elapsed, ~\d+s left", piped.stderr)

    code, screen = _pty_run(["run", str(path), "--runs-dir", str(tmp_path / "r3"), "--quiet"], tmp_path)
    assert code == 0, screen
    assert "search: trial" not in screen and "trial 1/4" not in screen
