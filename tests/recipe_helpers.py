"""Runs of the recipes in recipes/, made once per test process and shared by the suites that read them.

`tests/test_recipes.py` (every recipe beats no-skill) and `tests/report/test_recipe_reports.py` (every recipe's
report in a browser) need the same runs; building each once keeps the pair to one set of runs on two cores. The
cache is a module dict (a fixture imported into two modules would be two fixtures), and `recipe_params()` pins
both suites' cases of one recipe to the same pytest-xdist worker (`--dist loadgroup`), so they share the run there.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import RECIPES

RUN_OVERRIDES = ("cv.folds=3",)  # the recipes' own budgets otherwise (titanic_search: its 12 trials)


@dataclass(frozen=True)
class RecipeRun:
    code: int  # exit code of `mlengine run`
    stderr: str
    run_dir: Path | None


_RUNS: dict[str, RecipeRun] = {}


def recipe_params() -> list:
    """Every recipe file name, each case in an xdist group of its own recipe."""
    return [pytest.param(p.name, marks=pytest.mark.xdist_group(f"recipe-{p.stem}"))
            for p in sorted(RECIPES.glob("*.yaml"))]


def recipe_run(recipe: str, tmp_path_factory: pytest.TempPathFactory) -> RecipeRun:
    """`mlengine run recipes/<recipe> --json cv.folds=3` through the CLI, once per process."""
    if recipe not in _RUNS:
        from mlengine.cli import main

        root = tmp_path_factory.getbasetemp() / "recipe-runs"
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["run", str(RECIPES / recipe), "--runs-dir", str(root), "--json", *RUN_OVERRIDES])
        run_dir = Path(json.loads(out.getvalue())["run_dir"]) if code in (0, 3) else None
        _RUNS[recipe] = RecipeRun(code, err.getvalue(), run_dir)
    return _RUNS[recipe]
