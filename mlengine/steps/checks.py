"""Checks for the modelling sections: across sections without data (`modelling_problems`, part of
`cross_checks`), and against the data before anything is fitted (`check_modelling_data`, run by the runner and
by `mlengine validate`).

Each typed section checks itself (`r.resample.check`, `r.calibration.check`, `r.threshold.check`: e.g. calibration
or a tuned threshold without cross-validation would be fitted on the model's own training predictions, so they
need CV); this module calls them with what they need from the other sections.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

from mlengine.errors import DataError, Problem
from mlengine.stages import stage

log = logging.getLogger("mlengine")


def effective_task(recipe: Any, task: str) -> str:
    if recipe.target.binned and task in ("auto", "regression"):
        return recipe.target.binned_task()
    return task


def modelling_problems(recipe: Any, task: str) -> list[Problem]:
    """Cross-section checks of target, resample, select, reduce, calibration, threshold and evaluate."""
    from mlengine.sections.model import MODELS
    from mlengine.steps.preprocess import resolve_preprocess

    r = recipe
    problems = r.target.check(r.task)
    task = effective_task(r, task)
    spec = MODELS.get(r.model.name)
    if spec is None:
        return problems
    problems += r.resample.check(task, spec, r.model.params)
    scale = resolve_preprocess(r.preprocess, r.model.name).scale
    problems += r.select.check(task, scale)
    problems += r.reduce.check()
    if r.resample.method == "smotenc" and r.preprocess.categorical == "onehot":
        problems.append(Problem("preprocess.categorical", "'onehot' with resample.method smotenc: SMOTENC needs one "
                                                          "code column per categorical; use ordinal (or auto)."))
    if r.preprocess.numeric_impute == "none":
        from mlengine.steps.assemble import needs_finite

        for key in needs_finite(r):
            problems.append(Problem("preprocess.numeric_impute", f"'none' leaves missing values, which {key} cannot "
                                                                 "take; use auto or an imputation."))
    problems += r.calibration.check(task, r.cv.kind)
    problems += r.threshold.check(task, r.cv.kind, r.evaluate.value)
    problems += _evaluate(r, task)
    return problems


def _evaluate(r: Any, task: str) -> list[Problem]:
    from mlengine.evaluate.gates import check_requirements
    from mlengine.evaluate.rules import rule_baselines

    problems: list[Problem] = []
    rules = rule_baselines(r)
    names = ["no_skill"] if "no_skill" in r.evaluate.baselines else []
    for name, _, key in rules:
        if task in ("multiclass", "regression"):
            problems.append(Problem(key, f"rule baselines predict the positive class (binary); task is {task}."))
        if name in names:
            problems.append(Problem(key.removesuffix(".rule") + ".name", f"baseline name {name!r} is used twice."))
        names.append(name)
    if r.evaluate.value is not None and task in ("multiclass", "regression"):
        problems.append(Problem("evaluate.value", f"a value matrix scores binary decisions; task is {task}."))
    if r.split.holdout == 0:
        used = [k for k, on in (("evaluate.slices", bool(r.evaluate.slices)), ("evaluate.value", r.evaluate.value
                                is not None), (rules[0][2] if rules else "", bool(rules))) if on]
        problems += [Problem(k, "is scored on the holdout, and split.holdout is 0; keep a holdout.") for k in used]
    problems += check_requirements(r, task, names)
    return problems


# ------------------------------------------------------------------------------------------- data checks ---
def training_fold_targets(plan: Any, y_tr: Any, groups: Any = None, times: Any = None) -> list[np.ndarray]:
    """Targets of each CV training fold (first repeat), or the training split alone without CV."""
    from mlengine.evaluate.crossval import split_arg

    splitter = plan.cv.splitter()
    y = np.asarray(y_tr, dtype=object)
    if splitter is None:
        return [y]
    folds = list(splitter.split(np.zeros(len(y)), np.asarray(y_tr), split_arg(plan.cv, groups, times)))
    folds = folds[: plan.cv.folds]
    return [y[tr] for tr, _ in folds] or [y]


def encoded_features(plan: Any, data: Any, X_tr: Any) -> list[str]:
    """Names of the features after preprocessing, by fitting adapter + preprocessing on the training split (the
    same two steps Plan.build_pipeline makes; the estimator is not built, so `validate` imports no model library)."""
    from sklearn.pipeline import Pipeline

    from mlengine.steps.adapter import FrameAdapter
    from mlengine.steps.preprocess import build_preprocessor

    c = data.columns
    adapter = FrameAdapter(numeric=list(c.numeric), categorical=list(c.categorical), boolean=list(c.boolean),
                           datetime=list(c.datetime), datetime_features=list(plan.datetime_features))
    pre = build_preprocessor(plan.candidates[0].preprocess, adapter.numeric_outputs(), list(c.categorical))
    head = Pipeline([("adapt", adapter), ("preprocess", pre)]).fit(X_tr)
    return [str(n) for n in head.get_feature_names_out()]


def check_modelling_data(recipe: Any, plan: Any, data: Any, train_idx: np.ndarray) -> None:
    """Every data-dependent check of the modelling sections; raises DataError or RecipeError."""
    from mlengine.errors import RecipeError
    from mlengine.evaluate.rules import check_rules
    from mlengine.evaluate.slices import check_slices
    from mlengine.evaluate.stability import check_stability

    problems = modelling_problems(recipe, data.task)
    if problems:
        raise RecipeError(problems)
    check_rules(recipe, data.raw)
    check_slices(list(recipe.evaluate.slices), data.raw)
    check_stability(recipe, data, train_idx)
    y_tr = data.y.iloc[train_idx]
    if data.task == "regression":
        recipe.target.check_transform_data(data.y, recipe.data.target)
    if plan.resample.method != "none":
        groups = data.groups.iloc[train_idx] if data.groups is not None else None
        times = data.times.iloc[train_idx] if data.times is not None else None
        folds = training_fold_targets(plan, y_tr, groups, times)
        plan.resample.check_data(list(data.columns.categorical), folds, y_tr, list(data.classes))
    if plan.select.method != "none" or plan.reduce.method != "none":
        _check_widths(plan, data, train_idx)


def _check_widths(plan: Any, data: Any, train_idx: np.ndarray) -> None:
    names = encoded_features(plan, data, data.X.iloc[train_idx])
    errors = plan.select.check_width(len(names), names)
    if plan.reduce.method != "none":
        rows = len(train_idx) * (plan.cv.folds - 1) // plan.cv.folds if plan.cv.kind != "none" else len(train_idx)
        errors += plan.reduce.check_width(plan.select.width(len(names)), rows)
    if errors:
        raise DataError(" ".join(errors))


@stage(reads=("data", "plan", "train_idx", "y_tr", "groups_tr", "times_tr"), writes=("plan",))
def stage_check_modelling(ctx: Any) -> None:
    """Before fitting: the modelling sections against the resolved task and the data."""
    from mlengine.evaluate.adversarial import check_sample

    # the plan is frozen: binning may have refitted the labels since compile, so the plan is replaced, not edited
    ctx.plan = dataclasses.replace(ctx.plan, classes=list(ctx.data.classes))
    if ctx.recipe.target.binned:  # labels may have moved when the edges were refitted
        ctx.plan.cv.check_data(ctx.data.task, ctx.y_tr, ctx.groups_tr, ctx.times_tr)
    check_modelling_data(ctx.recipe, ctx.plan, ctx.data, ctx.train_idx)
    check_sample(ctx.recipe, ctx.loaded.base_dir, ctx.data.columns)  # evaluate.adversarial's sample: readable,
    # with the model's columns and types (scored by stage_adversarial, after these checks)
