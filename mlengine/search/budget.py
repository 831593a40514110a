"""Keeping a search's time budget: stop a trial inside a fold, and split a whole-run budget.

A budget checked only between folds is overrun by one fold of the slowest trial, so a trial is also stopped
inside a fold:
- LightGBM gets a fit callback that checks the deadline after every boosting round and raises `FoldDeadline`;
- a model whose fit cannot be interrupted but whose cost grows with a size parameter (forests: `n_estimators`,
  histogram gradient boosting: `max_iter`) does not start a fold whose estimated fit time would end past the
  deadline: seconds per unit of size are measured on the earlier folds of that model in this process;
- every model: a fold is not started when the trial's own earlier folds say it would end past the deadline.
A stopped trial is recorded as `timeout` with the folds it finished (the search's fallback may use them).

`run.time_budget` bounds the whole run: the search gets what is left of it when the search starts, minus a
reserve for the stages after the search (refit, evaluation, explanation, export, report): the larger of
`RESERVE_MIN_S` and `RESERVE_SHARE` of what is left, and never more than `search.time_budget`. An ensemble of the
best trials (refitted, and cross-validated again when it must be) is built only if its estimated cost fits in what
the run budget leaves after the single best's refit and `RESERVE_MIN_S` (`ensemble_allowance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlengine.evaluate import crossval
from mlengine.evaluate.crossval import FoldDeadline

# the size parameter a fit's cost grows with, for models that cannot be stopped inside their fit
SIZE_PARAMS = {"random_forest": "n_estimators", "extra_trees": "n_estimators", "hist_gradient_boosting": "max_iter"}
RESERVE_MIN_S = 10.0  # seconds kept for the stages after the search, at least
RESERVE_SHARE = 0.25  # ... or this share of what the run budget leaves when the search starts
MIN_SEARCH_S = 1.0  # the search always gets this much (its first trial, or the fallback, gives a model)
_SECONDS_PER_UNIT: dict[str, float] = {}  # model -> fit seconds per unit of its size parameter (this process)


@dataclass
class FoldGuard:
    """The in-fold stopping rules of one trial (see the module docstring)."""

    model: str
    params: dict[str, Any]
    deadline: float
    seconds: list[float] = field(default_factory=list)

    def fit_params(self, pipeline: Any) -> dict[str, Any]:
        """Keyword arguments for the pipeline's fit: a deadline callback for a LightGBM final step."""
        step, est = pipeline.steps[-1]
        inner = getattr(est, "regressor", est)  # a target transform wraps the regressor and passes fit params
        if type(inner).__module__.startswith("lightgbm"):
            return {f"{step}__callbacks": [self._lightgbm_callback]}
        return {}

    def _lightgbm_callback(self, env: Any) -> None:
        if crossval.clock() > self.deadline:
            raise FoldDeadline(f"deadline passed in boosting round {env.iteration + 1}")

    def before_fold(self, i: int, n: int, seconds: list[float]) -> None:
        """Raise FoldDeadline when fold i would end past the deadline by the best estimate at hand."""
        estimate = None
        if seconds:
            estimate = sum(seconds) / len(seconds)
        elif self.model in SIZE_PARAMS and self.model in _SECONDS_PER_UNIT:
            estimate = _SECONDS_PER_UNIT[self.model] * self._size()
        if estimate is not None and crossval.clock() + estimate > self.deadline:
            raise FoldDeadline(f"fold {i} of {n} would end past the deadline (estimated {estimate:.1f}s)")

    def learn(self, fold_seconds: list[float]) -> None:
        """Remember this model's fit seconds per unit of size from folds that finished."""
        size = self._size()
        if self.model in SIZE_PARAMS and fold_seconds and size:
            _SECONDS_PER_UNIT[self.model] = sum(fold_seconds) / len(fold_seconds) / size

    def _size(self) -> float:
        value = self.params.get(SIZE_PARAMS.get(self.model, ""), 100)
        return float(value) if isinstance(value, (int, float)) else 100.0


@dataclass(frozen=True)
class SearchBudget:
    """The time budget a search runs under, and where it came from."""

    seconds: float | None  # None: no time budget
    run_budget: float | None = None  # run.time_budget
    reserve: float | None = None  # seconds kept for after the search
    elapsed_before: float | None = None  # seconds the run had used when the search started
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"search_seconds": _r(self.seconds), "run_time_budget": self.run_budget, "reserve_seconds":
                _r(self.reserve), "run_seconds_before_search": _r(self.elapsed_before)}


def search_budget(search_budget_s: float | None, run_budget_s: float | None, run_started: float) -> SearchBudget:
    """The search's time budget: search.time_budget, cut to what run.time_budget leaves (see module docstring)."""
    if not run_budget_s:
        return SearchBudget(search_budget_s)
    elapsed = crossval.clock() - run_started
    left = run_budget_s - elapsed
    reserve = max(RESERVE_MIN_S, RESERVE_SHARE * left)
    seconds = left - reserve
    note = None
    if seconds < MIN_SEARCH_S:
        note = (f"run.time_budget {run_budget_s:g} s leaves {max(left, 0):.0f} s when the search starts, less than "
                f"the {reserve:.0f} s kept for the refit, export and report; the search gets {MIN_SEARCH_S:g} s and "
                "the run will take longer than its budget")
        seconds = MIN_SEARCH_S
    if search_budget_s:
        seconds = min(seconds, search_budget_s)
    return SearchBudget(seconds, run_budget_s, reserve, elapsed, note)


def refit_seconds(rec: Any, folds: int) -> float:
    """A trial's refit on the whole training split, estimated from its seconds per finished fold, scaled from a
    fold's (folds - 1)/folds of the rows to all of them."""
    per_fold = rec.seconds / max(len(rec.folds), 1)
    return per_fold * (folds / (folds - 1) if folds > 1 else 1.0)


def ensemble_allowance(run_budget_s: float | None, run_started: float, best: Any, folds: int) -> float | None:
    """Seconds an ensemble may add after the search under run.time_budget (None without one): what the run has
    left, less the single best trial's refit and RESERVE_MIN_S for the evaluation, export and report."""
    if not run_budget_s:
        return None
    left = run_budget_s - (crossval.clock() - run_started)
    return left - refit_seconds(best, folds) - RESERVE_MIN_S


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)
