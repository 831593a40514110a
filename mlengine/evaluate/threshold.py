"""The decision threshold (binary): fixed, or tuned on out-of-fold probabilities for an objective.

Tuning never looks at the holdout: it scans the out-of-fold probabilities of the training split (calibrated ones
when calibration is on: the threshold then applies to the probabilities the saved model gives; binary calibrators
are monotone, so this picks the same out-of-fold cut as the raw scores would, on the calibrated scale). The chosen value
lives inside the model: the saved model is scikit-learn's FixedThresholdClassifier(estimator=<the fitted
pipeline>, threshold=t, pos_label=<positive class>, response_method="predict_proba"), outermost, so `predict`
returns the positive class exactly when P(positive) >= t, and predict_proba is the inner pipeline's.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from mlengine.errors import DataError
from mlengine.records import plain

log = logging.getLogger("mlengine")

THRESHOLD_OBJECTIVES = {
    "none": "predict the most probable class (probability 0.5 for binary)",
    "fixed": "a fixed probability `value`",
    "f1": "maximise F1 of the positive class",
    "f_beta": "maximise F-beta (`beta` > 1 favours recall)",
    "balanced_accuracy": "maximise the mean of sensitivity and specificity",
    "youden": "maximise Youden's J = sensitivity + specificity - 1 (same optimum as balanced_accuracy)",
    "precision_at_recall": "maximise precision while recall >= `min_recall`",
    "recall_at_precision": "maximise recall while precision >= `min_precision`",
    "cost": "minimise the expected cost of `cost` (true/false positive/negative), or maximise evaluate.value",
}
TUNED = frozenset(THRESHOLD_OBJECTIVES) - {"none", "fixed"}
_OUTCOMES = ("true_positive", "false_positive", "false_negative", "true_negative")


def counts_by_threshold(y: np.ndarray, score: np.ndarray) -> dict[str, np.ndarray]:
    """Confusion counts for every distinct threshold `score >= t` (descending), plus 'nothing positive' first."""
    order = np.argsort(-score, kind="stable")
    s, yb = score[order], y[order].astype(float)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last row of each distinct score
    tp, fp = np.cumsum(yb)[last], np.cumsum(1 - yb)[last]
    pos, neg = yb.sum(), len(yb) - yb.sum()
    thr = s[last]
    lower = np.r_[s[last][1:], -np.inf]
    return {"threshold": np.r_[np.inf, thr], "lower": np.r_[thr[0] if len(thr) else 1.0, lower],
            "tp": np.r_[0.0, tp], "fp": np.r_[0.0, fp], "fn": pos - np.r_[0.0, tp], "tn": neg - np.r_[0.0, fp]}


def _rates(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(c["tp"] + c["fp"] > 0, c["tp"] / (c["tp"] + c["fp"]), 1.0)
        recall = c["tp"] / np.maximum(c["tp"] + c["fn"], 1)
        specificity = c["tn"] / np.maximum(c["tn"] + c["fp"], 1)
    return {"precision": precision, "recall": recall, "specificity": specificity}


def objective_values(objective: str, c: dict[str, np.ndarray], section: Any, value: Any) -> np.ndarray:
    """The objective at every candidate threshold (higher is better; constraints give -inf where unmet)."""
    r = _rates(c)
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    with np.errstate(invalid="ignore", divide="ignore"):
        if objective in ("f1", "f_beta"):
            b2 = 1.0 if objective == "f1" else float(section.beta) ** 2
            return np.nan_to_num((1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp))
        if objective == "balanced_accuracy":
            return (r["recall"] + r["specificity"]) / 2
        if objective == "youden":
            return r["recall"] + r["specificity"] - 1
        if objective == "precision_at_recall":
            return np.where(r["recall"] >= section.min_recall, r["precision"] + 1e-9 * r["recall"], -np.inf)
        if objective == "recall_at_precision":
            return np.where(r["precision"] >= section.min_precision, r["recall"] + 1e-9 * r["precision"], -np.inf)
    if objective == "cost":
        cost, sign = (section.cost, -1.0) if section.cost is not None else (value, 1.0)
        m = {k: float(getattr(cost, k)) for k in _OUTCOMES}
        total = m["true_positive"] * tp + m["false_positive"] * fp + m["false_negative"] * fn + m["true_negative"] * tn
        return sign * total / max(tp[0] + fp[0] + fn[0] + tn[0], 1)  # per row
    raise ValueError(objective)


def tune_threshold(y_bin: np.ndarray, score: np.ndarray, section: Any, value: Any) -> tuple[float, dict[str, Any]]:
    """The best threshold on out-of-fold probabilities, and what it achieves there."""
    c = counts_by_threshold(y_bin, score)
    obj = objective_values(section.objective, c, section, value)
    if not np.isfinite(obj).any():
        best_p = float(np.max(_rates(c)["precision"][1:])) if len(obj) > 1 else float("nan")
        raise DataError(f"threshold.min_precision: {section.min_precision} is not reached at any threshold on the "
                        f"out-of-fold predictions (best precision {best_p:.3f}). Lower min_precision.")
    i = int(np.argmax(obj))
    if i == 0:  # predicting nothing positive: put the threshold just above the highest score
        t = float(np.nextafter(c["threshold"][1], np.inf)) if len(c["threshold"]) > 1 else 1.0
    else:  # midway to the next lower score: same out-of-fold labels, less sensitive to small score shifts
        lo = c["lower"][i]
        t = float(c["threshold"][i] if not np.isfinite(lo) else (c["threshold"][i] + lo) / 2)
    r = _rates(c)
    at = {"precision": float(r["precision"][i]), "recall": float(r["recall"][i]),
          "specificity": float(r["specificity"][i]),
          "predicted_positive_share": float((c["tp"][i] + c["fp"][i]) / len(y_bin))}
    obj_value = float(obj[i]) if section.objective != "cost" or section.cost is None else -float(obj[i])
    return t, {"objective_value": obj_value, "at_threshold": at, "curve": _curve(c, r, obj)}


def _curve(c: dict[str, np.ndarray], r: dict[str, np.ndarray], obj: np.ndarray, points: int = 50) -> list[dict]:
    idx = np.unique(np.linspace(1, len(obj) - 1, min(points, max(len(obj) - 1, 1))).astype(int))
    return [{"threshold": float(c["threshold"][i]), "precision": float(r["precision"][i]),
             "recall": float(r["recall"][i]), "objective": float(obj[i]) if np.isfinite(obj[i]) else None}
            for i in idx if i < len(obj)]


def wrap_threshold(model: Any, threshold: float, pos_label: Any) -> Any:
    """The fitted model inside a FixedThresholdClassifier (prefit: nothing is refitted)."""
    from sklearn.model_selection import FixedThresholdClassifier

    pos_label = plain(pos_label)
    wrapped = FixedThresholdClassifier(estimator=model, threshold=float(threshold), pos_label=pos_label,
                                       response_method="predict_proba")
    wrapped.estimator_ = model  # fitted as given; `predict` uses it and check_is_fitted sees it
    return wrapped


def set_threshold(model: Any, section: Any, value: Any, oof_proba: np.ndarray | None, y_oof: Any,
                  classes: list[Any], pos_label: Any, calibrated: bool) -> tuple[Any, dict[str, Any]]:
    """Apply the `threshold` section: returns (thresholded model, record for metrics.json)."""
    record: dict[str, Any] = {"objective": section.objective, "positive_class": plain(pos_label)}
    if section.objective == "fixed":
        t = float(section.value)
        record.update({"threshold": t, "chosen_on": "fixed in the recipe"})
    else:
        if oof_proba is None:
            raise DataError("threshold: a tuned threshold needs out-of-fold predictions; set cv.kind (not 'none').")
        y_bin = (np.asarray(y_oof, dtype=object) == pos_label).astype(int)
        score = oof_proba[:, classes.index(pos_label)]
        t, detail = tune_threshold(y_bin, score, section, value)
        record.update({"threshold": t, **detail,
                       "chosen_on": f"out-of-fold {'calibrated ' if calibrated else ''}probabilities of "
                                    f"{len(y_bin)} training rows"})
        for key in ("beta", "min_recall", "min_precision"):
            if getattr(section, key) is not None:
                record[key] = getattr(section, key)
        if section.objective == "cost":
            record["matrix"] = (section.cost or value).model_dump()
            record["matrix_kind"] = "cost (minimised)" if section.cost is not None else "value (maximised)"
    log.info("decision threshold %.4f (%s)", record["threshold"], record["chosen_on"])
    return wrap_threshold(model, record["threshold"], pos_label), record


def is_thresholded(model: Any) -> bool:
    from sklearn.model_selection import FixedThresholdClassifier

    return isinstance(model, FixedThresholdClassifier)
