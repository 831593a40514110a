"""The catboost model: registered with native categorical handling (the code columns reach CatBoost as
cat_features), fit/predict on binary, multiclass and regression data, no files written, parameter checks, the
plan-time ONNX refusal with joblib written, and a search that includes it."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, read_json
from tests.export_helpers import prepared

TINY = ("model=catboost", "model.n_jobs=1", "++model.params.iterations=30", "export.format=[joblib]")

RECIPE = """
name: t
seed: 1
task: binary
data:
  source: {kind: csv, path: data/titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model: {name: catboost, n_jobs: 1, params: {iterations: 30}}
cv: {folds: 3}
"""


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Work in an empty directory, so any file CatBoost writes beside the run shows up."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_registered_with_native_categoricals():
    from mlengine.sections.model import MODELS
    from mlengine.sections.preprocess import PreprocessSection
    from mlengine.steps.preprocess import resolve_preprocess

    spec = MODELS["catboost"]
    assert spec.tasks == {"binary", "multiclass", "regression"} and spec.family == "tree"
    choice = resolve_preprocess(PreprocessSection(), "catboost")
    assert (choice.impute, choice.scale, choice.categorical, choice.native) == ("none", "none", "ordinal",
                                                                               "cat_features")
    assert "passed to the model as cat_features" in choice.describe()
    onehot = resolve_preprocess(PreprocessSection(categorical="onehot"), "catboost")
    assert onehot.native is None  # one-hot columns are numbers: nothing is passed as categories
    assert resolve_preprocess(PreprocessSection(), "lightgbm").native is None
    params = spec.resolved_params("binary", {}, seed=5, n_jobs=2)
    assert params["random_seed"] == 5 and params["thread_count"] == 2
    assert params["allow_writing_files"] is False and params["verbose"] is False


@pytest.mark.parametrize("recipe,task,rows", [("titanic.yaml", "binary", 600), ("penguins.yaml", "multiclass", 240),
                                              ("nyc_taxis_tip.yaml", "regression", 1500)])
def test_fit_predict_with_categoricals_as_cat_features(in_tmp, recipe, task, rows):
    data, pipe = prepared(recipe, TINY)
    order = np.random.default_rng(0).permutation(len(data.X))  # penguins.csv is sorted by species
    X, y = data.X.iloc[order], data.y.iloc[order]
    X_tr, y_tr, X_te, y_te = X.iloc[:rows], y.iloc[:rows], X.iloc[rows:], y.iloc[rows:]
    pipe.fit(X_tr, y_tr)
    model = pipe.named_steps["model"]
    n_num = len(pipe.named_steps["adapt"].numeric_outputs())
    n_cat = len(data.columns.categorical)
    assert n_cat > 0
    expected = list(range(n_num, n_num + n_cat))
    assert model.get_params()["cat_features"] == expected
    assert model.get_cat_feature_indices() == expected  # CatBoost itself treats them as categories
    pred = pipe.predict(X_te)
    assert pred.shape == (len(X_te),)
    if task == "regression":
        assert np.corrcoef(pred, y_te)[0, 1] > 0.3
    else:
        proba = pipe.predict_proba(X_te)
        assert np.allclose(proba.sum(axis=1), 1.0) and list(pipe.classes_) == sorted(np.unique(data.y))
        assert set(pred) <= set(pipe.classes_)
        assert (pred == y_te.to_numpy()).mean() > 0.7
    again = pickle.loads(pickle.dumps(pipe))  # the joblib export: same predictions after a round trip
    assert np.array_equal(again.predict(X_te.head(50)), pred[:50])
    assert list(in_tmp.iterdir()) == []  # no catboost_info/ (allow_writing_files off)


def test_refit_is_byte_identical():
    """CatBoost stamps each fit with a random model_guid and a finish time; pinned, so replay sees one model."""
    from sklearn.base import clone

    data, pipe = prepared("penguins.yaml", TINY)
    first = pickle.dumps(clone(pipe).fit(data.X, data.y))
    assert pickle.dumps(clone(pipe).fit(data.X, data.y)) == first


def test_unseen_category_and_missing_values_predict():
    data, pipe = prepared("titanic.yaml", TINY)
    pipe.fit(data.X, data.y)
    rows = data.X.head(5).copy()
    rows["embarked"] = ["Z", None, "S", "Q", "never seen"]
    rows["age"] = np.nan
    assert pipe.predict_proba(rows).shape == (5, 2)


def test_a_select_step_turns_native_handling_off_with_a_note(write_recipe):
    import mlengine

    path = write_recipe(RECIPE + "select: {method: variance}\n")
    plan = mlengine.compile_recipe(mlengine.load_recipe(path), task="binary")
    assert plan.candidates[0].preprocess.native is None
    assert any("not as cat_features: the select step" in n for n in plan.notes)


def test_params_checked_without_importing_catboost(write_recipe):
    path = write_recipe(RECIPE)
    code = ("import sys, mlengine\n"
            "from mlengine.errors import RecipeError\n"
            f"p = {str(path)!r}\n"
            "mlengine.load_recipe(p, ['++model.params.depth=4', '++model.params.grow_policy=Lossguide'])\n"
            "for bad in ('n_estimators=10', 'depth=40', 'thread_count=4', 'allow_writing_files=true',\n"
            "            'grow_policy=Wide'):\n"
            "    try:\n"
            "        mlengine.load_recipe(p, ['++model.params.' + bad])\n"
            "    except RecipeError as e:\n"
            "        print(bad.split('=')[0], '|', str(e).replace(chr(10), ' '))\n"
            "print('catboost' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         check=True).stdout.splitlines()
    msgs = dict(line.split(" | ", 1) for line in out[:-1])
    assert out[-1] == "False"
    assert "alias in catboost; set 'iterations'" in msgs["n_estimators"]
    assert "model.params.depth" in msgs["depth"] and "[1, 16]" in msgs["depth"]
    assert "model.n_jobs" in msgs["thread_count"]
    assert "file writing off" in msgs["allow_writing_files"]
    assert "SymmetricTree" in msgs["grow_policy"]


def test_onnx_refused_at_plan_time(cli, write_recipe):
    path = write_recipe(RECIPE)
    code, out, _ = cli("plan", path)
    assert code == 0 and "export    joblib" in out and "CatBoost's own ONNX exporter takes no categorical" in out
    code, _, err = cli("plan", path, "export.format=[onnx]")
    assert code == 2 and "export.format" in err and "cat_features" in err and "Traceback" not in err
    code, _, err = cli("validate", path, "--no-data", "model=lightgbm", "export.format=[onnx]", "+search.trials=3",
                       "+search.estimators=[lightgbm,catboost]")
    assert code == 2 and "search.estimators includes 'catboost'" in err


@pytest.mark.slow
def test_run_and_search_with_catboost_write_only_the_run_directory(cli, write_recipe, runs_dir, in_tmp):
    import mlengine

    path = write_recipe(RECIPE)
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", "+search.trials=3",
                         "+search.estimators=[catboost,lightgbm]", "++search.space.catboost.iterations.high=40",
                         "cv.folds=2")
    assert code == 0, err
    run_dir = Path(json.loads(out)["run_dir"])
    m = read_json(run_dir / "metrics.json")
    assert m["search"]["trials_run"] == 3
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert "catboost" in set(board["model"]) and set(board["status"]) <= {"ok", "pruned"}
    assert (run_dir / "model.joblib").is_file()
    if m["search"]["best"]["model"] == "catboost":
        assert not (run_dir / "model.onnx").exists()
    model = mlengine.load_model(run_dir)
    assert len(model.predict(pd.read_csv(path.parent / "data" / "titanic.csv").head(10))) == 10
    assert list(in_tmp.iterdir()) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["cwd", "data", "recipe.yaml", "runs"]
