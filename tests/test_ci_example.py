"""examples/ci: the test suite runs the same commands the GitHub Actions workflow runs, read from the workflow."""

from __future__ import annotations

import json
import shlex
import shutil

import pytest
import yaml

from mlengine.runs.manifest import write_manifest

from tests.conftest import ROOT

WORKFLOW = ROOT / "examples" / "ci" / "github-workflow.yml"
REFERENCE = ROOT / "examples" / "ci" / "reference-run"


def _steps() -> list[str]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]


def _mlengine_args(command: str, sub: str) -> list[str]:
    words = shlex.split(command)
    i = next(i for i, w in enumerate(words) if w.endswith("mlengine") and words[i + 1] == sub)
    return words[i + 1:]


def test_workflow_installs_validates_and_replays():
    steps = _steps()
    assert steps[0] == "make install"
    assert any("recipes/*.yaml" in s and "mlengine validate" in s for s in steps)
    assert any("mlengine replay examples/ci/reference-run" in s for s in steps)


def test_every_recipe_validates_as_ci_does(cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    command = next(s for s in _steps() if "mlengine validate" in s)
    assert _mlengine_args(command, "validate")[:2] == ["validate", "$r"]
    for recipe in sorted((ROOT / "recipes").glob("*.yaml")):
        code, out, err = cli("validate", recipe.relative_to(ROOT))
        assert code == 0, err
        assert "data OK" in out


def test_reference_run_replays_as_ci_does(cli, monkeypatch, tmp_path):
    """The exact replay command of the workflow, from the repository root: identical, exit 0."""
    monkeypatch.chdir(ROOT)
    for command in (s for s in _steps() if "mlengine replay" in s):
        code, out, err = cli(*_mlengine_args(command, "replay"), "--runs-dir", tmp_path)
        assert code == 0, out + err
        assert "result: identical (exit 0)" in out


@pytest.mark.slow
def test_reference_run_replays_from_a_fresh_clone_elsewhere(cli, tmp_path, monkeypatch):
    """A clone at another path, where the recorded absolute paths do not exist: the data is found through its
    path inside the repository, and the replay is identical."""
    clone = tmp_path / "clone"
    shutil.copytree(REFERENCE, clone / "examples" / "ci" / "reference-run")
    (clone / "examples" / "data").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "data" / "titanic.csv", clone / "examples" / "data")
    run = clone / "examples" / "ci" / "reference-run"
    m = json.loads((run / "manifest.json").read_text())
    recorded = m["data"]["source"]["files"][0]
    assert recorded["path_in_repo"] == "examples/data/titanic.csv"
    elsewhere = "/nonexistent/machine/checkout"  # as if the run had been made on another machine
    m["recipe"]["base_dir"] = elsewhere + "/examples/ci"
    recorded["path"] = elsewhere + "/examples/data/titanic.csv"
    m["recipe"]["resolved"]["data"]["source"]["path"] = recorded["path"]
    write_manifest(run, m)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("replay", run, "--runs-dir", tmp_path / "replays")
    assert code == 0, out + err
    assert "result: identical (exit 0)" in out
    assert "found at " + str(clone / "examples" / "data" / "titanic.csv") in err
