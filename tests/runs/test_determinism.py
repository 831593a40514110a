"""Determinism: the same recipe and data give byte-identical predictions, metrics and model files, in two
separate processes (with different hash seeds, so nothing may depend on set or dict ordering of strings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlengine.runs.determinism import ordered_prediction

from tests.conftest import DATA, ROOT

RECIPE = """
name: det
seed: 3
data:
  source: {kind: csv, path: titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model:
  name: MODEL
  params: {n_estimators: 40}
cv: {folds: 3}
"""


def _run_in_new_process(recipe: Path, runs_dir: Path, hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    res = subprocess.run([sys.executable, "-m", "mlengine", "run", str(recipe), "--runs-dir", str(runs_dir),
                          "--json"], capture_output=True, text=True, cwd=ROOT, env=env)
    assert res.returncode == 0, res.stderr
    run = Path(json.loads(res.stdout)["run_dir"])
    return json.loads((run / "manifest.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lightgbm", "random_forest"])
def test_two_processes_give_identical_results(tmp_path, model):
    (tmp_path / "titanic.csv").write_bytes((DATA / "titanic.csv").read_bytes())
    recipe = tmp_path / "det.yaml"
    recipe.write_text(RECIPE.replace("MODEL", model))
    a = _run_in_new_process(recipe, tmp_path / "a", "1")
    b = _run_in_new_process(recipe, tmp_path / "b", "2")
    assert a["run"]["id"] != b["run"]["id"]
    assert a["predictions"]["sha256"] == b["predictions"]["sha256"]
    assert a["metrics"] == b["metrics"]  # every CV fold, holdout and baseline value, exactly
    for name in ("model.joblib", "predictions.parquet", "model.json", "plan.json", "recipe.yaml"):
        assert a["artifacts"][name] == b["artifacts"][name], name
    assert a["data"]["content_sha256"] == b["data"]["content_sha256"]


def test_forest_prediction_is_ordered_and_n_jobs_restored():
    """Forests sum tree probabilities in thread completion order; ordered_prediction makes them repeatable."""
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    df = pd.read_csv(DATA / "penguins.csv").dropna()
    X, y = df[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]], df["species"]
    model = Pipeline([("s", StandardScaler()), ("m", RandomForestClassifier(200, n_jobs=2, random_state=0))])
    model.fit(X, y)
    with ordered_prediction(model):
        assert model[-1].n_jobs == 1
        first = model.predict_proba(X)
        repeats = [model.predict_proba(X) for _ in range(5)]
    assert model[-1].n_jobs == 2
    assert all(np.array_equal(first, r) for r in repeats)
