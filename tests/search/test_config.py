"""The search as declared, before data (mlengine/search/config.py): merged spaces, pinned pipeline parameters, the
metric, and the plan text `mlengine plan` prints."""

from __future__ import annotations

import pytest

from mlengine.api import load_recipe
from mlengine.plan_types import PlanStep
from mlengine.search.config import declared_spaces, pipeline_pins, plan_search, search_metric
from mlengine.search.spaces import default_space

from tests.conftest import TITANIC

SEARCH = TITANIC + """search:
  estimators: [lightgbm, logistic_regression]
  trials: 6
  space:
    lightgbm:
      num_leaves: {high: 24}
      subsample_freq: 1
  pipeline:
    resample: {k_neighbors: {domain: choice, values: [2, 9]}}
    reduce: {tol: 0.01}
resample: {method: smote}
reduce: {method: pca, n_components: 4}
"""


def _recipe(tmp_path, text: str, *overrides: str):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return load_recipe(path, list(overrides)).recipe


def test_recipe_entries_narrow_or_pin_the_default_space(tmp_path):
    models, pipeline = declared_spaces(_recipe(tmp_path, SEARCH), "binary")
    assert list(models) == ["lightgbm", "logistic_regression"]
    lgbm, default = models["lightgbm"], default_space("lightgbm", "binary")
    assert lgbm["num_leaves"].high == 24 and lgbm["num_leaves"].low == default["num_leaves"].low
    assert lgbm["subsample_freq"].domain == "const" and lgbm["subsample_freq"].value == 1
    assert set(default) < set(lgbm)  # the pin adds a parameter the default space leaves out
    assert models["logistic_regression"] == default_space("logistic_regression", "binary")
    assert pipeline["resample.k_neighbors"].domain == "choice" and pipeline["resample.k_neighbors"].values == (2, 9)


def test_pinned_pipeline_parameters_apply_without_a_search(tmp_path):
    assert pipeline_pins(_recipe(tmp_path, SEARCH)) == {"reduce.tol": 0.01}
    assert pipeline_pins(_recipe(tmp_path, TITANIC)) == {}


def test_the_metric_is_the_searchs_then_the_evaluations_then_the_tasks(tmp_path):
    assert search_metric(_recipe(tmp_path, SEARCH, "search.metric=f1", "evaluate.metric=accuracy"), "binary") == "f1"
    assert search_metric(_recipe(tmp_path, SEARCH, "evaluate.metric=accuracy"), "binary") == "accuracy"
    assert search_metric(_recipe(tmp_path, SEARCH), "binary") == "roc_auc"
    assert search_metric(_recipe(tmp_path, SEARCH), "regression") == "r2"
    assert search_metric(_recipe(tmp_path, SEARCH), "auto") is None


def test_the_plan_names_the_budget_the_direction_and_the_candidates(tmp_path):
    plan = plan_search(_recipe(tmp_path, SEARCH, "search.time_budget=60", "search.early_stop=3",
                               "search.metric=log_loss"), "binary")
    assert [c.model for c in plan.candidates] == ["lightgbm", "logistic_regression"]
    assert all(c.pipeline_params == {"reduce.tol": 0.01} for c in plan.candidates)
    assert plan.metric == "log_loss"
    assert plan.text.startswith("cfo (FLAML), 6 trials capped at 60 s; optimising cv log_loss (lower is better); "
                                "seed 1; stops after 3 trials without improvement")
    assert "not reproducible" not in plan.text
    assert set(plan.space_text) == {"lightgbm", "logistic_regression", "pipeline"}
    assert set(plan.space_text["pipeline"]) == {"resample.k_neighbors", "reduce.tol"}


def test_a_time_only_budget_is_called_not_reproducible(tmp_path):
    text = _recipe(tmp_path, SEARCH, "search.trials=null", "search.time_budget=30", "search.ensemble.method=greedy")
    plan = plan_search(text, "binary").text
    assert plan.startswith("cfo (FLAML), until 30 s;") and "greedy ensemble selection" in plan
    assert plan.endswith("not reproducible: the trial count depends on the machine's speed (set search.trials)")


@pytest.mark.parametrize(("name", "component", "detail"), [
    ("preprocess", "ColumnTransformer", "per candidate (see candidates)"),
    ("model", "lightgbm | logistic_regression", "searched: each trial refits the whole pipeline inside every CV"),
    ("select", "SelectKBest", "k=5"),
])
def test_restep_shows_the_steps_the_search_changes(tmp_path, name, component, detail):
    plan = plan_search(_recipe(tmp_path, SEARCH), "binary")
    step = plan.restep(PlanStep(name, "ColumnTransformer" if name == "preprocess" else "SelectKBest", "per_fold",
                                "k=5"))
    assert step.component == component and step.detail.startswith(detail) and step.placement == "per_fold"
