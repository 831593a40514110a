"""The staged runner (mlengine.runner): its checked stage list, check_recipe_data(until=...), one small real run
(RunResult, predictions.parquet, recipe and plan files, stage timings, hooks around every stage) and runs that fail,
are interrupted or break the stage declarations mid-way (status.json, on_run_error, the directory renamed, where
run_parent/run_prefix put it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mlengine.api import load_recipe
from mlengine.errors import UserError
from mlengine.runner import STAGES, RunResult, check_recipe_data, run_recipe
from mlengine.stages import StageOrderError, check_order, stage_name

from tests.conftest import DATA, TITANIC, read_json
from tests.hook_helpers import Recorder

LEAN = TITANIC.replace("n_estimators: 30", "n_estimators: 10") + "report: {html: false, explain: false}\n"
ORDER = ["read", "contract", "pii", "load", "split", "bin_target", "check_modelling", "adversarial", "search", "fit",
         "finish_model", "evaluate", "judge", "explain", "save", "export_onnx", "manifest", "report", "finalize",
         "gate"]



def _loaded(root: Path, text: str = LEAN):
    (root / "data").mkdir(exist_ok=True)
    shutil.copy(DATA / "titanic.csv", root / "data" / "titanic.csv")
    (root / "r.yaml").write_text(text.replace("cv: {folds: 3}", "cv: {folds: 2}"), encoding="utf-8")
    return load_recipe(root / "r.yaml")


@pytest.fixture(scope="module")
def lean_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runner")
    rec = Recorder()
    result = run_recipe(_loaded(root), runs_dir=root / "runs", hooks=[rec])
    return result, rec


def test_the_stage_list_is_in_its_documented_order_and_passes_its_own_check():
    assert [stage_name(fn) for fn in STAGES] == ORDER
    check_order(STAGES)  # raises StageOrderError on a stage placed before what it reads


def test_check_recipe_data_runs_the_stages_up_to_until_in_a_scratch_directory(tmp_path):
    ctx = check_recipe_data(_loaded(tmp_path), until="split")
    assert len(ctx.X_tr) + len(ctx.X_te) == 891 and len(ctx.y_tr) == len(ctx.X_tr)
    assert ctx.model is None and ctx.cv_result is None  # nothing after split ran
    assert not ctx.rd.path.exists()  # the scratch directory is removed
    with pytest.raises(StageOrderError, match="no stage 'fitt'"):
        check_recipe_data(_loaded(tmp_path), until="fitt")


def test_a_complete_run_returns_its_result_and_calls_the_hooks_around_every_stage(lean_run):
    result, rec = lean_run
    assert isinstance(result, RunResult) and result.status == "complete" and result.task == "binary"
    assert result.run_dir.is_dir() and not result.run_dir.name.endswith(".incomplete")
    assert read_json(result.run_dir / "status.json")["status"] == "complete"
    assert rec.calls[0][0] == "before_run" and rec.calls[0][1] == f".{result.run_dir.name}.incomplete"
    assert [n for kind, n in rec.calls if kind == "before_stage"] == ORDER
    assert [n for kind, n in rec.calls if kind == "after_stage"] == ORDER
    assert rec.calls[-1] == ("after_run", "complete")
    summary = result.summary()
    assert summary["primary_metric"] == "roc_auc" and summary["status"] == "complete"
    assert set(summary["metrics"]) == {"cv", "holdout", "baselines"}


def test_predictions_parquet_holds_the_holdout_rows_labels_and_probabilities(lean_run):
    result, _ = lean_run
    preds = pd.read_parquet(result.run_dir / "predictions.parquet")
    assert list(preds.columns) == ["row", "y_true", "y_pred", "proba_0", "proba_1"]
    assert len(preds) == 179 and preds["row"].is_unique
    assert ((preds["proba_0"] + preds["proba_1"] - 1).abs() < 1e-6).all()
    cm = result.metrics["confusion_matrix"]
    assert cm["labels"] == [0, 1] and sum(map(sum, cm["matrix"])) == 179


def test_a_failing_stage_marks_the_run_failed_with_its_traceback_and_tells_the_hooks(tmp_path):
    rec = Recorder(fail_at="split", error=RuntimeError("disk on fire"))
    with pytest.raises(RuntimeError, match="disk on fire") as info:
        run_recipe(_loaded(tmp_path), runs_dir=tmp_path / "runs", hooks=[rec])
    run_dir = info.value.run_dir
    status = read_json(run_dir / "status.json")
    assert status["status"] == "failed"
    assert status["error"]["type"] == "RuntimeError" and status["error"]["message"] == "disk on fire"
    assert status["error"]["user_error"] is False and "Traceback" in status["error"]["traceback"]
    assert [n for kind, n in rec.calls if kind == "after_stage"] == ["read", "contract", "pii", "load"]
    assert rec.calls[-2:] == [("before_stage", "split"), ("on_run_error", "RuntimeError")]
    assert not list(run_dir.parent.glob(".*.incomplete"))


def test_a_user_error_is_recorded_without_a_traceback(tmp_path):
    rec = Recorder(fail_at="read", error=UserError("data.source: refused"))
    with pytest.raises(UserError):
        run_recipe(_loaded(tmp_path), runs_dir=tmp_path / "runs", hooks=[rec])
    (run_dir,) = (tmp_path / "runs" / "t").iterdir()
    error = read_json(run_dir / "status.json")["error"]
    assert error == {"type": "UserError", "message": "data.source: refused", "user_error": True}


def test_hooks_run_in_order_around_each_stage_and_metrics_time_every_stage_before_finalize(lean_run):
    result, rec = lean_run
    assert rec.calls[1:-1] == [(k, n) for n in ORDER for k in ("before_stage", "after_stage")]
    timings = read_json(result.run_dir / "metrics.json")["timings_seconds"]
    assert list(timings) == ORDER[: ORDER.index("finalize")] and all(v >= 0 for v in timings.values())


def test_the_run_writes_its_resolved_recipe_and_plan(lean_run):
    import json

    import yaml

    result, _ = lean_run
    recipe = yaml.safe_load((result.run_dir / "recipe.yaml").read_text(encoding="utf-8"))
    assert recipe["name"] == "t" and recipe["data"]["target"] == "survived" and recipe["cv"]["folds"] == 2
    assert (result.run_dir / "plan.txt").read_text(encoding="utf-8").strip() == result.plan.to_text().strip()
    assert read_json(result.run_dir / "plan.json") == json.loads(json.dumps(result.plan.to_dict(), default=str))


def test_an_interrupt_marks_the_run_interrupted_and_restores_the_signal_handlers(tmp_path):
    import signal

    before = signal.getsignal(signal.SIGTERM)
    rec = Recorder(fail_at="contract", error=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt) as info:
        run_recipe(_loaded(tmp_path), runs_dir=tmp_path / "runs", hooks=[rec])
    status = read_json(info.value.run_dir / "status.json")
    assert status["status"] == "interrupted"
    assert status["error"] == {"type": "KeyboardInterrupt", "message": "interrupted", "user_error": False}
    assert rec.calls[-1] == ("on_run_error", "KeyboardInterrupt")
    assert signal.getsignal(signal.SIGTERM) is before


def test_run_parent_and_prefix_place_the_run_directory(tmp_path):
    rec = Recorder(fail_at="contract", error=RuntimeError("stop"))
    with pytest.raises(RuntimeError) as info:
        run_recipe(_loaded(tmp_path), runs_dir=tmp_path / "unused", run_parent=tmp_path / "sweep",
                   run_prefix="job3-", hooks=[rec])
    assert info.value.run_dir.parent == tmp_path / "sweep" and info.value.run_dir.name.startswith("job3-")
    assert not (tmp_path / "unused").exists()


def test_a_stage_list_out_of_order_is_refused_before_a_run_directory_exists(tmp_path, monkeypatch):
    from mlengine import runner

    monkeypatch.setattr(runner, "STAGES", [runner.stage_split, runner.stage_read])
    with pytest.raises(StageOrderError, match="stage 'split' reads .*which no earlier stage writes"):
        run_recipe(_loaded(tmp_path), runs_dir=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_a_stage_setting_an_undeclared_field_fails_the_run(tmp_path, monkeypatch):
    from mlengine import runner
    from mlengine.stages import stage

    @stage(reads=("raw",))
    def stage_rogue(ctx) -> None:
        ctx.model = "not mine to set"

    monkeypatch.setattr(runner, "STAGES", [runner.stage_read, stage_rogue])
    rec = Recorder()
    with pytest.raises(StageOrderError, match=r"stage 'rogue' set \['model'\] without declaring them"):
        run_recipe(_loaded(tmp_path), runs_dir=tmp_path / "runs", hooks=[rec])
    assert [n for kind, n in rec.calls if kind == "before_stage"] == ["read", "rogue"]
    (run_dir,) = (tmp_path / "runs" / "t").iterdir()
    assert read_json(run_dir / "status.json")["status"] == "failed"
