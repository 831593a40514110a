"""What a tracked run logs to MLflow: everything comes from the run directory and the run's state.

Parent run: the resolved recipe flattened to params; tags (recipe hash, data fingerprint, git commit, mlengine
version, run_dir, the recipe's `tracking.tags`); CV, holdout, baseline and gate metrics; artifacts (report.html,
leaderboard, manifest.json, plan.txt, metrics.json); the model as a pyfunc (wrapping the verified joblib bundle,
see `pyfunc_model`) and as ONNX, each with a signature and input example built from the data contract (no
training rows) and explicit pip requirements (inference costs seconds per model). Children: one per search trial
(`leaderboard.csv`). Batches respect MLflow's limits (100 params / tags, 1000 metrics per call).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from mlengine.runs.metrics_record import gate_of

log = logging.getLogger("mlengine")

RUN_ARTIFACTS = ("report.html", "leaderboard.csv", "manifest.json", "plan.txt", "metrics.json", "model.json",
                 "status.json", "recipe.yaml")
PARAM_LIMIT = 6000  # MLflow's longest param value
TRIAL_STATUS = {"ok": "FINISHED", "pruned": "KILLED", "timeout": "KILLED"}


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """Nested dicts -> {"a.b.c": "value"}; lists and scalars as JSON text (truncated to MLflow's limit)."""
    out: dict[str, str] = {}
    if isinstance(data, dict) and data:
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    text = data if isinstance(data, str) else json.dumps(data, default=str)
    out[prefix.rstrip(".")] = text[:PARAM_LIMIT]
    return out


def log_batch(client: Any, run_id: str, params: dict[str, str] | None = None,
              metrics: list[tuple[str, float, int]] | None = None, tags: dict[str, str] | None = None) -> None:
    """Params, (name, value, step) metrics and tags in as few calls as MLflow's batch limits allow."""
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    p = [Param(k, v) for k, v in (params or {}).items()]
    m = [Metric(k, float(v), now, step) for k, v, step in (metrics or [])]
    t = [RunTag(k, str(v)[:PARAM_LIMIT]) for k, v in (tags or {}).items()]
    while p or m or t:
        client.log_batch(run_id, params=p[:100], metrics=m[:1000], tags=t[:100])
        p, m, t = p[100:], m[1000:], t[100:]


def run_metrics(report: dict[str, Any]) -> list[tuple[str, float, int]]:
    """cv.<m>.mean/std (+ per-fold steps), holdout.<m>, baseline.<b>.<m>, gate.passed and one per gate check."""
    out: list[tuple[str, float, int]] = []

    def add(name: str, value: Any, step: int = 0) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            out.append((name, float(value), step))

    for metric, summary in (report.get("cv") or {}).items():
        if isinstance(summary, dict):
            add(f"cv.{metric}.mean", summary.get("mean"))
            add(f"cv.{metric}.std", summary.get("std"))
            for step, fold in enumerate(summary.get("folds") or []):
                add(f"cv.{metric}.fold", fold, step)
    for metric, value in (report.get("holdout") or {}).items():
        add(f"holdout.{metric}", value)
    for baseline, scores in (report.get("baselines") or {}).items():
        for metric, value in (scores or {}).items():
            add(f"baseline.{baseline}.{metric}", value)
    gate = gate_of(report)
    if gate is not None:
        add("gate.passed", 1.0 if gate.passed else 0.0)
        for i, check in enumerate(gate.checks):
            add(f"gate.check_{i}.passed", 1.0 if check.passed else 0.0)
    search = report.get("search") or {}
    add("search.trials", search.get("trials") if isinstance(search, dict) else None)
    return out


def run_tags(loaded: Any, state: Any, run_dir: Path, error: BaseException | None) -> dict[str, str]:
    from mlengine.version import __version__

    manifest = _read_json(run_dir / "manifest.json") or {}
    tags = dict(loaded.recipe.tracking.tags)
    tags.update({"mlengine.version": __version__, "mlengine.run_dir": str(run_dir),
                 "mlengine.recipe": loaded.recipe.name})
    sha = (manifest.get("recipe") or {}).get("sha256")
    if sha:
        tags["mlengine.recipe_sha256"] = sha
    fingerprint = state.data_fingerprint or manifest.get("data") or {}
    if fingerprint.get("content_sha256"):
        tags["mlengine.data_sha256"] = fingerprint["content_sha256"]
    git = manifest.get("git") if manifest else _git(loaded)
    if git and git.get("commit"):
        tags["mlflow.source.git.commit"] = git["commit"]
        tags["mlengine.git_dirty"] = str(bool(git.get("dirty"))).lower()
    gate = gate_of(state.report)
    if gate is not None:
        tags["mlengine.gate"] = "passed" if gate.passed else "failed"
        tags["mlengine.gate_checks"] = json.dumps([c.model_dump() for c in gate.checks], default=str)
    if error is not None:
        tags["mlengine.error"] = f"{type(error).__name__}: {error}"
    return tags


def log_run(client: Any, run_id: str, loaded: Any, state: Any, *, error: BaseException | None, uri: str,
            log_trials: bool, register: Any, promote: bool) -> None:
    """Everything of one finished (or failed) mlengine run into MLflow run `run_id`."""
    run_dir = Path(state.rd.path)
    report = state.report or _read_json(run_dir / "metrics.json") or {}
    log_batch(client, run_id, params=flatten(loaded.resolved), metrics=run_metrics(report),
              tags=run_tags(loaded, state, run_dir, error))
    for name in RUN_ARTIFACTS:
        if (run_dir / name).is_file():
            client.log_artifact(run_id, str(run_dir / name), artifact_path="run")
    if log_trials and (run_dir / "leaderboard.csv").is_file():
        exp_id = client.get_run(run_id).info.experiment_id
        log_trial_runs(client, exp_id, run_id, run_dir / "leaderboard.csv", report.get("primary_metric"))
    if (run_dir / "model.json").is_file() and (run_dir / "model.joblib").is_file():
        from mlengine.tracking.models import log_models, register_version

        log_models(client, run_id, run_dir)
        if register is not None:
            gate = gate_of(report)
            passed = error is None and (gate is None or gate.passed)
            register_version(client, run_id, register.name, register.alias if promote and passed else None,
                             gate_passed=passed)


def log_trial_runs(client: Any, experiment_id: str, parent_id: str, leaderboard: Path, primary: str | None) -> int:
    """One child run per leaderboard row: model, params, per-fold metric (steps), status; returns the count."""
    import pandas as pd

    board = pd.read_csv(leaderboard)
    for row in board.to_dict("records"):
        trial = int(row["trial"])
        status = str(row.get("status") or "ok")
        tags = {"mlflow.parentRunId": parent_id, "mlengine.trial_status": status, "mlengine.trial": str(trial)}
        if isinstance(row.get("error"), str) and row["error"]:
            tags["mlengine.trial_note"] = row["error"]
        child = client.create_run(experiment_id, run_name=f"trial-{trial}", tags=tags)
        params = {"model": str(row.get("model"))}
        params.update({k.removeprefix("param."): str(v) for k, v in row.items()
                       if k.startswith("param.") and v == v and v is not None})
        metrics: list[tuple[str, float, int]] = []
        for key, value in row.items():
            if key.endswith("_mean") and isinstance(value, float) and value == value:
                metrics.append((key.removesuffix("_mean"), value, 0))
            elif key.endswith("_std") and isinstance(value, float) and value == value:
                metrics.append((key, value, 0))
        if primary and isinstance(row.get(f"{primary}_folds"), str):
            for step, fold in enumerate(json.loads(row[f"{primary}_folds"])):
                metrics.append((f"{primary}_fold", float(fold), step))
        if isinstance(row.get("seconds"), (int, float)):
            metrics.append(("seconds", float(row["seconds"]), 0))
        log_batch(client, child.info.run_id, params=params, metrics=metrics)
        client.set_terminated(child.info.run_id, TRIAL_STATUS.get(status, "FAILED"))
    return len(board)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _git(loaded: Any) -> dict[str, Any] | None:
    from mlengine.runs.environment import git_state

    try:
        return git_state(loaded.base_dir)
    except Exception:
        return None
