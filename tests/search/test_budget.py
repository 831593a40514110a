"""Search promises on titanic: the time budget holds, a budgeted search always ends with a model, an interrupt
keeps the finished trials' leaderboard and `--resume` continues with the trials an uninterrupted search runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import DATA, read_json

BASE = """
name: s
seed: 3
task: binary
data:
  source: {kind: csv, path: data/titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model: {name: lightgbm, params: {n_estimators: 30}, n_jobs: 1}
cv: {folds: 3}
report: {html: false, explain: false}
export: {format: joblib}
"""
SEARCH = BASE + """search:
  estimators: [lightgbm, logistic_regression]
  trials: 5
  metric: roc_auc
"""
# a LightGBM configuration whose single fold takes tens of seconds on titanic: only the in-fold stop ends it
SLOW_LGBM = BASE.replace("name: lightgbm, params: {n_estimators: 30}", "name: logistic_regression") + """search:
  estimators: [logistic_regression, lightgbm]
  time_budget: 4
  metric: roc_auc
  space:
    lightgbm: {n_estimators: 200000, num_leaves: 64, min_child_samples: 2, learning_rate: 0.01}  # ~40 s a fold
"""
COLUMNS = ["trial", "status", "model", "roc_auc_mean", "roc_auc_folds", "config"]


def _run(cli, path, runs_dir, *overrides):
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", *overrides)
    assert code == 0, err
    run_dir = json.loads(out)["run_dir"]
    return run_dir, read_json(f"{run_dir}/metrics.json"), err


# --------------------------------------------------------------------------------------------- units ---
def test_fold_guard_stops_lightgbm_inside_its_fit_and_forests_before_a_fold_that_would_overrun(monkeypatch):
    from lightgbm import LGBMClassifier
    from sklearn.pipeline import Pipeline

    from mlengine.evaluate.crossval import FoldDeadline, clock
    from mlengine.search import budget

    X = pd.DataFrame({"a": range(400), "b": [i % 7 for i in range(400)]})
    y = [i % 2 for i in range(400)]
    pipe = Pipeline([("model", LGBMClassifier(n_estimators=5000, learning_rate=0.01, verbose=-1, n_jobs=1))])
    # a deadline already reached stops the fit in its first boosting round (not a race with the machine's speed:
    # 5000 rounds on 400 rows finish in about 0.3 s on a quiet machine)
    guard = budget.FoldGuard("lightgbm", {"n_estimators": 5000}, deadline=clock() - 1)
    params = guard.fit_params(pipe)
    assert list(params) == ["model__callbacks"]
    with pytest.raises(FoldDeadline, match="boosting round 1$"):
        pipe.fit(X, y, **params)
    # a deadline far away lets every round run
    far = budget.FoldGuard("lightgbm", {"n_estimators": 50}, deadline=clock() + 600)
    short = Pipeline([("model", LGBMClassifier(n_estimators=50, verbose=-1, n_jobs=1))])
    short.fit(X, y, **far.fit_params(short))
    assert short.named_steps["model"].booster_.num_trees() == 50

    monkeypatch.setitem(budget._SECONDS_PER_UNIT, "random_forest", 0.1)  # 0.1 s per tree measured earlier
    forest = budget.FoldGuard("random_forest", {"n_estimators": 300}, deadline=clock() + 10)
    with pytest.raises(FoldDeadline, match="would end past the deadline"):
        forest.before_fold(1, 3, [])  # 30 s estimated, 10 s left
    budget.FoldGuard("random_forest", {"n_estimators": 50}, deadline=clock() + 10).before_fold(1, 3, [])
    with pytest.raises(FoldDeadline):  # a later fold: the trial's own folds so far are the estimate
        budget.FoldGuard("logistic_regression", {}, deadline=clock() + 1).before_fold(2, 3, [5.0])


def test_run_time_budget_leaves_a_reserve_and_caps_at_the_search_budget():
    from mlengine.evaluate.crossval import clock
    from mlengine.search.budget import RESERVE_MIN_S, search_budget

    assert search_budget(30, None, clock()).seconds == 30
    b = search_budget(None, 100, clock() - 20)  # 80 s left: a quarter (20 s) is kept
    assert b.reserve == pytest.approx(20, abs=0.5) and b.seconds == pytest.approx(60, abs=0.5)
    assert search_budget(15, 100, clock() - 20).seconds == 15
    short = search_budget(None, 12, clock())
    assert short.reserve == RESERVE_MIN_S and short.seconds == pytest.approx(2, abs=0.5)
    assert search_budget(None, 5, clock()).note and search_budget(None, 5, clock()).seconds == 1.0


def test_an_ensemble_gets_what_the_run_budget_leaves_after_the_best_refit_and_the_reserve():
    from mlengine.evaluate.crossval import clock
    from mlengine.search.budget import RESERVE_MIN_S, ensemble_allowance, refit_seconds
    from mlengine.search.trials import TrialRecord

    best = TrialRecord(1, "ok", "lightgbm", {}, {}, 6.0, folds=[0.8, 0.8, 0.8], mean=0.8)
    assert refit_seconds(best, 3) == pytest.approx(3.0) and refit_seconds(best, 1) == pytest.approx(2.0)
    assert ensemble_allowance(None, clock(), best, 3) is None
    left = ensemble_allowance(100, clock() - 20, best, 3)  # 80 s left, less a 3 s refit and the reserve
    assert left == pytest.approx(80 - 3 - RESERVE_MIN_S, abs=0.5)


# ------------------------------------------------------------------------------------------ budgets ---
@pytest.mark.slow
def test_the_time_budget_holds_when_a_trial_would_run_far_past_it(cli, write_recipe, runs_dir):
    run_dir, m, _ = _run(cli, write_recipe(SLOW_LGBM), runs_dir)
    s, budget = m["search"], 4
    slack = max(5.0, 0.1 * budget)  # the promise; a loaded 2-core machine stays inside it
    assert s["stopped_by"] == "time_budget" and s["seconds"] <= budget + slack
    assert m["timings_seconds"]["search"] <= budget + slack
    lb = pd.read_csv(Path(run_dir) / "leaderboard.csv")
    assert "timeout" in set(lb["status"]) and (Path(run_dir) / "model.joblib").is_file()
    assert m["wall_seconds"] >= m["timings_seconds"]["search"] and s["overrun_seconds"] <= slack


@pytest.mark.slow
def test_run_time_budget_scales_the_search_budget(cli, write_recipe, runs_dir):
    _, m, _ = _run(cli, write_recipe(SEARCH), runs_dir, "search.trials=500", "+run.time_budget=20")
    s, b = m["search"], m["search"]["budget"]
    assert b["run_time_budget"] == 20 and b["reserve_seconds"] >= 10
    assert b["search_seconds"] == pytest.approx(20 - b["run_seconds_before_search"] - b["reserve_seconds"], abs=0.01)
    assert s["stopped_by"] == "time_budget" and s["seconds"] <= b["search_seconds"] + 5
    assert m["run_budget"]["time_budget"] == 20 and m["run_budget"]["wall_seconds"] == m["wall_seconds"]
    assert m["wall_seconds"] < 2 * 20  # generous: the reserve covers refit and export of titanic


def _jump_clock_after(monkeypatch, folds: int) -> None:
    """Deadlines pass (the clock jumps a day) once `folds` folds have been scored: what a slow machine does,
    deterministically."""
    from mlengine.evaluate import crossval

    seen = {"scored": 0, "clock": 0}
    real_score, real_clock = crossval.score_all, crossval.clock

    def score_all(*args, **kwargs):
        seen["scored"] += 1
        return real_score(*args, **kwargs)

    def clock() -> float:  # its first reading sets the search's deadline
        seen["clock"] += 1
        return real_clock() + (86400 if seen["clock"] > 1 and seen["scored"] >= folds else 0)

    monkeypatch.setattr(crossval, "score_all", score_all)
    monkeypatch.setattr(crossval, "clock", clock)


def test_no_trial_finished_all_folds_uses_the_best_trial_on_the_folds_it_finished(cli, write_recipe, runs_dir,
                                                                                   monkeypatch):
    _jump_clock_after(monkeypatch, folds=1)
    run_dir, m, err = _run(cli, write_recipe(SEARCH), runs_dir, "~search.trials", "search.time_budget=60")
    fb = m["search"]["fallback"]
    assert fb["kind"] == "partial_folds" and fb["trial"] == 1 and fb["folds"] == 1
    assert "best on the folds it finished" in err and "best on the folds it finished" in fb["message"]
    assert len(m["cv"]["roc_auc"]["folds"]) == 1  # the cv scores say what was scored
    assert (Path(run_dir) / "model.joblib").is_file()
    lb = pd.read_csv(Path(run_dir) / "leaderboard.csv")
    assert lb.loc[lb["trial"] == 1, "status"].item() == "timeout"
    assert len(json.loads(lb.loc[lb["trial"] == 1, "roc_auc_folds"].item())) == 1


def test_no_fold_finished_fits_the_recipes_own_model_and_the_report_says_so(cli, write_recipe, runs_dir,
                                                                            monkeypatch):
    _jump_clock_after(monkeypatch, folds=0)
    text = SEARCH.replace("report: {html: false, explain: false}", "report: {explain: false}")
    run_dir, m, err = _run(cli, write_recipe(text), runs_dir, "~search.trials", "search.time_budget=60")
    fb = m["search"]["fallback"]
    assert fb["kind"] == "recipe_model" and "recipe's own model" in err
    assert m["search"]["best_overrides"]["model.name"] == "lightgbm"
    assert m["search"]["best_overrides"]["model.params.n_estimators"] == 30  # model.params, as without search
    assert m["cv"] is None and m["holdout"]["roc_auc"] > 0.8  # refit only: the budget is spent
    assert (Path(run_dir) / "model.joblib").is_file()
    assert "Fallback" in (Path(run_dir) / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_budgeted_search_whose_trials_all_failed_is_still_an_error(cli, write_recipe, runs_dir):
    """Only trials stopped by the clock fall back to a model; configurations the estimator rejects do not."""
    code, _, err = cli("run", write_recipe(SEARCH), "--runs-dir", runs_dir, "~search.trials", "search.time_budget=3",
                       "search.estimators=[logistic_regression]", "search.space.logistic_regression.solver=lbfgs",
                       "search.space.logistic_regression.l1_ratio=1.0")
    assert code == 2 and "trials failed, so there is no model" in err


# ------------------------------------------------------------------------------------ interrupt/resume ---
def _interrupt_at_trial(monkeypatch, n: int) -> None:
    """Ctrl-C while trial n runs (in this process)."""
    from mlengine.search import executors

    real = executors.run_trial
    calls = {"n": 0}

    def trial(setup, config, label="", bar=None):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(setup, config, label, bar)

    monkeypatch.setattr(executors, "run_trial", trial)


@pytest.mark.slow
def test_interrupt_keeps_the_leaderboard_and_resume_runs_the_uninterrupted_sequence(cli, write_recipe, runs_dir,
                                                                                   monkeypatch):
    path = write_recipe(SEARCH)
    full_dir, full, _ = _run(cli, path, runs_dir)
    with monkeypatch.context() as mp:
        _interrupt_at_trial(mp, 4)
        code, _, err = cli("run", path, "--runs-dir", runs_dir)
    assert code == 130 and "3 finished trial(s)" in err and "--resume" in err
    stopped = next(p for p in (runs_dir / "s").iterdir() if read_json(p / "status.json")["status"] == "interrupted")
    status = read_json(stopped / "status.json")
    assert status["error"]["progress"] == {"stage": "search", "trials_finished": 3}
    kept = pd.read_csv(stopped / "leaderboard.csv")
    assert sorted(kept["trial"]) == [1, 2, 3]
    resumed_dir, resumed, err = _run(cli, path, runs_dir, "--resume", stopped)
    assert resumed["search"]["trials_resumed"] == 3 and resumed["search"]["resumed_from"] == str(stopped)
    a = pd.read_csv(Path(full_dir) / "leaderboard.csv")[COLUMNS]
    b = pd.read_csv(Path(resumed_dir) / "leaderboard.csv")[COLUMNS]
    pd.testing.assert_frame_equal(a, b)  # the same trials, in the same order, with the same scores
    assert resumed["search"]["best"]["params"] == full["search"]["best"]["params"]
    assert resumed["holdout"] == full["holdout"] and resumed["cv"] == full["cv"]


def test_resume_refuses_what_it_cannot_continue(cli, write_recipe, runs_dir, tmp_path):
    path = write_recipe(SEARCH)
    code, _, err = cli("run", path, "--runs-dir", runs_dir, "--resume", tmp_path / "nope")
    assert code == 2 and "no such run directory" in err
    (tmp_path / "empty").mkdir()
    code, _, err = cli("run", path, "--runs-dir", runs_dir, "--resume", tmp_path / "empty")
    assert code == 2 and "no leaderboard.csv" in err
    code, _, err = cli("run", path, "--runs-dir", runs_dir, "--resume", tmp_path / "empty", "~search.trials",
                       "search.time_budget=5")
    assert code == 2 and "search.time_budget only" in err
    assert not runs_dir.exists()  # refused before any run directory


def test_resume_refuses_a_leaderboard_of_another_search(cli, write_recipe, runs_dir):
    path = write_recipe(SEARCH)
    run_dir, _, _ = _run(cli, path, runs_dir, "search.trials=2")
    code, _, err = cli("run", path, "--runs-dir", runs_dir, "--resume", run_dir, "model.params.n_estimators=50")
    assert code == 2 and "--resume: trial" in err and "proposes" in err


@pytest.mark.slow
def test_sigterm_during_a_search_keeps_the_leaderboard(tmp_path):
    """A real signal to a real `mlengine run`: the run is marked interrupted with its finished trials kept."""
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", tmp_path / "data" / "titanic.csv")
    (tmp_path / "recipe.yaml").write_text(SEARCH.replace("trials: 5", "trials: 400"), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "mlengine", "run", "recipe.yaml", "--runs-dir", "runs"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            logs = list((tmp_path / "runs").glob("s/.*.incomplete/run.log"))
            if logs and "trial 3/" in logs[0].read_text(encoding="utf-8", errors="replace"):
                break
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143 and "Traceback" not in err, err
    (run,) = (tmp_path / "runs" / "s").iterdir()
    status = read_json(run / "status.json")
    assert status["status"] == "interrupted" and "leaderboard.csv" in status["error"]["message"]
    kept = pd.read_csv(run / "leaderboard.csv")
    assert len(kept) == status["error"]["progress"]["trials_finished"] >= 3
    assert sorted(kept["trial"]) == list(range(1, len(kept) + 1))
