"""onnx_convert: a whole fitted mlengine pipeline -> one checked ONNX model: its signature, metadata, opsets and
input docs, the adapter found through wrappers, samplers and passthrough steps left out, and the refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlengine.errors import ExportError
from mlengine.export.onnx_convert import _chain, find_adapter, for_parsing, per_call_converters, to_onnx
from mlengine.steps.adapter import FrameAdapter

from tests.conftest import DATA
from tests.export_helpers import assert_exact


def _titanic_pipe(model) -> Pipeline:
    pre = ColumnTransformer([("num", Pipeline([("imp", SimpleImputer(strategy="median")),
                                               ("sc", StandardScaler())]), ["age", "fare", "alone"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["sex"])],
                            verbose_feature_names_out=False)
    return Pipeline([("adapt", FrameAdapter(numeric=["age", "fare"], boolean=["alone"], categorical=["sex"])),
                     ("pre", pre), ("model", model)])


@pytest.fixture(scope="module")
def titanic() -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(DATA / "titanic.csv").head(200)
    return df[["age", "fare", "alone", "sex"]], df["survived"].map({0: "died", 1: "lived"})


@pytest.fixture(scope="module")
def classifier(titanic) -> Pipeline:
    X, y = titanic
    return _titanic_pipe(LogisticRegression(max_iter=500)).fit(X, y)


def test_classifier_signature_metadata_and_model_header(classifier, titanic):
    conv = to_onnx(classifier, opset=15, name="titanic-lr")
    assert conv.task == "classification" and conv.classes == ["died", "lived"]
    sig = conv.signature()
    assert [i["name"] for i in sig["inputs"]] == ["age", "fare", "alone", "sex"]
    assert sig["outputs"] == [{"name": "label", "shape": "[N]"},
                              {"name": "probabilities", "shape": "[N, 2]", "columns": ["died", "lived"]}]
    m = conv.model
    assert {p.key: p.value for p in m.metadata_props} == {
        "mlengine.task": "classification", "mlengine.name": "titanic-lr", "mlengine.classes": "['died', 'lived']"}
    assert {o.domain: o.version for o in m.opset_import} == {"": 15, "ai.onnx.ml": 5}
    assert m.ir_version <= 9 and m.producer_name == "mlengine"
    assert {i.name: i.doc_string for i in m.graph.input}["alone"].startswith("boolean as float64")
    assert [o.name for o in m.graph.output] == ["label", "probabilities"]
    assert_exact(classifier, titanic[0], "binary")


def test_regression_has_one_prediction_output_and_no_classes(titanic):
    X, _ = titanic
    df = pd.read_csv(DATA / "titanic.csv").head(200)
    reg = TransformedTargetRegressor(_titanic_pipe(Ridge()), func=np.log1p, inverse_func=np.expm1)
    reg.fit(X.drop(columns="fare").assign(fare=df["pclass"].astype(float)), df["fare"])
    conv = to_onnx(reg)
    assert conv.task == "regression" and conv.classes == []
    assert conv.signature()["outputs"] == [{"name": "prediction", "shape": "[N]"}]
    assert "mlengine.classes" not in {p.key for p in conv.model.metadata_props}


def test_find_adapter_looks_through_wrappers_and_refuses_bare_estimators(classifier, titanic):
    X, y = titanic
    cal = CalibratedClassifierCV(_titanic_pipe(LogisticRegression(max_iter=500)), cv=2).fit(X, y)
    assert type(find_adapter(cal)).__name__ == "FrameAdapter"
    assert find_adapter(classifier) is classifier.steps[0][1]
    with pytest.raises(ExportError, match="no FrameAdapter first step"):
        to_onnx(LogisticRegression().fit(np.eye(4), [0, 1, 0, 1]))


@pytest.mark.parametrize("opset", [12, 22])
def test_opset_outside_range_is_refused(classifier, opset):
    with pytest.raises(ValueError, match=f"opset {opset} outside 13..21"):
        to_onnx(classifier, opset=opset)


def test_for_parsing_drops_samplers_and_passthrough_and_chain_marks_the_final_step(classifier, titanic):
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.pipeline import Pipeline as ImbPipeline

    X, y = titanic
    steps = classifier.steps
    imb = ImbPipeline([steps[0], ("skip", "passthrough"), steps[1], ("over", RandomOverSampler(random_state=0)),
                       ("model", LogisticRegression(max_iter=500))]).fit(X, y)
    top = for_parsing(imb)
    assert type(top) is Pipeline and [n for n, _ in top.steps] == ["adapt", "pre", "model"]
    nested = Pipeline([("head", Pipeline(steps[:2])), ("model", steps[2][1])])
    assert [(type(s).__name__, final) for s, final in _chain(nested, True)] == [
        ("FrameAdapter", False), ("ColumnTransformer", False), ("LogisticRegression", True)]
    parsers, converters, shapes = per_call_converters(top)
    assert {c.__name__ for c in parsers} == {"FrameAdapter", "ColumnTransformer", "LogisticRegression"}
    assert set(converters) == set(shapes) == set(parsers)
    assert_exact(imb, X, "binary")
