"""The environment a run depended on: package versions, Python, platform, threads, and the git state.

Replays compare these and list the differences as warnings: a different library version can legitimately move
results, and the warning says which one to suspect. Thread counts are recorded because some of them change
floating-point results; a replay pins them to the recorded values.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def package_versions() -> dict[str, str | None]:
    """Versions of the stack mlengine runs on (the same list the model bundle records)."""
    from mlengine.export.joblib_bundle import package_versions as _versions

    versions = dict(_versions())
    versions.pop("python", None)
    return versions


def thread_pools() -> dict[str, int]:
    """Threads of the native pools loaded now (user_api -> threads): OpenMP (LightGBM, scikit-learn), BLAS."""
    from threadpoolctl import threadpool_info

    pools: dict[str, int] = {}
    for info in threadpool_info():
        api = info.get("user_api")
        if api:
            pools[api] = max(pools.get(api, 0), int(info.get("num_threads") or 0))
    return pools


def blas_architecture() -> str | None:
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        if info.get("user_api") == "blas" and info.get("architecture"):
            return f"{info.get('internal_api')} {info.get('architecture')}"
    return None


def environment() -> dict[str, Any]:
    """Python, platform and package versions of this process."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.system(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "blas": blas_architecture(),
        "packages": package_versions(),
    }


def _git(cwd: Path, *args: str) -> str | None:
    try:
        res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def git_root(path: str | os.PathLike[str]) -> Path | None:
    """Top folder of the git work tree holding `path` (a folder), or None."""
    p = Path(path)
    if not p.is_dir():
        return None
    top = _git(p, "rev-parse", "--show-toplevel")
    return Path(top).resolve() if top else None


def git_state(path: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """Commit and dirty flag (tracked files modified) of the repo holding `path` (default: working directory)."""
    where = Path(path or Path.cwd())
    root = git_root(where)
    if root is None:
        return None
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {"root": str(root), "commit": commit, "dirty": bool(status) if status is not None else None}


def compare_environments(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Sentences naming each difference (package versions, Python, platform, threads)."""
    out = []
    for key in ("python", "implementation", "system", "machine", "blas", "cpu_count"):
        a, b = recorded.get(key), current.get(key)
        if a != b:
            out.append(f"{key}: {a} recorded, {b} now")
    ra, ca = recorded.get("packages") or {}, current.get("packages") or {}
    for name in sorted(set(ra) | set(ca)):
        a, b = ra.get(name), ca.get(name)
        if a != b:
            out.append(f"package {name}: {a or 'not installed'} recorded, {b or 'not installed'} now")
    return out
