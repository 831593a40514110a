"""Early stopping inside CV folds (model.early_stopping): the validation split comes from the training fold only and
fits nothing before the model, boosters stop before their cap, the refit is plain with the fold-mean best
iteration, the leaderboard and records state it, a replay reproduces the model, and bad values are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATA, TITANIC, read_json
from tests.export_helpers import prepared

ES = ("model.early_stopping.enabled=true",)


def _fold(data, plan_cv_seed: int = 1):
    from sklearn.model_selection import StratifiedKFold

    tr, va = next(StratifiedKFold(3, shuffle=True, random_state=plan_cv_seed).split(data.X, data.y))
    return tr, va


def test_validation_rows_come_from_the_training_fold_and_fit_nothing_before_the_model():
    from mlengine.steps.early_stopping import EarlyStoppingPipeline

    data, pipe = prepared("titanic.yaml", (*ES, "model.params.n_estimators=300"))
    assert isinstance(pipe, EarlyStoppingPipeline)
    tr, va = _fold(data)
    fitted = pipe.fit(data.X.iloc[tr], data.y.iloc[tr])
    fit_rows, val_rows = tr[fitted.fit_rows_], tr[fitted.validation_rows_]  # back to positions in the table
    assert set(val_rows) <= set(tr) and not set(val_rows) & set(va) and not set(val_rows) & set(fit_rows)
    assert sorted([*fit_rows, *val_rows]) == sorted(tr)
    assert len(val_rows) == round(0.1 * len(tr))
    share = data.y.iloc[val_rows].mean(), data.y.iloc[tr].mean()  # stratified: same survival rate
    assert abs(share[0] - share[1]) < 0.02
    # the preprocessing saw the fitting rows only: its fitted encoder knows no category that only validation
    # rows have, and a scaler fitted the same way has the fitting rows' mean
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from mlengine.steps.early_stopping import early_stopped

    X = data.X.iloc[tr][["age", "fare"]].fillna(0.0)
    y = data.y.iloc[tr]
    import lightgbm

    spy = early_stopped(Pipeline([("scale", StandardScaler()), ("model", lightgbm.LGBMClassifier(
        n_estimators=50, verbose=-1))]), validation_fraction=0.2, patience=5, seed=3, task="binary", ordered=False)
    spy.fit(X, y)
    np.testing.assert_allclose(spy.named_steps["scale"].mean_, X.iloc[spy.fit_rows_].mean().to_numpy())
    assert not np.allclose(spy.named_steps["scale"].mean_, X.mean().to_numpy())


def test_a_sampler_resamples_the_fitting_rows_only():
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.pipeline import Pipeline as ImbPipeline
    from xgboost import XGBRegressor  # noqa: F401  (the classifier below is mlengine's label-keeping subclass)

    from mlengine.steps.early_stopping import EarlyStoppingImbPipeline, early_stopped
    from mlengine.steps.xgb import XGBLabelClassifier

    frame = pd.read_csv(DATA / "mammography.csv").iloc[:3000]
    X, y = frame.drop(columns="malignant"), frame["malignant"]
    pipe = early_stopped(ImbPipeline([("resample", RandomOverSampler(random_state=0)),
                                      ("model", XGBLabelClassifier(n_estimators=400, learning_rate=0.3,
                                                                   verbosity=0))]),
                         validation_fraction=0.2, patience=10, seed=0, task="binary", ordered=False)
    assert isinstance(pipe, EarlyStoppingImbPipeline)
    pipe.fit(X, y)
    booster = pipe.named_steps["model"]
    n_fit = len(pipe.fit_rows_)
    counts = y.iloc[pipe.fit_rows_].value_counts()
    assert booster.get_booster().num_boosted_rounds() <= pipe.best_iteration_ + 10
    assert 1 <= pipe.best_iteration_ < 400  # stops well before the cap at learning rate 0.3
    assert n_fit + len(pipe.validation_rows_) == len(y)
    # the booster learned from the oversampled fitting rows: twice the majority count of those rows
    assert booster.evals_result()["validation_0"]  # scored on the (untouched) validation rows
    assert int(counts.max()) * 2 == len(pipe.named_steps["resample"].sample_indices_)


def test_lightgbm_stops_before_its_cap_and_predicts_with_the_best_iteration():
    from sklearn.base import clone

    data, pipe = prepared("wine_quality.yaml", (*ES, "model.params.n_estimators=3000",
                                                "model.params.learning_rate=0.2"))
    tr, _ = _fold(data)  # multiclass
    fitted = clone(pipe).fit(data.X.iloc[tr], data.y.iloc[tr])
    booster = fitted.steps[-1][1]
    assert 1 <= fitted.best_iteration_ < 3000
    assert booster.best_iteration_ == fitted.best_iteration_
    assert booster.booster_.current_iteration() == fitted.best_iteration_  # LightGBM keeps the best trees only


def test_validation_split_rules():
    from mlengine.steps.early_stopping import validation_rows

    y = np.array([0] * 90 + [1] * 10)
    fit, val = validation_rows(y, 0.2, 7, stratify=True, ordered=False)
    assert len(val) == 20 and y[val].sum() == 2 and not set(fit) & set(val)
    again = validation_rows(y, 0.2, 7, stratify=True, ordered=False)
    assert (again[1] == val).all()  # seeded
    fit, val = validation_rows(np.arange(50.0), 0.1, 7, stratify=False, ordered=True)
    assert list(val) == [45, 46, 47, 48, 49]  # time-ordered folds: the latest rows
    fit, val = validation_rows(np.array([0] * 30 + [1]), 0.2, 7, stratify=True, ordered=False)
    assert len(val) == 6  # a class with one row cannot be stratified: a plain shuffled split


def test_plain_refit_has_no_carve_out_and_the_chosen_tree_count():
    from sklearn.pipeline import Pipeline

    from mlengine.steps.early_stopping import chosen_n_estimators, is_early_stopped, plain_refit

    _, pipe = prepared("nyc_taxis_fare.yaml", ES)  # a target transform: n_estimators sits on the regressor
    assert is_early_stopped(pipe)
    plain = plain_refit(pipe, chosen_n_estimators([80, 91, 100]))
    assert type(plain) is Pipeline and not is_early_stopped(plain)
    assert plain.get_params()["model__regressor__n_estimators"] == 90


def test_target_transform_applies_to_the_validation_targets():
    from mlengine.sections.target import TARGET
    from mlengine.steps.early_stopping import _eval_target

    ttr = TARGET["none"](transform="log").wrap(object())
    np.testing.assert_allclose(_eval_target(ttr, [1.0, 2.0], np.array([np.e, 1.0])), [1.0, 0.0])


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A small search (2 lightgbm trials, early stopping on by default) and its refit replay."""
    import os

    from mlengine.api import load_recipe
    from mlengine.runner import run_recipe
    from mlengine.runs.replay import replay

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    root = tmp_path_factory.mktemp("es")
    (root / "data").mkdir()
    (root / "data" / "titanic.csv").write_bytes((DATA / "titanic.csv").read_bytes())
    (root / "r.yaml").write_text(TITANIC.replace("n_estimators: 30", "n_estimators: 400, learning_rate: 0.2")
                                 + "search: {estimators: [lightgbm], trials: 2}\nexport: {format: [joblib]}\n"
                                 + "report: {html: false, explain: false}\n", encoding="utf-8")
    run = Path(run_recipe(load_recipe(root / "r.yaml"), runs_dir=root / "runs").run_dir)
    report = replay(run, runs_dir=root / "replay")
    return run, report


def test_search_records_the_best_iteration_and_refits_with_the_mean(searched):
    import joblib

    run, _ = searched
    board = pd.read_csv(run / "leaderboard.csv")
    assert {"best_iteration", "best_iterations"} <= set(board.columns)
    first = board[board.trial == 1].iloc[0]
    folds = json.loads(first["best_iterations"])
    assert len(folds) == 3 and int(first["best_iteration"]) == round(sum(folds) / 3)
    assert max(folds) < 400  # stopped before the cap the recipe gave
    metrics = read_json(run / "metrics.json")
    es = metrics["early_stopping"]
    best = metrics["search"]["best"]
    assert es["chosen_by"] == "early_stopping" and es["best_iterations"] == best["best_iterations"]
    assert es["n_estimators"] == best["best_iteration"] == round(sum(es["best_iterations"]) / 3)
    manifest = read_json(run / "manifest.json")
    assert manifest["model"]["params"]["n_estimators"] == es["n_estimators"]
    assert manifest["search"]["best_config"]["model.early_stopping.enabled"] is True
    model = joblib.load(run / "model.joblib")
    model = getattr(model, "model", model)
    final = [s for s in model.get_params(deep=True) if s.endswith("model__n_estimators")]
    assert final and model.get_params()[final[0]] == es["n_estimators"]
    assert "EarlyStopping" not in repr(type(model)) and "early stopping" in (run / "plan.txt").read_text()


def test_a_refit_replay_rebuilds_the_same_model(searched):
    run, report = searched
    assert report.status == "identical", [c.as_dict() for c in report.checks if c.result != "identical"]
    import mlengine

    frame = pd.read_csv(DATA / "titanic.csv")
    original = mlengine.load_model(run).predict_proba(frame)
    replayed_dir = report.replay_dir or next((run.parent.parent.parent / "replay").rglob("manifest.json")).parent
    again = mlengine.load_model(replayed_dir).predict_proba(frame)
    np.testing.assert_array_equal(np.asarray(original), np.asarray(again))
    assert read_json(replayed_dir / "metrics.json")["early_stopping"] == read_json(run / "metrics.json")[
        "early_stopping"]


@pytest.mark.parametrize(("override", "key", "words"), [
    ("model.early_stopping.validation_fraction=0.7", "model.early_stopping.validation_fraction", "0.5"),
    ("model.early_stopping.validation_fraction=0", "model.early_stopping.validation_fraction", "0"),
    ("model.early_stopping.patience=0", "model.early_stopping.patience", "1"),
])
def test_bad_values_name_the_key(cli, write_recipe, tmp_path, override, key, words):
    code, _, err = cli("validate", write_recipe(TITANIC), override)
    assert code == 2 and key in err and words in err and "Traceback" not in err


def test_enabled_on_a_model_that_cannot_stop_is_refused(cli, write_recipe):
    path = write_recipe(TITANIC)
    code, _, err = cli("validate", path, "model.name=random_forest", "~model.params", *ES)
    assert code == 2 and "model.early_stopping.enabled" in err and "random_forest" in err and "lightgbm" in err
    code, _, err = cli("validate", path, "cv.kind=none", *ES)
    assert code == 2 and "model.early_stopping.enabled" in err and "cv.kind" in err
    code, _, err = cli("validate", path, "model.early_stopping.enabled=maybe")
    assert code == 2 and "model.early_stopping.enabled" in err


def test_default_is_on_in_a_search_and_off_for_a_fixed_model():
    from mlengine.sections.model import EarlyStoppingSection

    auto = EarlyStoppingSection()
    assert auto.active_for("lightgbm", searching=True) and auto.active_for("xgboost", searching=True)
    assert not auto.active_for("lightgbm", searching=False)
    assert not auto.active_for("random_forest", searching=True)
    assert not EarlyStoppingSection(enabled=False).active_for("lightgbm", searching=True)
    assert EarlyStoppingSection(enabled=True).active_for("lightgbm", searching=False)
