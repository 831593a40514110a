"""Recipe checks for the `search` section (no data needed): estimators, metric, spaces, pipeline parameters.

Each problem names the dotted key, the model or step, the bad value and what is allowed. Pipeline parameter names
are checked again when the pipeline exists (`mlengine.search.candidates.check_pipeline_params`), since only the
built pipeline knows every parameter of its steps.
"""

from __future__ import annotations

from typing import Any

from mlengine.errors import Problem, did_you_mean
from mlengine.sections.registry import Option

# Pipeline steps whose parameters a search may set (model parameters live in search.space).
PIPELINE_STEPS = ("preprocess", "resample", "select", "reduce")


# What `search:` without `estimators` covers: the tree families plus the linear model for the task (the recipe's own
# model.name is searched too). Listed cheapest-first is not needed: the search orders them by cost.
DEFAULT_ESTIMATORS = ("lightgbm", "xgboost", "random_forest", "extra_trees", "hist_gradient_boosting",
                      "logistic_regression", "ridge")


def searched_estimators(recipe: Any, task: str | None = None) -> list[str]:
    """The models a search covers: search.estimators, or the recipe's model plus the default families that fit the
    task (`task` when known, else the recipe's; 'auto' keeps both linear models until the data decides) and, with
    `preprocess.numeric_impute: none`, handle missing values."""
    if recipe.search.estimators:
        return list(dict.fromkeys(recipe.search.estimators))
    from mlengine.sections.model import MODELS

    task = task or recipe.task
    defaults = [m for m in DEFAULT_ESTIMATORS if task in (None, "auto") or task in MODELS[m].tasks]
    if recipe.preprocess.numeric_impute == "none":  # the recipe keeps NaN: only models that handle it
        defaults = [m for m in defaults if MODELS[m].native_missing]
    return list(dict.fromkeys([recipe.model.name, *defaults]))


def step_present(recipe: Any, step: str) -> bool:
    """A pipeline step exists when its section selects a method (preprocess always exists)."""
    if step == "preprocess":
        return True
    section = getattr(recipe, step, None)
    return section is not None and getattr(section, "method", "none") != "none"


def check_search(recipe: Any) -> list[Problem]:
    from mlengine.evaluate.metrics import check_metric
    from mlengine.sections.model import MODELS, check_model

    s, task = recipe.search, recipe.task
    problems: list[Problem] = []
    estimators = searched_estimators(recipe)
    if s.estimators:
        for i, name in enumerate(s.estimators):
            problems += check_model(f"search.estimators[{i}]", name, task)
    if s.metric:
        problems += check_metric("search.metric", s.metric, task)
    for model, entries in s.space.items():
        path = f"search.space.{model}"
        if model not in MODELS:
            problems.append(Problem(path, f"unknown model {model!r}.{did_you_mean(model, MODELS)} "
                                          f"Allowed: {', '.join(sorted(MODELS))}."))
            continue
        if not s.estimators and model not in estimators:  # listed estimators may leave spaces unused (overrides)
            problems.append(Problem(path, f"model {model!r} is not searched (search.estimators is unset, so the "
                                          f"default {', '.join(estimators)} are); add it to search.estimators."))
            continue
        for param, entry in entries.items():
            problems += _check_model_param(path, model, param, entry, task)
    for step, entries in s.pipeline.items():
        problems += _check_pipeline_step(recipe, step, entries)
    if s.active and recipe.preprocess.numeric_impute == "none":
        bad = [m for m in estimators if m in MODELS and not MODELS[m].native_missing]
        if bad:
            problems.append(Problem("preprocess.numeric_impute", f"'none' needs models that handle missing values "
                                    f"({', '.join(n for n, m in MODELS.items() if m.native_missing)}); the search "
                                    f"includes {', '.join(bad)}."))
    if s.active and recipe.cv.kind == "none":
        problems.append(Problem("search.trials", "a search scores every trial by cross-validation; cv.kind is "
                                                 "'none'. Pick a CV (e.g. cv.kind: auto) or set search.trials: 0."))
    if s.ensemble.method == "stacking" and (recipe.data.group or recipe.data.time
                                            or recipe.cv.kind in ("group_kfold", "stratified_group_kfold",
                                                                  "time_series")):
        problems.append(Problem("search.ensemble.method", "'stacking' fits its combiner on inner K-fold "
                                "predictions, which cannot keep groups or time order apart; use 'voting' with "
                                "group or time-ordered CV."))
    return problems


def _check_model_param(path: str, model: str, param: str, entry: Any, task: str) -> list[Problem]:
    from mlengine.search.spaces import default_space, override_spec, spec_problems
    from mlengine.sections.model import RESERVED, check_params

    key = f"{path}.{param}"
    if param in RESERVED:
        where = RESERVED[param]
        return [Problem(key, f"{param!r} is set by mlengine" + (f" (from `{where}`)" if where else "")
                        + f"; it cannot be searched for model {model!r}.")]
    name_problems = [p for p in check_params(path, model, task, {param: _sample(entry)})
                     if "not a parameter" in p.message or "is an alias" in p.message]
    if name_problems:
        return name_problems
    spec = override_spec(default_space(model, task).get(param), entry)
    bad = spec_problems(spec)
    if bad:
        return [Problem(key, f"model {model!r}, parameter {param!r}: {' '.join(bad)}")]
    out = []
    for label, value in _values(spec):
        for p in check_params(path, model, task, {param: value}):
            out.append(Problem(key, f"model {model!r}, {label} {value!r}: {p.message}"))
    return out


def _check_pipeline_step(recipe: Any, step: str, entries: dict[str, Any]) -> list[Problem]:
    from mlengine.search.spaces import override_spec, spec_problems

    path = f"search.pipeline.{step}"
    if step == "model":
        return [Problem(path, "model parameters are searched under search.space.<model>, not search.pipeline.")]
    if step not in PIPELINE_STEPS:
        return [Problem(path, f"unknown pipeline step {step!r}.{did_you_mean(step, PIPELINE_STEPS)} Steps with "
                              f"searchable parameters: {', '.join(PIPELINE_STEPS)}.")]
    if not step_present(recipe, step):
        return [Problem(path, f"step {step!r} is not in the pipeline ({step}.method is 'none'); set {step}.method "
                              "to search its parameters.")]
    problems = []
    section = getattr(recipe, step, None)
    typed = section if isinstance(section, Option) else None  # resample, select, reduce: one class per method
    for param, entry in entries.items():
        spec = override_spec(None, entry)
        bad = spec_problems(spec)
        if bad:
            problems.append(Problem(f"{path}.{param}", f"step {step!r}, parameter {param!r}: {' '.join(bad)}"))
        elif typed is not None and param in type(typed).model_fields and param != typed.registry.key:
            problems += _check_spec_values(f"{path}.{param}", typed, param, spec)
    return problems


def _check_spec_values(key: str, section: Any, param: str, spec: Any) -> list[Problem]:
    """Searched values of a recipe key (e.g. select.k) validated as the recipe's own value would be."""
    from pydantic import ValidationError

    out = []
    for label, value in _values(spec):
        try:
            section.updated({param: value})
        except ValidationError as exc:
            msg = str(exc.errors()[0].get("msg", "invalid")).removeprefix("Value error, ")
            msg = msg.replace("Input should be", "must be")
            out.append(Problem(key, f"{section.registry.section}.{param}, {label} {value!r}: {msg.rstrip('.')}."))
    return out


def _sample(entry: Any) -> Any:
    """A value to check a parameter's name with (values are checked separately)."""
    if "value" in entry.model_fields_set:
        return entry.value
    return entry.values[0] if entry.values else (entry.low if entry.low is not None else entry.init)


def _values(spec: Any) -> list[tuple[str, Any]]:
    """Values of a merged spec worth checking against the estimator's own constraints."""
    from mlengine.search.spaces import INTEGER

    if spec.domain == "const":
        return [("pinned value", spec.value)]
    if spec.domain == "choice":
        return [("choice value", v) for v in spec.values or ()]
    cast = int if spec.domain in INTEGER else float
    return [("low", cast(spec.low)), ("high", cast(spec.high))]
