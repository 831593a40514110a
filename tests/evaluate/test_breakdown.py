"""Holdout breakdowns: per-class precision/recall/F1/support and the residual summary (true - predicted)."""

from __future__ import annotations

from mlengine.evaluate.breakdown import per_class, residuals


def test_per_class_scores_each_label():
    out = per_class(["a", "a", "b", "b"], ["a", "b", "b", "b"], classes=["a", "b"])
    assert out["a"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert out["b"]["precision"] == 2 / 3 and out["b"]["recall"] == 1.0


def test_residuals_are_true_minus_predicted():
    out = residuals([1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 3.0, 0.0])
    assert out["mean"] == (-1 + 0 + 0 + 4) / 4 and out["max_absolute"] == 4.0
    assert out["share_over_predicted"] == 0.25 and out["quantiles"]["0.5"] == 0.0
