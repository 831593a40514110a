"""Every recipe in recipes/ replays identically on this machine (run, then `mlengine replay`)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import RECIPES

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
    assert report["status"] == "identical"
    if not load_recipe(RECIPES / recipe).recipe.search.active:
        assert report["warnings"] == []
        assert all(c["result"] == "identical" for c in report["checks"])
        return
    # a search run: refit rebuilds the best config (or the kept ensemble) without the search; the values must be
    # identical, the leaderboard is not rewritten and model bytes are informational
    values = [c for c in report["checks"] if not c["name"].startswith("artifact ")]
    assert values and all(c["result"] == "identical" for c in values)
    assert any(c["name"] == "predictions sha256" for c in values)
    # level search re-runs the search itself: everything, model bytes included, is identical
    code, out, err = cli("replay", run, "--level", "search", "--json", "--quiet", "--runs-dir", tmp_path / "again")
    report = json.loads(out)
    assert code == 0 and report["status"] == "identical", [c for c in report["checks"] if c["result"] != "identical"]
    assert all(c["result"] == "identical" for c in report["checks"] if c["name"] in ("artifact model.joblib",
                                                                                  "artifact model.onnx"))
