"""Every recipe in recipes/ runs end to end and beats its no-skill baseline on the holdout."""

from __future__ import annotations

import pytest

from tests.conftest import RECIPES, read_json


@pytest.mark.slow
@pytest.mark.parametrize("recipe", sorted(p.name for p in RECIPES.glob("*.yaml")))
def test_recipe_runs_and_beats_no_skill(cli, runs_dir, recipe):
    code, out, err = cli("run", RECIPES / recipe, "--runs-dir", runs_dir, "--json", "cv.folds=3")
    assert code == 0, err
    summary = __import__("json").loads(out)
    metrics = read_json(f"{summary['run_dir']}/metrics.json")
    primary = metrics["primary_metric"]
    model, floor = metrics["holdout"][primary], metrics["baselines"]["no_skill"][primary]
    assert (model > floor) if metrics["greater_is_better"] else (model < floor)
    assert metrics["report"]["section_errors"] == {} and "metrics" in metrics["report"]["sections"]
    assert (__import__("pathlib").Path(summary["run_dir"]) / "report.html").is_file()
    assert metrics["explain"]["top_features"]
