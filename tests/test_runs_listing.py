"""`mlengine runs list|show|compare`."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import TITANIC

# no CV and one thread (LightGBM's OpenMP threads crawl on a busy 2-core machine); default threads: test_determinism
FAST = TITANIC.replace("cv: {folds: 3}", "cv: {kind: none}").replace("  name: lightgbm\n",
                                                                 "  name: lightgbm\n  n_jobs: 1\n")


def _run(cli, recipe, runs_dir, *overrides):
    code, out, err = cli("run", recipe, "--runs-dir", runs_dir, "--json", *overrides)
    return code, json.loads(out)["run_dir"]


def test_list_show_compare(cli, write_recipe, tmp_path):
    runs = tmp_path / "runs"
    recipe = write_recipe(FAST)
    _, a = _run(cli, recipe, runs)
    _, b = _run(cli, recipe, runs, "model.params.n_estimators=60", "cv.kind=stratified_kfold", "cv.folds=3")
    code, failed = _run(cli, write_recipe(FAST.replace("titanic.csv", "gone.csv"), name="broken.yaml"), runs,
                        "name=broken")
    assert code == 2
    (runs / "t" / ".20260101-000000-abcdef.incomplete").mkdir()

    code, out, _ = cli("runs", "list", runs)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["run", "status", "metric", "data", "started", "seconds"]
    row_a = next(line for line in lines if Path(a).name in line)
    data_hash = json.loads((Path(a) / "manifest.json").read_text())["data"]["content_sha256"][:12]
    assert "complete" in row_a and "holdout roc_auc=0." in row_a and data_hash in row_a
    assert "failed" in next(line for line in lines if Path(failed).name in line)
    assert any("interrupted" in line for line in lines)
    code, out, _ = cli("runs", "list", runs, "--json")
    assert {r["status"] for r in json.loads(out)} == {"complete", "failed", "interrupted"}

    code, out, _ = cli("runs", "show", a)
    assert code == 0 and "seeds     recipe 1, holdout_split 1, cv None, model 1" in out and "891 rows" in out
    code, out, _ = cli("runs", "show", f"t/{Path(b).name}", "--runs-dir", runs)
    assert code == 0 and "model lightgbm {'n_estimators': 60}" in out

    code, out, _ = cli("runs", "compare", a, b)
    assert code == 0
    assert any(line.split() == ["model.params.n_estimators", "30", "60"] for line in out.splitlines())
    assert any(line.split()[:3] == ["cv.kind", "none", "stratified_kfold"] for line in out.splitlines())
    assert "data: identical" in out and "holdout.roc_auc" in out
    code, out, _ = cli("runs", "compare", a, b, "--json")
    result = json.loads(out)
    auc = next(m for m in result["metrics"] if m["metric"] == "holdout.roc_auc")
    assert abs(auc["delta"] - (auc["b"] - auc["a"])) < 1e-12 and auc["delta"] != 0


def test_runs_errors(cli, tmp_path):
    code, _, err = cli("runs", "list", tmp_path / "none")
    assert code == 2 and "does not exist" in err
    code, _, err = cli("runs", "show", "t/nope", "--runs-dir", tmp_path)
    assert code == 2 and "not found" in err and "mlengine runs list" in err
    code, _, err = cli("runs")
    assert code == 2 and "ACTION" in err
    code, out, _ = cli("runs", "list", tmp_path)
    assert code == 0 and "no runs under" in out
