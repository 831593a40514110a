"""Which recipes can be exported to ONNX (mlengine/export/support.py), decided from the recipe alone: every blocker
names its recipe key."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from mlengine.export.support import onnx_blockers, search_onnx_blockers
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


def test_every_registered_model_exports_or_says_why_not():
    """The registry says it once per model: an exact converter (one of mlengine's ONNX leaves) or a reason."""
    from mlengine.export.onnx_models import LEAVES
    from mlengine.export.support import EXPORTABLE_MODELS, REFUSED_MODELS
    from mlengine.sections.model import MODELS

    for name, spec in MODELS.items():
        assert spec.onnx != bool(spec.onnx_refused), name  # exactly one of the two
    assert set(EXPORTABLE_MODELS) | set(REFUSED_MODELS) == set(MODELS)
    converted = {MODELS[n].class_path(task).split(":")[1] for n in EXPORTABLE_MODELS for task in MODELS[n].tasks}
    assert converted <= set(LEAVES), converted - set(LEAVES)
    assert onnx_blockers(_recipe("catboost"))[0] == REFUSED_MODELS["catboost"]
