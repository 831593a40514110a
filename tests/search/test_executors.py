"""The local trial executors (mlengine.search.executors): make_executor's choice, InProcess's already-done futures
equal to run_trial's outcome, and a LocalProcesses worker giving the same fold scores as this process."""

from __future__ import annotations

import shutil

import pytest

from mlengine.api import load_recipe
from mlengine.data.sources import read_source
from mlengine.data.table import prepare_table
from mlengine.plan import compile_recipe
from mlengine.search.config import declared_spaces
from mlengine.search.executors import InProcess, LocalProcesses, _worker_trial, make_executor
from mlengine.search.flaml_space import build_space
from mlengine.search.trial import TrialSetup, run_trial

from tests.conftest import DATA, TITANIC

SEARCH = TITANIC.replace("cv: {folds: 3}", "cv: {folds: 2}") + \
    "search: {estimators: [logistic_regression], trials: 2}\n"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("executors")
    (base / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", base / "data" / "titanic.csv")
    (base / "r.yaml").write_text(SEARCH, encoding="utf-8")
    recipe = load_recipe(base / "r.yaml").recipe
    data = prepare_table(read_source(recipe.data.source, base), recipe)
    plan = compile_recipe(recipe, task=data.task, classes=data.classes)
    models, pipeline = declared_spaces(recipe, data.task)
    space = build_space(models, pipeline, n_rows=len(data.y), n_features=len(data.columns.features), task=data.task)
    return TrialSetup(plan=plan, space=space, columns=data.columns, task=data.task, classes=data.classes,
                      pos_label=data.pos_label, X=data.X, y=data.y, groups=None, times=None, metric="roc_auc",
                      n_jobs=1)


def test_make_executor_runs_in_process_for_one_trial_at_a_time_and_in_processes_for_more(setup):
    single = make_executor("local", setup, 1)
    assert isinstance(single, InProcess) and single.setup is setup
    pool = make_executor("local", setup, 2)
    try:
        assert isinstance(pool, LocalProcesses) and pool.pool._max_workers == 2
        assert pool.pool._mp_context.get_start_method() == "spawn"  # never fork a process with OpenMP threads
    finally:
        pool.close()


def test_in_process_returns_a_done_future_with_run_trials_outcome(setup):
    fut = InProcess(setup).submit({"C": 1.0}, "t1")
    assert fut.done()
    out = fut.result()
    direct = run_trial(setup, {"C": 1.0}, "t1")
    assert out.status == "ok" and out.model == "logistic_regression"
    assert out.scores["roc_auc"] == direct.scores["roc_auc"] and len(out.scores["roc_auc"]) == 2


def test_in_process_passes_the_pruning_bar_on(setup):
    out = InProcess(setup).submit({"C": 1.0}, "t2", bar=[0.999, 0.999]).result()
    assert out.status == "pruned" and len(out.scores["roc_auc"]) == 1


def test_a_worker_refuses_to_run_before_it_is_initialised():
    with pytest.raises(AssertionError, match="worker not initialised"):
        _worker_trial({"C": 1.0}, "", None)


@pytest.mark.slow
def test_a_spawned_worker_scores_a_trial_as_this_process_does(setup):
    pool = LocalProcesses(setup, 1)
    try:
        out = pool.submit({"C": 1.0}, "w").result(timeout=120)
    finally:
        pool.close()
    assert out.status == "ok"
    assert out.scores["roc_auc"] == run_trial(setup, {"C": 1.0}, "w").scores["roc_auc"]
