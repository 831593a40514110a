"""Every recipe in recipes/ replays identically on this machine (run, then `mlengine replay`)."""

from __future__ import annotations

import json

import pytest

from .conftest import RECIPES

# fewer trees and one thread keep the suite fast (two OpenMP threads on a busy 2-core machine crawl); the data,
# splits, CV kind and preprocessing stay the recipe's own. Default threads are covered by test_determinism.
FEWER_TREES = {"logistic_regression": []}


@pytest.mark.slow
@pytest.mark.parametrize("recipe", sorted(p.name for p in RECIPES.glob("*.yaml")))
def test_recipe_replays_identically(cli, tmp_path, recipe):
    from mlengine.api import load_recipe

    model = load_recipe(RECIPES / recipe).recipe.model.name
    smaller = FEWER_TREES.get(model, ["model.params.n_estimators=25"])
    code, out, err = cli("run", RECIPES / recipe, "--runs-dir", tmp_path / "runs", "--json", "--quiet",
                         "cv.folds=2", "model.n_jobs=1", *smaller)
    assert code == 0, err
    run = json.loads(out)["run_dir"]
    code, out, err = cli("replay", run, "--json", "--quiet", "--runs-dir", tmp_path / "replays")
    report = json.loads(out)
    assert code == 0, [c for c in report["checks"] if c["result"] != "identical"]
    assert report["status"] == "identical" and report["warnings"] == []
    assert all(c["result"] == "identical" for c in report["checks"])
