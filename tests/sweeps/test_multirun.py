"""Hydra multirun sweeps: cartesian products, range sweeps, parallel launcher, failures, summary, library."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import mlengine
from mlengine.errors import RecipeError

from tests.conftest import TITANIC

# small jobs: 2 folds, 10 trees, and no report.html or importances (what a sweep does with its jobs is the point,
# not each job's report, and neither can fail a job)
FAST = (TITANIC.replace("cv: {folds: 3}", "cv: {folds: 2}").replace("n_estimators: 30", "n_estimators: 10")
        + "report: {html: false, explain: false}\n")


@pytest.mark.slow  # end to end (--durations: among the slowest of make test-fast); CI runs it
def test_multirun_cartesian_product_with_summary(cli, write_recipe, runs_dir):
    path = write_recipe(FAST)
    code, out, err = cli("run", path, "-m", "model=lightgbm,logistic_regression", "split.holdout=0.2,0.3",
                         "--runs-dir", runs_dir, "--quiet")
    assert code == 0, err
    assert "4 jobs, 0 failed" in out
    sweep_dir = next(runs_dir.glob("t/sweeps/*"))
    summary = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert len(summary) == 4 and set(summary["status"]) == {"complete"}
    assert set(summary["overrides"]) == {f"model={m} split.holdout={h}" for m in ("lightgbm", "logistic_regression")
                                         for h in ("0.2", "0.3")}
    assert list(summary["job"]) == [0, 1, 2, 3]  # job order, numbered 0, 1, 2, ...
    best_first = summary.sort_values("cv_mean", ascending=False)  # roc_auc: higher is better, rank 1 = best
    assert list(best_first["rank"]) == [1, 2, 3, 4]
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[1:5]] == ["0", "1", "2", "3"]
    assert f"best: job {best_first['job'].iloc[0]} ({best_first['overrides'].iloc[0]})" in out
    assert len(list(sweep_dir.glob("job*-*"))) == 4
    holdout_rows = {json.loads((sweep_dir / d / "metrics.json").read_text())["rows"]["holdout"]
                    for d in summary["run_dir"]}
    assert holdout_rows == {179, 268}


@pytest.mark.slow
def test_flags_after_overrides_and_range_sweep(cli, write_recipe, runs_dir):
    code, out, err = cli("run", write_recipe(FAST), "cv.folds=range(2,4)", "-m", "--runs-dir", runs_dir, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert sorted(j["overrides"] for j in result["jobs"]) == ["cv.folds=2", "cv.folds=3"]
    folds = sorted(len(json.loads(open(f"{j['run_dir']}/metrics.json").read())["cv"]["roc_auc"]["folds"])
                   for j in result["jobs"])
    assert folds == [2, 3]


def test_float_range_labels_read_as_typed(cli, write_recipe, runs_dir):
    """Hydra's float range yields 0.30000000000000004: the label, the summary and the job's recipe say 0.3."""
    no_skill_ok = FAST + "evaluate: {require_beats_no_skill: false}\n"  # dummy has no skill, on purpose
    code, out, err = cli("run", write_recipe(no_skill_ok), "-m", "model=dummy", "split.holdout=range(0.2,0.35,0.1)",
                         "--runs-dir", runs_dir, "--quiet")
    assert code == 0, err
    assert "0000000" not in out and "split.holdout=0.3 " in out
    sweep_dir = next(runs_dir.glob("t/sweeps/*"))
    summary = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert list(summary["overrides"]) == ["model=dummy split.holdout=0.2", "model=dummy split.holdout=0.3"]
    manifest = json.loads(open(f"{summary['run_dir'][1]}/manifest.json").read())
    assert manifest["recipe"]["resolved"]["split"]["holdout"] == 0.3
    code, out, _ = cli("runs", "list", "--runs-dir", runs_dir)
    assert "split.holdout=0.3" in out and "0000000" not in out


@pytest.mark.parametrize("typed,shown", [
    ("0.30000000000000004", "0.3"), ("0.7000000000000001", "0.7"), ("2.0000000000000004", "2.0"),
    ("-0.30000000000000004", "-0.3"), ("1.0", "1.0"), ("1.50", "1.50"), ("1e-3", "1e-3"), ("3", "3"),
    ("lightgbm", "lightgbm"), ("1234567890123.5", "1234567890123.5"), ("[0.1,0.2]", "[0.1,0.2]"),
])
def test_tidy_value_rounds_only_float_residue(typed, shown):
    from mlengine.sweeps.labels import tidy_override, tidy_value

    assert tidy_value(typed) == shown
    assert tidy_override(f"++split.holdout={typed}") == f"++split.holdout={shown}"


def test_failing_job_does_not_stop_the_others(cli, write_recipe, runs_dir, tmp_path):
    path = write_recipe(FAST)
    (tmp_path / "data" / "tiny.csv").write_text("survived,age\n1,1\n1,2\n1,3\n")
    code, out, err = cli("run", path, "-m", "data.source.path=data/titanic.csv,data/tiny.csv",
                         "data.drop=[]", "--runs-dir", runs_dir, "--quiet")
    assert code == 1
    assert "2 jobs, 1 failed" in out and "job 1 failed" in out and "single class" in out
    summary = pd.read_csv(next(runs_dir.glob("t/sweeps/*")) / "sweep_summary.csv")
    assert list(summary["status"]) == ["complete", "failed"]  # job order, error kept
    assert summary["rank"].iloc[0] == 1 and pd.isna(summary["rank"].iloc[1])  # a failed job has no rank
    assert "single class" in summary["error"].iloc[1]


@pytest.mark.slow  # end to end (--durations: among the slowest of make test-fast); CI runs it
def test_joblib_launcher_runs_jobs_in_parallel_processes(write_recipe, runs_dir):
    frame = mlengine.sweep(write_recipe(FAST), {"model": ["lightgbm", "logistic_regression"]}, runs_dir=runs_dir,
                           launcher="joblib", n_jobs=2)
    assert list(frame["status"]) == ["complete", "complete"]
    threads = {json.loads(open(f"{d}/plan.json").read())["n_jobs"] for d in frame["run_dir"]}
    assert threads == {1}  # 2 parallel jobs on 2 cores: one thread each


@pytest.mark.slow
def test_second_joblib_sweep_in_one_process_writes_its_own_jobs(write_recipe, runs_dir):
    # loky reuses its worker processes, with the environment of the first sweep: jobs must not read it from there
    grid = {"model": ["dummy", "logistic_regression"], "evaluate.require_beats_no_skill": [False]}  # dummy: no skill
    first = mlengine.sweep(write_recipe(FAST), grid, runs_dir=runs_dir / "a", launcher="joblib", n_jobs=2)
    second = mlengine.sweep(write_recipe(FAST), grid, runs_dir=runs_dir / "b", launcher="joblib", n_jobs=2)
    assert list(first["status"]) == list(second["status"]) == ["complete", "complete"]
    assert all(d.startswith(second.attrs["sweep_dir"]) for d in second["run_dir"])


def test_library_sweep_returns_dataframe(write_recipe, runs_dir):
    frame = mlengine.sweep(write_recipe(FAST), {"cv.kind": ["kfold", "stratified_kfold"]}, runs_dir=runs_dir)
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2
    assert (frame.attrs["sweep_dir"] + "/sweep_summary.csv")


@pytest.mark.parametrize("override,needle", [
    ("modle=lightgbm,ridge", "Did you mean 'model'"),
    ("model=lightgbm,lightgbn", "Did you mean 'lightgbm'"),
    ("cv.fold=2,3", "Did you mean 'folds'"),
    ("cv.folds=[2,3", "malformed override"),
])
def test_bad_sweeps_fail_before_running_anything(cli, write_recipe, runs_dir, override, needle):
    code, _, err = cli("run", write_recipe(FAST), "-m", override, "--runs-dir", runs_dir)
    assert code == 2 and needle in err and "Traceback" not in err
    assert not runs_dir.exists() or not list(runs_dir.glob("*/sweeps/*/job*"))


def test_unknown_group_in_defaults_of_a_sweep(write_recipe, runs_dir):
    with pytest.raises(RecipeError, match="Did you mean 'kfold'"):
        mlengine.sweep(write_recipe("defaults:\n  - cv: kfodl\n  - _self_\n" + FAST), {"seed": [1, 2]},
                       runs_dir=runs_dir)


def test_configs_command_lists_groups_with_descriptions(cli):
    code, out, _ = cli("configs")
    assert code == 0 and "model/" in out and "cv/" in out and "time_series" in out
    code, out, _ = cli("configs", "cv")
    assert "model/" not in out and "stratified_kfold" in out
    code, _, err = cli("configs", "modl")
    assert code == 2 and "Did you mean 'model'" in err
