"""Execution: load data, check it, split, cross-validate, refit, evaluate against baselines, save the run.

Everything here works on a compiled plan; nothing is fitted on holdout rows, and every fitted step is refitted
inside each CV training fold. The run directory is complete or marked failed, never half-written.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import MlengineError, UserError
from mlengine.log import run_log
from mlengine.plan import Plan, compile_recipe
from mlengine.runs.rundir import RunDir

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

    def summary(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "status": self.status, "task": self.task,
                "primary_metric": self.metrics.get("primary_metric"),
                "metrics": {k: self.metrics.get(k) for k in ("cv", "holdout", "baselines")}}


def run_recipe(loaded: Any, runs_dir: str | Path | None = None) -> RunResult:
    """Execute a loaded recipe into a new run directory."""
    recipe = loaded.recipe
    rd = RunDir(runs_dir or recipe.tracking.runs_dir, recipe.name)
    with run_log(rd.file("run.log")):
        log.info("run %s -> %s", recipe.name, rd.final)
        for note in loaded.notes:
            log.warning("note: %s", note)
        try:
            result = _execute(loaded, rd)
        except BaseException as exc:
            error = {"type": type(exc).__name__, "message": str(exc),
                     "user_error": isinstance(exc, UserError)}
            if not isinstance(exc, MlengineError):
                error["traceback"] = traceback.format_exc()
            log.error("run failed: %s", exc if str(exc) else type(exc).__name__)
            rd.finish("failed", error=error)
            exc.run_dir = rd.final  # type: ignore[attr-defined]
            raise
        result.run_dir = rd.finish("complete")
    log.info("run complete: %s", result.run_dir)
    return result


def _execute(loaded: Any, rd: RunDir) -> RunResult:
    from sklearn.base import clone

    from mlengine.data.sources import read_source
    from mlengine.data.table import prepare_table
    from mlengine.evaluate.baselines import score_baselines
    from mlengine.evaluate.crossval import check_cv_feasible, cross_validate, predict_all
    from mlengine.evaluate.cv import holdout_split
    from mlengine.evaluate.metrics import score_all
    from mlengine.export.joblib_bundle import save_joblib

    recipe = loaded.recipe
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    rd.write_text("recipe.yaml", _yaml(loaded.resolved))

    log.info("loading data: %s", recipe.data.source.kind)
    raw = read_source(recipe.data.source, loaded.base_dir)
    data = prepare_table(raw, recipe)
    del raw
    for note in data.notes:
        log.info("  %s", note)
    c = data.columns
    log.info("  %d rows, %d features (%d numeric, %d categorical, %d boolean, %d datetime)", len(data.X),
             len(c.features), len(c.numeric), len(c.categorical), len(c.boolean), len(c.datetime))
    timings["load"] = time.perf_counter() - t0

    plan = compile_recipe(recipe, task=data.task)
    rd.write_text("plan.txt", plan.to_text() + "\n")
    rd.write_json("plan.json", plan.to_dict())

    train_idx, test_idx = holdout_split(
        plan.holdout_strategy, len(data.y), plan.holdout_fraction, plan.seed, y=data.y if data.task != "regression" else None,
        groups=data.groups, times=data.times)
    X_tr, y_tr = data.X.iloc[train_idx], data.y.iloc[train_idx]
    X_te, y_te = data.X.iloc[test_idx], data.y.iloc[test_idx]
    g_tr = data.groups.iloc[train_idx] if data.groups is not None else None
    t_tr = data.times.iloc[train_idx] if data.times is not None else None
    if plan.cv.uses_time:  # time-ordered folds expect rows in time order
        order = np.argsort(t_tr.to_numpy(), kind="stable")
        X_tr, y_tr, t_tr = X_tr.iloc[order], y_tr.iloc[order], t_tr.iloc[order]
        g_tr = g_tr.iloc[order] if g_tr is not None else None
    log.info("split: %d training rows, %d holdout rows", len(y_tr), len(y_te))
    check_cv_feasible(plan.cv, data.task, y_tr, g_tr, t_tr)

    candidate = plan.candidates[0]
    pipeline = plan.build_pipeline(candidate, data.columns, data.task)
    metrics, primary = plan.metrics, plan.primary_metric
    t = time.perf_counter()
    cv_result = None
    if plan.cv.kind != "none":
        log.info("cross-validating %s: %s", candidate.model, plan.cv.describe())
        cv_result = cross_validate(pipeline, X_tr, y_tr, plan.cv, task=data.task, metrics=metrics, primary=primary,
                                   classes=data.classes, pos_label=data.pos_label, groups=g_tr, times=t_tr,
                                   label="  ")
    timings["cv"] = time.perf_counter() - t

    t = time.perf_counter()
    log.info("fitting %s on the whole training split", candidate.model)
    model = clone(pipeline).fit(X_tr, y_tr)
    timings["refit"] = time.perf_counter() - t

    report: dict[str, Any] = {
        "task": data.task, "primary_metric": primary, "greater_is_better": _greater(primary),
        "classes": data.classes, "positive_class": data.pos_label,
        "rows": {"train": int(len(y_tr)), "holdout": int(len(y_te))},
        "features": data.columns.as_dict(),
        "cv": cv_result.summary() if cv_result else None,
    }
    predictions = None
    if len(y_te):
        pred, proba = predict_all(model, X_te, data.task)
        report["holdout"] = score_all(metrics, y_te.to_numpy(), pred=pred, proba=proba, classes=data.classes,
                                      pos_label=data.pos_label)
        report["baselines"] = score_baselines(plan.baselines, data.task, y_tr, y_te, metrics, data.classes,
                                              data.pos_label)
        if data.task != "regression":
            report["confusion_matrix"] = _confusion(y_te, pred, data.classes)
        predictions = _predictions_frame(data, test_idx, y_te, pred, proba)
    else:
        report["holdout"], report["baselines"] = None, {}
    timings["total"] = time.perf_counter() - t0
    report["timings_seconds"] = {k: round(v, 3) for k, v in timings.items()}
    report["notes"] = data.notes + loaded.notes
    _log_metrics(report, primary)

    artifacts = save_joblib(rd.path, model, plan, data)
    if predictions is not None:
        predictions.to_parquet(rd.file("predictions.parquet"), index=False)
    report["artifacts"] = artifacts
    rd.write_json("metrics.json", report)
    return RunResult(run_dir=rd.path, status="complete", task=data.task, metrics=report, model=model, plan=plan,
                     notes=report["notes"])


def _greater(metric: str) -> bool:
    from mlengine.evaluate.metrics import METRICS

    return METRICS[metric].greater_is_better


def _confusion(y_true: pd.Series, pred: np.ndarray, classes: list[Any]) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix

    m = confusion_matrix(y_true.to_numpy(), pred, labels=classes)
    return {"labels": classes, "matrix": m.tolist(), "rows": "true class", "columns": "predicted class"}


def _predictions_frame(data: Any, test_idx: np.ndarray, y_te: pd.Series, pred: np.ndarray,
                       proba: np.ndarray | None) -> pd.DataFrame:
    out: dict[str, Any] = {"row": test_idx}
    if data.ids is not None:
        out[str(data.ids.name)] = data.ids.iloc[test_idx].to_numpy()
    out["y_true"] = y_te.to_numpy()
    out["y_pred"] = pred
    if proba is not None:
        for j, cls in enumerate(data.classes):
            out[f"proba_{cls}"] = proba[:, j]
    frame = pd.DataFrame(out)
    if data.task != "regression":  # keep label columns one type for Parquet
        frame["y_true"] = frame["y_true"].astype(str) if frame["y_true"].dtype == object else frame["y_true"]
        frame["y_pred"] = frame["y_pred"].astype(type(data.classes[0])) if not isinstance(data.classes[0], str) \
            else frame["y_pred"].astype(str)
    return frame


def _log_metrics(report: dict[str, Any], primary: str) -> None:
    if report.get("cv"):
        cv = report["cv"][primary]
        log.info("cv %s: %.4f +/- %.4f", primary, cv["mean"], cv["std"])
    if report.get("holdout"):
        line = ", ".join(f"{k}={v:.4f}" for k, v in report["holdout"].items())
        log.info("holdout: %s", line)
        for name, scores in report.get("baselines", {}).items():
            log.info("baseline %s: %s=%.4f", name, primary, scores[primary])


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
