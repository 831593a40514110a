"""Search spaces as data: defaults per model, data-scaled bounds, recipe overrides, start points, the plan."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from mlengine.search.flaml_space import build_space, start_points
from mlengine.search.spaces import DEFAULT_SPACES, ParamSpec, default_space, override_spec, spec_problems
from mlengine.sections.model import MODELS
from mlengine.sections.search import ParamSpace

from tests.conftest import DATA, TITANIC


def test_every_registered_model_has_a_space_of_its_own_parameters():
    assert set(DEFAULT_SPACES) == set(MODELS)
    for name, spec in MODELS.items():
        task = "binary" if spec.classifier else "regression"
        for param, p in default_space(name, task).items():
            assert param in spec.param_names(task), (name, param)
            assert not spec_problems(p), (name, param)


def test_bounds_scale_with_the_data():
    trees = default_space("lightgbm", "binary")["n_estimators"]
    assert trees.for_data(300, 10, "binary").high == 300
    assert trees.for_data(10**6, 10, "binary").high == 32768
    leaves = default_space("random_forest", "binary")["max_leaf_nodes"].for_data(300, 10, "binary")
    assert leaves.high == 150
    share = default_space("random_forest", "binary")["max_features"].for_data(300, 400, "binary")
    assert share.init == 0.05 and share.low == 0.05  # sqrt(400) features: the low widens to include the start
    assert default_space("random_forest", "regression")["max_features"].for_data(300, 400, "regression").init == 1.0
    assert "criterion" not in default_space("random_forest", "regression")


def test_integer_bounds_are_inclusive():
    from flaml import tune  # noqa: F401  (domains are FLAML's)

    dom = ParamSpec("randint", 2, 3).to_flaml()
    seen = {dom.sample() for _ in range(200)}
    assert seen == {2, 3}


def test_recipe_entries_narrow_pin_and_add():
    base = default_space("lightgbm", "binary")["num_leaves"]
    narrowed = override_spec(base, ParamSpace(low=8, high=64))
    assert (narrowed.domain, narrowed.low, narrowed.high, narrowed.high_cap) == ("lograndint", 8, 64, None)
    assert narrowed.low_cost is None and narrowed.init is None  # 4 is outside 8..64: dropped, not clipped
    pinned = override_spec(base, ParamSpace.model_validate(31))
    assert (pinned.domain, pinned.value) == ("const", 31)
    added = override_spec(None, ParamSpace(domain="uniform", low=0.5, high=1.0))
    assert added.domain == "uniform" and not spec_problems(added)
    assert spec_problems(override_spec(None, ParamSpace(low=1, high=2)))  # a new parameter needs a domain
    assert "needs low > 0" in spec_problems(ParamSpec("loguniform", 0, 1))[0]
    assert "greater than high" in spec_problems(ParamSpec("uniform", 2, 1))[0]
    assert "outside" in spec_problems(ParamSpec("uniform", 0, 1, init=2))[0]


def test_start_points_recipe_model_first_then_cheapest_then_defaults_then_zero_shot():
    X = pd.read_csv(DATA / "titanic.csv").drop(columns=["survived", "alive"])
    y = pd.read_csv(DATA / "titanic.csv")["survived"]
    models = {m: default_space(m, "binary") for m in ("random_forest", "lightgbm")}
    space = build_space(models, {}, n_rows=len(X), n_features=X.shape[1], task="binary")
    assert space.estimators == ["lightgbm", "random_forest"]  # cost order
    points = start_points(space, "zero_shot", "binary", X, y, lead="random_forest", lead_params={"max_depth": 3,
                                                                                               "n_estimators": 50})
    names = [p["model"]["name"] for p in points]
    assert names[:4] == ["random_forest", "lightgbm", "random_forest", "lightgbm"]
    assert points[0]["model"]["n_estimators"] == 50  # the recipe's own model first (max_depth is not searched)
    assert points[1]["model"]["n_estimators"] == 4 and points[2]["model"]["n_estimators"] == 4  # low-cost starts
    assert points[3]["model"]["n_estimators"] == 200 and points[3]["model"]["learning_rate"] == 0.05  # defaults
    assert len(points) > 4  # FLAML's zero-shot configurations, moved into the bounds
    for p in points:
        inner = p["model"]
        for k, v in inner.items():
            if k != "name":
                assert space.models[inner["name"]][k].contains(v), (k, v)
    assert len({json.dumps(p, sort_keys=True) for p in points}) == len(points)
    model, params, pipe = space.decode(points[3])
    assert model == "lightgbm" and isinstance(params["n_estimators"], int) and pipe == {}


def test_plan_shows_the_search_without_reading_data(cli, write_recipe):
    path = write_recipe(TITANIC + "search:\n  estimators: [lightgbm, random_forest]\n  trials: 20\n"
                        "  time_budget: 60\n  space: {lightgbm: {num_leaves: {high: 64}}}\n")
    code, out, err = cli("plan", path)
    assert code == 0, err
    assert "search    cfo (FLAML), 20 trials capped at 60 s" in out
    assert "num_leaves           lograndint 4..64, start 4, cheapest 4" in out
    assert "n_estimators         lograndint 4..min(2048, rows)" in out
    assert "3. model       [per_fold] lightgbm | random_forest" in out
    code, out, _ = cli("plan", path, "--json")
    plan = json.loads(out)
    assert [c["model"] for c in plan["candidates"]] == ["lightgbm", "random_forest"]
    assert plan["search_space"]["lightgbm"]["num_leaves"].startswith("lograndint 4..64")
    code, out, _ = cli("plan", path, "search.trials=0", "~search.time_budget")
    assert "search    none" in out and "search space" not in out


def test_validate_with_a_search_imports_no_flaml(write_recipe):
    path = write_recipe(TITANIC + "search: {estimators: [lightgbm, random_forest], trials: 5}\n")
    code = ("import sys, mlengine.cli as c\n"
            f"c.main(['validate', r'{path}'])\n"
            "print('HEAVY', [m for m in ('lightgbm', 'flaml', 'onnx', 'skl2onnx') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out
