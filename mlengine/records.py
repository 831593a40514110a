"""Small helpers every record writer uses: the sha256 of a file and a numpy scalar as its Python value.
A leaf, so the export, run-record and replay modules share one copy instead of three."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (models and data tables can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value (for JSON and a clean saved label); anything else unchanged."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "shape", None) == () else value
