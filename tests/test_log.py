"""--log-format json: one JSON object per progress line; parallel sweep jobs prefix their lines with the job."""

from __future__ import annotations

import json
import logging

import pytest

from mlengine.log import JsonLines, setup_console

from tests.conftest import TITANIC


@pytest.mark.slow
def test_run_with_json_log_lines(cli, write_recipe, runs_dir):
    code, out, err = cli("run", write_recipe(TITANIC), "--runs-dir", runs_dir, "--log-format", "json")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "message"} <= set(records[0])
    assert any(r["message"].startswith("run complete") for r in records)
    assert "roc_auc" in out  # results still go to stdout as usual


def test_json_lines_carry_the_job_and_text_lines_its_prefix(capsys):
    record = logging.LogRecord("mlengine", logging.INFO, __file__, 1, "trial %d done", (3,), None)
    assert json.loads(JsonLines(job=2).format(record)) | {"time": "x"} == {
        "time": "x", "level": "info", "message": "trial 3 done", "job": 2}
    setup_console(job=4)
    logging.getLogger("mlengine").info("hello")
    assert capsys.readouterr().err.strip() == "[job 4] hello"
    setup_console()


def test_a_bar_only_on_a_text_console_at_info_on_a_terminal(monkeypatch):
    """console_is_terminal decides whether the search draws its bar: never for --quiet, json lines, a parallel
    sweep job's prefixed lines, TERM=dumb or a stderr that is not a TTY."""
    import io

    from mlengine.log import console_is_terminal

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    monkeypatch.setenv("TERM", "xterm")
    try:
        setup_console()
        assert console_is_terminal()
        for kwargs in ({"quiet": True}, {"fmt": "json"}, {"job": 1}):
            setup_console(**kwargs)
            assert not console_is_terminal(), kwargs
        setup_console()
        monkeypatch.setenv("TERM", "dumb")
        assert not console_is_terminal()
        monkeypatch.setattr("sys.stderr", io.StringIO())
        monkeypatch.setenv("TERM", "xterm")
        assert not console_is_terminal()
    finally:
        setup_console()
