"""Validate a composed recipe as a whole: every problem at once, each with its dotted path.

Two phases: the typed schema (types, ranges, unknown keys with did-you-mean, registry names), then cross-field
checks that need several sections (CV kind vs column roles, model and metrics vs task, model params vs model).
Checks that need the data (positive class among the target's values, enough rows per fold) run when data is
loaded, before any fitting (`mlengine.data.table`).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from mlengine.errors import Problem, RecipeError, did_you_mean
from mlengine.sections.registry import registry_of


def validate_config(data: dict[str, Any], source: str | None = None) -> Any:
    """Return a validated Recipe or raise RecipeError with every problem found."""
    from mlengine.recipe.schema import Recipe

    data = {k: v for k, v in data.items() if k not in ("defaults", "hydra")}
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors()]
        raise RecipeError(problems + _partial_checks(data, problems), source=source) from None
    problems = cross_checks(recipe)
    if problems:
        raise RecipeError(problems, source=source)
    return recipe


# ------------------------------------------------------------------------------------------ schema errors ---
def _path(loc: tuple[Any, ...], tags: set[int]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if i in tags:
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _walk(loc: tuple[Any, ...]) -> tuple[Any, set[int]]:
    """Follow `loc` through the schema; return the annotation at its end and which loc positions were union tags."""
    from mlengine.recipe.schema import Recipe

    ann: Any = Recipe
    tags: set[int] = set()
    for i, part in enumerate(loc):
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(part) or next(
                (f for f in ann.model_fields.values() if f.alias == part), None)
            if field is None:
                return None, tags
            ann = field.annotation
            continue
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if origin in (list, tuple) and isinstance(part, int):
            ann = args[0] if args else Any
        elif origin is dict:
            ann = args[1] if len(args) == 2 else Any
        elif origin in (typing.Union, types.UnionType):
            variants = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            match = [v for v in variants if _tag_of(v) == part]
            tagged = [a for a in args if part in [getattr(m, "tag", None) for m in getattr(a, "__metadata__", ())]]
            if tagged:  # a member of a union with a callable discriminator (pydantic Tag)
                tags.add(i)
                ann = tagged[0]
            elif match:
                tags.add(i)
                ann = match[0]
            else:
                return None, tags
        else:
            return None, tags
    return _unwrap(ann), tags


def _registry_at(loc: tuple[Any, ...]) -> Any:
    """The option registry of the section at `loc` (a union of option classes), else None."""
    ann, _ = _walk(loc)
    for member in typing.get_args(ann):
        registry = registry_of(_unwrap(member))
        if registry is not None:
            return registry
    return None


def _unwrap(ann: Any) -> Any:
    while typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    args = typing.get_args(ann)
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return _unwrap(non_none[0])
    return ann


def _tag_of(model: type[BaseModel]) -> Any:
    kind = model.model_fields.get("kind")
    if kind is not None:
        args = typing.get_args(kind.annotation)
        return args[0] if args else None
    return None


def _keys_of(model: Any) -> list[str]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    origin, args = typing.get_origin(model), typing.get_args(model)
    if origin in (typing.Union, types.UnionType):
        return sorted({k for a in args for k in _keys_of(a)})
    return []


def _problem(err: dict[str, Any]) -> Problem:
    loc = tuple(err.get("loc", ()))
    kind, ctx, value = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    _, tags = _walk(loc)
    path = _path(loc, tags)
    if kind == "extra_forbidden":
        parent, _ = _walk(loc[:-1])
        registry = registry_of(parent)
        foreign = registry.foreign_key(parent.option_name(), str(loc[-1])) if registry else None
        if foreign:  # a key of another option of the same section (e.g. resample.k_neighbors for random_under)
            return Problem(path, foreign.message)
        keys = _keys_of(parent)
        return Problem(path, f"unknown key {loc[-1]!r}.{did_you_mean(loc[-1], keys)}"
                             + (f" Allowed keys here: {', '.join(keys)}." if keys else ""))
    if kind == "missing":
        parent, _ = _walk(loc[:-1])
        registry = registry_of(parent)
        needed = registry.missing(parent.option_name(), str(loc[-1])) if registry else None
        return Problem(path, needed or "required key is missing.")
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",") if c.strip()]
        return Problem(path, f"got {value!r}.{did_you_mean(value, choices)} Allowed: {', '.join(choices)}.")
    registry = _registry_at(loc) if kind in ("union_tag_invalid", "union_tag_not_found") else None
    if registry is not None:  # a section's option name (resample.method, ...)
        if kind == "union_tag_not_found" and isinstance(value, dict):
            return Problem(f"{path}.{registry.key}", f"is missing; give one of {', '.join(registry)}.")
        if kind == "union_tag_not_found":
            return Problem(path, f"must be a mapping with a {registry.key} key; got {value!r}.")
        return Problem(f"{path}.{registry.key}", registry.unknown(ctx.get("tag")))
    if kind == "union_tag_invalid":
        choices = [c.strip().strip("'") for c in str(ctx.get("expected_tags", "")).split(",")]
        return Problem(f"{path}.{ctx.get('discriminator', 'kind').strip(chr(39))}",
                       f"got {ctx.get('tag')!r}.{did_you_mean(ctx.get('tag'), choices)} Allowed: {', '.join(choices)}.")
    if kind == "union_tag_not_found":
        return Problem(path, f"needs a {ctx.get('discriminator', 'kind')} key.")
    if kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        return Problem(path, msg)
    if kind in ("model_type", "dict_type") or kind.endswith("_type") or kind.endswith("_parsing"):
        expected = {"model_type": "a mapping", "dict_type": "a mapping", "list_type": "a list",
                    "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
                    "float_parsing": "a number", "float_type": "a number", "bool_parsing": "true or false",
                    "bool_type": "true or false", "string_type": "a string"}.get(kind)
        if expected:
            return Problem(path, f"must be {expected}; got {value!r} ({type(value).__name__}).")
    msg = str(err.get("msg", "invalid value"))
    msg = msg.replace("Input should be", "must be")
    return Problem(path, f"{msg}; got {value!r}.")


def _partial_checks(data: dict[str, Any], found: list[Problem]) -> list[Problem]:
    """When the schema phase failed, still check model params if the model section itself is sound."""
    from mlengine.sections.model import ModelConfig

    if any(p.path.startswith("model") for p in found) or not isinstance(data.get("model"), dict):
        return []
    try:
        model = TypeAdapter(ModelConfig).validate_python(data["model"])
    except ValidationError:
        return []
    task = data.get("task") if data.get("task") in ("binary", "multiclass", "regression") else "auto"
    return model.check(task)


# ------------------------------------------------------------------------------------------ cross checks ---
def check_resolved_task(loaded: Any, task: str) -> None:
    """Once the data has resolved `task: auto`, run the cross-section checks again for that task (a run and
    `mlengine validate` both do, so a regression target with stratified CV is refused before any split)."""
    recipe = loaded.recipe
    if recipe.task == task:
        return
    problems = cross_checks(recipe.model_copy(update={"task": task}))
    if problems:
        from mlengine.errors import RecipeError

        raise RecipeError(problems, source=str(loaded.path) if loaded.path else None)


def cross_checks(recipe: Any) -> list[Problem]:
    """Checks across sections that need no data."""
    from mlengine.evaluate.metrics import check_metric
    from mlengine.sections.model import MODELS

    r = recipe
    task = r.task
    problems: list[Problem] = []
    d = r.data
    roles = {"data.target": d.target, "data.id": d.id, "data.group": d.group, "data.time": d.time}
    seen: dict[str, str] = {}
    for key, col in roles.items():
        if col is None:
            continue
        if col in seen:
            problems.append(Problem(key, f"column {col!r} is already used as {seen[col]}; a column has one role."))
        seen[col] = key
        if col in d.drop:
            problems.append(Problem("data.drop", f"drops {col!r}, which is {key}; remove it from data.drop."))
    problems += d.source.check()
    problems += r.cv.check(task, d.group, d.time)
    problems += r.split.check(task, d.group, d.time)
    if d.positive_class is not None and task in ("multiclass", "regression"):
        problems.append(Problem("data.positive_class", f"only applies to binary tasks; task is {task!r}."))

    problems += r.model.check(task)
    for i, m in enumerate(r.evaluate.metrics):
        problems += check_metric(f"evaluate.metrics[{i}]", m, task)
    if r.evaluate.metric:
        problems += check_metric("evaluate.metric", r.evaluate.metric, task)
    from mlengine.search.checks import check_search

    problems += check_search(r)
    if r.preprocess.numeric_impute == "none" and r.model.name in MODELS and not MODELS[r.model.name].native_missing:
        native = ", ".join(name for name, spec in MODELS.items() if spec.native_missing)
        problems.append(Problem("preprocess.numeric_impute", f"'none' needs a model that handles missing values "
                                f"({native}); model is {r.model.name!r}."))
    from mlengine.steps.checks import modelling_problems

    problems += modelling_problems(r, task)
    problems += r.export.check(r, task)
    problems += _early_stopping_checks(r, task)
    return problems


def _early_stopping_checks(r: Any, task: str) -> list[Problem]:
    """model.early_stopping.enabled: true needs a boosting model among the fitted ones and CV folds to stop in."""
    from mlengine.search.checks import searched_estimators
    from mlengine.sections.model import MODELS

    es = r.model.early_stopping
    models = searched_estimators(r, task) if r.search.active else [r.model.name]
    boosters = [m for m in models if m in MODELS and MODELS[m].early_stopping]
    problems = []
    if es.enabled:
        where = f"search.estimators are {', '.join(models)}" if r.search.active else f"model.name is {r.model.name!r}"
        if not boosters:
            allowed = ", ".join(n for n, spec in MODELS.items() if spec.early_stopping)
            problems.append(Problem("model.early_stopping.enabled", f"true applies to boosting models ({allowed}); "
                                    f"{where}. Remove it or use a boosting model."))
        if r.cv.kind == "none":
            problems.append(Problem("model.early_stopping.enabled", "true needs cross-validation folds (the "
                                    "refit takes the fold-mean best iteration); cv.kind is 'none'. Set cv.kind or "
                                    "remove model.early_stopping.enabled."))
    active = [m for m in boosters if es.active_for(m, r.search.active)] if r.cv.kind != "none" else []
    if "xgboost" in active and "early_stopping_rounds" in r.model.params and r.model.name == "xgboost":
        problems.append(Problem("model.params.early_stopping_rounds", "is set by mlengine when "
                                "model.early_stopping is on; set model.early_stopping.patience instead."))
    return problems
