"""Baselines scored on the same holdout as the model, so the model's numbers have a floor to be read against.

`no_skill`: the class prior (probabilities) and the most frequent class (labels) for classification, the training
mean for regression. Fitted on the training split only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlengine.evaluate.metrics import score_all


def no_skill(task: str, y_train: pd.Series, n_test: int, classes: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions (and probabilities) of the no-skill baseline for n_test rows."""
    if task == "regression":
        return np.full(n_test, float(np.mean(y_train))), None
    freq = y_train.value_counts(normalize=True)
    prior = np.array([freq.get(c, 0.0) for c in classes])
    labels = np.asarray(classes)
    return labels[np.full(n_test, int(np.argmax(prior)))], np.tile(prior, (n_test, 1))


def score_baselines(names: list[str], task: str, y_train: pd.Series, y_test: pd.Series, metrics: list[str],
                    classes: list[Any], pos_label: Any) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in names:
        if name == "no_skill":
            pred, proba = no_skill(task, y_train, len(y_test), classes)
            out[name] = score_all(metrics, y_test.to_numpy(), pred=pred, proba=proba, classes=classes,
                                  pos_label=pos_label)
    return out
