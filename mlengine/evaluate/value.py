"""Business value: the value of each outcome (true/false positive/negative) turned into expected value per 1,000
predictions on the holdout, for the model at its decision threshold and for each baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

OUTCOMES = ("true_positive", "false_positive", "false_negative", "true_negative")


def outcome_counts(y_true: Any, pred: Any, pos_label: Any) -> dict[str, int]:
    y = np.asarray(y_true, dtype=object) == pos_label
    p = np.asarray(pred, dtype=object) == pos_label
    return {"true_positive": int(np.sum(y & p)), "false_positive": int(np.sum(~y & p)),
            "false_negative": int(np.sum(y & ~p)), "true_negative": int(np.sum(~y & ~p))}


def value_per_1000(counts: dict[str, int], matrix: dict[str, float]) -> float:
    n = sum(counts.values())
    return 1000.0 * sum(matrix[k] * counts[k] for k in OUTCOMES) / max(n, 1)


def value_report(matrix: Any, y_true: Any, labels: dict[str, Any], pos_label: Any) -> dict[str, Any]:
    """Expected value per 1,000 predictions for each labelled predictor (model first), plus the two trivial
    policies (everyone positive, nobody positive) as references."""
    m = {k: float(getattr(matrix, k)) for k in OUTCOMES}
    y = np.asarray(y_true, dtype=object)
    neg = next((v for v in np.unique(y) if v != pos_label), None)
    everyone = {"all_positive": np.full(len(y), pos_label, dtype=object),
                "all_negative": np.full(len(y), neg, dtype=object)}
    out: dict[str, Any] = {"matrix": m, "rows": len(y), "per_1000": {}, "counts": {}, "references": {}}
    for name, pred in labels.items():
        c = outcome_counts(y, pred, pos_label)
        out["counts"][name] = c
        out["per_1000"][name] = value_per_1000(c, m)
    for name, pred in everyone.items():
        out["references"][name] = value_per_1000(outcome_counts(y, pred, pos_label), m)
    return out
