"""The manifest stage's pieces (mlengine/runs/record.py): which files are artifacts, the portable recipe and its
hash, the seeds a plan used, and the search record derived from a search summary."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

from mlengine.api import load_recipe
from mlengine.plan import compile_recipe
from mlengine.runs.record import artifact_hashes, portable_recipe, recipe_sha256, search_record, seeds

from tests.conftest import TITANIC


def test_every_artifact_file_is_hashed_but_logs_status_metrics_and_the_manifest(tmp_path):
    (tmp_path / "export").mkdir()
    files = {"model.joblib": b"model", "export/model.onnx": b"onnx", "report.html": b"<html>",
             "manifest.json": b"{}", "status.json": b"{}", "metrics.json": b"{}", "run.log": b"log",
             "part.tmp": b"tmp"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    hashes = artifact_hashes(tmp_path)
    assert sorted(hashes) == ["export/model.onnx", "model.joblib", "report.html"]
    assert hashes["model.joblib"] == {"sha256": hashlib.sha256(b"model").hexdigest(), "bytes": 5}


def _recipe(text: str, tmp_path, name: str = "r.yaml"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_recipe(tmp_path / name).recipe


def test_the_portable_recipe_names_data_by_repository_then_recipe_path(tmp_path):
    recipe = _recipe(TITANIC, tmp_path)
    absolute = str(tmp_path / "data" / "titanic.csv")
    in_repo = [{"key": "data.source.path", "path": absolute, "path_in_repo": "proj/data/titanic.csv",
                "path_from_recipe": "data/titanic.csv"}]
    assert portable_recipe(recipe, in_repo)["data"]["source"]["path"] == "proj/data/titanic.csv"
    outside = [{**in_repo[0], "path_in_repo": None}]
    portable = portable_recipe(recipe, outside)
    assert portable["data"]["source"]["path"] == "data/titanic.csv"
    assert portable["model"]["name"] == "lightgbm" and portable["cv"]["folds"] == 3  # defaults are filled in
    assert portable_recipe(recipe, [{"key": "data.source.path", "path": absolute}])["data"]["source"]["path"] == (
        "titanic.csv")


def test_sql_tables_and_urls_are_made_portable_too(tmp_path):
    text = TITANIC.replace("source: {kind: csv, path: data/titanic.csv}",
                           "source: {kind: sql, query: 'SELECT * FROM t', tables: {t: data/titanic.csv}}")
    recipe = _recipe(text, tmp_path)
    files = [{"key": "data.source.tables.t", "path": "/abs/data/titanic.csv", "path_from_recipe": "data/titanic.csv"}]
    assert portable_recipe(recipe, files)["data"]["source"]["tables"] == {"t": "data/titanic.csv"}
    url = _recipe(TITANIC.replace("source: {kind: csv, path: data/titanic.csv}",
                                  "source: {kind: sql, query: 'SELECT 1', url: 'sqlite:////abs/app.db'}"), tmp_path)
    files = [{"key": "data.source.url", "path": "/abs/app.db", "path_from_recipe": "app.db"}]
    assert portable_recipe(url, files)["data"]["source"]["url"] == "sqlite:///app.db"


def test_the_recipe_hash_follows_the_recipe_not_where_it_lies(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    files_a = [{"key": "data.source.path", "path": str(a / "data/titanic.csv"), "path_from_recipe": "data/titanic.csv"}]
    files_b = [{"key": "data.source.path", "path": str(b / "data/titanic.csv"), "path_from_recipe": "data/titanic.csv"}]
    same = recipe_sha256(_recipe(TITANIC, a), files_a) == recipe_sha256(_recipe(TITANIC, b), files_b)
    assert same
    other = recipe_sha256(_recipe(TITANIC.replace("seed: 1", "seed: 2"), a), files_a)
    assert other != recipe_sha256(_recipe(TITANIC, a), files_a)


def _plan(text: str, tmp_path):
    return compile_recipe(_recipe(text, tmp_path, "plan.yaml"), task="binary", classes=[0, 1])


def test_seeds_name_only_what_a_seed_drives(tmp_path):
    assert seeds(_plan(TITANIC, tmp_path)) == {"recipe": 1, "holdout_split": 1, "cv": 1, "model": 1}
    fixed = TITANIC.replace("cv: {folds: 3}", "cv: {folds: 3, shuffle: false}\nsplit: {holdout: 0}")
    assert seeds(_plan(fixed, tmp_path)) == {"recipe": 1, "holdout_split": None, "cv": None, "model": 1}
    knn = TITANIC.replace("name: lightgbm", "name: knn").replace("params: {n_estimators: 30}", "params: {}")
    assert seeds(_plan(knn, tmp_path))["model"] is None  # knn draws no random numbers


def test_search_record_from_the_summary_in_the_report():
    summary = {"trials_run": 2, "metric": "roc_auc", "best": {"trial": 1}, "time_budget": 30,
               "best_overrides": {"model.name": "random_forest", "model.params.max_depth": 4},
               "history": [{"trial": 0, "model": "lightgbm", "params": {"num_leaves": 7}, "mean": 0.8,
                            "status": "ok", "pipeline_params": {"resample.k_neighbors": 3}},
                           {"trial": 1, "model": "random_forest", "params": {"max_depth": 4}, "mean": 0.85,
                            "status": "ok"}]}
    record = search_record(SimpleNamespace(search=None, report={"search": summary}))
    assert record["trials"] == 2 and record["best_trial"] == 1 and record["metric"] == "roc_auc"
    assert record["best_config"] == summary["best_overrides"]
    assert record["history"][0] == {"trial": 0, "score": 0.8, "status": "ok", "config": {
        "model.name": "lightgbm", "model.params.num_leaves": 7, "resample.k_neighbors": 3}}
    assert record["replay_overrides"] == {"search.time_budget": None}  # a replay reruns the count, not the clock
    staged = {"trials": 5}
    assert search_record(SimpleNamespace(search=staged, report={"search": summary})) is staged
    assert search_record(SimpleNamespace(search=None, report={})) is None
    assert search_record(SimpleNamespace(search=None, report={"search": {"best_overrides": None}})) is None
