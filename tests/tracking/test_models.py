"""`mlengine.tracking.models`: signatures and input examples from a bundle's input contract, the ONNX tensor
signature, pinned requirements, `models:/` references and their cache folder, and (on a real sqlite store) one
run folder logged as pyfunc + ONNX, registered as versions with aliases and tags, and downloaded back."""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd
import pytest

from mlengine.errors import UserError
from mlengine.export.joblib_bundle import read_bundle
from mlengine.export.loaded import load_model
from mlengine.tracking.models import (
    MODEL_ARTIFACT,
    ONNX_ARTIFACT,
    cache_dir,
    download_model_ref,
    log_models,
    onnx_signature,
    parse_models_ref,
    pip_requirements,
    pyfunc_signature,
    register_version,
)
from mlengine.tracking.store import experiment_id

from tests.conftest import DATA
from tests.export_helpers import run_folder
from tests.tracking_helpers import client, require_mlflow, store_uri

QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_LOGGING_LEVEL": "WARNING",
         "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
TITANIC_INPUTS = [("pclass", "double"), ("age", "double"), ("sibsp", "double"), ("parch", "double"),
                  ("fare", "double"), ("alone", "boolean"), ("sex", "string"), ("embarked", "string"),
                  ("deck", "string")]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder of a titanic pipeline fitted on 300 rows: model.joblib, model.onnx, model.json listing both."""
    return run_folder(tmp_path_factory.mktemp("models") / "run", onnx=True)[0]


@pytest.fixture(scope="module")
def logged(run_dir, tmp_path_factory):
    """(uri, client, run id, [versions]): the run folder logged into a fresh sqlite store and registered twice
    (version 1 with alias champion, version 2 of a failed gate without alias)."""
    require_mlflow()
    uri = store_uri(tmp_path_factory.mktemp("store"))
    c = client(uri)
    with pytest.MonkeyPatch.context() as mp:
        for k, v in QUIET.items():
            mp.setenv(k, v)
        run_id = c.create_run(experiment_id(c, "models", uri)).info.run_id
        log_models(c, run_id, run_dir)
        versions = [register_version(c, run_id, "credit", "champion", True),
                    register_version(c, run_id, "credit", None, False)]
    return uri, c, run_id, versions


def test_pyfunc_signature_types_every_input_and_output(run_dir):
    signature, example = pyfunc_signature(read_bundle(run_dir))
    assert [(s.name, s.type.name) for s in signature.inputs.inputs] == TITANIC_INPUTS
    assert [(s.name, s.type.name) for s in signature.outputs.inputs] == [
        ("prediction", "long"), ("proba_0", "double"), ("proba_1", "double")]
    assert example.to_dict("records") == [{"pclass": 0.0, "age": 0.0, "sibsp": 0.0, "parch": 0.0, "fare": 0.0,
                                           "alone": False, "sex": "female", "embarked": "C", "deck": "A"}]


def test_pyfunc_signature_of_regression_and_string_classes():
    inputs = [{"name": "n", "kind": "numeric", "dtype": "int64"}, {"name": "t", "kind": "datetime",
                                                                   "dtype": "datetime64[ns]"},
              {"name": "c", "kind": "categorical", "dtype": "object"}]
    signature, example = pyfunc_signature({"task": "regression", "inputs": inputs, "classes": []})
    assert [(s.name, s.type.name) for s in signature.inputs.inputs] == [("n", "long"), ("t", "datetime"),
                                                                        ("c", "string")]
    assert [(s.name, s.type.name) for s in signature.outputs.inputs] == [("prediction", "double")]
    assert example.iloc[0].tolist() == [0, pd.Timestamp("2020-01-01"), "a"]  # no categories seen: "a"
    signature, _ = pyfunc_signature({"task": "multiclass", "inputs": inputs[:1], "classes": ["x", "y"]})
    assert [(s.name, s.type.name) for s in signature.outputs.inputs] == [
        ("prediction", "string"), ("proba_x", "double"), ("proba_y", "double")]
    signature, _ = pyfunc_signature({"task": "binary", "inputs": inputs[:1], "classes": [False, True]})
    assert signature.outputs.inputs[0].type.name == "boolean"


def test_the_input_example_starts_at_the_schemas_lower_bound(run_dir):
    bundle = read_bundle(run_dir)
    bundle["data_checks"] = {"contract": {"fare": {"ge": 5.0}, "age": {"ge": 1, "le": 120}}, "on_violation": "fail"}
    _, example = pyfunc_signature(bundle)
    assert example.loc[0, "fare"] == 5.0 and example.loc[0, "age"] == 1.0
    assert load_model(run_dir).check(example).ok  # the example must pass the run's own contract


def test_onnx_signature_is_one_column_tensor_per_input_with_a_feed_example(run_dir):
    bundle = read_bundle(run_dir)
    _, example = pyfunc_signature(bundle)
    signature, feed = onnx_signature(bundle, example)
    names = [c["name"] for c in bundle["onnx"]["signature"]["inputs"]]
    assert signature.inputs.input_names() == names == list(feed)
    assert all(s.shape == (-1, 1) for s in signature.inputs.inputs)
    assert feed["sex"].dtype == object and feed["sex"].tolist() == [["female"]]
    assert feed["fare"].shape == (1, 1) and feed["fare"].dtype != object and float(feed["fare"][0, 0]) == 0.0


def test_pip_requirements_pin_the_recorded_versions():
    from importlib.metadata import version

    bundle = {"versions": {"scikit-learn": "1.5.0", "onnx": "1.16.0", "catboost": None, "python": "3.11.7"}}
    assert pip_requirements(bundle) == ["scikit-learn==1.5.0", "onnx==1.16.0",
                                        f"mlflow-skinny=={version('mlflow-skinny')}"]
    assert pip_requirements(bundle, ("onnx", "onnxruntime", "numpy")) == ["onnx==1.16.0"]
    assert pip_requirements({}, ()) == []


def test_parse_models_ref_takes_an_alias_or_a_numbered_version():
    assert parse_models_ref("models:/credit@champion") == ("credit", "champion", None)
    assert parse_models_ref("models:/credit/12") == ("credit", None, "12")
    assert parse_models_ref("credit/3") == ("credit", None, "3")
    for bad in ("models:/credit", "models:/credit/latest", "models:/@champion", "models:/a/b@c", "models:/x@"):
        with pytest.raises(UserError, match=r"expected models:/NAME@ALIAS or models:/NAME/VERSION"):
            parse_models_ref(bad)


def test_cache_dir_is_keyed_by_store_version_and_run(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = cache_dir("sqlite:///a.db", "credit", "2", "abc")
    assert path.parent == tmp_path / "mlengine-models" and path.name.startswith("credit-v2-")
    assert len(path.name) == len("credit-v2-") + 16
    assert cache_dir("sqlite:///a.db", "credit", "2", "abc") == path
    assert cache_dir("sqlite:///b.db", "credit", "2", "abc") != path
    assert cache_dir("sqlite:///a.db", "credit", "2", "def") != path


@pytest.mark.slow  # a fresh sqlite store: MLflow's migrations take seconds
def test_log_models_uploads_the_pyfunc_with_the_run_folder_and_the_onnx_model(logged):
    _, c, run_id, _ = logged
    top = {a.path for a in c.list_artifacts(run_id)}
    assert top == {MODEL_ARTIFACT, ONNX_ARTIFACT}
    model_files = {a.path.split("/", 1)[1] for a in c.list_artifacts(run_id, MODEL_ARTIFACT)}
    assert {"MLmodel", "pyfunc_model.py", "requirements.txt", "artifacts", "input_example.json"} <= model_files
    inner = {a.path.rsplit("/", 1)[1] for a in c.list_artifacts(run_id, f"{MODEL_ARTIFACT}/artifacts/run")}
    assert {"model.joblib", "model.json", "model.onnx"} <= inner
    onnx_files = {a.path.split("/", 1)[1] for a in c.list_artifacts(run_id, ONNX_ARTIFACT)}
    assert {"MLmodel", "model.onnx", "requirements.txt"} <= onnx_files


@pytest.mark.slow  # a fresh sqlite store: MLflow's migrations take seconds
def test_register_version_numbers_versions_moves_aliases_and_tags(logged):
    _, c, run_id, versions = logged
    assert versions == ["1", "2"]
    assert str(c.get_model_version_by_alias("credit", "champion").version) == "1"  # version 2 left it where it was
    assert c.get_model_version("credit", "1").tags["mlengine.gate"] == "passed"
    assert c.get_model_version("credit", "2").tags["mlengine.gate"] == "failed"
    assert c.get_model_version("credit", "2").source.endswith(f"/{MODEL_ARTIFACT}")
    assert c.get_run(run_id).data.tags["mlengine.registered"] == "credit/2"


def test_download_model_ref_needs_a_tracking_uri(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(UserError, match="needs an MLflow tracking URI: set MLFLOW_TRACKING_URI"):
        download_model_ref("models:/credit@champion")


@pytest.mark.slow  # a fresh sqlite store: MLflow's migrations take seconds
def test_download_model_ref_fetches_a_loadable_run_folder_once(logged, run_dir, monkeypatch, tmp_path):
    uri = logged[0]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for k, v in QUIET.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    path = download_model_ref("models:/credit@champion")
    assert path == cache_dir(uri, "credit", "1", logged[2]) and path.parent == tmp_path / "mlengine-models"
    assert (path / "model.joblib").read_bytes() == (run_dir / "model.joblib").read_bytes()
    rows = pd.read_csv(DATA / "titanic.csv").head(20)
    np.testing.assert_array_equal(load_model(path).predict(rows), load_model(run_dir).predict(rows))
    assert download_model_ref("models:/credit/1", tracking_uri=uri) == path  # same version: the cached copy
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no download folder left behind
    assert download_model_ref("models:/credit/2") != path


@pytest.mark.slow  # a fresh sqlite store: MLflow's migrations take seconds
def test_an_unknown_version_or_alias_is_a_user_error(logged, monkeypatch):
    for k, v in QUIET.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(UserError, match=r"'models:/credit@nope' is not in the MLflow registry at 'sqlite:"):
        download_model_ref("models:/credit@nope", tracking_uri=logged[0])
    with pytest.raises(UserError, match=r"'models:/other/1' is not in the MLflow registry"):
        download_model_ref("models:/other/1", tracking_uri=logged[0])
