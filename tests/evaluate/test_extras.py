"""`evaluate`: rule baselines, business value, slices, per-class metrics, and the quality gate (exit 3)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATA, read_json
from tests.modelling import MAMMO, TITANIC_M, error_of, run_json

RULES = """evaluate:
  metrics: [roc_auc, average_precision, f1, recall, precision]
  baselines: [no_skill, {rule: "sex == 'female'", name: women_first}, {rule: "pclass == 1 and age < 40"}]
  value: {true_positive: 10, false_positive: -2, false_negative: -5, true_negative: 0}
  slices: [sex, age, who]
"""


@pytest.mark.slow
def test_rule_baselines_value_and_slices(cli, write_recipe, runs_dir):
    metrics, run = run_json(cli, write_recipe(TITANIC_M + RULES), runs_dir)
    raw = pd.read_csv(DATA / "titanic.csv")
    preds = pd.read_parquet(run / "predictions.parquet")
    hold = raw.iloc[preds["row"].to_numpy()]
    women = (hold["sex"] == "female").to_numpy()
    y = preds["y_true"].to_numpy()
    # the rule is scored on the same holdout rows, as a hard classifier
    recall = (women & (y == 1)).sum() / (y == 1).sum()
    assert abs(metrics["baselines"]["women_first"]["recall"] - recall) < 1e-12
    assert set(metrics["baselines"]) == {"no_skill", "women_first", "rule_2"}
    assert metrics["baseline_rules"]["rule_2"] == "pclass == 1 and age < 40"
    # value per 1,000 predictions from the outcome counts, for the model and each baseline
    value = metrics["value"]
    counts = value["counts"]["women_first"]
    assert counts["true_positive"] == int((women & (y == 1)).sum())
    expected = 1000 * (10 * counts["true_positive"] - 2 * counts["false_positive"] - 5 * counts["false_negative"]) / len(y)
    assert abs(value["per_1000"]["women_first"] - expected) < 1e-9
    assert set(value["per_1000"]) == {"model", "no_skill", "women_first", "rule_2"}
    assert value["per_1000"]["no_skill"] == 1000 * -5 * (y == 1).sum() / len(y)
    m = value["counts"]["model"]
    assert m["true_positive"] + m["false_negative"] == (y == 1).sum()
    # slices: by a feature, a numeric feature in quantile bins, and a dropped column
    sl = metrics["slices"]
    assert {g["value"] for g in sl["sex"]["groups"]} == {"male", "female"}
    female = next(g for g in sl["sex"]["groups"] if g["value"] == "female")
    assert female["rows"] == women.sum() and abs(female["positive_rate"] - y[women].mean()) < 1e-12
    assert sl["age"]["kind"].startswith("numeric") and any(g["value"] == "(missing)" for g in sl["age"]["groups"])
    assert {g["value"] for g in sl["who"]["groups"]} == {"man", "woman", "child"} and "roc_auc" in sl["sex"]["gap"]
    assert set(metrics["per_class"]) == {"0", "1"} and metrics["per_class"]["1"]["support"] == (y == 1).sum()
    code, out, _ = cli("run", write_recipe(TITANIC_M + RULES), "--runs-dir", runs_dir)
    assert code == 0 and "women_first" in out and "rule_2" in out


def test_gate_failure_exits_3_and_keeps_the_artifacts(cli, write_recipe, runs_dir):
    gate = ("evaluate:\n  metric: average_precision\n  require:\n    - {metric: average_precision, min: 0.99}\n"
            "    - {metric: average_precision, beats: no_skill, by: 0.05}\n    - {metric: log_loss, max: 1.0}\n")
    code, out, err = cli("run", write_recipe(MAMMO + gate, files=("mammography.csv",)), "--runs-dir", runs_dir,
                         "--json")
    assert code == 3
    ap = read_json(f"{json.loads(out)['run_dir']}/metrics.json")["holdout"]["average_precision"]
    assert err.count(f"gate failed: holdout average_precision {ap:.4f}, needs >= 0.99") == 1
    assert "Traceback" not in err
    summary = json.loads(out)  # one JSON object: the metrics, then why it failed
    assert summary["status"] == "failed" and summary["exit_code"] == 3
    assert summary["metrics"]["holdout"]["average_precision"] == ap and summary["gate"]["passed"] is False
    run = summary["run_dir"]
    status = read_json(f"{run}/status.json")
    assert status["status"] == "failed" and status["error"]["type"] == "QualityGateError"
    metrics = read_json(f"{run}/metrics.json")
    checks = metrics["gate"]["checks"]
    assert [c["passed"] for c in checks] == [False, True, True, True] and metrics["gate"]["passed"] is False
    assert checks[-1]["key"] == "evaluate.require_beats_no_skill"
    assert (pd.read_parquet(f"{run}/predictions.parquet").shape[0]) == 2237 and (
        __import__("pathlib").Path(run) / "model.joblib").exists()


def test_gate_pass_on_cv_and_value(cli, write_recipe, runs_dir):
    text = MAMMO + ("evaluate:\n  value: {false_positive: -1, false_negative: -20}\n  baselines:\n    - no_skill\n"
                    "    - {rule: 'f5 > 1.5', name: f5_rule}\n  require:\n"
                    "    - {metric: roc_auc, min: 0.8, where: cv}\n    - {metric: value_per_1000, beats: no_skill}\n"
                    "threshold: {objective: cost}\n")
    metrics, _ = run_json(cli, write_recipe(text, files=("mammography.csv",)), runs_dir)
    assert metrics["gate"]["passed"] is True
    assert metrics["threshold"]["matrix_kind"] == "value (maximised)"
    assert metrics["value"]["per_1000"]["model"] > metrics["value"]["per_1000"]["no_skill"]
    assert metrics["value"]["per_1000"]["model"] > metrics["value"]["per_1000"]["f5_rule"]


def test_regression_residuals(cli, write_recipe, runs_dir):
    text = ("name: w\ndata:\n  source: {kind: csv, path: data/wage_panel.csv}\n  target: lwage\n  group: nr\n"
            "model: {params: {n_estimators: 30}, n_jobs: 1}\ncv: {folds: 3}\nevaluate: {slices: [black]}\n")
    metrics, run = run_json(cli, write_recipe(text, files=("wage_panel.csv",)), runs_dir)
    preds = pd.read_parquet(run / "predictions.parquet")
    res = preds["y_true"] - preds["y_pred"]
    assert abs(metrics["residuals"]["mean"] - res.mean()) < 1e-9
    assert abs(metrics["residuals"]["quantiles"]["0.5"] - np.quantile(res, 0.5)) < 1e-9
    assert {g["value"] for g in metrics["slices"]["black"]["groups"]} == {"0", "1"}
    assert "rmse" in metrics["slices"]["black"]["groups"][0]


# ------------------------------------------------------------------------------------------------ bad input ---
def test_rule_naming_an_unknown_column_or_not_boolean(cli, write_recipe):
    bad = TITANIC_M + "evaluate:\n  baselines: [no_skill, {rule: \"sexx == 'female'\"}]\n"
    err = error_of(cli, write_recipe(bad))
    assert "evaluate.baselines[1].rule" in err and "'sexx'" in err and "Did you mean 'sex'" in err
    err = error_of(cli, write_recipe(TITANIC_M + "evaluate:\n  baselines: [{rule: 'age * 2'}]\n"))
    assert "evaluate.baselines[0].rule" in err and "not true/false" in err
    err = error_of(cli, write_recipe(TITANIC_M + "evaluate:\n  baselines: [{rule: 'survived == 1'}]\n"))
    assert "reads the target" in err
    err = error_of(cli, write_recipe(TITANIC_M + "evaluate:\n  baselines: [{rule: 'age >'}]\n"))
    assert "not a valid pandas expression" in err


def test_evaluate_recipe_checks(cli, write_recipe):
    path = write_recipe(TITANIC_M)
    err = error_of(cli, path, "evaluate.baselines=[no_skil]", "--no-data")
    assert "evaluate.baselines[0]" in err and "Did you mean 'no_skill'" in err
    err = error_of(cli, path, "evaluate.slices=[sexx]")
    assert "evaluate.slices[0]" in err and "Did you mean 'sex'" in err
    err = error_of(cli, path, "+evaluate.require=[{metric: f1, beats: rule_9}, {metric: value_per_1000, min: 0}]",
                   "--no-data")
    assert "no baseline named 'rule_9'" in err and "needs evaluate.value" in err
    err = error_of(cli, path, "task=multiclass", "+evaluate.value={true_positive: 1}", "--no-data")
    assert "evaluate.value" in err and "binary" in err
    err = error_of(cli, path, "split.holdout=0", "evaluate.slices=[sex]", "--no-data")
    assert "evaluate.slices: is scored on the holdout" in err
