"""manifest.json: what every run records, its schema and its seal."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlengine.runs.determinism import predictions_sha256
from mlengine.runs.manifest import ManifestError, read_manifest, write_manifest

from tests.conftest import ROOT, TITANIC, read_json


def _run(cli, recipe: Path, runs_dir: Path, *overrides: str) -> Path:
    code, out, err = cli("run", recipe, "--runs-dir", runs_dir, "--json", *overrides)
    assert code == 0, err
    return Path(json.loads(out)["run_dir"])


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """A titanic run (CV and holdout), shared read-only by the tests of this module."""
    from mlengine.cli import main

    tmp = tmp_path_factory.mktemp("manifest")
    (tmp / "data").mkdir()
    (tmp / "data" / "titanic.csv").write_bytes((ROOT / "examples/data/titanic.csv").read_bytes())
    (tmp / "recipe.yaml").write_text(TITANIC)
    assert main(["run", str(tmp / "recipe.yaml"), "--runs-dir", str(tmp / "runs"), "--quiet", "model.n_jobs=1"]) == 0
    return next((tmp / "runs" / "t").iterdir())


@pytest.mark.slow
def test_manifest_records_inputs_environment_and_outputs(one_run):
    m = read_manifest(one_run)
    assert m["recipe"]["resolved"]["data"]["source"]["path"].endswith("data/titanic.csv")
    assert m["recipe"]["overrides"] == ["model.n_jobs=1"] and len(m["recipe"]["sha256"]) == 64
    assert m["data"]["rows"] == 891 and m["data"]["columns"]["sex"]["dtype"] == "str"
    src = m["data"]["source"]["files"][0]
    assert src["key"] == "data.source.path" and src["bytes"] == 57018 and src["path_from_recipe"] == "data/titanic.csv"
    assert m["seeds"] == {"recipe": 1, "holdout_split": 1, "cv": 1, "model": 1}
    assert m["threads"]["model_n_jobs"] == 1 and "openmp" in m["threads"]["pools"]
    env = m["environment"]
    assert env["packages"]["lightgbm"] and env["packages"]["scikit-learn"] and env["python"].startswith("3.")
    assert m["search"] is None and m["model"] == {"name": "lightgbm", "params": {"n_estimators": 30}}
    metrics = read_json(one_run / "metrics.json")
    assert m["metrics"]["holdout"] == metrics["holdout"] and m["metrics"]["cv"] == metrics["cv"]
    assert set(m["artifacts"]) == {"model.joblib", "model.json", "model.onnx", "onnx_parity.json", "plan.json", "shap_values.parquet",
                                   "plan.txt", "predictions.parquet", "recipe.yaml", "reference.json"}  # logs, status, metrics and the manifest itself are not artifacts
    assert {"load", "fit", "save", "until_manifest"} <= set(m["timings_seconds"])


def test_predictions_hash_is_of_the_values(one_run):
    """The recorded hash is recomputed from predictions.parquet's values, not from its bytes."""
    m = read_manifest(one_run)
    p = pd.read_parquet(one_run / "predictions.parquet")
    proba = p[["proba_0", "proba_1"]].to_numpy().copy()
    assert predictions_sha256(p["row"].to_numpy(), p["y_pred"].to_numpy(), proba) == m["predictions"]["sha256"]
    proba[0, 0] += 1e-15
    assert predictions_sha256(p["row"].to_numpy(), p["y_pred"].to_numpy(), proba) != m["predictions"]["sha256"]


@pytest.mark.slow
def test_recipe_hash_does_not_depend_on_where_the_project_is(cli, tmp_path, one_run):
    """Same recipe and data in another folder: same recipe sha256 (data paths are hashed in portable form)."""
    other = tmp_path / "elsewhere"
    (other / "data").mkdir(parents=True)
    (other / "data" / "titanic.csv").write_bytes((ROOT / "examples/data/titanic.csv").read_bytes())
    (other / "recipe.yaml").write_text(TITANIC)
    run = _run(cli, other / "recipe.yaml", tmp_path / "runs", "cv.kind=none", "model.n_jobs=1")
    a, b = read_manifest(one_run), read_manifest(run)
    assert a["data"]["content_sha256"] == b["data"]["content_sha256"]
    assert a["recipe"]["sha256"] != b["recipe"]["sha256"]  # cv.kind=none: a different recipe
    run2 = _run(cli, other / "recipe.yaml", tmp_path / "runs", "model.n_jobs=1")
    assert read_manifest(run2)["recipe"]["sha256"] == a["recipe"]["sha256"]


@pytest.mark.slow
def test_artifacts_of_other_stages_are_hashed(cli, write_recipe, runs_dir, monkeypatch):
    """Whatever a stage writes (model.onnx, report.html, ...) is in the manifest's artifact hashes."""
    from mlengine import runner

    def stage_report(ctx):
        ctx.rd.write_text("report.html", "<html>report</html>")
        (ctx.rd.path / "plots").mkdir()
        ctx.rd.write_text("plots/roc.svg", "<svg/>")

    stages = list(runner.STAGES)
    stages.insert(stages.index(runner.stage_manifest), stage_report)
    monkeypatch.setattr(runner, "STAGES", stages)
    run = _run(cli, write_recipe(TITANIC), runs_dir, "cv.kind=none")
    arts = read_manifest(run)["artifacts"]
    assert {"report.html", "plots/roc.svg"} <= set(arts) and arts["report.html"]["bytes"] == 19


def test_schema_check_names_the_broken_key(tmp_path, one_run):
    data = json.loads((one_run / "manifest.json").read_text())
    data["data"]["rows"] = "many"
    del data["metrics"]["holdout"]
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError) as exc:
        read_manifest(tmp_path)
    msg = str(exc.value)
    assert "does not match the manifest schema" in msg and "data.rows" in msg and "'many'" in msg
    assert "metrics.holdout: Field required" in msg


def test_seal_catches_a_hand_edit(tmp_path, one_run):
    data = json.loads((one_run / "manifest.json").read_text())
    data["metrics"]["holdout"]["roc_auc"] = 0.99
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="changed after the run"):
        read_manifest(tmp_path)
    write_manifest(tmp_path, data)  # re-sealed by mlengine: readable again
    assert read_manifest(tmp_path)["metrics"]["holdout"]["roc_auc"] == 0.99


def test_unreadable_and_newer_manifests(tmp_path):
    with pytest.raises(ManifestError, match="has no manifest.json"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"manifest_version": 99}))
    with pytest.raises(ManifestError, match="newer mlengine"):
        read_manifest(tmp_path)
