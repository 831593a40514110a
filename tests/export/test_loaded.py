"""`mlengine.export.loaded`: `load_model` over a bundle written by save_joblib (plus a model.onnx written here),
the formats it accepts, the row shapes `predict` takes, the data contract on predict input and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from mlengine.errors import DataError, ModelLoadError, UserError
from mlengine.export.joblib_bundle import read_bundle, write_bundle
from mlengine.export.loaded import LoadedModel, load_model

from tests.export_helpers import raw_rows, run_folder


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(run folder with model.joblib, model.onnx and a model.json listing both, data, fitted pipeline)."""
    return run_folder(tmp_path_factory.mktemp("loaded"), onnx=True)


@pytest.fixture(scope="module")
def fitted(saved):
    return saved[1], saved[2]


@pytest.fixture(scope="module")
def run_dir(saved):
    return saved[0]


def test_properties_come_from_the_bundle(run_dir, fitted):
    data, _ = fitted
    model = load_model(run_dir)
    assert isinstance(model, LoadedModel) and model.format == "joblib" and model.run_dir == run_dir
    assert model.task == "binary" and model.classes == [0, 1]
    assert model.input_columns == list(data.columns.features)
    html = model._repr_html_()
    assert "task binary; classes 0, 1" in html and "sex <small>(categorical)</small>" in html


def test_auto_picks_onnx_and_it_agrees_with_joblib(run_dir, fitted):
    data, _ = fitted
    rows = data.X.iloc[300:340]
    onnx, joblib_ = load_model(run_dir, format="auto"), load_model(run_dir, format="joblib")
    assert onnx.format == "onnx" and joblib_.format == "joblib"
    assert (np.asarray(onnx.predict(rows)) == joblib_.predict(rows)).all()
    np.testing.assert_allclose(onnx.predict_proba(rows), joblib_.predict_proba(rows), atol=1e-9)


def test_predict_takes_a_frame_a_dict_or_a_list_of_dicts(run_dir, fitted):
    data, pipe = fitted
    frame = data.X.iloc[300:305]
    model = load_model(run_dir)
    expected = pipe.predict(frame)
    records = raw_rows(frame)
    assert (model.predict(frame) == expected).all()
    assert (model.predict(records) == expected).all()
    assert model.predict(records[0]).tolist() == [expected[0]]
    with pytest.raises(UserError, match="takes a pandas DataFrame, a dict or a list of dicts; got str"):
        model.predict("rows")
    with pytest.raises(UserError, match="predict got no rows"):
        model.predict([])


def test_unknown_format_and_missing_bundle_are_refused(run_dir, tmp_path):
    with pytest.raises(UserError, match="format: 'pickle' is not available; allowed: joblib, onnx, auto"):
        load_model(run_dir, format="pickle")
    with pytest.raises(ModelLoadError, match="holds no model.json"):
        load_model(tmp_path)


def test_onnx_without_a_signature_is_a_damaged_bundle(run_dir, tmp_path):
    import shutil

    copy = shutil.copytree(run_dir, tmp_path / "copy")
    bundle = read_bundle(copy)
    del bundle["onnx"]
    write_bundle(copy, bundle)
    with pytest.raises(ModelLoadError, match="has no input signature in model.json"):
        load_model(copy, format="onnx")


def test_predict_proba_is_refused_for_regression(run_dir):
    model = load_model(run_dir)
    model.bundle = {**model.bundle, "task": "regression"}
    with pytest.raises(UserError, match="predict_proba is for classification"):
        model.predict_proba({"age": 3})


def test_the_contract_checks_predict_input(run_dir, fitted):
    data, _ = fitted
    model = load_model(run_dir)
    model.bundle = {**model.bundle, "data_checks": {"contract": {"age": {"ge": 0, "le": 120}},
                                                    "on_violation": "fail"}}
    rows = data.X.iloc[300:304].copy()
    assert model.check(rows).ok
    rows.iloc[1, rows.columns.get_loc("age")] = 500.0
    result = model.check(rows)
    assert [(v.column, v.rule) for v in result.violations] == [("age", "le")] and result.bad_rows.tolist() == [1]
    with pytest.raises(DataError, match="predict input: 1 contract check"):
        model.predict(rows)
    model.bundle["data_checks"]["on_violation"] = "warn"
    with pytest.warns(UserWarning, match="predict input"):
        assert len(model.predict(rows)) == 4  # warn never drops a row from a prediction
