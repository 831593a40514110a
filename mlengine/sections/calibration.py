"""`calibration`: probability calibration, one typed option per `calibration.method`.

A calibrator is fitted after the search, on out-of-fold scores of the whole training pipeline (each training row
scored by the CV fold model that did not fit it), never on the holdout; the saved pipeline's last step becomes
scikit-learn's CalibratedClassifierCV(ensemble=False) around the refitted estimator (`build`).

Each option class owns its keys with their defaults (stated once, here), its checks (`check`), its builder
(`build`: the CalibratedClassifierCV wrapper), whether it exports to ONNX (`exportable`) and its record (`record`,
metrics.json `calibration`). Fitting the calibrator on the out-of-fold scores and the before/after figures are
`mlengine.evaluate.calibration`. Adding a method is one class here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from mlengine.errors import Problem
from mlengine.sections.registry import Option, Registry

CALIBRATION: Registry[CalibrationOption] = Registry("calibration", "method", default="none")


class CalibrationOption(Option):
    """Base of the calibration methods: what the checks, the plan, the export and the finishing step ask."""

    exportable: ClassVar[bool] = True  # mlengine's ONNX export converts the fitted calibrator exactly
    encoded_labels: ClassVar[bool] = False  # scikit-learn fits this calibrator on label-encoded targets

    def check(self, task: str, cv_kind: str) -> list[Problem]:
        """Checks without data: class probabilities to calibrate, and out-of-fold scores to fit on."""
        if self.method == "none":
            return []
        problems = []
        if task == "regression":
            problems.append(Problem("calibration.method", f"{self.method!r} calibrates class probabilities; task "
                                                          "is regression. Use calibration.method: none."))
        if cv_kind == "none":
            problems.append(Problem("calibration.method", f"{self.method!r} is fitted on out-of-fold predictions, "
                                    "and cv.kind is 'none': calibrating on the model's own training predictions "
                                    "would leak. Set cv.kind (e.g. stratified_kfold)."))
        return problems

    def build(self, estimator: Any, folds: int) -> Any:
        """The unfitted wrapper the saved pipeline ends in (mlengine.evaluate.calibration fits its calibrator)."""
        from sklearn.calibration import CalibratedClassifierCV

        return CalibratedClassifierCV(estimator=estimator, method=self.method, cv=max(2, folds), ensemble=False)

    def record(self, response: str, rows: int, folds: int, source: str) -> dict[str, Any]:
        """What was fitted, for metrics.json `calibration` (the before/after figures are added beside it)."""
        return {"method": self.method, "response": response, "rows": rows, "folds": folds,
                "fitted_on": f"out-of-fold {response} of {rows} training rows ({source})"}

    @staticmethod
    def bundle(record: dict[str, Any]) -> dict[str, Any]:
        """What model.json states about the calibrator."""
        return {"method": record["method"], "response": record["response"]}


# ------------------------------------------------------------------------------------------------ options ---
@CALIBRATION.register
class NoCalibration(CalibrationOption):
    summary: ClassVar[str] = "probabilities as the model gives them"
    method: Literal["none"] = Field("none", description="probability calibration fitted on out-of-fold "
                                                        "predictions of the training split (never the holdout)")


class _Calibrated(CalibrationOption):
    """A fitted calibrator: its before/after reliability curves are reported."""

    bins: int = Field(10, ge=2, le=100, description="equal-width bins of the reliability curve in metrics.json")


@CALIBRATION.register
class Sigmoid(_Calibrated):
    summary: ClassVar[str] = "Platt scaling: a logistic fit of the model's scores (robust with few rows)"
    method: Literal["sigmoid"]


@CALIBRATION.register
class Isotonic(_Calibrated):
    summary: ClassVar[str] = "a monotone step fit (flexible; wants a few hundred rows of each class)"
    method: Literal["isotonic"]


@CALIBRATION.register
class Temperature(_Calibrated):
    summary: ClassVar[str] = ("one temperature dividing the logits (scikit-learn >= 1.8; keeps the class ranking; "
                              "not exportable to ONNX)")
    exportable: ClassVar[bool] = False  # its logit conversion depends on the whole batch
    encoded_labels: ClassVar[bool] = True
    method: Literal["temperature"]


CalibrationConfig, CALIBRATION_FIELD = CALIBRATION.field("probability calibration")


def exportable_methods() -> list[str]:
    """The calibration methods the ONNX export converts."""
    return [name for name, cls in CALIBRATION.items() if cls.exportable]
