"""The search end to end on bundled data: declared space, trial log, determinism, replay, pipeline parameters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import read_json

SEARCH = """
name: s
seed: 3
task: binary
data:
  source: {kind: csv, path: data/titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model: {name: lightgbm, params: {n_estimators: 30}, n_jobs: 1}
cv: {folds: 3}
search:
  estimators: [lightgbm, logistic_regression]
  trials: 6
  metric: roc_auc
  ensemble: {method: none}  # these tests follow the single best trial; the greedy default has tests of its own
  space:
    lightgbm:
      num_leaves: {high: 32}                                # narrowed
      reg_alpha: 0.01                                       # pinned
      subsample: {domain: uniform, low: 0.5, high: 1.0}     # added
      subsample_freq: 1                                     # pinned, so subsample acts
    logistic_regression:
      C: {low: 0.01, high: 100}
"""


def _run(cli, path, runs_dir, *overrides):
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", *overrides)
    assert code == 0, err
    run_dir = json.loads(out)["run_dir"]
    return run_dir, read_json(f"{run_dir}/metrics.json")


@pytest.mark.slow
def test_declared_space_runs_end_to_end(cli, write_recipe, runs_dir):
    run_dir, m = _run(cli, write_recipe(SEARCH), runs_dir)
    s = m["search"]
    board = pd.read_csv(f"{run_dir}/leaderboard.csv")
    assert len(board) == s["trials_run"] == 6 and set(board["status"]) <= {"ok", "pruned"}
    assert pd.read_parquet(f"{run_dir}/leaderboard.parquet")["trial"].tolist() == board["trial"].tolist()
    assert board[board["status"] == "ok"]["roc_auc_mean"].is_monotonic_decreasing  # best first
    assert set(board["model"]) == {"lightgbm", "logistic_regression"}
    lgbm = board[board["model"] == "lightgbm"]
    assert (lgbm["param.reg_alpha"] == 0.01).all() and (lgbm["param.num_leaves"] <= 32).all()
    assert lgbm["param.subsample"].between(0.5, 1.0).all()
    lr = board[board["model"] == "logistic_regression"]
    assert lr["param.C"].between(0.01, 100).all() and lr["param.num_leaves"].isna().all()
    for _, row in board.iterrows():  # per-fold scores, mean and config are all there (pruned: the folds done)
        folds = json.loads(row["roc_auc_folds"])
        assert (len(folds) == 3) == (row["status"] == "ok")
        assert abs(sum(folds) / len(folds) - row["roc_auc_mean"]) < 1e-12
        assert json.loads(row["config"])["model"] == row["model"]
    best = s["best"]
    assert best["trial"] == int(board.iloc[0]["trial"]) and best["mean"] == board.iloc[0]["roc_auc_mean"]
    assert m["cv"]["roc_auc"]["folds"] == best["folds"]  # the fit reused the best trial's CV ...
    log = open(f"{run_dir}/run.log", encoding="utf-8").read()
    assert "cross-validating" not in log  # ... and did not cross-validate again
    assert s["best_overrides"]["model.name"] == best["model"]
    assert all(s["best_overrides"][f"model.params.{k}"] == v for k, v in best["params"].items())
    assert [h["trial"] for h in s["history"]] == list(range(1, 7))
    assert json.load(open(f"{run_dir}/model.json"))["model"] == best["model"]
    plan = open(f"{run_dir}/plan.txt", encoding="utf-8").read()
    assert "search space" in plan and "num_leaves" in plan and "lograndint 4..32" in plan
    assert "lightgbm | logistic_regression" in plan


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["cfo", "blendsearch"])
def test_same_trials_twice_give_the_same_search(cli, write_recipe, runs_dir, algorithm):
    path = write_recipe(SEARCH)
    runs = [_run(cli, path, runs_dir, f"search.algorithm={algorithm}") for _ in range(2)]
    (d1, m1), (d2, m2) = runs
    keep = ["trial", "model", "roc_auc_mean", "roc_auc_folds", "config"]
    b1 = pd.read_csv(f"{d1}/leaderboard.csv")[keep].sort_values("trial").reset_index(drop=True)
    b2 = pd.read_csv(f"{d2}/leaderboard.csv")[keep].sort_values("trial").reset_index(drop=True)
    pd.testing.assert_frame_equal(b1, b2)
    assert m1["search"]["best"] == {**m2["search"]["best"], "seconds": m1["search"]["best"]["seconds"]}
    assert m1["holdout"] == m2["holdout"]


@pytest.mark.slow
def test_replaying_the_best_overrides_without_search_reproduces_the_best_trial(cli, write_recipe, runs_dir):
    path = write_recipe(SEARCH)
    run_dir, m = _run(cli, path, runs_dir, "search.trials=4", "search.estimators=[lightgbm]")
    best = m["search"]["best"]
    replay_dir, r = _run(cli, path, runs_dir, *m["search"]["replay_overrides"])
    assert "search" not in r and r["cv"]["roc_auc"]["folds"] == best["folds"]
    assert r["holdout"] == m["holdout"]
    p1 = pd.read_parquet(f"{run_dir}/predictions.parquet")
    p2 = pd.read_parquet(f"{replay_dir}/predictions.parquet")
    pd.testing.assert_frame_equal(p1, p2)
    # the flat form: a recipe without model.params of its own takes model.name / model.params.<p> directly
    flat = [f"{k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in m["search"]["best_overrides"].items()]
    _, r2 = _run(cli, write_recipe(SEARCH.replace("params: {n_estimators: 30}, ", ""), name="flat.yaml"),
                 runs_dir, "search.trials=0", *flat)
    assert r2["cv"]["roc_auc"]["folds"] == best["folds"]


@pytest.mark.slow
def test_pipeline_parameters_are_searched_and_replayed(cli, write_recipe, runs_dir):
    path = write_recipe(SEARCH)
    key = "search.pipeline.preprocess.cat__min_frequency"
    run_dir, m = _run(cli, path, runs_dir, "search.estimators=[logistic_regression]", "search.trials=5",
                      f"{key}.domain=randint", f"{key}.low=1", f"{key}.high=40", f"{key}.init=1")
    board = pd.read_csv(f"{run_dir}/leaderboard.csv")
    values = board["pipeline.preprocess.cat__min_frequency"]
    assert values.between(1, 40).all() and values.nunique() > 1
    best = m["search"]["best"]
    chosen = best["pipeline_params"]["preprocess.cat__min_frequency"]
    assert m["search"]["best_overrides"][key] == chosen  # no recipe key of its own: replayed as a pin
    import joblib

    model = joblib.load(f"{run_dir}/model.joblib")
    assert model.named_steps["preprocess"].named_transformers_["cat"].min_frequency == chosen
    _, r = _run(cli, path, runs_dir, *m["search"]["replay_overrides"])
    assert r["cv"]["roc_auc"]["folds"] == best["folds"]


@pytest.mark.slow
def test_a_failing_configuration_does_not_stop_the_search(cli, write_recipe, runs_dir):
    run_dir, m = _run(cli, write_recipe(SEARCH), runs_dir, "search.space.logistic_regression.solver=lbfgs",
                      "search.space.logistic_regression.l1_ratio=1.0")
    board = pd.read_csv(f"{run_dir}/leaderboard.csv")
    failed = board[board["status"] == "failed"]
    assert len(failed) >= 1 and (failed["model"] == "logistic_regression").all()
    assert failed["error"].str.contains("Solver lbfgs supports only").all() and failed["rank"].isna().all()
    assert m["search"]["best"]["model"] == "lightgbm" and m["search"]["trials_run"] == 6


@pytest.mark.slow  # end to end (--durations: among the slowest of make test-fast); CI runs it
def test_pruning_races_each_trial_against_the_best_on_the_same_folds(cli, write_recipe, runs_dir):
    from mlengine.search.trial import should_prune

    path = write_recipe(SEARCH)
    run_dir, m = _run(cli, path, runs_dir, "search.trials=12", "cv.folds=5")
    board = pd.read_csv(f"{run_dir}/leaderboard.csv").sort_values("trial")
    pruned = board[board["status"] == "pruned"]
    assert len(pruned) >= 1 and m["search"]["trials_pruned"] == len(pruned)
    assert pruned["rank"].isna().all() and pruned["error"].str.contains("pruned after").all()
    best_folds = None
    for _, row in board.iterrows():  # in-process trials: the bar is the best ok trial before this one
        folds = json.loads(row["roc_auc_folds"])
        if row["status"] == "pruned":
            assert best_folds is not None and len(folds) < 5
            assert should_prune(folds, best_folds, True)  # pruned at the first fold the rule allows
            assert not any(should_prune(folds[:i], best_folds, True) for i in range(1, len(folds)))
        elif row["status"] == "ok":
            assert len(folds) == 5
            if best_folds is not None:
                assert not any(should_prune(folds[:i], best_folds, True) for i in range(1, 5))
            if best_folds is None or sum(folds) > sum(best_folds):
                best_folds = folds
    assert m["search"]["best"]["status"] == "ok" and m["search"]["best"]["trial"] not in set(pruned["trial"])
    # prune off: every trial runs all its folds
    off_dir, off = _run(cli, path, runs_dir, "search.trials=12", "cv.folds=5", "search.prune=false")
    assert set(pd.read_csv(f"{off_dir}/leaderboard.csv")["status"]) == {"ok"} and off["search"]["trials_pruned"] == 0


def test_pruning_rule():
    from mlengine.search.trial import should_prune

    bar = [0.80, 0.90, 0.85]  # std 0.041
    assert not should_prune([0.78], bar, True)  # 0.02 behind on fold 1: within one std
    assert should_prune([0.70], bar, True)  # 0.10 behind
    assert should_prune([0.78, 0.86], bar, True)  # 0.03 behind after 2 folds: margin 0.041 / sqrt(2) = 0.029
    assert not should_prune([0.95, 0.80], bar, True)  # ahead on average
    assert not should_prune([0.1, 0.1, 0.1], bar, True)  # never after the last fold: the trial is complete
    assert should_prune([1.0], [0.5, 0.6], False) and not should_prune([0.52], [0.5, 0.6], False)  # lower is better
    assert not should_prune([0.5], [], True)


@pytest.mark.slow
def test_early_stop_and_progress_lines(cli, write_recipe, runs_dir):
    path = write_recipe(SEARCH)
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "search.trials=40", "search.early_stop=2",
                         "search.estimators=[logistic_regression]")
    assert code == 0, err
    assert "trial 1/40 logistic_regression" in err and "| best " in err and "elapsed" in err
    assert re.search(r"trial 2/40 .* elapsed, ~\d+s left", err)  # the pace so far: time left for the trials
    m = read_json(next(runs_dir.rglob("metrics.json")))
    s = m["search"]
    assert s["stopped_by"] == "early_stop" and s["trials_run"] < 40
    assert all(h["mean"] <= s["best"]["mean"] for h in s["history"][-2:] if h["status"] == "ok")
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "search.trials=2", "--quiet")
    assert code == 0 and "trial 1/2" not in err


@pytest.mark.slow
def test_time_budget_caps_the_search(cli, write_recipe, runs_dir):
    _, m = _run(cli, write_recipe(SEARCH), runs_dir, "~search.trials", "search.time_budget=2")
    s = m["search"]
    assert s["stopped_by"] == "time_budget" and s["trials_ok"] >= 1 and s["trials_requested"] is None


@pytest.mark.slow
def test_voting_ensemble_is_kept_only_if_better(cli, write_recipe, runs_dir):
    run_dir, m = _run(cli, write_recipe(SEARCH), runs_dir, "search.ensemble.method=voting",
                      "search.ensemble.top_k=2")
    e, best = m["search"]["ensemble"], m["search"]["best"]
    assert len(e["members"]) == 2 and e["members"][0] == best["trial"]
    assert e["kept"] == (e["cv_mean"] > best["mean"])
    bundle = json.load(open(f"{run_dir}/model.json"))
    if e["kept"]:
        assert bundle["model"].startswith("voting(") and m["cv"]["roc_auc"]["mean"] == e["cv_mean"]
    else:
        assert bundle["model"] == best["model"] and m["cv"]["roc_auc"]["mean"] == best["mean"]


@pytest.mark.slow  # end to end (--durations: among the slowest of make test-fast); CI runs it
def test_greedy_ensemble_selects_on_out_of_fold_predictions_and_replays_identically(cli, write_recipe, runs_dir,
                                                                                     tmp_path):
    path = write_recipe(SEARCH)
    run_dir, m = _run(cli, path, runs_dir, "search.trials=20", "cv.folds=5", "search.ensemble.method=greedy",
                      "search.ensemble.top_k=8", "search.estimators=[lightgbm,random_forest,logistic_regression]",
                      # early stopping off: members are then fitted as their trials were (with it on, an ensemble
                      # of early-stopped members is cross-validated itself: mlengine/search/ensemble.py)
                      "model.early_stopping.enabled=false")
    e, best = m["search"]["ensemble"], m["search"]["best"]
    assert e["method"] == "greedy" and e["kept"] and len(e["members"]) >= 2  # this seed's search gains from it
    assert e["cv_mean"] > best["mean"] and m["cv"]["roc_auc"]["mean"] == e["cv_mean"]
    assert len(e["weights"]) == len(e["members"]) and all(w >= 1 for w in e["weights"])
    board = pd.read_csv(f"{run_dir}/leaderboard.csv")
    assert set(e["members"]) <= set(board[board["status"] == "ok"]["trial"])
    model = json.load(open(f"{run_dir}/model.json"))["model"]
    assert model.startswith("greedy(") and model.count(",") == len(e["members"]) - 1
    pins = m["search"]["best_overrides"]["search.ensemble.members"]
    assert [p["weight"] for p in pins] == e["weights"]
    # the selection scored blended out-of-fold predictions; cross-validating the weighted vote (what a replay
    # does with the pinned members) gives the same fold scores, bit for bit
    code, out, err = cli("replay", run_dir, "--json", "--runs-dir", tmp_path / "replay")
    report = json.loads(out)
    assert code == 0, [c for c in report["checks"] if c["result"] not in ("identical", "differs (not checked)")]
    replayed = read_json(Path(report["replay_dir"]) / "metrics.json")
    assert replayed["cv"]["roc_auc"]["folds"] == m["cv"]["roc_auc"]["folds"]


@pytest.mark.slow
@pytest.mark.parametrize("model,refit", [("random_forest", False), ("lightgbm", True)])
def test_calibration_after_a_search_reuses_out_of_fold_probabilities(cli, write_recipe, runs_dir, model, refit):
    run_dir, m = _run(cli, write_recipe(SEARCH), runs_dir, "search.trials=3", f"search.estimators=[{model}]",
                      "+calibration.method=sigmoid")
    log = open(f"{run_dir}/run.log", encoding="utf-8").read()
    record = m["calibration"]
    # predict_proba (random forest): the best trial's out-of-fold probabilities, no second CV; decision_function
    # (LightGBM's raw scores): its values were not kept, so the best config is cross-validated again
    assert ("cross-validating" in log) == refit
    assert record["response"] == ("decision_function" if refit else "predict_proba")
    assert ("search's out-of-fold predictions" in record["fitted_on"]) != refit
    assert record["rows"] == m["rows"]["train"]
    assert m["cv_uncalibrated"]["roc_auc"]["folds"] == m["search"]["best"]["folds"]  # cv: the calibrated model


@pytest.mark.slow
def test_stacking_ensemble_on_regression(cli, write_recipe, runs_dir):
    recipe = write_recipe("name: wage\nseed: 1\ndata:\n  source: {kind: csv, path: data/wage_panel.csv}\n"
                          "  target: lwage\n  drop: [nr]\nmodel: {n_jobs: 1}\ncv: {folds: 3}\n"
                          "search: {estimators: [lightgbm, ridge], trials: 4, warm_start: none,\n"
                          "  ensemble: {method: stacking}}\n", files=("wage_panel.csv",))
    run_dir, m = _run(cli, recipe, runs_dir)
    e, best = m["search"]["ensemble"], m["search"]["best"]
    assert e["method"] == "stacking" and e["kept"] == (e["cv_mean"] > best["mean"])  # r2: higher is better
    assert m["holdout"]["r2"] > 0


@pytest.mark.slow
def test_two_concurrent_trials_share_the_cores_and_stay_deterministic(cli, write_recipe, runs_dir):
    import os

    path = write_recipe(SEARCH)
    (d1, m1), (d2, m2) = [_run(cli, path, runs_dir, "search.n_concurrent=2", "model.n_jobs=0") for _ in range(2)]
    s = m1["search"]
    cores = os.cpu_count()
    assert s["n_concurrent"] == min(2, cores) and s["threads_per_trial"] * s["n_concurrent"] <= max(cores, 1)
    assert s["trials_run"] == 6 and s["trials_ok"] + s["trials_pruned"] == 6
    # results are told to the searcher in start order, so parallel trials give the same sequence too
    keep = ["trial", "model", "roc_auc_mean", "config"]
    b1, b2 = (pd.read_csv(f"{d}/leaderboard.csv")[keep].sort_values("trial").reset_index(drop=True) for d in (d1, d2))
    pd.testing.assert_frame_equal(b1, b2)


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # on the worker of the Ray-cluster tests: never two Rays at once
def test_ray_backend_starts_a_local_ray_without_an_address(cli, write_recipe, runs_dir, monkeypatch):
    import os

    if os.environ.get("MLENGINE_REQUIRE_RAY") != "1":
        pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # no address: a local Ray for the run, stopped after it
    run_dir, m = _run(cli, write_recipe(SEARCH), runs_dir, "search.backend=ray", "search.n_concurrent=2",
                      "search.trials=4")
    assert m["search"]["backend"] == "ray" and m["search"]["trials_ok"] + m["search"]["trials_pruned"] == 4
    assert "started a local Ray for this run" in Path(f"{run_dir}/run.log").read_text(encoding="utf-8")
    import ray

    assert not ray.is_initialized()


@pytest.mark.slow
def test_the_resample_record_reports_the_searched_value_not_the_recipes(cli, write_recipe, runs_dir):
    """resample.k_neighbors is 5 in the recipe; the search picks 2 or 9 through set_params: the record says which."""
    path = write_recipe(SEARCH + "resample: {method: smotenc, k_neighbors: 5}\n")
    key = "search.pipeline.resample.k_neighbors"
    run_dir, m = _run(cli, path, runs_dir, "search.estimators=[logistic_regression]", "search.trials=3",
                      f"{key}.domain=choice", f"{key}.values=[2,9]")
    chosen = m["search"]["best"]["pipeline_params"]["resample.k_neighbors"]
    assert chosen in (2, 9)
    assert m["resample"]["params"]["k_neighbors"] == chosen
