"""Business value: outcome counts and expected value per 1,000 predictions, for the model and both references."""

from __future__ import annotations

import types

from mlengine.evaluate.value import outcome_counts, value_per_1000, value_report


def test_outcome_counts_and_value_per_1000():
    counts = outcome_counts(["y", "y", "n", "n"], ["y", "n", "y", "n"], pos_label="y")
    assert counts == {"true_positive": 1, "false_positive": 1, "false_negative": 1, "true_negative": 1}
    matrix = {"true_positive": 10.0, "false_positive": -2.0, "false_negative": -5.0, "true_negative": 0.0}
    assert value_per_1000(counts, matrix) == 1000 * (10 - 2 - 5) / 4


def test_report_has_the_model_and_the_two_trivial_policies():
    matrix = types.SimpleNamespace(true_positive=1, false_positive=-1, false_negative=0, true_negative=0)
    y = [1, 1, 0, 0, 0]
    out = value_report(matrix, y, {"model": [1, 0, 0, 0, 0]}, pos_label=1)
    assert out["rows"] == 5 and out["per_1000"]["model"] == 200.0
    assert out["references"] == {"all_positive": 1000 * (2 - 3) / 5, "all_negative": 0.0}
