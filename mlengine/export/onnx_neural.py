"""ONNX graphs for scikit-learn's multi-layer perceptrons, in float64 like scikit-learn: the stored weight matrices
with the fitted activation, then the logistic or softmax output (exact to 1e-15 on the bundled data).

k nearest neighbours are not converted: when several training rows lie at the same distance at the k-th place
(duplicate rows after encoding: 92 of 891 titanic rows with k=10), scikit-learn keeps whichever its chunked search
met first, an order it does not define, so no graph reproduces its predictions. `support.onnx_blockers` refuses
ONNX for `knn` at plan time and the run writes joblib.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph

ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid"}


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
    if m.out_activation_ == "logistic" and m.n_outputs_ == 1:  # two-label multilabel has classes_ [0, 1] too
        return Pred(m.classes_, proba=binary_proba(g, g.squeeze1(g.op("Sigmoid", [out]))))
    if m.out_activation_ == "softmax":
        return Pred(m.classes_, proba=g.op("Softmax", [out], axis=1))
    raise ExportError(f"MLPClassifier with output {m.out_activation_!r} (multilabel) cannot be exported to ONNX.")


def mlp_regressor(g: Graph, m: Any, x: str) -> Any:
    from mlengine.export.onnx_models import Pred

    if m.n_outputs_ != 1:
        raise ExportError("MLPRegressor with several targets cannot be exported to ONNX.")
    return Pred(value=g.squeeze1(_mlp_forward(g, m, x)))
