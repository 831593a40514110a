"""`model`: one typed option per model.name carrying its estimator facts; the recipe's keys checked against the
model; the xgboost, knn and mlp models registered and listed, end-to-end runs with verified ONNX (xgboost, mlp) or a
plan-time refusal (knn), exact converters on binary, multiclass and regression data, and a search across them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest

from mlengine.errors import RecipeError
from mlengine.recipe.validate import validate_config
from mlengine.sections.model import MODEL, MODELS, EarlyStoppingSection, LightGBM, ModelOption, ModelSpec

from tests.conftest import read_json
from tests.export_helpers import assert_exact, prepared

NEW = ("xgboost", "knn", "mlp")
TINY = {"xgboost": ["++model.params.n_estimators=20"], "knn": [], "mlp": ["++model.params.max_iter=60"]}

RECIPE = """
name: t
seed: 1
task: binary
data:
  source: {kind: csv, path: data/titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model: {name: lightgbm, n_jobs: 1}
cv: {folds: 3}
"""


BASE = {"name": "m", "data": {"source": {"kind": "builtin", "name": "breast_cancer"}, "target": "target"}}


def _problems(model: dict, **top) -> list[str]:
    try:
        validate_config({**BASE, **top, "model": model})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


def test_one_option_class_per_model_and_the_default_is_lightgbm():
    assert list(MODEL) == list(MODELS) and len(list(MODEL)) == 11
    for name, cls in MODEL.items():
        assert cls.spec is MODELS[name] and cls.spec.name == name == cls.option_name()
        assert cls.summary == cls.spec.description  # listed by `mlengine models` and the README key reference
    recipe = validate_config(BASE)
    assert type(recipe.model) is LightGBM and recipe.model.params == {} and recipe.model.n_jobs == 0
    chosen = validate_config({**BASE, "model": {"name": "xgboost", "params": {"max_depth": 3}}}).model
    assert type(chosen) is MODEL["xgboost"] and chosen.params == {"max_depth": 3}


def test_a_spec_must_carry_its_option_name():
    with pytest.raises(ValueError, match="carries the spec of 'lightgbm'"):
        class Wrong(ModelOption):  # noqa: F841 (the class statement is what fails)
            name: Literal["wrong"]
            spec: ClassVar[ModelSpec] = MODELS["lightgbm"]


def test_bad_model_keys_get_one_message_each():
    assert _problems({"name": "lightgbn"}) == [
        "model.name: unknown model name 'lightgbn'. Did you mean 'lightgbm'? Allowed: " + ", ".join(sorted(MODEL)) + "."]
    assert _problems({"name": "ridge"}, task="binary") == [
        "model.name: model 'ridge' does not fit task 'binary'; models for binary: catboost, dummy, extra_trees, "
        "hist_gradient_boosting, knn, lightgbm, logistic_regression, mlp, random_forest, xgboost."]
    (num_leaves,) = _problems({"name": "xgboost", "params": {"num_leaves": 7}})
    assert num_leaves.startswith("model.params.num_leaves: 'num_leaves' is not a parameter of model 'xgboost'. It "
                                 "is a parameter of lightgbm")
    assert _problems({"params": {"seed": 3}}) == ["model.params.seed: 'seed' is set by mlengine (set `seed` "
                                                  "instead)."]
    assert _problems({"name": "catboost", "params": {"n_estimators": 5}}) == [
        "model.params.n_estimators: 'n_estimators' is an alias in catboost; set 'iterations' instead (one name per "
        "setting)."]
    assert _problems({"params": {"num_leaves": 1}}) == ["model.params.num_leaves: must be in [2, 131072]; got 1."]
    (c,) = _problems({"name": "random_forest", "params": {"n_estimators": 0}})
    assert c.startswith("model.params.n_estimators: must be an int in the range [1, inf)")  # sklearn's own words
    assert _problems({"n_jobs": -1}) == ["model.n_jobs: must be greater than or equal to 0; got -1."]
    assert _problems({"name": "knn", "params": {"n_neighbors": 5}}, task="binary") == []


def test_check_names_the_task_and_skips_empty_params():
    assert MODEL["lightgbm"]().check("regression") == []
    assert [p.path for p in MODEL["logistic_regression"](name="logistic_regression").check("regression")] == [
        "model.name"]
    built = MODELS["lightgbm"].build("binary", {"num_leaves": 7}, seed=4, n_jobs=1)
    assert (built.num_leaves, built.n_estimators, built.random_state, built.n_jobs) == (7, 200, 4, 1)


def test_early_stopping_applies_to_boosters_only():
    es = EarlyStoppingSection()
    assert es.active_for("lightgbm", searching=True) and not es.active_for("lightgbm", searching=False)
    assert not es.active_for("random_forest", searching=True)
    assert [n for n, s in MODELS.items() if s.early_stopping] == ["lightgbm", "xgboost"]


def _run(cli, path, runs_dir, *overrides):
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", *overrides)
    assert code == 0, err
    run_dir = json.loads(out)["run_dir"]
    return run_dir, read_json(f"{run_dir}/metrics.json")


def test_models_are_listed(cli):
    code, out, _ = cli("models")
    assert code == 0
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}
    assert rows["xgboost"] == "tree" and rows["knn"] == "neighbors" and rows["mlp"] == "neural"


def test_preprocessing_follows_the_family():
    from mlengine.sections.preprocess import PreprocessSection
    from mlengine.steps.preprocess import resolve_preprocess

    section = PreprocessSection()
    xgb = resolve_preprocess(section, "xgboost")
    assert (xgb.impute, xgb.scale, xgb.categorical) == ("none", "none", "ordinal")  # handles NaN itself
    for name in ("knn", "mlp"):
        c = resolve_preprocess(section, name)
        assert (c.impute, c.scale, c.categorical) == ("median", "standard", "onehot")


@pytest.mark.slow
@pytest.mark.parametrize("model", NEW)
def test_each_model_runs_end_to_end_and_exports_or_is_refused(cli, write_recipe, runs_dir, model):
    path = write_recipe(RECIPE)
    code, plan, _ = cli("plan", path, f"model={model}", "model.n_jobs=1", *TINY[model])
    assert code == 0
    run_dir, m = _run(cli, path, runs_dir, f"model={model}", "model.n_jobs=1", *TINY[model])
    assert 0.6 < m["holdout"]["roc_auc"] <= 1.0
    if model == "knn":
        assert "cannot be exported to ONNX" in plan and "k-th nearest distance" in plan
        assert not (Path(run_dir) / "model.onnx").exists() and (Path(run_dir) / "model.joblib").is_file()
        code, _, err = cli("plan", path, "model=knn", "export.format=[onnx]")
        assert code == 2 and "knn has no exact ONNX graph" in err and "Traceback" not in err
    else:
        parity = m["export"]["onnx"]["parity"]
        assert parity["passed"] and parity["label_mismatches"] == 0 and parity["max_abs_diff"] < 1e-12


@pytest.mark.parametrize("model", ["xgboost", "mlp"])
@pytest.mark.parametrize("recipe,task", [("titanic.yaml", "binary"), ("penguins.yaml", "multiclass"),
                                         ("nyc_taxis_tip.yaml", "regression")])
def test_converters_match_the_library(model, recipe, task):
    over = (f"model={model}", "model.n_jobs=1", *TINY[model])
    data, pipe = prepared(recipe, over)
    X, y = data.X.iloc[:1200], data.y.iloc[:1200]
    pipe.fit(X, y)
    rows = data.X.iloc[1200:2000] if len(data.X) > 1300 else data.X
    report = assert_exact(pipe, rows, task, tolerance=1e-9)
    # exact: XGBoost's float32 tree-by-tree sum is reproduced, and the float64 link applied to it
    assert (report.max_rel_diff if task == "regression" else report.max_abs_diff) < 1e-12


def test_xgboost_calibrated_isotonic_stays_exact():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline

    data, pipe = prepared("titanic.yaml", ("model=xgboost", "model.n_jobs=1", "++model.params.n_estimators=20"))
    model = Pipeline([*pipe.steps[:-1], ("model", CalibratedClassifierCV(pipe.steps[-1][1], method="isotonic",
                                                                        cv=3))]).fit(data.X, data.y)
    assert assert_exact(model, data.X, "binary").max_abs_diff < 1e-12


def test_xgboost_keeps_string_labels_and_refuses_other_boosters(write_recipe):
    import mlengine
    from mlengine.errors import RecipeError

    data, pipe = prepared("penguins.yaml", ("model=xgboost", "model.n_jobs=1", "++model.params.n_estimators=5"))
    pipe.fit(data.X, data.y)
    assert set(pipe.predict(data.X.head(20))) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert list(pipe.classes_) == sorted(np.unique(data.y))
    path = write_recipe(RECIPE)
    with pytest.raises(RecipeError, match="xgboost booster 'dart'"):
        mlengine.load_recipe(path, ["model=xgboost", "+model.params.booster=dart", "export.format=[onnx]"])
    with pytest.raises(RecipeError, match="num_leaves.*lightgbm"):
        mlengine.load_recipe(path, ["model=xgboost", "+model.params.num_leaves=8"])


@pytest.mark.slow
def test_search_across_the_new_models(cli, write_recipe, runs_dir):
    path = write_recipe(RECIPE)
    run_dir, m = _run(cli, path, runs_dir, "+search.estimators=[xgboost,knn,mlp]", "+search.trials=3",
                      "++search.space.mlp.max_iter=60")
    s = m["search"]
    assert s["trials_run"] == 3 and s["best"]["model"] in NEW
    import pandas as pd

    board = pd.read_csv(f"{run_dir}/leaderboard.csv")
    assert len(board) == 3 and set(board["status"]) <= {"ok", "pruned"}
    assert board["model"].nunique() >= 2  # the start points cover more than one family


def test_search_without_estimators_covers_trees_and_the_linear_model(write_recipe):
    import mlengine
    from mlengine.search.checks import searched_estimators

    path = write_recipe(RECIPE + "search: {trials: 2}\n")
    recipe = mlengine.load_recipe(path).recipe
    assert searched_estimators(recipe) == ["lightgbm", "xgboost", "random_forest", "extra_trees",
                                           "hist_gradient_boosting", "logistic_regression"]
    assert searched_estimators(recipe, "regression")[-1] == "ridge"
    mlp = mlengine.load_recipe(path, ["model=mlp"]).recipe
    assert searched_estimators(mlp)[0] == "mlp"  # the recipe's own model is searched too
    keep_nan = mlengine.load_recipe(path, ["preprocess.numeric_impute=none"]).recipe
    assert searched_estimators(keep_nan) == ["lightgbm", "xgboost", "hist_gradient_boosting"]
    listed = mlengine.load_recipe(path, ["+search.estimators=[knn]"]).recipe
    assert searched_estimators(listed) == ["knn"]


def test_explicit_onnx_with_knn_in_the_search_is_refused_before_the_search(cli, write_recipe):
    path = write_recipe(RECIPE)
    code, _, err = cli("validate", path, "--no-data", "export.format=[onnx]", "+search.trials=3",
                       "+search.estimators=[lightgbm,knn]")
    assert code == 2 and "search.estimators includes 'knn'" in err and "Traceback" not in err
    code, _, _ = cli("validate", path, "--no-data", "+search.trials=3", "+search.estimators=[lightgbm,knn]")
    assert code == 0  # under format auto the run writes ONNX unless knn wins
