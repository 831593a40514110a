"""`split`: one typed option per split.strategy: auto resolves by task and data, each strategy checks the column
it needs, and its rows never mix: groups stay on one side, the holdout is the latest time, classes keep their share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.errors import DataError, RecipeError
from mlengine.recipe.validate import validate_config
from mlengine.sections.split import SPLIT

from tests.conftest import DATA

BASE = {"name": "s", "data": {"source": {"kind": "csv", "path": str(DATA / "titanic.csv")}, "target": "survived"}}


def _option(strategy: str, holdout: float = 0.2):
    return SPLIT[strategy].model_validate({"strategy": strategy, "holdout": holdout})


def _problems(split: dict, task: str = "auto", **data) -> list[str]:
    try:
        validate_config({**BASE, "task": task, "data": {**BASE["data"], **data}, "split": split})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


@pytest.mark.parametrize(("task", "group", "time", "strategy"), [
    ("binary", None, None, "stratified"), ("regression", None, None, "random"), ("binary", "g", None, "group"),
    ("regression", "g", "t", "time")])
def test_auto_resolves_by_task_group_and_time(task, group, time, strategy):
    resolved = _option("auto", 0.3).resolve(task, group, time)
    assert (resolved.strategy, resolved.holdout) == (strategy, 0.3)


def test_holdout_strategies():
    df = pd.read_csv(DATA / "wage_panel.csv")
    tr, te = _option("group").rows(len(df), 0, groups=df["nr"])
    assert not set(df["nr"].iloc[tr]) & set(df["nr"].iloc[te])
    years = df["year"]
    tr, te = _option("time", 0.25).rows(len(df), 0, times=years)
    assert years.iloc[tr].max() < years.iloc[te].min()
    y = np.array([0] * 90 + [1] * 10)
    tr, te = _option("stratified").rows(100, 0, y=y)
    assert y[te].sum() == 2 and len(te) == 20
    tr, te = _option("random").rows(100, 3)
    assert len(te) == 20 and not set(tr) & set(te) and list(tr) == sorted(tr)
    assert _option("random").rows(100, 3)[1].tolist() == te.tolist()  # seeded
    tr, te = _option("random", 0.0).rows(10, 0)
    assert len(tr) == 10 and len(te) == 0


def test_a_stratified_holdout_too_small_for_the_classes_says_the_counts():
    with pytest.raises(DataError, match=r"split.holdout: a stratified holdout of 20% needs at least 2 rows per class.*"
                                        r"class counts \[1, 19\]"):
        _option("stratified").rows(20, 0, y=np.array([0] * 19 + [1]))


def test_checks_without_data_name_the_key():
    assert _problems({"strategy": "group"}) == ["split.strategy: 'group' needs a group column; set data.group."]
    assert _problems({"strategy": "time"}) == ["split.strategy: 'time' needs a time column; set data.time."]
    assert _problems({"strategy": "stratified"}, task="regression",
                     target="fare") == ["split.strategy: 'stratified' needs classes; task is regression."]
    assert _problems({"strategy": "group"}, group="pclass") == []
    unknown = _problems({"strategy": "stratifed"})
    assert len(unknown) == 1 and unknown[0].startswith("split.strategy") and "stratified" in unknown[0]
    assert _problems({"holdout": 1.5})[0].startswith("split.holdout")


def test_the_plan_describes_the_resolved_strategy():
    assert _option("stratified", 0.25).describe(7) == "25% of rows, stratified (seed 7); never used for fitting"
    assert _option("time", 0.0).describe(7) == "none"
    assert not _option("time").seeded and _option("group").seeded
