"""`mlengine plan` shows where every modelling step is fitted; pipeline parameters are addressable by step name."""

from __future__ import annotations

import json

from mlengine.api import load_recipe
from mlengine.data.sources import read_source
from mlengine.data.table import prepare_table
from mlengine.plan import compile_recipe
from mlengine.steps.assemble import model_param_prefix

from tests.conftest import RECIPES
from tests.modelling import TITANIC_M

FULL = TITANIC_M + """resample: {method: smotenc, k_neighbors: 4}
select: {method: kbest, k: 6}
reduce: {method: pca, n_components: 4}
calibration: {method: isotonic}
threshold: {objective: f1}
"""


def test_plan_shows_each_step_and_where_it_is_fitted(cli, write_recipe):
    code, out, _ = cli("plan", write_recipe(FULL.replace("titanic.csv", "not-read.csv")))
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    order = [line.split()[1] for line in lines if line[:2] in {f"{i}." for i in range(1, 10)}]
    assert order == ["adapt", "preprocess", "resample", "select", "reduce", "model", "calibration", "threshold"]
    placed = {line.split()[1]: line.split()[2] for line in lines if line[:2] in {f"{i}." for i in range(1, 10)}}
    assert placed == {"adapt": "[stateless]", "preprocess": "[per_fold]", "resample": "[fit_only]",
                      "select": "[per_fold]", "reduce": "[per_fold]", "model": "[per_fold]",
                      "calibration": "[after_search]", "threshold": "[after_search]"}
    assert "never on validation or holdout rows" in out and "out-of-fold predictions" in out
    code, out, _ = cli("plan", write_recipe(FULL), "--json")
    plan = json.loads(out)
    assert plan["modelling"]["resample"]["k_neighbors"] == 4 and plan["modelling"]["threshold"]["objective"] == "f1"


def test_pipeline_parameters_are_addressable_by_step_name(write_recipe):
    loaded = load_recipe(write_recipe(FULL))
    data = prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)
    plan = compile_recipe(loaded.recipe, task=data.task, classes=data.classes)
    pipe = plan.build_pipeline(plan.candidates[0], data.columns, data.task)
    params = pipe.get_params()
    for key in ("resample__k_neighbors", "select__k", "reduce__n_components", "model__num_leaves"):
        assert key in params, key
    pipe.set_params(resample__k_neighbors=2, select__k=5)  # what a search over the pipeline will do
    assert pipe.get_params()["resample__k_neighbors"] == 2
    assert model_param_prefix(plan, data.task) == "model__"


def test_recipes_plan_with_their_modelling_sections(cli):
    code, out, _ = cli("plan", RECIPES / "mammography.yaml")
    assert code == 0 and "[fit_only] SMOTE" in out and "tuned for cost" in out and "screening_rule" in out
    code, out, _ = cli("plan", RECIPES / "nyc_taxis_fare.yaml")
    assert code == 0 and "TransformedTargetRegressor(log)" in out
    code, out, _ = cli("plan", RECIPES / "wine_quality_bins.yaml")
    assert code == 0 and "task      multiclass" in out and "[training_split] bin target (edges)" in out
