"""A small ONNX graph builder: unique names, constants, nodes, typed inputs and outputs.

mlengine's converters write ONNX nodes directly from the fitted attributes of each step (see
`onnx_convert.py` for why), so they need only this: add a node, get its output name back.
Opset: the default domain at the recipe's `export.opset` (13-21; every op used here has one signature over that
range) and `ai.onnx.ml` 5 (TreeEnsemble in float64, LabelEncoder).
"""

from __future__ import annotations

from typing import Any

import numpy as np

ML_OPSET = 5  # TreeEnsemble (float64 end to end); tested with onnxruntime 1.32
MIN_OPSET, MAX_OPSET = 13, 21


def tensor_type(dtype: Any) -> int:
    """ONNX element type for a numpy dtype (strings/objects -> STRING)."""
    from onnx import TensorProto

    dtype = np.dtype(dtype)
    if dtype.kind in ("U", "O", "S", "T"):
        return TensorProto.STRING
    return {np.dtype(np.float64): TensorProto.DOUBLE, np.dtype(np.float32): TensorProto.FLOAT,
            np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int32): TensorProto.INT32,
            np.dtype(np.bool_): TensorProto.BOOL}[dtype]


class Graph:
    """Accumulates nodes and initializers; every helper returns the name of the tensor it produced."""

    def __init__(self, opset: int = 17):
        if not MIN_OPSET <= opset <= MAX_OPSET:
            raise ValueError(f"opset {opset} outside {MIN_OPSET}..{MAX_OPSET}")
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self._used: set[str] = set()
        self._consts: dict[tuple[Any, ...], str] = {}

    # ------------------------------------------------------------------------------------------- names ---
    def name(self, hint: str) -> str:
        """A tensor/node name not used yet (input names are reserved as they are declared)."""
        base = "_" + "".join(ch if ch.isalnum() else "_" for ch in hint)
        name, i = base, 1
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    # ----------------------------------------------------------------------------------------- tensors ---
    def input(self, name: str, dtype: Any, width: int = 1, doc: str = "") -> str:
        from onnx import helper

        if name in self._used:
            raise ValueError(f"duplicate input name {name!r}")
        self._used.add(name)
        info = helper.make_tensor_value_info(name, tensor_type(dtype), [None, width])
        info.doc_string = doc
        self.inputs.append(info)
        return name

    def output(self, tensor: str, name: str, dtype: Any, shape: list[Any]) -> None:
        from onnx import helper

        self.op("Identity", [tensor], out=name)
        self.outputs.append(helper.make_tensor_value_info(name, tensor_type(dtype), shape))

    def const(self, value: Any, dtype: Any = None, hint: str = "c") -> str:
        """An initializer holding `value` (deduplicated for small constants)."""
        from onnx import helper, numpy_helper

        arr = np.asarray(value, dtype=dtype)
        key = None
        if arr.size <= 16 and arr.dtype.kind not in ("O", "U"):
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.name(hint)
        if arr.dtype.kind in ("O", "U"):
            flat = [str(v).encode("utf-8") for v in arr.ravel()]
            tensor = helper.make_tensor(name, tensor_type(arr.dtype), list(arr.shape), flat)
        else:
            tensor = numpy_helper.from_array(arr, name)
        self.initializers.append(tensor)
        if key is not None:
            self._consts[key] = name
        return name

    # ------------------------------------------------------------------------------------------- nodes ---
    def op(self, op_type: str, inputs: list[str], out: str | None = None, n_out: int = 1, domain: str = "",
           **attrs: Any) -> Any:
        """Add one node; returns its output name (or names when n_out > 1)."""
        from onnx import helper

        outs = [out] if out else [self.name(op_type.lower()) for _ in range(n_out)]
        if out:
            self._used.add(out)
        node = helper.make_node(op_type, inputs, outs, name=self.name("n_" + op_type), domain=domain or None,
                                **attrs)
        self.nodes.append(node)
        return outs[0] if n_out == 1 else outs

    def cast(self, x: str, dtype: Any) -> str:
        return self.op("Cast", [x], to=tensor_type(dtype))

    def concat(self, parts: list[str], axis: int = 1) -> str:
        return parts[0] if len(parts) == 1 else self.op("Concat", parts, axis=axis)

    def columns(self, x: str, idx: Any) -> str:
        """x[:, idx] for a list of column indices."""
        return self.op("Gather", [x, self.const(np.asarray(idx, dtype=np.int64), hint="idx")], axis=1)

    def column(self, x: str, j: int) -> str:
        """x[:, j] as a 1-D tensor."""
        return self.op("Gather", [x, self.const(np.int64(j), hint="j")], axis=1)

    def squeeze1(self, x: str) -> str:
        """[N, 1] -> [N]."""
        return self.op("Squeeze", [x, self.const(np.array([1], dtype=np.int64), hint="axis1")])

    def unsqueeze1(self, x: str) -> str:
        """[N] -> [N, 1]."""
        return self.op("Unsqueeze", [x, self.const(np.array([1], dtype=np.int64), hint="axis1")])

    def rows_like(self, x: str, row: Any) -> str:
        """A constant row repeated for each row of x: shape [N, len(row)]."""
        row = np.asarray(row, dtype=np.float64).reshape(1, -1)
        n = self.op("Shape", [x], start=0, end=1) if self.opset >= 15 else self.op(
            "Gather", [self.op("Shape", [x]), self.const(np.array([0], dtype=np.int64))])
        shape = self.op("Concat", [n, self.const(np.array([row.shape[1]], dtype=np.int64))], axis=0)
        return self.op("Expand", [self.const(row, hint="row"), shape])

    def sum_rows(self, x: str) -> str:
        """Row sums, keeping a [N, 1] shape."""
        return self.op("ReduceSum", [x, self.const(np.array([1], dtype=np.int64), hint="axis1")], keepdims=1)

    # ------------------------------------------------------------------------------------------- model ---
    def model(self, doc: str = "", metadata: dict[str, str] | None = None) -> Any:
        from onnx import checker, helper

        graph = helper.make_graph(self.nodes, "mlengine", self.inputs, self.outputs, self.initializers)
        graph.doc_string = doc
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset),
                                                        helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
                                  producer_name="mlengine")
        model.ir_version = min(model.ir_version, 9)  # readable by onnxruntime builds of the last two years
        if metadata:
            helper.set_model_props(model, metadata)
        checker.check_model(model)
        return model
