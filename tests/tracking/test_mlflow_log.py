"""`mlengine.tracking.mlflow_log`: what a tracked run writes to MLflow, read back from a real sqlite store: the
flattened params, the metric list, batches beyond MLflow's limits, the tags, one child run per leaderboard row,
and `log_run` on one real (untracked) run captured with its state."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from mlengine.recipe.schema import RegisterSection
from mlengine.tracking import mlflow_log
from mlengine.tracking.mlflow_log import (
    PARAM_LIMIT,
    flatten,
    log_batch,
    log_trial_runs,
    run_metrics,
    run_tags,
)
from mlengine.tracking.store import experiment_id

from tests.conftest import DATA
from tests.tracking_helpers import FAST, client, require_mlflow, store_uri

RECIPE = FAST + "report: {html: false, explain: false}\ntracking:\n  tags: {team: risk}\n"


class _Capture:
    """A hook keeping the run's state, as the tracking hook receives it."""

    state = None

    def after_run(self, state, result):
        self.state = state


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """(uri, client, experiment id) of a fresh sqlite store."""
    require_mlflow()
    uri = store_uri(tmp_path_factory.mktemp("store"))
    c = client(uri)
    return uri, c, experiment_id(c, "log", uri)  # artifacts beside the database, not in the working directory


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(loaded recipe, state, run directory) of one small titanic run."""
    from mlengine.api import load_recipe
    from mlengine.runner import run_recipe

    root = tmp_path_factory.mktemp("run")
    (root / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", root / "data" / "titanic.csv")
    (root / "r.yaml").write_text(RECIPE, encoding="utf-8")
    loaded = load_recipe(root / "r.yaml")
    hook = _Capture()
    result = run_recipe(loaded, runs_dir=root / "runs", hooks=[hook])
    return loaded, hook.state, result.run_dir


def _new_run(store):
    uri, c, exp = store
    return c.create_run(exp).info.run_id


def test_flatten_nests_keys_with_dots_and_writes_leaves_as_json_text():
    data = {"model": {"name": "lightgbm", "params": {"n_estimators": 10, "lr": 0.1}}, "drop": ["a", "b"],
            "seed": 1, "flag": True, "none": None, "empty": {}}
    assert flatten(data) == {"model.name": "lightgbm", "model.params.n_estimators": "10", "model.params.lr": "0.1",
                             "drop": '["a", "b"]', "seed": "1", "flag": "true", "none": "null", "empty": "{}"}
    assert flatten({"a": 1}, prefix="x.") == {"x.a": "1"}


def test_flatten_truncates_values_to_mlflows_param_limit():
    out = flatten({"long": "x" * (PARAM_LIMIT + 50), "items": list(range(3000))})
    assert len(out["long"]) == PARAM_LIMIT == 6000
    assert len(out["items"]) == PARAM_LIMIT and out["items"].startswith("[0, 1, 2")


def _check(i, passed):
    return {"key": f"evaluate.require[{i}]", "metric": "roc_auc", "where": "holdout", "actual": 0.81,
            "passed": passed, "detail": "holdout roc_auc 0.81, needs >= 0.8" if passed else "needs >= 0.9"}


def test_run_metrics_lists_cv_folds_holdout_baselines_gate_and_trials():
    report = {"cv": {"roc_auc": {"mean": 0.8, "std": 0.02, "folds": [0.78, 0.82]}, "note": "not a summary"},
              "holdout": {"roc_auc": 0.81, "f1": float("nan"), "flag": True, "text": "x"},
              "baselines": {"no_skill": {"roc_auc": 0.5}, "empty": None},
              "gate": {"passed": False, "checks": [_check(0, True), _check(1, False)]},
              "search": {"trials": 12}}
    assert run_metrics(report) == [
        ("cv.roc_auc.mean", 0.8, 0), ("cv.roc_auc.std", 0.02, 0), ("cv.roc_auc.fold", 0.78, 0),
        ("cv.roc_auc.fold", 0.82, 1), ("holdout.roc_auc", 0.81, 0), ("baseline.no_skill.roc_auc", 0.5, 0),
        ("gate.passed", 0.0, 0), ("gate.check_0.passed", 1.0, 0), ("gate.check_1.passed", 0.0, 0),
        ("search.trials", 12.0, 0)]


def test_run_metrics_of_an_empty_report_is_empty():
    assert run_metrics({}) == []
    assert run_metrics({"gate": {}, "search": "none", "cv": None}) == []


def test_log_batch_splits_beyond_mlflows_limits_and_truncates_tags(store):
    run_id = _new_run(store)
    params = {f"p{i:03d}": str(i) for i in range(250)}
    metrics = [("m", float(i), i) for i in range(1500)] + [("other", 2.5, 0)]
    tags = {f"t{i:03d}": i for i in range(120)} | {"long": "y" * (PARAM_LIMIT + 1)}
    log_batch(store[1], run_id, params=params, metrics=metrics, tags=tags)
    run = store[1].get_run(run_id)
    assert run.data.params == params
    assert run.data.tags["t119"] == "119" and len(run.data.tags["long"]) == PARAM_LIMIT
    history = store[1].get_metric_history(run_id, "m")
    assert sorted(m.step for m in history) == list(range(1500))
    assert run.data.metrics["other"] == 2.5


def test_log_batch_with_nothing_logs_nothing(store):
    run_id = _new_run(store)
    log_batch(store[1], run_id)
    run = store[1].get_run(run_id)
    assert run.data.params == {} and run.data.metrics == {}


def test_run_tags_from_the_manifest_the_state_and_the_recipe(trained):
    from mlengine.version import __version__

    loaded, state, run_dir = trained
    manifest = json.loads((run_dir / "manifest.json").read_text())
    tags = run_tags(loaded, state, run_dir, None)
    assert tags["team"] == "risk" and tags["mlengine.recipe"] == "t"
    assert tags["mlengine.version"] == __version__ and tags["mlengine.run_dir"] == str(run_dir)
    assert tags["mlengine.recipe_sha256"] == manifest["recipe"]["sha256"]
    assert tags["mlengine.data_sha256"] == state.data_fingerprint["content_sha256"]
    if manifest.get("git"):
        assert tags["mlflow.source.git.commit"] == manifest["git"]["commit"]
        assert tags["mlengine.git_dirty"] == str(bool(manifest["git"]["dirty"])).lower()
    assert tags["mlengine.gate"] == "passed"
    assert json.loads(tags["mlengine.gate_checks"]) == json.loads(json.dumps(state.report["gate"]["checks"]))
    assert "mlengine.error" not in tags


def test_run_tags_name_the_error_and_work_without_a_manifest(trained, tmp_path):
    loaded, state, _ = trained
    tags = run_tags(loaded, state, tmp_path, ValueError("boom"))
    assert tags["mlengine.error"] == "ValueError: boom"
    assert "mlengine.recipe_sha256" not in tags  # only the manifest knows it
    assert tags["mlengine.data_sha256"] == state.data_fingerprint["content_sha256"]
    assert tags["mlengine.run_dir"] == str(tmp_path)


def test_log_trial_runs_makes_one_child_per_leaderboard_row(store, tmp_path):
    import pandas as pd

    uri, c, exp = store
    parent = _new_run(store)
    board = pd.DataFrame([
        {"rank": 1, "trial": 2, "status": "ok", "model": "lightgbm", "roc_auc_mean": 0.84, "roc_auc_std": 0.01,
         "roc_auc_folds": "[0.83, 0.85]", "seconds": 1.5, "error": None, "param.num_leaves": 31},
        {"rank": None, "trial": 1, "status": "pruned", "model": "logistic", "roc_auc_mean": 0.7,
         "roc_auc_std": None, "roc_auc_folds": "[0.7]", "seconds": 0.5, "error": None, "param.num_leaves": None},
        {"rank": None, "trial": 3, "status": "failed", "model": "lightgbm", "roc_auc_mean": None,
         "roc_auc_std": None, "roc_auc_folds": "[]", "seconds": 0.1, "error": "ValueError: bad",
         "param.num_leaves": 7}])
    board.to_csv(tmp_path / "leaderboard.csv", index=False)
    assert log_trial_runs(c, exp, parent, tmp_path / "leaderboard.csv", "roc_auc") == 3
    children = c.search_runs([exp], filter_string=f"tags.mlflow.parentRunId = '{parent}'")
    by_trial = {int(r.data.tags["mlengine.trial"]): r for r in children}
    assert sorted(by_trial) == [1, 2, 3]
    ok, pruned, failed = by_trial[2], by_trial[1], by_trial[3]
    assert ok.info.run_name == "trial-2" and ok.info.status == "FINISHED"
    assert ok.data.params == {"model": "lightgbm", "num_leaves": "31.0"}
    assert ok.data.metrics == {"roc_auc": 0.84, "roc_auc_std": 0.01, "roc_auc_fold": 0.85, "seconds": 1.5}
    folds = c.get_metric_history(ok.info.run_id, "roc_auc_fold")
    assert [(m.step, m.value) for m in sorted(folds, key=lambda m: m.step)] == [(0, 0.83), (1, 0.85)]
    assert pruned.info.status == "KILLED" and pruned.data.params == {"model": "logistic"}
    assert pruned.data.tags["mlengine.trial_status"] == "pruned" and "mlengine.trial_note" not in pruned.data.tags
    assert failed.info.status == "FAILED" and failed.data.tags["mlengine.trial_note"] == "ValueError: bad"
    assert "roc_auc" not in failed.data.metrics and failed.data.metrics["seconds"] == 0.1


def test_log_run_writes_params_metrics_tags_artifacts_models_and_the_version(store, trained):
    uri, c, exp = store
    loaded, state, run_dir = trained
    run_id = _new_run(store)
    mlflow_log.log_run(c, run_id, loaded, state, error=None, uri=uri, log_trials=True,
                       register=RegisterSection(name="logged", alias="champion"), promote=True)
    run = c.get_run(run_id)
    assert run.data.params == flatten(loaded.resolved)
    assert run.data.params["model.params.n_estimators"] == "10"
    expected = {name: value for name, value, _ in run_metrics(state.report)}
    assert set(run.data.metrics) == set(expected)
    assert run.data.metrics["holdout.roc_auc"] == pytest.approx(state.report["holdout"]["roc_auc"])
    assert run.data.tags["team"] == "risk" and run.data.tags["mlengine.registered"] == "logged/1"
    logged = {a.path for a in c.list_artifacts(run_id, "run")}
    assert logged == {f"run/{n}" for n in mlflow_log.RUN_ARTIFACTS if (run_dir / n).is_file()}
    assert "run/report.html" not in logged and "run/model.json" in logged  # report.html: off in this recipe
    assert {a.path for a in c.list_artifacts(run_id)} == {"run", "model", "onnx_model"}
    assert c.search_runs([exp], filter_string=f"tags.mlflow.parentRunId = '{run_id}'") == []  # no search run
    assert str(c.get_model_version_by_alias("logged", "champion").version) == "1"


def test_log_run_of_a_failed_run_registers_without_moving_the_alias(store, trained):
    uri, c, exp = store
    loaded, state, run_dir = trained
    c.create_registered_model("failing")
    first = _new_run(store)
    c.create_model_version("failing", f"{c.get_run(first).info.artifact_uri}/model", run_id=first)
    c.set_registered_model_alias("failing", "champion", "1")
    run_id = _new_run(store)
    mlflow_log.log_run(c, run_id, loaded, state, error=RuntimeError("late"), uri=uri, log_trials=False,
                       register=RegisterSection(name="failing", alias="champion"), promote=False)
    assert c.get_run(run_id).data.tags["mlengine.error"] == "RuntimeError: late"
    version = c.get_model_version("failing", "2")
    assert version.run_id == run_id and version.tags["mlengine.gate"] == "failed"
    assert str(c.get_model_version_by_alias("failing", "champion").version) == "1"


def test_log_run_of_a_run_without_a_model_logs_no_model(store, trained, tmp_path):
    uri, c, exp = store
    loaded, state, run_dir = trained
    bare = tmp_path / "bare"
    shutil.copytree(run_dir, bare, ignore=shutil.ignore_patterns("model.joblib"))
    moved = copy.copy(state)  # the shared state stays as it is
    moved.rd = copy.copy(state.rd)
    moved.rd.path = bare
    run_id = _new_run(store)
    mlflow_log.log_run(c, run_id, loaded, moved, error=None, uri=uri, log_trials=True,
                       register=RegisterSection(name="never"), promote=True)
    assert {a.path for a in c.list_artifacts(run_id)} == {"run"}
    assert c.get_run(run_id).data.tags["mlengine.run_dir"] == str(bare)
    assert c.search_registered_models("name = 'never'") == []
