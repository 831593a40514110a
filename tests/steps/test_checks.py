"""mlengine.steps.checks: the cross-section problems that depend on the task, the targets of each CV training
fold, the encoded feature names, and the data checks run before anything is fitted (widths, resampling, the
task the data turned out to have)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from mlengine.data.table import prepare_table
from mlengine.errors import DataError, RecipeError
from mlengine.plan import compile_recipe
from mlengine.recipe.validate import validate_config
from mlengine.steps.checks import (
    check_modelling_data,
    effective_task,
    encoded_features,
    modelling_problems,
    training_fold_targets,
)

from tests.conftest import DATA
from tests.modelling import TITANIC_M, WINE, mammo_recipe

TITANIC_FEATURES = ["pclass", "age", "sibsp", "parch", "fare", "alone", "sex", "embarked", "deck"]


def _titanic(**sections):
    data = yaml.safe_load(TITANIC_M)
    data.update(sections)
    recipe = validate_config(data)
    table = prepare_table(pd.read_csv(DATA / "titanic.csv", nrows=200), recipe)
    return recipe, compile_recipe(recipe, task=table.task), table


def test_value_matrix_and_rule_baselines_are_problems_outside_binary():
    r = mammo_recipe(evaluate={"value": {"true_positive": 10, "false_positive": -1},
                               "baselines": ["no_skill", {"rule": "f1 > 0"}]})
    assert modelling_problems(r, "binary") == []
    problems = modelling_problems(r, "multiclass")
    assert [(p.path, p.message) for p in problems] == [
        ("evaluate.baselines[1].rule", "rule baselines predict the positive class (binary); task is multiclass."),
        ("evaluate.value", "a value matrix scores binary decisions; task is multiclass.")]


def test_a_binned_target_makes_an_auto_or_regression_task_a_classification():
    r = validate_config(yaml.safe_load("""
name: w
data: {source: {kind: csv, path: x.csv}, target: quality}
target: {binning: edges, edges: [5, 7]}
model: {name: lightgbm}
"""))
    assert effective_task(r, "auto") == "multiclass" and effective_task(r, "regression") == "multiclass"
    assert effective_task(mammo_recipe(), "regression") == "regression"  # not binned: unchanged


def test_training_fold_targets_are_the_cv_training_rows_or_the_whole_split():
    _, plan, table = _titanic()
    folds = training_fold_targets(plan, table.y)
    assert [len(f) for f in folds] == [133, 133, 134]  # 3 folds over 200 rows: each trains on the other two
    assert all(f.dtype == object for f in folds)
    assert sorted(np.concatenate(folds).tolist()) == sorted(np.repeat(table.y.to_numpy(), 2).tolist())
    _, no_cv, table = _titanic(cv={"kind": "none"})
    [whole] = training_fold_targets(no_cv, table.y)
    assert whole.tolist() == table.y.tolist()


def test_encoded_features_are_the_preprocessed_column_names():
    _, plan, table = _titanic()
    assert encoded_features(plan, table, table.X) == TITANIC_FEATURES  # ordinal: one column per categorical


def test_select_wider_than_the_encoded_features_is_refused():
    recipe, plan, table = _titanic(select={"method": "kbest", "k": 30})
    with pytest.raises(DataError, match=r"^select\.k: 30 is more than the 9 features after encoding "
                                        r"\(pclass, age, .*, deck\)\. Set k to at most 9\.$"):
        check_modelling_data(recipe, plan, table, np.arange(200))
    recipe, plan, table = _titanic(select={"method": "kbest", "k": 5})
    assert check_modelling_data(recipe, plan, table, np.arange(200)) is None


def test_smote_over_categorical_columns_is_refused_on_the_data():
    recipe, plan, table = _titanic(resample={"method": "smote", "k_neighbors": 3})
    with pytest.raises(DataError, match=r"resample.method: 'smote' interpolates between rows and would invent "
                                        r"categories for the categorical column\(s\) 'sex', 'embarked', 'deck'"):
        check_modelling_data(recipe, plan, table, np.arange(200))


def test_a_recipe_valid_for_auto_is_refused_when_the_data_turns_out_multiclass():
    data = yaml.safe_load(WINE)
    data["evaluate"] = {"value": {"true_positive": 10, "false_positive": -1}}
    recipe = validate_config(data)  # task auto: nothing known yet
    table = prepare_table(pd.read_csv(DATA / "wine_quality_white.csv", nrows=200), recipe)
    assert table.task == "multiclass"
    with pytest.raises(RecipeError, match="evaluate.value: a value matrix scores binary decisions; task is "
                                          "multiclass."):
        check_modelling_data(recipe, compile_recipe(recipe, task="binary"), table, np.arange(200))
