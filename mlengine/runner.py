"""Execution: a checked sequence of stages over one RunContext, writing one run directory.

Stages (in order): read -> contract -> pii -> load -> split -> bin target -> modelling checks -> search (when
the recipe searches) -> fit -> finish (samplers stripped, calibration, threshold) -> evaluate -> judge (rule
baselines, value, slices) -> explain -> save -> export_onnx -> manifest -> report -> finalize -> gate. Each stage
is a function of the context declared with `mlengine.stages.stage(reads=..., writes=...)`; the runner checks the
order from those declarations before it starts and refuses a stage that sets a field it did not declare.
Capabilities add their own stage functions (in their own modules) to `STAGES`; hooks (`mlengine.hooks`) act
around each stage without editing the runner. Nothing is fitted on holdout rows, and every fitted step is
refitted inside each CV training fold. The run directory is complete or marked failed, never half-written.
"""
from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlengine.data.contract import stage_contract
from mlengine.data.pii import stage_pii
from mlengine.errors import (
    MlengineError,
    RunInterrupted,
    UserError,
    clear_interrupt,
    hush_lost_interrupts,
    raise_if_interrupted,
    request_interrupt,
    unhush_lost_interrupts,
)
from mlengine.evaluate.adversarial import stage_adversarial
from mlengine.evaluate.explain import stage_explain
from mlengine.evaluate.finish import stage_finish_model
from mlengine.evaluate.judge import stage_gate, stage_judge
from mlengine.export.stage import stage_export_onnx
from mlengine.log import console_at_least, run_log
from mlengine.plan import Plan, compile_recipe
from mlengine.report.stage import stage_report
from mlengine.runs.record import stage_manifest
from mlengine.runs.rundir import RunDir
from mlengine.search.stage import stage_search
from mlengine.stages import RunContext, check_order, run_stage, stage, stage_name, stages_until
from mlengine.steps.checks import stage_check_modelling
from mlengine.steps.target import stage_bin_target
from mlengine.threads import late_note

log = logging.getLogger("mlengine")


@dataclass
class RunResult:
    """What a run returns: where it is, how it went, its metrics and the fitted model."""

    run_dir: Path
    status: str
    task: str
    metrics: dict[str, Any]
    model: Any = None
    plan: Plan | None = None
    notes: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """A notebook cell shows the metrics table (CV, holdout, baselines), the gate and a link to the report."""
        from mlengine.report.notebook import run_result_html

        return run_result_html(self)

    def summary(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "status": self.status, "task": self.task,
                "primary_metric": self.metrics.get("primary_metric"),
                "metrics": {k: self.metrics.get(k) for k in ("cv", "holdout", "baselines")},
                **{k: self.metrics[k] for k in ("cv_uncalibrated", "cv_describes", "warnings", "gate")
                   if self.metrics.get(k)}}


Stage = Callable[[RunContext], None]


def run_recipe(loaded: Any, runs_dir: str | Path | None = None, *, run_parent: str | Path | None = None,
               run_prefix: str = "", hooks: Any = (), resume: str | Path | None = None) -> RunResult:
    """Execute a loaded recipe into a new run directory (under runs_dir/<name>/, or run_parent for sweep jobs).

    `hooks`: extra hook objects (see `mlengine.hooks`), called after the recipe's built-in and plugin hooks.
    `resume`: an earlier run directory whose search leaderboard the search continues (`mlengine.search.resume`)."""
    from mlengine.hooks import HookManager

    recipe = loaded.recipe
    check_order(STAGES)
    if resume is not None:  # a bad --resume is refused before a run directory exists
        from mlengine.search.resume import check_resume

        resume = check_resume(resume, recipe)
    manager = HookManager.for_run(loaded, hooks)
    rd = RunDir(runs_dir or recipe.tracking.runs_dir, recipe.name, parent=run_parent, prefix=run_prefix)
    ctx = RunContext(loaded=loaded, rd=rd, resume=resume)
    with run_log(rd.file("run.log")):
        log.info("run %s -> %s", recipe.name, rd.final)
        for note in loaded.notes:
            log.warning("note: %s", note)
        if late_note():
            log.warning("note: %s", late_note())
        previous = _catch_signals()
        try:
            t0 = time.perf_counter()
            manager.before_run(ctx)
            for fn in STAGES:
                name = stage_name(fn)
                raise_if_interrupted()
                manager.before_stage(name, ctx)
                t = time.perf_counter()
                run_stage(fn, ctx)
                ctx.timings[name] = time.perf_counter() - t
                manager.after_stage(name, ctx)
            ctx.timings["total"] = time.perf_counter() - t0
        except BaseException as exc:
            _restore_signals(previous)  # before the record is written: a second signal must not cut it short
            interrupted = isinstance(exc, (KeyboardInterrupt, RunInterrupted))
            error = {"type": type(exc).__name__, "message": str(exc) or ("interrupted" if interrupted else ""),
                     "user_error": isinstance(exc, UserError)}
            if not isinstance(exc, MlengineError) and not interrupted:
                error["traceback"] = traceback.format_exc()
            if getattr(exc, "progress", None):  # what an interrupted stage kept (the search: its leaderboard)
                error["progress"] = exc.progress
            # run.log keeps it; the console gets the error once, from whoever catches it (the CLI, a notebook)
            log.error("run %s: %s", "interrupted" if interrupted else "failed", error["message"] or type(exc).__name__,
                      extra={"console": False})
            rd.finish("interrupted" if interrupted else "failed", error=error)
            exc.run_dir = rd.final  # type: ignore[attr-defined]
            manager.on_run_error(ctx, exc)
            raise
        _restore_signals(previous)
        run_dir = rd.finish("complete")
    log.info("run complete: %s", run_dir)
    result = RunResult(run_dir=run_dir, status="complete", task=ctx.data.task, metrics=ctx.report, model=ctx.model,
                       plan=ctx.plan, notes=ctx.report.get("notes", []))
    manager.after_run(ctx, result)
    return result


def _catch_signals() -> dict[int, Any]:
    """While a run goes on, SIGTERM raises RunInterrupted and SIGINT KeyboardInterrupt (as Python's own handler
    does), so the run is marked interrupted (with its error and the work done so far) instead of being left
    `.incomplete`. Both are also remembered (`errors.request_interrupt`): if the first raise is lost, the next
    stage, trial or fold raises it again, and a raise Python had to drop (inside a C library's call back into
    Python) prints no traceback (`errors.hush_lost_interrupts`). SIGINT is taken only from Python's default handler (a notebook's or a
    caller's own stays). Returns the previous handlers (none off the main thread, where handlers cannot be set)."""
    import signal
    import threading

    clear_interrupt()
    if threading.current_thread() is not threading.main_thread():
        return {}
    hush_lost_interrupts()

    def on_sigterm(signum: int, frame: Any) -> None:
        raise request_interrupt(RunInterrupted("interrupted by SIGTERM"))

    def on_sigint(signum: int, frame: Any) -> None:
        raise request_interrupt(KeyboardInterrupt())

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, on_sigterm)}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, on_sigint)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    """The caller's handlers back, and the run's remembered interrupt forgotten: it belongs to this run, and a
    fold or trial run later in the same process (a notebook, a direct `run_trial`) must not raise it again."""
    import signal

    for signum, handler in previous.items():
        signal.signal(signum, handler)
    if previous:
        unhush_lost_interrupts()
    previous.clear()
    clear_interrupt()


def check_recipe_data(loaded: Any, until: str = "check_modelling") -> RunContext:
    """Run the real stages up to `until` (reading, data checks, split, target bins, modelling checks), without
    hooks and in a scratch directory that is removed: what `mlengine validate` checks is what a run would.
    Warnings reach the console; progress lines do not."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mlengine-validate-") as scratch:
        ctx = RunContext(loaded=loaded, rd=RunDir(scratch, loaded.recipe.name))
        with console_at_least(logging.WARNING):
            for fn in stages_until(STAGES, until):
                run_stage(fn, ctx)
    return ctx


# ------------------------------------------------------------------------------------------------ stages ---
@stage(writes=("raw", "data_fingerprint"))
def stage_read(ctx: RunContext) -> None:
    """Read the source table as it is (ctx.raw) and fingerprint it; the data checks that follow look at the raw
    values."""
    from mlengine.data.sources import read_source
    from mlengine.runs.fingerprint import fingerprint_table

    ctx.rd.write_text("recipe.yaml", _yaml(ctx.loaded.resolved))
    log.info("loading data: %s", ctx.recipe.data.source.kind)
    ctx.raw = read_source(ctx.recipe.data.source, ctx.loaded.base_dir, frame=ctx.loaded.frame)
    ctx.data_fingerprint = fingerprint_table(ctx.raw, ctx.recipe.data.source)


@stage(reads=("raw",), writes=("raw", "data", "plan"))
def stage_load(ctx: RunContext) -> None:
    """Apply roles and types to the checked table, resolve the task, compile the concrete plan."""
    from mlengine.data.table import prepare_table
    from mlengine.recipe.validate import check_resolved_task

    recipe = ctx.recipe
    data = prepare_table(ctx.raw, recipe)
    check_resolved_task(ctx.loaded, data.task)
    ctx.raw = None  # the typed copy is what the run uses from here; free the raw table (large data)
    for note in data.notes:
        log.info("  %s", note)
    for warning in data.warnings:
        log.warning("warning: %s", warning)
    c = data.columns
    log.info("  %d rows, %d features (%d numeric, %d categorical, %d boolean, %d datetime)", len(data.X),
             len(c.features), len(c.numeric), len(c.categorical), len(c.boolean), len(c.datetime))
    ctx.data = data
    ctx.plan = compile_recipe(recipe, task=data.task, classes=data.classes)
    ctx.rd.write_text("plan.txt", ctx.plan.to_text() + "\n")
    ctx.rd.write_json("plan.json", ctx.plan.to_dict())


@stage(reads=("data", "plan"),
       writes=("train_idx", "test_idx", "X_tr", "y_tr", "X_te", "y_te", "groups_tr", "times_tr"))
def stage_split(ctx: RunContext) -> None:
    """Set the holdout aside and check the CV can run on the training split."""
    data, plan = ctx.data, ctx.plan
    train_idx, test_idx = plan.split.rows(len(data.y), plan.seed, y=data.y if data.task != "regression" else None,
                                          groups=data.groups, times=data.times)
    if plan.cv.uses_time:  # time-ordered folds expect training rows in time order
        train_idx = train_idx[np.argsort(data.times.iloc[train_idx].to_numpy(), kind="stable")]
    ctx.train_idx, ctx.test_idx = train_idx, test_idx
    ctx.X_tr, ctx.y_tr = data.X.iloc[train_idx], data.y.iloc[train_idx]
    ctx.X_te, ctx.y_te = data.X.iloc[test_idx], data.y.iloc[test_idx]
    ctx.groups_tr = data.groups.iloc[train_idx] if data.groups is not None else None
    ctx.times_tr = data.times.iloc[train_idx] if data.times is not None else None
    log.info("split: %d training rows, %d holdout rows (%s)", len(ctx.y_tr), len(ctx.y_te), plan.holdout_strategy)
    plan.cv.check_data(data.task, ctx.y_tr, ctx.groups_tr, ctx.times_tr)


@stage(reads=("data", "plan", "X_tr", "y_tr", "groups_tr", "times_tr", "candidate", "pipeline", "cv_result", "model_name"),
       writes=("candidate", "pipeline", "cv_result", "model"))
def stage_fit(ctx: RunContext) -> None:
    """Cross-validate the candidate on the training split, then refit it on the whole training split."""
    from sklearn.base import clone

    from mlengine.evaluate.crossval import cross_validate

    data, plan = ctx.data, ctx.plan
    ctx.candidate = ctx.candidate or plan.candidates[0]  # a search sets its best candidate, pipeline and CV result
    if ctx.pipeline is None:
        ctx.pipeline = plan.build_pipeline(ctx.candidate, data.columns, data.task)
    # a search hands over its best trial's CV result; selection records and calibration of a decision_function
    # also need the fold models, which trials do not keep (memory): then the best config is cross-validated again
    # (same folds). Calibrating probabilities uses the out-of-fold probabilities the search already has.
    from mlengine.evaluate.finish import needs_fold_models

    refold = (ctx.cv_result is not None and not ctx.cv_result.models
              and needs_fold_models(plan, ctx.pipeline))
    if plan.cv.kind != "none" and (ctx.cv_result is None or refold) and not _fallback_skips_cv(ctx):
        log.info("cross-validating %s: %s", ctx.model_name or ctx.candidate.model, plan.cv.describe())
        ctx.cv_result = cross_validate(
            ctx.pipeline, ctx.X_tr, ctx.y_tr, plan.cv, task=data.task, metrics=plan.metrics,
            primary=plan.primary_metric, classes=data.classes, pos_label=data.pos_label, groups=ctx.groups_tr,
            times=ctx.times_tr, label="  ", keep_models=plan.keeps_fold_models)
    _early_stopping_refit(ctx)
    log.info("fitting %s on the whole training split", ctx.model_name or ctx.candidate.model)
    ctx.model = clone(ctx.pipeline).fit(ctx.X_tr, ctx.y_tr)


def _early_stopping_refit(ctx: RunContext) -> None:
    """An early-stopped booster is refit without a validation carve-out: the recipe's own pipeline with the
    fold-mean best iteration as n_estimators (mlengine.steps.early_stopping), which the candidate (manifest
    `model.params`) and metrics.json `early_stopping` then state."""
    import sys
    from dataclasses import replace

    es = sys.modules.get("mlengine.steps.early_stopping")  # loaded whenever an early-stopped pipeline exists
    if es is None or not es.is_early_stopped(ctx.pipeline):
        return
    iterations = list(ctx.cv_result.best_iterations) if ctx.cv_result is not None else []
    if iterations:
        n = es.chosen_n_estimators(iterations)
        ctx.report["early_stopping"] = es.record(ctx.pipeline, iterations, n)
        log.info("early stopping: best iteration per fold %s; refit with n_estimators=%d (their mean)",
                 iterations, n)
    else:  # no fold ran (a budgeted search's recipe-model fallback): the cap, as the recipe states it
        n = int(ctx.pipeline.get_params()[es.n_estimators_key(ctx.pipeline)])
        ctx.report["early_stopping"] = {**es.record(ctx.pipeline, [], n), "chosen_by": "cap (no CV fold ran)"}
    ctx.pipeline = es.plain_refit(ctx.pipeline, n)
    ctx.candidate = replace(ctx.candidate, params={**ctx.candidate.params, "n_estimators": n})


def _fallback_skips_cv(ctx: RunContext) -> bool:
    """A budgeted search that no trial finished falls back to the recipe's own model: it is refit without a
    cross-validation (k more fits past the budget), unless calibration or a threshold needs out-of-fold scores."""
    fallback = (ctx.report.get("search") or {}).get("fallback") or {}
    plan = ctx.plan
    needs_oof = plan.calibration.method != "none" or plan.threshold.objective != "none"
    if fallback.get("kind") == "recipe_model" and not needs_oof:
        log.info("no cross-validation of the fallback model: the time budget is spent (metrics.json cv is null)")
        return True
    return False


@stage(reads=("data", "plan", "model", "X_te", "y_tr", "y_te", "cv_result"), writes=("pred", "proba"))
def stage_evaluate(ctx: RunContext) -> None:
    """Score the fitted model and the baselines on the holdout."""
    from mlengine.evaluate.baselines import score_baselines
    from mlengine.evaluate.crossval import predict_all
    from mlengine.evaluate.metrics import METRICS, score_all

    data, plan = ctx.data, ctx.plan
    primary = plan.primary_metric
    # stage_finish_model sets `cv` (the saved, calibrated/thresholded model) and `cv_uncalibrated` when they differ
    final_cv = {k: ctx.report.pop(k) for k in ("cv", "cv_uncalibrated", "cv_describes") if k in ctx.report}
    ctx.report.update({
        "task": data.task, "primary_metric": primary, "greater_is_better": METRICS[primary].greater_is_better,
        "classes": data.classes, "positive_class": data.pos_label,
        "rows": {"train": int(len(ctx.y_tr)), "holdout": int(len(ctx.y_te))},
        "features": data.columns.as_dict(),
        "cv": ctx.cv_result.summary() if ctx.cv_result else None,
        **final_cv, "holdout": None, "baselines": {},
    })
    if len(ctx.y_te):
        ctx.pred, ctx.proba = predict_all(ctx.model, ctx.X_te, data.task)
        kw = {"classes": data.classes, "pos_label": data.pos_label}
        ctx.report["holdout"] = score_all(plan.metrics, ctx.y_te.to_numpy(), pred=ctx.pred, proba=ctx.proba, **kw)
        ctx.report["baselines"] = score_baselines(plan.baselines, data.task, ctx.y_tr, ctx.y_te, plan.metrics,
                                                  data.classes, data.pos_label)
        if data.task != "regression":
            ctx.report["confusion_matrix"] = _confusion(ctx.y_te, ctx.pred, data.classes)
    from mlengine.evaluate.diagnostics import score_diagnostics

    # lift/KS, score distribution and calibration by class (metrics.json diagnostics)
    ctx.report["diagnostics"] = score_diagnostics(data.task, ctx.y_te, ctx.pred, ctx.proba, data.classes, data.pos_label)
    _log_metrics(ctx.report, primary)


@stage(reads=("data", "plan", "model", "model_name", "pred", "proba", "test_idx", "y_te"))
def stage_save(ctx: RunContext) -> None:
    """Write the model bundle and the holdout predictions."""
    from mlengine.export.joblib_bundle import save_joblib

    ctx.artifacts.update(save_joblib(ctx.rd.path, ctx.model, ctx.plan, ctx.data, model_name=ctx.model_name,
                                     extra=ctx.bundle, data_checks=ctx.data_checks))
    if ctx.pred is not None:
        _predictions_frame(ctx).to_parquet(ctx.rd.file("predictions.parquet"), index=False)


@stage(reads=("data",), writes=("metrics",))
def stage_finalize(ctx: RunContext) -> None:
    """Write metrics.json last: its presence means every artifact before it was written."""
    ctx.report["artifacts"] = ctx.artifacts
    ctx.report["notes"] = ctx.data.notes + ctx.data.warnings + ctx.loaded.notes
    ctx.report["timings_seconds"] = {k: round(v, 3) for k, v in ctx.timings.items()}
    wall = time.time() - ctx.rd.started  # from the run directory's creation to here (the last artifact)
    ctx.report["wall_seconds"] = round(wall, 3)
    if ctx.recipe.run.time_budget:
        budget = ctx.recipe.run.time_budget
        ctx.report["run_budget"] = {"time_budget": budget, "wall_seconds": round(wall, 3),
                                    "overrun_seconds": round(max(0.0, wall - budget), 3)}
    from mlengine.runs.metrics_record import typed, validated

    ctx.metrics = typed(ctx.report)  # what the gate (and the hooks' state) read from here on
    ctx.rd.write_json("metrics.json", validated(ctx.report, ctx.metrics))


# The order the declarations check is in `check_order`; what they cannot say: the data checks run on the raw
# table before types are applied; stage_manifest hashes every artifact file written before it, and the report
# comes after it so it can show the record (the report is a view, not an artifact); metrics.json is written by
# stage_finalize, so its presence means every artifact was written; the gate is enforced last (exit 3).
STAGES: list[Stage] = [stage_read, stage_contract, stage_pii, stage_load, stage_split, stage_bin_target,
                       stage_check_modelling, stage_adversarial, stage_search, stage_fit, stage_finish_model, stage_evaluate,
                       stage_judge, stage_explain, stage_save, stage_export_onnx, stage_manifest, stage_report,
                       stage_finalize, stage_gate]
check_order(STAGES)  # a stage placed before what it reads fails at import, not halfway through a run


# ------------------------------------------------------------------------------------------------ helpers ---
def _confusion(y_true: pd.Series, pred: np.ndarray, classes: list[Any]) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix

    m = confusion_matrix(y_true.to_numpy(), pred, labels=classes)
    return {"labels": classes, "matrix": m.tolist(), "rows": "true class", "columns": "predicted class"}


def _predictions_frame(ctx: RunContext) -> pd.DataFrame:
    data = ctx.data
    out: dict[str, Any] = {"row": ctx.test_idx}
    if data.ids is not None:
        out[str(data.ids.name)] = data.ids.iloc[ctx.test_idx].to_numpy()
    out["y_true"] = ctx.y_te.to_numpy()
    out["y_pred"] = ctx.pred
    if ctx.proba is not None:
        for j, cls in enumerate(data.classes):
            out[f"proba_{cls}"] = ctx.proba[:, j]
    frame = pd.DataFrame(out)
    if data.task != "regression":  # one type per label column, for Parquet
        cast = str if isinstance(data.classes[0], str) else type(data.classes[0])
        frame["y_true"] = frame["y_true"].astype(cast)
        frame["y_pred"] = frame["y_pred"].astype(cast)
    return frame


def _log_metrics(report: dict[str, Any], primary: str) -> None:
    if report.get("cv"):
        cv = report["cv"][primary]
        saved = " (saved model: calibrated/thresholded)" if report.get("cv_uncalibrated") else ""
        log.info("cv %s: %.4f +/- %.4f%s", primary, cv["mean"], cv["std"], saved)
    if report.get("holdout"):
        log.info("holdout: %s", ", ".join(f"{k}={v:.4f}" for k, v in report["holdout"].items()))
        for name, scores in report.get("baselines", {}).items():
            log.info("baseline %s: %s=%.4f", name, primary, scores[primary])


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
