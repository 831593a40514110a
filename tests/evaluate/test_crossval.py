"""mlengine.evaluate.crossval: per-fold scores and out-of-fold predictions of a refitted-per-fold pipeline (first
repeat only), kept fold models, deadlines and callbacks that stop it with the finished folds, labels from
probabilities or a threshold, the split argument, column alignment and metric directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import make_pipeline

from mlengine.evaluate.crossval import (
    CVResult,
    FoldDeadline,
    _align,
    clock,
    cross_validate,
    direction,
    predict_all,
    split_arg,
)
from mlengine.sections.cv import CVSpec

from tests.conftest import DATA

NUMERIC = ["pclass", "age", "sibsp", "parch", "fare"]


@pytest.fixture(scope="module")
def titanic():
    df = pd.read_csv(DATA / "titanic.csv", nrows=240)
    return df[NUMERIC], df["survived"]


def _pipe():
    return make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500))


def _cv(X, y, cv, **kw):
    return cross_validate(_pipe(), X, y, cv, task="binary", metrics=["roc_auc", "accuracy"], primary="roc_auc",
                          classes=[0, 1], pos_label=1, **kw)


def test_out_of_fold_predictions_are_those_of_each_fold_refit(titanic):
    X, y = titanic
    cv = CVSpec.of("stratified_kfold", seed=3, folds=3)
    res = _cv(X, y, cv, keep_models=True)
    assert len(res.scores["roc_auc"]) == 3 and len(res.fold_seconds) == 3 and res.validated.all()
    assert res.oof_proba.shape == (240, 2) and np.allclose(res.oof_proba.sum(axis=1), 1)
    assert len(res.models) == 3 and [len(va) for _, va in res.folds] == [80, 80, 80]
    for model, (tr, va), auc in zip(res.models, res.folds, res.scores["roc_auc"], strict=True):
        alone = _pipe().fit(X.iloc[tr], y.iloc[tr]).predict_proba(X.iloc[va])
        assert np.allclose(res.oof_proba[va], alone) and np.allclose(model.predict_proba(X.iloc[va]), alone)
        assert auc == pytest.approx(roc_auc_score(y.iloc[va], alone[:, 1]))
    assert (res.oof_pred == np.argmax(res.oof_proba, axis=1)).all()
    summary = res.summary()
    assert summary["roc_auc"]["mean"] == pytest.approx(np.mean(res.scores["roc_auc"]))
    assert summary["accuracy"]["folds"] == res.scores["accuracy"]


def test_repeats_add_scores_but_only_the_first_repeat_gives_oof_and_models(titanic):
    X, y = titanic
    res = _cv(X, y, CVSpec.of("repeated_stratified_kfold", seed=1, folds=3, repeats=2), keep_models=True)
    assert len(res.scores["accuracy"]) == 6 and len(res.models) == 3 and res.validated.all()
    assert _cv(X, y, CVSpec.of("none")) is None


def test_a_past_deadline_stops_before_the_first_fold(titanic):
    X, y = titanic
    with pytest.raises(FoldDeadline, match="deadline passed after 0 of 3 folds") as exc:
        _cv(X, y, CVSpec.of("stratified_kfold", folds=3), deadline=clock() - 1)
    assert exc.value.partial is None


def test_a_callback_that_stops_carries_the_finished_folds(titanic):
    X, y = titanic
    seen = []

    def after(i, n, scores):
        seen.append((i, n, len(scores["roc_auc"])))
        if i == 2:
            raise FoldDeadline("losing trial")

    with pytest.raises(FoldDeadline) as exc:
        _cv(X, y, CVSpec.of("stratified_kfold", folds=4), after_fold=after)
    assert seen == [(1, 4, 1), (2, 4, 2)]
    partial = exc.value.partial
    assert len(partial.scores["roc_auc"]) == 2 and partial.validated.sum() == 120  # two folds of 60 rows


def test_predict_all_uses_a_threshold_when_the_model_has_one(titanic):
    X, y = titanic
    fitted = _pipe().fit(X, y)
    pred, proba = predict_all(fitted, X, "binary")
    assert (pred == np.argmax(proba, axis=1)).all()
    low = FixedThresholdClassifier(fitted, threshold=0.2, response_method="predict_proba").fit(X, y)
    pred, proba = predict_all(low, X, "binary")
    assert (pred == (proba[:, 1] >= 0.2)).all() and pred.sum() > (proba[:, 1] >= 0.5).sum()
    reg = make_pipeline(SimpleImputer(), LinearRegression()).fit(X, X["fare"].fillna(0))
    values, none = predict_all(reg, X, "regression")
    assert none is None and values.dtype == float and values.shape == (240,)


def test_split_arg_align_and_direction():
    groups, times = pd.Series(["a", "b"]), pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"]))
    assert split_arg(CVSpec.of("stratified_kfold"), groups, times) is None
    assert split_arg(CVSpec.of("group_kfold"), groups, times).tolist() == ["a", "b"]
    assert split_arg(CVSpec.of("time_series"), groups, times).dtype.kind == "M"
    assert split_arg(CVSpec.of("group_kfold"), None, times) is None
    out = _align(np.array([[0.3, 0.7]]), ["b", "c"], ["a", "b", "c"])  # a fold without class "a"
    assert out.tolist() == [[0.0, 0.3, 0.7]]
    same = np.array([[0.4, 0.6]])
    assert _align(same, [0, 1], [0, 1]) is same
    assert direction("roc_auc") == "higher is better" and direction("log_loss") == "lower is better"
    assert CVResult({"r2": [0.5, 0.7]}, np.zeros(2), None).summary() == {
        "r2": {"mean": 0.6, "std": pytest.approx(0.1), "folds": [0.5, 0.7]}}
