"""`mlengine replay`: identical replays, and every way a replay can be refused or diverge."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import TITANIC

# no CV and one thread (LightGBM's OpenMP threads crawl on a busy 2-core machine); default threads: test_determinism.
# No report.html or importances: a replay reports them as informational only; the first test replays a default run
FAST = TITANIC.replace("cv: {folds: 3}", "cv: {kind: none}").replace("  name: lightgbm\n",
                                                                 "  name: lightgbm\n  n_jobs: 1\n") + \
    "report: {html: false, explain: false}\n"


def _run(cli, recipe: Path, runs_dir: Path, *overrides: str) -> Path:
    code, out, err = cli("run", recipe, "--runs-dir", runs_dir, "--json", *overrides)
    assert code == 0, err
    return Path(json.loads(out)["run_dir"])


def _tree_hash(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


@pytest.mark.slow
def test_replay_is_identical_and_leaves_the_run_untouched(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(TITANIC), tmp_path / "runs", "model.n_jobs=1")  # 1 thread: fast on a busy machine
    before = _tree_hash(run)
    code, out, err = cli("replay", run, "--runs-dir", tmp_path / "replays")
    assert code == 0, err
    assert "result: identical (exit 0)" in out
    for row in ("data content", "metric holdout.roc_auc", "metric cv.roc_auc.mean", "predictions sha256",
                "artifact model.joblib", "artifact predictions.parquet"):
        line = next(x for x in out.splitlines() if x.startswith(row))
        assert "identical" in line, line
    assert _tree_hash(run) == before
    assert len(list((tmp_path / "replays" / "t").iterdir())) == 1
    assert not list(run.parent.glob("*incomplete*")) and len(list(run.parent.iterdir())) == 1


def test_replay_json(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(FAST), tmp_path / "runs")
    code, out, _ = cli("replay", run, "--json", "--runs-dir", tmp_path / "replays")
    report = json.loads(out)
    assert code == 0 and report["status"] == "identical" and report["exit_code"] == 0
    assert report["level"] == "refit" and report["overrides"] == {} and report["data_changes"] == []
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["predictions sha256"]["result"] == "identical"
    assert checks["metric holdout.roc_auc"]["recorded"] == checks["metric holdout.roc_auc"]["replayed"]
    assert Path(report["replay_dir"]).parent.parent == (tmp_path / "replays").resolve()


def test_one_changed_cell_is_a_named_fingerprint_mismatch(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(FAST), tmp_path / "runs")
    csv = tmp_path / "data" / "titanic.csv"
    lines = csv.read_text().splitlines(keepends=True)
    lines[101] = lines[101].replace("male", "female", 1)  # row 100, column sex
    csv.write_text("".join(lines))
    code, out, err = cli("replay", run, "--runs-dir", tmp_path / "replays")
    assert code == 1, err
    assert "DATA CHANGED: column 'sex': content changed in rows 56-111" in out
    assert "result: diverged (exit 1)" in out
    assert "data.source.path: file bytes changed" in out  # the source file's own hash, as a warning
    assert not (tmp_path / "replays").exists()  # nothing is fitted on changed data


def test_missing_data_file_and_data_option(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(FAST), tmp_path / "runs")
    moved = tmp_path / "moved" / "passengers.csv"
    moved.parent.mkdir()
    shutil.move(tmp_path / "data" / "titanic.csv", moved)
    code, out, err = cli("replay", run)
    assert code == 2 and "Traceback" not in err
    assert "data.source.path: the recorded data file" in err and "is missing" in err and "--data PATH" in err
    code, out, err = cli("replay", run, "--data", moved, "--runs-dir", tmp_path / "replays")
    assert code == 0, err
    assert "result: identical" in out
    code, out, err = cli("replay", run, "--data", tmp_path / "nope.csv")
    assert code == 2 and "--data: file" in err and "does not exist" in err


def test_data_option_with_other_content_diverges(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(FAST), tmp_path / "runs")
    other = tmp_path / "fewer.csv"
    other.write_text("".join((tmp_path / "data" / "titanic.csv").read_text().splitlines(keepends=True)[:-10]))
    code, out, _ = cli("replay", run, "--data", other)
    assert code == 1 and "DATA CHANGED: rows: 891 recorded, 881 now (10 fewer)" in out


def test_incomplete_failed_and_not_a_run(cli, write_recipe, tmp_path):
    code, out, _ = cli("run", write_recipe(FAST.replace("titanic.csv", "gone.csv")), "--runs-dir",
                       tmp_path / "runs", "--json")
    failed = Path(json.loads(out)["run_dir"])
    code, _, err = cli("replay", failed)
    assert code == 2 and "is a failed run (DataError" in err and "only complete runs" in err
    interrupted = tmp_path / "runs" / "t" / ".20260101-000000-abcdef.incomplete"
    interrupted.mkdir()
    code, _, err = cli("replay", interrupted)
    assert code == 2 and "interrupted run" in err
    code, _, err = cli("replay", tmp_path / "runs")
    assert code == 2 and "not a complete run" in err and "give one run directory" in err
    code, _, err = cli("replay", tmp_path / "nowhere")
    assert code == 2 and "does not exist" in err


def test_damaged_record_is_refused(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(FAST), tmp_path / "runs")
    for name, damage, expected in [
        ("model.joblib", lambda p: p.unlink(), "model.joblib (listed in manifest.json) is missing"),
        ("predictions.parquet", lambda p: p.write_bytes(p.read_bytes() + b"x"), "was changed after the run"),
        ("manifest.json", lambda p: p.unlink(), "has no manifest.json"),
    ]:
        copy = tmp_path / f"copy-{name}"
        shutil.copytree(run, copy)
        damage(copy / name)
        code, _, err = cli("replay", copy)
        assert code == 2 and expected in err, (name, err)
        assert "Traceback" not in err


def test_hand_edited_manifest_is_refused(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(FAST), tmp_path / "runs")
    m = _manifest(run)
    m["data"]["rows"] = 892  # a plausible edit: the seal catches it
    (run / "manifest.json").write_text(json.dumps(m))
    code, _, err = cli("replay", run)
    assert code == 2 and "manifest.json was changed after the run" in err
    m["data"]["columns"] = ["survived", "sex"]  # a structural edit: the schema check names the key
    (run / "manifest.json").write_text(json.dumps(m))
    code, _, err = cli("replay", run)
    assert code == 2 and "does not match the manifest schema" in err and "data.columns" in err


def test_package_version_differences_are_warnings(cli, write_recipe, tmp_path, monkeypatch):
    from mlengine.runs import environment

    run = _run(cli, write_recipe(FAST), tmp_path / "runs")
    real = environment.package_versions

    def other_versions():
        return {**real(), "lightgbm": "9.9.9", "onnx": None}

    monkeypatch.setattr(environment, "package_versions", other_versions)
    code, out, err = cli("replay", run, "--runs-dir", tmp_path / "replays")
    assert code == 0, err
    assert "warning: package lightgbm: 4.7.0 recorded, 9.9.9 now" in out
    assert "warning: package onnx: 1.23.2 recorded, not installed now" in out
    assert "result: identical" in out


def test_level_search_without_a_search_and_bad_options(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(FAST), tmp_path / "runs")
    code, _, err = cli("replay", run, "--level", "search")
    assert code == 2 and "had no search (manifest search: null)" in err and "--level refit" in err
    code, _, err = cli("replay", run, "--level", "grid")
    assert code == 2 and "invalid choice: 'grid'" in err
    code, _, err = cli("replay", run, "--tolerance", "-1")
    assert code == 2 and "--tolerance: must be a number >= 0" in err
    code, _, err = cli("replay", run, "--runs-dir", run / "inside")
    assert code == 2 and "inside the run being replayed" in err
    assert not (run / "inside").exists()


def test_run_from_a_machine_with_more_cores_pins_threads(cli, write_recipe, tmp_path, monkeypatch):
    """Recorded with model.n_jobs=0 on 8 cores: the replay here pins 8 threads and reproduces the model bytes."""
    import os

    real = os.cpu_count
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    run = _run(cli, write_recipe(FAST), tmp_path / "runs", "model.n_jobs=0")  # 0 = all cores
    monkeypatch.setattr(os, "cpu_count", real)
    assert _manifest(run)["threads"]["model_n_jobs"] == 8
    code, out, err = cli("replay", run, "--json", "--runs-dir", tmp_path / "replays")
    report = json.loads(out)
    assert code == 0, [c for c in report["checks"] if c["result"] != "identical"]
    assert report["overrides"] == {"model.n_jobs": 8}  # the resolved recipe said 0 (all cores)
    assert any("model.n_jobs pinned to the recorded 8 threads" in w for w in report["warnings"])
    checks = {c["name"]: c["result"] for c in report["checks"]}
    assert checks["artifact model.joblib"] == "identical"
    assert checks["artifact recipe.yaml"] == "differs (not checked)"  # it now spells model.n_jobs: 8


def test_overrides_for_a_search_record():
    from mlengine.runs.replay import apply_overrides, level_overrides

    search = {"trials": 12, "metric": "roc_auc", "best_trial": 7, "history": [],
              "best_config": {"model.name": "random_forest", "model.params.max_depth": 6}}
    manifest = {"search": search, "run": {"id": "x"}}
    assert level_overrides(manifest, "refit") == {"model.name": "random_forest", "model.params.max_depth": 6,
                                                  "search.trials": 0}
    assert level_overrides(manifest, "search") == {"search.trials": 12}
    resolved = {"model": {"name": "lightgbm", "params": {"num_leaves": 15}}, "search": {"trials": 12}}
    data, notes = apply_overrides(resolved, level_overrides(manifest, "refit"))
    assert data["model"] == {"name": "random_forest", "params": {"max_depth": 6}} and data["search"]["trials"] == 0
    assert "num_leaves" in notes[0] and resolved["model"]["params"] == {"num_leaves": 15}


def test_library_replay(write_recipe, tmp_path):
    import mlengine
    from mlengine.errors import ReplayMismatch

    result = mlengine.run(write_recipe(FAST), runs_dir=tmp_path / "runs")
    report = mlengine.replay(result.run_dir, runs_dir=tmp_path / "replays")
    assert report.ok and report.status == "identical" and report.exit_code == 0
    report.raise_for_status()
    lines = (tmp_path / "data" / "titanic.csv").read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace(",7.25,", ",7.3,")  # row 0, column fare
    (tmp_path / "other.csv").write_text("".join(lines))
    report = mlengine.replay(result.run_dir, data=[str(tmp_path / "other.csv")])
    assert not report.ok and report.exit_code == 1 and report.replay_dir is None
    with pytest.raises(ReplayMismatch, match="column 'fare': content changed in rows 0-55"):
        report.raise_for_status()


SQL = """
name: q
seed: 1
data:
  source:
    kind: sql
    query: SELECT p.* FROM passengers p JOIN (SELECT 1 AS one FROM extra LIMIT 1) e ON TRUE
    tables: {passengers: data/titanic.csv, extra: data/penguins.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model: {name: lightgbm, params: {n_estimators: 20}, n_jobs: 1}
cv: {kind: none}
"""


@pytest.mark.slow
def test_sql_tables_are_fingerprinted_and_relocated_by_name(cli, write_recipe, tmp_path):
    run = _run(cli, write_recipe(SQL, files=("titanic.csv", "penguins.csv")), tmp_path / "runs")
    files = {f["key"]: f for f in _manifest(run)["data"]["source"]["files"]}
    assert set(files) == {"data.source.tables.passengers", "data.source.tables.extra"}
    assert _manifest(run)["data"]["source"]["query"].startswith("SELECT p.*")
    copy = tmp_path / "copy.csv"
    shutil.copy(tmp_path / "data" / "titanic.csv", copy)
    code, _, err = cli("replay", run, "--data", copy)
    assert code == 2 and "name the table as --data NAME=PATH (tables: passengers, extra)" in err
    code, out, err = cli("replay", run, "--data", f"passengers={copy}", "--runs-dir", tmp_path / "replays")
    assert code == 0, out + err
    assert "data.source.tables.passengers: using" in err and "result: identical" in out


@pytest.mark.slow
def test_a_matching_replay_without_runs_dir_leaves_no_temporary_folder(write_recipe, tmp_path, monkeypatch):
    import tempfile

    import mlengine

    from tests.conftest import TITANIC

    result = mlengine.run(write_recipe(TITANIC), runs_dir=tmp_path / "runs")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    report = mlengine.replay(result.run_dir)
    assert report.ok and report.replay_dir is None
    assert any("removed" in w for w in report.warnings)
    assert not [p for p in scratch.iterdir() if p.name.startswith("mlengine-replay-")]
