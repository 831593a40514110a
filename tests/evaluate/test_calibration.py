"""`mlengine.evaluate.calibration`: the calibrated out-of-fold probabilities (which the decision threshold and the
saved model's CV figures are computed from) are what the saved calibrated model gives for the same scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from mlengine.compat import calibrated_classifier, fit_calibrator, get_response_values
from mlengine.evaluate.calibration import RESPONSE_METHODS, _probabilities

from tests.conftest import DATA


def _mammography(rows: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """A stratified slice of mammography.csv (2.3% malignant): the imbalance that made a flip visible."""
    frame = pd.read_csv(DATA / "mammography.csv")
    pos, neg = frame[frame.malignant == 1], frame[frame.malignant == 0]
    part = pd.concat([pos.iloc[:60], neg.iloc[:rows - 60]])
    return part.drop(columns="malignant").to_numpy(), part.malignant.to_numpy()


def _xgboost():
    from mlengine.steps.xgb import XGBLabelClassifier

    return XGBLabelClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=0)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "temperature"])
@pytest.mark.parametrize("make", [_xgboost, lambda: RandomForestClassifier(n_estimators=20, random_state=0),
                                  lambda: LogisticRegression(max_iter=500)],
                         ids=["xgboost", "random_forest", "logistic_regression"])
def test_replayed_scores_map_like_the_saved_calibrated_model(make, method):
    """Binary, with and without decision_function: a model scored through predict_proba (XGBoost, random forest)
    had its calibrator applied to P(negative class), which flipped the out-of-fold probabilities."""
    X, y = _mammography()
    model = make().fit(X, y)
    scores, _, used = get_response_values(model, X, RESPONSE_METHODS)
    scores = np.asarray(scores, dtype=float).reshape(len(X), -1)
    fitted = fit_calibrator(model, scores, y, model.classes_, method)
    saved = calibrated_classifier(model, fitted.calibrators, model.classes_, method).predict_proba(X)
    replayed = _probabilities(fitted, scores, model.classes_, used, 2)
    np.testing.assert_allclose(replayed, saved, rtol=0, atol=1e-12)
    assert average_precision_score(y, replayed[:, 1]) > 0.5  # the positive class, not its complement


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_replayed_scores_map_like_the_saved_model_multiclass(method):
    frame = pd.read_csv(DATA / "penguins.csv").dropna()
    X = frame[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]].to_numpy()
    y = frame.species.to_numpy()
    model = _xgboost().fit(X, y)
    scores, _, used = get_response_values(model, X, RESPONSE_METHODS)
    assert used == "predict_proba" and scores.shape == (len(X), 3)
    fitted = fit_calibrator(model, scores, y, model.classes_, method)
    saved = calibrated_classifier(model, fitted.calibrators, model.classes_, method).predict_proba(X)
    np.testing.assert_allclose(_probabilities(fitted, scores, model.classes_, used, 3), saved, rtol=0, atol=1e-12)
