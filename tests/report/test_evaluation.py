"""The evaluation sections of the report (mlengine.report.evaluation), each fed a small synthetic RunData: which
sections apply to which run, the numbers they print, and the one-line notice of a section that is not drawn."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mlengine.report import evaluation as ev
from mlengine.report.rundata import RunData


def _cells(html: str) -> list[list[str]]:
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in re.findall(r"<tr>(.*?)</tr>", html)]


def test_metrics_section_is_none_without_scores_and_lists_cv_holdout_and_baselines(tmp_path):
    assert ev.metrics_section(RunData(tmp_path, {})) is None
    m = {"task": "regression", "holdout": {"rmse": 2.5}, "cv": {"rmse": {"mean": 2.25, "std": 0.5}},
         "baselines": {"mean": {"rmse": 4.0}}}  # no primary metric: the table alone, no plot
    block = ev.metrics_section(RunData(tmp_path, m))
    assert block.id == "metrics" and "<img" not in block.body
    assert _cells(block.body) == [["metric", "", "CV mean", "CV std", "holdout", "baseline: mean"],
                                  ["rmse", "↓", "2.250", "0.5000", "2.500", "4"]]


def test_confusion_section_gives_precision_and_recall_per_class(tmp_path):
    assert ev.confusion_section(RunData(tmp_path, {})) is None
    block = ev.confusion_section(RunData(tmp_path, {"confusion_matrix": {"labels": [0, 1],
                                                                         "matrix": [[8, 2], [0, 5]]}}))
    assert block.id == "confusion"
    assert _cells(block.body)[1:] == [["0", "10", "1", "0.8000"], ["1", "5", "0.7143", "1"]]


def test_curves_section_applies_to_classification_with_predictions_only(tmp_path):
    binary = {"task": "binary", "classes": [0, 1], "positive_class": 1}
    assert ev.curves_section(RunData(tmp_path, binary)) is None  # no predictions.parquet
    pd.DataFrame({"y_true": [0, 1, 0, 1], "y_pred": [0, 1, 1, 1]}).to_parquet(tmp_path / "predictions.parquet")
    block = ev.curves_section(RunData(tmp_path, binary))
    assert block.id == "curves" and "holds no class probabilities" in block.body
    assert ev.curves_section(RunData(tmp_path, {**binary, "task": "regression"})) is None


def test_curves_section_skips_a_holdout_of_one_class(tmp_path):
    pd.DataFrame({"y_true": [1, 1, 1], "proba_0": [0.2, 0.3, 0.1], "proba_1": [0.8, 0.7, 0.9]}).to_parquet(
        tmp_path / "predictions.parquet")
    block = ev.curves_section(RunData(tmp_path, {"task": "binary", "classes": [0, 1], "positive_class": 1}))
    assert "every class examined is either all or none of the holdout rows" in block.body


def test_threshold_section_tabulates_its_scalars_and_values_at_the_threshold(tmp_path):
    assert ev.threshold_section(RunData(tmp_path, {"threshold": 0.5})) is None  # not a dict
    th = {"objective": "f1", "threshold": 0.35, "at_threshold": {"precision": 0.6}}
    block = ev.threshold_section(RunData(tmp_path, {"threshold": th}))
    assert _cells(block.body)[1:] == [["objective", "f1"], ["threshold", "0.3500"],
                                      ["precision at the threshold", "0.6000"]]
    assert "<img" not in block.body  # no curve, no plot


def test_business_section_tables_the_value_matrix_and_the_threshold(tmp_path):
    m = {"value": {"per_1000": {"model": 120.5, "always_no": 0.0}, "matrix": {"tp": 10, "fp": -2}},
         "threshold": {"threshold": 0.4}}
    block = ev.business_section(RunData(tmp_path, m))
    assert block.id == "business"
    assert _cells(block.body)[1:] == [["tp", "10"], ["fp", "-2"]]
    assert "The model at decision threshold 0.4000." in block.body
    assert ev.business_section(RunData(tmp_path, {"business_value": {"per": 100}})) is None  # no model value


def test_regression_section_summarises_the_residuals(tmp_path):
    assert ev.regression_section(RunData(tmp_path, {"task": "binary"})) is None
    block = ev.regression_section(RunData(tmp_path, {"task": "regression"}))
    assert block.id == "residuals" and "no holdout predictions" in block.body
    y = np.array([1.0, 2.0, 3.0, 4.0])
    pd.DataFrame({"y_true": y, "y_pred": y - [0.5, -0.5, 1.0, 0.0]}).to_parquet(tmp_path / "predictions.parquet")
    rows = _cells(ev.regression_section(RunData(tmp_path, {"task": "regression"})).body)
    assert rows[1:] == [["mean residual (bias)", "0.2500"], ["median absolute error", "0.5000"],
                        ["90th percentile of |residual|", "0.8500"], ["max |residual|", "1"]]


def test_importance_section_reports_an_error_or_the_recipe_turning_it_off(tmp_path):
    assert ev.importance_section(RunData(tmp_path, {})) is None
    (tmp_path / "recipe.yaml").write_text("report: {explain: false}\n", encoding="utf-8")
    assert "report.explain is off in the recipe" in ev.importance_section(RunData(tmp_path, {})).body
    block = ev.importance_section(RunData(tmp_path, {"explain": {"error": "ValueError: <bad>"}}))
    assert 'badge warn">not computed' in block.body and "ValueError: &lt;bad&gt;" in block.body
