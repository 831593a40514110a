"""Model references: what `predict`, `serve`, `build-docker` and `load_model` accept in place of a run directory.

`resolve_model_ref(ref)` turns a reference into a local, completed run directory whose model files the caller then
verifies by sha256 as usual. Forms: a run directory path; `registry:/NAME@ALIAS` or `registry:/NAME/VERSION` (the
local registry in the runs folder); `models:/NAME@ALIAS` or `models:/NAME/VERSION` (an MLflow registry, with the
`[tracking]` extra). The registry forms are resolved by `mlengine.tracking.registry` and `mlengine.tracking.models`.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlengine.errors import UserError

REF_SCHEMES = ("registry:/", "models:/")


def is_registry_ref(ref: str | os.PathLike[str]) -> bool:
    return isinstance(ref, str) and ref.startswith(REF_SCHEMES)


def resolve_model_ref(ref: str | os.PathLike[str], runs_dir: str | os.PathLike[str] | None = None, *,
                      tracking_uri: str | None = None) -> Path:
    """A local run directory for `ref` (a path, `registry:/...` or `models:/...`).

    `registry:/` looks in `runs_dir`'s registry.json (default: `runs`). `models:/` asks the MLflow registry at
    `tracking_uri` (default: env MLFLOW_TRACKING_URI) and downloads the version's run directory to a new temporary
    folder. The caller verifies the model files by sha256 as for any run directory."""
    if isinstance(ref, str) and ref.startswith("registry:/"):
        from mlengine.tracking.registry import resolve

        return resolve(runs_dir or "runs", ref)
    if isinstance(ref, str) and ref.startswith("models:/"):
        from mlengine.tracking.models import download_model_ref

        return download_model_ref(ref, tracking_uri=tracking_uri)
    path = Path(ref)
    if not path.is_dir():
        raise UserError(f"model reference {str(ref)!r} is not a run directory (nor registry:/NAME@ALIAS or "
                        "models:/NAME@ALIAS).")
    return path
