"""Preprocessing per model family (mlengine/steps/preprocess.py): `auto` resolved from the model, and the
ColumnTransformer it builds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from mlengine.steps.preprocess import PreprocessChoice, build_preprocessor, resolve_preprocess

AUTO = SimpleNamespace(numeric_impute="auto", scale="auto", categorical="auto", max_categories=20, min_frequency=5)


@pytest.mark.parametrize(("model", "impute", "scale", "categorical"), [
    ("lightgbm", "none", "none", "ordinal"),  # handles NaN itself
    ("random_forest", "median", "none", "ordinal"),
    ("logistic_regression", "median", "standard", "onehot"),
    ("knn", "median", "standard", "onehot"),
])
def test_auto_follows_the_model_family(model, impute, scale, categorical):
    assert resolve_preprocess(AUTO, model) == PreprocessChoice(impute, scale, categorical, 20, 5)


def test_explicit_choices_win_over_auto():
    section = SimpleNamespace(**{**AUTO.__dict__, "numeric_impute": "mean", "scale": "robust",
                                 "categorical": "onehot"})
    assert resolve_preprocess(section, "lightgbm") == PreprocessChoice("mean", "robust", "onehot", 20, 5)


def test_describe_says_what_happens_to_each_kind():
    assert PreprocessChoice("none", "none", "ordinal", 20, 5).describe() == (
        "numeric: as is; categorical: ordinal codes (unknown -> -1)")
    assert PreprocessChoice("median", "standard", "onehot", 20, 5).describe() == (
        "numeric: median impute + standard scale; categorical: one-hot (unknown ignored, rare grouped: <5 rows or "
        "beyond 20 categories)")


X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 5.0] * 5, "c": ["x", "y", "x", "rare"] * 4 + ["x"] * 4})


def test_the_linear_preprocessor_imputes_scales_and_groups_rare_categories():
    ct = build_preprocessor(PreprocessChoice("median", "standard", "onehot", 20, 5), ["a"], ["c"]).fit(X)
    out = ct.transform(X)
    assert not np.isnan(out).any() and abs(out[:, 0].mean()) < 1e-12
    names = ct.get_feature_names_out().tolist()
    assert names[0] == "a" and "c_x" in names and "c_infrequent_sklearn" in names  # y and rare: < 5 rows each
    unseen = ct.transform(pd.DataFrame({"a": [1.0], "c": ["new"]}))
    assert unseen.shape == (1, len(names))  # unknown categories do not fail


def test_the_tree_preprocessor_keeps_values_and_codes_unknowns():
    ct = build_preprocessor(PreprocessChoice("none", "none", "ordinal", 20, 5), ["a"], ["c"]).fit(X)
    out = ct.transform(pd.DataFrame({"a": [np.nan, 2.0], "c": ["y", "new"]}))
    assert np.isnan(out[0, 0]) and out[1, 0] == 2.0 and out[1, 1] == -1
    assert [name for name, _, _ in build_preprocessor(PreprocessChoice("none", "none", "ordinal", 20, 5), [],
                                                       ["c"]).transformers] == ["cat"]
