"""The search stage (mlengine/search/stage.py): a no-op when the search is off, otherwise it runs the trials,
writes the leaderboard, hands the best config (or a kept ensemble) to the fit and records the search in
metrics.json; a pinned ensemble is built and cross-validated without a search; an interrupt's message says what
the search kept and how to resume."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from sklearn import ensemble as E

from mlengine.api import load_recipe
from mlengine.errors import RunInterrupted
from mlengine.runner import check_recipe_data
from mlengine.runs.rundir import RunDir
from mlengine.search import stage as search_stage
from mlengine.search.stage import stage_search
from mlengine.search.trials import TrialRecord
from mlengine.stages import run_stage

from tests.conftest import DATA

BASE = {"name": "s", "seed": 1,
        "data": {"source": {"kind": "csv", "path": "t300.csv"}, "target": "survived",
                 "drop": ["alive", "who", "adult_male", "class", "embark_town"]},
        "model": {"name": "logistic_regression", "n_jobs": 1}, "cv": {"folds": 2},
        "report": {"html": False, "explain": False}}
SEARCH = {"estimators": ["logistic_regression", "random_forest"], "trials": 4,
          "space": {"random_forest": {"n_estimators": {"domain": "randint", "low": 3, "high": 8}}}}  # greedy: the default
PINNED = {"ensemble": {"method": "voting", "members": [{"model": "logistic_regression", "params": {"C": 0.5}},
                                                      {"model": "random_forest", "params": {"n_estimators": 5}}]}}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("search-stage")
    pd.read_csv(DATA / "titanic.csv").sample(300, random_state=0).to_csv(base / "t300.csv", index=False)
    return base


def _ctx(data_dir, tmp_path, search: dict | None = None):
    """The run state after the modelling checks (the real stages), in a run directory under tmp_path."""
    recipe = copy.deepcopy(BASE) | ({"search": search} if search else {})
    ctx = check_recipe_data(load_recipe(recipe, base_dir=data_dir))
    ctx.rd = RunDir(tmp_path, "s")
    return ctx


@pytest.fixture(scope="module")
def searched(data_dir, tmp_path_factory):
    ctx = _ctx(data_dir, tmp_path_factory.mktemp("searched"), SEARCH)
    run_stage(stage_search, ctx)
    return ctx


def test_a_search_without_an_ensemble_key_ends_with_the_greedy_ensemble(data_dir, tmp_path):
    """`search:` alone gets the greedy ensemble (kept only if better); `ensemble: {method: none}` the single best."""
    assert _ctx(data_dir, tmp_path, SEARCH).recipe.search.ensemble.method == "greedy"
    single = _ctx(data_dir, tmp_path, {**SEARCH, "ensemble": {"method": "none"}})
    run_stage(stage_search, single)
    assert single.report["search"]["ensemble"] is None and single.model_name == single.candidate.model


def test_without_a_search_the_stage_changes_nothing(data_dir, tmp_path):
    ctx = _ctx(data_dir, tmp_path)
    run_stage(stage_search, ctx)
    assert ctx.candidate is None and ctx.pipeline is None and ctx.cv_result is None and ctx.model_name is None
    assert "search" not in ctx.report and ctx.artifacts == {}
    assert not (ctx.rd.path / "leaderboard.csv").exists()


def test_the_search_writes_its_leaderboard(searched):
    board = pd.read_csv(searched.rd.path / "leaderboard.csv")
    assert len(board) == 4 and sorted(board["trial"]) == [1, 2, 3, 4]
    assert list(board["rank"].dropna()) == list(range(1, 1 + board["rank"].notna().sum()))
    assert len(pd.read_parquet(searched.rd.path / "leaderboard.parquet")) == 4
    assert searched.artifacts == {"leaderboard.csv": {"rows": 4}, "leaderboard.parquet": {"rows": 4}}


def test_the_best_trial_is_handed_to_the_fit(searched):
    s = searched.report["search"]
    best = s["best"]
    assert best["trial"] == min(h["trial"] for h in s["history"] if h["mean"] == max(x["mean"] for x in s["history"]
                                                                                       if x["status"] == "ok"))
    assert searched.candidate.model == best["model"] and searched.candidate.params == best["params"]
    assert searched.cv_result is not None and len(searched.cv_result.scores["roc_auc"]) == 2


def test_metrics_json_records_the_search(searched):
    s = searched.report["search"]
    assert s["algorithm"] == "cfo" and s["metric"] == "roc_auc" and s["greater_is_better"] is True
    assert s["seed"] == 1 and s["trials_requested"] == 4 and s["trials_run"] == 4 == len(s["history"])
    assert s["trials_ok"] + s["trials_pruned"] <= 4 and s["stopped_by"] == "trials"
    assert s["estimators"] == ["random_forest", "logistic_regression"]
    assert s["space"]["random_forest"]["n_estimators"]["low"] == 3
    assert s["history"][0]["model"] == "logistic_regression"  # the recipe's model is the start point
    assert s["fallback"] is None and s["resumed_from"] is None and s["trials_resumed"] == 0
    assert s["overrun_seconds"] is None and s["final_model"] == searched.model_name
    assert s["best_overrides"]["model.name"] == s["best"]["model"]


def test_a_kept_greedy_ensemble_replaces_the_best_pipeline_and_is_pinned_in_the_overrides(searched):
    s = searched.report["search"]
    ens = s["ensemble"]
    assert ens["method"] == "greedy" and ens["kept"] is True, ens["reason"]
    members = {h["trial"]: h["model"] for h in s["history"]}
    assert searched.model_name == f"greedy({', '.join(members[n] for n in ens['members'])})"
    assert isinstance(searched.pipeline.named_steps["model"], E.VotingClassifier)
    assert s["best_overrides"]["search.ensemble.method"] == "greedy"
    pins = s["best_overrides"]["search.ensemble.members"]
    assert [p["model"] for p in pins] == [members[n] for n in ens["members"]]
    assert [p["weight"] for p in pins] == ens["weights"]


def test_a_pinned_ensemble_is_built_and_cross_validated_without_a_search(data_dir, tmp_path):
    ctx = _ctx(data_dir, tmp_path, PINNED)
    run_stage(stage_search, ctx)
    vote = ctx.pipeline.named_steps["model"]
    assert isinstance(vote, E.VotingClassifier) and vote.voting == "soft" and vote.weights is None  # equal
    assert [n for n, _ in vote.estimators] == ["member0_logistic_regression", "member1_random_forest"]
    assert vote.estimators[0][1].steps[-1][1].get_params()["C"] == 0.5
    assert ctx.model_name == "voting(logistic_regression, random_forest)"
    assert ctx.candidate.model == "logistic_regression" and ctx.candidate.params == {"C": 0.5}
    assert len(ctx.cv_result.scores["roc_auc"]) == 2
    assert "search" not in ctx.report and not (ctx.rd.path / "leaderboard.csv").exists()


def test_an_interrupt_says_what_the_search_kept_and_how_to_resume(data_dir, tmp_path):
    ctx = _ctx(data_dir, tmp_path)
    exc = RunInterrupted("interrupted by SIGTERM")
    records = [TrialRecord(1, "ok", "ridge", {}, {}, 0.1), TrialRecord(2, "failed", "ridge", {}, {}, 0.1)]
    search_stage._interrupted(ctx, exc, records)
    assert str(exc) == ("interrupted by SIGTERM during the search: 2 finished trial(s) (1 ok or pruned) kept in "
                        f"leaderboard.csv; continue with `mlengine run RECIPE --resume {ctx.rd.final}`")
    assert exc.progress == {"stage": "search", "trials_finished": 2}
    bare = KeyboardInterrupt()
    search_stage._interrupted(ctx, bare, [])
    assert str(bare) == "interrupted during the search: no trial had finished"


def test_a_pinned_voting_ensemble_uses_the_members_weights(data_dir, tmp_path):
    pinned = copy.deepcopy(PINNED)
    pinned["ensemble"]["members"][0]["weight"] = 3.0
    ctx = _ctx(data_dir, tmp_path, pinned)
    run_stage(stage_search, ctx)
    assert ctx.pipeline.named_steps["model"].weights == [3.0, 1.0]
