"""Library use: run, load_model on raw rows, and the hash check before unpickling."""

from __future__ import annotations

import pandas as pd
import pytest

import mlengine
from mlengine.errors import ModelLoadError, RecipeError

from tests.conftest import DATA, TITANIC


def test_run_and_load_model_predict_raw_rows(write_recipe, runs_dir):
    result = mlengine.run(write_recipe(TITANIC), overrides=["cv.kind=none"], runs_dir=runs_dir)
    assert result.status == "complete" and result.task == "binary"
    model = mlengine.load_model(result.run_dir)
    raw = pd.read_csv(DATA / "titanic.csv").head(20)  # raw columns, extras (target, dropped) included
    labels = model.predict(raw)
    assert set(labels) <= {0, 1} and len(labels) == 20
    proba = model.predict_proba(raw.to_dict("records"))
    assert proba.shape == (20, 2)
    assert (result.model.predict_proba(raw) == proba).all()
    missing = raw.drop(columns=["age", "fare"])
    with pytest.raises(mlengine.errors.DataError, match="age, fare"):
        model.predict(missing)


def test_run_from_dict(tmp_path, runs_dir):
    recipe = {"name": "d", "data": {"source": {"kind": "csv", "path": str(DATA / "penguins.csv")},
                                    "target": "species"},
              "model": {"name": "logistic_regression"}, "cv": {"folds": 3}}
    result = mlengine.run(recipe, runs_dir=runs_dir)
    assert result.metrics["holdout"]["accuracy"] > 0.9


def test_load_recipe_errors(tmp_path):
    with pytest.raises(RecipeError):
        mlengine.load_recipe({"name": "x"})


def test_tampered_joblib_is_refused(write_recipe, runs_dir):
    result = mlengine.run(write_recipe(TITANIC), overrides=["cv.kind=none"], runs_dir=runs_dir)
    path = result.run_dir / "model.joblib"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelLoadError, match="sha256"):
        mlengine.load_model(result.run_dir)
