"""onnx_neural: MLP classifiers and regressors written as ONNX graphs match scikit-learn's predict_proba /
predict on real penguins and wine rows, and unsupported MLPs are refused with ExportError."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph
from mlengine.export.onnx_neural import mlp_classifier, mlp_regressor

from tests.conftest import DATA

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> tuple[np.ndarray, pd.Series]:
    df = pd.read_csv(DATA / "penguins.csv").dropna(subset=FEATURES).head(300)
    X = df[FEATURES].to_numpy(np.float64)
    return (X - X.mean(axis=0)) / X.std(axis=0), df["species"]


def _run(model, X: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": X})[0]


def _graph(width: int) -> tuple[Graph, str]:
    g = Graph()
    return g, g.input("x", np.float64, width=width)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_multiclass_mlp_probabilities_match_sklearn(penguins, activation):
    X, y = penguins
    m = MLPClassifier((8,), activation=activation, max_iter=50, random_state=0).fit(X, y)
    g, x = _graph(X.shape[1])
    pred = mlp_classifier(g, m, x)
    assert list(pred.classes) == ["Adelie", "Chinstrap", "Gentoo"]
    g.output(pred.proba, "p", np.float64, [None, 3])
    np.testing.assert_allclose(_run(g.model(), X), m.predict_proba(X), rtol=0, atol=1e-12)


def test_binary_mlp_gives_two_columns_from_a_sigmoid(penguins):
    X, species = penguins
    y = (species == "Gentoo").to_numpy()
    m = MLPClassifier((5, 4), max_iter=50, random_state=1).fit(X, y)
    assert m.out_activation_ == "logistic"
    g, x = _graph(X.shape[1])
    g.output(mlp_classifier(g, m, x).proba, "p", np.float64, [None, 2])
    got = _run(g.model(), X)
    assert got.shape == (len(X), 2)
    np.testing.assert_allclose(got, m.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-15)


def test_mlp_regressor_matches_sklearn_on_wine_rows():
    df = pd.read_csv(DATA / "wine_quality_white.csv").head(200)
    X = df.drop(columns="quality").to_numpy(np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    m = MLPRegressor(hidden_layer_sizes=(6,), max_iter=50, random_state=0).fit(X, df["quality"])
    g, x = _graph(X.shape[1])
    g.output(mlp_regressor(g, m, x).value, "v", np.float64, [None])
    got = _run(g.model(), X)
    assert got.shape == (200,)
    np.testing.assert_allclose(got, m.predict(X), rtol=1e-12, atol=1e-12)


def test_unknown_activation_is_refused_by_name(penguins):
    X, y = penguins
    m = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    m.activation = "softplus"
    g, x = _graph(X.shape[1])
    with pytest.raises(ExportError, match="MLP activation 'softplus' cannot be exported"):
        mlp_classifier(g, m, x)


def test_multilabel_classifier_and_multi_target_regressor_are_refused(penguins):
    X, species = penguins
    Y = np.column_stack([species == s for s in ("Adelie", "Chinstrap", "Gentoo")]).astype(int)
    multilabel = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, Y)
    with pytest.raises(ExportError, match="output 'logistic' \\(multilabel\\)"):
        mlp_classifier(_graph(4)[0], multilabel, "x")
    two_targets = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, X[:, :2])
    with pytest.raises(ExportError, match="several targets"):
        mlp_regressor(_graph(4)[0], two_targets, "x")


def test_two_label_multilabel_classifier_is_refused(penguins):
    X, species = penguins
    Y = np.column_stack([species == "Adelie", species == "Gentoo"]).astype(int)
    multilabel = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, Y)
    with pytest.raises(ExportError, match="multilabel"):
        mlp_classifier(_graph(4)[0], multilabel, "x")
