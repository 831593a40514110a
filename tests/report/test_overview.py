"""The report's run sections: the recipe table lists each modelling section the recipe turned on."""

from __future__ import annotations

import yaml

from mlengine.report.overview import recipe_section
from mlengine.report.rundata import RunData


def _facts(tmp_path, recipe: dict) -> str:
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return recipe_section(RunData(tmp_path)).body.split("<details>")[0]  # the table, not the recipe text


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
