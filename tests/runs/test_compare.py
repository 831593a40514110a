"""Recorded vs replayed (mlengine/runs/compare.py): which differences fail a replay, which are tolerated, which are
informational, and the table a replay prints."""

from __future__ import annotations

import math

import pandas as pd

from mlengine.runs.compare import (
    DIVERGED,
    IDENTICAL,
    WITHIN,
    Check,
    checked_artifact,
    compare_artifacts,
    compare_metrics,
    compare_predictions,
    compare_search,
    render_table,
)


def test_tolerance_and_artifact_rules():
    rec = {"holdout": {"auc": 0.8}, "cv": {"auc": {"mean": 0.7, "std": 0.1, "folds": [0.6, 0.8]}}, "baselines": {}}
    rep = {"holdout": {"auc": 0.8 + 1e-9}, "cv": {"auc": {"mean": 0.7, "std": 0.1, "folds": [0.6, 0.8]}},
           "baselines": {}}
    assert [c.result for c in compare_metrics(rec, rep, 0.0)] == [DIVERGED, IDENTICAL, IDENTICAL]
    assert [c.result for c in compare_metrics(rec, rep, 1e-6)] == [WITHIN, IDENTICAL, IDENTICAL]
    a = {"model.joblib": {"sha256": "a", "bytes": 1}, "recipe.yaml": {"sha256": "a", "bytes": 1},
         "leaderboard.csv": {"sha256": "a", "bytes": 1}}
    b = {"model.joblib": {"sha256": "b", "bytes": 1}, "recipe.yaml": {"sha256": "b", "bytes": 1},
         "model.onnx": {"sha256": "b", "bytes": 1}}
    same_env = {c.name: c.result for c in compare_artifacts(a, b, env_differs=False)}
    assert same_env == {"artifact model.joblib": DIVERGED, "artifact recipe.yaml": "differs (not checked)",
                        "artifact leaderboard.csv": "missing", "artifact model.onnx": "new"}
    other_env = {c.name: c.result for c in compare_artifacts(a, b, env_differs=True)}
    assert other_env["artifact model.joblib"] == "differs (environment)"
    rebuilt = {c.name: c.result for c in compare_artifacts(a, b, env_differs=False, rebuilt=True)}
    assert rebuilt["artifact model.joblib"] == "differs (rebuilt)"
    assert {c.name: c.result for c in compare_artifacts(a, a, env_differs=False)} == dict.fromkeys(
        ["artifact model.joblib", "artifact recipe.yaml", "artifact leaderboard.csv"], IDENTICAL)


def test_model_files_and_predictions_are_checked_metadata_is_not():
    assert checked_artifact("model.joblib") and checked_artifact("model.onnx") and checked_artifact("predictions.parquet")
    assert checked_artifact("export/model.onnx")
    assert not checked_artifact("model.metadata.json") and not checked_artifact("model.card.md")
    assert not checked_artifact("report.html") and not checked_artifact("predictions.csv")


def test_the_rest_of_the_metrics_is_one_row_that_names_what_diverged():
    rec = {"holdout": {}, "cv": {"auc": {"mean": 0.7, "std": 0.1, "folds": [0.6, 0.8]}},
           "baselines": {"no_skill": {"auc": 0.5}}}
    near = {**rec, "cv": {"auc": {"mean": 0.7, "std": 0.1 + 1e-9, "folds": [0.6, 0.8]}}}
    rest = compare_metrics(rec, near, 1e-6)[-1]
    assert rest.name == "other metric values (4)" and rest.result == WITHIN and rest.detail.startswith("max |diff|")
    far = {**rec, "cv": {"auc": {"mean": 0.7, "std": 0.1, "folds": [0.6, 0.9]}}, "baselines": {}}
    rest = compare_metrics(rec, far, 1e-6)[-1]
    assert rest.result == DIVERGED and "cv.auc.folds[1]" in rest.detail and "baselines.no_skill.auc" in rest.detail
    # NaN equals NaN (a metric undefined in both runs); a number against a string or None diverges
    nan = {"holdout": {"auc": math.nan}, "cv": {}, "baselines": {}}
    assert compare_metrics(nan, nan, 0.0)[0].result == IDENTICAL
    assert compare_metrics(nan, {"holdout": {"auc": None}}, 1.0)[0].result == DIVERGED


def _predictions(path, proba, labels):
    pd.DataFrame({"row": range(len(proba)), "proba": proba, "label": labels}).to_parquet(path)


def test_predictions_by_hash_then_by_value(tmp_path):
    run, rep = tmp_path / "run", tmp_path / "replay"
    run.mkdir(), rep.mkdir()
    same = compare_predictions({"sha256": "abc", "rows": 9}, {"sha256": "abc"}, run, rep, 0.0)
    assert same.result == IDENTICAL and same.detail == "9 holdout rows"
    assert compare_predictions(None, None, run, rep, 0.0).detail == "no holdout"
    missing = compare_predictions({"sha256": "a"}, {"sha256": "b"}, run, rep, 1.0)
    assert missing.result == DIVERGED and "missing" in missing.detail
    _predictions(run / "predictions.parquet", [0.1, 0.9], ["a", "b"])
    _predictions(rep / "predictions.parquet", [0.1, 0.9 + 1e-9], ["a", "b"])
    assert compare_predictions({"sha256": "a"}, {"sha256": "b"}, run, rep, 1e-6).result == WITHIN
    assert compare_predictions({"sha256": "a"}, {"sha256": "b"}, run, rep, 0.0).result == DIVERGED
    _predictions(rep / "predictions.parquet", [0.1, 0.9], ["a", "a"])
    label = compare_predictions({"sha256": "a"}, {"sha256": "b"}, run, rep, 1.0)
    assert label.result == DIVERGED and "1 labels differ" in label.detail
    _predictions(rep / "predictions.parquet", [0.1], ["a"])
    assert "different shape" in compare_predictions({"sha256": "a"}, {"sha256": "b"}, run, rep, 1.0).detail


def test_search_level_checks_count_best_config_and_scores():
    rec = {"trials": 2, "best_config": {"model.name": "lightgbm"}, "history": [{"score": 0.8}, {"score": 0.7}]}
    assert compare_search(None, rec, 0.0) == []
    assert [c.result for c in compare_search(rec, rec, 0.0)] == [IDENTICAL] * 3
    drift = {**rec, "history": [{"score": 0.8}, {"score": 0.7 + 1e-9}]}
    assert [c.result for c in compare_search(rec, drift, 1e-6)] == [IDENTICAL, IDENTICAL, WITHIN]
    other = {"trials": 1, "best_config": {"model.name": "xgboost"}, "history": [{"score": 0.8}]}
    assert [c.result for c in compare_search(rec, other, 1.0)] == [DIVERGED] * 3
    assert [c.result for c in compare_search(rec, None, 1.0)] == [DIVERGED] * 3


def test_the_table_aligns_columns_and_shows_details():
    table = render_table([Check("metric holdout.auc", 0.123456789012345, 0.8, WITHIN, "|diff| 1e-09"),
                          Check("artifact model.joblib", None, "abc", IDENTICAL)])
    lines = table.splitlines()
    assert lines[0].split() == ["check", "recorded", "replayed", "result"]
    assert lines[1].split() == ["metric", "holdout.auc", "0.123456789012", "0.8", "within", "tolerance", "(|diff|",
                                "1e-09)"]
    assert lines[2].split()[2] == "-"
    assert len({line.index("recorded") for line in lines[:1]} | {lines[1].index("0.123")}) == 1
