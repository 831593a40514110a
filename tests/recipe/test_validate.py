"""Whole-recipe validation: every problem at once, dotted paths, allowed values, did-you-mean."""

from __future__ import annotations

import pytest

from mlengine.errors import RecipeError
from mlengine.recipe.load import load_recipe

from tests.conftest import TITANIC


def _problems(path, overrides=()):
    with pytest.raises(RecipeError) as exc:
        load_recipe(path, list(overrides))
    return {p.path: p.message for p in exc.value.problems}, str(exc.value)


def test_several_errors_reported_at_once(write_recipe):
    text = TITANIC.replace("target: survived", "target: survived\n  positve_class: 1").replace(
        "cv: {folds: 3}", "cv: {kind: stratifed_kfold, folds: 1}\nsplit: {holdout: 1.5}\nserch: {trials: 3}\n"
                          "evaluate: {metrics: [roc_auc, rmsee]}")
    probs, msg = _problems(write_recipe(text))
    assert "Did you mean 'positive_class'" in probs["data.positve_class"]
    assert "Did you mean 'stratified_kfold'" in probs["cv.kind"]
    assert "cv.folds" not in probs  # its option is unknown, so its keys are not judged (the kind's message says why)
    assert "less than 1" in probs["split.holdout"]
    assert "Did you mean 'search'" in probs["serch"]
    assert "Did you mean 'rmse'" in probs["evaluate.metrics[1]"]
    assert msg.count("\n  - ") == len(probs) >= 5


def test_wrong_type_names_key_and_value(write_recipe):
    probs, _ = _problems(write_recipe(TITANIC.replace("seed: 1", "seed: seven")))
    assert "integer" in probs["seed"] and "'seven'" in probs["seed"]


def test_unknown_model_and_source_kind(write_recipe):
    text = TITANIC.replace("name: lightgbm", "name: lightgbn").replace("kind: csv", "kind: cvs")
    probs, _ = _problems(write_recipe(text))
    assert "Did you mean 'lightgbm'" in probs["model.name"] and "random_forest" in probs["model.name"]
    assert "Did you mean 'csv'" in probs["data.source.kind"]


def test_bad_model_param_values_use_sklearn_constraints(write_recipe):
    text = TITANIC.replace("name: lightgbm\n  params: {n_estimators: 30}", "name: random_forest\n  params: {n_estimators: 0, max_depht: 3}")
    probs, _ = _problems(write_recipe(text))
    assert "range" in probs["model.params.n_estimators"] and "Got 0" in probs["model.params.n_estimators"]
    assert "Did you mean 'max_depth'" in probs["model.params.max_depht"]


def test_reserved_params_point_to_the_recipe_key(write_recipe):
    text = TITANIC.replace("params: {n_estimators: 30}", "params: {random_state: 3}")
    probs, _ = _problems(write_recipe(text))
    assert "`seed`" in probs["model.params.random_state"]


@pytest.mark.parametrize("override,key,needle", [
    ("cv.kind=group_kfold", "cv.kind", "data.group"),
    ("cv.kind=time_series", "cv.kind", "data.time"),
    ("split.strategy=time", "split.strategy", "data.time"),
])
def test_cross_field_checks(write_recipe, override, key, needle):
    probs, _ = _problems(write_recipe(TITANIC), [override])
    assert needle in probs[key]


def test_model_and_metric_must_fit_an_explicit_task(write_recipe):
    text = TITANIC.replace("seed: 1", "seed: 1\ntask: regression").replace("name: lightgbm", "name: logistic_regression").replace(
        "  params: {n_estimators: 30}\n", "") + "evaluate: {metrics: [roc_auc]}\n"
    probs, _ = _problems(write_recipe(text), ["cv.kind=kfold"])
    assert "does not fit task 'regression'" in probs["model.name"] and "ridge" in probs["model.name"]
    assert "does not fit task 'regression'" in probs["evaluate.metrics[0]"]


def test_column_with_two_roles(write_recipe):
    probs, _ = _problems(write_recipe(TITANIC.replace("drop: [alive,", "drop: [survived, alive,")))
    assert "survived" in probs["data.drop"]


def test_a_bad_value_of_a_known_option_is_reported_with_the_others(write_recipe):
    text = TITANIC.replace("cv: {folds: 3}", "cv: {kind: stratified_kfold, folds: 1}\nserch: {trials: 3}")
    probs, _ = _problems(write_recipe(text))
    assert "greater than or equal to 2" in probs["cv.folds"] and "got 1" in probs["cv.folds"]
    assert "Did you mean 'search'" in probs["serch"]
