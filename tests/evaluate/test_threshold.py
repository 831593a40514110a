"""mlengine.evaluate.threshold: the confusion counts at every distinct threshold, the rates, the tuned threshold
(midway to the next score, or just above the top one), its unmet-constraint error, the curve and is_thresholded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.errors import DataError
from mlengine.evaluate.threshold import counts_by_threshold, is_thresholded, rates, tune_threshold
from mlengine.sections.threshold import F1, Cost, RecallAtPrecision, ValueMatrix

from tests.conftest import DATA

# five rows, a tie at 0.8 (one positive, one negative)
Y = np.array([1, 0, 1, 1, 0])
SCORE = np.array([0.9, 0.8, 0.8, 0.4, 0.1])


def test_counts_by_threshold_groups_ties_and_starts_with_nothing_positive():
    c = counts_by_threshold(Y, SCORE)
    assert c["threshold"].tolist() == [np.inf, 0.9, 0.8, 0.4, 0.1]
    assert c["lower"].tolist() == [0.9, 0.8, 0.4, 0.1, -np.inf]
    assert c["tp"].tolist() == [0, 1, 2, 3, 3]
    assert c["fp"].tolist() == [0, 0, 1, 1, 2]
    assert c["fn"].tolist() == [3, 2, 1, 0, 0]
    assert c["tn"].tolist() == [2, 2, 1, 1, 0]


def test_rates_count_precision_as_one_when_nothing_is_predicted_positive():
    r = rates(counts_by_threshold(Y, SCORE))
    assert r["precision"] == pytest.approx([1, 1, 2 / 3, 3 / 4, 3 / 5])
    assert r["recall"] == pytest.approx([0, 1 / 3, 2 / 3, 1, 1])
    assert r["specificity"] == pytest.approx([1, 1, 0.5, 0.5, 0])


def test_f1_threshold_lies_midway_to_the_next_lower_score():
    t, detail = tune_threshold(Y, SCORE, F1(objective="f1"), None)
    # F1 per cut: 0, 1/2, 2/3, 6/7 (>= 0.4), 3/4: the best cut is 0.4, the next lower score 0.1
    assert t == pytest.approx(0.25)
    assert detail["objective_value"] == pytest.approx(6 / 7)
    assert detail["at_threshold"] == pytest.approx({"precision": 0.75, "recall": 1.0, "specificity": 0.5,
                                                    "predicted_positive_share": 0.8})
    assert [p["threshold"] for p in detail["curve"]] == [0.9, 0.8, 0.4, 0.1]
    assert detail["curve"][2]["objective"] == pytest.approx(6 / 7)


def test_predicting_nothing_positive_puts_the_threshold_just_above_the_top_score():
    costly = Cost(objective="cost", cost=ValueMatrix(false_positive=100.0))
    t, detail = tune_threshold(Y, SCORE, costly, None)
    assert t == np.nextafter(0.9, np.inf) and t > 0.9
    assert detail["at_threshold"]["predicted_positive_share"] == 0.0
    assert detail["objective_value"] == 0.0  # a cost is reported as minimised: no false positive, fn costs 0


def test_unmet_precision_constraint_raises_with_the_best_precision():
    # precision at the cuts 0.9, 0.8, 0.7, 0.6: 0, 1/2, 1/3, 1/2
    with pytest.raises(DataError, match=r"threshold.min_precision: 0.99 is not reached .* \(best precision 0.500\)"):
        tune_threshold(np.array([0, 1, 0, 1]), np.array([0.9, 0.8, 0.7, 0.6]),
                       RecallAtPrecision(objective="recall_at_precision", min_precision=0.99), None)


def test_curve_is_capped_at_fifty_points_on_real_scores():
    d = pd.read_csv(DATA / "mammography.csv", nrows=2000)
    y = d["malignant"].to_numpy()
    score = 1 / (1 + np.exp(-d["f5"].to_numpy()))
    t, detail = tune_threshold(y, score, F1(objective="f1"), None)
    curve = detail["curve"]
    assert len(np.unique(score)) > 50 and len(curve) == 50
    ths = [p["threshold"] for p in curve]
    assert ths == sorted(ths, reverse=True) and ths[0] == score.max()
    pred = score >= t
    tp = np.sum(pred & (y == 1))
    assert detail["objective_value"] == pytest.approx(2 * tp / (pred.sum() + (y == 1).sum()))


def test_is_thresholded_only_for_a_fixed_threshold_classifier():
    from sklearn.dummy import DummyClassifier

    model = DummyClassifier().fit([[0], [1]], [0, 1])
    assert not is_thresholded(model)
    assert is_thresholded(F1.build(model, 0.3, 1))
