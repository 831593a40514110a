"""The plan's value types (mlengine/plan_types.py): frozen steps and candidates, and a placement text for every
placement a compiled plan uses."""

from __future__ import annotations

import dataclasses

import pytest

from mlengine.api import load_recipe
from mlengine.plan import compile_recipe
from mlengine.plan_types import PLACEMENTS, Candidate, PlanStep

from tests.conftest import TITANIC

FULL = TITANIC + """resample: {method: smote}
select: {method: kbest, k: 5}
calibration: {method: sigmoid}
threshold: {objective: f1}
"""


def test_steps_and_candidates_are_frozen_values():
    step = PlanStep("model", "LGBMClassifier", "per_fold")
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.placement = "stateless"  # type: ignore[misc]
    assert step == PlanStep("model", "LGBMClassifier", "per_fold", "")
    cand = Candidate("lightgbm", {"n_estimators": 30}, preprocess=None)  # type: ignore[arg-type]
    assert cand.pipeline_params == {} and cand.pipeline_params is not Candidate("x", {}, None).pipeline_params


def test_every_placement_of_a_compiled_plan_has_its_sentence(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(FULL, encoding="utf-8")
    plan = compile_recipe(load_recipe(path).recipe, task="binary", classes=[0, 1])
    used = {s.placement for s in plan.steps}
    assert {"stateless", "per_fold", "fit_only", "after_search"} <= used <= set(PLACEMENTS)
    assert all(isinstance(s, PlanStep) for s in plan.steps) and isinstance(plan.candidates[0], Candidate)
