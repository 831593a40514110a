"""The overview, recipe and search sections on small run directories: the Shipped line reconciles the recipe's
model, the plan and the search; defaults are named; the leaderboard has no `nan` and says where trials were pruned;
a greedy ensemble lists its members and weights."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import yaml

from mlengine.report import overview
from mlengine.report.rundata import RunData

RF = {"n_estimators": 136, "max_features": 0.3954755846549707, "criterion": "gini"}


def _run(tmp_path: Path, recipe: dict, metrics: dict, model: str | None = None,
         leaderboard: pd.DataFrame | None = None) -> RunData:
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    if model:
        (tmp_path / "model.json").write_text(json.dumps({"model": model}), encoding="utf-8")
    if leaderboard is not None:
        leaderboard.to_csv(tmp_path / "leaderboard.csv", index=False)
    return RunData(tmp_path, {"task": "binary", "primary_metric": "roc_auc", "greater_is_better": True, **metrics})


def _search(ensemble: dict | None = None, **extra) -> dict:
    return {"search": {"metric": "roc_auc", "greater_is_better": True, "estimators": ["lightgbm", "random_forest"],
                       "trials_run": 20, "best": {"trial": 12, "model": "random_forest", "params": RF},
                       "ensemble": ensemble, **extra}}


def _leaderboard() -> pd.DataFrame:
    """As search.trials.leaderboard writes it: integer columns with gaps come back from the CSV as floats."""
    return pd.DataFrame({
        "rank": [1, 2, None], "trial": [12, 1, 3], "status": ["ok", "ok", "pruned"],
        "model": ["random_forest", "lightgbm", "lightgbm"], "roc_auc_mean": [0.8694064733014576, 0.86, 0.7774],
        "roc_auc_std": [0.035526980892778615, 0.04, 0.0],
        "roc_auc_folds": ["[0.84, 0.9]", "[0.82, 0.9]", "[0.7774]"], "seconds": [4.601, 4.5, 0.151],
        "error": [None, None, "pruned after 1 of 2 folds: clearly worse than the best trial on the same folds"],
        "config": ["{}"] * 3, "param.n_estimators": [136, 150, 4], "param.num_leaves": [None, 15, 4],
        "param.max_features": [0.3954755846549707, None, None]})


def _text(fragment: str) -> str:
    return re.sub(r"<[^>]+>", " ", fragment)


def test_shipped_without_a_search_names_the_model_and_what_wraps_it(tmp_path):
    run = _run(tmp_path, {"name": "m", "model": {"name": "lightgbm", "params": {"n_estimators": 150}}},
               {"calibration": {"method": "sigmoid"}, "threshold": {"objective": "cost",
                                                                    "threshold": 0.08045545138575552}},
               model="lightgbm")
    assert overview.shipped(run) == ("lightgbm {n_estimators: 150}, as the recipe sets it (no search); wrapped with "
                                     "sigmoid calibration and decision threshold 0.08046 (cost).")


def test_shipped_after_a_search_reconciles_recipe_plan_and_result(tmp_path):
    run = _run(tmp_path, {"name": "s", "model": {"name": "lightgbm", "params": {"n_estimators": 150}}},
               _search(), model="random_forest", leaderboard=_leaderboard())
    line = overview.shipped(run)
    assert line.startswith("random_forest {n_estimators: 136, max_features: 0.3955, criterion: gini}, trial 12, "
                           "chosen by the search over lightgbm, random_forest (20 trials)")
    assert line.endswith("the recipe's model lightgbm {n_estimators: 150} was the start point (trial 1).")
    block = overview.overview(run)
    assert "Shipped:" in block.body and "3954755846549707" not in block.body


def test_shipped_ensemble_lists_members_and_their_share_of_the_vote(tmp_path):
    ens = {"method": "greedy", "members": [12, 1], "weights": [3.0, 1.0], "kept": True, "cv_mean": 0.8712,
           "cv_std": 0.03, "best_single_cv_mean": 0.8694064733014576, "reason": "better"}
    run = _run(tmp_path, {"name": "s", "model": {"name": "lightgbm"}}, _search(ens),
               model="greedy(random_forest, lightgbm)", leaderboard=_leaderboard())
    line = overview.shipped(run)
    assert "a greedy ensemble of 2 trials from the search over lightgbm, random_forest (20 trials): random_forest " \
           "trial 12 (75%), lightgbm trial 1 (25%); it beat the best single trial (random_forest, trial 12) on cv " \
           "roc_auc, 0.8712 vs 0.8694" in line
    assert overview._model_tile(run) == ("greedy ensemble", "2 members: random_forest, lightgbm; task binary")
    body = overview.search_section(run).body
    members = _text(body.split("<h3>Ensemble</h3>")[1])
    assert "kept" in members and "75%" in members and "25%" in members and "n_estimators: 136" in members


def test_a_long_ensemble_name_becomes_method_and_members_in_the_tile(tmp_path):
    run = _run(tmp_path, {"name": "s"}, {}, model="greedy(random_forest, random_forest, random_forest, lightgbm)")
    assert overview._model_tile(run) == ("greedy ensemble", "4 members: random_forest x3, lightgbm; task binary")


def test_search_fallback_says_the_recipe_model_was_fitted(tmp_path):
    run = _run(tmp_path, {"name": "s", "model": {"name": "lightgbm"}},
               _search(fallback={"message": "no trial finished within 5 s"}), model="lightgbm")
    assert overview.shipped(run) == ("the recipe's model lightgbm, fitted without a search result: no trial "
                                     "finished within 5 s.")


def test_recipe_defaults_are_named(tmp_path):
    run = _run(tmp_path, {"name": "quick", "data": {"source": {"kind": "csv", "path": "d.csv"}, "target": "y"}}, {})
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]*)</td></tr>", overview.recipe_section(run).body))
    assert rows["model"] == "lightgbm (default)" and rows["seed"] == "0 (default)"
    assert "lightgbm (default)" in overview.shipped(run)
    assert " - " not in rows.values() and "-" not in rows.values()


def test_leaderboard_has_integers_four_digits_no_nan_and_names_pruned_trials(tmp_path):
    run = _run(tmp_path, {"name": "s", "cv": {"folds": 2}}, _search(), model="random_forest",
               leaderboard=_leaderboard())
    body = overview.search_section(run).body
    table = body.split("<h3>Best trials</h3>")[1].split("</table>")[0]
    cells = [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", table)]
    assert "nan" not in " ".join(cells).lower() and "1.0000" not in cells and "136.0" not in " ".join(cells)
    rows = [cells[i:i + 10] for i in range(0, len(cells), 10)]
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", table)
    assert headers == ["rank", "trial", "status", "model", "roc_auc_mean", "roc_auc_std", "seconds", "param.n_estimators",
                       "param.num_leaves", "param.max_features"]  # no config, folds, or error (only pruned had one)
    assert rows[0] == ["1", "12", "ok", "random_forest", "0.8694", "0.03553", "4.601", "136", "—", "0.3955"]
    assert rows[2][:6] == ["—", "3", "pruned", "lightgbm", "0.7774", "pruned after 1 of 2 folds"]
    assert '<td class="num" title="not recorded">—</td>' in table
    assert "1 pruned" in body


def _facts(tmp_path, recipe: dict) -> str:
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return overview.recipe_section(RunData(tmp_path)).body.split("<details>")[0]  # the table, not the recipe text


def test_recipe_table_lists_the_sections_in_use_by_their_option_key(tmp_path):
    body = _facts(tmp_path, {"data": {"source": {"kind": "csv", "path": "d.csv"}, "target": "y"},
                             "resample": {"method": "smote", "k_neighbors": 3},
                             "calibration": {"method": "sigmoid", "bins": 10},
                             "threshold": {"objective": "cost", "cost": {"false_negative": 5}},
                             "select": {"method": "none"}, "search": {"trials": 0}})
    assert "method: smote, k_neighbors: 3" in body and "method: sigmoid, bins: 10" in body
    assert "objective: cost" in body  # threshold's option key is `objective`, not `method`
    assert "<td>select</td>" not in body and "<td>search</td>" not in body


def test_recipe_table_leaves_out_sections_left_at_none(tmp_path):
    body = _facts(tmp_path, {"data": {"target": "y"}, "threshold": {"objective": "none"},
                             "calibration": {"method": "none"}, "search": {"trials": 20}})
    assert "objective: none" not in body and "method: none" not in body and "trials: 20" in body
