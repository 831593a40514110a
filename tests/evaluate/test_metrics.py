"""The metric registry (mlengine/evaluate/metrics.py): each metric against a hand computation or scikit-learn on a
case where the positive class or label order matters, directions, and the recipe check."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlengine.evaluate.metrics import DEFAULT_METRICS, DEFAULT_PRIMARY, METRICS, check_metric, score_all

# binary with string labels; the positive class "a" is column 0 of the probabilities, not the last
Y = np.array(["a", "b", "a", "a", "b", "b", "a", "b"])
CLASSES = ["a", "b"]
P_A = np.array([0.9, 0.4, 0.6, 0.3, 0.2, 0.55, 0.8, 0.1])  # P(a)
PROBA = np.column_stack([P_A, 1 - P_A])
PRED = np.where(P_A >= 0.5, "a", "b")


def _score(name, y=Y, pred=PRED, proba=PROBA, classes=CLASSES, pos="a"):
    return METRICS[name].score(y, pred=pred, proba=proba, classes=classes, pos_label=pos)


def test_binary_metrics_score_the_positive_class_column():
    is_a = (Y == "a").astype(int)
    assert _score("roc_auc") == pytest.approx(skm.roc_auc_score(is_a, P_A))
    assert _score("average_precision") == pytest.approx(skm.average_precision_score(is_a, P_A))
    assert _score("brier") == pytest.approx(np.mean((P_A - is_a) ** 2))
    assert _score("f1") == pytest.approx(skm.f1_score(Y, PRED, pos_label="a"))
    assert _score("recall") == pytest.approx(3 / 4) and _score("precision") == pytest.approx(3 / 4)
    assert _score("accuracy") == pytest.approx(6 / 8)
    assert _score("log_loss") == pytest.approx(skm.log_loss(Y, PROBA, labels=CLASSES))
    # the other class as positive mirrors the rank metrics
    assert _score("roc_auc", pos="b", proba=PROBA) == pytest.approx(skm.roc_auc_score(1 - is_a, 1 - P_A))


def test_log_loss_is_finite_for_certain_wrong_answers():
    proba = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert np.isfinite(_score("log_loss", y=np.array(["b", "a"]), pred=np.array(["a", "b"]), proba=proba))


def test_multiclass_metrics_are_macro_over_the_given_classes():
    y = np.array(["x", "y", "z", "x", "y", "z"])
    proba = np.array([[.7, .2, .1], [.1, .8, .1], [.2, .2, .6], [.3, .4, .3], [.5, .4, .1], [.1, .1, .8]])
    pred = np.array(["x", "y", "z", "y", "x", "z"])
    cls = ["x", "y", "z"]
    assert _score("roc_auc", y, pred, proba, cls) == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=cls))
    assert _score("f1", y, pred, proba, cls) == pytest.approx(skm.f1_score(y, pred, average="macro"))
    onehot = (y[:, None] == np.array(cls)[None, :]).astype(float)
    assert _score("brier", y, pred, proba, cls) == pytest.approx(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    assert _score("balanced_accuracy", y, pred, proba, cls) == pytest.approx(2 / 3)


def test_regression_metrics():
    y, pred = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    reg = {n: METRICS[n].score(y, pred=pred) for n in ("rmse", "mae", "r2", "mape")}
    assert reg["rmse"] == pytest.approx(np.sqrt((0.25 + 0 + 1) / 3)) and reg["mae"] == pytest.approx(0.5)
    assert reg["r2"] == pytest.approx(skm.r2_score(y, pred)) and reg["mape"] == pytest.approx((0.5 + 0.25) / 3)
    assert score_all(["rmse", "mae"], y, pred=pred, proba=None, classes=[], pos_label=None) == {
        "rmse": reg["rmse"], "mae": reg["mae"]}


def test_directions_and_defaults_fit_their_tasks():
    assert METRICS["log_loss"].better(0.2, 0.3) and not METRICS["roc_auc"].better(0.2, 0.3)
    assert not METRICS["r2"].better(0.5, 0.5)  # strictly better
    for task, names in DEFAULT_METRICS.items():
        assert all(task in METRICS[n].tasks for n in names) and DEFAULT_PRIMARY[task] in METRICS


def test_the_recipe_check_names_the_key_and_the_allowed_metrics():
    assert check_metric("evaluate.metric", "roc_auc", "binary") == []
    assert check_metric("evaluate.metric", "rmse", "auto") == []
    (unknown,) = check_metric("evaluate.metric", "roc_acu", "binary")
    assert unknown.path == "evaluate.metric" and "'roc_acu'" in unknown.message and "roc_auc" in unknown.message
    (wrong,) = check_metric("search.metric", "rmse", "binary")
    assert "does not fit task 'binary'" in wrong.message and "roc_auc" in wrong.message
