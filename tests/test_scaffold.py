"""`mlengine init`: the scaffold, its refusals, and its starter recipe + replay target from a clean folder."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources

import pytest

from mlengine.scaffold import FILES


def test_init_creates_the_project(cli, tmp_path):
    target = tmp_path / "proj"
    code, out, err = cli("init", target)
    assert code == 0, err
    for _, rel in FILES:
        assert (target / rel).is_file(), rel
    assert (target / "runs").is_dir()
    assert "/runs/" in (target / ".gitignore").read_text().splitlines()
    assert "mlengine==0.1.0" in (target / "requirements.txt").read_text()
    assert (target / "README.md").read_text().startswith("# proj\n")
    makefile = (target / "Makefile").read_text()
    for t in ("run:", "sweep:", "replay:", "validate:", "reference:", "replay-reference:"):
        assert f"\n{t}" in makefile
    workflow = (target / ".github/workflows/mlengine.yml").read_text()
    assert "make validate" in workflow and "make replay-reference" in workflow
    code, out, _ = cli("validate", target / "recipes" / "starter.yaml")
    assert code == 0 and "data OK: 891 rows" in out


def test_init_refuses_a_non_empty_folder_and_never_overwrites(cli, tmp_path):
    target = tmp_path / "existing"
    (target / "recipes").mkdir(parents=True)
    (target / "Makefile").write_text("my own makefile\n")
    (target / "recipes" / "starter.yaml").write_text("name: mine\n")
    code, _, err = cli("init", target)
    assert code == 2 and "is not empty (2 entries: Makefile, recipes)" in err and "--force" in err
    assert not (target / "data").exists()
    code, out, err = cli("init", target, "--force")
    assert code == 0, err
    assert (target / "Makefile").read_text() == "my own makefile\n"
    assert (target / "recipes" / "starter.yaml").read_text() == "name: mine\n"
    assert "kept    Makefile (exists; not overwritten)" in out and "created data/titanic.csv" in out
    assert (target / "data" / "titanic.csv").stat().st_size == 57018
    (tmp_path / "afile").write_text("x")
    code, _, err = cli("init", tmp_path / "afile")
    assert code == 2 and "is a file" in err


def test_templates_ship_as_package_data():
    """Every template is reachable through importlib.resources (what an installed wheel provides)."""
    base = resources.files("mlengine.scaffold").joinpath("templates")
    for template, _ in FILES:
        assert base.joinpath(*template.split("/")).is_file(), template
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["mlengine.scaffold"]
    depth = max(t.count("/") for t, _ in FILES) + 1
    assert f"templates/{'/'.join(['*'] * depth)}" in globs


@pytest.mark.slow
def test_starter_recipe_and_replay_target_from_a_clean_folder(tmp_path):
    """init, then the scaffold's own Makefile: validate, run, replay (exit 0, identical)."""
    target = tmp_path / "fresh"
    mlengine = f"{sys.executable} -m mlengine"
    res = subprocess.run([sys.executable, "-m", "mlengine", "init", str(target)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    env = {**os.environ, "MLENGINE": mlengine}

    def make(*targets):
        return subprocess.run(["make", "-C", str(target), *targets], capture_output=True, text=True, env=env)

    res = make("replay")
    assert res.returncode == 2 and "make run first" in res.stderr
    for t in ("validate", "run"):
        res = make(t)
        assert res.returncode == 0, res.stdout + res.stderr
    assert "run directory:" in res.stdout and len(list((target / "runs" / "starter").iterdir())) == 1
    res = make("replay")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "result: identical (exit 0)" in res.stdout
    assert len(list((target / "runs" / "starter").iterdir())) == 1  # the replay went elsewhere
