"""ONNX export through skl2onnx's converter registry: a user's own transformer exports once its converter is
registered the standard skl2onnx way, is refused clearly without one, and mlengine leaves skl2onnx's own
process-wide converters as they were."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from mlengine.errors import ExportError

from tests.export_helpers import assert_exact, onnx_of, prepared


class ClipAndCenter(TransformerMixin, BaseEstimator):
    """A user's transformer: clip each column to its training 5th-95th percentiles, then subtract the median."""

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        self.low_, self.high_ = np.percentile(X, 5, axis=0), np.percentile(X, 95, axis=0)
        self.median_ = np.median(X, axis=0)
        return self

    def transform(self, X):
        return np.clip(np.asarray(X, dtype=np.float64), self.low_, self.high_) - self.median_


class NotRegistered(ClipAndCenter):
    """The same arithmetic, but nobody registers a converter for it."""


def _shape(operator):
    from skl2onnx.common.data_types import DoubleTensorType

    operator.outputs[0].type = DoubleTensorType([None, len(operator.raw_operator.median_)])


def _convert(scope, operator, container):
    """The converter as skl2onnx's tutorial writes one: initializers and nodes named through the scope."""
    from onnx import TensorProto

    op, x = operator.raw_operator, operator.inputs[0].full_name
    names = {}
    for attr in ("low_", "high_", "median_"):
        names[attr] = scope.get_unique_variable_name(attr)
        container.add_initializer(names[attr], TensorProto.DOUBLE, [1, len(op.median_)], getattr(op, attr).tolist())
    lo = scope.get_unique_variable_name("clip_low")
    container.add_node("Max", [x, names["low_"]], [lo], name=scope.get_unique_operator_name("UserMax"))
    hi = scope.get_unique_variable_name("clip_high")
    container.add_node("Min", [lo, names["high_"]], [hi], name=scope.get_unique_operator_name("UserMin"))
    container.add_node("Sub", [hi, names["median_"]], [operator.outputs[0].full_name],
                       name=scope.get_unique_operator_name("UserSub"))


@pytest.fixture(scope="module")
def titanic_lr():
    data, pipe = prepared("titanic.yaml", ("model=logistic_regression",))
    return data, pipe


def _with_step(pipe, step):
    return Pipeline([*pipe.steps[:-1], ("user", step), pipe.steps[-1]])


def test_user_transformer_exports_with_its_registered_converter(titanic_lr):
    from skl2onnx import update_registered_converter

    update_registered_converter(ClipAndCenter, "UserClipAndCenter", _shape, _convert)
    data, pipe = titanic_lr
    model = _with_step(pipe, ClipAndCenter()).fit(data.X, data.y)
    report = assert_exact(model, data.X, "binary", tolerance=1e-9)
    assert report.max_abs_diff < 1e-12
    from mlengine.export.onnx_convert import to_onnx

    graph = to_onnx(model).model.graph
    assert any(n.name.startswith("UserMax") for n in graph.node)  # the user's converter wrote these nodes


def test_unregistered_user_transformer_is_refused_naming_it_and_the_fix(titanic_lr):
    from mlengine.export.onnx_convert import to_onnx

    data, pipe = titanic_lr
    model = _with_step(pipe, NotRegistered()).fit(data.X, data.y)
    with pytest.raises(ExportError) as err:
        to_onnx(model)
    text = str(err.value)
    assert "NotRegistered" in text and "skl2onnx.update_registered_converter(NotRegistered" in text
    assert "Traceback" not in text


def test_which_converter_each_step_gets(titanic_lr):
    from sklearn.feature_selection import SelectKBest
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import Normalizer

    from mlengine.export.onnx_registry import converter_for
    from mlengine.steps.correlation import CorrelationFilter

    _, pipe = titanic_lr
    steps = dict(pipe.steps)
    assert converter_for(steps["adapt"], final=False) == "mlengine"
    assert converter_for(pipe.steps[1][1], final=False) == "mlengine"  # the ColumnTransformer
    assert converter_for(pipe.steps[-1][1], final=True) == "mlengine"
    assert converter_for(SelectKBest(k=2), final=False) == "skl2onnx"
    assert converter_for(CorrelationFilter(), final=False) == "mlengine"
    assert converter_for(Normalizer(), final=False) == "skl2onnx"
    with pytest.raises(ExportError, match="KNeighborsClassifier has no ONNX converter in mlengine"):
        converter_for(KNeighborsClassifier(), final=True)


def test_mlengine_leaves_skl2onnx_own_converters_in_place(titanic_lr):
    """mlengine replaces skl2onnx's float32 converters for its own calls only: a plain skl2onnx conversion of a
    random forest in the same process still gets skl2onnx's TreeEnsembleClassifier on float32 inputs."""
    from skl2onnx import to_onnx as skl_to_onnx
    from sklearn.ensemble import RandomForestClassifier

    data, pipe = prepared("titanic.yaml", ("model=random_forest", "model.params.n_estimators=3"))
    pipe.fit(data.X, data.y)
    onnx_of(pipe)  # mlengine's float64 conversion first
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    rf = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, X[:, 0] > 0)
    onx = skl_to_onnx(rf, X[:1], target_opset={"": 17, "ai.onnx.ml": 3}, options={"zipmap": False})
    assert {n.op_type for n in onx.graph.node} >= {"TreeEnsembleClassifier"}
