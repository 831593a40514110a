"""XGBoost's classifier with any class labels.

`xgboost.XGBClassifier` (2.x) accepts only labels 0..k-1 and reports `classes_` as that range; mlengine's targets
keep their own labels (strings such as "yes"/"no", or penguin species). This subclass encodes the labels at fit and
decodes them in `predict`, so it behaves like every other scikit-learn classifier (and its ONNX graph returns the
original labels). Probabilities are the float64 link of XGBoost's margin, which the ONNX graph reproduces exactly. xgboost is imported when this module is, which happens only when the model is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xgboost import XGBClassifier


class XGBLabelClassifier(XGBClassifier):
    """XGBClassifier whose `classes_` are the training labels (sorted, as scikit-learn's LabelEncoder)."""

    def fit(self, X: Any, y: Any, **kwargs: Any) -> XGBLabelClassifier:
        labels, codes = np.unique(np.asarray(y), return_inverse=True)
        self._labels = None
        eval_set = kwargs.get("eval_set")
        if eval_set:  # validation targets need the same codes
            kwargs["eval_set"] = [(Xv, np.searchsorted(labels, np.asarray(yv))) for Xv, yv in eval_set]
        super().fit(X, codes, **kwargs)
        self._labels = labels
        return self

    @property
    def classes_(self) -> np.ndarray:
        labels = getattr(self, "_labels", None)
        return np.arange(self.n_classes_) if labels is None else labels

    def predict_proba(self, X: Any, **kwargs: Any) -> np.ndarray:
        """The float64 sigmoid or softmax of XGBoost's (float32) margin: rows sum to 1 (XGBoost's own float32
        probabilities are off by ~1e-8, which scikit-learn's log loss warns about and a steep isotonic
        calibration amplifies), and the ONNX graph computes exactly this."""
        objective = self.get_xgb_params().get("objective") or "binary:logistic"
        if objective not in ("binary:logistic", "multi:softprob"):
            return np.asarray(super().predict_proba(X, **kwargs), dtype=np.float64)
        margin = np.asarray(super().predict(X, output_margin=True, **kwargs), dtype=np.float64)
        if margin.ndim == 1:
            p = 1.0 / (1.0 + np.exp(-margin))
            return np.column_stack([1.0 - p, p])
        z = np.exp(margin - margin.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        """Labels: the class with the highest probability (XGBoost's rule: p > 0.5 for two classes)."""
        if kwargs.get("output_margin") or getattr(self, "_labels", None) is None:
            return np.asarray(super().predict(X, **kwargs))
        return self._labels[np.argmax(self.predict_proba(X, **kwargs), axis=1)]
