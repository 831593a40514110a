"""The judge's warnings: one per holdout metric on which the model is worse than no-skill, in either direction."""

from __future__ import annotations

from mlengine.evaluate.judge import no_skill_warnings


def test_a_warning_per_metric_worse_than_no_skill():
    out = no_skill_warnings({"roc_auc": 0.45, "log_loss": 0.7, "accuracy": 0.9}, {"roc_auc": 0.5, "log_loss": 0.6,
                                                                                   "accuracy": 0.6})
    assert out == ["holdout roc_auc 0.4500 is worse than the no-skill baseline's 0.5000 (higher is better)",
                   "holdout log_loss 0.7000 is worse than the no-skill baseline's 0.6000 (lower is better)"]


def test_no_baseline_or_a_better_model_gives_no_warning():
    assert no_skill_warnings({"roc_auc": 0.45}, None) == []
    assert no_skill_warnings({"roc_auc": 0.9, "not_a_metric": 0.0}, {"roc_auc": 0.5, "not_a_metric": 1.0}) == []
