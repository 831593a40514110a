"""mlengine.evaluate.finish: when the CV fold models must be kept, how the saved estimator tree is described, and
the per-fold scores of the final (calibrated, thresholded) model's out-of-fold predictions."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlengine.evaluate.finish import describe_structure, final_cv_scores, needs_fold_models
from mlengine.plan import compile_recipe
from mlengine.recipe.validate import validate_config

from tests.modelling import TITANIC_M, run_json

Y = np.array([0, 1, 0, 1, 1, 0])
OOF = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.55, 0.45], [0.1, 0.9]])  # rows 0-4 (row 5: no prediction)
ROWS = np.array([True, True, True, True, True, False])
FOLDS = [np.array([0, 1]), np.array([2, 3, 4, 5]), np.array([5])]


def _plan(**sections):
    config = yaml.safe_load(TITANIC_M)
    config.update(sections)
    return compile_recipe(validate_config(config), task="binary", classes=[0, 1])


def test_fold_models_are_needed_for_selection_and_decision_function_calibration():
    assert needs_fold_models(_plan()) is False
    assert needs_fold_models(_plan(select={"method": "kbest", "k": 3})) is True
    calibrated = _plan(calibration={"method": "sigmoid"})
    assert needs_fold_models(calibrated) is True  # without the pipeline: assume it may need them
    linear = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())])
    forest = Pipeline([("scale", StandardScaler()), ("model", RandomForestClassifier())])
    assert needs_fold_models(calibrated, linear) is True  # decision_function scores are not in the CV result
    assert needs_fold_models(calibrated, forest) is False  # predict_proba: the out-of-fold values suffice
    assert needs_fold_models(_plan(), linear) is False


def test_describe_structure_lists_the_saved_tree_outermost_first():
    X, y = np.array([[0.0], [1.0], [2.0], [3.0]] * 5), np.array([0, 1, 0, 1] * 5)
    pipe = Pipeline([("scale", StandardScaler()), ("model", CalibratedClassifierCV(LogisticRegression(), cv=2))])
    assert describe_structure(pipe) == ["Pipeline(scale=StandardScaler, model=CalibratedClassifierCV)",
                                        "model=CalibratedClassifierCV(LogisticRegression)"]
    plain = Pipeline([("model", DummyClassifier())]).fit(X, y)
    wrapped = FixedThresholdClassifier(plain, threshold=0.3125, pos_label=1, response_method="predict_proba")
    assert describe_structure(wrapped) == [
        "FixedThresholdClassifier(threshold=0.3125, pos_label=1, response_method='predict_proba')",
        "Pipeline(model=DummyClassifier)"]
    assert describe_structure(DummyClassifier()) == []


def test_final_cv_scores_by_argmax_skip_rows_without_a_prediction():
    out = final_cv_scores(OOF, ROWS, Y, FOLDS, ["accuracy", "roc_auc"], [0, 1], 1, None)
    # fold 1: rows 0, 1 both right; fold 2: rows 2-4 (row 5 has none), row 3 (P=0.45) wrong; fold 3: empty
    assert out["accuracy"] == {"mean": pytest.approx(5 / 6), "std": pytest.approx(1 / 6),
                               "folds": [1.0, pytest.approx(2 / 3)]}
    assert out["roc_auc"]["folds"] == [1.0, 1.0]


def test_final_cv_scores_follow_the_threshold_not_argmax():
    out = final_cv_scores(OOF, ROWS, Y, FOLDS, ["accuracy", "f1"], [0, 1], 1, 0.42)
    assert out["accuracy"] == {"mean": 1.0, "std": 0.0, "folds": [1.0, 1.0]}
    strict = final_cv_scores(OOF, ROWS, Y, FOLDS, ["accuracy"], [0, 1], 1, 0.8)  # only row 4 is positive
    assert strict["accuracy"]["folds"] == [0.5, pytest.approx(2 / 3)]


def test_final_cv_scores_with_string_labels_and_a_pooled_fold():
    y = np.array(["no", "yes", "no", "yes", "yes", "no"], dtype=object)
    out = final_cv_scores(OOF, ROWS, y, [np.flatnonzero(ROWS)], ["accuracy"], ["no", "yes"], "yes", 0.5)
    assert out["accuracy"] == {"mean": 0.8, "std": 0.0, "folds": [0.8]}


ENSEMBLE = TITANIC_M + """resample: {method: random_over}
select: {method: kbest, k: 6}
reduce: {method: pca, n_components: 3}
search:
  trials: 0
  ensemble:
    method: voting
    members:
      - {model: logistic_regression, params: {C: 0.5}, pipeline_params: {select.k: 4}}
      - {model: random_forest, params: {n_estimators: 5}}
"""


def test_an_ensemble_records_what_each_member_resampled_selected_and_reduced(cli, write_recipe, runs_dir):
    """A kept ensemble (the search's default is greedy) has no top-level select step: each member has its own, with
    its own searched values, so metrics.json records them per member instead of saying nothing."""
    m, _ = run_json(cli, write_recipe(ENSEMBLE), runs_dir)
    names = ["member0_logistic_regression", "member1_random_forest"]
    sel, red, res = m["selection"], m["reduce"], m["resample"]
    assert sel["method"] == "kbest" and list(sel["members"]) == names
    assert [sel["members"][n]["n_selected"] for n in names] == [4, 6]  # member 0's own select.k
    assert all(len(sel["members"][n]["selected"]) == sel["members"][n]["n_selected"] for n in names)
    assert red["method"] == "pca" and [red["members"][n]["n_in"] for n in names] == [4, 6]
    assert all(red["members"][n]["n_components"] == 3 for n in names)
    assert res["method"] == "random_over" and list(res["members"]) == names
    counts = res["members"][names[0]]["training_counts_after"]
    assert len(set(counts.values())) == 1  # random_over balanced the member's training rows
