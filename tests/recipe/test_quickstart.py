"""`mlengine run data.csv --target y`: the default recipe from a table, saved in the run directory."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from tests.conftest import DATA


@pytest.mark.slow
def test_run_from_a_data_file_saves_the_recipe_it_used(cli, tmp_path, runs_dir):
    data = tmp_path / "titanic.csv"
    shutil.copy(DATA / "titanic.csv", data)
    code, out, err = cli("run", data, "--target", "survived", "--runs-dir", runs_dir, "+data.drop=[alive]",
                         "model.params.n_estimators=20", "cv.folds=3")
    assert code == 0, err
    run_dir = out.split("run directory: ")[1].split("\n")[0].strip()
    assert f"recipe used: {run_dir}/recipe.yaml" in out
    recipe = yaml.safe_load(open(f"{run_dir}/recipe.yaml"))
    assert recipe["data"]["target"] == "survived" and recipe["data"]["drop"] == ["alive"]
    # the saved recipe runs as it is
    code, out, err = cli("run", f"{run_dir}/recipe.yaml", "--runs-dir", runs_dir, "--json")
    assert code == 0, err and json.loads(out)["status"] == "complete"


def test_a_target_copy_is_warned_about(cli, tmp_path, runs_dir):
    data = tmp_path / "titanic.csv"
    shutil.copy(DATA / "titanic.csv", data)
    code, out, err = cli("run", data, "--target", "survived", "--runs-dir", runs_dir, "model.params.n_estimators=20",
                         "cv.folds=2")
    assert code == 0, err
    assert "column 'alive' determines the target" in err


def test_quick_start_errors(cli, tmp_path):
    data = tmp_path / "t.csv"
    shutil.copy(DATA / "titanic.csv", data)
    code, _, err = cli("run", data)
    assert code == 2 and "needs --target COLUMN" in err
    code, _, err = cli("run", tmp_path / "missing.csv", "--target", "y")
    assert code == 2 and "does not exist" in err
    code, _, err = cli("run", data, "--target", "survived", "--time-budget", "-5")
    assert code == 2 and "--time-budget" in err
    code, _, err = cli("run", data, "--target", "nope")
    assert code == 2 and "data.target" in err and "Traceback" not in err


def test_a_failed_quick_start_names_the_recipe_to_fix(cli, tmp_path, runs_dir):
    """The error says which key to set (data.missing_target); the user needs the file to set it in."""
    data = tmp_path / "penguins.csv"
    shutil.copy(DATA / "penguins.csv", data)
    code, out, err = cli("run", data, "--target", "body_mass_g", "--runs-dir", runs_dir)
    assert code == 2 and "data.missing_target: drop" in err
    saved = err.split("recipe used: ")[1].split(" ")[0]
    assert yaml.safe_load(open(saved))["data"]["target"] == "body_mass_g"
