"""The joint space FLAML searches (mlengine/search/flaml_space.py): models cheapest first, data-dependent bounds,
configs in and out of FLAML's terms, and the start points."""

from __future__ import annotations

from mlengine.search.flaml_space import CHOICE_KEY, build_space, start_points
from mlengine.search.spaces import ParamSpec, default_space


def _space(models=("logistic_regression", "random_forest"), pipeline=None, n_rows=500):
    return build_space({m: default_space(m, "binary") for m in models}, pipeline or {}, n_rows=n_rows,
                       n_features=8, task="binary")


def test_models_are_ordered_cheapest_first_and_bounds_follow_the_data():
    space = _space()
    assert space.estimators == ["random_forest", "logistic_regression"] and space.hierarchical  # by model_cost
    small = _space(("lightgbm",), n_rows=40)
    assert not small.hierarchical
    assert small.models["lightgbm"]["num_leaves"].high <= 40 < default_space("lightgbm", "binary")["num_leaves"].high


def test_a_point_round_trips_through_decode_with_native_types():
    pipe = {"resample.k_neighbors": ParamSpec("randint", low=2, high=9, init=5)}
    space = _space(pipeline=pipe)
    point = space.point("random_forest", {"max_depth": 6.0, "unknown": 1}, {"resample.k_neighbors": 3})
    assert point[CHOICE_KEY]["name"] == "random_forest" and "unknown" not in point[CHOICE_KEY]
    model, params, pipeline = space.decode(point)
    assert model == "random_forest" and pipeline == {"resample.k_neighbors": 3}
    assert all(type(params[k]) is int for k, s in space.models["random_forest"].items()
               if s.domain in ("randint", "lograndint", "qrandint") and k in params)
    flat = _space(("logistic_regression",))
    assert flat.decode(flat.point("logistic_regression", {"C": 1e9}))[1]["C"] == flat.models[
        "logistic_regression"]["C"].high  # clipped into the space


def test_the_flaml_space_is_a_choice_over_models_with_their_costs():
    space, low_cost, cat_cost = _space().flaml()
    assert set(space) == {CHOICE_KEY}
    assert [c["name"] for c in space[CHOICE_KEY].categories] == ["random_forest", "logistic_regression"]
    assert low_cost[CHOICE_KEY][-1] == 0 and len(cat_cost[CHOICE_KEY][-1]) == 2  # cheapest model index, costs
    flat, _, none = _space(("lightgbm",)).flaml()
    assert CHOICE_KEY not in flat and "num_leaves" in flat and none == {}


def test_start_points_begin_with_the_recipes_own_model_then_the_init_points():
    space = _space()
    none = start_points(space, "none", "binary")
    assert [p[CHOICE_KEY]["name"] for p in none] == ["random_forest", "logistic_regression"]
    points = start_points(space, "defaults", "binary", lead="logistic_regression", lead_params={"C": 2.0})
    assert points[0][CHOICE_KEY]["name"] == "logistic_regression" and points[0][CHOICE_KEY]["C"] == 2.0
    keys = [repr(sorted(p[CHOICE_KEY].items())) for p in points]
    assert len(keys) == len(set(keys)) and len(points) >= len(none)  # no duplicates
