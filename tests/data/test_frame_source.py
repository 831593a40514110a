"""mlengine.run(recipe, data=df): train on an in-memory DataFrame, fingerprint it, replay it with the same frame."""

from __future__ import annotations

import pandas as pd
import pytest

import mlengine

from tests.conftest import DATA

RECIPE = {"name": "frame", "seed": 1, "data": {"target": "survived",
                                               "drop": ["alive", "who", "adult_male", "class", "embark_town"]},
          "model": {"name": "lightgbm", "params": {"n_estimators": 20}}, "cv": {"folds": 3},
          "report": {"html": False, "explain": False}}  # not what these tests check; 3 runs and 3 replays faster


@pytest.fixture(scope="module")
def frame_run(tmp_path_factory):
    df = pd.read_csv(DATA / "titanic.csv")
    runs = tmp_path_factory.mktemp("frame") / "runs"
    return df, mlengine.run(RECIPE, data=df, runs_dir=runs), runs


def test_a_dataframe_trains_like_its_csv(frame_run, tmp_path):
    df, result, runs = frame_run
    assert result.status == "complete"
    from mlengine.runs.manifest import read_manifest

    manifest = read_manifest(result.run_dir)
    assert manifest["data"]["source"]["kind"] == "frame" and manifest["data"]["rows"] == len(df)
    # the same rows from the CSV give the same model: same data fingerprint, same CV folds
    csv_recipe = {**RECIPE, "data": {**RECIPE["data"], "source": {"kind": "csv", "path": str(DATA / "titanic.csv")}}}
    from_csv = mlengine.run(csv_recipe, runs_dir=tmp_path / "runs")
    assert read_manifest(from_csv.run_dir)["data"]["content_sha256"] == manifest["data"]["content_sha256"]
    assert from_csv.metrics["cv"]["roc_auc"]["folds"] == result.metrics["cv"]["roc_auc"]["folds"]


def test_replay_needs_the_frame_and_checks_it(frame_run, tmp_path, cli):
    df, result, _ = frame_run
    assert mlengine.replay(result.run_dir, frame=df).ok
    changed = df.assign(fare=df["fare"] * 2)
    report = mlengine.replay(result.run_dir, frame=changed)
    assert not report.ok and report.data_changes
    code, out, err = cli("replay", result.run_dir)
    assert code == 2 and "trained on an in-memory DataFrame" in err and "Traceback" not in err
    copy = tmp_path / "rows.parquet"
    df.to_parquet(copy)
    code, out, err = cli("replay", result.run_dir, "--data", copy)
    assert code == 0, err


def test_a_recipe_file_cannot_name_a_frame_source(cli, write_recipe):
    path = write_recipe("name: t\ndata: {source: {kind: frame}, target: survived}\n")
    code, out, err = cli("validate", path)
    assert code == 2 and "mlengine.run(recipe, data=df)" in err


def test_data_must_be_a_dataframe():
    from mlengine.errors import RecipeError

    with pytest.raises(RecipeError, match="expected a pandas DataFrame"):
        mlengine.run(RECIPE, data=[1, 2, 3])
