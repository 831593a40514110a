"""Run references: run directories found under a runs folder (not inside runs, not in .jobs), the ids `runs list`
prints, and ids resolved to one run or refused as unknown or ambiguous."""

from __future__ import annotations

import pytest

from mlengine.errors import UserError
from mlengine.runs.refs import find_runs, is_registry_ref, resolve_run_ref, run_id


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    for rel in ("t/20260101-a", "t/20260102-b", "u/20260101-a", "t/sweeps/s1/job-1", "t/sweeps/s1/.jobs/x"):
        (root / rel).mkdir(parents=True)
        (root / rel / "status.json").write_text("{}")
    (root / "t/20260101-a/inner").mkdir()
    (root / "t/20260101-a/inner/status.json").write_text("{}")  # inside a run: not a run of its own
    return root


def test_runs_are_found_with_the_ids_runs_list_prints(runs):
    assert [run_id(r) for r in find_runs(runs)] == ["t/20260101-a", "t/20260102-b", "t/sweeps/s1/job-1",
                                                     "u/20260101-a"]


def test_an_id_resolves_to_one_run_or_is_refused(runs):
    assert resolve_run_ref("20260102-b", runs) == (runs / "t/20260102-b").resolve()
    assert resolve_run_ref("u/20260101-a", runs) == (runs / "u/20260101-a").resolve()
    with pytest.raises(UserError, match="'20260101-a' is ambiguous: 2 runs"):
        resolve_run_ref("20260101-a", runs)
    with pytest.raises(UserError, match="'nope' not found"):
        resolve_run_ref("nope", runs)
    assert is_registry_ref("registry:/churn@prod") and not is_registry_ref("runs/t")
