"""`resample`: samplers act inside each training fold only, the saved model has none, bad inputs are refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from mlengine.api import load_recipe
from mlengine.data.sources import read_source
from mlengine.data.table import prepare_table
from mlengine.evaluate.crossval import cross_validate
from mlengine.export.loaded import load_model
from mlengine.plan import compile_recipe

from tests.modelling import MAMMO, TITANIC_M, error_of, estimator_classes, run_json


class Spy(ClassifierMixin, BaseEstimator):
    """Records what the model step is fitted on and asked to predict."""

    calls: list[tuple[str, np.ndarray, np.ndarray | None]] = []

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        Spy.calls.append(("fit", np.asarray(X, dtype=float).copy(), np.asarray(y).copy()))
        return self

    def predict_proba(self, X):
        Spy.calls.append(("predict", np.asarray(X, dtype=float).copy(), None))
        return np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))


def _prepared(write_recipe, text, files=("mammography.csv",)):
    loaded = load_recipe(write_recipe(text, files=files))
    data = prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)
    plan = compile_recipe(loaded.recipe, task=data.task, classes=data.classes)
    return loaded, data, plan


@pytest.mark.parametrize("method", ["smote", "random_over"])
def test_sampler_never_touches_validation_rows(write_recipe, method):
    _, data, plan = _prepared(write_recipe, MAMMO + f"resample: {{method: {method}, sampling_strategy: 0.5}}\n")
    pipe = plan.build_pipeline(plan.candidates[0], data.columns, data.task)
    assert type(pipe).__module__.startswith("imblearn") and "resample__sampling_strategy" in pipe.get_params()
    pipe.set_params(model=Spy())
    Spy.calls = []
    X, y = data.X, data.y
    cross_validate(pipe, X, y, plan.cv, task="binary", metrics=["roc_auc"], primary="roc_auc",
                   classes=data.classes, pos_label=1)
    folds = list(plan.cv.splitter().split(X, y))
    fits = [c for c in Spy.calls if c[0] == "fit"]
    preds = [c for c in Spy.calls if c[0] == "predict"]
    assert len(fits) == len(preds) == len(folds) == 3
    Xa = X.to_numpy(dtype=float)  # all-numeric data: preprocessing is the identity here
    for (tr, va), (_, fit_X, fit_y), (_, pred_X, _) in zip(folds, fits, preds, strict=True):
        # fit: the training fold, unchanged and in order, then the sampler's new minority rows
        assert len(fit_X) > len(tr)
        assert np.array_equal(fit_X[: len(tr)], Xa[tr]) and np.array_equal(fit_y[: len(tr)], y.to_numpy()[tr])
        assert set(fit_y[len(tr):]) == {1}
        assert abs(np.mean(fit_y == 1) / np.mean(fit_y == 0) - 0.5) < 0.01  # the requested ratio
        validation_rows = {tuple(r) for r in Xa[va]}
        new_rows = {tuple(r) for r in fit_X[len(tr):]}
        if method == "random_over":  # copies come from the training fold only
            assert new_rows <= {tuple(r) for r in Xa[tr][y.to_numpy()[tr] == 1]}
        assert not (new_rows & validation_rows - {tuple(r) for r in Xa[tr]})
        # predict: exactly the validation rows, nothing added or removed, class ratio as in the data
        assert np.array_equal(pred_X, Xa[va])


def test_run_with_smote_saves_a_plain_sklearn_model(cli, write_recipe, runs_dir):
    path = write_recipe(MAMMO + "resample: {method: smote, k_neighbors: 3}\n", files=("mammography.csv",))
    metrics, run = run_json(cli, path, runs_dir)
    rec = metrics["resample"]
    assert rec["placement"] == "fit_only" and rec["params"] == {"k_neighbors": 3}
    before, after = rec["training_counts_before"], rec["training_counts_after"]
    assert before["1"] == 208 and after["1"] == after["0"] == before["0"]  # balanced in fit only
    preds = pd.read_parquet(run / "predictions.parquet")  # holdout: untouched rows, original class ratio
    assert len(preds) == metrics["rows"]["holdout"] == 2237 and int((preds["y_true"] == 1).sum()) == 52
    model = load_model(run)
    names = estimator_classes(model.estimator)
    assert not [n for n in names if n.startswith("imblearn")], names
    assert [n for n, _ in model.estimator.steps] == ["adapt", "preprocess", "model"]
    assert metrics["holdout"]["average_precision"] > metrics["baselines"]["no_skill"]["average_precision"] + 0.3


@pytest.mark.parametrize("method", ["class_weight", "random_over", "random_under", "borderline_smote", "adasyn",
                                    "tomek", "smoteenn", "smotetomek", "near_miss"])
def test_every_sampler_runs_end_to_end(cli, write_recipe, runs_dir, method):
    path = write_recipe(MAMMO.replace("cv: {folds: 3}", "cv: {folds: 2}") + f"resample: {{method: {method}}}\n",
                        files=("mammography.csv",))
    metrics, _ = run_json(cli, path, runs_dir)
    assert metrics["resample"]["method"] == method
    # NearMiss keeps only the majority rows nearest the minority (208 of 8,738 here): a known cost in ranking
    assert metrics["holdout"]["roc_auc"] > (0.6 if method == "near_miss" else 0.8)
    if method == "class_weight":
        assert metrics["resample"]["class_weight"] == "balanced"
    elif method == "random_over":
        assert metrics["resample"]["training_counts_after"]["1"] == metrics["resample"]["training_counts_after"]["0"]
    elif method == "near_miss":
        after = metrics["resample"]["training_counts_after"]
        assert after["0"] == after["1"] == metrics["resample"]["training_counts_before"]["1"]
    elif method in ("random_under", "tomek"):
        assert metrics["resample"]["training_counts_after"]["0"] < metrics["resample"]["training_counts_before"]["0"]
    else:
        assert metrics["resample"]["training_counts_after"]["1"] > metrics["resample"]["training_counts_before"]["1"]


def test_sampling_strategy_as_a_class_count(cli, write_recipe, runs_dir):
    text = (MAMMO.replace("cv: {folds: 3}", "cv: {kind: none}")
            + "resample: {method: random_over, sampling_strategy: {1: 1000}, shrinkage: 0.1}\n")
    metrics, _ = run_json(cli, write_recipe(text, files=("mammography.csv",)), runs_dir)
    assert metrics["resample"]["training_counts_after"] == {"0": 8738, "1": 1000}


@pytest.mark.slow
def test_validate_with_selection_imports_no_model_library(write_recipe):
    import subprocess
    import sys

    path = write_recipe(TITANIC_M + "select: {method: kbest, k: 4}\nresample: {method: smotenc}\n")
    code = ("import sys, mlengine.cli as c\n"
            f"assert c.main(['validate', r'{path}']) == 0\n"
            "print('HEAVY', [m for m in ('lightgbm', 'flaml', 'onnx', 'skl2onnx') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out


def test_smotenc_on_mixed_data_and_class_weight_mapping(cli, write_recipe, runs_dir):
    path = write_recipe(TITANIC_M + "resample: {method: smotenc, k_neighbors: 3}\n")
    metrics, run = run_json(cli, path, runs_dir)
    assert metrics["resample"]["training_counts_after"]["1"] == metrics["resample"]["training_counts_after"]["0"]
    plan = (run / "plan.txt").read_text()
    assert "[fit_only] SMOTENC" in plan and "ordinal codes" in plan
    path = write_recipe(TITANIC_M + "resample: {method: class_weight, weights: {1: 3}}\n", name="cw.yaml")
    metrics, _ = run_json(cli, path, runs_dir)
    assert metrics["resample"]["class_weight"] == {"0": 1.0, "1": 3.0}


# ------------------------------------------------------------------------------------------------ bad input ---
def test_smote_k_neighbors_larger_than_minority_allows(cli, write_recipe):
    path = write_recipe(MAMMO + "resample: {method: smote, k_neighbors: 150}\n", files=("mammography.csv",))
    err = error_of(cli, path)
    assert "resample.k_neighbors" in err and "class 1 has only 138" in err and "at most 137" in err
    err = error_of(cli, path, command="run")  # the run refuses it before fitting, too
    assert "resample.k_neighbors" in err


def test_smote_on_categorical_data_needs_smotenc(cli, write_recipe):
    err = error_of(cli, write_recipe(TITANIC_M + "resample: {method: smote}\n"))
    assert "resample.method" in err and "'sex'" in err and "smotenc" in err, err
    err = error_of(cli, write_recipe(MAMMO + "resample: {method: smotenc}\n", files=("mammography.csv",)))
    assert "has none" in err and "smote" in err, err


def test_resample_recipe_checks(cli, write_recipe):
    text = TITANIC_M + "resample: {method: random_under, k_neighbors: 3, sampling_strategy: most}\n"
    err = error_of(cli, write_recipe(text), "--no-data")
    assert "resample.k_neighbors: does not apply to method 'random_under'" in err
    assert "resample.sampling_strategy" in err and "not minority" in err
    err = error_of(cli, write_recipe(TITANIC_M + "resample: {method: smoot}\n"), "--no-data")
    assert "Did you mean 'smote'" in err
    err = error_of(cli, write_recipe(TITANIC_M), "resample.method=class_weight", "model.name=dummy", "--no-data")
    assert "needs a model that takes class weights" in err
    err = error_of(cli, write_recipe(TITANIC_M), "resample.method=smote", "task=regression", "--no-data")
    assert "task is regression" in err


def test_near_miss_keeps_the_majority_rows_nearest_the_minority():
    """The option added as one class (sections/resample.py NearMiss): its builder, defaults and data check."""
    from mlengine.errors import DataError
    from mlengine.sections.resample import RESAMPLE

    option = RESAMPLE["near_miss"].model_validate({"method": "near_miss", "version": 2})
    sampler = option.build(seed=0, classes=[0, 1], categorical_idx=[])
    assert type(sampler).__name__ == "NearMiss" and (sampler.version, sampler.n_neighbors) == (2, 3)
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (90, 2)), rng.normal(3, 1, (10, 2))])
    y = np.array([0] * 90 + [1] * 10)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [10, 10]
    kept = X_res[y_res == 0]
    assert np.linalg.norm(kept - [3, 3], axis=1).mean() < np.linalg.norm(X[:90] - [3, 3], axis=1).mean()
    with pytest.raises(DataError, match="resample.n_neighbors: near_miss measures each majority row against its 3 "
                                        "nearest rows of class 1, which has only 2"):
        option.check_data([], [np.array([0] * 20 + [1] * 2)], y, [0, 1])
