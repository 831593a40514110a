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

from mlengine.errors import RecipeError

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
    deadline: float | None = None  # time.time() after which no new fold starts

    def candidate(self, model: str, params: dict[str, Any], pipeline_params: dict[str, Any]) -> Any:
        base = next(c for c in self.plan.candidates if c.model == model)
        return replace(base, params=dict(params), pipeline_params={**base.pipeline_params, **pipeline_params})

    def pipeline(self, candidate: Any, n_jobs: int | None = None) -> Any:
        return self.plan.build_pipeline(candidate, self.columns, self.task, n_jobs=n_jobs or self.n_jobs)


@dataclass
class TrialOutcome:
    status: str  # ok | failed | timeout
    model: str
    params: dict[str, Any]
    pipeline_params: dict[str, Any]
    seconds: float
    scores: dict[str, list[float]] = field(default_factory=dict)  # metric -> per-fold scores
    error: str | None = None
    cv: Any = None  # CVResult (out-of-fold predictions included)


def run_trial(setup: TrialSetup, config: dict[str, Any], label: str = "") -> TrialOutcome:
    """Cross-validate the pipeline of `config`; never raises for a failing configuration."""
    from threadpoolctl import threadpool_limits

    from mlengine.evaluate.crossval import FoldDeadline, cross_validate

    t = time.perf_counter()
    model, params, pipeline_params = setup.space.decode(config)
    out = TrialOutcome("ok", model, params, pipeline_params, 0.0)
    try:
        pipe = setup.pipeline(setup.candidate(model, params, pipeline_params))
        with threadpool_limits(setup.n_jobs), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence and similar warnings of tried configs are noise here
            cv = cross_validate(pipe, setup.X, setup.y, setup.plan.cv, task=setup.task, metrics=setup.plan.metrics,
                                primary=setup.metric, classes=setup.classes, pos_label=setup.pos_label,
                                groups=setup.groups, times=setup.times, label=label, deadline=setup.deadline,
                                fold_log_level=logging.DEBUG)
        out.scores, out.cv = cv.scores, cv
        mean = sum(cv.scores[setup.metric]) / len(cv.scores[setup.metric])
        if not math.isfinite(mean):
            out.status, out.error = "failed", f"{setup.metric} is not finite ({mean})"
    except FoldDeadline as exc:
        out.status, out.error = "timeout", f"stopped at the time budget ({exc})"
    except Exception as exc:  # any estimator error: record it, the search goes on
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        out.status, out.error = "failed", f"{type(exc).__name__}: {first_line}"
    out.seconds = time.perf_counter() - t
    return out


def check_pipeline_params(setup: TrialSetup) -> None:
    """Every searched `<step>.<param>` must be a parameter of that step in every candidate's pipeline."""
    from mlengine.errors import Problem, did_you_mean

    if not setup.space.pipeline:
        return
    problems = []
    for cand in setup.plan.candidates:
        names = set(setup.pipeline(cand).get_params(deep=True))
        for key in setup.space.pipeline:
            step, _, param = key.partition(".")
            if f"{step}__{param}" not in names:
                allowed = sorted(n.split("__", 1)[1] for n in names if n.startswith(f"{step}__"))
                problems.append(Problem(
                    f"search.pipeline.{step}.{param}",
                    f"{param!r} is not a parameter of pipeline step {step!r} (model {cand.model!r})."
                    f"{did_you_mean(param, allowed)} Allowed: {', '.join(allowed) or 'none'}."))
    if problems:
        raise RecipeError(list(dict.fromkeys(problems)))
