"""mlengine: declarative, YAML-driven AutoML for tabular data.

Public API (imported lazily so `import mlengine` and `mlengine --help` stay fast):
`load_recipe`, `compile_recipe`, `run`, `load_model`, `sweep`, `replay`, and the errors in `mlengine.errors`.
"""

from __future__ import annotations

from typing import Any

from mlengine.threads import apply_passive_wait
from mlengine.version import __version__

apply_passive_wait()  # before any OpenMP runtime loads (see mlengine/threads.py)

__all__ = ["load_recipe", "compile_recipe", "run", "load_model", "sweep", "replay", "__version__"]


def __dir__() -> list[str]:
    """The public API for tab completion (the names are imported lazily, so the module namespace alone hides them)."""
    return sorted(__all__)


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mlengine import api

        return getattr(api, name)
    raise AttributeError(f"module 'mlengine' has no attribute {name!r}")
