"""Shared recipe texts and helpers for the modelling-section tests (resample, select, reduce, target, calibration,
threshold, rule baselines, value, slices, gate)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MAMMO = """
name: m
seed: 2
data:
  source: {kind: csv, path: data/mammography.csv}
  target: malignant
model:
  name: lightgbm
  params: {n_estimators: 25, num_leaves: 7}
  n_jobs: 1
cv: {folds: 3}
"""

TITANIC_M = """
name: t
seed: 1
data:
  source: {kind: csv, path: data/titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model:
  name: lightgbm
  params: {n_estimators: 25}
  n_jobs: 1
cv: {folds: 3}
"""

WINE = """
name: w
seed: 4
data:
  source: {kind: csv, path: data/wine_quality_white.csv}
  target: quality
model:
  name: lightgbm
  params: {n_estimators: 25}
  n_jobs: 1
cv: {folds: 3}
"""

TAXI = """
name: taxi
seed: 3
data:
  source: {kind: csv, path: data/nyc_taxis.csv}
  target: fare
  drop: [total, tip, dropoff]
model:
  name: lightgbm
  params: {n_estimators: 40}
  n_jobs: 1
cv: {folds: 3}
"""


# What the modelling tests never look at: report.html (plots) and permutation importance are about 70% of a small
# run's time, and neither can fail a run (each logs its error into metrics.json); tests/report tests them.
LEAN = ("report.html=false", "report.explain=false")


def run_json(cli, path, runs_dir, *overrides) -> tuple[dict, Path]:
    """Run the CLI with --json (without the report and the importances: LEAN); return (metrics.json, run dir)."""
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", *LEAN, *overrides)
    assert code == 0, err
    run = Path(json.loads(out)["run_dir"])
    return json.loads((run / "metrics.json").read_text()), run


def error_of(cli, path, *overrides, command: str = "validate") -> str:
    """stderr of a command that must fail as a user error (exit 2, no traceback)."""
    code, _, err = cli(command, path, *overrides)
    assert code == 2, err
    assert "Traceback" not in err, err
    return err


def estimator_classes(model) -> set[str]:
    """Every class (module.Name) in a fitted estimator tree."""
    seen: set[str] = set()

    def walk(obj, depth=0):
        if depth > 8 or obj is None:
            return
        cls = type(obj)
        if not hasattr(obj, "get_params"):
            return
        seen.add(f"{cls.__module__}.{cls.__name__}")
        for v in obj.get_params(deep=False).values():
            if isinstance(v, list):
                for item in v:
                    walk(item[1] if isinstance(item, tuple) else item, depth + 1)
            else:
                walk(v, depth + 1)
        for attr in ("estimator_", "calibrated_classifiers_", "regressor_", "transformers_"):
            inner = getattr(obj, attr, None)
            if isinstance(inner, list):
                for item in inner:
                    walk(getattr(item, "estimator", item[1] if isinstance(item, tuple) else item), depth + 1)
            else:
                walk(inner, depth + 1)

    walk(model)
    return seen


def class_share(y, cls) -> float:
    return float(np.mean(np.asarray(y) == cls))


def mammo_recipe(**sections):
    """The MAMMO recipe with some sections replaced, validated (no data read)."""
    import yaml

    from mlengine.recipe.validate import validate_config

    data = yaml.safe_load(MAMMO)
    data.update(sections)
    return validate_config(data)


def mammo_error(**sections) -> str:
    """The RecipeError text of the MAMMO recipe with these sections."""
    import pytest

    from mlengine.errors import RecipeError

    with pytest.raises(RecipeError) as exc:
        mammo_recipe(**sections)
    return str(exc.value)
