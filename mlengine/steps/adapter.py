"""FrameAdapter: the first step of every model, turning raw columns into typed model inputs.

It is what makes `load_model(run).predict(raw_frame)` work: it checks the input contract (required columns),
casts each column to its training type, expands datetimes into calendar features and fills missing categoricals
with "" (the ONNX-safe missing marker). It learns nothing from the data, so it cannot leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlengine.data.table import coerce_column
from mlengine.errors import DataError

MISSING_CATEGORY = ""
_PANDAS_NAME = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}


class FrameAdapter(TransformerMixin, BaseEstimator):
    """Select, type and expand the raw input columns (stateless given the column roles)."""

    def __init__(self, numeric: Sequence[str] = (), categorical: Sequence[str] = (), boolean: Sequence[str] = (),
                 datetime: Sequence[str] = (), datetime_features: Sequence[str] = ("year", "month", "day")):
        self.numeric = numeric
        self.categorical = categorical
        self.boolean = boolean
        self.datetime = datetime
        self.datetime_features = datetime_features

    @property
    def input_columns(self) -> list[str]:
        return [*self.numeric, *self.boolean, *self.datetime, *self.categorical]

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameAdapter:
        self._check_input(X)
        self.feature_names_in_ = np.asarray(self.input_columns, dtype=object)
        self.n_features_in_ = len(self.input_columns)
        return self

    def _check_input(self, X: Any) -> None:
        if not isinstance(X, pd.DataFrame):
            raise DataError(f"the model takes a table of named columns (a pandas DataFrame); got {type(X).__name__}.")
        missing = [c for c in self.input_columns if c not in X.columns]
        if missing:
            raise DataError(f"input is missing {len(missing)} required column(s): {', '.join(missing)}.")

    def numeric_outputs(self) -> list[str]:
        """Output columns that are numbers: numeric, boolean and derived datetime features."""
        derived = [f"{c}__{part}" for c in self.datetime for part in self.datetime_features]
        return [*self.numeric, *self.boolean, *derived]

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_input(X)
        out: dict[str, Any] = {}
        for c in self.numeric:
            out[c] = coerce_column(X[c], "numeric", c)
        for c in self.boolean:
            out[c] = coerce_column(X[c], "boolean", c)
        for c in self.datetime:
            dt = coerce_column(X[c], "datetime", c).dt
            for part in self.datetime_features:
                out[f"{c}__{part}"] = getattr(dt, _PANDAS_NAME.get(part, part)).astype("float64")
        for c in self.categorical:
            out[c] = coerce_column(X[c], "categorical", c).fillna(MISSING_CATEGORY)
        return pd.DataFrame(out, index=X.index, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([*self.numeric_outputs(), *self.categorical], dtype=object)
