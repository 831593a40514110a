"""The search loop (mlengine.search.driver): trials x threads within the cores, the remaining-time estimate, a
pruned trial's paired estimate and the error of a search with no model; and run_search itself on a small
logistic-regression search: a trial budget runs exactly that many trials from the start point and the same seed
gives the same search, `keep` bounds the kept predictions, early stopping ends the search at the first trial
without improvement, replayed trials are told their recorded score (and refused when the searcher proposes another
config), a search whose every trial fails is a user error, and a budget that no trial fits falls back to the
recipe's model (or to the best partial trial)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from mlengine.api import load_recipe
from mlengine.data.table import prepare_table
from mlengine.errors import UserError
from mlengine.plan import compile_recipe
from mlengine.search import driver
from mlengine.search.config import declared_spaces
from mlengine.search.driver import _eta, _nothing_finished, _paired_estimate, plan_threads, run_search
from mlengine.search.flaml_space import build_space
from mlengine.search.trial import TrialOutcome, TrialSetup
from mlengine.search.trials import TrialRecord

from tests.conftest import DATA

START = [{"C": 1.0}]  # the recipe's own model first, as stage_search passes it


def _setup(tmp_path, space: dict | None = None) -> TrialSetup:
    """A 2-fold logistic-regression search over 300 titanic rows."""
    df = pd.read_csv(DATA / "titanic.csv").sample(300, random_state=0)
    rec = {"name": "s", "seed": 1,
           "data": {"source": {"kind": "csv", "path": str(tmp_path / "unused.csv")}, "target": "survived",
                    "drop": ["alive", "who", "adult_male", "class", "embark_town"]},
           "model": {"name": "logistic_regression", "n_jobs": 1}, "cv": {"folds": 2},
           "search": {"estimators": ["logistic_regression"], "trials": 3,
                      **({"space": {"logistic_regression": space}} if space else {})}}
    recipe = load_recipe(rec, base_dir=tmp_path).recipe
    data = prepare_table(df, recipe)
    plan = compile_recipe(recipe, task=data.task, classes=data.classes)
    models, pipeline = declared_spaces(recipe, data.task)
    joint = build_space(models, pipeline, n_rows=len(data.y), n_features=len(data.columns.features), task=data.task)
    return TrialSetup(plan=plan, space=joint, columns=data.columns, task=data.task, classes=data.classes,
                      pos_label=data.pos_label, X=data.X, y=data.y, groups=None, times=None, metric="roc_auc",
                      n_jobs=1)


def _search(setup: TrialSetup, **kw):
    args = {"algorithm": "cfo", "points": START, "seed": 1, "trials": 3, "time_budget": None, "early_stop": None,
            "n_concurrent": 1, "backend": "local", "greater_is_better": True, "keep": 1} | kw
    return run_search(setup, **args)


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> TrialSetup:
    return _setup(tmp_path_factory.mktemp("driver"))


@pytest.fixture(scope="module")
def searched(setup):
    return _search(setup)


def test_plan_threads_never_runs_more_threads_than_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert plan_threads(2, 8, "local") == (2, 2, [])
    assert plan_threads(1, 3, "local") == (1, 3, [])
    assert plan_threads(8, 1, "local") == (4, 1, ["search.n_concurrent 8 exceeds the 4 cores; running 4 trials "
                                                  "at once"])


def test_plan_threads_on_ray_splits_the_plan_threads_over_the_trials_without_a_core_cap(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert plan_threads(8, 16, "ray") == (8, 2, [])
    assert plan_threads(1, 6, "ray") == (1, 6, [])
    assert plan_threads(4, 2, "ray") == (4, 1, [])


def test_eta_from_the_pace_capped_by_the_time_budget():
    assert _eta(2, 10, None, 20.0) == ", ~80s left"
    assert _eta(2, 10, 30.0, 20.0) == ", ~10s left"
    assert _eta(0, 10, None, 5.0) == ""
    assert _eta(3, None, 10.0, 12.0) == ", ~0s left"


def test_paired_estimate_shifts_the_bar_mean_by_the_gap_on_common_folds():
    assert _paired_estimate([0.70], [0.80, 0.90, 1.00]) == pytest.approx(0.80)
    assert _paired_estimate([0.75, 0.95], [0.80, 0.90, 0.70]) == pytest.approx(0.80)


def test_nothing_finished_names_the_errors_and_their_trials():
    assert "proposed no configuration" in str(_nothing_finished([], None, "roc_auc"))

    class Rec:
        def __init__(self, number, model, error):
            self.number, self.model, self.error = number, model, error

    err = _nothing_finished([Rec(1, "lightgbm", "ValueError: x"), Rec(2, "lightgbm", "ValueError: x")], None, "f1")
    assert isinstance(err, UserError)
    assert "search: all 2 trials failed, so there is no model to fit. lightgbm: ValueError: x (trials 1, 2)." in \
        str(err)


def test_a_trial_budget_runs_that_many_trials_from_the_start_point(searched, setup):
    records = searched.records
    assert [r.number for r in records] == [1, 2, 3] and all(r.ok for r in records)
    assert records[0].model == "logistic_regression" and records[0].params == {"C": 1.0}
    assert len({r.key() for r in records}) == 3  # three distinct configs
    assert all(len(r.folds) == 2 and set(r.other) == set(setup.plan.metrics) - {"roc_auc"} for r in records)
    assert searched.best is max(records, key=lambda r: (r.mean, -r.number))
    assert searched.stopped_by == "trials" and searched.fallback is None and searched.resumed == 0
    assert list(searched.cv_results) == [searched.best.number]  # keep=1: only the best trial's predictions
    assert searched.n_concurrent == 1 and searched.threads_per_trial == 1 and searched.seconds > 0


def test_the_same_seed_gives_the_same_search(searched, setup):
    again = _search(setup)
    assert [(r.params, r.folds) for r in again.records] == [(r.params, r.folds) for r in searched.records]
    assert again.best.number == searched.best.number


def test_keep_holds_the_predictions_of_that_many_distinct_configs(setup):
    out = _search(setup, trials=3, keep=2)
    best_two = sorted(out.records, key=lambda r: (-r.mean, r.number))[:2]
    assert sorted(out.cv_results) == sorted(r.number for r in best_two)
    assert all(len(cv.oof_proba) == len(setup.y) for cv in out.cv_results.values())


def test_early_stop_ends_the_search_at_the_first_trial_that_does_not_improve(setup):
    out = _search(setup, trials=10, early_stop=1)
    assert out.stopped_by == "early_stop" and len(out.records) < 10
    means = [r.mean for r in out.records]
    assert all(means[i] > max(means[:i]) for i in range(1, len(means) - 1))  # each before the last improved
    assert means[-1] <= max(means[:-1])


def test_replayed_trials_are_told_their_recorded_score(setup):
    recorded = TrialOutcome("ok", "logistic_regression", {"C": 1.0}, {}, 0.5,
                            scores={m: [0.99, 0.97] for m in setup.plan.metrics})
    out = _search(setup, trials=2, replay=[recorded])
    assert out.resumed == 1
    assert out.records[0].folds == [0.99, 0.97] and out.records[0].mean == pytest.approx(0.98)
    assert out.best.number == 1
    assert out.cv_results[1] is not None  # cross-validated again for its out-of-fold predictions
    assert len(out.cv_results[1].scores["roc_auc"]) == 2


def test_a_replayed_trial_the_searcher_does_not_propose_is_refused(setup):
    other = TrialOutcome("ok", "logistic_regression", {"C": 0.5}, {}, 0.5, scores={"roc_auc": [0.9, 0.9]})
    with pytest.raises(UserError, match=r'--resume: trial 1 of the resumed run was logistic_regression \{"C": 0.5\}, '
                                        r"but this recipe's search proposes"):
        _search(setup, trials=2, replay=[other])


def test_a_search_whose_every_trial_fails_is_a_user_error_naming_the_errors(setup):
    from dataclasses import replace

    broken = replace(setup, X=setup.X.drop(columns=[setup.columns.features[0]]))  # every pipeline misses a column
    with pytest.raises(UserError, match=r"search: all 2 trials failed, so there is no model to fit\. "
                                        r"logistic_regression: .*\(trials 1, 2\)") as info:
        _search(broken, trials=2)
    assert [r.status for r in info.value.records] == ["failed", "failed"]  # the stage still writes the leaderboard


def test_a_budget_that_no_trial_fits_falls_back_to_the_recipe_model(setup):
    out = _search(setup, trials=None, time_budget=1e-6)
    assert out.stopped_by == "time_budget" and [r.status for r in out.records] == ["timeout"]
    assert out.fallback["kind"] == "recipe_model" and out.fallback["folds"] == 0
    assert out.fallback["message"].startswith("search: no trial finished a single fold within the time budget "
                                              "(1e-06 s, 1 trial(s) started); fitting the recipe's own model "
                                              "(logistic_regression)")
    assert out.best.status == "fallback" and out.best.params == {"C": 1.0} and out.cv_results == {}


def test_a_partial_trial_falls_back_on_its_finished_folds():
    part = TrialRecord(2, "timeout", "ridge", {}, {}, 1.0, folds=[0.5], mean=0.5)
    rec, info = driver._fallback(None, [part], (part, "cv"), [], 10.0, "r2")
    assert rec is part and info["kind"] == "partial_folds" and info["trial"] == 2 and info["folds"] == 1
    assert "using trial 2 (ridge), the best on the folds it finished: r2 0.5000 on 1 fold(s)" in info["message"]
    more = TrialRecord(3, "timeout", "ridge", {}, {}, 1.0, folds=[0.1, 0.1], mean=0.1)
    assert driver._better_partial(more, (part, None), True)  # more folds win over a better mean
    assert not driver._better_partial(TrialRecord(4, "timeout", "ridge", {}, {}, 1.0, folds=[0.4], mean=0.4),
                                      (part, None), True)
