"""The runner stage that writes `manifest.json` (see `mlengine.runs.manifest` for its keys).

`stage_manifest` runs after every artifact is written and just before `stage_finalize`, so it can hash every
artifact file in the run directory, whichever stage wrote it (model.onnx, report.html, leaderboard.csv, ...).
Paths are recorded twice: as run (absolute) and in portable form (inside the git repository, and relative to the
recipe's folder), so a committed run replays from a fresh clone at another path.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from mlengine.runs.manifest import MANIFEST_FILE, MANIFEST_VERSION, canonical_json, write_manifest
from mlengine.stages import stage

log = logging.getLogger("mlengine")

# Files that are not artifacts: logs, the status and metrics written after the manifest, the manifest itself.
NOT_ARTIFACTS = {MANIFEST_FILE, "status.json", "metrics.json"}


def _relative(path: str | os.PathLike[str], base: Path | None) -> str | None:
    """`path` relative to `base` in POSIX form ('..' allowed), or None."""
    if base is None:
        return None
    try:
        return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()
    except ValueError:  # another drive (Windows)
        return None


def _inside(path: str | os.PathLike[str], root: Path | None) -> str | None:
    if root is None:
        return None
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def artifact_hashes(run_path: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every artifact file in the run directory (recursively), by relative POSIX path."""
    from mlengine.records import sha256_file

    out = {}
    for p in sorted(run_path.rglob("*")):
        rel = p.relative_to(run_path).as_posix()
        if not p.is_file() or rel in NOT_ARTIFACTS or p.suffix in (".log", ".tmp"):
            continue
        out[rel] = {"sha256": sha256_file(p), "bytes": p.stat().st_size}
    return out


def portable_recipe(recipe: Any, files: list[dict[str, Any]]) -> dict[str, Any]:
    """The validated recipe with every default filled in and data file paths in their portable form."""
    data = recipe.model_dump(mode="json", by_alias=True)
    source = data["data"]["source"]
    portable = {f["key"]: f.get("path_in_repo") or f.get("path_from_recipe") or Path(f["path"]).name for f in files}
    if "data.source.path" in portable:
        source["path"] = portable["data.source.path"]
    for name in list(source.get("tables") or {}):
        source["tables"][name] = portable.get(f"data.source.tables.{name}", source["tables"][name])
    if "data.source.url" in portable:
        source["url"] = "sqlite:///" + portable["data.source.url"]
    return data


def recipe_sha256(recipe: Any, files: list[dict[str, Any]]) -> str:
    import hashlib

    return hashlib.sha256(canonical_json(portable_recipe(recipe, files)).encode()).hexdigest()


def seeds(plan: Any) -> dict[str, int | None]:
    """Every seed the run used; all derive from recipe.seed."""
    from mlengine.sections.model import MODELS

    spec = MODELS[plan.candidates[0].model]
    cv = plan.cv
    cv_seeded = cv.kind not in ("none", "time_series") and (cv.shuffle or cv.kind.startswith("repeated"))
    return {"recipe": plan.seed,
            "holdout_split": plan.seed if plan.holdout_fraction > 0 and plan.split.seeded else None,
            "cv": cv.seed if cv_seeded else None, "model": plan.seed if spec.seeded else None}


def search_record(ctx: Any) -> dict[str, Any] | None:
    """The manifest's `search`: `ctx.search` as a search stage sets it (the contract in mlengine.runs.manifest),
    else derived from a search summary in `metrics.json["search"]` (trials_run, best_overrides, history)."""
    if getattr(ctx, "search", None):
        return ctx.search
    summary = ctx.report.get("search")
    if not isinstance(summary, dict) or summary.get("best_overrides") is None:
        return None
    history = []
    for t in summary.get("history") or []:
        config = {"model.name": t.get("model"), **{f"model.params.{k}": v for k, v in (t.get("params") or {}).items()},
                  **(t.get("pipeline_params") or {})}
        history.append({"trial": t.get("trial"), "config": config, "score": t.get("mean"), "status": t.get("status")})
    record = {"trials": summary.get("trials_run", len(history)), "metric": summary.get("metric"),
              "best_trial": (summary.get("best") or {}).get("trial"), "best_config": summary["best_overrides"],
              "history": history, "replay_overrides": {}}
    if summary.get("time_budget"):  # replay the trial count that ran, not the clock
        record["replay_overrides"] = {"search.time_budget": None}
    return record


def build_manifest(ctx: Any) -> dict[str, Any]:
    """The manifest of a run context whose artifacts are written."""
    from mlengine.runs.determinism import predictions_record
    from mlengine.runs.environment import environment, git_root, git_state, thread_pools
    from mlengine.version import __version__

    loaded, rd, plan = ctx.loaded, ctx.rd, ctx.plan
    base_dir = Path(loaded.base_dir).resolve()
    repo = git_root(base_dir)
    fingerprint = dict(ctx.data_fingerprint or {})
    files = [dict(f) for f in (fingerprint.get("source") or {}).get("files", [])]
    for f in files:
        f["path_in_repo"] = _inside(f["path"], repo)
        f["path_from_recipe"] = _relative(f["path"], base_dir)
    if fingerprint:
        fingerprint["source"] = {**fingerprint["source"], "files": files}
    report = ctx.report
    return {
        "manifest_version": MANIFEST_VERSION,
        "mlengine_version": __version__,
        "run": {"id": rd.run_id, "name": ctx.recipe.name, "run_dir": str(rd.final),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(rd.started))},
        "recipe": {
            "sha256": recipe_sha256(ctx.recipe, files),
            "file": str(loaded.path) if loaded.path else None,
            "file_in_repo": _inside(loaded.path, repo) if loaded.path else None,
            "base_dir": str(base_dir), "base_dir_in_repo": _inside(base_dir, repo),
            "overrides": list(loaded.overrides),
            "resolved": loaded.resolved,
        },
        "data": fingerprint,
        "task": ctx.data.task,
        "seeds": seeds(plan),
        "threads": {"model_n_jobs": plan.n_jobs, "pools": thread_pools()},
        "environment": environment(),
        "git": git_state(),
        "model": {"name": ctx.candidate.model, "params": dict(ctx.candidate.params),
                  **({"early_stopping": report["early_stopping"]} if report.get("early_stopping") else {})},
        "search": search_record(ctx),
        "metrics": {k: report.get(k) for k in ("primary_metric", "greater_is_better", "cv", "holdout", "baselines")},
        "predictions": predictions_record(ctx),
        "artifacts": artifact_hashes(rd.path),
        "timings_seconds": {**{k: round(v, 3) for k, v in ctx.timings.items()},
                            "until_manifest": round(time.time() - rd.started, 3)},
    }


@stage(reads=("data", "plan", "data_fingerprint", "search", "candidate", "pred", "proba", "test_idx"))
def stage_manifest(ctx: Any) -> None:
    """Write manifest.json: inputs, environment, seeds, metrics, predictions and artifact hashes."""
    manifest = write_manifest(ctx.rd.path, build_manifest(ctx))
    pred = manifest["predictions"]
    log.info("manifest: data %s, predictions %s, %d artifacts hashed", manifest["data"]["content_sha256"][:12],
             pred["sha256"][:12] if pred else "-", len(manifest["artifacts"]))
