"""The search loop: FLAML's CFO or BlendSearch over the joint space, asked and told one trial at a time.

This is the loop `flaml.tune.run` runs (suggest -> evaluate -> on_trial_result / on_trial_complete), driven here so
that trials can run in parallel processes or on Ray with the same bookkeeping, the same trial log and the same
stopping rules (trial count, time budget, early stop). With n_concurrent > 1, results are told to the searcher in
the order trials were started, so the trial sequence depends only on the seed, never on which trial finished
first. Without a time budget the searcher ignores trial durations (cost_attr None): a fixed trial count gives the
same trials, the same best config and the same scores on every run.

That determinism is what `--resume` relies on: the finished trials of an interrupted search (its leaderboard) are
replayed - the searcher proposes them again, each is checked against the record and told its recorded result -
and the search goes on from there with the trials an uninterrupted search would have run next.

A budgeted search (a time budget) always ends with a model: when no trial finished all its folds, the best trial
on the folds it finished is used, else the recipe's own model (the first start point); `fallback` says which.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mlengine.errors import RunInterrupted, UserError, raise_if_interrupted
from mlengine.evaluate import crossval
from mlengine.search import progress_bar
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
    fallback: dict[str, Any] | None = None  # set when no trial finished all folds (a budgeted search)
    resumed: int = 0  # trials replayed from an earlier run's leaderboard


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
               greater_is_better: bool, keep: int, prune: bool = True, ray_settings: Any = None,
               replay: list[Any] | None = None) -> SearchOutcome:
    """Run trials until the trial count, the time budget, early stopping or the space is exhausted.

    With `prune`, each trial races the best trial known when it starts (`trial.should_prune`): a trial that falls
    clearly behind on the folds it has finished skips the rest, and the searcher is told its paired estimate.
    `replay`: recorded TrialOutcomes of the first trials (a resumed search), handed back instead of run.
    A KeyboardInterrupt or RunInterrupted leaves with the finished trials' records on the exception (`records`).
    """
    from concurrent.futures import Future

    from mlengine.search.executors import make_executor

    metric = setup.metric
    t0 = time.time()
    setup.deadline = crossval.clock() + time_budget if time_budget else None
    replay = list(replay or [])
    setup.greater_is_better = greater_is_better
    searcher = make_searcher(algorithm, setup.space, points, mode="max" if greater_is_better else "min",
                             seed=seed, trials=trials, time_budget=time_budget)
    executor = make_executor(backend, setup, n_concurrent, ray_settings)
    bar_display = progress_bar.start(trials, time_budget, metric, t0)  # a bar on a terminal, else nothing
    records: list[TrialRecord] = []
    cv_results: dict[int, Any] = {}
    pending: deque = deque()
    best: TrialRecord | None = None
    partial: tuple[TrialRecord, Any] | None = None  # the best timed-out trial on the folds it finished
    configs: dict[int, dict] = {}
    since_best, started, empty = 0, 0, 0
    stopped_by = "trials"

    def may_start() -> bool:
        nonlocal stopped_by
        raise_if_interrupted()
        if trials and started >= trials:
            return False
        if started < len(replay):  # replayed trials take no time: they run whatever the clock says
            return stopped_by not in ("early_stop", "exhausted")
        if setup.deadline and crossval.clock() >= setup.deadline and started:  # the first trial always starts
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
                configs[started] = config
                bar = best.folds if prune and best is not None else None
                if started <= len(replay):
                    future: Future = Future()
                    future.set_result(_replayed(setup.space, config, replay[started - 1], started))
                else:
                    future = executor.submit(config, label=f"  trial {started} ", bar=bar)
                pending.append((started, trial_id, config, bar, future))
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
            elif rec.status == "timeout" and rec.folds and _better_partial(rec, partial, greater_is_better):
                partial = (rec, outcome.cv)
            _log_trial(rec, best, trials, time_budget, metric, time.time() - t0)
            bar_display.trial_done(rec.number, best)
            if early_stop and since_best >= early_stop and stopped_by not in ("time_budget", "exhausted"):
                stopped_by = "early_stop"
    except (KeyboardInterrupt, RunInterrupted) as exc:
        exc.records = records  # type: ignore[attr-defined]  # the stage writes the finished trials' leaderboard
        raise
    finally:
        bar_display.close()
        executor.close()
    for number in [n for n, cv in cv_results.items() if cv is None]:  # replayed: their out-of-fold predictions
        cv_results[number] = _rescore(setup, configs[number], number)
    seconds = time.time() - t0
    fallback = None
    if best is None:
        # the recipe's own model is trial 1 (the first start point): a fallback only when the clock stopped it
        if not time_budget or (partial is None and records and records[0].status != "timeout"):
            error = _nothing_finished(records, time_budget, metric)
            error.records = records  # type: ignore[attr-defined]  # the stage still writes the leaderboard
            raise error
        best, fallback = _fallback(setup, records, partial, points, time_budget, metric)
        if partial is not None and best is partial[0]:
            cv_results = {best.number: partial[1]}
        log.warning("%s", fallback["message"])
    if stopped_by == "early_stop":
        log.info("search stopped early: no improvement in %d trials", early_stop)
    return SearchOutcome(records, best, cv_results, stopped_by, seconds, n_concurrent, setup.n_jobs,
                         where=getattr(executor, "where", None), fallback=fallback,
                         resumed=min(len(replay), started))


def _replayed(space: Any, config: dict, outcome: Any, number: int) -> Any:
    """A recorded trial's outcome, after checking the searcher proposes that trial's configuration again."""
    import json

    def key(model: str, params: dict, pipeline_params: dict) -> str:
        return json.dumps([model, params, pipeline_params], sort_keys=True, default=str)

    proposed = key(*space.decode(config))
    if proposed != key(outcome.model, outcome.params, outcome.pipeline_params):
        raise UserError(f"--resume: trial {number} of the resumed run was {outcome.model} "
                        f"{json.dumps(outcome.params, sort_keys=True, default=str)}, but this recipe's search "
                        f"proposes {proposed} as trial {number}. Resume with the recipe (search space, seed, "
                        "algorithm, warm start, data) of the interrupted run, or start a new run without --resume.")
    return outcome


def _rescore(setup: Any, config: dict, number: int) -> Any:
    """A replayed trial's CV result (its out-of-fold predictions are not in the leaderboard): the same folds,
    the same pipeline, so the same scores."""
    from dataclasses import replace

    from mlengine.search.trial import run_trial

    log.info("resume: cross-validating trial %d again for its out-of-fold predictions", number)
    return run_trial(replace(setup, deadline=None), config, label=f"  trial {number} ").cv


def _better_partial(rec: TrialRecord, partial: tuple[TrialRecord, Any] | None, greater_is_better: bool) -> bool:
    """More finished folds first, then the better mean over them (the same first folds, so the same splits)."""
    if partial is None:
        return True
    other = partial[0]
    if len(rec.folds) != len(other.folds):
        return len(rec.folds) > len(other.folds)
    return rec.mean > other.mean if greater_is_better else rec.mean < other.mean


def _fallback(setup: Any, records: list[TrialRecord], partial: tuple[TrialRecord, Any] | None,
              points: list[dict], time_budget: float, metric: str) -> tuple[TrialRecord, dict[str, Any]]:
    """The model of a budgeted search that no trial finished: the best partial trial, else the recipe's own."""
    if partial is not None:
        rec = partial[0]
        message = (f"search: no trial finished all its folds within the time budget ({time_budget:g} s); using "
                   f"trial {rec.number} ({rec.model}), the best on the folds it finished: {metric} {rec.mean:.4f} "
                   f"on {len(rec.folds)} fold(s). Its cv scores are those folds only; raise search.time_budget "
                   "for a full cross-validation")
        return rec, {"kind": "partial_folds", "trial": rec.number, "folds": len(rec.folds), "message": message}
    model, params, pipeline_params = setup.space.decode(points[0]) if points else (
        setup.space.estimators[0], {}, {})
    rec = TrialRecord(0, "fallback", model, params, pipeline_params, 0.0)
    message = (f"search: no trial finished a single fold within the time budget ({time_budget:g} s, "
               f"{len(records)} trial(s) started); fitting the recipe's own model ({model}) instead, "
               "refit after the budget (cross-validated only when calibration or a threshold needs it). Raise "
               "search.time_budget for a search")
    return rec, {"kind": "recipe_model", "trial": None, "folds": 0, "message": message}


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
    log.info("%s %s (%.1fs)%s | %.0fs%s elapsed%s", head, score, rec.seconds, tail, elapsed, budget,
             _eta(rec.number, trials, time_budget, elapsed))


def _eta(done: int, trials: int | None, time_budget: float | None, elapsed: float) -> str:
    """', ~N s left': from the pace so far for a trial budget, capped by the time budget when there is one."""
    left = [time_budget - elapsed] if time_budget else []
    if trials and done:
        left.append(elapsed / done * (trials - done))
    return f", ~{max(0.0, min(left)):.0f}s left" if left else ""


def _nothing_finished(records: list[TrialRecord], time_budget: float | None, metric: str) -> UserError:
    if not records:  # a budgeted search falls back to a model instead (see `_fallback`)
        return UserError("search: the searcher proposed no configuration to try, so there is no model to fit. "
                         "Check search.space (every parameter pinned?) and search.estimators.")
    errors: dict[str, list[int]] = {}
    for r in records:
        errors.setdefault(f"{r.model}: {r.error}", []).append(r.number)
    listed = "; ".join(f"{e} (trial{'s' if len(n) > 1 else ''} {', '.join(map(str, n[:5]))})"
                       for e, n in list(errors.items())[:5])
    return UserError(f"search: all {len(records)} trials failed, so there is no model to fit. {listed}. Check "
                     "search.space and search.pipeline for values the estimators reject (leaderboard.csv lists "
                     "every trial).")
