"""`evaluate`: the section's defaults (stated once in its class), metric and baseline names checked with a
did-you-mean, bare data paths for adversarial validation, and one clear message per bad key."""

from __future__ import annotations

import pytest

from mlengine.errors import RecipeError
from mlengine.recipe.validate import validate_config
from mlengine.sections.evaluate import EvaluateSection, RuleBaseline, source_from_path

BASE = {"name": "e", "task": "binary",
        "data": {"source": {"kind": "builtin", "name": "breast_cancer"}, "target": "target"}}


def _problems(evaluate: dict) -> list[str]:
    try:
        validate_config({**BASE, "evaluate": evaluate})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


def test_defaults():
    e = EvaluateSection()
    assert (e.metrics, e.metric, e.baselines, e.require, e.require_beats_no_skill) == ([], None, ["no_skill"], [],
                                                                                       True)
    assert (e.slice_bins, e.stability.enabled, e.stability.periods, e.adversarial) == (4, True, 4, None)
    assert validate_config(BASE).evaluate == e


def test_baselines_are_no_skill_or_rules():
    e = EvaluateSection.model_validate({"baselines": ["no_skill", {"rule": "mean_radius > 15", "name": "big"}]})
    assert e.baselines == ["no_skill", RuleBaseline(rule="mean_radius > 15", name="big")]
    assert _problems({"baselines": ["no_skil"]}) == [
        "evaluate.baselines[0]: unknown baseline 'no_skil'. Did you mean 'no_skill'? Allowed: no_skill, or "
        "{rule: <pandas expression>, name: <name>}."]


def test_metric_names_are_checked():
    assert _problems({"metric": "roc_aucc"})[0].startswith("evaluate.metric: unknown metric 'roc_aucc'. Did you "
                                                           "mean 'roc_auc'?")
    assert _problems({"metrics": ["f1", "accuracy"]}) == []


def test_a_bare_path_is_a_csv_or_parquet_source():
    assert source_from_path("scoring/sample.csv") == {"kind": "csv", "path": "scoring/sample.csv"}
    assert source_from_path("s.PQ") == {"kind": "parquet", "path": "s.PQ"}
    assert source_from_path({"kind": "sql"}) == {"kind": "sql"}
    with pytest.raises(ValueError, match="neither a .csv nor a .parquet path"):
        source_from_path("sample.xlsx")
    e = EvaluateSection.model_validate({"adversarial": {"data": "sample.parquet"}})
    assert (e.adversarial.data.kind, e.adversarial.folds, e.adversarial.max_rows) == ("parquet", 5, 20000)
