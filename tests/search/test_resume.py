"""--resume: the refusals that name what is missing, and leaderboard rows turned back into trial outcomes in
trial order, stopping at the first gap."""

from __future__ import annotations

import json
import types

import pandas as pd
import pytest

from mlengine.errors import UserError
from mlengine.search.resume import check_resume, replay_outcomes


def _recipe(trials, budget=None):
    return types.SimpleNamespace(search=types.SimpleNamespace(active=bool(trials or budget), trials=trials,
                                                              time_budget=budget))


def test_refusals_say_what_is_missing(tmp_path):
    with pytest.raises(UserError, match="does not search"):
        check_resume(tmp_path, _recipe(0))
    with pytest.raises(UserError, match="time_budget only"):
        check_resume(tmp_path, _recipe(0, budget=5.0))
    with pytest.raises(UserError, match="no such run directory"):
        check_resume(tmp_path / "none", _recipe(4))
    with pytest.raises(UserError, match="no leaderboard.csv"):
        check_resume(tmp_path, _recipe(4))
    (tmp_path / "leaderboard.csv").write_text("trial\n")
    assert check_resume(tmp_path, _recipe(4)) == tmp_path.resolve()


def test_leaderboard_rows_become_outcomes_up_to_the_first_gap(tmp_path):
    config = json.dumps({"model": "lightgbm", "params": {"n_estimators": 5}, "pipeline_params": {}})
    pd.DataFrame({"trial": [2, 1, 4], "status": ["ok", "ok", "ok"], "config": [config] * 3,
                  "roc_auc_folds": ["[0.7, 0.8]", "[0.6, 0.6]", "[0.9, 0.9]"], "accuracy_mean": [0.7, 0.6, 0.9],
                  "seconds": [1.0, 2.0, 3.0], "error": [None, None, None]}).to_csv(tmp_path / "leaderboard.csv")
    out = replay_outcomes(tmp_path, "roc_auc")
    assert len(out) == 2 and out[0].scores == {"roc_auc": [0.6, 0.6], "accuracy": [0.6]}
    assert out[1].scores["roc_auc"] == [0.7, 0.8] and out[1].model == "lightgbm" and out[1].error is None
    with pytest.raises(UserError, match="optimised roc_auc, this recipe's search optimises 'f1'"):
        replay_outcomes(tmp_path, "f1")


def test_an_early_stopped_trial_keeps_its_best_iterations_through_the_leaderboard(tmp_path):
    from mlengine.search.trial import TrialOutcome
    from mlengine.search.trials import leaderboard, record_of

    done = TrialOutcome("ok", "lightgbm", {"n_estimators": 400}, {}, 1.0, scores={"roc_auc": [0.8, 0.9]},
                        best_iterations=[31, 40])
    leaderboard([record_of(1, done, "roc_auc")], "roc_auc", True).to_csv(tmp_path / "leaderboard.csv", index=False)
    again = record_of(1, replay_outcomes(tmp_path, "roc_auc")[0], "roc_auc")
    assert again.best_iterations == [31, 40] and again.best_iteration == 36
    assert again.refit_params == {"n_estimators": 36}
