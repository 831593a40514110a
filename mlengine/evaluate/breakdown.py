"""Holdout breakdowns for metrics.json: per-class precision / recall / F1 (classification) and a residual summary
(regression, on the original scale)."""

from __future__ import annotations

from typing import Any

import numpy as np


def per_class(y_true: Any, pred: Any, classes: list[Any]) -> dict[str, dict[str, float]]:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(np.asarray(y_true), np.asarray(pred),
                                                 labels=classes, zero_division=0)
    return {str(c): {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, c in enumerate(classes)}


def residuals(y_true: Any, pred: Any) -> dict[str, Any]:
    """Residual = true - predicted."""
    res = np.asarray(y_true, dtype=float) - np.asarray(pred, dtype=float)
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    return {"definition": "true - predicted", "mean": float(res.mean()), "std": float(res.std()),
            "mean_absolute": float(np.abs(res).mean()), "max_absolute": float(np.abs(res).max()),
            "quantiles": {str(q): float(v) for q, v in zip(qs, np.quantile(res, qs), strict=True)},
            "share_over_predicted": float(np.mean(res < 0))}
