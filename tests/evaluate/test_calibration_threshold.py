"""`calibration` and `threshold`: fitted on out-of-fold predictions of the training split, saved inside the model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlengine
from mlengine.evaluate.threshold import tune_threshold
from mlengine.sections.threshold import F1, Cost, ValueMatrix

from tests.conftest import DATA
from tests.modelling import MAMMO, TAXI, TITANIC_M, error_of, run_json


def test_calibration_and_tuned_threshold_end_to_end(cli, write_recipe, runs_dir):
    text = MAMMO + ("resample: {method: random_under, sampling_strategy: 0.2}\ncalibration: {method: sigmoid}\n"
                    "threshold: {objective: f1}\n")
    path = write_recipe(text, files=("mammography.csv",))
    code, out, _ = cli("plan", path)
    assert "[after_search] CalibratedClassifierCV(sigmoid)" in out and "[after_search] FixedThresholdClassifier" in out
    metrics, run = run_json(cli, path, runs_dir)
    cal = metrics["calibration"]
    assert cal["response"] == "decision_function" and cal["rows"] == metrics["rows"]["train"] == 8946
    # undersampling inflates P(malignant); calibrating on untouched out-of-fold rows brings it back
    assert cal["holdout"]["after"]["brier"] < cal["holdout"]["before"]["brier"]
    assert cal["holdout"]["after"]["log_loss"] < cal["holdout"]["before"]["log_loss"]
    rel = cal["reliability"]
    assert rel["on"] == "holdout" and sum(p["count"] for p in rel["after"]["points"]) == metrics["rows"]["holdout"]
    assert rel["after"]["expected_calibration_error"] < rel["before"]["expected_calibration_error"]
    th = metrics["threshold"]
    assert th["objective"] == "f1" and 0 < th["threshold"] < 1 and "out-of-fold calibrated" in th["chosen_on"]

    model = mlengine.load_model(run)
    est = model.estimator
    assert type(est).__name__ == "FixedThresholdClassifier" and est.threshold == th["threshold"]
    assert est.pos_label == 1 and est.response_method == "predict_proba"
    inner = est.estimator
    assert [n for n, _ in inner.steps] == ["adapt", "preprocess", "model"]
    calib = inner.steps[-1][1]
    assert type(calib).__name__ == "CalibratedClassifierCV" and calib.ensemble is False
    assert len(calib.calibrated_classifiers_) == 1 and type(calib.estimator).__name__ == "LGBMClassifier"
    bundle = json.loads((run / "model.json").read_text())
    assert bundle["threshold"]["value"] == th["threshold"] and bundle["calibration"]["method"] == "sigmoid"

    # holdout labels, predictions.parquet and label metrics all follow the threshold, not argmax
    preds = pd.read_parquet(run / "predictions.parquet")
    assert (preds["y_pred"] == (preds["proba_1"] >= th["threshold"]).astype(int)).all()
    assert (preds["y_pred"] != (preds["proba_1"] >= 0.5).astype(int)).any()
    tp = int(((preds["y_pred"] == 1) & (preds["y_true"] == 1)).sum())
    assert metrics["confusion_matrix"]["matrix"][1][1] == tp
    f1 = 2 * tp / (int((preds["y_pred"] == 1).sum()) + int((preds["y_true"] == 1).sum()))
    assert abs(metrics["holdout"]["f1"] - f1) < 1e-12
    rows = pd.read_csv(DATA / "mammography.csv").drop(columns=["malignant"]).head(300)
    p = model.predict_proba(rows)[:, 1]
    assert (model.predict(rows) == (p >= th["threshold"]).astype(int)).all()


def test_a_model_without_decision_function_keeps_its_ranking_after_calibration(cli, write_recipe, runs_dir):
    """XGBoost is calibrated on predict_proba: the out-of-fold calibrated probabilities (which choose the threshold
    and give the saved model's CV) once calibrated P(benign), so CV average precision fell below no-skill (0.012),
    the cost threshold landed at 0.82 and holdout recall was 0 (mammography.yaml with model=xgboost)."""
    text = MAMMO.replace("name: lightgbm\n  params: {n_estimators: 25, num_leaves: 7}",
                         "name: xgboost\n  params: {n_estimators: 25, max_depth: 3}\n  early_stopping: {enabled: false}")
    text += ("resample: {method: smote, sampling_strategy: 0.25}\ncalibration: {method: sigmoid}\n"
             "threshold: {objective: cost}\nevaluate:\n  metrics: [average_precision, recall]\n"
             "  value: {true_positive: 0, false_positive: -100, false_negative: -2000, true_negative: 0}\n")
    metrics, _ = run_json(cli, write_recipe(text, files=("mammography.csv",)), runs_dir)
    assert metrics["calibration"]["response"] == "predict_proba"
    assert metrics["calibration"]["oof"]["after"]["brier"] < metrics["calibration"]["oof"]["before"]["brier"]
    before, after = metrics["cv_uncalibrated"]["average_precision"]["mean"], metrics["cv"]["average_precision"]["mean"]
    assert before > 0.5 and after > before - 0.05  # calibration is monotone: the ranking stays
    assert metrics["threshold"]["threshold"] < 0.5  # a missed cancer costs 20 biopsies
    assert metrics["holdout"]["recall"] > 0.5 and metrics["cv"]["recall"]["mean"] > 0.5


@pytest.mark.parametrize("method", ["isotonic", "temperature"])
def test_calibration_methods_multiclass(cli, write_recipe, runs_dir, method):
    text = TITANIC_M.replace("data/titanic.csv", "data/penguins.csv").replace("target: survived", "target: species")
    text = text.replace("  drop: [alive, who, adult_male, class, embark_town]\n", "")
    metrics, run = run_json(cli, write_recipe(text + f"calibration: {{method: {method}}}\n",
                                              files=("penguins.csv",)), runs_dir)
    cal = metrics["calibration"]
    assert cal["method"] == method and set(cal["holdout"]) == {"before", "after"}
    assert cal["reliability"]["after"]["what"] == "top-class confidence vs accuracy"
    proba = mlengine.load_model(run).predict_proba(pd.read_csv(DATA / "penguins.csv").head(20))
    assert proba.shape == (20, 3) and np.allclose(proba.sum(axis=1), 1)


@pytest.mark.parametrize("objective,extra", [
    ("fixed", "value: 0.2"), ("f_beta", "beta: 2"), ("balanced_accuracy", ""), ("youden", ""),
    ("precision_at_recall", "min_recall: 0.8"), ("recall_at_precision", "min_precision: 0.6"),
    ("cost", "cost: {false_positive: 1, false_negative: 20}"),
])
def test_threshold_objectives(cli, write_recipe, runs_dir, objective, extra):
    text = MAMMO + f"threshold: {{objective: {objective}{', ' + extra if extra else ''}}}\n"
    metrics, run = run_json(cli, write_recipe(text, files=("mammography.csv",)), runs_dir)
    th = metrics["threshold"]
    preds = pd.read_parquet(run / "predictions.parquet")
    assert (preds["y_pred"] == (preds["proba_1"] >= th["threshold"]).astype(int)).all()
    if objective == "fixed":
        assert th["threshold"] == 0.2
        return
    at = th["at_threshold"]
    if objective == "precision_at_recall":
        assert at["recall"] >= 0.8
    if objective == "recall_at_precision":
        assert at["precision"] >= 0.6
    if objective in ("f_beta", "cost", "balanced_accuracy", "youden"):  # recall-leaning objectives: below 0.5
        assert th["threshold"] < 0.5


def test_tune_threshold_picks_the_best_on_out_of_fold_scores():
    """Against a brute-force scan on real out-of-fold-like scores (mammography feature f5 as a score)."""
    d = pd.read_csv(DATA / "mammography.csv").iloc[:3000]
    y = d["malignant"].to_numpy()
    score = 1 / (1 + np.exp(-d["f5"].to_numpy()))
    t, detail = tune_threshold(y, score, F1(objective="f1"), None)

    def f1(th):
        p = score >= th
        tp = np.sum(p & (y == 1))
        return 2 * tp / (np.sum(p) + np.sum(y == 1))

    best = max(f1(u) for u in np.unique(score))
    assert abs(f1(t) - best) < 1e-12 and abs(detail["objective_value"] - best) < 1e-12
    section = Cost(objective="cost", cost=ValueMatrix(false_positive=1, false_negative=50))
    t_cost, detail = tune_threshold(y, score, section, None)

    def cost(th):
        p = score >= th
        return (np.sum(p & (y == 0)) + 50 * np.sum(~p & (y == 1))) / len(y)

    assert abs(cost(t_cost) - min(cost(u) for u in [*np.unique(score), 2.0])) < 1e-12
    assert abs(detail["objective_value"] - cost(t_cost)) < 1e-12


# ------------------------------------------------------------------------------------------------ bad input ---
def test_threshold_on_multiclass_or_regression(cli, write_recipe):
    text = TITANIC_M.replace("data/titanic.csv", "data/penguins.csv").replace("target: survived", "target: species")
    text = text.replace("  drop: [alive, who, adult_male, class, embark_town]\n", "")
    path = write_recipe(text + "threshold: {objective: f1}\n", files=("penguins.csv",))
    err = error_of(cli, path)  # task auto: found multiclass when the data is read
    assert "threshold.objective" in err and "task is multiclass" in err
    err = error_of(cli, path, command="run")
    assert "task is multiclass" in err
    path = write_recipe(TAXI + "task: regression\nthreshold: {objective: fixed, value: 0.5}\n", name="r.yaml",
                        files=("nyc_taxis.csv",))
    err = error_of(cli, path, "--no-data")
    assert "threshold.objective" in err and "task is regression" in err


def test_calibration_on_regression(cli, write_recipe):
    path = write_recipe(TAXI + "task: regression\ncalibration: {method: isotonic}\n", files=("nyc_taxis.csv",))
    err = error_of(cli, path, "--no-data")
    assert "calibration.method" in err and "task is regression" in err


def test_leaky_requests_are_refused(cli, write_recipe):
    path = write_recipe(TITANIC_M)
    err = error_of(cli, path, "cv.kind=none", "calibration.method=sigmoid", "threshold.objective=f1", "--no-data")
    assert "calibration.method" in err and "would leak" in err and "threshold.objective" in err
    err = error_of(cli, path, "threshold.objective=f_beta", "threshold.min_recall=0.5", "--no-data")
    assert "threshold.beta" in err and "threshold.min_recall: does not apply" in err
    err = error_of(cli, path, "threshold.objective=cost", "--no-data")
    assert "threshold.cost (or evaluate.value)" in err
