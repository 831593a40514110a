"""Replaying a run that searched: `--level refit` pins the best config without a search, `--level search` re-runs
the (FLAML) search with the recorded trial count; both reproduce the recorded predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TITANIC


@pytest.mark.slow
def test_search_record_and_both_replay_levels(cli, write_recipe, tmp_path):
    code, out, err = cli("run", write_recipe(TITANIC), "--runs-dir", tmp_path / "runs", "--json", "search.trials=4",
                         "search.estimators=[lightgbm,logistic_regression]", "model.n_jobs=1")
    assert code == 0, err
    run = Path(json.loads(out)["run_dir"])
    search = json.loads((run / "manifest.json").read_text())["search"]
    assert search["trials"] == 4 and len(search["history"]) == 4
    best = search["best_config"]
    assert best["model.name"] in ("lightgbm", "logistic_regression")

    code, out, err = cli("replay", run, "--json", "--runs-dir", tmp_path / "refit")
    report = json.loads(out)
    assert code == 0, [c for c in report["checks"] if c["result"] != "identical"]
    assert report["overrides"] == {**best, "search.trials": 0}
    refit_manifest = json.loads((Path(report["replay_dir"]) / "manifest.json").read_text())
    assert refit_manifest["search"] is None  # the search did not run again
    assert refit_manifest["model"]["name"] == best["model.name"]
    expected = {k: v for k, v in best.items() if k.startswith("model.params.")}
    if "early_stopping" in refit_manifest["model"]:  # the searched cap is replaced by early stopping's choice
        expected["model.params.n_estimators"] = refit_manifest["model"]["early_stopping"]["n_estimators"]
    assert {f"model.params.{k}": v for k, v in refit_manifest["model"]["params"].items()} == expected

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
