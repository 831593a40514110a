"""`threshold`: one typed option per objective; each builds, tunes what it says on out-of-fold scores, records what
was chosen, and refuses bad keys and values with the key, the value and what is allowed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from mlengine.errors import DataError
from mlengine.evaluate.threshold import tune_threshold
from mlengine.sections.threshold import THRESHOLD, Cost, NoThreshold, ValueMatrix

from tests.conftest import DATA
from tests.modelling import mammo_error as _error
from tests.modelling import mammo_recipe as _recipe

# each objective with the keys it needs (its own, nothing else)
OBJECTIVES = {
    "none": {}, "fixed": {"value": 0.2}, "f1": {}, "f_beta": {"beta": 2.0}, "balanced_accuracy": {},
    "youden": {}, "precision_at_recall": {"min_recall": 0.8}, "recall_at_precision": {"min_precision": 0.3},
    "cost": {"cost": {"false_positive": 1.0, "false_negative": 20.0}},
}


@pytest.fixture(scope="module")
def oof():
    """Out-of-fold probabilities of a real model (mammography, first 3,000 rows) and the model refitted on them."""
    d = pd.read_csv(DATA / "mammography.csv").iloc[:3000]
    X, y = d.drop(columns=["malignant"]), d["malignant"].to_numpy()
    est = LogisticRegression(max_iter=500)
    proba = cross_val_predict(est, X, y, cv=3, method="predict_proba")
    return X, y, proba, est.fit(X, y)


def _at(y: np.ndarray, score: np.ndarray, t: float) -> dict[str, float]:
    """Confusion counts and rates of `score >= t`, by hand."""
    p = score >= t
    tp, fp = float(np.sum(p & (y == 1))), float(np.sum(p & (y == 0)))
    fn, tn = float(np.sum(~p & (y == 1))), float(np.sum(~p & (y == 0)))
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn), "specificity": tn / (tn + fp)}


def _brute(name: str, m: dict[str, float], spec, value) -> float:
    """What each objective maximises, written from its definition (not from mlengine's code)."""
    if name in ("f1", "f_beta"):
        b2 = 1.0 if name == "f1" else spec.beta ** 2
        return (1 + b2) * m["tp"] / ((1 + b2) * m["tp"] + b2 * m["fn"] + m["fp"])
    if name == "balanced_accuracy":
        return (m["recall"] + m["specificity"]) / 2
    if name == "youden":
        return m["recall"] + m["specificity"] - 1
    if name == "precision_at_recall":
        return m["precision"] if m["recall"] >= spec.min_recall else -np.inf
    if name == "recall_at_precision":
        return m["recall"] if m["precision"] >= spec.min_precision else -np.inf
    matrix, sign = (spec.cost, -1.0) if spec.cost is not None else (value, 1.0)
    n = m["tp"] + m["fp"] + m["fn"] + m["tn"]
    return sign * (matrix.true_positive * m["tp"] + matrix.false_positive * m["fp"]
                   + matrix.false_negative * m["fn"] + matrix.true_negative * m["tn"]) / n


# ------------------------------------------------------------------------------------------------ options ---
def test_every_objective_is_one_registered_class_and_none_is_the_default():
    assert list(THRESHOLD) == list(OBJECTIVES)
    assert all(summary for summary in THRESHOLD.names().values())
    assert _recipe().threshold == NoThreshold() and THRESHOLD.default == "none"
    for name, cls in THRESHOLD.items():  # each class takes exactly its own keys
        assert set(cls.model_fields) - {"objective"} == set(OBJECTIVES[name]), name


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_every_objective_builds_checks_and_records(oof, name):
    X, y, proba, model = oof
    spec = _recipe(threshold={"objective": name, **OBJECTIVES[name]}).threshold
    assert type(spec) is THRESHOLD[name]
    if name != "cost":  # the recipe's keys are the option's parameters (the cost matrix fills in its zeros)
        assert spec.settings() == OBJECTIVES[name]
    assert spec.check("binary", "stratified_kfold", None) == []
    if name == "none":
        return
    wrapped, record = spec.apply(model, None, proba, y, [0, 1], 1, calibrated=False)
    t = record["threshold"]
    assert record["objective"] == name and record["positive_class"] == 1 and 0 < t < 1
    # the builder: scikit-learn's FixedThresholdClassifier around the fitted model, nothing refitted
    assert type(wrapped).__name__ == "FixedThresholdClassifier" and wrapped.estimator_ is model
    p = model.predict_proba(X)[:, 1]
    assert (wrapped.predict(X) == (p >= t).astype(int)).all()
    assert spec.bundle(record) == {"value": t, "positive_class": 1, "objective": name,
                                   "applies_to": "predict_proba[:, positive]",
                                   "rule": "positive when probability >= value"}
    if name == "fixed":
        assert t == 0.2 and record["chosen_on"] == "fixed in the recipe" and spec.plan_detail() == "fixed at 0.2"
        assert set(record) == {"objective", "positive_class", "threshold", "chosen_on"}
        return
    assert record["chosen_on"] == "out-of-fold probabilities of 3000 training rows"
    assert spec.plan_detail() == f"tuned for {name} on out-of-fold probabilities of the training split"
    own = {"cost": {"matrix", "matrix_kind"}}.get(name, set(OBJECTIVES[name]))
    assert set(record) == {"objective", "positive_class", "threshold", "objective_value", "at_threshold", "curve",
                           "chosen_on", *own}
    assert all(record[k] == getattr(spec, k) for k in own - {"matrix", "matrix_kind"})
    at = _at(y, proba[:, 1], t)
    assert record["at_threshold"]["recall"] == pytest.approx(at["recall"])
    assert record["at_threshold"]["precision"] == pytest.approx(at["precision"])
    assert 2 <= len(record["curve"]) <= 50


@pytest.mark.parametrize("name, with_value", [(n, False) for n in OBJECTIVES if n not in ("none", "fixed")]
                         + [("cost", True)])
def test_each_tuned_objective_picks_its_best_threshold(oof, name, with_value):
    """Against a brute-force scan over every distinct out-of-fold score, from the objective's definition; `cost`
    without a matrix of its own maximises the recipe's evaluate.value."""
    _, y, proba, _ = oof
    score = proba[:, 1]
    value = ValueMatrix(true_positive=50, false_positive=-2) if with_value else None
    spec = THRESHOLD[name](objective=name, **({} if with_value else OBJECTIVES[name]))
    t, detail = tune_threshold(y, score, spec, value)
    best = max(_brute(name, _at(y, score, u), spec, value) for u in np.unique(score))
    assert _brute(name, _at(y, score, t), spec, value) == pytest.approx(best, abs=1e-9)
    reported = -best if name == "cost" and spec.cost is not None else best  # a cost is reported as minimised
    assert detail["objective_value"] == pytest.approx(reported, abs=1e-6)


def test_cost_minimises_its_matrix_or_maximises_evaluate_value(oof):
    _, y, proba, model = oof
    spec = Cost(objective="cost", cost=ValueMatrix(false_positive=1, false_negative=20))
    _, rec = spec.apply(model, None, proba, y, [0, 1], 1, calibrated=True)
    assert rec["matrix_kind"] == "cost (minimised)" and rec["matrix"]["false_negative"] == 20
    assert rec["objective_value"] > 0 and "calibrated probabilities" in rec["chosen_on"]
    value = ValueMatrix(true_positive=50, false_positive=-2)
    _, rec = Cost(objective="cost").apply(model, value, proba, y, [0, 1], 1, calibrated=False)
    assert rec["matrix_kind"] == "value (maximised)" and rec["matrix"] == value.model_dump()
    assert Cost(objective="cost").check("binary", "kfold", value) == []


def test_youden_and_balanced_accuracy_share_their_optimum(oof):
    _, y, proba, _ = oof
    t_j, _ = tune_threshold(y, proba[:, 1], THRESHOLD["youden"](objective="youden"), None)
    t_b, _ = tune_threshold(y, proba[:, 1], THRESHOLD["balanced_accuracy"](objective="balanced_accuracy"), None)
    assert t_j == t_b


# ------------------------------------------------------------------------------------------------ bad input ---
def test_unknown_objective_names_the_allowed_ones():
    err = _error(threshold={"objective": "f_1"})
    assert "threshold.objective: unknown threshold objective 'f_1'. Did you mean 'f1'?" in err
    assert "Allowed: " in err and "recall_at_precision" in err


def test_a_key_of_another_objective_names_the_objectives_that_take_it():
    err = _error(threshold={"objective": "f1", "min_recall": 0.5})
    assert "threshold.min_recall: does not apply to objective 'f1'; it is a parameter of precision_at_recall." in err
    err = _error(threshold={"value": 0.3})  # no objective: the default 'none'
    assert "threshold.value: does not apply to objective 'none'; it is a parameter of fixed." in err
    err = _error(threshold={"objective": "f1", "tresh": 0.5})
    assert "threshold.tresh: unknown key 'tresh'" in err


def test_a_missing_key_says_which_objective_needs_it():
    err = _error(threshold={"objective": "f_beta"})
    assert "threshold.beta: objective 'f_beta' needs beta: weight of recall" in err
    err = _error(threshold={"objective": "fixed"})
    assert "threshold.value: objective 'fixed' needs value: the threshold on P(positive)" in err


@pytest.mark.parametrize("keys, where, says", [
    ({"objective": "fixed", "value": 1.5}, "threshold.value", "less than 1; got 1.5"),
    ({"objective": "fixed", "value": 0}, "threshold.value", "greater than 0; got 0"),
    ({"objective": "f_beta", "beta": -1}, "threshold.beta", "greater than 0; got -1"),
    ({"objective": "precision_at_recall", "min_recall": 1.2}, "threshold.min_recall", "less than or equal to 1"),
    ({"objective": "cost", "cost": {"false_pos": 1}}, "threshold.cost.false_pos",
     "Did you mean 'false_positive'?"),
    ({"objective": "cost", "cost": {"false_positive": "a lot"}}, "threshold.cost.false_positive", "a number"),
])
def test_bad_values_name_the_key_and_the_allowed_range(keys, where, says):
    err = _error(threshold=keys)
    assert f"{where}:" in err and says in err, err


def test_cross_section_checks():
    err = _error(threshold={"objective": "cost"})
    assert "threshold.cost: objective 'cost' needs threshold.cost (or evaluate.value)." in err
    assert _recipe(threshold={"objective": "cost"}, evaluate={"value": {"true_positive": 10}}).threshold.cost is None
    err = _error(threshold={"objective": "f1"}, cv={"kind": "none"})
    assert "threshold.objective: 'f1' is tuned on out-of-fold predictions" in err and "would leak" in err
    assert _recipe(threshold={"objective": "fixed", "value": 0.3}, cv={"kind": "none"})  # nothing tuned: no CV needed
    err = _error(threshold={"objective": "youden"}, task="multiclass")
    assert "threshold.objective: 'youden' sets a binary decision threshold; task is multiclass." in err


def test_tuning_without_out_of_fold_scores_or_a_reachable_constraint_is_a_data_error(oof):
    X, y, proba, model = oof
    with pytest.raises(DataError, match="needs out-of-fold predictions"):
        THRESHOLD["f1"](objective="f1").apply(model, None, None, y, [0, 1], 1, calibrated=False)
    spec = THRESHOLD["recall_at_precision"](objective="recall_at_precision", min_precision=1.0)
    noisy = np.where(y == 1, 0.4, np.linspace(0, 1, len(y)))  # a negative scores above every positive
    with pytest.raises(DataError, match=r"threshold.min_precision: 1.0 is not reached .* \(best precision 0\.\d+\)"):
        spec.apply(model, None, np.column_stack([1 - noisy, noisy]), y, [0, 1], 1, calibrated=False)
