"""`preprocess`: per-type preprocessing (imputation, scaling, categorical encoding, datetime parts).

The section's keys with their defaults (stated once, here). `auto` values are resolved per model family by
`mlengine.steps.preprocess`, which builds the ColumnTransformer fitted inside each training fold.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlengine.sections.registry import Section


class PreprocessSection(Section):
    numeric_impute: Literal["auto", "median", "mean", "most_frequent", "none"] = Field(
        "auto", description="missing numeric values: auto = none for models that handle NaN (lightgbm, "
                            "xgboost, catboost, hist_gradient_boosting), median otherwise")
    scale: Literal["auto", "standard", "robust", "minmax", "none"] = Field(
        "auto", description="numeric scaling: auto = standard for linear models, knn and mlp, "
                            "none for trees")
    categorical: Literal["auto", "onehot", "ordinal"] = Field(
        "auto", description="categorical encoding: auto = one-hot for linear models, knn and mlp, "
                            "ordinal codes for trees (catboost takes the code columns as its cat_features)")
    max_categories: int = Field(30, ge=2, description="one-hot: keep at most this many categories per column "
                                                      "(rarer ones grouped)")
    min_frequency: int = Field(5, ge=1, description="one-hot: categories seen fewer times are grouped as rare")
    datetime_features: list[Literal["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute"]] = Field(
        default_factory=lambda: ["year", "month", "day", "dayofweek", "hour"],
        description="calendar features derived from each datetime column")
