"""The no-skill baseline: class prior and majority label for classification, training mean for regression."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlengine.evaluate.baselines import no_skill


def test_classification_predicts_the_majority_with_the_training_prior():
    pred, proba = no_skill("binary", pd.Series(["a", "b", "b", "b"]), 3, classes=["a", "b"])
    assert list(pred) == ["b", "b", "b"]
    np.testing.assert_allclose(proba, [[0.25, 0.75]] * 3)


def test_regression_predicts_the_training_mean_without_probabilities():
    pred, proba = no_skill("regression", pd.Series([1.0, 2.0, 6.0]), 2, classes=[])
    assert list(pred) == [3.0, 3.0] and proba is None
