"""Every recipe in recipes/ runs end to end and beats its no-skill baseline on the holdout."""

from __future__ import annotations

import pytest

from tests.conftest import read_json
from tests.recipe_helpers import recipe_params, recipe_run


@pytest.mark.slow
@pytest.mark.parametrize("recipe", recipe_params())  # the runs are shared with tests/report/test_recipe_reports.py
def test_recipe_runs_and_beats_no_skill(tmp_path_factory, recipe):
    run = recipe_run(recipe, tmp_path_factory)
    assert run.code == 0, run.stderr
    metrics = read_json(run.run_dir / "metrics.json")
    primary = metrics["primary_metric"]
    model, floor = metrics["holdout"][primary], metrics["baselines"]["no_skill"][primary]
    assert (model > floor) if metrics["greater_is_better"] else (model < floor)
    assert metrics["report"]["section_errors"] == {} and "metrics" in metrics["report"]["sections"]
    assert (run.run_dir / "report.html").is_file()
    assert metrics["explain"]["top_features"]
