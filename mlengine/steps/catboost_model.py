"""CatBoost as a scikit-learn step of mlengine's pipeline, with native categorical handling.

mlengine's preprocessing turns every categorical column into one ordinal code column (unknown -> -1) and the
ColumnTransformer hands the model one float matrix. CatBoost takes categorical features only as integers or
strings, so these subclasses cast the columns named by `cat_features` (positions in the model's input, set by
the pipeline builder) to int64 before CatBoost sees them: the codes stay categories, and CatBoost applies its
ordered target statistics to them instead of treating them as numbers (a bijection of the levels, so nothing is
lost against raw strings; the unknown code -1 is one more level, as an unseen string would be).

They also make CatBoost behave like the other registered estimators: scikit-learn tags (so calibration, the
threshold wrapper and `is_classifier` see a classifier or regressor), 1-d labels from `predict` (CatBoost's are
(n, 1) for several classes) and no files written (`allow_writing_files=False` is set by the registry, so no
`catboost_info/` appears in the working directory). A fitted model is byte-for-byte reproducible: CatBoost stamps
each model with a random `model_guid` and its `train_finish_time`, which would make `mlengine replay` see a
different model.joblib for an identical model; both are pinned after the fit. catboost is imported when this module
is, which happens only when the model is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, CatBoostRegressor
from sklearn.utils import Tags

FIXED_GUID = "00000000-00000000-00000000-00000000"


def with_int_categories(X: Any, cat_features: Any) -> Any:
    """X as a frame whose categorical columns (positions `cat_features`) are int64 codes; other columns float."""
    if not cat_features:
        return X
    frame = pd.DataFrame(np.asarray(X)) if not isinstance(X, pd.DataFrame) else X.copy()
    frame.columns = [str(c) for c in frame.columns]
    for i in cat_features:
        col = frame.columns[int(i)]
        frame[col] = np.rint(pd.to_numeric(frame[col], errors="raise").to_numpy(dtype=np.float64)).astype(np.int64)
    return frame


class _Native:
    """What both subclasses share: the categorical cast and scikit-learn's tags."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters as given (CatBoost returns deep copies, which scikit-learn's `clone`
        rejects for any list parameter such as `cat_features`)."""
        return dict(self._init_params)  # type: ignore[attr-defined]

    def _cats(self) -> list[int]:
        return list(self.get_params().get("cat_features") or [])

    def _x(self, X: Any) -> Any:
        return with_int_categories(X, self._cats())

    def _pin_stamps(self) -> None:
        """Replace the per-fit random id and finish time in the model's metadata by constants (replayable)."""
        meta = self.get_metadata()  # type: ignore[attr-defined]
        meta["model_guid"] = FIXED_GUID
        meta["train_finish_time"] = ""


class CatBoostNativeClassifier(_Native, CatBoostClassifier):
    """CatBoostClassifier over mlengine's encoded matrix: `cat_features` columns are categories."""

    def fit(self, X: Any, y: Any, **kwargs: Any) -> CatBoostNativeClassifier:
        super().fit(self._x(X), np.asarray(y), **kwargs)
        self._pin_stamps()
        return self

    def predict_proba(self, X: Any, **kwargs: Any) -> np.ndarray:
        return np.asarray(super().predict_proba(self._x(X), **kwargs), dtype=np.float64)

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        """Labels: the class with the highest probability (CatBoost's own rule), as a 1-d array."""
        return np.asarray(self.classes_)[np.argmax(self.predict_proba(X), axis=1)]

    def decision_function(self, X: Any) -> np.ndarray:
        raw = np.asarray(super().predict(self._x(X), prediction_type="RawFormulaVal"), dtype=np.float64)
        return raw.ravel() if raw.ndim == 2 and raw.shape[1] == 1 else raw

    def __sklearn_tags__(self) -> Tags:
        from sklearn.utils import ClassifierTags

        tags = Tags(estimator_type="classifier", target_tags=_target_tags(True), classifier_tags=ClassifierTags())
        tags.input_tags.allow_nan = True
        return tags


class CatBoostNativeRegressor(_Native, CatBoostRegressor):
    """CatBoostRegressor over mlengine's encoded matrix: `cat_features` columns are categories."""

    def fit(self, X: Any, y: Any, **kwargs: Any) -> CatBoostNativeRegressor:
        super().fit(self._x(X), np.asarray(y, dtype=np.float64), **kwargs)
        self._pin_stamps()
        return self

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        return np.asarray(super().predict(self._x(X), **kwargs), dtype=np.float64).ravel()

    def __sklearn_tags__(self) -> Tags:
        from sklearn.utils import RegressorTags

        tags = Tags(estimator_type="regressor", target_tags=_target_tags(True), regressor_tags=RegressorTags())
        tags.input_tags.allow_nan = True
        return tags


def _target_tags(required: bool) -> Any:
    from sklearn.utils import TargetTags

    return TargetTags(required=required)
