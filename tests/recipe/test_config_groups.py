"""The packaged config groups: every option composes into a valid recipe, is documented, and switching options by
override replaces the recipe's own keys for that section (no leaking params) while presets merge."""

from __future__ import annotations

import pytest

from mlengine.errors import RecipeError
from mlengine.recipe.load import config_groups, configs_dir, load_recipe, option_description, read_yaml
from mlengine.sections.model import MODELS

from tests.conftest import RECIPES, TITANIC

GROUPS = config_groups()
# options that only make sense for a task: compose them onto a recipe of that task
REGRESSION_ONLY = {("model", "ridge"), ("cv", "kfold"), ("cv", "repeated_kfold"), ("cv", "group_kfold")}
NEEDS_GROUP = {("cv", "group_kfold"), ("cv", "stratified_group_kfold")}


def test_the_groups_the_issue_names_exist():
    assert {"model", "cv", "resample", "select", "reduce", "search", "calibration", "threshold", "export"} <= set(GROUPS)
    assert set(GROUPS["model"]) == set(MODELS)
    assert {"quick", "default", "thorough"} <= set(GROUPS["search"])


@pytest.mark.parametrize("group,option", [(g, o) for g, opts in GROUPS.items() for o in opts])
def test_every_option_is_documented_and_composes(write_recipe, group, option):
    assert option_description(configs_dir() / group / f"{option}.yaml"), f"{group}/{option}.yaml needs a comment"
    text = TITANIC.replace("seed: 1", "seed: 1\ntask: binary")
    extra = []
    if (group, option) in REGRESSION_ONLY:
        text = TITANIC.replace("target: survived", "target: fare").replace("seed: 1", "seed: 1\ntask: regression")
        extra = ["model.name=ridge", "~model.params"] if group != "model" else []
    if (group, option) in NEEDS_GROUP:
        extra.append("data.group=pclass")
    if (group, option) == ("cv", "time_series"):  # titanic has no time column: use the taxi trips, ordered by pickup
        text = None
        extra = ["data.time=pickup"]
    if group == "threshold" and option == "cost":
        extra.append("+evaluate.value={true_positive: 1, false_positive: -1, false_negative: -5, true_negative: 0}")
    path = write_recipe(text) if text is not None else RECIPES / "nyc_taxis_fare.yaml"
    loaded = load_recipe(path, [f"{group}={option}", *extra])
    section = getattr(loaded.recipe, group)
    for key, value in (read_yaml(configs_dir() / group / f"{option}.yaml") or {}).items():
        got = getattr(section, key)
        if isinstance(value, dict) and hasattr(type(got), "model_fields"):  # a nested section: the keys it sets
            assert {k: getattr(got, k) for k in value} == value
            continue
        assert (list(got) if isinstance(value, list) else got) == value, (key, got, value)


def test_model_options_list_the_registry_defaults():
    for name in GROUPS["model"]:
        params = read_yaml(configs_dir() / "model" / f"{name}.yaml").get("params") or {}
        spec = MODELS[name]
        for key, value in params.items():
            assert spec.defaults.get(key, value) == value, (name, key)
            assert key in spec.defaults or key in ("C", "alpha"), (name, key)  # sklearn's own defaults, shown


def test_switching_resample_drops_the_recipes_sampler_keys():
    loaded = load_recipe(RECIPES / "mammography.yaml", ["resample=random_under"])
    assert loaded.recipe.resample.method == "random_under"
    # random_under's option class has no k_neighbors at all (one class per method), and the recipe's ratio is gone
    assert "k_neighbors" not in type(loaded.recipe.resample).model_fields
    assert loaded.recipe.resample.sampling_strategy is None
    assert any("resample.k_neighbors" in n for n in loaded.notes)
    none = load_recipe(RECIPES / "mammography.yaml", ["resample=none"]).recipe
    assert none.resample.method == "none"


def test_switching_model_drops_params_and_a_foreign_param_names_both_models():
    loaded = load_recipe(RECIPES / "titanic.yaml", ["model=random_forest"])
    assert loaded.recipe.model.name == "random_forest" and loaded.recipe.model.params == {"n_estimators": 200}
    with pytest.raises(RecipeError) as exc:
        load_recipe(RECIPES / "titanic.yaml", ["model=random_forest", "model.params.num_leaves=8"])
    assert "num_leaves" in str(exc.value) and "lightgbm" in str(exc.value) and "random_forest" in str(exc.value)


def test_search_presets_merge_and_keep_the_recipes_estimators_and_space():
    base = load_recipe(RECIPES / "titanic_search.yaml").recipe.search
    quick = load_recipe(RECIPES / "titanic_search.yaml", ["search=quick"]).recipe.search
    assert quick.trials == 10 and quick.early_stop == 5
    assert quick.estimators == base.estimators and quick.space == base.space
    default = load_recipe(RECIPES / "titanic.yaml", ["search=default"]).recipe.search
    assert default.trials == 40 and default.ensemble.method == "greedy" and default.ensemble.size == 10


def test_unknown_option_lists_the_group():
    with pytest.raises(RecipeError) as exc:
        load_recipe(RECIPES / "titanic.yaml", ["resample=smotte"])
    assert "Did you mean 'smote'" in str(exc.value) and "smotetomek" in str(exc.value)
