"""The `mlengine` command: run, validate, plan, exit codes and run directories."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import RECIPES, ROOT, TITANIC, read_json


def test_run_writes_a_complete_run_directory(cli, write_recipe, runs_dir):
    code, out, err = cli("run", write_recipe(TITANIC), "--runs-dir", runs_dir, "--json")
    assert code == 0, err
    summary = __import__("json").loads(out)
    run = summary["run_dir"]
    assert summary["status"] == "complete" and summary["task"] == "binary"
    files = {p.name for p in __import__("pathlib").Path(run).iterdir()}
    assert {"recipe.yaml", "plan.txt", "metrics.json", "model.joblib", "model.json", "predictions.parquet",
            "run.log", "status.json"} <= files
    metrics = read_json(f"{run}/metrics.json")
    assert 0.75 < metrics["holdout"]["roc_auc"] <= 1.0
    assert metrics["holdout"]["roc_auc"] > metrics["baselines"]["no_skill"]["roc_auc"]
    assert len(metrics["cv"]["roc_auc"]["folds"]) == 3
    assert read_json(f"{run}/status.json")["status"] == "complete"
    preds = pd.read_parquet(f"{run}/predictions.parquet")
    assert len(preds) == metrics["rows"]["holdout"] == 179
    assert {"y_true", "y_pred", "proba_0", "proba_1"} <= set(preds.columns)
    assert not list(runs_dir.glob("*/.*incomplete"))


@pytest.mark.slow
def test_run_prints_metrics_table_and_progress(cli, write_recipe, runs_dir):
    code, out, err = cli("run", write_recipe(TITANIC), "--runs-dir", runs_dir)
    assert code == 0
    assert "fold 3/3" in err and "holdout" in out and "run directory:" in out
    code, out, err = cli("run", write_recipe(TITANIC), "--runs-dir", runs_dir, "--quiet")
    assert code == 0 and "fold" not in err


def test_overrides_after_flags(cli, write_recipe, runs_dir):
    code, out, err = cli("run", write_recipe(TITANIC), "--json", "--runs-dir", runs_dir, "model=dummy", "cv.kind=none",
                         "evaluate.require_beats_no_skill=false")  # a no-skill model, on purpose
    assert code == 0, err
    summary = __import__("json").loads(out)
    assert summary["metrics"]["cv"] is None
    assert abs(summary["metrics"]["holdout"]["roc_auc"] - 0.5) < 1e-9


def test_failed_run_is_kept_and_marked(cli, write_recipe, runs_dir):
    code, out, err = cli("run", write_recipe(TITANIC.replace("titanic.csv", "gone.csv")), "--runs-dir", runs_dir,
                         "--json")
    assert code == 2
    assert "does not exist" in err and "Traceback" not in err
    summary = __import__("json").loads(out)
    status = read_json(f"{summary['run_dir']}/status.json")
    assert status["status"] == "failed" and status["error"]["user_error"] is True
    assert not (__import__("pathlib").Path(summary["run_dir"]) / "model.joblib").exists()


def test_validate_exit_codes(cli, write_recipe):
    code, out, _ = cli("validate", write_recipe(TITANIC))
    assert code == 0 and "is valid" in out and "data OK: 891 rows" in out
    code, _, err = cli("validate", write_recipe(TITANIC), "cv.folds=1", "model.name=lgbm")
    assert code == 2 and "2 problems" in err and "cv.folds" in err and "model.name" in err


def test_validate_data_checks(cli, write_recipe):
    code, _, err = cli("validate", write_recipe(TITANIC), "data.positive_class=yes")
    assert code == 2 and "data.positive_class" in err
    code, _, err = cli("validate", write_recipe(TITANIC), "cv.folds=600")
    assert code == 2 and "cv.folds" in err and "training rows" in err


def test_too_few_groups_for_folds(cli, write_recipe):
    text = ("data:\n  source: {kind: csv, path: data/wage_panel.csv}\n  target: lwage\n  group: black\n"
            "cv: {kind: group_kfold, folds: 3}\nsplit: {holdout: 0}\n")
    code, _, err = cli("validate", write_recipe(text, files=("wage_panel.csv",)))
    assert code == 2 and "needs at least 3 groups" in err


def test_plan_reads_no_data(cli, write_recipe):
    path = write_recipe(TITANIC.replace("titanic.csv", "not-there-yet.csv"))
    code, out, _ = cli("plan", path)
    assert code == 0
    assert "[per_fold]" in out and "[stateless]" in out and "LGBMClassifier" in out and "3 folds" in out


def test_plan_json(cli, write_recipe):
    code, out, _ = cli("plan", write_recipe(TITANIC), "--json")
    plan = __import__("json").loads(out)
    assert [s["name"] for s in plan["steps"]] == ["adapt", "preprocess", "model"]
    assert plan["cv"]["folds"] == 3


def test_usage_error_exit_2(cli):
    code, _, err = cli("run")
    assert code == 2 and "recipe" in err
    code, _, err = cli("frobnicate")
    assert code == 2


def _subprocess(*args, **kw):
    return subprocess.run([sys.executable, "-m", "mlengine", *args], capture_output=True, text=True, cwd=ROOT, **kw)


def test_help_is_fast_and_imports_nothing_heavy():
    code = ("import sys, mlengine.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('lightgbm', 'sklearn', 'flaml', 'onnx', 'skl2onnx', 'pandas', 'hydra') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out


def test_validate_does_not_import_lightgbm_or_flaml():
    code = ("import sys, mlengine.cli as c\n"
            f"c.main(['validate', r'{RECIPES / 'titanic.yaml'}'])\n"
            "print('HEAVY', [m for m in ('lightgbm', 'flaml', 'onnx', 'skl2onnx') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out


def test_user_error_has_no_traceback_in_a_real_process(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndata: [oops\n")
    res = _subprocess("run", str(bad), "--runs-dir", str(tmp_path / "runs"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "malformed YAML at line" in res.stderr
