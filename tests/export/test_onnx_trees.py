"""onnx_trees: tree ensembles as one float64 TreeEnsemble: a hand-written tree (splits, NaN routing, single
leaves, base scores), and scikit-learn forests, HistGradientBoosting, LightGBM and XGBoost raw scores equal to
the libraries' own on real wine rows; unsupported tree features raise ExportError."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph
from mlengine.export.onnx_trees import (
    TreeNodes,
    forest_sums,
    hist_gradient_boosting_raw,
    lightgbm_objective,
    lightgbm_raw,
    tree_ensemble,
    xgboost_raw,
)

from tests.conftest import DATA


@pytest.fixture(scope="module")
def wine() -> tuple[np.ndarray, np.ndarray]:
    df = pd.read_csv(DATA / "wine_quality_white.csv").head(300)
    X = df.drop(columns="quality").to_numpy(np.float64, copy=True)
    X[::7, 1] = np.nan  # missing values must follow the libraries' default branches
    return X, df["quality"].to_numpy()


def _graph(width: int) -> tuple[Graph, str]:
    g = Graph()
    return g, g.input("x", np.float64, width=width)


def _run(g: Graph, out: str, X: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    g.output(out, "out", np.float64, [None, None])
    sess = ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": X})[0]


def test_hand_written_trees_split_route_missing_values_and_add_the_base():
    nodes = TreeNodes()
    # tree 0: x0 <= 0.5 ? leaf 1 (1.0) : leaf 2 (2.0); NaN goes right; feeds target 0
    nodes.add_tree(0, [0, 0, 0], [0.5, 0, 0], [1, 0, 0], [2, 0, 0], [False, False, False], [False, True, True],
                   [1, 2], [0, 0], [1.0, 2.0])
    # tree 1: a single leaf adding 10.0 to target 1
    nodes.add_tree(1, [0], [0.0], [0], [0], [False], [True], [0], [1], [10.0])
    g, x = _graph(1)
    out = _run(g, tree_ensemble(g, x, nodes, n_targets=2, base=[0.25, -1.0]),
               np.array([[0.5], [np.nextafter(0.5, 1.0)], [np.nan], [-3.0]]))
    np.testing.assert_array_equal(out, [[1.25, 9.0], [2.25, 9.0], [2.25, 9.0], [1.25, 9.0]])


def test_forests_match_predict_proba_and_predict(wine):
    X, y = wine
    Xf = np.nan_to_num(X)
    clf = RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0).fit(Xf, y)
    g, x = _graph(X.shape[1])
    np.testing.assert_allclose(_run(g, forest_sums(g, x, clf, classifier=True), Xf), clf.predict_proba(Xf),
                               rtol=0, atol=1e-12)
    reg = RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0).fit(X, y)  # NaN-aware splits
    g, x = _graph(X.shape[1])
    np.testing.assert_allclose(_run(g, forest_sums(g, x, reg, classifier=False), X)[:, 0], reg.predict(X),
                               rtol=1e-12)


def test_hist_gradient_boosting_raw_scores_match_and_categorical_is_refused(wine):
    from threadpoolctl import threadpool_limits

    X, y = wine
    with threadpool_limits(1):  # OpenMP threads contend on the shared 2 cores (2 s instead of 0.03 s)
        hgb = HistGradientBoostingClassifier(max_iter=4, max_leaf_nodes=8, random_state=0).fit(X, y)
        cat = HistGradientBoostingClassifier(max_iter=2, categorical_features=[10]).fit(
            np.column_stack([X[:, :10], y % 3]), y)
        expected = hgb._raw_predict(X)
    g, x = _graph(X.shape[1])
    raw = _run(g, hist_gradient_boosting_raw(g, x, hgb), X)
    assert raw.shape == (len(X), len(hgb.classes_))
    np.testing.assert_allclose(raw, expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ExportError, match="categorical_features"):
        hist_gradient_boosting_raw(*_graph(11), cat)


def test_lightgbm_raw_scores_objective_and_sigmoid(wine):
    import lightgbm as lgb

    X, y = wine
    binary = lgb.LGBMClassifier(n_estimators=8, num_leaves=7, sigmoid=0.5, verbose=-1).fit(X, y >= 6)
    assert lightgbm_objective(binary) == ("binary", 0.5)
    g, x = _graph(X.shape[1])
    raw, objective, sigmoid = lightgbm_raw(g, x, binary)
    assert (objective, sigmoid) == ("binary", 0.5)
    np.testing.assert_allclose(_run(g, raw, X)[:, 0], binary.predict(X, raw_score=True), rtol=1e-12, atol=1e-12)
    poisson = lgb.LGBMRegressor(n_estimators=8, num_leaves=7, objective="poisson", verbose=-1).fit(X, y)
    g, x = _graph(X.shape[1])
    raw, objective, _ = lightgbm_raw(g, x, poisson)
    assert objective == "poisson"
    np.testing.assert_allclose(_run(g, raw, X)[:, 0], poisson.predict(X, raw_score=True), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("params,message", [
    ({"objective": "multiclassova"}, "LightGBM objective 'multiclassova' cannot be exported"),
    ({"linear_tree": True}, "linear_tree=True"),
    ({"zero_as_missing": True}, "zero_as_missing=True"),
])
def test_lightgbm_features_without_an_onnx_form_are_refused(wine, params, message):
    import lightgbm as lgb

    X, y = wine
    X = np.nan_to_num(X) if "linear_tree" in params else X
    m = lgb.LGBMClassifier(n_estimators=3, num_leaves=5, verbose=-1, **params).fit(X, y % 3)
    with pytest.raises(ExportError, match=message):
        lightgbm_raw(*_graph(X.shape[1]), m)


@pytest.mark.parametrize("objective", ["binary:logistic", "reg:squarederror", "count:poisson"])
def test_xgboost_margins_are_exact_float32_sums(wine, objective):
    import xgboost as xgb

    X, y = wine
    target = (y >= 6).astype(int) if objective == "binary:logistic" else y
    cls = xgb.XGBClassifier if objective == "binary:logistic" else xgb.XGBRegressor
    m = cls(n_estimators=6, max_depth=3, objective=objective, n_jobs=1).fit(X, target)
    g, x = _graph(X.shape[1])
    raw, got_objective = xgboost_raw(g, x, m)
    assert got_objective == objective
    margin = m.get_booster().predict(xgb.DMatrix(X, missing=np.nan), output_margin=True)
    np.testing.assert_array_equal(_run(g, raw, X)[:, 0], margin.astype(np.float64))
