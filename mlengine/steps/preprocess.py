"""Preprocessing per column type and estimator family, as an unfitted scikit-learn ColumnTransformer.

Defaults (each overridable in the recipe's `preprocess` section):
- trees: numeric values as they are (median-imputed unless the model handles NaN), ordinal category codes;
- linear models, kNN and MLP: median imputation + standard scaling, one-hot categories (rare ones grouped, unknown ignored);
- catboost: ordinal codes as for trees, and the code columns are passed to the model as its categorical features
  (`cat_features`), so CatBoost treats them as categories (native handling) rather than as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlengine.sections.model import MODELS


@dataclass(frozen=True)
class PreprocessChoice:
    """What the preprocessing will do for one model, resolved from the recipe's `auto` values."""

    impute: str  # median | mean | most_frequent | none
    scale: str  # standard | robust | minmax | none
    categorical: str  # onehot | ordinal
    max_categories: int
    min_frequency: int
    native: str | None = None  # the model parameter that receives the ordinal code columns as categories

    def describe(self) -> str:
        num = []
        if self.impute != "none":
            num.append(f"{self.impute} impute")
        if self.scale != "none":
            num.append(f"{self.scale} scale")
        cat = (f"one-hot (unknown ignored, rare grouped: <{self.min_frequency} rows or beyond {self.max_categories} categories)"
                if self.categorical == "onehot"
               else "ordinal codes (unknown -> -1)")
        if self.native and self.categorical == "ordinal":
            cat += f", passed to the model as {self.native} (native categorical handling)"
        return f"numeric: {' + '.join(num) or 'as is'}; categorical: {cat}"


def resolve_preprocess(section: Any, model_name: str) -> PreprocessChoice:
    spec = MODELS[model_name]
    linear = spec.scaled  # linear, neighbours, neural nets
    impute = section.numeric_impute
    if impute == "auto":
        impute = "none" if spec.native_missing else "median"
    scale = section.scale if section.scale != "auto" else ("standard" if linear else "none")
    cat = section.categorical if section.categorical != "auto" else ("onehot" if linear else "ordinal")
    native = spec.native_categorical if cat == "ordinal" else None
    return PreprocessChoice(impute, scale, cat, section.max_categories, section.min_frequency, native)


def build_preprocessor(choice: PreprocessChoice, numeric: list[str], categorical: list[str]) -> Any:
    """An unfitted ColumnTransformer over the adapter's output columns."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        MinMaxScaler,
        OneHotEncoder,
        OrdinalEncoder,
        RobustScaler,
        StandardScaler,
    )

    transformers = []
    if numeric:
        steps = []
        if choice.impute != "none":
            steps.append(("impute", SimpleImputer(strategy=choice.impute)))
        if choice.scale != "none":
            scaler = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}[choice.scale]
            steps.append(("scale", scaler()))
        transformers.append(("num", Pipeline(steps) if steps else "passthrough", numeric))
    if categorical:
        if choice.categorical == "onehot":
            enc = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=choice.min_frequency,
                                max_categories=choice.max_categories, sparse_output=False)
        else:
            enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        transformers.append(("cat", enc, categorical))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)
