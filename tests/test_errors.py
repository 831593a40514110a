"""The error family: exit codes by kind (1 internal, 2 user, 3 gate), every problem in one message, did-you-mean."""

from __future__ import annotations

from mlengine.errors import (
    DataError,
    ExportError,
    ModelLoadError,
    Problem,
    QualityGateError,
    RecipeError,
    UserError,
    did_you_mean,
    unknown_name,
)


def test_exit_codes_follow_the_kind_of_error():
    assert [e.exit_code for e in (DataError("x"), ModelLoadError("x"), RecipeError("x"))] == [2, 2, 2]
    assert ExportError("x").exit_code == 1 and QualityGateError("x").exit_code == 3
    assert not isinstance(ExportError("x"), UserError)


def test_a_recipe_error_lists_every_problem_with_its_key():
    one = RecipeError([Problem("cv.folds", "must be >= 2")], source="r.yaml")
    assert str(one) == "Invalid recipe in r.yaml: cv.folds: must be >= 2"
    two = RecipeError([Problem("a", "bad"), Problem("b.c", "worse")])
    assert str(two).splitlines() == ["Invalid recipe: 2 problems.", "  - a: bad", "  - b.c: worse"]


def test_unknown_names_suggest_the_closest_and_list_what_is_allowed():
    assert did_you_mean("lightgmb", ["lightgbm", "xgboost"]) == " Did you mean 'lightgbm'?"
    assert did_you_mean("zzz", ["lightgbm"]) == ""
    assert unknown_name("model", "lightgmb", ["xgboost", "lightgbm"]) == (
        "unknown model 'lightgmb'. Did you mean 'lightgbm'? Allowed: lightgbm, xgboost.")
