"""`module:attr` paths, imported when first used: registries name heavy classes (LightGBM, imbalanced-learn
samplers) and hook factories this way so that `mlengine --help` and `validate` import none of them."""

from __future__ import annotations

from importlib import import_module
from typing import Any


def import_path(target: str) -> Any:
    """The object at `package.module:attr`."""
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)
