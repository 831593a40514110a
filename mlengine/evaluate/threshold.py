"""The decision-threshold scan (binary): confusion counts at every distinct threshold on out-of-fold probabilities,
and the threshold that maximises an objective there.

What each `threshold.objective` maximises, its keys and its checks are its option class in
`mlengine.sections.threshold`; this module is the scan they share. Tuning never looks at the holdout: it scans the
out-of-fold probabilities of the training split (calibrated ones when calibration is on: the threshold then applies
to the probabilities the saved model gives; binary calibrators are monotone, so this picks the same out-of-fold cut
as the raw scores would, on the calibrated scale). The saved model is scikit-learn's
FixedThresholdClassifier(estimator=<the fitted pipeline>, threshold=t, pos_label=<positive class>,
response_method="predict_proba"), outermost, so `predict` returns the positive class exactly when P(positive) >= t,
and predict_proba is the inner pipeline's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.errors import DataError


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


def rates(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Precision (1 where nothing is predicted positive), recall and specificity at each candidate threshold."""
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(c["tp"] + c["fp"] > 0, c["tp"] / (c["tp"] + c["fp"]), 1.0)
        recall = c["tp"] / np.maximum(c["tp"] + c["fn"], 1)
        specificity = c["tn"] / np.maximum(c["tn"] + c["fp"], 1)
    return {"precision": precision, "recall": recall, "specificity": specificity}


def tune_threshold(y_bin: np.ndarray, score: np.ndarray, objective: Any, value: Any) -> tuple[float, dict[str, Any]]:
    """The best threshold on out-of-fold probabilities, and what it achieves there. `objective` is a typed option
    of `mlengine.sections.threshold` (its `scores` at every candidate threshold are maximised); `value` is the
    recipe's evaluate.value matrix (or None)."""
    c = counts_by_threshold(y_bin, score)
    r = rates(c)
    obj = objective.scores(c, r, value)
    if not np.isfinite(obj).any():
        raise DataError(objective.unmet(r))
    i = int(np.argmax(obj))
    if i == 0:  # predicting nothing positive: put the threshold just above the highest score
        t = float(np.nextafter(c["threshold"][1], np.inf)) if len(c["threshold"]) > 1 else 1.0
    else:  # midway to the next lower score: same out-of-fold labels, less sensitive to small score shifts
        lo = c["lower"][i]
        t = float(c["threshold"][i] if not np.isfinite(lo) else (c["threshold"][i] + lo) / 2)
    at = {"precision": float(r["precision"][i]), "recall": float(r["recall"][i]),
          "specificity": float(r["specificity"][i]),
          "predicted_positive_share": float((c["tp"][i] + c["fp"][i]) / len(y_bin))}
    return t, {"objective_value": objective.reported(float(obj[i]), value), "at_threshold": at,
               "curve": _curve(c, r, obj)}


def _curve(c: dict[str, np.ndarray], r: dict[str, np.ndarray], obj: np.ndarray, points: int = 50) -> list[dict]:
    idx = np.unique(np.linspace(1, len(obj) - 1, min(points, max(len(obj) - 1, 1))).astype(int))
    return [{"threshold": float(c["threshold"][i]), "precision": float(r["precision"][i]),
             "recall": float(r["recall"][i]), "objective": float(obj[i]) if np.isfinite(obj[i]) else None}
            for i in idx if i < len(obj)]


def is_thresholded(model: Any) -> bool:
    from sklearn.model_selection import FixedThresholdClassifier

    return isinstance(model, FixedThresholdClassifier)
