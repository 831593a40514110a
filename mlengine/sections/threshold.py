"""`threshold`: the binary decision threshold on P(positive), one typed option per `threshold.objective`.

`none` predicts the most probable class; `fixed` takes the recipe's value; every other objective is tuned on the
out-of-fold probabilities of the training split (calibrated ones when calibration is on), never on the holdout.
The chosen value lives inside the saved model: scikit-learn's FixedThresholdClassifier, outermost (`build`).

Each option class owns its keys with their defaults and ranges (stated once, here), its checks (`check`), what it
maximises at every candidate threshold (`scores`: higher is better, -inf where a constraint is unmet), its builder
(`build`) and its record (`apply` returns metrics.json `threshold`). The scan itself (confusion counts at every
distinct threshold, the argmax, the curve) is `mlengine.evaluate.threshold`. Adding an objective is one class here.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mlengine.errors import DataError, Problem
from mlengine.evaluate.threshold import tune_threshold
from mlengine.records import plain
from mlengine.sections.registry import Option, Registry

log = logging.getLogger("mlengine")

THRESHOLD: Registry[ThresholdOption] = Registry("threshold", "objective", default="none")
OUTCOMES = ("true_positive", "false_positive", "false_negative", "true_negative")


class ValueMatrix(BaseModel):
    """The worth (or cost) of each outcome of a binary decision: `threshold.cost`, `evaluate.value`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    true_positive: float = Field(0.0, description="per true positive")
    false_positive: float = Field(0.0, description="per false positive")
    false_negative: float = Field(0.0, description="per false negative")
    true_negative: float = Field(0.0, description="per true negative")

    def per_row(self, c: dict[str, np.ndarray]) -> np.ndarray:
        """The matrix's total over the confusion counts at each candidate threshold, per row."""
        m = {k: float(getattr(self, k)) for k in OUTCOMES}
        total = (m["true_positive"] * c["tp"] + m["false_positive"] * c["fp"] + m["false_negative"] * c["fn"]
                 + m["true_negative"] * c["tn"])
        return total / max(c["tp"][0] + c["fp"][0] + c["fn"][0] + c["tn"][0], 1)


class ThresholdOption(Option):
    """Base of the threshold objectives: what the checks, the plan and the finishing step ask of any of them."""

    tuned: ClassVar[bool] = True  # chosen on out-of-fold probabilities (so it needs cross-validation)

    def check(self, task: str, cv_kind: str, value: ValueMatrix | None) -> list[Problem]:
        """Checks without data: a binary task, and out-of-fold predictions to tune on (never the fit's own)."""
        if self.objective == "none":
            return []
        problems = []
        if task in ("multiclass", "regression"):
            problems.append(Problem("threshold.objective", f"{self.objective!r} sets a binary decision threshold; "
                                                           f"task is {task}. Use threshold.objective: none."))
        if self.tuned and cv_kind == "none":
            problems.append(Problem("threshold.objective", f"{self.objective!r} is tuned on out-of-fold "
                                    "predictions, and cv.kind is 'none': tuning on the model's own training "
                                    "predictions would leak. Set cv.kind, or use objective: fixed."))
        return problems

    def plan_detail(self) -> str:
        """The threshold step's line in `mlengine plan`."""
        return f"tuned for {self.objective} on out-of-fold probabilities of the training split"

    # ------------------------------------------------------------------------------------------ tuning ---
    def scores(self, c: dict[str, np.ndarray], r: dict[str, np.ndarray], value: ValueMatrix | None) -> np.ndarray:
        """The objective at every candidate threshold (`c`: confusion counts, `r`: precision/recall/specificity
        of `mlengine.evaluate.threshold`); higher is better, -inf where a constraint is unmet. Every tuned
        objective overrides it; `none` and `fixed` scan nothing, so the scan never calls it for them."""
        raise NotImplementedError(self.objective)

    def reported(self, best: float, value: ValueMatrix | None) -> float:
        """The objective's value in metrics.json (`scores` is maximised; a minimised cost is reported as is)."""
        return best

    def unmet(self, r: dict[str, np.ndarray]) -> str:
        """The error when no threshold meets the objective's constraint."""
        return f"threshold.objective: {self.objective!r} is not met at any threshold on the out-of-fold predictions."

    def record_params(self, value: ValueMatrix | None) -> dict[str, Any]:
        """The option's own keys in the record."""
        return self.settings()

    # ----------------------------------------------------------------------------------- build and record ---
    def choose(self, oof_proba: np.ndarray | None, y_oof: Any, classes: list[Any], pos_label: Any,
               calibrated: bool, value: ValueMatrix | None) -> dict[str, Any]:
        """The threshold and what it achieves on the out-of-fold predictions (the record without its header)."""
        if oof_proba is None:
            raise DataError("threshold: a tuned threshold needs out-of-fold predictions; set cv.kind (not 'none').")
        y_bin = (np.asarray(y_oof, dtype=object) == pos_label).astype(int)
        score = oof_proba[:, classes.index(pos_label)]
        t, detail = tune_threshold(y_bin, score, self, value)
        return {"threshold": t, **detail,
                "chosen_on": f"out-of-fold {'calibrated ' if calibrated else ''}probabilities of {len(y_bin)} "
                             "training rows", **self.record_params(value)}

    def apply(self, model: Any, value: ValueMatrix | None, oof_proba: np.ndarray | None, y_oof: Any,
              classes: list[Any], pos_label: Any, calibrated: bool) -> tuple[Any, dict[str, Any]]:
        """The fitted model with its decision threshold (`build`), and the record for metrics.json `threshold`."""
        record = {"objective": self.objective, "positive_class": plain(pos_label),
                  **self.choose(oof_proba, y_oof, classes, pos_label, calibrated, value)}
        log.info("decision threshold %.4f (%s)", record["threshold"], record["chosen_on"])
        return self.build(model, record["threshold"], pos_label), record

    @staticmethod
    def build(model: Any, threshold: float, pos_label: Any) -> Any:
        """The fitted model inside a FixedThresholdClassifier (prefit: nothing is refitted); `predict` returns
        the positive class exactly when P(positive) >= threshold."""
        from sklearn.model_selection import FixedThresholdClassifier

        wrapped = FixedThresholdClassifier(estimator=model, threshold=float(threshold), pos_label=plain(pos_label),
                                           response_method="predict_proba")
        wrapped.estimator_ = model  # fitted as given; `predict` uses it and check_is_fitted sees it
        return wrapped

    @staticmethod
    def bundle(record: dict[str, Any]) -> dict[str, Any]:
        """The decision rule model.json states."""
        return {"value": record["threshold"], "positive_class": record["positive_class"],
                "objective": record["objective"], "applies_to": "predict_proba[:, positive]",
                "rule": "positive when probability >= value"}


# ------------------------------------------------------------------------------------------------ options ---
@THRESHOLD.register
class NoThreshold(ThresholdOption):
    summary: ClassVar[str] = "predict the most probable class (probability 0.5 for binary)"
    tuned: ClassVar[bool] = False
    objective: Literal["none"] = Field("none", description="binary decision threshold on P(positive), fixed or "
                                                           "tuned on out-of-fold predictions; predict applies it")


@THRESHOLD.register
class Fixed(ThresholdOption):
    summary: ClassVar[str] = "a fixed probability `value`"
    tuned: ClassVar[bool] = False
    objective: Literal["fixed"]
    value: float = Field(gt=0, lt=1, description="the threshold on P(positive), in (0, 1)")

    def plan_detail(self) -> str:
        return f"fixed at {self.value}"

    def choose(self, oof_proba: np.ndarray | None, y_oof: Any, classes: list[Any], pos_label: Any,
               calibrated: bool, value: ValueMatrix | None) -> dict[str, Any]:
        return {"threshold": float(self.value), "chosen_on": "fixed in the recipe"}


def _f_beta(c: dict[str, np.ndarray], b2: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num((1 + b2) * c["tp"] / ((1 + b2) * c["tp"] + b2 * c["fn"] + c["fp"]))


@THRESHOLD.register
class F1(ThresholdOption):
    summary: ClassVar[str] = "maximise F1 of the positive class"
    objective: Literal["f1"]

    def scores(self, c: dict[str, np.ndarray], r: dict[str, np.ndarray], value: ValueMatrix | None) -> np.ndarray:
        return _f_beta(c, 1.0)


@THRESHOLD.register
class FBeta(ThresholdOption):
    summary: ClassVar[str] = "maximise F-beta (`beta` > 1 favours recall)"
    objective: Literal["f_beta"]
    beta: float = Field(gt=0, description="weight of recall against precision, > 0 (> 1 favours recall)")

    def scores(self, c: dict[str, np.ndarray], r: dict[str, np.ndarray], value: ValueMatrix | None) -> np.ndarray:
        return _f_beta(c, float(self.beta) ** 2)


@THRESHOLD.register
class BalancedAccuracy(ThresholdOption):
    summary: ClassVar[str] = "maximise the mean of sensitivity and specificity"
    objective: Literal["balanced_accuracy"]

    def scores(self, c: dict[str, np.ndarray], r: dict[str, np.ndarray], value: ValueMatrix | None) -> np.ndarray:
        return (r["recall"] + r["specificity"]) / 2


@THRESHOLD.register
class Youden(ThresholdOption):
    summary: ClassVar[str] = "maximise Youden's J = sensitivity + specificity - 1 (same optimum as balanced_accuracy)"
    objective: Literal["youden"]

    def scores(self, c: dict[str, np.ndarray], r: dict[str, np.ndarray], value: ValueMatrix | None) -> np.ndarray:
        return r["recall"] + r["specificity"] - 1


@THRESHOLD.register
class PrecisionAtRecall(ThresholdOption):
    summary: ClassVar[str] = "maximise precision while recall >= `min_recall`"
    objective: Literal["precision_at_recall"]
    min_recall: float = Field(gt=0, le=1, description="recall to keep, in (0, 1]")

    def scores(self, c: dict[str, np.ndarray], r: dict[str, np.ndarray], value: ValueMatrix | None) -> np.ndarray:
        return np.where(r["recall"] >= self.min_recall, r["precision"] + 1e-9 * r["recall"], -np.inf)


@THRESHOLD.register
class RecallAtPrecision(ThresholdOption):
    summary: ClassVar[str] = "maximise recall while precision >= `min_precision`"
    objective: Literal["recall_at_precision"]
    min_precision: float = Field(gt=0, le=1, description="precision to keep, in (0, 1]")

    def scores(self, c: dict[str, np.ndarray], r: dict[str, np.ndarray], value: ValueMatrix | None) -> np.ndarray:
        # predicting nothing positive has no precision to keep (the scan counts it as 1): it never meets the bar
        met = (r["precision"] >= self.min_precision) & (c["tp"] + c["fp"] > 0)
        return np.where(met, r["recall"] + 1e-9 * r["precision"], -np.inf)

    def unmet(self, r: dict[str, np.ndarray]) -> str:
        best = float(np.max(r["precision"][1:])) if len(r["precision"]) > 1 else float("nan")
        return (f"threshold.min_precision: {self.min_precision} is not reached at any threshold on the out-of-fold "
                f"predictions (best precision {best:.3f}). Lower min_precision.")


@THRESHOLD.register
class Cost(ThresholdOption):
    summary: ClassVar[str] = ("minimise the expected cost of `cost` (true/false positive/negative), or maximise "
                              "evaluate.value")
    objective: Literal["cost"]
    cost: ValueMatrix | None = Field(None, description="cost of each outcome, minimised (default: evaluate.value, "
                                                       "maximised)")

    def check(self, task: str, cv_kind: str, value: ValueMatrix | None) -> list[Problem]:
        problems = super().check(task, cv_kind, value)
        if self.cost is None and value is None:
            problems.append(Problem("threshold.cost", "objective 'cost' needs threshold.cost (or evaluate.value)."))
        return problems

    def scores(self, c: dict[str, np.ndarray], r: dict[str, np.ndarray], value: ValueMatrix | None) -> np.ndarray:
        return -self.cost.per_row(c) if self.cost is not None else value.per_row(c)

    def reported(self, best: float, value: ValueMatrix | None) -> float:
        return -best if self.cost is not None else best

    def record_params(self, value: ValueMatrix | None) -> dict[str, Any]:
        return {"matrix": (self.cost or value).model_dump(),
                "matrix_kind": "cost (minimised)" if self.cost is not None else "value (maximised)"}


ThresholdConfig, THRESHOLD_FIELD = THRESHOLD.field("binary decision threshold on P(positive), fixed or tuned on "
                                                   "out-of-fold predictions of the training split")
