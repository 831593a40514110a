"""`mlengine runs list|show|compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TITANIC

# no CV and one thread (LightGBM's OpenMP threads crawl on a busy 2-core machine); default threads: test_determinism
FAST = TITANIC.replace("cv: {folds: 3}", "cv: {kind: none}").replace("  name: lightgbm\n",
                                                                 "  name: lightgbm\n  n_jobs: 1\n")


def _run(cli, recipe, runs_dir, *overrides):
    code, out, err = cli("run", recipe, "--runs-dir", runs_dir, "--json", *overrides)
    return code, json.loads(out)["run_dir"]


@pytest.mark.slow  # end to end (--durations: among the slowest of make test-fast); CI runs it
def test_list_show_compare(cli, write_recipe, tmp_path):
    runs = tmp_path / "runs"
    recipe = write_recipe(FAST)
    _, a = _run(cli, recipe, runs)
    _, b = _run(cli, recipe, runs, "model.params.n_estimators=60", "cv.kind=stratified_kfold", "cv.folds=3")
    code, failed = _run(cli, write_recipe(FAST.replace("titanic.csv", "gone.csv"), name="broken.yaml"), runs,
                        "name=broken")
    assert code == 2
    (runs / "t" / ".20260101-000000-abcdef.incomplete").mkdir()

    code, out, err = cli("runs", "list", "--runs-dir", runs)
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0].split() == ["run", "recipe", "status", "model", "metric", "overrides", "data", "started",
                                "seconds"]
    row_a = next(line for line in lines if Path(a).name in line)
    data_hash = json.loads((Path(a) / "manifest.json").read_text())["data"]["content_sha256"][:12]
    assert row_a.split()[:4] == [f"t/{Path(a).name}", "t", "complete", "lightgbm"]
    assert "holdout roc_auc=0." in row_a and data_hash in row_a
    row_b = next(line for line in lines if Path(b).name in line)
    assert "model.params.n_estimators=60 cv.kind=stratified_kfold cv.folds=3" in row_b
    assert "failed" in next(line for line in lines if Path(failed).name in line)
    assert any("interrupted" in line for line in lines)
    # the positional folder of older releases still works, with a deprecation note
    code, old, err = cli("runs", "list", runs)
    assert code == 0 and old == out and "deprecated" in err and "--runs-dir" in err
    code, _, err = cli("runs", "list", runs, "--runs-dir", runs / "t")
    assert code == 2 and "given twice" in err
    code, out, _ = cli("runs", "list", "--runs-dir", runs, "--json")
    rows = json.loads(out)
    assert {r["status"] for r in rows} == {"complete", "failed", "interrupted"}
    assert {r["recipe"] for r in rows} == {"t", "broken"}
    assert next(r for r in rows if r["run"] == f"t/{Path(b).name}")["overrides"] == [
        "model.params.n_estimators=60", "cv.kind=stratified_kfold", "cv.folds=3"]
    code, out, _ = cli("runs", "list", "--runs-dir", runs, "--recipe", "broken", "--json")
    assert [r["status"] for r in json.loads(out)] == ["failed"]
    for r in rows:  # every id the list prints is accepted by show
        code, out, err = cli("runs", "show", r["run"], "--runs-dir", runs)
        assert code == 0 and out.startswith(f"run       {r['run']}  ") and f"status    {r['status']}" in out, err

    code, out, _ = cli("runs", "show", a)
    assert code == 0 and "seeds     recipe 1, holdout_split 1, cv None, model 1" in out and "891 rows" in out
    code, out, _ = cli("runs", "show", f"t/{Path(b).name}", "--runs-dir", runs)
    assert code == 0 and "model lightgbm {'n_estimators': 60}" in out

    code, out, _ = cli("runs", "compare", a, b)
    assert code == 0
    assert any(line.split() == ["model.params.n_estimators", "30", "60"] for line in out.splitlines())
    assert any(line.split()[:3] == ["cv.kind", "none", "stratified_kfold"] for line in out.splitlines())
    assert "data #2 vs #1: identical" in out and "holdout.roc_auc" in out
    header = next(line for line in out.splitlines() if line.startswith("metric "))
    assert header.split() == ["metric", "#1", "#2", "#2", "-", "#1", "best"]
    code, out, _ = cli("runs", "compare", a, b, "--json")
    result = json.loads(out)
    auc = next(m for m in result["metrics"] if m["metric"] == "holdout.roc_auc")
    assert abs(auc["deltas"][1] - (auc["values"][1] - auc["values"][0])) < 1e-12 and auc["deltas"][1] != 0
    assert auc["best"] == max((0, 1), key=lambda i: auc["values"][i])
    loss = next(m for m in result["metrics"] if m["metric"] == "holdout.log_loss")
    assert loss["best"] == min((0, 1), key=lambda i: loss["values"][i])  # lower is better
    # three runs (ids as runs list prints them, and a path), one column each
    c = _run(cli, recipe, runs, "model.params.n_estimators=90")[1]
    code, out, err = cli("runs", "compare", f"t/{Path(a).name}", f"t/{Path(b).name}", c, "--runs-dir", runs)
    assert code == 0, err
    assert any(line.split() == ["model.params.n_estimators", "30", "60", "90"] for line in out.splitlines())
    assert "data #3 vs #1: identical" in out
    code, out, _ = cli("runs", "compare", a, b, c, "--json")
    result = json.loads(out)
    assert [r["path"] for r in result["runs"]] == [a, b, c]
    assert all(len(m["values"]) == 3 for m in result["metrics"])


def test_runs_errors(cli, tmp_path):
    code, _, err = cli("runs", "list", "--runs-dir", tmp_path / "none")
    assert code == 2 and "does not exist" in err
    code, _, err = cli("runs", "compare", "t/a", "--runs-dir", tmp_path)
    assert code == 2 and "at least two runs" in err
    code, _, err = cli("runs", "show", "t/nope", "--runs-dir", tmp_path)
    assert code == 2 and "not found" in err and "mlengine runs list" in err
    code, _, err = cli("runs")
    assert code == 2 and "ACTION" in err
    code, out, _ = cli("runs", "list", tmp_path)
    assert code == 0 and "no runs under" in out


@pytest.mark.slow
def test_every_listed_id_round_trips_through_every_command(cli, write_recipe, tmp_path, monkeypatch):
    """Sweep jobs and plain runs: the ids `runs list` prints work in show, compare, replay, predict, drift, serve
    (serve stops at its argument check after resolving, so no server starts here)."""
    import shutil

    import pandas as pd

    from tests.conftest import DATA

    monkeypatch.chdir(tmp_path)  # serve and drift look ids up under ./runs
    recipe = write_recipe(FAST + "evaluate: {require_beats_no_skill: false}\n")  # dummy has no skill, on purpose
    code, out, err = cli("run", recipe, "-m", "model=dummy,logistic_regression", "--runs-dir", "runs", "--quiet")
    assert code == 0, err
    _run(cli, recipe, "runs")
    code, out, _ = cli("runs", "list")
    listed = [line.split()[0] for line in out.splitlines()[1:]]
    jobs = [i for i in listed if "/sweeps/" in i]
    assert len(listed) == 3 and len(jobs) == 2 and all(i.startswith("t/sweeps/") for i in jobs)
    by_id = {r["run"]: r for r in json.loads(cli("runs", "list", "--json")[1])}
    assert set(by_id) == set(listed)
    assert [by_id[j]["overrides"] for j in jobs] == [["model=dummy"], ["model=logistic_regression"]]
    assert [by_id[j]["model"] for j in jobs] == ["dummy", "logistic_regression"]

    code, out, err = cli("runs", "compare", *listed)
    assert code == 0 and "#3" in out, err
    rows = DATA / "titanic.csv"
    job = jobs[1]
    for ident in listed:
        code, out, err = cli("runs", "show", ident)
        assert code == 0 and Path(by_id[ident]["path"]).name in out, err
        code, out, err = cli("predict", ident, rows, "-o", tmp_path / "p.csv")
        assert code == 0 and "891 predictions" in out, err
        code, out, err = cli("serve", ident, "--workers", "0")
        assert code == 2 and "--workers" in err and "not found" not in err
    code, out, err = cli("drift", job, rows)
    assert code in (0, 3) and "not found" not in err, err
    code, out, err = cli("replay", job, "--quiet")
    assert code == 0 and "result: identical" in out, err

    # shorter forms: the run id alone, and <sweep id>/<job> as older listings printed it
    path = Path(by_id[job]["path"])
    for short in (path.name, f"{path.parent.name}/{path.name}"):
        code, out, err = cli("runs", "show", short)
        assert code == 0 and f"run       {job}  " in out, err
    # an id two runs share is refused with both named
    shutil.copytree(path, tmp_path / "runs" / "u" / path.name)
    code, _, err = cli("runs", "show", path.name)
    assert code == 2 and "ambiguous" in err and f"u/{path.name}" in err
    code, _, err = cli("predict", "t/nope", rows, "-o", "p.csv")
    assert code == 2 and "not found" in err and "registry:/" in err
    assert pd.read_csv(tmp_path / "p.csv").shape[0] == 891
