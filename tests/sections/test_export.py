"""`export` (mlengine/sections/export.py): which formats a recipe gets, decided from the recipe alone: auto drops
ONNX with a note, an explicit list is kept, asking for ONNX that cannot be written is refused before anything runs,
and a bad format value gets one message."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from mlengine.errors import RecipeError
from mlengine.recipe.validate import validate_config
from mlengine.sections.calibration import CALIBRATION
from mlengine.sections.export import ExportSection

from tests.conftest import DATA


def _recipe(name="lightgbm", fmt="auto", verify=True, estimators=(), trials=None, ensemble="none"):
    return NS(model=NS(name=name, params={}), calibration=CALIBRATION["none"](method="none"),
              export=ExportSection(format=fmt, verify=verify),
              search=NS(estimators=list(estimators), trials=trials, time_budget=None,
                        ensemble=NS(method=ensemble, members=[])))


def _resolve(recipe, task):
    return recipe.export.resolve(recipe, task)


def test_auto_writes_onnx_when_it_can_and_explains_when_it_cannot():
    formats, notes = _resolve(_recipe(), "binary")
    assert formats == ["joblib", "onnx"] and "probabilities within 1e-05 absolute" in notes[0]
    assert "failed check drops model.onnx with a warning" in notes[0]
    formats, notes = _resolve(_recipe("knn"), "binary")
    assert formats == ["joblib"] and notes[0].startswith("onnx: this model cannot be exported to ONNX: knn")
    _, notes = _resolve(_recipe(), "regression")
    assert "predictions within 1e-05 relative" in notes[0]


def test_an_explicit_list_is_kept_in_order_without_duplicates():
    formats, notes = _resolve(_recipe(fmt=["onnx", "joblib", "onnx"], verify=False), "binary")
    assert formats == ["onnx", "joblib"] and "NOT verified (export.verify: false)" in notes[0]
    assert "a failed check fails the run" in notes[0]
    assert _resolve(_recipe(fmt=["joblib"]), "binary") == (["joblib"], [])
    assert ExportSection(format="onnx").format == ["onnx"] and ExportSection(format="onnx").explicit
    assert not ExportSection().explicit


def test_asking_for_onnx_that_cannot_be_written_is_refused_with_the_key():
    (problem,) = _recipe("knn", fmt=["onnx"]).export.check(_recipe("knn", fmt=["onnx"]), "binary")
    assert problem.path == "export.format" and "knn has no exact ONNX graph" in problem.message
    stacked = _recipe(fmt=["onnx"], trials=4, ensemble="stacking")
    assert [p.path for p in stacked.export.check(stacked, "binary")] == ["search.ensemble.method"]
    searched = _recipe(fmt=["onnx"], trials=4, estimators=["lightgbm", "knn"])
    assert "search.estimators includes 'knn'" in searched.export.check(searched, "binary")[0].message
    assert _recipe("knn").export.check(_recipe("knn"), "binary") == []  # auto: a note, not an error


@pytest.mark.parametrize(("value", "message"), [
    ("pickle", "unknown export format 'pickle'"), (["auto"], "'auto' stands alone"), ([], "Allowed: auto, onnx")])
def test_a_bad_format_gets_one_message(value, message):
    with pytest.raises(RecipeError, match=message):
        validate_config({"name": "e", "data": {"source": {"kind": "csv", "path": str(DATA / "titanic.csv")},
                                               "target": "survived"}, "export": {"format": value}})
