"""The local model registry: `<runs_dir>/registry.json`, names -> numbered versions (run directories) + aliases.

Works without MLflow. `promote` adds a version (or reuses the run's existing one) and moves an alias to it;
refs `registry:/NAME@ALIAS` and `registry:/NAME/VERSION` resolve to the run directory (`mlengine.runs.refs`).
Only complete runs whose model verifies (sha256 against model.json) are promoted, so a run that failed its
quality gate (status failed) never is. The file is read-modified-written under an exclusive lock and replaced
atomically (written beside it, then renamed), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlengine.errors import UserError

REGISTRY_FILE = "registry.json"
LOCK_FILE = ".registry.lock"
FORMAT_VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def registry_path(runs_dir: str | os.PathLike[str]) -> Path:
    return Path(runs_dir) / REGISTRY_FILE


def read_registry(runs_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The registry (empty when the file does not exist yet)."""
    path = registry_path(runs_dir)
    if not path.is_file():
        return {"format_version": FORMAT_VERSION, "models": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"registry file {str(path)!r} is not valid JSON ({exc}); restore it from a backup.") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise UserError(f"registry file {str(path)!r} is not an mlengine registry (no 'models' mapping).")
    return data


def write_registry(runs_dir: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write atomically: a temporary file in the same folder, flushed, then renamed over the registry."""
    path = registry_path(runs_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


@contextmanager
def _locked(runs_dir: Path) -> Iterator[None]:
    import fcntl

    with open(runs_dir / LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def check_name(value: str, what: str) -> str:
    if not NAME_RE.match(value or ""):
        raise UserError(f"{what} {value!r} is not allowed: use letters, digits, '_', '.' and '-' (starting with a "
                        "letter or digit).")
    return value


def _verified_run(run_dir: Path) -> dict[str, Any]:
    """Check the run is complete and its model verifies; returns its summary fields."""
    from mlengine.export.joblib_bundle import read_bundle, verified_path
    from mlengine.runs.rundir import read_status

    status = read_status(run_dir)
    if status.get("status") != "complete":
        why = (status.get("error") or {}).get("message") or "no status.json"
        raise UserError(f"run {str(run_dir)!r} is not complete (status {status.get('status')!r}: {why}); only "
                        "complete runs that met their quality gate can be promoted.")
    bundle = read_bundle(run_dir)
    for name in ("model.joblib", "model.onnx"):
        if name in bundle.get("artifacts", {}):
            verified_path(run_dir, bundle, name)
    metrics_path = run_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    primary = metrics.get("primary_metric")
    return {"task": bundle.get("task"), "model": bundle.get("model"), "recipe_sha256": bundle.get("recipe_sha256"),
            "metric": primary, "holdout": (metrics.get("holdout") or {}).get(primary),
            "cv": ((metrics.get("cv") or {}).get(primary) or {}).get("mean")}


def _stored_path(run_dir: Path, root: Path) -> str:
    try:
        return run_dir.relative_to(root).as_posix()
    except ValueError:
        return str(run_dir)


def promote(runs_dir: str | os.PathLike[str], run_dir: str | os.PathLike[str], name: str,
            alias: str | None = None) -> dict[str, Any]:
    """Register `run_dir` as a version of `name` (its existing version if it has one) and point `alias` at it."""
    root = Path(runs_dir).resolve()
    run = Path(run_dir).resolve()
    check_name(name, "--name")
    if alias is not None:
        check_name(alias, "--alias")
        if alias.isdigit():
            raise UserError(f"--alias {alias!r}: an alias cannot be a number (NAME/NUMBER means a version).")
    info = _verified_run(run)
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        data = read_registry(root)
        model = data["models"].setdefault(name, {"versions": [], "aliases": {}})
        stored = _stored_path(run, root)
        existing = [v for v in model["versions"] if v["run_dir"] == stored]
        if existing:
            entry = existing[0]
        else:
            entry = {"version": max((v["version"] for v in model["versions"]), default=0) + 1, "run_dir": stored,
                     "registered": time.strftime("%Y-%m-%dT%H:%M:%S"), **info}
            model["versions"].append(entry)
        if alias:
            model["aliases"][alias] = entry["version"]
        write_registry(root, data)
    return {"name": name, "alias": alias, **entry, "path": str(run)}


def parse_ref(ref: str) -> tuple[str, str | None, int | None]:
    """NAME, NAME@ALIAS or NAME/VERSION (with or without `registry:/`) -> (name, alias, version)."""
    body = ref.removeprefix("registry:/")
    if "@" in body:
        name, _, alias = body.partition("@")
        return check_name(name, "registered model"), check_name(alias, "alias"), None
    name, _, version = body.partition("/")
    if version and not version.isdigit():
        raise UserError(f"model reference {ref!r}: expected NAME@ALIAS or NAME/VERSION (VERSION a number).")
    return check_name(name, "registered model"), None, int(version) if version else None


def lookup(runs_dir: str | os.PathLike[str], ref: str) -> dict[str, Any]:
    """The version entry `ref` names, with `path` (absolute run directory) and the model's aliases."""
    root = Path(runs_dir).resolve()
    name, alias, version = parse_ref(ref)
    data = read_registry(root)
    model = data["models"].get(name)
    if model is None:
        from mlengine.errors import did_you_mean

        known = ", ".join(sorted(data["models"])) or "none"
        raise UserError(f"model {name!r} is not in the registry {str(registry_path(root))!r}."
                        f"{did_you_mean(name, data['models'])} Registered: {known}.")
    if alias is not None:
        if alias not in model["aliases"]:
            raise UserError(f"model {name!r} has no alias {alias!r}; its aliases: "
                            f"{', '.join(sorted(model['aliases'])) or 'none'}.")
        version = model["aliases"][alias]
    if version is None:
        version = max(v["version"] for v in model["versions"])
    entries = [v for v in model["versions"] if v["version"] == version]
    if not entries:
        raise UserError(f"model {name!r} has no version {version}; versions: "
                        f"{', '.join(str(v['version']) for v in model['versions'])}.")
    entry = entries[0]
    path = Path(entry["run_dir"])
    path = path if path.is_absolute() else root / path
    aliases = sorted(a for a, v in model["aliases"].items() if v == version)
    return {"name": name, **entry, "aliases": aliases, "path": str(path)}


def resolve(runs_dir: str | os.PathLike[str], ref: str) -> Path:
    """The run directory of a `registry:/NAME@ALIAS` or `registry:/NAME/VERSION` reference."""
    entry = lookup(runs_dir, ref)
    path = Path(entry["path"])
    if not path.is_dir():
        raise UserError(f"model reference {ref!r} points at {str(path)!r}, which no longer exists (moved or "
                        "deleted); promote another run.")
    return path


def list_models(runs_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One row per version: name, version, aliases, run directory, metric."""
    data = read_registry(runs_dir)
    rows = []
    for name, model in sorted(data["models"].items()):
        for v in model["versions"]:
            aliases = sorted(a for a, n in model["aliases"].items() if n == v["version"])
            rows.append({"name": name, "version": v["version"], "aliases": aliases, "run_dir": v["run_dir"],
                         "metric": v.get("metric"), "holdout": v.get("holdout"), "registered": v.get("registered")})
    return rows
