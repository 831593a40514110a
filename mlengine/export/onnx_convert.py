"""The whole fitted pipeline -> one ONNX model, from the raw (adapted) columns to the final outputs.

Why mlengine writes the graph itself rather than calling skl2onnx on the pipeline: with this stack, stock
conversion is wrong or fails in exactly the places a verified export cares about (see STACK-NOTES and the
README): float32 tree thresholds that flip splits, isotonic calibration by nearest threshold, LightGBM raw scores
ignored under calibration, no FixedThresholdClassifier, HistGradientBoosting failing to convert, one-hot
`infrequent_if_exist` raising on unseen categories. Each converter here is short and written from the fitted
attributes with scikit-learn's own arithmetic; the parity check (`parity.py`) verifies the result on real rows.

Inputs: one per adapter output column (numbers, booleans and datetime parts as float64 [N, 1], categories as
string [N, 1]). Outputs: `label` [N] and `probabilities` [N, k] (classification), `prediction` [N] (regression).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import MAX_OPSET, MIN_OPSET, ML_OPSET
from mlengine.export.onnx_models import classes_array
from mlengine.export.onnx_preprocess import InputSpec, adapter_inputs, input_doc
from mlengine.export.onnx_registry import (
    _convert_final,
    _convert_transform,
    _parse_adapter,
    _parse_final,
    _parse_transform,
    _shape_final,
    _shape_transform,
    converter_for,
    register_globals,
)

OUTPUT_LABEL, OUTPUT_PROBA, OUTPUT_VALUE = "label", "probabilities", "prediction"


@dataclass
class Converted:
    """The ONNX model and what a caller needs to feed it and read it."""

    model: Any  # onnx.ModelProto
    inputs: list[InputSpec]
    task: str  # "classification" | "regression"
    classes: list[Any] = field(default_factory=list)

    def signature(self) -> dict[str, Any]:
        outputs = ([{"name": OUTPUT_LABEL, "shape": "[N]"}, {"name": OUTPUT_PROBA, "shape": f"[N, {len(self.classes)}]",
                     "columns": self.classes}] if self.task == "classification"
                   else [{"name": OUTPUT_VALUE, "shape": "[N]"}])
        return {"inputs": [s.as_dict() for s in self.inputs], "outputs": outputs}


def find_adapter(est: Any) -> Any:
    """The FrameAdapter at the start of the (possibly wrapped) pipeline."""
    seen: list[Any] = [est]
    while seen:
        cur = seen.pop(0)
        if type(cur).__name__ == "FrameAdapter":
            return cur
        if hasattr(cur, "steps"):
            seen.append(cur.steps[0][1])
        for attr in ("estimator_", "estimator", "regressor_"):
            inner = getattr(cur, attr, None) if attr in vars(cur) else None
            if inner is not None:
                seen.append(inner)
        for cc in getattr(cur, "calibrated_classifiers_", [])[:1]:
            seen.append(cc.estimator)
    raise ExportError("the model has no FrameAdapter first step, so its raw inputs are unknown; mlengine exports "
                      "the pipelines its runs build.")


def to_onnx(model: Any, opset: int = 17, name: str = "mlengine") -> Converted:
    """Convert a fitted mlengine pipeline with `skl2onnx.convert_sklearn` (converters chosen by
    `onnx_registry.converter_for`); raises ExportError naming the step that cannot be converted."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType

    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"opset {opset} outside {MIN_OPSET}..{MAX_OPSET}")
    adapter = find_adapter(model)
    specs = adapter_inputs(adapter)
    register_globals()
    top = for_parsing(model)
    parsers, converters, shapes = per_call_converters(top)
    task = "classification" if hasattr(model, "classes_") else "regression"
    outputs = [(OUTPUT_LABEL, None), (OUTPUT_PROBA, None)] if task == "classification" else [(OUTPUT_VALUE, None)]
    initial = [(s.name, StringTensorType([None, 1]) if s.dtype == "string" else DoubleTensorType([None, 1]))
               for s in specs]
    onx = convert_sklearn(top, name="mlengine", initial_types=initial, final_types=outputs,
                          target_opset={"": opset, "ai.onnx.ml": 3}, custom_parsers=parsers,
                          custom_conversion_functions=converters, custom_shape_calculators=shapes)
    class_list = classes_array(model.classes_).tolist() if task == "classification" else []
    doc = ("mlengine pipeline. Inputs: one per feature column (float64 [N,1] for numbers, booleans as 1.0/0.0 and "
           "datetime parts named <column>__<part>; string [N,1] for categories, '' when missing). Outputs: "
           + ("label [N], probabilities [N, k] in the order of the classes metadata." if task == "classification"
              else "prediction [N]."))
    meta = {"mlengine.task": task, "mlengine.name": name}
    if class_list:
        meta["mlengine.classes"] = repr(class_list)
    return Converted(finish_model(onx, opset, specs, doc, meta), specs, task, class_list)


def for_parsing(model: Any) -> Any:
    """The model as skl2onnx's Pipeline parser walks it: samplers (`fit_resample`, fit-time only) and
    passthrough steps left out, imbalanced-learn pipelines as scikit-learn ones (same fitted steps)."""
    from sklearn.pipeline import Pipeline

    if not hasattr(model, "steps"):
        return model
    steps = [(n, for_parsing(s)) for n, s in model.steps
             if s not in (None, "passthrough") and not hasattr(s, "fit_resample")]
    return Pipeline(steps)


def per_call_converters(model: Any) -> tuple[dict[type, Any], dict[type, Any], dict[type, Any]]:
    """custom_parsers, custom_conversion_functions, custom_shape_calculators for the steps mlengine converts."""
    parsers: dict[type, Any] = {}
    converters: dict[type, Any] = {}
    shapes: dict[type, Any] = {}
    for step, final in _chain(model, True):
        if converter_for(step, final) != "mlengine":
            continue
        cls = type(step)
        if final:
            parsers[cls], converters[cls], shapes[cls] = _parse_final, _convert_final, _shape_final
        else:
            parsers[cls] = _parse_adapter if cls.__name__ == "FrameAdapter" else _parse_transform
            converters[cls], shapes[cls] = _convert_transform, _shape_transform
    return parsers, converters, shapes


def _chain(model: Any, final: bool) -> list[tuple[Any, bool]]:
    """The steps skl2onnx's Pipeline parser meets, each with whether it is the final estimator."""
    if not hasattr(model, "steps"):
        return [(model, final)]
    steps = [s for _, s in model.steps]
    return [pair for i, s in enumerate(steps) for pair in _chain(s, final and i == len(steps) - 1)]


def finish_model(onx: Any, opset: int, specs: list[InputSpec], doc: str, meta: dict[str, str]) -> Any:
    """Opset imports (default domain `opset`, ai.onnx.ml 5), input docs, metadata; checked."""
    from onnx import checker, helper

    del onx.opset_import[:]
    onx.opset_import.extend([helper.make_opsetid("", opset), helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
    onx.ir_version = min(onx.ir_version, 9)  # readable by onnxruntime builds of the last two years
    onx.producer_name, onx.graph.doc_string = "mlengine", doc
    docs = {s.name: input_doc(s) for s in specs}
    for inp in onx.graph.input:
        inp.doc_string = docs.get(inp.name, "")
    del onx.metadata_props[:]
    helper.set_model_props(onx, meta)
    checker.check_model(onx)
    return onx
