"""The runner stage that searches (before `stage_fit`), when `search.trials` > 0 or a time budget is set.

It runs the trials, writes `leaderboard.csv` and `leaderboard.parquet`, and hands the best configuration to the fit:
`ctx.candidate` (the best config), `ctx.pipeline` (its pipeline, or the ensemble when one is kept) and
`ctx.cv_result` (the best trial's CV result with its out-of-fold predictions, so the fit does not cross-validate
again and calibration can fit on those predictions). `metrics.json["search"]` records the budget, every trial, the
best config and the overrides that replay it without a search.

The time budget is `search.time_budget`, cut to what `run.time_budget` leaves (`mlengine.search.budget`). A
budgeted search that no trial finished falls back to a model (`metrics.json["search"]["fallback"]`). An interrupt
(Ctrl-C, SIGTERM) writes the finished trials' leaderboard before the run is marked interrupted; `--resume`
(`ctx.resume`) continues from such a leaderboard (`mlengine.search.resume`).
"""

from __future__ import annotations

import logging
from typing import Any

from mlengine.stages import stage

log = logging.getLogger("mlengine")


@stage(reads=("data", "plan", "X_tr", "y_tr", "groups_tr", "times_tr", "resume"),
       writes=("candidate", "pipeline", "cv_result", "model_name", "search"))
def stage_search(ctx: Any) -> None:
    """Search the recipe's joint space under its CV; no-op when the search is off."""
    s = ctx.recipe.search
    if not s.active:
        if s.ensemble.members and s.ensemble.method != "none":
            _pinned_ensemble(ctx)
        return
    from mlengine.evaluate.metrics import METRICS
    from mlengine.search.budget import ensemble_allowance, search_budget
    from mlengine.search.config import declared_spaces
    from mlengine.search.driver import plan_threads, run_search
    from mlengine.search.ensemble import ensemble_members, greedy_ensemble, try_ensemble
    from mlengine.search.flaml_space import build_space, start_points
    from mlengine.search.trial import TrialSetup, check_pipeline_params
    from mlengine.search.trials import leaderboard, ranked, write_leaderboard

    data, plan, recipe = ctx.data, ctx.plan, ctx.recipe
    metric = s.metric or plan.primary_metric
    greater = METRICS[metric].greater_is_better
    models, pipeline = declared_spaces(recipe, data.task)
    space = build_space(models, pipeline, n_rows=len(ctx.y_tr), n_features=len(data.columns.features),
                        task=data.task)
    n_concurrent, threads, notes = plan_threads(s.n_concurrent, plan.n_jobs, s.backend)
    for note in notes:
        log.warning("note: %s", note)
    setup = TrialSetup(plan=plan, space=space, columns=data.columns, task=data.task, classes=data.classes,
                       pos_label=data.pos_label, X=ctx.X_tr, y=ctx.y_tr, groups=ctx.groups_tr, times=ctx.times_tr,
                       metric=metric, n_jobs=threads)
    check_pipeline_params(setup)
    lead = recipe.model.name if recipe.model.name in space.estimators else (s.estimators or space.estimators)[0]
    points = start_points(space, s.warm_start, data.task, ctx.X_tr, ctx.y_tr, lead=lead,
                          lead_params=recipe.model.params if lead == recipe.model.name else None)
    seed = s.seed if s.seed is not None else recipe.seed
    replay = _replay(ctx, metric)
    timing = search_budget(s.time_budget, recipe.run.time_budget, ctx.rd.started)
    if timing.note:
        log.warning("note: %s", timing.note)
    time_budget = timing.seconds
    budget = " and ".join(b for b in (f"{s.trials} trials" if s.trials else "",
                                      f"{time_budget:g} s" if time_budget else "") if b)
    if timing.run_budget:
        budget += (f" (run.time_budget {timing.run_budget:g} s: {timing.elapsed_before:.0f} s used, "
                   f"{timing.reserve:.0f} s kept for after the search)")
    log.info("search: %s over %s, %s, %s (%s), %d trial(s) at a time x %d thread(s), %s cv", s.algorithm,
             ", ".join(space.estimators), budget, metric, "higher is better" if greater else "lower is better",
             n_concurrent, threads, plan.cv.describe())
    # out-of-fold results of the best trial only (voting/stacking are cross-validated as a whole); greedy selects
    # from the kept out-of-fold predictions of its pool
    keep = s.ensemble.size if s.ensemble.method == "greedy" else 1
    try:
        result = run_search(setup, algorithm=s.algorithm, points=points, seed=seed, trials=s.trials,
                            time_budget=time_budget, early_stop=s.early_stop, n_concurrent=n_concurrent,
                            backend=s.backend, greater_is_better=greater, keep=keep, prune=s.prune, replay=replay,
                            ray_settings=s.ray)
    except BaseException as exc:
        records = getattr(exc, "records", None)
        if records:
            write_leaderboard(leaderboard(records, metric, greater), ctx.rd.path)
        if records is not None and not isinstance(exc, Exception):  # an interrupt: what was kept, how to go on
            _interrupted(ctx, exc, records)
        raise
    frame = leaderboard(result.records, metric, greater)
    ctx.artifacts.update(write_leaderboard(frame, ctx.rd.path))
    best = result.best
    ctx.candidate = setup.candidate(best.model, best.params, best.pipeline_params)
    ctx.pipeline = setup.pipeline(ctx.candidate, n_jobs=plan.n_jobs)
    ctx.cv_result = result.cv_results.get(best.number)  # None: the recipe-model fallback (see stage_fit)
    ctx.model_name = best.model
    n_ok = sum(r.ok for r in result.records)
    n_pruned = sum(r.status == "pruned" for r in result.records)
    why = {"trials": "the trial count", "time_budget": "the time budget", "early_stop": "early stopping",
           "exhausted": "an exhausted space (no new configuration to try)"}[result.stopped_by]
    chosen = (f"best trial {best.number}: {best.model} {metric}={best.mean:.4f} +/- {best.std:.4f}" if best.folds
              else f"fallback: the recipe's own model, {best.model}")
    log.info("search done: %d trial(s) (%d ok, %d pruned%s) in %.1fs%s, stopped by %s; %s", len(result.records),
             n_ok, n_pruned, f", {result.resumed} resumed" if result.resumed else "", result.seconds,
             f" of {time_budget:g}s" if time_budget else "", why, chosen)
    failed = len(result.records) - n_ok - n_pruned
    if failed:
        log.warning("%d of %d trials did not finish (failed or stopped at the budget); see leaderboard.csv",
                    failed, len(result.records))
    ensemble = None
    if s.ensemble.method != "none" and result.fallback is None:
        top = ensemble_members(ranked([r for r in result.records if r.ok], greater), s.ensemble.size)
        allowance = ensemble_allowance(timing.run_budget, ctx.rd.started, best, plan.cv.folds)
        if s.ensemble.method == "greedy":
            ensemble = greedy_ensemble(setup, top, result.cv_results, greater, plan.n_jobs, allowance)
        else:
            ensemble = try_ensemble(setup, s.ensemble.method, top, best, greater, plan.n_jobs, allowance)
        if ensemble.kept:
            ctx.pipeline, ctx.cv_result = ensemble.pipeline, ensemble.cv
            by_number = {r.number: r for r in result.records}
            ctx.model_name = f"{s.ensemble.method}({', '.join(by_number[n].model for n in ensemble.members)})"
    ctx.report["search"] = _summary(ctx, result, space, metric, greater, seed, n_concurrent, ensemble)
    ctx.report["search"].update({
        "budget": timing.to_dict(), "fallback": result.fallback, "resumed_from": str(ctx.resume) if replay else None,
        "trials_resumed": result.resumed,
        "overrun_seconds": round(max(0.0, result.seconds - time_budget), 3) if time_budget else None})


def _replay(ctx: Any, metric: str) -> list[Any] | None:
    """The recorded trials of the run `--resume` names (None without --resume)."""
    if ctx.resume is None:
        return None
    from mlengine.search.resume import check_resume, replay_outcomes

    run_dir = check_resume(ctx.resume, ctx.recipe)  # again: a library caller may set ctx.resume itself
    outcomes = replay_outcomes(run_dir, metric)
    log.info("resume: %d finished trial(s) from %s are replayed, then the search goes on", len(outcomes), run_dir)
    return outcomes


def _interrupted(ctx: Any, exc: BaseException, records: list[Any]) -> None:
    """Extend the interrupt's message (status.json keeps it) with what the search kept and how to resume."""
    done = sum(r.status in ("ok", "pruned") for r in records)
    kept = (f"{len(records)} finished trial(s) ({done} ok or pruned) kept in leaderboard.csv; continue with "
            f"`mlengine run RECIPE --resume {ctx.rd.final}`" if records else "no trial had finished")
    exc.args = (f"{exc.args[0] if exc.args else 'interrupted'} during the search: {kept}",)
    exc.progress = {"stage": "search", "trials_finished": len(records)}  # type: ignore[attr-defined]


def _pinned_ensemble(ctx: Any) -> None:
    """Fit the ensemble the recipe pins (search.ensemble.members) without a search, scored under the recipe's CV."""
    from dataclasses import replace

    from mlengine.evaluate.crossval import cross_validate
    from mlengine.search.ensemble import build_ensemble
    from mlengine.steps.assemble import adjust_preprocess
    from mlengine.steps.preprocess import resolve_preprocess

    e, plan, data = ctx.recipe.search.ensemble, ctx.plan, ctx.data
    base = plan.candidates[0]
    pipes = []
    for i, m in enumerate(e.members):
        cand = replace(base, model=m.model, params=dict(m.params), pipeline_params={**base.pipeline_params,
                                                                                   **m.pipeline_params},
                       preprocess=adjust_preprocess(ctx.recipe, resolve_preprocess(ctx.recipe.preprocess,
                                                                                  m.model))[0])
        pipes.append((f"member{i}_{m.model}", plan.build_pipeline(cand, data.columns, data.task,
                                                                  early_stopping=False)))
    ctx.pipeline = build_ensemble(e.method, pipes, data.task, plan.cv, weights=[m.weight for m in e.members])
    ctx.candidate = replace(base, model=e.members[0].model, params=dict(e.members[0].params))
    ctx.model_name = f"{e.method}({', '.join(m.model for m in e.members)})"
    log.info("ensemble: %s of %d pinned members (search.ensemble.members), no search", e.method, len(e.members))
    if plan.cv.kind != "none":
        ctx.cv_result = cross_validate(ctx.pipeline, ctx.X_tr, ctx.y_tr, plan.cv, task=data.task,
                                       metrics=plan.metrics, primary=plan.primary_metric, classes=data.classes,
                                       pos_label=data.pos_label, groups=ctx.groups_tr, times=ctx.times_tr,
                                       label="  ensemble ")


def _summary(ctx: Any, result: Any, space: Any, metric: str, greater: bool, seed: int, n_concurrent: int,
             ensemble: Any) -> dict[str, Any]:
    from mlengine.search.trials import best_overrides, replay_overrides

    s, best = ctx.recipe.search, result.best
    return {
        "algorithm": s.algorithm, "metric": metric, "greater_is_better": greater, "seed": seed,
        "trials_requested": s.trials, "time_budget": s.time_budget, "early_stop": s.early_stop,
        "n_concurrent": n_concurrent, "threads_per_trial": result.threads_per_trial, "backend": s.backend,
        "warm_start": s.warm_start, "trials_run": len(result.records),
        **({"ray": result.where} if result.where else {}),
        "trials_ok": sum(r.ok for r in result.records), "prune": s.prune,
        "trials_pruned": sum(r.status == "pruned" for r in result.records), "stopped_by": result.stopped_by,
        "seconds": round(result.seconds, 3), "estimators": space.estimators,
        "space": {m: {k: v.to_dict() for k, v in p.items()} for m, p in space.models.items()}
        | ({"pipeline": {k: v.to_dict() for k, v in space.pipeline.items()}} if space.pipeline else {}),
        "best": best.to_dict(),
        "best_overrides": best_overrides(ctx.recipe, best) | _ensemble_pins(result, ensemble),
        "replay_overrides": replay_overrides(ctx.recipe, ctx.loaded.resolved, best),
        "ensemble": ensemble.to_dict(best.mean) if ensemble else None,
        "final_model": ctx.model_name,
        "history": [r.to_dict() for r in result.records],
    }


def _ensemble_pins(result: Any, ensemble: Any) -> dict[str, Any]:
    """A kept ensemble as recipe keys, so a replay without a search rebuilds exactly these members."""
    if not ensemble or not ensemble.kept:
        return {}
    by_number = {r.number: r for r in result.records}
    weights = ensemble.weights or [1.0] * len(ensemble.members)
    members = [{"model": by_number[n].model, "params": by_number[n].refit_params,
                "pipeline_params": by_number[n].pipeline_params}
               | ({"weight": w} if ensemble.weights else {}) for n, w in
               zip(ensemble.members, weights, strict=True)]
    return {"search.ensemble.method": ensemble.method, "search.ensemble.members": members}
