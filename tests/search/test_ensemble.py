"""Ensembles of the best trials (mlengine/search/ensemble.py): members are distinct configs with the best of each
model first, the ensemble pipeline keeps each member's own steps behind the shared adapter (voting, stacking on
the CV's folds, greedy as a weighted soft vote), a voting/stacking ensemble is cross-validated and kept only if
strictly better, and greedy selection over kept out-of-fold predictions scores exactly what cross-validating its
weighted vote gives."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn import ensemble as E
from sklearn.model_selection import StratifiedKFold

from mlengine.api import load_recipe
from mlengine.data.table import prepare_table
from mlengine.evaluate.crossval import cross_validate
from mlengine.plan import compile_recipe
from mlengine.search.config import declared_spaces
from mlengine.search.ensemble import (
    GREEDY_ROUNDS,
    EnsembleOutcome,
    build_ensemble,
    ensemble_members,
    greedy_ensemble,
    try_ensemble,
)
from mlengine.search.flaml_space import build_space
from mlengine.search.trial import TrialSetup, run_trial
from mlengine.search.trials import TrialRecord, ranked, record_of

from tests.conftest import DATA

CONFIGS = [{"model": {"name": "logistic_regression", "C": 1.0}},
           {"model": {"name": "random_forest", "n_estimators": 8, "max_features": 0.5, "max_leaf_nodes": 16,
                      "criterion": "gini"}},
           {"model": {"name": "logistic_regression", "C": 0.05}}]


def _rec(number: int, model: str, mean: float, **params) -> TrialRecord:
    return TrialRecord(number, "ok", model, params, {}, 0.1, folds=[mean], mean=mean, std=0.0)


@pytest.fixture(scope="module")
def trials(tmp_path_factory):
    """A 2-fold search setup over 300 titanic rows and three real trials (records and CV results)."""
    base = tmp_path_factory.mktemp("ensemble")
    df = pd.read_csv(DATA / "titanic.csv").sample(300, random_state=0)
    rec = {"name": "e", "seed": 1,
           "data": {"source": {"kind": "csv", "path": str(base / "unused.csv")}, "target": "survived",
                    "drop": ["alive", "who", "adult_male", "class", "embark_town"]},
           "model": {"name": "logistic_regression", "n_jobs": 1}, "cv": {"folds": 2},
           "search": {"estimators": ["logistic_regression", "random_forest"], "trials": 3}}
    recipe = load_recipe(rec, base_dir=base).recipe
    data = prepare_table(df, recipe)
    plan = compile_recipe(recipe, task=data.task, classes=data.classes)
    models, pipeline = declared_spaces(recipe, data.task)
    space = build_space(models, pipeline, n_rows=len(data.y), n_features=len(data.columns.features), task=data.task)
    setup = TrialSetup(plan=plan, space=space, columns=data.columns, task=data.task, classes=data.classes,
                       pos_label=data.pos_label, X=data.X, y=data.y, groups=None, times=None, metric="roc_auc",
                       n_jobs=1)
    outcomes = [run_trial(setup, c) for c in CONFIGS]
    records = [record_of(i, o, "roc_auc") for i, o in enumerate(outcomes, 1)]
    assert all(r.ok for r in records)
    return setup, records, {r.number: o.cv for r, o in zip(records, outcomes, strict=True)}


def test_members_take_the_best_of_each_model_before_a_second_config_of_any():
    recs = ranked([_rec(1, "lightgbm", 0.90, n=1), _rec(2, "lightgbm", 0.89, n=2), _rec(3, "rf", 0.80, n=3),
                   _rec(4, "lightgbm", 0.90, n=1), _rec(5, "ridge", 0.70)], True)
    assert [r.number for r in ensemble_members(recs, 2)] == [1, 3]  # lightgbm's second config waits
    assert [r.number for r in ensemble_members(recs, 3)] == [1, 3, 5]
    assert [r.number for r in ensemble_members(recs, 10)] == [1, 2, 3, 5]  # rank order; trial 4 repeats trial 1
    assert ensemble_members([], 3) == []


def test_voting_keeps_each_members_steps_behind_the_shared_adapter(trials):
    setup, records, _ = trials
    pipes = [(f"member{i}_{r.model}", setup.member_pipeline(r)) for i, r in enumerate(records[:2])]
    pipe = build_ensemble("voting", pipes, "binary", setup.plan.cv)
    assert [name for name, _ in pipe.steps] == [pipes[0][1].steps[0][0], "model"]
    assert pipe.steps[0][1] is pipes[0][1].steps[0][1]
    vote = pipe.named_steps["model"]
    assert isinstance(vote, E.VotingClassifier) and vote.voting == "soft" and vote.weights is None
    assert [n for n, _ in vote.estimators] == ["member0_logistic_regression", "member1_random_forest"]
    for (_, member), (_, full) in zip(vote.estimators, pipes, strict=True):
        assert [n for n, _ in member.steps] == [n for n, _ in full.steps[1:]]
    greedy = build_ensemble("greedy", pipes, "binary", setup.plan.cv, weights=[3.0, 1.0]).named_steps["model"]
    assert isinstance(greedy, E.VotingClassifier) and greedy.weights == [3.0, 1.0]


def test_stacking_folds_follow_the_cv_and_regression_gets_regressors(trials):
    setup, records, _ = trials
    pipes = [(f"m{i}", setup.member_pipeline(r)) for i, r in enumerate(records[:2])]
    stack = build_ensemble("stacking", pipes, "binary", setup.plan.cv).named_steps["model"]
    assert isinstance(stack, E.StackingClassifier) and isinstance(stack.cv, StratifiedKFold)
    assert stack.cv.n_splits == setup.plan.cv.folds == 2 and stack.cv.random_state == setup.plan.cv.seed
    assert isinstance(build_ensemble("stacking", pipes, "regression", setup.plan.cv).named_steps["model"],
                      E.StackingRegressor)
    assert isinstance(build_ensemble("voting", pipes, "regression", setup.plan.cv).named_steps["model"],
                      E.VotingRegressor)


def test_an_ensemble_needs_two_distinct_configurations(trials):
    setup, records, cv_results = trials
    out = try_ensemble(setup, "voting", records[:1], records[0], True, 1)
    assert out == EnsembleOutcome("voting", [1], False,
                                  reason="only 1 distinct successful configuration(s); an ensemble needs 2")
    greedy = greedy_ensemble(setup, records[:2], {1: cv_results[1]}, True, 1)  # trial 2 has no kept predictions
    assert not greedy.kept and greedy.members == [1] and "with predictions; an ensemble needs 2" in greedy.reason


def test_a_voting_ensemble_is_cross_validated_and_kept_only_if_strictly_better(trials):
    setup, records, _ = trials
    best = max(records[:2], key=lambda r: r.mean)
    out = try_ensemble(setup, "voting", records[:2], best, True, 1)
    assert out.members == [1, 2] and len(out.cv.scores["roc_auc"]) == 2
    assert out.mean == pytest.approx(sum(out.cv.scores["roc_auc"]) / 2)
    assert out.kept == (out.mean > best.mean) and (out.pipeline is not None) == out.kept
    assert out.reason == (f"cv roc_auc {out.mean:.4f} vs single best {best.mean:.4f} (trial {best.number}): "
                          + ("better" if out.kept else "not better"))


def test_an_ensemble_that_cannot_be_fitted_keeps_the_single_model(trials):
    from dataclasses import replace

    setup, records, _ = trials
    broken = replace(setup, X=setup.X.drop(columns=[setup.columns.features[0]]))
    out = try_ensemble(broken, "voting", records[:2], records[0], True, 1)
    assert not out.kept and out.reason.startswith("failed: ") and out.pipeline is None


def test_greedy_selection_scores_what_cross_validating_its_weighted_vote_gives(trials):
    setup, records, cv_results = trials
    out = greedy_ensemble(setup, records, cv_results, True, 1)
    assert out.method == "greedy" and out.kept, out.reason
    assert len(out.members) >= 2 and set(out.members) <= {1, 2, 3}
    assert all(w >= 1 and float(w).is_integer() for w in out.weights) and sum(out.weights) <= GREEDY_ROUNDS
    vote = out.pipeline.named_steps["model"]
    assert vote.weights == out.weights and len(vote.estimators) == len(out.members)
    assert set(out.cv.scores) == set(setup.plan.metrics)
    again = cross_validate(out.pipeline, setup.X, setup.y, setup.plan.cv, task=setup.task,
                           metrics=["roc_auc"], primary="roc_auc", classes=setup.classes,
                           pos_label=setup.pos_label)
    assert again.scores["roc_auc"] == pytest.approx(out.cv.scores["roc_auc"], abs=1e-9)
    single = max(r.mean for r in records)
    assert out.mean > single and out.reason.endswith("better")
    assert out.to_dict(single) == {"method": "greedy", "members": out.members, "weights": out.weights, "kept": True,
                                   "cv_mean": out.mean, "cv_std": out.std, "best_single_cv_mean": single,
                                   "reason": out.reason}


def test_under_a_run_budget_an_ensemble_too_costly_for_what_is_left_is_not_built(trials):
    setup, records, cv_results = trials
    best = max(records, key=lambda r: r.mean)
    top = sorted(records, key=lambda r: -r.mean)
    greedy = greedy_ensemble(setup, top, cv_results, True, 1, allowance=0.0)
    assert not greedy.kept and greedy.pipeline is None and greedy.cv is None
    assert "not built: refitting its" in greedy.reason and "run.time_budget leaves" in greedy.reason
    assert greedy_ensemble(setup, top, cv_results, True, 1, allowance=1e9).kept  # room enough: built as before
    vote = try_ensemble(setup, "voting", top[:2], best, True, 1, allowance=0.0)
    assert not vote.kept and vote.cv is None and "and cross-validating them" in vote.reason


def test_an_ensembles_cost_counts_the_other_members_refits_and_a_cross_validation_when_needed():
    from mlengine.search.ensemble import over_allowance

    a = TrialRecord(1, "ok", "lightgbm", {}, {}, 6.0, folds=[0.8, 0.8, 0.8], mean=0.8)  # 2 s a fold
    b = TrialRecord(2, "ok", "random_forest", {}, {}, 12.0, folds=[0.7, 0.7, 0.7], mean=0.7)  # 4 s a fold
    # refit of b alone on all rows: 4 s x 3/2 = 6 s; a cross-validation of both: 18 s more
    assert over_allowance("greedy", [a, b], 1, 3, False, 6.5) is None
    assert "about 6 s" in over_allowance("greedy", [a, b], 1, 3, False, 5.5)
    assert over_allowance("voting", [a, b], 1, 3, True, 24.5) is None
    assert "about 24 s" in over_allowance("voting", [a, b], 1, 3, True, 23.5)
    assert over_allowance("stacking", [a, b], 1, 3, True, 24.5)  # stacking fits members on its inner folds too
    assert over_allowance("greedy", [a, b], 1, 3, True, None) is None  # no run.time_budget: no bound
