"""Probability calibration fitted on out-of-fold predictions of the whole training pipeline.

The calibrator never sees the holdout, nor a row scored by a model that was fitted on it: each training row's
score comes from the CV fold model that did not fit it (the whole pipeline, preprocessing and sampler included,
was refitted per fold). Like scikit-learn's CalibratedClassifierCV(ensemble=False), the scores are the final
estimator's `decision_function` when it has one (LightGBM 4.7 does: the raw margin), else `predict_proba`.

Saved structure: the refitted pipeline's last step becomes a fitted `sklearn.calibration.CalibratedClassifierCV`
(`ensemble=False`, one `calibrated_classifiers_` entry) around the refitted final estimator, i.e.
`Pipeline([..., ("model", CalibratedClassifierCV(estimator=<model>, method=..., ensemble=False))])`. It is built
with scikit-learn's own `_fit_calibrator`, so predict_proba is scikit-learn's code path exactly; only the scores
it was fitted on differ (whole-pipeline out-of-fold instead of last-step cross_val_predict).

The methods, their keys, checks, wrapper and record are their option classes in `mlengine.sections.calibration`;
this module is the fitting they share and the before/after figures (Brier score, log loss, reliability curve).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from mlengine.errors import DataError

log = logging.getLogger("mlengine")

RESPONSE_METHODS = ["decision_function", "predict_proba"]


def _replay(classes: np.ndarray, response: str) -> Any:
    """A stand-in for the final estimator that returns precomputed scores, so scikit-learn's calibrated-classifier
    code maps out-of-fold scores to calibrated probabilities exactly as it will map new rows."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Replay(ClassifierMixin, BaseEstimator):
        pass

    def scores(X: Any) -> Any:
        return X

    # scikit-learn picks the positive-class column of predict_proba by the method's __name__: a bare lambda
    # ("<lambda>") would hand the calibrator both columns and it would calibrate P(classes_[0]) instead
    scores.__name__ = scores.__qualname__ = response
    replay = Replay()
    replay.classes_ = classes
    setattr(replay, response, scores)
    return replay


def oof_scores(cv_result: Any, X: Any, classes: list[Any], final: Any = None,
               oof_classes: list[Any] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Out-of-fold scores of the fold models (first repeat): (scores, row mask, response method used).

    Binary: scores of shape (n, 1) for classes_[1]; multiclass: (n, n_classes). Without fold models (a search
    keeps only out-of-fold predictions) and when `final` has no decision_function, the response is predict_proba,
    which is exactly the stored out-of-fold probabilities (columns in `oof_classes` order): no refit needed.
    """
    from mlengine.compat import get_response_values

    if cv_result and not cv_result.models and cv_result.oof_proba is not None and final is not None \
            and not hasattr(final, "decision_function"):
        from mlengine.evaluate.crossval import _align

        mask = np.asarray(cv_result.validated, dtype=bool)
        proba = _align(cv_result.oof_proba[mask], list(oof_classes or classes), list(classes))
        return (proba[:, [1]] if len(classes) == 2 else proba), mask, "predict_proba"
    if not cv_result or not cv_result.models:
        raise DataError("calibration: needs the cross-validation fold models; set cv.kind (not 'none').")
    n, k = len(X), len(classes)
    out = np.full((n, 1 if k == 2 else k), np.nan)
    mask = np.zeros(n, dtype=bool)
    used = ""
    for est, (_, va) in zip(cv_result.models, cv_result.folds, strict=True):
        if list(est.classes_) != list(classes):
            missing = [c for c in classes if c not in list(est.classes_)]
            raise DataError(f"calibration: a CV training fold has no rows of class(es) {missing}, so its scores "
                            "cannot be calibrated. Use a stratified cv.kind or fewer folds.")
        scores, _, used = get_response_values(est, X.iloc[va], RESPONSE_METHODS)
        out[va] = np.asarray(scores, dtype=float).reshape(len(va), -1)
        mask[va] = True
    return out[mask], mask, used


def _probabilities(calibrated: Any, scores: np.ndarray, classes: np.ndarray, response: str, k: int) -> np.ndarray:
    """Calibrated probabilities for precomputed scores, through scikit-learn's own _CalibratedClassifier."""
    from mlengine.compat import calibrated_classifier

    replay_in = scores
    if response == "predict_proba" and k == 2:
        replay_in = np.column_stack([1 - scores[:, 0], scores[:, 0]])
    elif response == "decision_function" and k == 2:
        replay_in = scores[:, 0]
    replay = _replay(classes, response)
    return calibrated_classifier(replay, calibrated.calibrators, classes, calibrated.method).predict_proba(replay_in)


def calibrate(pipeline: Any, cv_result: Any, X_tr: Any, y_tr: Any, spec: Any,
              classes: list[Any]) -> tuple[Any, dict[str, Any], np.ndarray, np.ndarray]:
    """Wrap the fitted pipeline's last step in a fitted CalibratedClassifierCV; `spec` is the typed calibration
    option (mlengine.sections.calibration: its method, wrapper and record).

    Returns (new pipeline, record, calibrated out-of-fold probabilities, their row mask).
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import LabelEncoder

    from mlengine.compat import fit_calibrator

    final = pipeline.steps[-1][1]
    cls_arr = np.asarray(final.classes_)
    scores, mask, response = oof_scores(cv_result, X_tr, list(cls_arr), final, classes)
    n_folds = len(cv_result.models) or len(next(iter(cv_result.scores.values())))
    source = (f"{len(cv_result.models)} fold models of the whole pipeline" if cv_result.models
              else "the search's out-of-fold predictions")
    y = np.asarray(y_tr)[mask]
    y_fit = LabelEncoder().fit(cls_arr).transform(y) if spec.encoded_labels else y
    fitted = fit_calibrator(final, scores, y_fit, cls_arr, spec.method)
    wrapper = spec.build(final, n_folds)
    wrapper.calibrated_classifiers_ = [fitted]
    wrapper.classes_ = cls_arr
    for attr in ("n_features_in_", "feature_names_in_"):
        if hasattr(final, attr):
            setattr(wrapper, attr, getattr(final, attr))
    calibrated = Pipeline([*pipeline.steps[:-1], ("model", wrapper)])
    oof_after = _probabilities(fitted, scores, cls_arr, response, len(cls_arr))
    record = spec.record(response, int(mask.sum()), n_folds, source)
    log.info("calibration %s fitted on out-of-fold %s of %d training rows", spec.method, response, int(mask.sum()))
    return calibrated, record, oof_after, mask


# ------------------------------------------------------------------------------------------------ report ---
def proba_quality(y: Any, proba: np.ndarray, classes: list[Any], pos_label: Any) -> dict[str, float]:
    """Brier score and log loss (the metrics registry's definitions)."""
    from mlengine.evaluate.metrics import METRICS

    kw = {"proba": proba, "classes": classes, "pos_label": pos_label}
    return {m: METRICS[m].score(np.asarray(y), **kw) for m in ("brier", "log_loss")}


def reliability(y: Any, proba: np.ndarray, classes: list[Any], pos_label: Any, bins: int = 10) -> dict[str, Any]:
    """Reliability-curve data on equal-width probability bins.

    Binary: predicted probability of the positive class vs the observed positive rate. Multiclass: the top
    class's probability (confidence) vs how often the top class is right.
    """
    y = np.asarray(y, dtype=object)
    if len(classes) == 2:
        p = proba[:, classes.index(pos_label)]
        hit = (y == pos_label).astype(float)
        name = pos_label.item() if isinstance(pos_label, np.generic) else pos_label
        what = f"P({name!r}) vs observed rate of {name!r}"
    else:
        top = np.argmax(proba, axis=1)
        p = proba[np.arange(len(y)), top]
        hit = (np.asarray(classes, dtype=object)[top] == y).astype(float)
        what = "top-class confidence vs accuracy"
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    points = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            points.append({"bin": [float(edges[b]), float(edges[b + 1])], "count": int(sel.sum()),
                           "mean_predicted": float(p[sel].mean()), "observed": float(hit[sel].mean())})
    weights = np.array([q["count"] for q in points], dtype=float)
    gaps = np.array([abs(q["mean_predicted"] - q["observed"]) for q in points])
    ece = float((weights * gaps).sum() / weights.sum()) if len(points) else float("nan")
    return {"what": what, "bins": bins, "expected_calibration_error": ece, "points": points}
