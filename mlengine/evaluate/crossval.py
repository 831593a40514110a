"""Cross-validation of a whole pipeline: every fitted step is refitted inside each training fold.

Returns per-fold scores for every metric and the out-of-fold predictions (which later steps such as calibration
and threshold tuning fit on, so they never see a row's own fit).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import raise_if_interrupted
from mlengine.evaluate.metrics import METRICS, score_all
from mlengine.sections.cv import CVSpec

log = logging.getLogger("mlengine")


@dataclass
class CVResult:
    scores: dict[str, list[float]]
    oof_pred: np.ndarray  # per training row (first repeat); NaN/None where a row was never validated
    oof_proba: np.ndarray | None  # classification: (n, n_classes)
    fold_seconds: list[float] = field(default_factory=list)
    validated: np.ndarray | None = None  # bool mask of rows that got an out-of-fold prediction
    models: list[Any] = field(default_factory=list)  # fitted fold pipelines (first repeat), when kept
    folds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # their (train, validation) rows
    best_iterations: list[int] = field(default_factory=list)  # per fold, of an early-stopped booster

    def summary(self) -> dict[str, dict[str, Any]]:
        return {m: {"mean": float(np.mean(v)), "std": float(np.std(v)), "folds": [float(x) for x in v]}
                for m, v in self.scores.items()}


def split_arg(cv: CVSpec, groups: pd.Series | None, times: pd.Series | None) -> Any:
    if cv.uses_time:
        return None if times is None else times.to_numpy()
    if cv.uses_groups:
        return None if groups is None else groups.to_numpy()
    return None


def predict_all(model: Any, X: pd.DataFrame, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels (or values) and, for classification, probabilities in model.classes_ order.

    Labels come from the probabilities in one pass: the most probable class, or the model's own decision rule
    when it has one (`predict_from_proba`). A thresholded model (scikit-learn's FixedThresholdClassifier) gives
    its labels by its own `predict`, i.e. by its threshold, never by argmax.
    """
    from mlengine.evaluate.threshold import is_thresholded
    from mlengine.runs.determinism import ordered_prediction

    with ordered_prediction(model):  # forests: sum tree outputs in a fixed order (byte-identical reruns)
        if task == "regression":
            return np.asarray(model.predict(X), dtype=float), None
        proba = np.asarray(model.predict_proba(X), dtype=float)
        thresholded = np.asarray(model.predict(X)) if is_thresholded(model) else None
    decide = getattr(model, "predict_from_proba", None)
    if thresholded is not None:
        pred = thresholded
    else:
        pred = np.asarray(decide(proba)) if decide else np.asarray(model.classes_)[np.argmax(proba, axis=1)]
    return pred, proba


class FoldDeadline(Exception):
    """Cross-validation stopped because a deadline (a search's time budget) passed or would pass in the next fold.

    `partial` is the CVResult of the folds that finished before it (None when none did)."""

    partial: CVResult | None = None


def clock() -> float:
    """The clock deadlines are checked against (time.time); one place, so every check agrees."""
    return time.time()


def cross_validate(pipeline: Any, X: pd.DataFrame, y: pd.Series, cv: CVSpec, *, task: str, metrics: list[str],
                   primary: str, classes: list[Any], pos_label: Any, groups: pd.Series | None = None,
                   times: pd.Series | None = None, label: str = "", deadline: float | None = None,
                   fold_log_level: int = logging.INFO, keep_models: bool = False,
                   after_fold: Callable[[int, int, dict[str, list[float]]], None] | None = None,
                   before_fold: Callable[[int, int, list[float]], None] | None = None,
                   fit_params: dict[str, Any] | None = None) -> CVResult | None:
    """Fit and score `pipeline` on each fold; None when cv.kind is 'none'.

    `deadline` (a `clock()` value) is checked before each fold: past it, FoldDeadline is raised, carrying the
    finished folds as `partial`. `before_fold(i, n_folds, fold seconds so far)` may raise FoldDeadline too (a fold
    that would end past the deadline), and so may a fit callback passed in `fit_params` (keyword arguments of
    every fold's `fit`, e.g. a LightGBM callback that checks the deadline between boosting rounds). `keep_models`
    keeps the fitted fold pipelines of the first repeat (calibration and selection records use them).
    `after_fold(i, n_folds, scores so far)` runs after each fold; a search uses it to stop a losing trial early.
    """
    from sklearn.base import clone

    splitter = cv.splitter()
    if splitter is None:
        return None
    n = len(y)
    scores: dict[str, list[float]] = {m: [] for m in metrics}
    oof_pred = np.empty(n, dtype=object if task != "regression" else float)
    oof_pred[:] = None if task != "regression" else np.nan
    oof_proba = np.full((n, len(classes)), np.nan) if task != "regression" else None
    validated = np.zeros(n, dtype=bool)
    seconds: list[float] = []
    models: list[Any] = []
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    iterations: list[int] = []
    folds = list(splitter.split(X, y, split_arg(cv, groups, times)))
    try:
        for i, (tr, va) in enumerate(folds, 1):
            if deadline is not None and clock() > deadline:
                raise FoldDeadline(f"deadline passed after {i - 1} of {len(folds)} folds")
            raise_if_interrupted()
            if before_fold is not None:
                before_fold(i, len(folds), seconds)
            t = time.perf_counter()
            est = clone(pipeline).fit(X.iloc[tr], y.iloc[tr], **(fit_params or {}))
            if getattr(est, "best_iteration_", None) is not None:  # model.early_stopping
                iterations.append(int(est.best_iteration_))
            pred, proba = predict_all(est, X.iloc[va], task)
            if proba is not None:
                proba = _align(proba, list(est.classes_), classes)
            fold_scores = score_all(metrics, y.iloc[va].to_numpy(), pred=pred, proba=proba, classes=classes,
                                    pos_label=pos_label)
            for m, v in fold_scores.items():
                scores[m].append(v)
            if i <= cv.folds:  # first repeat only
                oof_pred[va] = pred
                if oof_proba is not None:
                    oof_proba[va] = proba
                validated[va] = True
                if keep_models:
                    models.append(est)
                    kept.append((tr, va))
            seconds.append(time.perf_counter() - t)
            log.log(fold_log_level, "%sfold %d/%d: %s=%.4f (%.1fs)", label, i, len(folds), primary, fold_scores[primary],
                    seconds[-1])
            if after_fold is not None:
                after_fold(i, len(folds), scores)
    except FoldDeadline as exc:
        if seconds:
            exc.partial = CVResult({m: list(v) for m, v in scores.items()}, oof_pred, oof_proba, seconds, validated,
                                   models, kept, iterations[:len(seconds)])
        raise
    return CVResult(scores, oof_pred, oof_proba, seconds, validated, models, kept, iterations)


def _align(proba: np.ndarray, have: list[Any], want: list[Any]) -> np.ndarray:
    """Reorder (and zero-fill) probability columns to the full class list (a fold may miss a rare class)."""
    if have == want:
        return proba
    out = np.zeros((proba.shape[0], len(want)))
    for j, c in enumerate(have):
        out[:, want.index(c)] = proba[:, j]
    return out


def direction(metric: str) -> str:
    return "higher is better" if METRICS[metric].greater_is_better else "lower is better"
