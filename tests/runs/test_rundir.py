"""The run directory: written under `.<id>.incomplete`, renamed when it ends with its status; numpy values in
JSON; a runs folder that is a file is a user error naming it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlengine.errors import UserError
from mlengine.runs.rundir import RunDir, read_status


def test_a_run_is_incomplete_until_it_finishes(tmp_path):
    run = RunDir(tmp_path, "my recipe!")
    assert run.path.name == f".{run.run_id}.incomplete" and run.path.parent.name == "my-recipe"
    assert read_status(run.path) == {"status": "incomplete"}
    run.write_json("m.json", {"a": np.float32(0.5), "b": np.arange(2), "c": tmp_path})
    final = run.finish("failed", error={"type": "DataError"})
    assert final.name == run.run_id and not list(final.parent.glob(".*.incomplete"))
    assert json.loads((final / "m.json").read_text()) == {"a": 0.5, "b": [0, 1], "c": str(tmp_path)}
    assert read_status(final)["status"] == "failed" and read_status(final)["error"] == {"type": "DataError"}


def test_a_runs_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "runs").write_text("not a folder")
    with pytest.raises(UserError, match=r"runs' is a file, not a folder"):
        RunDir(tmp_path / "runs", "t")
