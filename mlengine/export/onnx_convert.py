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

import numpy as np

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph
from mlengine.export.onnx_models import argmax_label, classes_array, predictor
from mlengine.export.onnx_preprocess import InputSpec, adapter_inputs, declare_inputs

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
    """Convert a fitted mlengine pipeline; raises ExportError naming the step that cannot be converted."""
    adapter = find_adapter(model)
    specs = adapter_inputs(adapter)
    g = Graph(opset)
    cols = declare_inputs(g, specs)
    pred = predictor(g, model, cols)
    if pred.classes is not None:
        classes = classes_array(pred.classes)
        label = pred.label or argmax_label(g, pred.proba, classes)
        g.output(label, OUTPUT_LABEL, classes.dtype, [None])
        g.output(pred.proba, OUTPUT_PROBA, np.float64, [None, len(classes)])
        task, class_list = "classification", classes.tolist()
    else:
        if pred.value is None:
            raise ExportError(f"{type(model).__name__} produced neither probabilities nor a prediction.")
        g.output(pred.value, OUTPUT_VALUE, np.float64, [None])
        task, class_list = "regression", []
    doc = ("mlengine pipeline. Inputs: one per feature column (float64 [N,1] for numbers, booleans as 1.0/0.0 and "
           "datetime parts named <column>__<part>; string [N,1] for categories, '' when missing). Outputs: "
           + ("label [N], probabilities [N, k] in the order of the classes metadata." if task == "classification"
              else "prediction [N]."))
    meta = {"mlengine.task": task, "mlengine.name": name}
    if class_list:
        meta["mlengine.classes"] = repr(class_list)
    return Converted(g.model(doc, meta), specs, task, class_list)
