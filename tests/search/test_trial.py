"""One trial (mlengine/search/trial.py): a config cross-validated like a fixed run, pruned when it cannot catch
the best on the same folds, and a failing config returned as data, never raised."""

from __future__ import annotations

import pytest

from mlengine.api import load_recipe
from mlengine.errors import RecipeError
from mlengine.search.config import declared_spaces
from mlengine.search.flaml_space import build_space
from mlengine.search.trial import TrialSetup, check_pipeline_params, run_trial, should_prune

from tests.conftest import TITANIC
from tests.search_helpers import trial_setup

SEARCH = TITANIC + "search: {estimators: [logistic_regression], trials: 2}\n"


def test_pruning_margin_shrinks_with_folds_and_follows_the_direction():
    bar = [0.80, 0.82, 0.84]  # std 0.0163
    assert should_prune([0.70], bar, greater_is_better=True)
    assert not should_prune([0.79], bar, greater_is_better=True)  # within one std after one fold
    assert should_prune([0.78, 0.80], bar, greater_is_better=True)  # 0.02 behind; the margin is std/sqrt(2)
    assert not should_prune([0.70, 0.70, 0.70], bar, greater_is_better=True)  # every fold done: nothing to skip
    assert not should_prune([0.70], [], greater_is_better=True)
    assert should_prune([0.95], bar, greater_is_better=False) and not should_prune([0.70], bar, False)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return trial_setup(tmp_path_factory.mktemp("trial"), SEARCH)


def test_a_trial_scores_every_fold_with_every_metric(setup):
    out = run_trial(setup, {"C": 1.0})
    assert out.status == "ok" and out.model == "logistic_regression" and out.params["C"] == 1.0
    assert len(out.scores["roc_auc"]) == 3 and 0.75 < sum(out.scores["roc_auc"]) / 3 < 0.95
    assert set(setup.plan.metrics) <= set(out.scores) and out.cv is not None and out.seconds > 0


def test_a_trial_far_behind_the_best_is_pruned_keeping_its_folds(setup):
    out = run_trial(setup, {"C": 1.0}, bar=[0.999, 0.999, 0.999])
    assert out.status == "pruned" and len(out.scores["roc_auc"]) == 1
    assert out.error.startswith("pruned after 1 of 3 folds")


def test_a_failing_config_is_a_failed_trial(setup):
    out = run_trial(setup, {"C": -1.0})  # scikit-learn refuses C <= 0
    assert out.status == "failed" and out.error.startswith("InvalidParameterError") and out.scores == {}


def test_searched_pipeline_parameters_must_exist_in_the_pipeline(setup, tmp_path):
    check_pipeline_params(setup)  # nothing searched in the pipeline: nothing to check
    path = tmp_path / "r.yaml"
    path.write_text(SEARCH.replace("trials: 2}", "trials: 2, pipeline: {preprocess: {nope: 3}}}"), encoding="utf-8")
    recipe = load_recipe(path).recipe
    models, pipeline = declared_spaces(recipe, setup.task)
    bad = TrialSetup(**{**setup.__dict__, "space": build_space(models, pipeline, n_rows=100, n_features=5,
                                                                task=setup.task)})
    with pytest.raises(RecipeError, match="search.pipeline.preprocess.nope.*'nope' is not a parameter of pipeline "
                                          "step 'preprocess'"):
        check_pipeline_params(bad)
