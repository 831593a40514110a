"""One trial: a configuration's whole pipeline cross-validated exactly like a fixed-model run.

A trial builds the candidate's pipeline (adapter, preprocessing, pipeline parameters, model) and scores it with
`mlengine.evaluate.crossval.cross_validate` under the recipe's CV, so every fitted step is refitted inside each
training fold. Failures are caught and returned as data: a failed trial never stops the search by itself.
This module is imported by worker processes, so it stays free of run-time state.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

from mlengine.errors import RecipeError, raise_if_interrupted

log = logging.getLogger("mlengine")


@dataclass
class TrialSetup:
    """Everything a trial needs; sent once to each worker process."""

    plan: Any
    space: Any  # JointSpace
    columns: Any
    task: str
    classes: list[Any]
    pos_label: Any
    X: Any
    y: Any
    groups: Any
    times: Any
    metric: str
    n_jobs: int  # estimator threads per trial
    deadline: float | None = None  # crossval.clock() after which trials stop (mlengine.search.budget)
    greater_is_better: bool = True  # direction of `metric`, for pruning

    def candidate(self, model: str, params: dict[str, Any], pipeline_params: dict[str, Any]) -> Any:
        base = next(c for c in self.plan.candidates if c.model == model)
        return replace(base, params=dict(params), pipeline_params={**base.pipeline_params, **pipeline_params})

    def pipeline(self, candidate: Any, n_jobs: int | None = None, early_stopping: bool = True) -> Any:
        return self.plan.build_pipeline(candidate, self.columns, self.task, n_jobs=n_jobs or self.n_jobs,
                                        early_stopping=early_stopping)

    def member_pipeline(self, record: Any, n_jobs: int | None = None) -> Any:
        """A trial's pipeline as an ensemble member: refit with its chosen tree count, no early stopping."""
        cand = self.candidate(record.model, record.refit_params, record.pipeline_params)
        return self.pipeline(cand, n_jobs=n_jobs, early_stopping=False)


class FoldPruned(Exception):
    """A trial's folds so far are clearly worse than the best trial's same folds: its remaining folds are skipped."""


def should_prune(partial: list[float], bar: list[float], greater_is_better: bool) -> bool:
    """Racing rule: after i of the folds, stop when the trial's mean over those folds is worse than the best
    trial's mean over the same folds (same splits) by more than the best's fold-to-fold std / sqrt(i).

    The margin shrinks as folds accumulate and scales with how noisy the folds are, so a trial that could still
    tie the best finishes; one that cannot is stopped after a fold or two. Scores only, never time: the decision
    is the same on every run.
    """
    i = len(partial)
    if not bar or i >= len(bar):
        return False
    mean_b = sum(bar) / len(bar)
    std_b = math.sqrt(sum((v - mean_b) ** 2 for v in bar) / len(bar))
    gap = sum(bar[:i]) / i - sum(partial) / i
    if not greater_is_better:
        gap = -gap
    return gap > std_b / math.sqrt(i)


@dataclass
class TrialOutcome:
    status: str  # ok | failed | timeout | pruned
    model: str
    params: dict[str, Any]
    pipeline_params: dict[str, Any]
    seconds: float
    scores: dict[str, list[float]] = field(default_factory=dict)  # metric -> per-fold scores
    error: str | None = None
    cv: Any = None  # CVResult (out-of-fold predictions included)
    best_iterations: list[int] = field(default_factory=list)  # per finished fold, of an early-stopped booster


def run_trial(setup: TrialSetup, config: dict[str, Any], label: str = "",
              bar: list[float] | None = None) -> TrialOutcome:
    """Cross-validate the pipeline of `config`; never raises for a failing configuration.

    `bar` is the best trial's per-fold scores when this trial started: with it, the trial is pruned (status
    `pruned`, its completed folds kept) as soon as `should_prune` says it cannot catch up. Past the setup's
    deadline the trial stops, inside a fold when it can (`mlengine.search.budget`): status `timeout`, the folds it
    finished kept with their out-of-fold predictions.
    """
    from threadpoolctl import threadpool_limits

    from mlengine.evaluate.crossval import FoldDeadline, cross_validate
    from mlengine.search.budget import FoldGuard

    t = time.perf_counter()
    model, params, pipeline_params = setup.space.decode(config)
    out = TrialOutcome("ok", model, params, pipeline_params, 0.0)
    partial: dict[str, list[float]] = {}

    def race(i: int, n: int, scores: dict[str, list[float]]) -> None:
        partial.update({m: list(v) for m, v in scores.items()})
        if bar and should_prune(scores[setup.metric], bar, setup.greater_is_better):
            raise FoldPruned(f"after {i} of {n} folds")

    guard = FoldGuard(model, params, setup.deadline) if setup.deadline else None
    try:
        pipe = setup.pipeline(setup.candidate(model, params, pipeline_params))
        with threadpool_limits(setup.n_jobs), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence and similar warnings of tried configs are noise here
            cv = cross_validate(pipe, setup.X, setup.y, setup.plan.cv, task=setup.task, metrics=setup.plan.metrics,
                                primary=setup.metric, classes=setup.classes, pos_label=setup.pos_label,
                                groups=setup.groups, times=setup.times, label=label, deadline=setup.deadline,
                                fold_log_level=logging.DEBUG, after_fold=race,
                                before_fold=guard.before_fold if guard else None,
                                fit_params=guard.fit_params(pipe) if guard else None)
        out.scores, out.cv, out.best_iterations = cv.scores, cv, list(cv.best_iterations)
        if guard:
            guard.learn(cv.fold_seconds)
        mean = sum(cv.scores[setup.metric]) / len(cv.scores[setup.metric])
        if not math.isfinite(mean):
            out.status, out.error = "failed", f"{setup.metric} is not finite ({mean})"
    except FoldPruned as exc:
        out.status, out.scores = "pruned", partial
        out.error = f"pruned {exc}: clearly worse than the best trial on the same folds"
    except FoldDeadline as exc:
        out.status, out.error = "timeout", f"stopped at the time budget ({exc})"
        out.scores, out.cv = partial, exc.partial  # the folds it finished (none: both empty)
        out.best_iterations = list(exc.partial.best_iterations) if exc.partial is not None else []
        if guard and exc.partial is not None:
            guard.learn(exc.partial.fold_seconds)
    except Exception as exc:  # any estimator error: record it, the search goes on
        raise_if_interrupted()  # unless a signal's interrupt was turned into this error by a library
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        out.status, out.error = "failed", f"{type(exc).__name__}: {first_line}"
    out.seconds = time.perf_counter() - t
    return out


def check_pipeline_params(setup: TrialSetup) -> None:
    """Every searched `<step>.<param>` must be a recipe key of the step's typed spec (`Plan.in_spec`) or a
    parameter of that step in every candidate's pipeline."""
    from mlengine.errors import Problem, did_you_mean

    if not setup.space.pipeline:
        return
    problems = []
    for cand in setup.plan.candidates:
        names = set(setup.pipeline(cand).get_params(deep=True))
        for key in setup.space.pipeline:
            step, _, param = key.partition(".")
            if f"{step}__{param}" not in names and not setup.plan.in_spec(key):  # a recipe key (select.n_features)
                allowed = sorted({n.split("__", 1)[1] for n in names if n.startswith(f"{step}__")}
                                 | {k for k in _spec_keys(setup.plan, step) if setup.plan.in_spec(f"{step}.{k}")})
                problems.append(Problem(
                    f"search.pipeline.{step}.{param}",
                    f"{param!r} is not a parameter of pipeline step {step!r} (model {cand.model!r})."
                    f"{did_you_mean(param, allowed)} Allowed: {', '.join(allowed) or 'none'}."))
    if problems:
        raise RecipeError(list(dict.fromkeys(problems)))


def _spec_keys(plan: Any, step: str) -> list[str]:
    """The recipe keys of a step's typed spec (none for steps without one, e.g. preprocess)."""
    section = getattr(plan, step, None)
    return list(getattr(type(section), "model_fields", {})) if section is not None else []
