"""`mlengine.tracking.pyfunc_model`: the MLflow "models from code" pyfunc over a run folder (model.joblib and
model.json of a pipeline fitted on real rows): saved and loaded by MLflow, `predict` returning `prediction` and
`proba_<class>` columns like the run's own model, regression output, the sha256 check on load and the data
contract on every request."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from mlengine.errors import DataError, ModelLoadError
from mlengine.export.joblib_bundle import read_bundle, write_bundle
from mlengine.export.loaded import load_model

from tests.conftest import DATA
from tests.export_helpers import run_folder
from tests.tracking_helpers import require_mlflow


def _context(run_dir):
    from mlflow.pyfunc import PythonModelContext

    from mlengine.tracking.pyfunc_model import RUN_DIR_ARTIFACT

    return PythonModelContext(artifacts={RUN_DIR_ARTIFACT: str(run_dir)}, model_config=None)


def _loaded(run_dir):
    from mlengine.tracking.pyfunc_model import MlengineModel

    model = MlengineModel()
    model.load_context(_context(run_dir))
    return model


@pytest.fixture(scope="module")
def titanic(tmp_path_factory):
    require_mlflow()
    return run_folder(tmp_path_factory.mktemp("pyfunc") / "run")[0]


@pytest.fixture(scope="module")
def rows():
    """Raw titanic rows with integer columns cast to float, as MLflow's schema check wants them."""
    raw = pd.read_csv(DATA / "titanic.csv").iloc[300:340].reset_index(drop=True)
    return raw.astype({c: "float64" for c in raw.columns if raw[c].dtype.kind in "iu"})


@pytest.mark.filterwarnings("ignore:.*An input example was not provided")
def test_mlflow_saves_the_code_and_loads_a_model_predicting_like_the_run(titanic, rows, tmp_path):
    import mlflow.pyfunc
    import yaml

    from mlengine.tracking import pyfunc_model
    from mlengine.tracking.models import pyfunc_signature

    signature, _ = pyfunc_signature(read_bundle(titanic))
    mlflow.pyfunc.save_model(str(tmp_path / "m"), python_model=pyfunc_model.__file__,
                             artifacts={pyfunc_model.RUN_DIR_ARTIFACT: str(titanic)}, signature=signature,
                             pip_requirements=["mlflow-skinny"])
    flavor = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text(encoding="utf-8"))["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model"  # models from code: no pickled object
    assert flavor["artifacts"]["run_dir"]["path"] == "artifacts/run"
    assert not list((tmp_path / "m").glob("*.pkl"))
    assert (tmp_path / "m" / "pyfunc_model.py").read_text(encoding="utf-8").startswith('"""The MLflow pyfunc')
    assert (tmp_path / "m" / "artifacts" / "run" / "model.joblib").read_bytes() == (titanic / "model.joblib").read_bytes()
    out = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(rows[signature.inputs.input_names()])
    local = load_model(titanic)
    assert list(out.columns) == ["prediction", "proba_0", "proba_1"] and len(out) == 40
    assert out["prediction"].tolist() == local.predict(rows).tolist()
    np.testing.assert_allclose(out[["proba_0", "proba_1"]].to_numpy(), local.predict_proba(rows), rtol=1e-12)


def test_load_context_loads_the_joblib_model_of_the_run_folder(titanic):
    model = _loaded(titanic).model
    assert model.format == "joblib" and model.run_dir == titanic and model.classes == [0, 1]


def test_predict_names_a_probability_column_per_string_class(tmp_path):
    run_dir, data, _ = run_folder(tmp_path / "run", "penguins.yaml", ("model.n_jobs=1",))
    frame = data.X.iloc[300:310]
    out = _loaded(run_dir).predict(_context(run_dir), frame)
    assert list(out.columns) == ["prediction", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]
    assert out["prediction"].tolist() == list(load_model(run_dir).predict(frame))
    np.testing.assert_allclose(out.iloc[:, 1:].sum(axis=1).to_numpy(), 1.0, rtol=1e-12)


def test_a_regression_model_returns_only_the_prediction(tmp_path):
    run_dir, data, _ = run_folder(tmp_path / "run", "nyc_taxis_fare.yaml")
    frame = data.X.iloc[300:320]
    out = _loaded(run_dir).predict(_context(run_dir), frame)
    assert list(out.columns) == ["prediction"] and len(out) == 20
    np.testing.assert_allclose(out["prediction"].to_numpy(), load_model(run_dir).predict(frame), rtol=1e-12)


def test_a_changed_model_joblib_is_refused_when_the_model_loads(titanic, tmp_path):
    copy = shutil.copytree(titanic, tmp_path / "run")
    (copy / "model.joblib").write_bytes((copy / "model.joblib").read_bytes()[:-10])
    with pytest.raises(ModelLoadError, match="does not match the sha256 recorded in model.json"):
        _loaded(copy)


def test_the_data_contract_checks_every_request(titanic, rows, tmp_path):
    copy = shutil.copytree(titanic, tmp_path / "run")
    bundle = read_bundle(copy)
    bundle["data_checks"] = {"contract": {"age": {"ge": 0, "le": 120}}, "on_violation": "fail"}
    write_bundle(copy, bundle)
    model = _loaded(copy)
    assert len(model.predict(_context(copy), rows)) == 40
    bad = rows.copy()
    bad.loc[3, "age"] = -1.0
    with pytest.raises(DataError, match="predict input: 1 contract check"):
        model.predict(_context(copy), bad)
