"""`preprocess`: the section's defaults (stated once in its class) and one clear message per bad key."""

from __future__ import annotations

from mlengine.errors import RecipeError
from mlengine.recipe.validate import validate_config
from mlengine.sections.preprocess import PreprocessSection

BASE = {"name": "p", "data": {"source": {"kind": "builtin", "name": "iris"}, "target": "target"}}


def _problems(preprocess: dict) -> list[str]:
    try:
        validate_config({**BASE, "preprocess": preprocess})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


def test_defaults_leave_the_choices_to_the_model_family():
    p = PreprocessSection()
    assert (p.numeric_impute, p.scale, p.categorical) == ("auto", "auto", "auto")
    assert (p.max_categories, p.min_frequency) == (30, 5)
    assert p.datetime_features == ["year", "month", "day", "dayofweek", "hour"]
    assert validate_config(BASE).preprocess == p


def test_bad_keys_get_one_message_each():
    assert _problems({"scale": "zscore"}) == ["preprocess.scale: got 'zscore'. Allowed: auto, standard, robust, "
                                              "minmax, none."]
    assert _problems({"max_categories": 1}) == ["preprocess.max_categories: must be greater than or equal to 2; "
                                                "got 1."]
    assert _problems({"datetime_features": ["week"]}) == [
        "preprocess.datetime_features[0]: got 'week'. Did you mean 'dayofweek'? Allowed: year, month, day, dayofweek, dayofyear, hour, minute."]
    (unknown,) = _problems({"impute": "median"})
    assert unknown.startswith("preprocess.impute:")
    assert _problems({"numeric_impute": "none"}) == []  # lightgbm handles missing values itself
    try:
        validate_config({**BASE, "preprocess": {"numeric_impute": "none"}, "model": {"name": "knn"}})
        raise AssertionError("numeric_impute none with knn was accepted")
    except RecipeError as exc:
        assert [f"{p.path}: {p.message}" for p in exc.problems] == [
            "preprocess.numeric_impute: 'none' needs a model that handles missing values (lightgbm, xgboost, "
            "catboost, hist_gradient_boosting); model is 'knn'."]
