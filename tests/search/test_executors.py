"""The local trial executors (mlengine.search.executors): make_executor's choice, InProcess's already-done futures
equal to run_trial's outcome, and a LocalProcesses worker giving the same fold scores as this process."""

from __future__ import annotations

import pytest

from mlengine.search.executors import InProcess, LocalProcesses, _worker_trial, make_executor
from mlengine.search.trial import run_trial

from tests.conftest import TITANIC
from tests.search_helpers import trial_setup

SEARCH = TITANIC.replace("cv: {folds: 3}", "cv: {folds: 2}") + \
    "search: {estimators: [logistic_regression], trials: 2}\n"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return trial_setup(tmp_path_factory.mktemp("executors"), SEARCH)


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
