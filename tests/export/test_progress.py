"""The progress line: redrawn in place on a terminal, at most one line per `every` seconds in a log, and always
a final count."""

from __future__ import annotations

import io

from mlengine.export.progress import ProgressLine


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_few_lines_and_always_the_final_count():
    out = io.StringIO()
    line = ProgressLine("predict", stream=out, every=3600)
    for rows in (1000, 2000, 3000):
        line(rows, share=rows / 4000)
    line.done()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("predict: 3,000 rows (75%) in ")


def test_a_terminal_redraws_one_line():
    out = _Tty()
    line = ProgressLine("predict", stream=out)
    line(5)
    line(10)
    line.done()
    text = out.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 1 and "predict: 10 rows" in text.rsplit("\r", 1)[1]
