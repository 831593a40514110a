"""Bad search input: each is a user error (exit 2) naming the key, the model or step, the value and what is allowed."""

from __future__ import annotations

import pytest

from tests.conftest import TITANIC


@pytest.fixture
def titanic(write_recipe):
    return write_recipe(TITANIC + "task: binary\n")


def _fails(cli, recipe, *overrides, command="validate"):
    extra = ["--no-data"] if command == "validate" else []
    code, out, err = cli(command, recipe, *extra, *overrides)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    return err


def test_unknown_estimator_did_you_mean(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.estimators=[lightgbm,randomforest]")
    assert "search.estimators[1]" in err and "'randomforest'" in err and "Did you mean 'random_forest'?" in err


def test_estimator_that_does_not_fit_the_task(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.estimators=[ridge]")
    assert "search.estimators[0]" in err and "'ridge' does not fit task 'binary'" in err


def test_unknown_parameter_names_the_model(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.space.lightgbm.num_leafs.high=64")
    assert "search.space.lightgbm.num_leafs" in err
    assert "not a parameter of model 'lightgbm'" in err and "Did you mean 'num_leaves'?" in err


def test_catboost_alias_in_the_space_names_the_parameter_to_use(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.estimators=[catboost]",
                 "++search.space.catboost.n_estimators={low: 4, high: 50}")
    assert "search.space.catboost.n_estimators" in err and "set 'iterations' instead" in err


def test_parameter_of_another_model_says_whose_it_is(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.estimators=[lightgbm,random_forest]",
                 "search.space.random_forest.num_leaves.high=64")
    assert "search.space.random_forest.num_leaves" in err and "It is a parameter of lightgbm" in err


def test_low_greater_than_high(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.space.lightgbm.num_leaves.low=64",
                 "search.space.lightgbm.num_leaves.high=8")
    assert "search.space.lightgbm.num_leaves" in err and "low 64 is greater than high 8" in err
    assert "model 'lightgbm'" in err


def test_loguniform_needs_a_positive_low(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.space.lightgbm.reg_alpha.low=0")
    assert "search.space.lightgbm.reg_alpha" in err and "'loguniform' needs low > 0" in err


def test_new_parameter_needs_a_domain(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.space.lightgbm.subsample.low=0.5")
    assert "search.space.lightgbm.subsample" in err and "needs a `domain`" in err


def test_bound_outside_what_the_estimator_accepts(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.space.lightgbm.num_leaves.low=1")
    assert "search.space.lightgbm.num_leaves" in err and "low 1" in err and "[2, 131072]" in err


def test_reserved_parameter_cannot_be_searched(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.space.lightgbm.random_state=3")
    assert "search.space.lightgbm.random_state" in err and "set by mlengine" in err


def test_metric_that_does_not_fit_the_task(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.metric=rmse")
    assert "search.metric" in err and "'rmse' does not fit task 'binary'" in err


def test_unknown_metric_did_you_mean(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.metric=roc_aux")
    assert "search.metric" in err and "Did you mean 'roc_auc'?" in err


def test_space_for_a_model_that_is_not_searched(cli, titanic):
    # the default estimators (trees + logistic regression) leave out knn and mlp
    err = _fails(cli, titanic, "search.trials=3", "search.space.knn.n_neighbors.high=50")
    assert "search.space.knn" in err and "not searched" in err and "lightgbm, xgboost" in err


def test_pipeline_step_that_is_not_in_the_recipe(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.pipeline.resample.k_neighbors.domain=randint",
                 "search.pipeline.resample.k_neighbors.low=3", "search.pipeline.resample.k_neighbors.high=9")
    assert "search.pipeline.resample" in err and "not in the pipeline" in err and "resample.method" in err


def test_searched_values_of_a_recipe_key_are_validated_like_the_recipe(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "select.method=kbest", "select.k=4",
                 "search.pipeline.select.k.domain=randint", "search.pipeline.select.k.low=0",
                 "search.pipeline.select.k.high=6", "reduce.method=truncated_svd", "reduce.n_components=3",
                 "search.pipeline.reduce.n_components.value=0.5")
    assert "search.pipeline.select.k: select.k, low 0: must be greater than or equal to 1." in err
    assert "search.pipeline.reduce.n_components: reduce.n_components, pinned value 0.5: truncated_svd needs a " \
           "whole count" in err
    code, _, err = cli("validate", titanic, "--no-data", "search.trials=3", "select.method=kbest", "select.k=4",
                       "search.pipeline.select.k.domain=choice", "search.pipeline.select.k.values=[2,6]")
    assert code == 0, err


def test_model_parameters_do_not_belong_in_search_pipeline(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.pipeline.model.num_leaves=8")
    assert "search.pipeline.model" in err and "search.space" in err


def test_search_needs_cross_validation(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "cv.kind=none")
    assert "search.trials" in err and "cv.kind is 'none'" in err


def test_stacking_refuses_group_cv(cli, write_recipe):
    recipe = write_recipe("name: w\ndata:\n  source: {kind: csv, path: data/wage_panel.csv}\n  target: lwage\n"
                          "  group: nr\nsearch: {trials: 3, ensemble: {method: stacking}}\n",
                          files=("wage_panel.csv",))
    err = _fails(cli, recipe)
    assert "search.ensemble.method" in err and "voting" in err


def test_unknown_pipeline_parameter_is_caught_before_any_trial(cli, titanic, runs_dir):
    err = _fails(cli, titanic, "search.trials=3", "search.estimators=[logistic_regression]",
                 "search.pipeline.preprocess.cat__min_frequence.domain=randint",
                 "search.pipeline.preprocess.cat__min_frequence.low=1",
                 "search.pipeline.preprocess.cat__min_frequence.high=9", "--runs-dir", runs_dir, command="run")
    assert "search.pipeline.preprocess.cat__min_frequence" in err and "Did you mean 'cat__min_frequency'?" in err


@pytest.mark.slow
def test_time_budget_too_small_for_any_trial_still_gives_a_model(cli, titanic, runs_dir):
    code, out, err = cli("run", titanic, "search.time_budget=0.001", "--runs-dir", runs_dir, "--json")
    assert code == 0, err
    assert "no trial finished a single fold within the time budget (0.001 s" in err
    assert "Raise search.time_budget" in err  # says what to do instead


def test_all_trials_failing_is_a_clear_error(cli, titanic, runs_dir):
    err = _fails(cli, titanic, "search.trials=3", "search.estimators=[logistic_regression]",
                 "search.space.logistic_regression.solver=lbfgs", "search.space.logistic_regression.l1_ratio=1.0",
                 "--runs-dir", runs_dir, command="run")
    assert "all 3 trials failed" in err and "Solver lbfgs supports only" in err
    boards = list(runs_dir.rglob("leaderboard.csv"))  # the failed run still lists what was tried
    assert boards and boards[0].read_text().count("failed") == 3


def test_no_imputation_needs_every_searched_model_to_handle_missing_values(cli, titanic):
    err = _fails(cli, titanic, "search.trials=3", "search.estimators=[lightgbm,random_forest]",
                 "preprocess.numeric_impute=none")
    assert "preprocess.numeric_impute" in err and "the search includes random_forest" in err
