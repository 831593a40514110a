"""The joint search space in FLAML's terms, and configs back into candidates.

One model: a flat space of its parameters. Several: FLAML's hierarchical form (what `flaml.AutoML.search_space`
exposes for tuning with `flaml.tune`): `{"model": tune.choice([{"name": "lightgbm", ...}, ...])}`, with each model's
low-cost start and its cost relative to LightGBM (cheaper models are tried first). Pipeline parameters sit at the
top level as `<step>.<param>`. Start points (FLAML's points_to_evaluate): each model's init point (cheapest first),
then its untuned defaults, then FLAML's zero-shot configurations, as `search.warm_start` asks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from mlengine.search.spaces import INTEGER, NUMERIC, ParamSpec, model_cost

CHOICE_KEY = "model"


@dataclass
class JointSpace:
    estimators: list[str]  # in the order of the choice (cheapest first)
    models: dict[str, dict[str, ParamSpec]]  # resolved for the data
    pipeline: dict[str, ParamSpec]
    points: list[dict[str, Any]] = field(default_factory=list)  # FLAML configs to evaluate first

    @property
    def hierarchical(self) -> bool:
        return len(self.estimators) > 1

    def flaml(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(space, low_cost_partial_config, cat_hp_cost), freshly built: FLAML edits spaces in place."""
        top = {k: s.to_flaml() for k, s in self.pipeline.items()}
        low_cost_top = {k: s.low_cost for k, s in self.pipeline.items() if s.low_cost is not None}
        if not self.hierarchical:
            model = self.models[self.estimators[0]]
            space = {**{k: s.to_flaml() for k, s in model.items()}, **top}
            low_cost = {**{k: s.low_cost for k, s in model.items() if s.low_cost is not None}, **low_cost_top}
            return space, low_cost, {}
        choices, lows = [], []
        for m in self.estimators:
            choices.append({"name": m, **{k: s.to_flaml() for k, s in self.models[m].items()}})
            lows.append({k: s.low_cost for k, s in self.models[m].items() if s.low_cost is not None})
        from flaml import tune

        costs = [model_cost(m) for m in self.estimators]
        space = {CHOICE_KEY: tune.choice(choices), **top}
        low_cost = {CHOICE_KEY: [*lows, costs.index(min(costs))], **low_cost_top}
        cat_hp_cost = {CHOICE_KEY: [*({} for _ in self.estimators), costs]}
        return space, low_cost, cat_hp_cost

    def point(self, model: str, params: dict[str, Any], pipeline: dict[str, Any] | None = None) -> dict[str, Any]:
        """A FLAML config for `model` with `params` moved into the space (unknown keys dropped, pins kept)."""
        specs = self.models[model]
        inner: dict[str, Any] = {}
        for k, spec in specs.items():
            v = spec.value if spec.domain == "const" else params.get(k)
            if v is not None and spec.domain != "const":
                v = spec.clip(v) if spec.domain in NUMERIC else (v if spec.contains(v) else None)
            if v is not None or spec.domain == "const":
                inner[k] = v
        top = {}
        for k, spec in self.pipeline.items():
            v = (pipeline or {}).get(k, spec.value if spec.domain == "const" else spec.init)
            if v is not None:
                top[k] = spec.clip(v) if spec.domain in NUMERIC else v
        if self.hierarchical:
            return {CHOICE_KEY: {"name": model, **inner}, **top}
        return {**inner, **top}

    def decode(self, config: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(model, model params, pipeline params) with plain Python values of the domains' types."""
        if self.hierarchical:
            inner = dict(config[CHOICE_KEY])
            model = inner.pop("name")
        else:
            model = self.estimators[0]
            inner = {k: v for k, v in config.items() if k not in self.pipeline}
        params = {k: _native(v, self.models[model].get(k)) for k, v in inner.items() if not k.startswith("_")}
        pipeline = {k: _native(config[k], spec) for k, spec in self.pipeline.items() if k in config}
        return model, params, pipeline


def _native(v: Any, spec: ParamSpec | None) -> Any:
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        v = v.item()  # numpy scalar
    if spec is not None and spec.domain in INTEGER and v is not None:
        return int(round(v))
    if spec is not None and spec.domain in NUMERIC and v is not None:
        return float(v)
    return v


def build_space(models: dict[str, dict[str, ParamSpec]], pipeline: dict[str, ParamSpec], *, n_rows: int,
                n_features: int, task: str) -> JointSpace:
    """Resolve data-dependent bounds; order models cheapest first."""
    order = sorted(models, key=lambda m: (model_cost(m), list(models).index(m)))
    resolved = {m: {k: s.for_data(n_rows, n_features, task) for k, s in models[m].items()} for m in order}
    pipe = {k: s.for_data(n_rows, n_features, task) for k, s in pipeline.items()}
    return JointSpace(order, resolved, pipe)


def start_points(space: JointSpace, warm_start: str, task: str, X: Any = None, y: Any = None,
                 lead: str | None = None, lead_params: dict[str, Any] | None = None) -> list[dict]:
    """The configs evaluated first, without duplicates.

    With warm_start 'defaults' or 'zero_shot': first the lead model as a run without search would fit it (its
    untuned defaults with `lead_params`, i.e. the recipe's model.params, moved into the space's bounds), so even a
    budget that allows one trial scores the recipe's own model; then every model's low-cost init point (cheapest
    model first), then the other models' untuned defaults, then (zero_shot) FLAML's zero-shot configurations.
    With 'none': the init points only, as FLAML starts.
    """
    inits = [space.point(m, {k: s.init for k, s in space.models[m].items()}) for m in space.estimators]
    if warm_start == "none":
        return _unique(inits)
    lead = lead if lead in space.estimators else space.estimators[0]
    defaults = {m: space.point(m, untuned_params(m, task, space.models[m])) for m in space.estimators}
    if lead_params:
        defaults[lead] = space.point(lead, {**untuned_params(lead, task, space.models[lead]), **lead_params})
    points = [defaults[lead], *inits, *(defaults[m] for m in space.estimators if m != lead)]
    if warm_start == "zero_shot" and X is not None:
        from mlengine.search.zero_shot import zero_shot_params

        for m in space.estimators:
            points += [space.point(m, p) for p in zero_shot_params(m, task, X, y)]
    return _unique(points)


def _unique(points: list[dict]) -> list[dict]:
    seen, out = set(), []
    for p in points:
        key = json.dumps(p, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def untuned_params(model: str, task: str, specs: dict[str, ParamSpec]) -> dict[str, Any]:
    """The model as mlengine fits it without a search, in the space's terms: mlengine's defaults, then the
    estimator's own defaults; None ('no limit') becomes the upper bound, other non-numbers the space's start."""
    import inspect

    from mlengine.sections.model import MODELS

    spec = MODELS[model]
    chosen = {**spec.defaults, **spec.task_defaults.get(task, {})}
    try:
        signature = inspect.signature(spec.estimator_class(task if task in spec.tasks else next(iter(spec.tasks))))
        own = {k: p.default for k, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
    except (ImportError, ValueError, TypeError):
        own = {}
    out = {}
    for k, s in specs.items():
        v = chosen.get(k, own.get(k, s.init))
        if s.domain in NUMERIC:
            if v is None:
                v = s.high
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
                v = s.init
        out[k] = v
    return out
