"""The reference profile (`reference.json`): what drift compares new data with, built in one pass at training.

Numeric features: quantile bin edges of the TRAINING rows (10 bins by default; the outer bins are open-ended) with
their counts, the missing count, min/max, and a 51-point CDF sketch (values at every 2% quantile with the exact
share of training rows <= each) for the KS test. Categorical / boolean features: level counts; levels under 1% of
rows are pooled into one "other" count and kept only as truncated sha256 hashes (to tell rare-but-seen levels
from unseen ones without storing their text). The model's out-of-fold scores are profiled the same way. No raw
row is stored.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

VERSION = 1
RARE_SHARE = 0.01
MAX_LEVELS = 50
MAX_RARE_HASHES = 2000
SKETCH_POINTS = 51


def level_hash(value: Any) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:16]


def numeric_profile(values: Any, bins: int = 10) -> dict[str, Any]:
    """Quantile bins, missing count, range and CDF sketch of one numeric column."""
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    missing = int(np.isnan(x).sum())
    x = np.sort(x[~np.isnan(x)])
    out: dict[str, Any] = {"kind": "numeric", "rows": int(len(x) + missing), "missing": missing}
    if len(x) == 0:
        return {**out, "edges": [], "counts": [0], "min": None, "max": None, "sketch": [], "sketch_cdf": []}
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))  # inner edges
    counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
    sketch = np.unique(np.quantile(x, np.linspace(0, 1, SKETCH_POINTS)))
    cdf = np.searchsorted(x, sketch, side="right") / len(x)
    return {**out, "edges": [float(e) for e in edges], "counts": [int(c) for c in counts],
            "min": float(x[0]), "max": float(x[-1]), "sketch": [float(v) for v in sketch],
            "sketch_cdf": [round(float(c), 8) for c in cdf]}


def categorical_profile(values: Any) -> dict[str, Any]:
    """Level counts (rare levels pooled and hashed) and the missing count of one categorical column."""
    s = pd.Series(values)
    missing = int(s.isna().sum())
    counts = s.dropna().astype(str).value_counts(sort=False)
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")  # deterministic order
    n = int(counts.sum())
    keep = counts[(counts >= max(1.0, RARE_SHARE * n))].iloc[:MAX_LEVELS]
    rare = counts.drop(keep.index)
    hashes = sorted(level_hash(v) for v in rare.index[:MAX_RARE_HASHES])
    return {"kind": "categorical", "rows": n + missing, "missing": missing,
            "levels": {str(k): int(v) for k, v in keep.items()}, "other": int(rare.sum()),
            "rare_hashes": hashes, "rare_truncated": bool(len(rare) > MAX_RARE_HASHES)}


def build_reference(X: pd.DataFrame, columns: Any, *, task: str, classes: list[Any], pos_label: Any,
                    oof_pred: np.ndarray | None = None, oof_proba: np.ndarray | None = None,
                    validated: np.ndarray | None = None, bins: int = 10) -> dict[str, Any]:
    """The profile of the training rows X (and of the out-of-fold predictions, when cross-validated)."""
    features: dict[str, Any] = {}
    for col in columns.numeric:
        features[col] = numeric_profile(X[col], bins)
    for col in columns.boolean:
        features[col] = {**categorical_profile(X[col]), "type": "boolean"}  # typed as 1.0 / 0.0
    for col in columns.categorical:
        features[col] = categorical_profile(X[col])
    ref: dict[str, Any] = {"version": VERSION, "rows": int(len(X)), "bins": bins, "task": task,
                           "classes": [str(c) for c in classes], "features": features,
                           "skipped": {c: "datetime columns are not profiled" for c in columns.datetime},
                           "prediction": None}
    if oof_pred is not None:
        mask = validated if validated is not None else np.ones(len(oof_pred), dtype=bool)
        ref["prediction"] = prediction_profile(oof_pred[mask], None if oof_proba is None else oof_proba[mask],
                                               task, classes, pos_label, bins)
    return ref


def prediction_profile(pred: np.ndarray, proba: np.ndarray | None, task: str, classes: list[Any], pos_label: Any,
                       bins: int = 10) -> dict[str, Any]:
    """Score distribution (binary: positive-class probability; regression: the value) and predicted class rates."""
    out: dict[str, Any] = {}
    if task == "binary" and proba is not None:
        out["score"] = numeric_profile(proba[:, list(classes).index(pos_label)], bins)
        out["score_of"] = f"P({pos_label})"
    elif task == "regression":
        out["score"] = numeric_profile(np.asarray(pred, dtype=float), bins)
        out["score_of"] = "predicted value"
    if task != "regression":
        out["classes"] = categorical_profile(pd.Series(pred).astype(str))
    return out
