"""Golden files of `mlengine plan` for every shipped recipe: a change to what a recipe compiles to shows in review.

Regenerate after an intended change: MLENGINE_UPDATE_GOLDEN=1 pytest tests/test_plan_golden.py
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import RECIPES, ROOT

GOLDEN = ROOT / "tests" / "golden" / "plan"


@pytest.mark.parametrize("recipe", sorted(p.name for p in RECIPES.glob("*.yaml")))
def test_plan_output_matches_its_golden_file(cli, recipe):
    code, out, err = cli("plan", RECIPES / recipe)
    assert code == 0, err
    text = out.replace(str(ROOT), "<repo>")
    golden = GOLDEN / recipe.replace(".yaml", ".txt")
    if os.environ.get("MLENGINE_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden.name}: run with MLENGINE_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_every_golden_file_has_its_recipe():
    assert {p.stem for p in GOLDEN.glob("*.txt")} == {p.stem for p in RECIPES.glob("*.yaml")}


def test_a_reader_that_stops_early_gets_no_traceback():
    """`mlengine plan ... | head`: stdout closed before the write is a quiet exit 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    done = subprocess.run([sys.executable, "-m", "mlengine", "plan", str(RECIPES / "titanic.yaml")],
                          stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
