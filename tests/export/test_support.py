"""Which export formats a recipe gets (mlengine/export/support.py), decided from the recipe alone: every blocker
names its recipe key, auto drops ONNX with a note, an explicit list is kept."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from mlengine.export.support import onnx_blockers, resolve_export, search_onnx_blockers
from mlengine.sections.calibration import CALIBRATION


def _recipe(name="lightgbm", params=None, calibration="none", fmt="auto", verify=True, estimators=(), trials=None):
    return NS(model=NS(name=name, params=params or {}), calibration=CALIBRATION[calibration](method=calibration),
              export=NS(format=fmt, verify=verify, opset=17, tolerance=1e-5),
              search=NS(estimators=list(estimators), trials=trials, time_budget=None))


@pytest.mark.parametrize(("name", "params", "task", "key"), [
    ("lightgbm", {"linear_tree": True}, "binary", "model.params.linear_tree"),
    ("lightgbm", {"objective": "lambdarank"}, "auto", "model.params.objective"),
    ("lightgbm", {"objective": "regression"}, "binary", "model.params.objective"),  # fits the other task only
    ("xgboost", {"booster": "dart"}, "binary", "model.params.booster"),
    ("xgboost", {"objective": "rank:pairwise"}, "regression", "model.params.objective"),
    ("mlp", {"activation": "softplus"}, "binary", "model.params.activation"),
    ("dummy", {"strategy": "stratified"}, "binary", "model.params.strategy"),
    ("hist_gradient_boosting", {"categorical_features": [0]}, "binary", "model.params.categorical_features"),
])
def test_each_blocker_names_its_recipe_key(name, params, task, key):
    (reason,) = onnx_blockers(_recipe(name, params), task)
    assert key in reason


def test_exportable_recipes_have_no_blockers():
    assert onnx_blockers(_recipe("lightgbm", {"objective": "binary"}), "binary") == []
    assert onnx_blockers(_recipe("lightgbm", {"objective": "regression"}), "auto") == []
    assert onnx_blockers(_recipe("dummy", {"strategy": "stratified"}), "regression") == []
    assert onnx_blockers(_recipe("random_forest", calibration="isotonic"), "binary") == []


def test_refused_and_unknown_models_and_calibration():
    assert "no exact ONNX graph" in onnx_blockers(_recipe("knn"))[0]
    assert "has no ONNX converter" in onnx_blockers(_recipe("my_model"))[0]
    assert "calibration.method 'temperature' cannot be exported" in onnx_blockers(
        _recipe(calibration="temperature"), "multiclass")[0]


def test_a_searched_model_that_could_win_and_not_export_is_named():
    recipe = _recipe(estimators=["lightgbm", "knn", "knn"], trials=5)
    (reason,) = search_onnx_blockers(recipe)
    assert reason.startswith("search.estimators includes 'knn'")
    assert search_onnx_blockers(_recipe(estimators=["knn"])) == []  # no search budget: no search
    assert search_onnx_blockers(_recipe("knn", estimators=["knn"], trials=5)) == []  # the recipe's own model


def test_auto_writes_onnx_when_it_can_and_explains_when_it_cannot():
    formats, notes = resolve_export(_recipe(), "binary")
    assert formats == ["joblib", "onnx"] and "probabilities within 1e-05 absolute" in notes[0]
    assert "failed check drops model.onnx with a warning" in notes[0]
    formats, notes = resolve_export(_recipe("knn"), "binary")
    assert formats == ["joblib"] and notes[0].startswith("onnx: this model cannot be exported to ONNX: knn")
    _, notes = resolve_export(_recipe(), "regression")
    assert "predictions within 1e-05 relative" in notes[0]


def test_an_explicit_list_is_kept_in_order_without_duplicates():
    formats, notes = resolve_export(_recipe(fmt=["onnx", "joblib", "onnx"], verify=False), "binary")
    assert formats == ["onnx", "joblib"] and "NOT verified (export.verify: false)" in notes[0]
    assert "a failed check fails the run" in notes[0]
    assert resolve_export(_recipe(fmt=["joblib"]), "binary") == (["joblib"], [])
