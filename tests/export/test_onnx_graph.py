"""onnx_graph: the small ONNX builder: dtype mapping, unique names, constant deduplication, the helper ops
(run in onnxruntime on real titanic numbers) and the finished model's opsets, IR version and metadata."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from onnx import TensorProto

from mlengine.export.onnx_graph import MAX_OPSET, MIN_OPSET, ML_OPSET, Graph, tensor_type

from tests.conftest import DATA


def _run(g: Graph, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feed)


@pytest.fixture(scope="module")
def fares() -> np.ndarray:
    return pd.read_csv(DATA / "titanic.csv")[["age", "fare", "pclass"]].dropna().head(50).to_numpy(np.float64)


def test_tensor_type_maps_numpy_dtypes_and_text_to_string():
    assert tensor_type(np.float64) == TensorProto.DOUBLE
    assert tensor_type(np.float32) == TensorProto.FLOAT
    assert tensor_type(np.int64) == TensorProto.INT64
    assert tensor_type(np.int32) == TensorProto.INT32
    assert tensor_type(np.bool_) == TensorProto.BOOL
    assert tensor_type(object) == tensor_type("U3") == tensor_type("S2") == TensorProto.STRING
    with pytest.raises(KeyError):
        tensor_type(np.uint16)


@pytest.mark.parametrize("opset", [MIN_OPSET - 1, MAX_OPSET + 1])
def test_opset_outside_the_supported_range_is_refused(opset):
    with pytest.raises(ValueError, match=f"opset {opset} outside 13..21"):
        Graph(opset)


def test_names_are_sanitised_and_unique_and_inputs_are_reserved():
    g = Graph()
    assert g.name("fare per-person") == "_fare_per_person"
    assert g.name("fare per-person") == "_fare_per_person_2"
    assert g.name("fare.per person") == "_fare_per_person_3"
    assert g.input("age", np.float64) == "age"
    with pytest.raises(ValueError, match="duplicate input name 'age'"):
        g.input("age", np.float64)


def test_small_constants_are_shared_large_and_text_ones_are_not():
    g = Graph()
    a = g.const(np.array([1.0, 2.0]))
    assert g.const([1.0, 2.0], dtype=np.float64) == a
    assert g.const(np.array([1.0, 2.0], dtype=np.float32)) != a  # another dtype, another tensor
    big = np.arange(17, dtype=np.float64)
    assert g.const(big) != g.const(big)
    assert g.const(np.array(["S"], dtype=object)) != g.const(np.array(["S"], dtype=object))
    assert len(g.initializers) == 6


@pytest.mark.parametrize("opset", [13, 17, 21])
def test_helper_ops_compute_what_their_docstrings_say(fares, opset):
    g = Graph(opset)
    x = g.input("x", np.float64, width=3)
    g.output(g.columns(x, [2, 0]), "cols", np.float64, [None, 2])
    g.output(g.column(x, 1), "col", np.float64, [None])
    g.output(g.unsqueeze1(g.squeeze1(g.columns(x, [1]))), "round_trip", np.float64, [None, 1])
    g.output(g.rows_like(x, [7.0, 8.0]), "rows", np.float64, [None, 2])
    g.output(g.sum_rows(x), "sums", np.float64, [None, 1])
    g.output(g.cast(g.concat([x, x]), np.float32), "wide32", np.float32, [None, 6])
    cols, col, round_trip, rows, sums, wide32 = _run(g, {"x": fares})
    np.testing.assert_array_equal(cols, fares[:, [2, 0]])
    np.testing.assert_array_equal(col, fares[:, 1])
    np.testing.assert_array_equal(round_trip, fares[:, [1]])
    np.testing.assert_array_equal(rows, np.tile([7.0, 8.0], (len(fares), 1)))
    np.testing.assert_allclose(sums, fares.sum(axis=1, keepdims=True), rtol=1e-15)
    assert wide32.dtype == np.float32
    np.testing.assert_array_equal(wide32, np.hstack([fares, fares]).astype(np.float32))


def test_model_declares_both_opsets_ir9_metadata_and_docs():
    g = Graph(15)
    x = g.input("fare", np.float64, doc="fare paid")
    assert g.concat([x]) == x  # one part: no Concat node
    g.output(x, "out", np.float64, [None, 1])
    model = g.model(doc="a test graph", metadata={"mlengine.task": "regression"})
    assert {o.domain: o.version for o in model.opset_import} == {"": 15, "ai.onnx.ml": ML_OPSET}
    assert model.ir_version <= 9
    assert model.producer_name == "mlengine"
    assert model.graph.doc_string == "a test graph"
    assert model.graph.input[0].doc_string == "fare paid"
    assert {p.key: p.value for p in model.metadata_props} == {"mlengine.task": "regression"}
    assert [n.op_type for n in model.graph.node] == ["Identity"]
