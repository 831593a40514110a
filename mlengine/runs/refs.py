"""Model references: what `predict`, `serve`, `build-docker` and `load_model` accept in place of a run directory.

`resolve_model_ref(ref)` turns a reference into a local, completed run directory whose model files the caller then
verifies by sha256 as usual. Forms: a run directory path; `registry:/NAME@ALIAS` or `registry:/NAME/VERSION` (the
local registry in the runs folder); `models:/NAME@ALIAS` or `models:/NAME/VERSION` (an MLflow registry, with the
`[tracking]` extra). The registry forms are filled in by `mlengine.tracking` (see its module docstring).
"""

from __future__ import annotations

import os
from pathlib import Path

from mlengine.errors import UserError

REF_SCHEMES = ("registry:/", "models:/")


def is_registry_ref(ref: str | os.PathLike[str]) -> bool:
    return isinstance(ref, str) and ref.startswith(REF_SCHEMES)


def resolve_model_ref(ref: str | os.PathLike[str], runs_dir: str | os.PathLike[str] | None = None) -> Path:
    """A local run directory for `ref` (a path, `registry:/...` or `models:/...`)."""
    if is_registry_ref(ref):
        raise UserError(f"model reference {ref!r}: registry references are not available in this build; "
                        "give a run directory instead.")
    path = Path(ref)
    if not path.is_dir():
        raise UserError(f"model reference {str(ref)!r} is not a run directory (nor registry:/NAME@ALIAS or "
                        "models:/NAME@ALIAS).")
    return path
