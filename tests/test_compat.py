"""The private scikit-learn APIs in mlengine/compat.py exist on the installed version, inside the tested range."""

from __future__ import annotations

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from mlengine.compat import PRIVATE, TESTED, calibrated_classifier, fit_calibrator, get_response_values
from mlengine.lazy import import_path


def test_installed_scikit_learn_is_in_the_tested_range():
    version = tuple(int(p) for p in sklearn.__version__.split(".")[:2])
    assert TESTED[0] <= version < TESTED[1], sklearn.__version__


def test_every_private_name_exists():
    for target in PRIVATE:
        assert callable(import_path(target)), target


def test_the_private_calibration_path_works_as_used():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    scores, _, used = get_response_values(model, X, ["decision_function", "predict_proba"])
    assert used == "decision_function" and scores.shape == (200,)
    fitted = fit_calibrator(model, scores.reshape(-1, 1), y, model.classes_, "sigmoid")
    proba = fitted.predict_proba(X)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1)
    again = calibrated_classifier(model, fitted.calibrators, model.classes_, "sigmoid").predict_proba(X)
    assert np.array_equal(proba, again)
