"""The trial log (mlengine/search/trials.py): records from outcomes, the ranking, the leaderboard columns and files,
and the best config as recipe keys and as Hydra overrides."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from mlengine.api import load_recipe
from mlengine.search.trials import (
    TrialRecord,
    _value,
    best_overrides,
    leaderboard,
    ranked,
    record_of,
    replay_overrides,
    write_leaderboard,
)

from tests.conftest import TITANIC


def _outcome(status="ok", scores=None, model="lightgbm", params=None, pipeline_params=None, error=None):
    return SimpleNamespace(status=status, model=model, params=params or {}, pipeline_params=pipeline_params or {},
                           seconds=1.23456, error=error, scores=scores or {}, best_iterations=[])


def test_a_record_keeps_the_folds_it_finished_with_mean_and_std():
    rec = record_of(3, _outcome(scores={"auc": [0.7, 0.9], "f1": [0.5, 0.7]}), "auc")
    assert rec.number == 3 and rec.ok and rec.folds == [0.7, 0.9]
    assert rec.mean == pytest.approx(0.8) and rec.std == pytest.approx(0.1) and rec.other == {"f1": pytest.approx(0.6)}
    pruned = record_of(4, _outcome("pruned", scores={"auc": [0.5]}), "auc")
    assert pruned.folds == [0.5] and pruned.mean == 0.5 and not pruned.ok
    failed = record_of(5, _outcome("failed", error="ValueError: x"), "auc")
    assert failed.mean is None and failed.folds == [] and failed.to_dict()["error"] == "ValueError: x"
    assert failed.to_dict()["seconds"] == 1.235


def test_the_key_identifies_a_configuration():
    a = TrialRecord(1, "ok", "lightgbm", {"a": 1, "b": 2}, {}, 0.0)
    b = TrialRecord(2, "ok", "lightgbm", {"b": 2, "a": 1}, {}, 0.0)
    assert a.key() == b.key() and a.key() != TrialRecord(3, "ok", "xgboost", {"a": 1, "b": 2}, {}, 0.0).key()


def _records():
    return [TrialRecord(1, "ok", "lightgbm", {"num_leaves": 7}, {}, 1.0, [0.7], 0.7),
            TrialRecord(2, "failed", "lightgbm", {"num_leaves": 300}, {}, 0.1, error="boom"),
            TrialRecord(3, "ok", "random_forest", {"max_depth": 4}, {"resample.k_neighbors": 3}, 2.0, [0.9], 0.9),
            TrialRecord(4, "ok", "lightgbm", {"num_leaves": 15}, {}, 1.0, [0.7], 0.7)]


def test_ranking_is_best_first_ties_by_trial_failures_last():
    assert [r.number for r in ranked(_records(), greater_is_better=True)] == [3, 1, 4, 2]
    assert [r.number for r in ranked(_records(), greater_is_better=False)] == [1, 4, 3, 2]


def test_the_leaderboard_has_a_column_per_parameter_with_integers_kept(tmp_path):
    frame = leaderboard(_records(), "auc", greater_is_better=True)
    assert frame["trial"].tolist() == [3, 1, 4, 2]
    assert frame["rank"].tolist()[:3] == [1, 2, 3] and pd.isna(frame["rank"].iloc[3])
    assert str(frame["param.num_leaves"].dtype) == "Int64" and str(frame["rank"].dtype) == "Int64"
    assert frame["param.num_leaves"].tolist()[1:] == [7, 15, 300] and pd.isna(frame["param.num_leaves"].iloc[0])
    assert frame["pipeline.resample.k_neighbors"].iloc[0] == 3
    assert json.loads(frame["config"].iloc[0]) == {"model": "random_forest", "params": {"max_depth": 4},
                                                   "pipeline_params": {"resample.k_neighbors": 3}}
    assert frame["auc_folds"].iloc[0] == "[0.9]" and frame["error"].iloc[3] == "boom"
    assert write_leaderboard(frame, tmp_path) == {"leaderboard.csv": {"rows": 4}, "leaderboard.parquet": {"rows": 4}}
    back = pd.read_parquet(tmp_path / "leaderboard.parquet")
    assert back["trial"].tolist() == [3, 1, 4, 2] and len(pd.read_csv(tmp_path / "leaderboard.csv")) == 4


def test_mixed_type_parameters_are_text_in_parquet(tmp_path):
    records = [TrialRecord(1, "ok", "mlp", {"hidden": [16, 8]}, {}, 1.0, [0.5], 0.5),
               TrialRecord(2, "ok", "mlp", {"hidden": "auto"}, {}, 1.0, [0.6], 0.6)]
    write_leaderboard(leaderboard(records, "auc", True), tmp_path)
    assert pd.read_parquet(tmp_path / "leaderboard.parquet")["param.hidden"].tolist() == ["auto", "[16, 8]"]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    path = tmp_path_factory.mktemp("trials") / "r.yaml"
    path.write_text(TITANIC + "resample: {method: smote}\nselect: {method: kbest, k: 8}\n", encoding="utf-8")
    return load_recipe(path)


def test_best_overrides_use_the_step_key_when_the_section_has_one(recipe):
    best = TrialRecord(1, "ok", "random_forest", {"max_depth": 4}, {"resample.k_neighbors": 3, "select.k": 5,
                                                                     "reduce.tol": 0.1}, 1.0)
    assert best_overrides(recipe.recipe, best) == {"model.name": "random_forest", "model.params.max_depth": 4,
                                                   "resample.k_neighbors": 3, "select.k": 5,
                                                   "search.pipeline.reduce.tol": 0.1}  # PCA.tol has no recipe key


def test_replay_overrides_drop_the_recipes_own_model_params(recipe):
    best = TrialRecord(1, "ok", "random_forest", {"max_depth": 4, "criterion": "gini"}, {"resample.k_neighbors": 3},
                       1.0)
    assert replay_overrides(recipe.recipe, recipe.resolved, best) == [
        "search.trials=0", "model.name=random_forest", "~model.params", "+model.params={max_depth: 4, criterion: gini}",
        "resample.k_neighbors=3"]
    no_params = {**recipe.resolved, "model": {"name": "lightgbm"}}
    assert replay_overrides(recipe.recipe, no_params, best)[2] == "model.params={max_depth: 4, criterion: gini}"


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (None, "null"), (0.1 + 0.2, "0.30000000000000004"), (3, "3"), ("gini", "gini"),
    ("log_loss", "log_loss"), ("true", "'true'"), ("1st", "'1st'"), ("a b", "'a b'"), ("it's", "'it\\'s'"),
])
def test_values_are_written_in_hydras_override_grammar(value, text):
    assert _value(value) == text
