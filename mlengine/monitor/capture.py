"""The built-in hook that writes `reference.json` into every run directory (before the manifest hashes it)."""

from __future__ import annotations

from typing import Any

from mlengine.hooks import Hook

CAPTURE_AFTER = "export_onnx"  # the last stage before "manifest": the model is fitted, the CV result known


class ReferenceHook(Hook):
    """After the fit, profile the training rows and the out-of-fold predictions into reference.json."""

    def __init__(self, bins: int = 10):
        self.bins = bins

    def after_stage(self, name: str, state: Any) -> None:
        if name != CAPTURE_AFTER or state.X_tr is None:
            return
        from mlengine.monitor.reference import build_reference

        cv = state.cv_result
        data = state.data
        ref = build_reference(state.X_tr, data.columns, task=data.task, classes=data.classes,
                              pos_label=data.pos_label, oof_pred=None if cv is None else cv.oof_pred,
                              oof_proba=None if cv is None else cv.oof_proba,
                              validated=None if cv is None else cv.validated, bins=self.bins)
        state.rd.write_json("reference.json", ref)


def make_hook(loaded: Any) -> ReferenceHook | None:
    """Every run gets a reference profile (monitor.bins sets its bin count)."""
    monitor = getattr(loaded.recipe, "monitor", None)
    return ReferenceHook(bins=getattr(monitor, "bins", 10))
