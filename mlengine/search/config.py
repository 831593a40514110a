"""The search as the recipe declares it, before any data is read: estimators, merged spaces, budget, plan text.

`declared_spaces` merges each searched model's default space with the recipe's `search.space` entries and collects
the `search.pipeline` parameters (keyed `<step>.<param>`). Data-dependent bounds (tree counts capped by the number
of rows) stay symbolic here and are resolved by the driver once the training split is known.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mlengine.search.checks import searched_estimators
from mlengine.search.spaces import ParamSpec, default_space, override_spec


def declared_spaces(recipe: Any, task: str) -> tuple[dict[str, dict[str, ParamSpec]], dict[str, ParamSpec]]:
    """(model -> param -> spec, '<step>.<param>' -> spec) for the searched models and declared pipeline params."""
    models: dict[str, dict[str, ParamSpec]] = {}
    for model in searched_estimators(recipe, task):
        space = dict(default_space(model, task))
        for param, entry in recipe.search.space.get(model, {}).items():
            space[param] = override_spec(space.get(param), entry)
        models[model] = space
    pipeline: dict[str, ParamSpec] = {}
    for step, entries in recipe.search.pipeline.items():  # a pipeline parameter has no default domain: the
        for param, entry in entries.items():  # recipe declares what it searches (checked in search.checks)
            pipeline[f"{step}.{param}"] = override_spec(None, entry)
    return models, pipeline


def pipeline_pins(recipe: Any) -> dict[str, Any]:
    """Pinned pipeline parameters (`search.pipeline.<step>.<param>: value`): they apply to fixed runs too, which is
    how a search's best pipeline parameters are replayed when they have no recipe key of their own."""
    return {f"{step}.{param}": entry.value for step, entries in recipe.search.pipeline.items()
            for param, entry in entries.items() if "value" in entry.model_fields_set}


def search_metric(recipe: Any, task: str) -> str | None:
    from mlengine.evaluate.metrics import DEFAULT_PRIMARY

    return recipe.search.metric or recipe.evaluate.metric or (DEFAULT_PRIMARY[task] if task != "auto" else None)


@dataclass
class SearchPlan:
    """What `compile_recipe` shows of a search."""

    candidates: list[Any]
    metric: str | None
    text: str
    space_text: dict[str, dict[str, str]]

    def restep(self, step: Any) -> Any:
        """A plan step as the search changes it: preprocessing per candidate, the model searched."""
        if step.name == "preprocess":
            return replace(step, detail="per candidate (see candidates)")
        if step.name == "model":
            return replace(step, component=" | ".join(c.model for c in self.candidates),
                           detail="searched: each trial refits the whole pipeline inside every CV training fold")
        return step


def plan_search(recipe: Any, task: str) -> SearchPlan:
    from mlengine.evaluate.metrics import METRICS
    from mlengine.plan_types import Candidate
    from mlengine.steps.preprocess import resolve_preprocess

    s = recipe.search
    models, pipeline = declared_spaces(recipe, task)
    pins = pipeline_pins(recipe)
    candidates = [Candidate(m, {}, resolve_preprocess(recipe.preprocess, m), pipeline_params=dict(pins))
                  for m in models]
    metric = search_metric(recipe, task)
    budget = []
    if s.trials:
        budget.append(f"{s.trials} trials")
    if s.time_budget:
        budget.append(f"{'capped at' if s.trials else 'until'} {s.time_budget:g} s")
    if recipe.run.time_budget:
        budget.append(f"within run.time_budget {recipe.run.time_budget:g} s less a reserve for the refit and export")
    parts = [f"{s.algorithm} (FLAML), {' '.join(budget)}"]
    if metric:
        direction = "higher is better" if METRICS[metric].greater_is_better else "lower is better"
        parts.append(f"optimising cv {metric} ({direction})")
    else:
        parts.append("optimising the task's default metric")
    parts.append(f"seed {s.seed if s.seed is not None else recipe.seed}")
    if s.early_stop:
        parts.append(f"stops after {s.early_stop} trials without improvement")
    if s.prune:
        parts.append("prunes trials that fall behind the best on the same folds")
    parts.append(f"{s.n_concurrent} trial{'s' if s.n_concurrent > 1 else ''} at a time ({s.backend})")
    parts.append(f"warm start: {s.warm_start}")
    if s.ensemble.method == "greedy":
        parts.append(f"then greedy ensemble selection over the out-of-fold predictions of the top {s.ensemble.size} "
                     "configs, kept only if its cv score is better")
    elif s.ensemble.method != "none":
        parts.append(f"then {s.ensemble.method} of the top {s.ensemble.size} configs, kept only if its cv score "
                     "is better")
    if not s.trials:
        parts.append("not reproducible: the trial count depends on the machine's speed (set search.trials)")
    space_text = {m: {k: v.describe() for k, v in space.items()} for m, space in models.items()}
    if pipeline:
        space_text["pipeline"] = {k: v.describe() for k, v in pipeline.items()}
    return SearchPlan(candidates, metric, "; ".join(parts), space_text)
