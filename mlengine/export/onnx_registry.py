"""mlengine's ONNX converters in skl2onnx's converter registry, and the rules for which converter a step gets.

`skl2onnx.convert_sklearn` parses the fitted pipeline (its Pipeline parser walks the steps) and calls one converter
per step. Which converter a step gets (`converter_for`):
- mlengine's own (float64, scikit-learn's arithmetic; `onnx_models` / `onnx_preprocess` / `onnx_trees` /
  `onnx_neural`) for the final estimator and the wrappers (trees, linear, MLP, dummy, calibration with exact
  isotonic, thresholds, target transforms, voting), for mlengine's ColumnTransformer with its imputers, scalers and
  encoders, for PCA/TruncatedSVD, and for selectors skl2onnx does not know (mlengine's CorrelationFilter, custom
  SelectorMixins). skl2onnx knows several of these classes but converts them in float32 or inexactly; mlengine's
  converter replaces its one for the call only (`custom_parsers` / `custom_conversion_functions` /
  `custom_shape_calculators`), so the process-wide registry keeps skl2onnx's. Classes skl2onnx has no converter for
  (mlengine's own, FixedThresholdClassifier, FrozenEstimator, LightGBM, XGBoost) are also registered process-wide
  with `update_registered_converter`, which also lets skl2onnx validate their options.
- skl2onnx's own where it is exact: the Pipeline parser and scikit-learn's feature selectors (SelectKBest,
  VarianceThreshold, SelectFromModel, RFE, ...: a column gather, bit for bit).
- the user's: any other step with a converter in skl2onnx's registry (`skl2onnx.update_registered_converter`, the
  standard way) is converted by it; the parity check then verifies the whole graph.
A final estimator mlengine does not convert is refused unless its converter is a user's (skl2onnx's own model
converters compute in float32, and some, like k nearest neighbours, cannot match scikit-learn's ties).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph, tensor_type
from mlengine.export.onnx_models import LEAVES, argmax_label, classes_array, predictor, transform
from mlengine.export.onnx_preprocess import OUTPUT_NAMES, Columns

WRAPPERS = ("CalibratedClassifierCV", "FixedThresholdClassifier", "TunedThresholdClassifierCV",
            "TransformedTargetRegressor", "VotingClassifier", "VotingRegressor", "FrozenEstimator")
FINALS = (*LEAVES, *WRAPPERS)  # converted by mlengine's `predictor`
TRANSFORMS = ("FrameAdapter", "ColumnTransformer", "SimpleImputer", "StandardScaler", "RobustScaler",
              "MinMaxScaler", "OneHotEncoder", "OrdinalEncoder", "PCA", "TruncatedSVD")
# classes skl2onnx has no converter for: registered process-wide (module, class name)
GLOBAL = (("mlengine.steps.adapter", "FrameAdapter"), ("mlengine.steps.xgb", "XGBLabelClassifier"),
          ("mlengine.steps.correlation", "CorrelationFilter"), ("sklearn.model_selection", "FixedThresholdClassifier"),
          ("sklearn.frozen", "FrozenEstimator"), ("lightgbm", "LGBMClassifier"), ("lightgbm", "LGBMRegressor"),
          ("xgboost", "XGBRegressor"))
_REGISTERED: set[type] = set()


class ContainerGraph(Graph):
    """mlengine's Graph writing into skl2onnx's container: names from the scope, nodes and initializers through
    `ModelComponentContainer.add_node` / `add_initializer`, so mlengine's converters run unchanged inside it."""

    def __init__(self, scope: Any, container: Any):
        super().__init__(container.target_opset_onnx)
        self.scope, self.container = scope, container

    def name(self, hint: str) -> str:
        return self.scope.get_unique_variable_name("_" + "".join(ch if ch.isalnum() else "_" for ch in hint))

    def input(self, name: str, dtype: Any, width: int = 1, doc: str = "") -> str:
        raise NotImplementedError("inputs are declared by convert_sklearn's initial_types")

    def const(self, value: Any, dtype: Any = None, hint: str = "c") -> str:
        from onnx import numpy_helper

        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes()) if arr.size <= 16 and arr.dtype.kind not in "OU" else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self.name(hint)
        if arr.dtype.kind in "OUST":
            self.container.add_initializer(name, tensor_type(arr.dtype), list(arr.shape),
                                           [str(v).encode("utf-8") for v in arr.ravel()])
        else:
            self.container.add_initializer(name, tensor_type(arr.dtype), list(arr.shape),
                                           numpy_helper.from_array(arr, name))
        if key is not None:
            self._consts[key] = name
        return name

    def op(self, op_type: str, inputs: list[str], out: str | None = None, n_out: int = 1, domain: str = "",
           **attrs: Any) -> Any:
        outs = [out] if out else [self.name(op_type.lower()) for _ in range(n_out)]
        # ai.onnx.ml nodes are recorded at version 1: skl2onnx 1.20 refuses ml opsets above 3 when it writes the
        # opset imports, so `finish_model` sets ai.onnx.ml to 5 (float64 TreeEnsemble) afterwards
        self.container.add_node(op_type, inputs, outs, op_domain=domain, op_version=1 if domain else None,
                                name=self.scope.get_unique_operator_name("n_" + op_type), **attrs)
        return outs[0] if n_out == 1 else outs


# ----------------------------------------------------------------------------------------- converters ---
def _data(operator: Any) -> Any:
    """The converter's input: the model's raw inputs as named Columns, or the one float64 matrix."""
    ins = operator.inputs
    if all(v.is_root for v in ins):
        from skl2onnx.common.data_types import StringTensorType

        tensors = {_column_of(v.onnx_name): v.onnx_name for v in ins}
        return Columns(tensors, {_column_of(v.onnx_name) for v in ins if isinstance(v.type, StringTensorType)})
    if len(ins) != 1:
        raise ExportError(f"{type(operator.raw_operator).__name__} receives {len(ins)} tensors; mlengine's "
                          "converter takes one matrix.")
    return ins[0].onnx_name


def _column_of(input_name: str) -> str:
    """The adapter output column an ONNX input carries (inverse of `adapter_inputs`' renaming)."""
    stem = input_name.removesuffix("__input")
    return stem if stem in OUTPUT_NAMES else input_name


def _convert_final(scope: Any, operator: Any, container: Any) -> None:
    g = ContainerGraph(scope, container)
    pred = predictor(g, operator.raw_operator, _data(operator))
    outs = [v.onnx_name for v in operator.outputs]
    if pred.classes is not None:
        g.op("Identity", [pred.label or argmax_label(g, pred.proba, classes_array(pred.classes))], out=outs[0])
        g.op("Identity", [pred.proba], out=outs[1])
    else:
        if pred.value is None:
            raise ExportError(f"{type(operator.raw_operator).__name__} produced neither probabilities nor a "
                              "prediction.")
        g.op("Identity", [pred.value], out=outs[0])


def _convert_transform(scope: Any, operator: Any, container: Any) -> None:
    g = ContainerGraph(scope, container)
    out = transform(g, operator.raw_operator, _data(operator))
    if isinstance(out, Columns):
        raise ExportError(f"{type(operator.raw_operator).__name__} must come right before a ColumnTransformer.")
    g.op("Identity", [out], out=operator.outputs[0].onnx_name)


def _shape_final(operator: Any) -> None:
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        Int64TensorType,
        StringTensorType,
    )

    est = operator.raw_operator
    if len(operator.outputs) == 2:
        classes = classes_array(est.classes_)
        label = {"O": StringTensorType, "b": BooleanTensorType, "i": Int64TensorType}.get(classes.dtype.kind,
                                                                                         DoubleTensorType)
        operator.outputs[0].type = label([None])
        operator.outputs[1].type = DoubleTensorType([None, len(classes)])
    else:
        operator.outputs[0].type = DoubleTensorType([None])


def _shape_transform(operator: Any) -> None:
    from skl2onnx.common.data_types import DoubleTensorType

    operator.outputs[0].type = DoubleTensorType([None, None])


def _parse_final(scope: Any, model: Any, inputs: list[Any], custom_parsers: Any = None) -> list[Any]:
    from skl2onnx.common.data_types import DoubleTensorType

    op = scope.declare_local_operator(f"Mlengine{type(model).__name__}", model)
    op.inputs = inputs
    names = ("label", "probabilities") if hasattr(model, "classes_") else ("prediction",)
    op.outputs.extend(scope.declare_local_variable(n, DoubleTensorType()) for n in names)
    return op.outputs


def _parse_adapter(scope: Any, model: Any, inputs: list[Any], custom_parsers: Any = None) -> list[Any]:
    """The FrameAdapter's outputs are the model's inputs (one per adapter column): nothing to compute."""
    missing = [c for c in model.get_feature_names_out() if c not in {_column_of(v.onnx_name) for v in inputs}]
    if missing:
        raise ExportError(f"the pipeline's adapter needs inputs the model does not declare: {missing}.")
    return inputs


def _parse_transform(scope: Any, model: Any, inputs: list[Any], custom_parsers: Any = None) -> list[Any]:
    from skl2onnx.common.data_types import DoubleTensorType

    op = scope.declare_local_operator(f"Mlengine{type(model).__name__}", model)
    op.inputs = inputs
    op.outputs.append(scope.declare_local_variable("features", DoubleTensorType()))
    return op.outputs


# ------------------------------------------------------------------------------------------ the rules ---
def register_globals() -> None:
    """`update_registered_converter` for the classes skl2onnx has no converter for (once per process)."""
    import importlib

    from skl2onnx import update_registered_converter

    for module, name in GLOBAL:
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):  # lightgbm/xgboost not installed
            continue
        if cls in _REGISTERED:
            continue
        if name == "FrameAdapter":
            update_registered_converter(cls, "MlengineFrameAdapter", _shape_transform, _convert_transform,
                                        parser=_parse_adapter)
        elif name == "CorrelationFilter":
            update_registered_converter(cls, "MlengineCorrelationFilter", _shape_transform, _convert_transform,
                                        parser=_parse_transform)
        else:
            update_registered_converter(cls, f"Mlengine{name}", _shape_final, _convert_final, parser=_parse_final,
                                        options={"zipmap": [True, False, "columns"]})
        _REGISTERED.add(cls)


def _registered_converter(cls: type) -> Any:
    """The converter skl2onnx's registry holds for a class, or None."""
    from skl2onnx._supported_operators import _get_sklearn_operator_name
    from skl2onnx.common._registration import _converter_pool

    alias = _get_sklearn_operator_name(cls)
    return None if alias is None else _converter_pool.get(alias)


def converter_for(step: Any, final: bool) -> str:
    """'mlengine', 'skl2onnx' (its own converter, exact ones only) or 'user' (registered the standard skl2onnx
    way by the user or a library such as onnxmltools); raises ExportError when there is none. mlengine's converter
    wins for the classes it converts, so a process-wide registration (e.g. onnxmltools' float32 LightGBM) cannot
    change a run's export."""
    from sklearn.feature_selection import SelectorMixin

    if type(step).__name__ in (FINALS if final else TRANSFORMS) or _ours(step):
        return "mlengine"
    registered = _registered_converter(type(step))
    module = getattr(getattr(registered, "_fct", registered), "__module__", "") or ""
    user = registered is not None and not module.startswith("skl2onnx.")
    if not final and isinstance(step, SelectorMixin):
        return "user" if user else "skl2onnx" if registered is not None else "mlengine"
    if user:
        return "user"
    if final or registered is None:
        raise _missing(step, final)
    return "skl2onnx"


def _ours(step: Any) -> bool:
    return type(step).__module__.startswith("mlengine.")


def _missing(step: Any, final: bool) -> ExportError:
    name = type(step).__name__
    if final:
        return ExportError(f"model {name} has no ONNX converter in mlengine; supported: {', '.join(sorted(LEAVES))}, "
                           "wrapped in CalibratedClassifierCV, FixedThresholdClassifier, TunedThresholdClassifierCV "
                           "or TransformedTargetRegressor, or combined in a soft VotingClassifier or VotingRegressor "
                           "(or register your own: skl2onnx.update_registered_converter).")
    return ExportError(f"step {name} ({type(step).__module__}) has no ONNX converter: neither mlengine nor skl2onnx "
                       "converts it and none is registered. Register one the standard skl2onnx way, "
                       f"skl2onnx.update_registered_converter({name}, '<alias>', <shape calculator>, <converter>) "
                       "(README, 'Your own steps'), or export with export.format: joblib.")
