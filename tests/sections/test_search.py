"""`search`: the section's defaults (stated once in its class), when a search runs, search spaces written as bare
pins or domains, the ensemble's pool size, and one clear message per bad key."""

from __future__ import annotations

import pytest

from mlengine.errors import RecipeError
from mlengine.recipe.validate import validate_config
from mlengine.sections.search import EnsembleSection, ParamSpace, RaySection, SearchSection

BASE = {"name": "s", "task": "binary",
        "data": {"source": {"kind": "builtin", "name": "breast_cancer"}, "target": "target"}}


def _problems(search: dict) -> list[str]:
    try:
        validate_config({**BASE, "search": search})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


def test_defaults_and_when_a_search_runs():
    s = SearchSection()
    assert (s.estimators, s.trials, s.time_budget, s.algorithm, s.prune, s.n_concurrent, s.backend,
            s.warm_start) == ([], None, None, "cfo", True, 1, "local", "defaults")
    assert not s.active  # neither trials nor a budget
    assert SearchSection(trials=3).active and SearchSection(time_budget=5).active
    assert not SearchSection(trials=0, time_budget=5).active  # trials 0 means no search, whatever the budget
    assert validate_config(BASE).search == s


def test_a_bare_value_pins_a_parameter():
    assert ParamSpace.model_validate(31) == ParamSpace(value=31)
    space = ParamSpace.model_validate({"domain": "randint", "low": 4, "high": 64})
    assert (space.domain, space.low, space.high, space.value) == ("randint", 4, 64, None)
    recipe = validate_config({**BASE, "search": {"trials": 2, "space": {"lightgbm": {"num_leaves": 15}}}})
    assert recipe.search.space["lightgbm"]["num_leaves"].value == 15


def test_ensemble_pool_size_follows_the_method():
    assert EnsembleSection().method == "greedy" and EnsembleSection().size == 10
    assert EnsembleSection(method="voting").size == 3 and EnsembleSection(method="stacking").size == 3
    assert EnsembleSection(method="voting", top_k=5).size == 5


def test_ray_connect_timeout_is_bounded():
    assert RaySection().connect_timeout == 10.0
    with pytest.raises(ValueError):
        RaySection(connect_timeout=0)


def test_bad_keys_get_one_message_each():
    assert _problems({"estimators": ["lightgbn"], "trials": 2}) == [
        "search.estimators[0]: unknown model 'lightgbn'. Did you mean 'lightgbm'? Allowed: catboost, dummy, "
        "extra_trees, hist_gradient_boosting, knn, lightgbm, logistic_regression, mlp, random_forest, ridge, "
        "xgboost."]
    assert _problems({"metric": "auc", "trials": 2})[0].startswith("search.metric: unknown metric 'auc'.")
    assert _problems({"algorithm": "tpe"}) == ["search.algorithm: got 'tpe'. Allowed: cfo, blendsearch."]
    assert _problems({"trials": -1}) == ["search.trials: must be greater than or equal to 0; got -1."]
