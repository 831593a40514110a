"""CorrelationFilter: a scikit-learn selector (SelectorMixin) dropping one feature of each highly correlated pair.

Saved inside model.joblib as the `select` step, so it must stay importable under this name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class CorrelationFilter(SelectorMixin, BaseEstimator):
    """Drop one feature of each pair whose absolute correlation exceeds `threshold` (the later one in column order).

    Greedy and deterministic: features are visited in order; a feature is dropped when it correlates above the
    threshold with a feature already kept. Constant features correlate with nothing.
    """

    def __init__(self, threshold: float = 0.95, method: str = "pearson"):
        self.threshold = threshold
        self.method = method

    def fit(self, X: Any, y: Any = None) -> CorrelationFilter:
        import pandas as pd

        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        # pairwise-complete correlations (a missing value drops the row for that pair only)
        corr = np.abs(pd.DataFrame(X).corr(method=self.method).to_numpy())
        corr = np.nan_to_num(corr, nan=0.0)  # a constant column correlates with nothing
        keep = np.zeros(X.shape[1], dtype=bool)
        for j in range(X.shape[1]):
            kept = np.flatnonzero(keep)
            keep[j] = not np.any(corr[j, kept] > self.threshold)
        self.support_ = keep
        self.correlation_ = corr
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "support_")
        return self.support_
