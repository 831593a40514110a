"""mlengine.steps.assemble: which steps need finite inputs, how `auto` preprocessing is adjusted for them, the
native categorical columns, the plan steps the modelling sections insert, the assembled pipeline and the prefix of
the estimator's parameters."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from sklearn.ensemble import HistGradientBoostingClassifier

from mlengine.plan import compile_recipe
from mlengine.recipe.validate import validate_config
from mlengine.steps.assemble import adjust_preprocess, model_param_prefix, native_categoricals, needs_finite
from mlengine.steps.preprocess import PreprocessChoice, resolve_preprocess

from tests.conftest import DATA
from tests.modelling import WINE, mammo_recipe

FEATURES = ["f1", "f2", "f3", "f4", "f5", "f6"]
COLUMNS = SimpleNamespace(numeric=FEATURES, categorical=[], boolean=[], datetime=[])


@pytest.fixture(scope="module")
def mammo() -> pd.DataFrame:
    d = pd.read_csv(DATA / "mammography.csv")
    return pd.concat([d[d.malignant == 1].head(30), d[d.malignant == 0].head(270)])


def _choice(recipe):
    return resolve_preprocess(recipe.preprocess, recipe.model.name)


def test_needs_finite_lists_the_select_and_reduce_keys_in_pipeline_order():
    r = mammo_recipe(select={"method": "kbest", "k": 3}, reduce={"method": "pca", "n_components": 2})
    assert needs_finite(r) == ["select.method: kbest", "reduce.method: pca"]
    assert needs_finite(mammo_recipe()) == []
    assert needs_finite(mammo_recipe(select={"method": "variance"})) == []  # VarianceThreshold takes NaN


def test_auto_imputation_becomes_median_before_a_step_that_needs_finite_values():
    r = mammo_recipe(select={"method": "kbest", "k": 3})
    choice = _choice(r)
    assert choice.impute == "none"  # lightgbm handles NaN itself
    adjusted, notes = adjust_preprocess(r, choice)
    assert adjusted.impute == "median" and adjusted.categorical == choice.categorical
    assert notes == ["numeric missing values are median-imputed because select.method: kbest cannot take them"]
    assert adjust_preprocess(mammo_recipe(), choice) == (choice, [])


def test_smotenc_turns_auto_onehot_into_ordinal_codes():
    r = mammo_recipe(resample={"method": "smotenc"})
    adjusted, notes = adjust_preprocess(r, replace(_choice(r), categorical="onehot"))
    assert adjusted.categorical == "ordinal" and adjusted.impute == "median"
    assert notes[-1] == "categoricals are ordinal codes: smotenc needs one code column per categorical"


def test_native_categoricals_are_dropped_when_select_changes_the_columns():
    r = mammo_recipe(model={"name": "catboost", "params": {"iterations": 5}}, select={"method": "variance"})
    choice = _choice(r)
    assert choice.native == "cat_features"  # catboost takes the ordinal code columns as categories
    adjusted, notes = adjust_preprocess(r, choice)
    assert adjusted.native is None
    assert notes == ["categorical codes reach the model as numbers, not as cat_features: the select step changes "
                     "which columns the model sees"]


def test_native_categoricals_point_the_model_at_the_code_columns_after_the_numeric_ones():
    choice = PreprocessChoice("none", "none", "ordinal", 30, 5, native="categorical_features")
    model = native_categoricals(HistGradientBoostingClassifier(), choice, n_numeric=4, n_categorical=3)
    assert model.get_params()["categorical_features"] == [4, 5, 6]
    untouched = native_categoricals(HistGradientBoostingClassifier(), choice, n_numeric=4, n_categorical=0)
    assert untouched.get_params()["categorical_features"] == "from_dtype"


def test_modelling_steps_are_placed_around_the_model_step():
    r = mammo_recipe(resample={"method": "smote"}, select={"method": "kbest", "k": 3},
                     reduce={"method": "pca", "n_components": 2}, calibration={"method": "sigmoid"},
                     threshold={"objective": "f1"})
    steps = compile_recipe(r, task="binary").steps
    assert [(s.name, s.placement) for s in steps] == [
        ("adapt", "stateless"), ("preprocess", "per_fold"), ("resample", "fit_only"), ("select", "per_fold"),
        ("reduce", "per_fold"), ("model", "per_fold"), ("calibration", "after_search"),
        ("threshold", "after_search")]
    by_name = {s.name: s for s in steps}
    assert by_name["resample"].component == "SMOTE" and by_name["resample"].detail == "smote {'k_neighbors': 5}"
    assert by_name["select"].detail == "{'score': 'f_test', 'k': 3}"
    assert by_name["calibration"].component == "CalibratedClassifierCV(sigmoid)"
    assert by_name["threshold"].component == "FixedThresholdClassifier"
    weighted = compile_recipe(mammo_recipe(resample={"method": "class_weight"}), task="binary").steps
    assert weighted[-1].detail.endswith("; class_weight=balanced")


def test_assembled_pipeline_with_a_sampler_is_an_imblearn_pipeline_that_fits(mammo):
    r = mammo_recipe(resample={"method": "smote"}, select={"method": "kbest", "k": 3},
                     reduce={"method": "pca", "n_components": 2})
    plan = compile_recipe(r, task="binary")
    pipe = plan.build_pipeline(plan.candidates[0], COLUMNS, "binary")
    assert type(pipe).__module__ == "imblearn.pipeline"
    assert [n for n, _ in pipe.steps] == ["adapt", "preprocess", "resample", "select", "reduce", "model"]
    pipe.fit(mammo[FEATURES], mammo.malignant)
    assert pipe.predict_proba(mammo[FEATURES]).shape == (300, 2)
    assert dict(pipe.steps)["reduce"].n_components_ == 2 and dict(pipe.steps)["select"].get_support().sum() == 3
    plain = compile_recipe(mammo_recipe(resample={"method": "class_weight"}), task="binary")
    pipe = plain.build_pipeline(plain.candidates[0], COLUMNS, "binary")
    assert type(pipe).__module__ == "sklearn.pipeline"
    assert dict(pipe.steps)["model"].get_params()["class_weight"] == "balanced"


def test_transformed_regression_target_moves_the_model_parameter_prefix():
    w = yaml.safe_load(WINE)
    w["target"] = {"transform": "log"}
    plan = compile_recipe(validate_config(w), task="regression")
    assert model_param_prefix(plan, "regression") == "model__regressor__"
    assert model_param_prefix(plan, "binary") == "model__"
    assert plan.steps[-1].detail.endswith("; inside TransformedTargetRegressor(log); metrics on the original scale")
    cols = SimpleNamespace(numeric=["alcohol"], categorical=[], boolean=[], datetime=[])
    pipe = plan.build_pipeline(plan.candidates[0], cols, "regression")
    assert type(dict(pipe.steps)["model"]).__name__ == "TransformedTargetRegressor"
