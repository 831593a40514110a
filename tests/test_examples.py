"""The runnable examples in examples/ work as documented."""

from __future__ import annotations

import runpy

from .conftest import ROOT


def test_library_use_example(runs_dir, capsys):
    module = runpy.run_path(str(ROOT / "examples" / "library_use.py"))
    out = module["main"](str(runs_dir))
    assert out["result"].status == "complete"
    assert out["label"] in (0, 1) and abs(sum(out["proba"]) - 1) < 1e-9
    assert "prediction for one passenger" in capsys.readouterr().out
