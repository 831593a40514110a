"""Helpers for the search tests: a TrialSetup built the way the search stage builds one, from a recipe text."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import DATA


def trial_setup(base: Path, recipe_text: str, metric: str = "roc_auc") -> Any:
    """The TrialSetup of `recipe_text` (a titanic recipe with a `search:` section) over the whole table, one
    thread per trial; `base` gets the recipe and a copy of the data."""
    from mlengine.api import load_recipe
    from mlengine.data.sources import read_source
    from mlengine.data.table import prepare_table
    from mlengine.plan import compile_recipe
    from mlengine.search.config import declared_spaces
    from mlengine.search.flaml_space import build_space
    from mlengine.search.trial import TrialSetup

    (base / "data").mkdir(exist_ok=True)
    shutil.copy(DATA / "titanic.csv", base / "data" / "titanic.csv")
    (base / "r.yaml").write_text(recipe_text, encoding="utf-8")
    recipe = load_recipe(base / "r.yaml").recipe
    data = prepare_table(read_source(recipe.data.source, base), recipe)
    plan = compile_recipe(recipe, task=data.task, classes=data.classes)
    models, pipeline = declared_spaces(recipe, data.task)
    space = build_space(models, pipeline, n_rows=len(data.y), n_features=len(data.columns.features), task=data.task)
    return TrialSetup(plan=plan, space=space, columns=data.columns, task=data.task, classes=data.classes,
                      pos_label=data.pos_label, X=data.X, y=data.y, groups=None, times=None, metric=metric,
                      n_jobs=1)
