"""XGBLabelClassifier (mlengine/steps/xgb.py): XGBoost with the training labels as classes_, float64 probabilities
that sum to one, and XGBoost's own decision rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATA

xgb = pytest.importorskip("mlengine.steps.xgb")


@pytest.fixture(scope="module")
def penguins():
    df = pd.read_csv(DATA / "penguins.csv").dropna()
    X = df[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]].to_numpy()
    return X, df["species"].to_numpy()


def test_string_labels_in_and_out(penguins):
    X, y = penguins
    model = xgb.XGBLabelClassifier(n_estimators=10, max_depth=2, n_jobs=1).fit(X, y)
    assert model.classes_.tolist() == sorted(set(y))
    proba = model.predict_proba(X)
    assert proba.dtype == np.float64 and np.allclose(proba.sum(axis=1), 1.0, atol=1e-15)
    pred = model.predict(X)
    assert set(pred) <= set(y) and (pred == model.classes_[proba.argmax(axis=1)]).all()
    assert (pred == y).mean() > 0.9
    assert model.predict(X, output_margin=True).shape == (len(X), 3)  # margins pass through


def test_binary_probabilities_are_the_sigmoid_of_the_margin(penguins):
    X, y = penguins
    binary = np.where(y == "Adelie", "adelie", "other")
    model = xgb.XGBLabelClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(X, binary)
    margin = np.asarray(model.predict(X, output_margin=True), dtype=np.float64)
    assert np.allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-margin)), rtol=0, atol=1e-15)
    assert np.allclose(model.predict_proba(X), np.asarray(xgb.XGBClassifier.predict_proba(model, X)), atol=1e-6)


def test_eval_set_targets_get_the_same_codes(penguins):
    X, y = penguins
    order = np.random.default_rng(0).permutation(len(y))  # the file is sorted by species
    X, y = X[order], y[order]
    model = xgb.XGBLabelClassifier(n_estimators=5, max_depth=2, n_jobs=1, early_stopping_rounds=2)
    model.fit(X[:250], y[:250], eval_set=[(X[250:], y[250:])], verbose=False)
    assert model.classes_.tolist() == sorted(set(y)) and model.best_iteration is not None


def test_an_unfitted_model_reports_code_classes_like_xgboost():
    model = xgb.XGBLabelClassifier()
    model.n_classes_ = 2
    assert model.classes_.tolist() == [0, 1]
