"""ONNX graphs for scikit-learn's k-nearest-neighbours and multi-layer perceptron models, in float64 like sklearn.

kNN: squared euclidean distances to every stored training row (||x||² - 2 x·y + ||y||², as scikit-learn's
brute-force search computes them), the k smallest by TopK, then the class shares or the mean target, uniform or
weighted by inverse distance (a row at distance 0 takes all the weight, as in `_get_weights`). The graph holds the
training rows, so its size grows with the training set. Exactly tied distances at the k-th place may pick a
different neighbour than scikit-learn; the parity check on the holdout rows reports such rows.
MLP: the stored weight matrices with the fitted activation, then the logistic or softmax output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph

ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid"}


def knn_metric_problem(metric: Any, p: Any) -> str | None:
    """Why a kNN metric cannot be exported (None when it can): only euclidean distances are written."""
    if metric == "euclidean" or (metric == "minkowski" and p in (2, 2.0, None)):
        return None
    return (f"knn with metric {metric!r}" + (f" and p={p!r}" if metric == "minkowski" else "")
            + " has no ONNX graph in mlengine (only euclidean: metric 'minkowski' with p 2, or 'euclidean')")


def _neighbours(g: Graph, m: Any, x: str) -> tuple[str, str]:
    """(indices [N, k] of the nearest training rows, their weights [N, k] or None for uniform)."""
    problem = knn_metric_problem(m.metric, m.p)
    if problem:
        raise ExportError(problem + ".")
    if m.weights not in ("uniform", "distance"):
        raise ExportError(f"knn weights {m.weights!r} cannot be exported to ONNX (use 'uniform' or 'distance').")
    fit_x = np.asarray(m._fit_X, dtype=np.float64)
    k = int(m.n_neighbors)
    xx = g.sum_rows(g.op("Mul", [x, x]))  # [N, 1]
    yy = g.const((fit_x * fit_x).sum(axis=1).reshape(1, -1), hint="knn_yy")  # [1, M]
    xy = g.op("MatMul", [x, g.const(np.ascontiguousarray(fit_x.T), hint="knn_train_t")])  # [N, M]
    d2 = g.op("Add", [g.op("Sub", [xx, g.op("Mul", [xy, g.const(np.float64(2.0))])]), yy])
    d2 = g.op("Max", [d2, g.const(np.float64(0.0))])
    dist, idx = g.op("TopK", [d2, g.const(np.array([k], dtype=np.int64), hint="k")], n_out=2, axis=1, largest=0,
                     sorted=1)
    if m.weights == "uniform":
        return idx, None
    w = g.op("Reciprocal", [g.op("Sqrt", [dist])])
    inf = g.op("IsInf", [w])
    any_inf = g.sum_rows(g.cast(inf, np.float64))
    w = g.op("Where", [g.op("Greater", [any_inf, g.const(np.float64(0.0))]), g.cast(inf, np.float64), w])
    return idx, w


def knn_classifier(g: Graph, m: Any, x: str) -> Any:
    from mlengine.export.onnx_models import Pred

    if getattr(m, "outputs_2d_", False):
        raise ExportError("KNeighborsClassifier with several targets cannot be exported to ONNX.")
    n = len(m.classes_)
    idx, w = _neighbours(g, m, x)
    codes = g.op("Gather", [g.const(np.asarray(m._y, dtype=np.int64), hint="knn_y"), idx], axis=0)  # [N, k]
    onehot = g.op("Cast", [g.op("Equal", [g.op("Unsqueeze", [codes, g.const(np.array([2], dtype=np.int64))]),
                                          g.const(np.arange(n, dtype=np.int64).reshape(1, 1, n))])], to=11)
    if w is not None:
        onehot = g.op("Mul", [onehot, g.op("Unsqueeze", [w, g.const(np.array([2], dtype=np.int64))])])
    votes = g.op("ReduceSum", [onehot, g.const(np.array([1], dtype=np.int64))], keepdims=0)  # [N, n]
    total = g.sum_rows(votes)
    return Pred(m.classes_, proba=g.op("Div", [votes, total]))


def knn_regressor(g: Graph, m: Any, x: str) -> Any:
    from mlengine.export.onnx_models import Pred

    y = np.asarray(m._y, dtype=np.float64)
    if y.ndim != 1:
        raise ExportError("KNeighborsRegressor with several targets cannot be exported to ONNX.")
    idx, w = _neighbours(g, m, x)
    vals = g.op("Gather", [g.const(y, hint="knn_y"), idx], axis=0)  # [N, k]
    if w is None:
        return Pred(value=g.squeeze1(g.op("Div", [g.sum_rows(vals), g.const(np.float64(m.n_neighbors))])))
    num = g.sum_rows(g.op("Mul", [vals, w]))
    return Pred(value=g.squeeze1(g.op("Div", [num, g.sum_rows(w)])))


def _mlp_forward(g: Graph, m: Any, x: str) -> str:
    act = m.activation
    if act != "identity" and act not in ACTIVATIONS:
        raise ExportError(f"MLP activation {act!r} cannot be exported to ONNX.")
    h = x
    last = len(m.coefs_) - 1
    for i, (w, b) in enumerate(zip(m.coefs_, m.intercepts_, strict=True)):
        h = g.op("Add", [g.op("MatMul", [h, g.const(np.asarray(w, dtype=np.float64), hint="mlp_w")]),
                         g.const(np.asarray(b, dtype=np.float64).reshape(1, -1), hint="mlp_b")])
        if i < last and act != "identity":
            h = g.op(ACTIVATIONS[act], [h])
    return h


def mlp_classifier(g: Graph, m: Any, x: str) -> Any:
    from mlengine.export.onnx_models import Pred, binary_proba

    out = _mlp_forward(g, m, x)
    if m.out_activation_ == "logistic" and len(m.classes_) == 2:
        return Pred(m.classes_, proba=binary_proba(g, g.squeeze1(g.op("Sigmoid", [out]))))
    if m.out_activation_ == "softmax":
        return Pred(m.classes_, proba=g.op("Softmax", [out], axis=1))
    raise ExportError(f"MLPClassifier with output {m.out_activation_!r} (multilabel) cannot be exported to ONNX.")


def mlp_regressor(g: Graph, m: Any, x: str) -> Any:
    from mlengine.export.onnx_models import Pred

    if m.n_outputs_ != 1:
        raise ExportError("MLPRegressor with several targets cannot be exported to ONNX.")
    return Pred(value=g.squeeze1(_mlp_forward(g, m, x)))
