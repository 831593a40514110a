"""Sweeps with tracking: one parent run per multirun, a child per job, grand-children per trial; jobs in other
processes (Hydra's joblib launcher) nest through the parent run id passed in the environment."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import mlengine
from mlengine.tracking.hook import ENV_PARENT_RUN

from tests.conftest import DATA, RECIPES
from tests.tracking_helpers import require_mlflow, runs_of, store_uri, tracked


@pytest.mark.slow  # end to end (--durations: among the slowest of make test-fast); CI runs it
def test_sweep_nests_jobs_and_trials_under_one_parent(runs_dir, tmp_path):
    require_mlflow()
    uri = store_uri(tmp_path)
    recipe = tmp_path / "search.yaml"
    text = (RECIPES / "titanic_search.yaml").read_text().replace("../examples/data/titanic.csv",
                                                                 str(DATA / "titanic.csv"))
    recipe.write_text(tracked(text, uri, "sweep"))
    summary = mlengine.sweep(recipe, {"search.trials": [2, 3]}, overrides=["cv.folds=2", "search.ensemble.method=none"],
                             runs_dir=runs_dir, launcher="joblib", n_jobs=2)
    assert set(summary["status"]) == {"complete"}
    assert ENV_PARENT_RUN not in os.environ  # restored after the sweep
    runs = runs_of(uri, "sweep")
    by_id = {r.info.run_id: r for r in runs}
    roots = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(roots) == 1 and roots[0].data.tags["mlengine.kind"] == "sweep"
    root = roots[0]
    assert root.info.status == "FINISHED" and root.data.metrics["jobs"] == 2 and root.data.metrics["failed_jobs"] == 0
    jobs = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == root.info.run_id]
    assert sorted(r.info.run_name.split("-")[0] for r in jobs) == ["job0", "job1"]
    assert all(r.info.status == "FINISHED" for r in jobs)
    trials = [r for r in runs if by_id.get(r.data.tags.get("mlflow.parentRunId")) in jobs]
    boards = [pd.read_csv(os.path.join(d, "leaderboard.csv")) for d in summary["run_dir"]]
    assert len(trials) == sum(len(b) for b in boards) == 5
    assert len(runs) == 1 + 2 + 5
