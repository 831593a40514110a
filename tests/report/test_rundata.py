"""`RunData`: a run directory's files as the report reads them. Present files are parsed (JSON, YAML, parquet,
CSV); a missing, corrupt or undecodable one reads as None or empty; the shortcuts (task, primary metric, its
direction, name, classes, probability columns) fall back from metrics.json to model.json to defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mlengine.report.rundata import RunData

from tests.conftest import DATA


def _write(run: Path, name: str, data) -> None:
    (run / name).write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")


def test_an_empty_directory_reads_as_nothing(tmp_path):
    run = RunData(tmp_path)
    assert run.metrics == {} and run.bundle == {} and run.status == {} and run.recipe == {}
    assert run.manifest is None and run.predictions is None and run.leaderboard is None
    assert run.text("report.html") is None and run.frame("x.csv") is None
    assert run.task == "unknown" and run.primary is None and run.greater_is_better is True
    assert run.classes == [] and run.proba_columns() == {}
    assert run.name == tmp_path.parent.name  # no recipe: the runs folder of the run
    assert run.path == tmp_path and run.final == tmp_path


def test_files_are_parsed_and_final_dir_is_kept_apart(tmp_path):
    _write(tmp_path, "metrics.json", {"task": "binary", "primary_metric": "roc_auc", "classes": [0, 1]})
    _write(tmp_path, "model.json", {"model": "lightgbm", "task": "binary"})
    _write(tmp_path, "status.json", {"status": "complete"})
    _write(tmp_path, "manifest.json", {"files": {}})
    _write(tmp_path, "recipe.yaml", "name: titanic\nseed: 3\n")
    run = RunData(tmp_path, final_dir=tmp_path / "20240101-000000-abc")
    assert run.metrics["primary_metric"] == "roc_auc" and run.bundle["model"] == "lightgbm"
    assert run.status == {"status": "complete"} and run.manifest == {"files": {}}
    assert run.recipe == {"name": "titanic", "seed": 3} and run.name == "titanic"
    assert run.final.name == "20240101-000000-abc" and run.path == tmp_path
    assert run.task == "binary" and run.primary == "roc_auc" and run.classes == [0, 1]


def test_metrics_given_in_memory_win_over_metrics_json(tmp_path):
    _write(tmp_path, "metrics.json", {"task": "regression"})
    assert RunData(tmp_path, metrics={"task": "multiclass"}).task == "multiclass"
    assert RunData(tmp_path, metrics={}).metrics == {}  # an empty dict is still what the caller gave


def test_corrupt_or_undecodable_files_read_as_missing(tmp_path):
    _write(tmp_path, "metrics.json", "{not json")
    (tmp_path / "model.json").write_bytes(b"\xff\xfe\x00{")
    _write(tmp_path, "recipe.yaml", "name: [unclosed\n")
    run = RunData(tmp_path)
    assert run.metrics == {} and run.bundle == {} and run.recipe == {}
    (tmp_path / "notes.txt").write_bytes(b"caf\xe9")
    assert run.text("notes.txt") == "caf\ufffd"  # replaced, not an error


def test_task_and_classes_fall_back_to_model_json(tmp_path):
    _write(tmp_path, "model.json", {"task": "multiclass", "classes": ["Adelie", "Gentoo"]})
    run = RunData(tmp_path, metrics={})
    assert run.task == "multiclass" and run.classes == ["Adelie", "Gentoo"]


def test_greater_is_better_from_metrics_else_the_metric_registry(tmp_path):
    assert RunData(tmp_path, {"primary_metric": "rmse", "greater_is_better": True}).greater_is_better is True
    assert RunData(tmp_path, {"primary_metric": "rmse"}).greater_is_better is False
    assert RunData(tmp_path, {"primary_metric": "roc_auc"}).greater_is_better is True
    assert RunData(tmp_path, {"primary_metric": "my_custom_score"}).greater_is_better is True
    assert RunData(tmp_path, {"greater_is_better": False}).greater_is_better is False


def test_frames_read_csv_and_parquet_and_proba_columns_match_classes(tmp_path):
    df = pd.read_csv(DATA / "penguins.csv").head(5)
    preds = pd.DataFrame({"y_true": df["species"], "proba_Adelie": 0.7, "proba_Gentoo": 0.3})
    preds.to_parquet(tmp_path / "predictions.parquet")
    df.to_csv(tmp_path / "leaderboard.csv", index=False)
    run = RunData(tmp_path, {"classes": ["Adelie", "Chinstrap", "Gentoo"]})
    assert run.predictions.shape == (5, 3) and list(run.leaderboard.columns) == list(df.columns)
    assert run.frame("leaderboard.csv")["species"].tolist() == ["Adelie"] * 5
    assert run.proba_columns() == {"Adelie": "proba_Adelie", "Gentoo": "proba_Gentoo"}  # no Chinstrap column


def test_files_are_read_once(tmp_path):
    _write(tmp_path, "model.json", {"model": "a"})
    run = RunData(tmp_path)
    assert run.bundle["model"] == "a"
    _write(tmp_path, "model.json", {"model": "b"})
    assert run.bundle["model"] == "a" and RunData(tmp_path).bundle["model"] == "b"
