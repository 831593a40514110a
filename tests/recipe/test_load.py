"""Recipe loading through Hydra: defaults over packaged groups, overrides, path resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlengine.errors import RecipeError
from mlengine.recipe.load import load_recipe

from tests.conftest import TITANIC


def test_defaults_list_uses_packaged_groups_and_relative_paths(write_recipe, tmp_path):
    path = write_recipe("defaults:\n  - model: logistic_regression\n  - cv: kfold\n  - _self_\n" + TITANIC.replace(
        "model:\n  name: lightgbm\n  params: {n_estimators: 30}\n", ""))
    loaded = load_recipe(path)
    r = loaded.recipe
    assert r.model.name == "logistic_regression"
    assert r.cv.kind == "kfold" and r.cv.folds == 3  # recipe's own keys merge after the group
    assert Path(r.data.source.path) == (tmp_path / "data" / "titanic.csv").resolve()


def test_overrides_set_keys_the_recipe_does_not_spell_out(write_recipe):
    loaded = load_recipe(write_recipe(TITANIC), ["split.holdout=0.3", "cv.folds=4", "tracking.tags.owner=ana"])
    assert loaded.recipe.split.holdout == 0.3
    assert loaded.recipe.cv.folds == 4
    assert loaded.recipe.tracking.tags == {"owner": "ana"}


def test_group_override_switch_drops_recipe_params_of_the_other_model(write_recipe):
    text = "defaults:\n  - model: lightgbm\n  - _self_\n" + TITANIC.replace("  name: lightgbm\n", "")
    loaded = load_recipe(write_recipe(text), ["model=logistic_regression"])
    assert loaded.recipe.model.name == "logistic_regression"
    assert loaded.recipe.model.params == {"max_iter": 2000, "C": 1.0}  # the option's own params, none of lightgbm's
    assert any("n_estimators" in n for n in loaded.notes)


def test_group_selection_not_in_defaults_is_added(write_recipe):
    loaded = load_recipe(write_recipe(TITANIC), ["cv=kfold"])
    assert loaded.recipe.cv.kind == "kfold"


def test_param_of_another_model_is_an_error_naming_both(write_recipe):
    with pytest.raises(RecipeError) as exc:
        load_recipe(write_recipe(TITANIC), ["model=logistic_regression", "model.params.num_leaves=7"])
    msg = str(exc.value)
    assert "model.params.num_leaves" in msg and "logistic_regression" in msg and "lightgbm" in msg


def test_unknown_group_option_lists_options(write_recipe):
    with pytest.raises(RecipeError) as exc:
        load_recipe(write_recipe(TITANIC), ["model=lightgbn"])
    assert "Did you mean 'lightgbm'" in str(exc.value)
    assert "random_forest" in str(exc.value)


def test_unknown_option_in_defaults_list(write_recipe):
    with pytest.raises(RecipeError) as exc:
        load_recipe(write_recipe("defaults:\n  - cv: stratifed_kfold\n  - _self_\n" + TITANIC))
    assert "defaults" in str(exc.value) and "Did you mean 'stratified_kfold'" in str(exc.value)


def test_malformed_override(write_recipe):
    with pytest.raises(RecipeError) as exc:
        load_recipe(write_recipe(TITANIC), ["cv.folds=[3"])
    assert "malformed override" in str(exc.value) and "cv.folds=[3" in str(exc.value)


def test_sweep_override_needs_multirun(write_recipe):
    with pytest.raises(RecipeError) as exc:
        load_recipe(write_recipe(TITANIC), ["cv.folds=3,4"])
    assert "-m" in str(exc.value)


def test_malformed_yaml_reports_line(write_recipe):
    path = write_recipe("name: x\ndata:\n  source: {kind: csv, path: a.csv\n  target: y\n")
    with pytest.raises(RecipeError) as exc:
        load_recipe(path)
    assert "malformed YAML at line" in str(exc.value)


def test_missing_recipe_file(tmp_path):
    with pytest.raises(RecipeError, match="does not exist"):
        load_recipe(tmp_path / "nope.yaml")


def test_name_defaults_to_file_stem(write_recipe):
    loaded = load_recipe(write_recipe(TITANIC.replace("name: t\n", ""), name="my-recipe.yaml"))
    assert loaded.recipe.name == "my-recipe"


def test_delete_override(write_recipe):
    loaded = load_recipe(write_recipe(TITANIC), ["~cv"])
    assert loaded.recipe.cv.folds == 5  # back to the schema default
