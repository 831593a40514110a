"""`calibration`: one typed option per method; each builds scikit-learn's CalibratedClassifierCV, is fitted on
out-of-fold scores of the whole pipeline, records what it was fitted on, and refuses bad keys and values."""

from __future__ import annotations

import numpy as np
import pytest

from mlengine.api import load_recipe
from mlengine.data.sources import read_source
from mlengine.data.table import prepare_table
from mlengine.evaluate.calibration import calibrate
from mlengine.evaluate.crossval import cross_validate
from mlengine.plan import compile_recipe
from mlengine.sections.calibration import CALIBRATION, NoCalibration, exportable_methods

from tests.modelling import MAMMO, TITANIC_M, run_json
from tests.modelling import mammo_error as _error
from tests.modelling import mammo_recipe as _recipe

METHODS = ["none", "sigmoid", "isotonic", "temperature"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A real pipeline (mammography, LightGBM) refitted on the training rows, and its 3-fold CV with fold models."""
    import shutil

    from tests.conftest import DATA

    base = tmp_path_factory.mktemp("cal")
    (base / "data").mkdir()
    shutil.copy(DATA / "mammography.csv", base / "data")
    (base / "r.yaml").write_text(MAMMO, encoding="utf-8")
    loaded = load_recipe(base / "r.yaml")
    data = prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)
    plan = compile_recipe(loaded.recipe, task=data.task, classes=data.classes)
    X, y = data.X.iloc[:4000], data.y.iloc[:4000]
    pipe = plan.build_pipeline(plan.candidates[0], data.columns, data.task)
    cv = cross_validate(pipe, X, y, plan.cv, task="binary", metrics=["roc_auc"], primary="roc_auc",
                        classes=list(data.classes), pos_label=1, keep_models=True)
    return pipe.fit(X, y), cv, X, y, list(data.classes)


# ------------------------------------------------------------------------------------------------ options ---
def test_every_method_is_one_registered_class_and_none_is_the_default():
    assert list(CALIBRATION) == METHODS and CALIBRATION.default == "none"
    assert all(CALIBRATION.names().values())
    assert _recipe().calibration == NoCalibration()
    assert "bins" not in NoCalibration.model_fields  # nothing is fitted, so there is no reliability curve
    for name in METHODS[1:]:
        spec = _recipe(calibration={"method": name}).calibration
        assert type(spec) is CALIBRATION[name] and spec.bins == 10 and spec.settings() == {"bins": 10}
    assert exportable_methods() == ["none", "sigmoid", "isotonic"]  # temperature's logits depend on the batch
    assert CALIBRATION["temperature"].encoded_labels and not CALIBRATION["sigmoid"].encoded_labels


@pytest.mark.parametrize("name", METHODS[1:])
def test_every_method_builds_fits_on_out_of_fold_scores_and_records(fitted, name):
    pipe, cv, X, y, classes = fitted
    spec = CALIBRATION[name](method=name)
    wrapper = spec.build(pipe.steps[-1][1], 3)
    assert type(wrapper).__name__ == "CalibratedClassifierCV"
    assert (wrapper.method, wrapper.cv, wrapper.ensemble) == (name, 3, False)
    assert spec.build(pipe.steps[-1][1], 1).cv == 2  # scikit-learn needs two folds at least
    calibrated, record, oof_after, mask = calibrate(pipe, cv, X, y, spec, classes)
    assert mask.all() and oof_after.shape == (len(X), 2) and np.allclose(oof_after.sum(axis=1), 1)
    assert record == {"method": name, "response": "decision_function", "rows": len(X), "folds": 3,
                      "fitted_on": f"out-of-fold decision_function of {len(X)} training rows (3 fold models of the "
                                   "whole pipeline)"}
    assert spec.bundle(record) == {"method": name, "response": "decision_function"}
    last = calibrated.steps[-1][1]
    assert type(last).__name__ == "CalibratedClassifierCV" and last.method == name
    assert last.estimator is pipe.steps[-1][1] and len(last.calibrated_classifiers_) == 1
    proba = calibrated.predict_proba(X.head(50))
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1)
    # the calibrated probabilities keep the model's ranking (every method here is monotone in the score)
    raw = pipe.predict_proba(X.head(50))[:, 1]
    assert np.all(np.diff(proba[np.argsort(raw), 1]) >= -1e-12)


def test_checks_without_data():
    assert NoCalibration().check("regression", "none") == []
    sigmoid = CALIBRATION["sigmoid"](method="sigmoid")
    assert sigmoid.check("binary", "stratified_kfold") == [] and sigmoid.check("multiclass", "kfold") == []
    (regression,) = sigmoid.check("regression", "kfold")
    assert regression.path == "calibration.method" and "task is regression" in regression.message
    (leak,) = sigmoid.check("binary", "none")
    assert leak.path == "calibration.method" and "would leak" in leak.message


def test_bins_reach_the_reliability_curve(cli, write_recipe, runs_dir):
    text = TITANIC_M.replace("cv: {folds: 3}", "cv: {folds: 2}") + "calibration: {method: isotonic, bins: 4}\n"
    metrics, _ = run_json(cli, write_recipe(text), runs_dir, "report.html=false", "report.explain=false")
    cal = metrics["calibration"]
    assert cal["method"] == "isotonic" and cal["folds"] == 2
    assert cal["reliability"]["after"]["bins"] == cal["reliability"]["before"]["bins"] == 4
    assert len(cal["reliability"]["after"]["points"]) <= 4


# ------------------------------------------------------------------------------------------------ bad input ---
def test_unknown_method_names_the_allowed_ones():
    err = _error(calibration={"method": "platt"})
    assert "calibration.method: unknown calibration method 'platt'." in err
    assert "Allowed: isotonic, none, sigmoid, temperature." in err
    assert "Did you mean 'isotonic'?" in _error(calibration={"method": "isotonc"})


def test_bad_keys_and_values():
    err = _error(calibration={"method": "none", "bins": 20})
    assert "calibration.bins: does not apply to method 'none'; it is a parameter of sigmoid, isotonic, temperature." \
        in err
    assert "calibration.bins: must be greater than or equal to 2; got 1." in _error(calibration={"method": "sigmoid",
                                                                                               "bins": 1})
    assert "calibration.bins: must be less than or equal to 100" in _error(calibration={"method": "sigmoid",
                                                                                      "bins": 500})
    assert "calibration.bin: unknown key 'bin'. Did you mean 'bins'?" in _error(calibration={"method": "sigmoid",
                                                                                            "bin": 5})
    err = _error(calibration={"method": "sigmoid"}, cv={"kind": "none"})
    assert "calibration.method: 'sigmoid' is fitted on out-of-fold predictions" in err and "would leak" in err


def test_onnx_export_refuses_a_method_it_cannot_convert():
    err = _error(calibration={"method": "temperature"}, export={"format": ["onnx"]})
    assert "calibration.method 'temperature' cannot be exported (exportable: none, sigmoid, isotonic)" in err
    assert _recipe(calibration={"method": "isotonic"}, export={"format": ["onnx"]}).calibration.exportable
