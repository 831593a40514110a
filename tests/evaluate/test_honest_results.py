"""Honest result tables: the CV column describes the saved (calibrated, thresholded) model, a failed gate shows
the evidence before one `gate failed:` line, and a model worse than no-skill is warned about and gated."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import read_json
from tests.modelling import MAMMO, TITANIC_M

MAMMO_FINISHED = MAMMO + """resample: {method: smote, k_neighbors: 5, sampling_strategy: 0.25}
calibration: {method: sigmoid}
threshold: {objective: cost}
evaluate:
  metrics: [average_precision, roc_auc, brier, log_loss, recall, precision, f1]
  metric: average_precision
  value: {true_positive: 0, false_positive: -100, false_negative: -2000, true_negative: 0}
"""
# deliberately overfit: over-confident probabilities, holdout log loss far above the class prior's
OVERFIT = TITANIC_M.replace("params: {n_estimators: 25}", "params: {n_estimators: 60, learning_rate: 1.0, "
                            "num_leaves: 63, min_child_samples: 1}") + \
    "evaluate: {metric: log_loss, metrics: [log_loss, roc_auc, brier, accuracy]}\n"


@pytest.mark.slow
def test_cv_is_scored_on_the_final_pipelines_out_of_fold_predictions(write_recipe, runs_dir):
    """Recomputed here from the fold models' out-of-fold scores, the saved calibrator and the saved threshold."""
    from mlengine.api import load_recipe
    from mlengine.cli import format_summary
    from mlengine.hooks import Hook
    from mlengine.runner import run_recipe

    kept: dict = {}

    class Keep(Hook):
        def after_stage(self, name, state):
            if name == "fit":
                kept.update(cv=state.cv_result, X=state.X_tr, y=state.y_tr.to_numpy())

    path = write_recipe(MAMMO_FINISHED, files=("mammography.csv",))
    result = run_recipe(load_recipe(path), runs_dir=runs_dir, hooks=[Keep()])
    m = read_json(result.run_dir / "metrics.json")
    model, cv = result.model, kept["cv"]
    t = model.threshold
    assert t == m["threshold"]["threshold"] and t < 0.5  # cost threshold far from the default 0.5
    calibrator = model.estimator.steps[-1][1].calibrated_classifiers_[0].calibrators[0]
    by_metric: dict[str, list[float]] = {"precision": [], "recall": [], "brier": []}
    for est, (_, va) in zip(cv.models, cv.folds, strict=True):
        p = calibrator.predict(np.asarray(est.decision_function(kept["X"].iloc[va]), dtype=float))
        y = kept["y"][va] == 1
        hit = p >= t
        by_metric["precision"].append((hit & y).sum() / hit.sum())
        by_metric["recall"].append((hit & y).sum() / y.sum())
        by_metric["brier"].append(float(np.mean((p - y) ** 2)))
    for name, values in by_metric.items():
        assert m["cv"][name]["mean"] == pytest.approx(np.mean(values), abs=1e-9), name
        assert m["cv"][name]["folds"] == pytest.approx(values, abs=1e-9), name
    # the model before calibration/threshold is kept, labelled, and differs where the threshold matters
    raw = m["cv_uncalibrated"]
    assert raw["recall"]["folds"] == pytest.approx(cv.scores["recall"])
    assert abs(raw["recall"]["mean"] - m["cv"]["recall"]["mean"]) > 0.01
    assert "sigmoid calibration" in m["cv_describes"]["cv"] and "threshold" in m["cv_describes"]["cv"]
    table = format_summary(result)
    assert "cv before*" in table and "before calibration/threshold" in table
    recall_row = next(line for line in table.splitlines() if line.startswith("recall"))
    assert f"{m['cv']['recall']['mean']:.4f}" in recall_row and f"{raw['recall']['mean']:.4f}" in recall_row
    assert result.summary()["cv_uncalibrated"] == raw
    assert "cv before calibration/threshold" in result._repr_html_()  # the notebook table too
    html = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert "CV before calibration/threshold" in html and "saved model" in html


@pytest.mark.slow
def test_a_failed_gate_prints_the_table_then_one_honest_line(cli, write_recipe, runs_dir):
    path = write_recipe(TITANIC_M + "evaluate:\n  require:\n    - {metric: roc_auc, min: 0.999}\n")
    code, out, err = cli("run", path, "--runs-dir", runs_dir)
    assert code == 3 and "Traceback" not in err
    run = next(runs_dir.glob("t/2*"))
    auc = read_json(run / "metrics.json")["holdout"]["roc_auc"]
    assert out.startswith("task: binary") and "holdout" in out and f"{auc:.4f}" in out  # the evidence, on stdout
    line = f"gate failed: holdout roc_auc {auc:.4f}, needs >= 0.999"
    assert err.count(line) == 1 and (out + err).count("gate failed") == 1
    assert " >= 0.999 (" not in err and "FAILED" not in err  # no statement that reads as if it held
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json")
    assert code == 3 and len(out.strip().splitlines()) == 1
    summary = json.loads(out)
    assert summary["status"] == "failed" and summary["exit_code"] == 3
    assert summary["error"].startswith("gate failed: holdout roc_auc ") and summary["error"].endswith(", needs >= 0.999")
    assert summary["metrics"]["holdout"]["roc_auc"] and summary["gate"]["checks"][0]["passed"] is False


@pytest.mark.slow
def test_worse_than_no_skill_is_warned_and_gated(cli, write_recipe, runs_dir):
    path = write_recipe(OVERFIT)
    code, out, err = cli("run", path, "--runs-dir", runs_dir)
    assert code == 3, err
    m = read_json(next(runs_dir.glob("t/2*")) / "metrics.json")
    ll, base = m["holdout"]["log_loss"], m["baselines"]["no_skill"]["log_loss"]
    assert ll > base
    assert f"gate failed: holdout log_loss {ll:.4f}, needs < no_skill {base:.4f} (evaluate.require_beats_no_skill)" \
        in err
    worse = [w for w in m["warnings"] if w.startswith("holdout log_loss ")]
    assert len(worse) == 1 and f"warning: {worse[0]}" in err
    # every warned metric is one the model is really worse on, and every such metric is warned about
    from mlengine.evaluate.metrics import METRICS

    expected = {k for k, v in m["holdout"].items() if METRICS[k].better(m["baselines"]["no_skill"][k], v)}
    assert {w.split()[1] for w in m["warnings"]} == expected
    # turned off: the run completes, still warning (log, metrics.json, report)
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "evaluate.require_beats_no_skill=false")
    assert code == 0 and "warning: holdout log_loss" in err
    run = max(runs_dir.glob("t/2*"))
    m = read_json(run / "metrics.json")
    assert "gate" not in m and m["warnings"]
    assert "worse than the no-skill baseline" in (run / "report.html").read_text(encoding="utf-8")
    # no_skill left out of the baselines: still compared against it
    assert cli("run", path, "--runs-dir", runs_dir, "evaluate.baselines=[]", "--quiet")[0] == 3


def test_no_skill_warnings_and_check():
    from mlengine.evaluate.gates import beats_no_skill_check
    from mlengine.evaluate.judge import no_skill_warnings
    from mlengine.runs.metrics_record import Gate

    hold = {"roc_auc": 0.5, "log_loss": 0.6, "accuracy": 0.7}
    base = {"roc_auc": 0.5, "log_loss": 0.7, "accuracy": 0.8}
    assert no_skill_warnings(hold, base) == [
        "holdout accuracy 0.7000 is worse than the no-skill baseline's 0.8000 (higher is better)"]
    check = beats_no_skill_check({"primary_metric": "roc_auc", "holdout": hold}, base)
    assert check["passed"] is False  # equal is not better
    assert Gate(passed=False, checks=[check]).message() == ("gate failed: holdout roc_auc 0.5000, needs > no_skill 0.5000 "
                                                 "(evaluate.require_beats_no_skill)")
    assert beats_no_skill_check({"primary_metric": "roc_auc", "holdout": None}, base) is None
