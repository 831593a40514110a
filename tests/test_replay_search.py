"""The search contract (issue 4 fills it): a stage that sets `RunContext.search` and fits the best config.

A tiny real search (num_leaves over a few values, scored by the recipe's CV) stands in for FLAML here, so the
manifest fields and both replay levels are exercised end to end.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from .conftest import TITANIC

LEAVES = [4, 8, 16, 32]


def stage_tiny_search(ctx) -> None:
    """Try `search.trials` values of num_leaves under CV; fit the best; record it as recipe-key overrides."""
    from mlengine.evaluate.crossval import cross_validate

    trials = ctx.recipe.search.trials
    if trials == 0:  # the contract: search.trials=0 disables the search (replay --level refit)
        return
    plan, data = ctx.plan, ctx.data
    base = plan.candidates[0]
    history = []
    for i, leaves in enumerate(LEAVES[:trials]):
        cand = replace(base, params={**base.params, "num_leaves": leaves})
        res = cross_validate(plan.build_pipeline(cand, data.columns, data.task), ctx.X_tr, ctx.y_tr, plan.cv,
                             task=data.task, metrics=[plan.primary_metric], primary=plan.primary_metric,
                             classes=data.classes, pos_label=data.pos_label)
        history.append({"trial": i, "config": {"model.params.num_leaves": leaves},
                        "score": float(sum(res.scores[plan.primary_metric]) / len(res.scores[plan.primary_metric]))})
    best = max(history, key=lambda t: t["score"])
    plan.candidates[0] = replace(base, params={**base.params, "num_leaves": best["config"]["model.params.num_leaves"]})
    ctx.search = {"trials": len(history), "metric": plan.primary_metric, "best_trial": best["trial"],
                  "best_config": best["config"], "history": history}


@pytest.fixture
def with_search(monkeypatch):
    from mlengine import runner

    stages = list(runner.STAGES)
    stages.insert(stages.index(runner.stage_fit), stage_tiny_search)
    monkeypatch.setattr(runner, "STAGES", stages)


@pytest.mark.slow
def test_search_record_and_both_replay_levels(cli, write_recipe, tmp_path, with_search):
    code, out, err = cli("run", write_recipe(TITANIC), "--runs-dir", tmp_path / "runs", "--json", "search.trials=3",
                         "model.n_jobs=1")
    assert code == 0, err
    run = Path(json.loads(out)["run_dir"])
    search = json.loads((run / "manifest.json").read_text())["search"]
    assert search["trials"] == 3 and len(search["history"]) == 3
    assert set(search["best_config"]) == {"model.params.num_leaves"}

    code, out, err = cli("replay", run, "--json", "--runs-dir", tmp_path / "refit")
    report = json.loads(out)
    assert code == 0, [c for c in report["checks"] if c["result"] != "identical"]
    assert report["overrides"] == {**search["best_config"], "search.trials": 0}
    refit_manifest = json.loads((Path(report["replay_dir"]) / "manifest.json").read_text())
    assert refit_manifest["search"] is None  # the search did not run again
    assert refit_manifest["model"]["params"]["num_leaves"] == search["best_config"]["model.params.num_leaves"]

    code, out, err = cli("replay", run, "--level", "search", "--runs-dir", tmp_path / "search")
    assert code == 0, out
    for row in ("search trials", "search best_config", "search trial scores", "predictions sha256"):
        assert "identical" in next(line for line in out.splitlines() if line.startswith(row))


def test_search_summary_in_metrics_is_recorded_too():
    """A search stage that only writes metrics.json["search"] (trials_run, best_overrides, history) is recorded."""
    from types import SimpleNamespace

    from mlengine.runs.record import search_record

    summary = {"metric": "roc_auc", "trials_run": 2, "time_budget": 30.0, "best": {"trial": 1},
               "best_overrides": {"model.name": "extra_trees", "model.params.max_features": 0.5},
               "history": [{"trial": 0, "status": "ok", "model": "lightgbm", "params": {"num_leaves": 8},
                            "pipeline_params": {}, "mean": 0.84},
                           {"trial": 1, "status": "ok", "model": "extra_trees", "params": {"max_features": 0.5},
                            "pipeline_params": {"resample.k_neighbors": 3}, "mean": 0.86}]}
    rec = search_record(SimpleNamespace(search=None, report={"search": summary}))
    assert rec["trials"] == 2 and rec["best_trial"] == 1 and rec["best_config"] == summary["best_overrides"]
    assert rec["history"][1]["config"] == {"model.name": "extra_trees", "model.params.max_features": 0.5,
                                           "resample.k_neighbors": 3}
    assert rec["replay_overrides"] == {"search.time_budget": None}
    assert search_record(SimpleNamespace(search=None, report={})) is None
