"""The search loop: FLAML's CFO or BlendSearch over the joint space, asked and told one trial at a time.

This is the loop `flaml.tune.run` runs (suggest -> evaluate -> on_trial_result / on_trial_complete), driven here so
that trials can run in parallel processes or on Ray with the same bookkeeping, the same trial log and the same
stopping rules (trial count, time budget, early stop). With n_concurrent > 1, results are told to the searcher in
the order trials were started, so the trial sequence depends only on the seed, never on which trial finished
first. Without a time budget the searcher ignores trial durations (cost_attr None): a fixed trial count gives the
same trials, the same best config and the same scores on every run.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mlengine.errors import UserError
from mlengine.search.trials import TrialRecord, ranked, record_of

log = logging.getLogger("mlengine")
MAX_EMPTY_SUGGESTIONS = 100  # FLAML's max_failure: consecutive suggestions that give no new config


@dataclass
class SearchOutcome:
    records: list[TrialRecord]
    best: TrialRecord
    cv_results: dict[int, Any]  # trial number -> CVResult, for the best distinct configs
    stopped_by: str  # trials | time_budget | early_stop | exhausted
    seconds: float
    n_concurrent: int
    threads_per_trial: int
    notes: list[str] = field(default_factory=list)
    where: dict[str, Any] | None = None  # the executor's own record (Ray: cluster address, CPUs)


def plan_threads(n_concurrent: int, plan_threads: int, backend: str) -> tuple[int, int, list[str]]:
    """(concurrent trials, estimator threads per trial, notes): threads x trials never exceeds the cores."""
    notes = []
    if backend == "ray":
        return n_concurrent, max(1, plan_threads // n_concurrent if n_concurrent > 1 else plan_threads), notes
    cores = os.cpu_count() or 1
    if n_concurrent > cores:
        notes.append(f"search.n_concurrent {n_concurrent} exceeds the {cores} cores; running {cores} trials at once")
        n_concurrent = cores
    threads = max(1, min(plan_threads, cores // n_concurrent))
    return n_concurrent, threads, notes


def make_searcher(algorithm: str, space: Any, points: list[dict], *, mode: str, seed: int, trials: int | None,
                  time_budget: float | None) -> Any:
    from flaml import CFO, BlendSearch

    flaml_space, low_cost, cat_hp_cost = space.flaml()
    cls = BlendSearch if algorithm == "blendsearch" else CFO
    if algorithm == "blendsearch":  # its global search is Optuna, which announces every study on stderr
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    return cls(metric="score", mode=mode, space=flaml_space, low_cost_partial_config=low_cost or None,
               cat_hp_cost=cat_hp_cost or None, points_to_evaluate=[dict(p) for p in points] or None, seed=seed,
               time_budget_s=time_budget, num_samples=trials or -1, cost_attr="auto")


def run_search(setup: Any, *, algorithm: str, points: list[dict], seed: int, trials: int | None,
               time_budget: float | None, early_stop: int | None, n_concurrent: int, backend: str,
               greater_is_better: bool, keep: int, prune: bool = True, ray_settings: Any = None) -> SearchOutcome:
    """Run trials until the trial count, the time budget, early stopping or the space is exhausted.

    With `prune`, each trial races the best trial known when it starts (`trial.should_prune`): a trial that falls
    clearly behind on the folds it has finished skips the rest, and the searcher is told its paired estimate.
    """
    from mlengine.search.executors import make_executor

    metric = setup.metric
    t0 = time.time()
    setup.deadline = t0 + time_budget if time_budget else None
    setup.greater_is_better = greater_is_better
    searcher = make_searcher(algorithm, setup.space, points, mode="max" if greater_is_better else "min",
                             seed=seed, trials=trials, time_budget=time_budget)
    executor = make_executor(backend, setup, n_concurrent, ray_settings)
    records: list[TrialRecord] = []
    cv_results: dict[int, Any] = {}
    pending: deque = deque()
    best: TrialRecord | None = None
    since_best, started, empty = 0, 0, 0
    stopped_by = "trials"

    def may_start() -> bool:
        nonlocal stopped_by
        if trials and started >= trials:
            return False
        if setup.deadline and time.time() >= setup.deadline and started:  # the first trial always starts
            stopped_by = "time_budget"
            return False
        return stopped_by not in ("early_stop", "exhausted")

    try:
        while True:
            while len(pending) < n_concurrent and may_start():
                trial_id = f"trial_{started + 1:05d}"
                config = searcher.suggest(trial_id)
                if config is None:  # FLAML proposes nothing new (e.g. a duplicate it already scored)
                    empty += 1
                    if empty >= MAX_EMPTY_SUGGESTIONS:
                        stopped_by = "exhausted"
                    continue
                empty = 0
                started += 1
                bar = best.folds if prune and best is not None else None
                pending.append((started, trial_id, config, bar,
                                executor.submit(config, label=f"  trial {started} ", bar=bar)))
            if not pending:
                break
            number, trial_id, config, bar, future = pending.popleft()
            outcome = future.result()
            rec = record_of(number, outcome, metric)
            records.append(rec)
            if rec.ok or rec.status == "pruned":
                score = rec.mean if rec.ok else _paired_estimate(rec.folds, bar)
                result = {"score": score, "time_total_s": outcome.seconds, "training_iteration": 0,
                          "config": config, **{f"config/{k}": v for k, v in config.items()}}
                searcher.on_trial_result(trial_id, result)
                searcher.on_trial_complete(trial_id, result)
            else:
                searcher.on_trial_complete(trial_id, None, error=True)
            improved = rec.ok and (best is None or (rec.mean > best.mean if greater_is_better else rec.mean < best.mean))
            if improved:
                best, since_best = rec, 0
            else:
                since_best += 1
            if rec.ok:
                _keep_best(cv_results, records, rec, outcome.cv, keep, greater_is_better)
            _log_trial(rec, best, trials, time_budget, metric, time.time() - t0)
            if early_stop and since_best >= early_stop and stopped_by not in ("time_budget", "exhausted"):
                stopped_by = "early_stop"
    finally:
        executor.close()
    seconds = time.time() - t0
    if best is None:
        error = _nothing_finished(records, time_budget, metric)
        error.records = records  # type: ignore[attr-defined]  # the stage still writes the leaderboard
        raise error
    if stopped_by == "early_stop":
        log.info("search stopped early: no improvement in %d trials", early_stop)
    return SearchOutcome(records, best, cv_results, stopped_by, seconds, n_concurrent, setup.n_jobs,
                         where=getattr(executor, "where", None))


def _paired_estimate(partial: list[float], bar: list[float]) -> float:
    """A pruned trial's full-CV mean as the searcher sees it: the bar's mean shifted by the trial's gap on the
    folds both finished (its raw partial mean could look better than the bar when the first folds are easy)."""
    i = len(partial)
    return sum(bar) / len(bar) + (sum(partial) - sum(bar[:i])) / i


def _keep_best(cv_results: dict[int, Any], records: list[TrialRecord], rec: TrialRecord, cv: Any, keep: int,
               greater_is_better: bool) -> None:
    """Hold out-of-fold results only for the `keep` distinct configs an ensemble would take (the best of each
    model first, then by rank; keep 1 = the best trial), so memory stays bounded."""
    from mlengine.search.ensemble import ensemble_members

    cv_results[rec.number] = cv
    top = {r.number for r in ensemble_members(ranked([r for r in records if r.number in cv_results],
                                                     greater_is_better), keep)}
    for number in list(cv_results):
        if number not in top:
            del cv_results[number]


def _log_trial(rec: TrialRecord, best: TrialRecord | None, trials: int | None, time_budget: float | None,
               metric: str, elapsed: float) -> None:
    head = f"trial {rec.number}/{trials} {rec.model:<22}" if trials else f"trial {rec.number} {rec.model:<22}"
    if rec.ok:
        score = f"{metric} {rec.mean:.4f} +/- {rec.std:.4f}"
    elif rec.status == "pruned":
        score = f"{metric} {rec.mean:.4f} on {len(rec.folds)} fold(s), pruned: behind the best on the same folds"
    else:
        score = f"{rec.status}: {rec.error}"
    tail = f" | best {best.mean:.4f} (trial {best.number}, {best.model})" if best else " | no trial finished yet"
    budget = f" of {time_budget:g}s" if time_budget else ""
    log.info("%s %s (%.1fs)%s | %.0fs%s elapsed", head, score, rec.seconds, tail, elapsed, budget)


def _nothing_finished(records: list[TrialRecord], time_budget: float | None, metric: str) -> UserError:
    if not records or all(r.status == "timeout" for r in records):
        return UserError(
            f"search.time_budget: {time_budget:g} s was too short for any trial to finish "
            f"({len(records)} trial(s) started; each was stopped at the budget before its cross-validation "
            "finished). "
            "Raise search.time_budget, or set search.trials for a budget counted in trials.")
    errors: dict[str, list[int]] = {}
    for r in records:
        errors.setdefault(f"{r.model}: {r.error}", []).append(r.number)
    listed = "; ".join(f"{e} (trial{'s' if len(n) > 1 else ''} {', '.join(map(str, n[:5]))})"
                       for e, n in list(errors.items())[:5])
    return UserError(f"search: all {len(records)} trials failed, so there is no model to fit. {listed}. Check "
                     "search.space and search.pipeline for values the estimators reject (leaderboard.csv lists "
                     "every trial).")
