"""Explainability: permutation importance on the holdout, and SHAP values for LightGBM models.

Permutation importance shuffles one raw input column at a time on a seeded sample of holdout rows and measures how
much the run's primary metric gets worse (positive = the model relies on the column). It works for every model
and speaks in raw input columns, so it is what `metrics.json["explain"]["top_features"]` lists.

SHAP values come from LightGBM's own exact TreeSHAP (`predict(..., pred_contrib=True)`) on the model's inputs
after preprocessing (so datetime parts such as `pickup__hour` appear on their own). Other models get permutation
importance only (the `shap` package would add TreeSHAP for scikit-learn trees; it is not a dependency).

Results: `metrics.json["explain"]` (`shap_skipped` / `permutation_skipped`: why a view is missing, for the report)
and `shap_values.parquet` (a sample of rows: `shap::<feature>` and `value::<feature>` columns for the top
features) for the report's SHAP summary plot. A decision threshold (FixedThresholdClassifier) leaves the
probabilities alone, so a thresholded LightGBM model is explained; a calibrated one is not (see `shap_skipped`).
A failure here is recorded as `explain.error` and never fails the run: the model is already trained and evaluated.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from mlengine.stages import stage

log = logging.getLogger("mlengine")

SHAP_FILE = "shap_values.parquet"


def permutation_importance(model: Any, X: pd.DataFrame, y: pd.Series, *, task: str, metric: str,
                           classes: list[Any], pos_label: Any, repeats: int, seed: int) -> list[dict[str, Any]]:
    """Mean and std drop of `metric` when each raw column is shuffled (sorted, largest first).

    The `repeats` shuffles of one column are scored from a single prediction over the stacked copies: one model
    call per column instead of one per shuffle (the per-call cost dominates on small samples).
    """
    from mlengine.evaluate.crossval import predict_all
    from mlengine.evaluate.metrics import METRICS

    m = METRICS[metric]
    sign = 1.0 if m.greater_is_better else -1.0
    truth = np.asarray(y)
    n = len(X)

    def score(pred: np.ndarray, proba: np.ndarray | None, part: slice = slice(None)) -> float:
        return sign * m.score(truth, pred=pred[part], proba=None if proba is None else proba[part],
                              classes=classes, pos_label=pos_label)

    base = score(*predict_all(model, X, task))
    rng = np.random.default_rng(seed)
    stacked = pd.concat([X] * repeats, ignore_index=True)
    out = []
    for col in X.columns:
        original = stacked[col]
        values = X[col].to_numpy()
        shuffled = np.concatenate([values[rng.permutation(n)] for _ in range(repeats)])
        stacked[col] = pd.Series(shuffled, dtype=X[col].dtype)
        pred, proba = predict_all(model, stacked, task)
        drops = np.array([base - score(pred, proba, slice(r * n, (r + 1) * n)) for r in range(repeats)])
        stacked[col] = original
        out.append({"feature": str(col), "mean": float(drops.mean()), "std": float(drops.std())})
    return sorted(out, key=lambda r: -r["mean"])


def lightgbm_shap(model: Any, X: pd.DataFrame, task: str, classes: list[Any], pos_label: Any
                  ) -> tuple[np.ndarray, pd.DataFrame] | None:
    """(SHAP values, model inputs) for a Pipeline ending in a LightGBM model; None for other models.

    Binary: values for the positive class (log-odds); regression: the prediction's units; multiclass: an array
    (rows, classes, features) of per-class values.
    """
    model = _unthresholded(model)
    steps = getattr(model, "steps", None)
    if not steps:
        return None
    est = _unthresholded(steps[-1][1])
    if not type(est).__module__.startswith("lightgbm"):
        return None
    head = model[:-1]
    Xt = head.transform(X)
    names = [str(n) for n in head.get_feature_names_out()]
    inputs = pd.DataFrame(np.asarray(Xt, dtype=float), columns=names, index=X.index)
    contrib = np.asarray(est.predict(inputs if hasattr(est, "feature_names_in_") else inputs.to_numpy(),
                                     pred_contrib=True))
    k = len(names)
    if task == "multiclass":
        return contrib.reshape(len(X), -1, k + 1)[:, :, :k], inputs
    values = contrib[:, :k]
    if task == "binary" and list(est.classes_).index(pos_label) == 0:
        values = -values  # LightGBM explains classes_[1]; the report speaks of the positive class
    return values, inputs


def _unthresholded(est: Any) -> Any:
    """The model inside a FixedThresholdClassifier (the saved model wraps the pipeline in one when a threshold is
    set; the threshold only decides labels, so the probabilities and their SHAP values are the inner model's)."""
    if type(est).__name__ == "FixedThresholdClassifier" and hasattr(est, "estimator_"):
        return est.estimator_
    return est


def shap_skipped(model: Any) -> str:
    """Why `lightgbm_shap` gives no values for this model: one sentence for the report."""
    model = _unthresholded(model)
    steps = getattr(model, "steps", None)
    if not steps:
        return f"the model is a {type(model).__name__}, not a pipeline ending in a LightGBM model"
    est = _unthresholded(steps[-1][1])
    kind = type(est).__name__
    if kind == "CalibratedClassifierCV":
        inner = getattr(est, "estimator", None)
        method = getattr(est, "method", "")
        if inner is not None and type(inner).__module__.startswith("lightgbm"):
            return (f"the LightGBM model is wrapped in a {method} calibration (CalibratedClassifierCV): TreeSHAP "
                    "explains LightGBM's raw score, not the calibrated probability the saved model outputs; "
                    "permutation importance is measured on the saved, calibrated model")
        return f"the model is a calibrated {type(inner).__name__}; SHAP here comes from LightGBM's TreeSHAP only"
    if kind == "TransformedTargetRegressor":
        inner = getattr(est, "regressor_", getattr(est, "regressor", None))
        return (f"the {type(inner).__name__} model predicts the transformed target (target.transform, "
                "TransformedTargetRegressor): its SHAP values would be in those units, not the target's; "
                "permutation importance is measured on the saved model's predictions in the target's units")
    if kind.startswith(("Voting", "Stacking")):
        return (f"the model is an ensemble ({kind}); SHAP here comes from LightGBM's own TreeSHAP for a single "
                "LightGBM model, so the ensemble gets permutation importance only")
    return (f"the model is a {kind}; SHAP here comes from LightGBM's own TreeSHAP (the shap package is not a "
            "dependency), so other models get permutation importance only")


def explain(ctx: Any) -> dict[str, Any]:
    """Permutation importance and (LightGBM) SHAP for the fitted model; writes shap_values.parquet."""
    settings = ctx.recipe.report
    data, plan = ctx.data, ctx.plan
    out: dict[str, Any] = {}
    rng = np.random.default_rng(plan.seed)
    if ctx.X_te is not None and len(ctx.X_te):
        X, y = ctx.X_te, ctx.y_te
        source = "holdout"
    else:
        X, y = ctx.X_tr, ctx.y_tr
        source = "training split (no holdout)"
    take = np.sort(rng.choice(len(X), size=min(len(X), settings.importance_rows), replace=False))
    X, y = X.iloc[take], y.iloc[take]
    if source == "holdout":
        t = time.perf_counter()
        feats = permutation_importance(ctx.model, X, y, task=data.task, metric=plan.primary_metric,
                                       classes=data.classes, pos_label=data.pos_label,
                                       repeats=settings.importance_repeats, seed=plan.seed)
        out["permutation"] = {"metric": plan.primary_metric, "rows": int(len(X)), "source": source,
                              "repeats": settings.importance_repeats, "seconds": round(time.perf_counter() - t, 3),
                              "features": feats}
        # features the model relies on: shuffling them makes the metric worse (ties at zero are not "top")
        out["top_features"] = [f["feature"] for f in feats if f["mean"] > 0][: settings.top_features]
    shap = lightgbm_shap(ctx.model, X, data.task, data.classes, data.pos_label)
    if shap is not None:
        values, inputs = shap
        per_feature = np.abs(values).mean(axis=0)
        if values.ndim == 3:  # multiclass: mean |SHAP| per class
            by_class = per_feature  # (classes, features)
            per_feature = by_class.sum(axis=0)
        order = np.argsort(-per_feature)
        shap_rec: dict[str, Any] = {
            "method": "lightgbm pred_contrib (TreeSHAP)", "rows": int(len(X)), "source": source,
            "units": {"binary": f"log-odds of class {data.pos_label}", "multiclass": "log-odds, summed over "
                      "classes", "regression": "target units"}[data.task],
            "features": [{"feature": inputs.columns[j], "mean_abs": float(per_feature[j])} for j in order]}
        if values.ndim == 3:
            shap_rec["by_class"] = {str(c): [float(v) for v in by_class[i]] for i, c in enumerate(data.classes)}
            shap_rec["feature_order"] = list(inputs.columns)
        else:
            top = order[: settings.top_features]
            sample = {f"shap::{inputs.columns[j]}": values[:, j] for j in top}
            sample.update({f"value::{inputs.columns[j]}": inputs.iloc[:, j].to_numpy() for j in top})
            pd.DataFrame(sample).to_parquet(ctx.rd.file(SHAP_FILE), index=False)
            shap_rec["file"] = SHAP_FILE
        out["shap"] = shap_rec
        out.setdefault("top_features", [inputs.columns[j] for j in order if per_feature[j] > 0]
                       [: settings.top_features])
    else:
        out["shap_skipped"] = shap_skipped(ctx.model)
    if source != "holdout":
        out["permutation_skipped"] = ("no holdout (split.holdout: 0): permutation importance is measured on "
                                      "holdout rows only")
    return out


@stage(reads=("data", "plan", "model", "X_te", "y_te"))
def stage_explain(ctx: Any) -> None:
    """Record feature importance in metrics.json (`explain`); never fails the run."""
    if not ctx.recipe.report.explain or ctx.model is None:
        return
    t = time.perf_counter()
    try:
        ctx.report["explain"] = explain(ctx)
    except Exception as exc:  # the model is trained and scored: an importance failure must not lose it
        log.warning("explain: feature importance failed: %s: %s", type(exc).__name__, exc)
        ctx.report["explain"] = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        top = ctx.report["explain"].get("top_features", [])[:5]
        log.info("explain: top features %s (%.1fs)", ", ".join(top), time.perf_counter() - t)
    from mlengine.evaluate.diagnostics import add_partial_dependence

    add_partial_dependence(ctx)  # partial dependence of the top features (metrics.json diagnostics); never fails
