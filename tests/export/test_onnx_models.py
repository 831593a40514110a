"""onnx_models: whole estimators and wrappers (linear, dummy, calibration, thresholds, target transforms, soft
voting) written as ONNX graphs match scikit-learn's outputs on real penguins / wine rows, class labels become
ONNX-friendly arrays, and estimators it cannot convert are refused with ExportError naming them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import VotingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph
from mlengine.export.onnx_models import Pred, classes_array, isotonic, predictor
from mlengine.export.onnx_preprocess import Columns

from tests.conftest import DATA

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> tuple[np.ndarray, np.ndarray]:
    df = pd.read_csv(DATA / "penguins.csv").dropna(subset=FEATURES).head(300)
    X = df[FEATURES].to_numpy(np.float64, copy=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), df["species"].to_numpy(object)


@pytest.fixture(scope="module")
def wine() -> tuple[np.ndarray, np.ndarray]:
    df = pd.read_csv(DATA / "wine_quality_white.csv").head(200)
    return df.drop(columns="quality").to_numpy(np.float64, copy=True), df["quality"].to_numpy(np.float64)


def _outputs(est, X: np.ndarray, *fields: str) -> list[np.ndarray]:
    """Convert `est` on an [N, F] float64 input and return the named Pred fields (`proba`, `decision2` for a
    2-D decision, others 1-D), run in onnxruntime."""
    import onnxruntime as ort

    g = Graph()
    pred = predictor(g, est, g.input("x", np.float64, width=X.shape[1]))
    for f in fields:
        tensor = getattr(pred, f.rstrip("2"))
        dtype = classes_array(pred.classes).dtype if f == "label" else np.float64
        g.output(tensor, f, dtype, [None, None] if f in ("proba", "decision2") else [None])
    sess = ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": X})


def test_classes_array_gives_onnx_friendly_dtypes_and_refuses_mixed_labels():
    assert classes_array(np.array(["a", "b"])).dtype == object
    assert classes_array(np.array(["a", "b"], dtype=object)).tolist() == ["a", "b"]
    assert classes_array(np.array([0, 3], dtype=np.int32)).dtype == np.int64
    assert classes_array(np.array([False, True])).dtype == np.bool_
    assert classes_array([0.5, 1.5]).dtype == np.float64
    with pytest.raises(ExportError, match=r"must all be strings or all numbers; got \['a', 1\]"):
        classes_array(np.array(["a", 1], dtype=object))


def test_linear_classifiers_give_sklearn_probabilities_and_decisions(penguins):
    X, y = penguins
    multi = LogisticRegression(max_iter=500).fit(X, y)
    proba, dec = _outputs(multi, X, "proba", "decision2")
    np.testing.assert_allclose(proba, multi.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dec, multi.decision_function(X), rtol=1e-12, atol=1e-12)
    binary = Pipeline([("sc", StandardScaler()), ("lr", LogisticRegression())]).fit(X, y == "Gentoo")
    proba, dec = _outputs(binary, X, "proba", "decision")
    assert proba.shape == (len(X), 2) and dec.shape == (len(X),)
    np.testing.assert_allclose(proba, binary.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dec, binary.decision_function(X), rtol=1e-12, atol=1e-12)


def test_dummies_and_target_transformed_regressors_predict_what_sklearn_predicts(penguins, wine):
    X, y = penguins
    for strategy in ("prior", "most_frequent"):
        d = DummyClassifier(strategy=strategy).fit(X, y)
        np.testing.assert_allclose(_outputs(d, X[:5], "proba")[0], d.predict_proba(X[:5]), rtol=0, atol=0)
    Xw, yw = wine
    np.testing.assert_array_equal(_outputs(DummyRegressor().fit(Xw, yw), Xw[:3], "value")[0], [yw.mean()] * 3)
    for func, inverse in ((np.log1p, np.expm1), (np.log, np.exp), (np.sqrt, np.square)):
        ttr = TransformedTargetRegressor(Ridge(), func=func, inverse_func=inverse).fit(Xw, yw)
        np.testing.assert_allclose(_outputs(ttr, Xw, "value")[0], ttr.predict(Xw), rtol=1e-12)
    scaled = TransformedTargetRegressor(Ridge(), transformer=StandardScaler()).fit(Xw, yw)
    np.testing.assert_allclose(_outputs(scaled, Xw, "value")[0], scaled.predict(Xw), rtol=1e-12)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_classifiers_match_sklearn(penguins, method):
    X, y = penguins
    binary = CalibratedClassifierCV(LogisticRegression(), method=method, cv=2).fit(X[:, :2], y == "Adelie")
    np.testing.assert_allclose(_outputs(binary, X[:, :2], "proba")[0], binary.predict_proba(X[:, :2]),
                               rtol=0, atol=1e-12)
    multi = CalibratedClassifierCV(LogisticRegression(max_iter=500), method=method, cv=2).fit(X[:, :2], y)
    np.testing.assert_allclose(_outputs(multi, X[:, :2], "proba")[0], multi.predict_proba(X[:, :2]),
                               rtol=0, atol=1e-12)


def test_fixed_threshold_and_soft_voting_match_sklearn(penguins):
    X, y = penguins
    yb = np.where(y == "Chinstrap", "chin", "other")
    for threshold, method in ((0.2, "predict_proba"), (-1.0, "decision_function")):
        ft = FixedThresholdClassifier(LogisticRegression(), threshold=threshold, pos_label="chin",
                                      response_method=method).fit(X, yb)
        (label,) = _outputs(ft, X, "label")
        np.testing.assert_array_equal(label, ft.predict(X))
        assert (label != LogisticRegression().fit(X, yb).predict(X)).any()  # the threshold changed labels
    vote = VotingClassifier([("a", LogisticRegression(C=0.1)), ("b", LogisticRegression(C=10.0))], voting="soft",
                            weights=[1.0, 3.0]).fit(X, y)
    np.testing.assert_allclose(_outputs(vote, X, "proba")[0], vote.predict_proba(X), rtol=0, atol=1e-12)


def test_isotonic_interpolates_like_numpy_and_honours_out_of_bounds(wine):
    import onnxruntime as ort

    Xw, yw = wine
    f = Xw[:, 10]  # alcohol
    for bounds in ("clip", "nan"):
        iso = IsotonicRegression(out_of_bounds=bounds).fit(f[:150], yw[:150])
        g = Graph()
        g.output(isotonic(g, iso, g.squeeze1(g.input("f", np.float64))), "y", np.float64, [None])
        sess = ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])
        probe = np.concatenate([f[150:], [f.min() - 1.0, f.max() + 1.0]])
        got = sess.run(None, {"f": probe.reshape(-1, 1)})[0]
        np.testing.assert_allclose(got, iso.predict(probe), rtol=1e-12, atol=1e-12, equal_nan=True)
    assert np.isnan(got[-1]) and np.isnan(got[-2])
    with pytest.raises(ExportError, match="out_of_bounds='raise'"):
        isotonic(Graph(), IsotonicRegression(out_of_bounds="raise").fit(f, yw), "f")


def test_estimators_without_a_converter_are_refused_by_name(penguins):
    X, y = penguins
    g = Graph()
    x = g.input("x", np.float64, width=4)
    with pytest.raises(ExportError, match="model SVC has no ONNX converter in mlengine; supported: DummyClassifier"):
        predictor(g, SVC().fit(X, y), x)
    with pytest.raises(ExportError, match=r"DummyClassifier\(strategy='uniform'\) predicts at random"):
        predictor(g, DummyClassifier(strategy="uniform").fit(X, y), x)
    with pytest.raises(ExportError, match="model Ridge receives raw columns"):
        predictor(g, Ridge().fit(X, X[:, 0]), Columns({"x": x}, set()))
    with pytest.raises(ExportError, match="voting='hard'"):
        predictor(g, VotingClassifier([("a", LogisticRegression())]).fit(X, y), x)
    with pytest.raises(ExportError, match="Ridge with several targets"):
        predictor(g, Ridge().fit(X, X[:, :2]), x)
    assert Pred().classes is None and Pred().value is None
