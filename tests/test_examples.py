"""The runnable examples in examples/ work as documented."""

from __future__ import annotations

import runpy

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_library_use_example(runs_dir, capsys):
    module = runpy.run_path(str(ROOT / "examples" / "library_use.py"))
    out = module["main"](str(runs_dir))
    assert out["result"].status == "complete"
    assert out["label"] in (0, 1) and abs(sum(out["proba"]) - 1) < 1e-9
    assert "prediction for one passenger" in capsys.readouterr().out


@pytest.mark.slow  # end to end (--durations: among the slowest of make test-fast); CI runs it
def test_sweep_example(runs_dir, capsys):
    frame = runpy.run_path(str(ROOT / "examples" / "sweep.py"))["main"](str(runs_dir))
    assert len(frame) == 4 and set(frame["status"]) == {"complete"}
    assert frame["metric"].iloc[0] == "log_loss"
    assert list(frame["job"]) == [0, 1, 2, 3]  # job order
    assert list(frame.sort_values("rank")["cv_mean"]) == sorted(frame["cv_mean"])  # log_loss: lower is better
    assert "best:" in capsys.readouterr().out
