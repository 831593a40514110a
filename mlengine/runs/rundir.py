"""The run directory: the unit of record.

A run is written under a hidden temporary name (`.<id>.incomplete`) and renamed to `<timestamp>-<id>` when it
ends. `status.json` says `complete` or `failed` (with the error); a directory still named `.incomplete` was
interrupted (killed) and is never mistaken for a result.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

STATUS_FILE = "status.json"


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name.strip())
    return keep.strip("-.") or "run"


class RunDir:
    """A run directory being written."""

    def __init__(self, runs_root: str | os.PathLike[str], name: str, parent: str | os.PathLike[str] | None = None,
                 prefix: str = ""):
        """Under `<runs_root>/<name>/`, or directly under `parent` (sweep jobs), named `<prefix><timestamp>-<id>`."""
        self.run_id = prefix + time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        self.parent = Path(parent).resolve() if parent else Path(runs_root).resolve() / _slug(name)
        self.final = self.parent / self.run_id
        self.path = self.parent / f".{self.run_id}.incomplete"
        try:
            self.path.mkdir(parents=True, exist_ok=False)
        except (NotADirectoryError, FileExistsError, PermissionError) as exc:
            from mlengine.errors import UserError

            blocker = next((p for p in [self.parent, *self.parent.parents] if p.exists() and not p.is_dir()), None)
            why = (f"{str(blocker)!r} is a file, not a folder" if blocker is not None
                   else f"it cannot be created ({exc.strerror})")
            raise UserError(f"runs directory {str(self.parent)!r}: {why}. Give --runs-dir (or tracking.runs_dir) "
                            "a folder that is writable or does not exist yet.") from None
        self.started = time.time()

    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, data: Any) -> Path:
        """Write JSON atomically (temp file + rename) so a reader never sees half a file."""
        target = self.file(name)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, default=_jsonable, allow_nan=True) + "\n", encoding="utf-8")
        tmp.replace(target)
        return target

    def write_text(self, name: str, text: str) -> Path:
        target = self.file(name)
        target.write_text(text, encoding="utf-8")
        return target

    def finish(self, status: str, error: dict[str, Any] | None = None) -> Path:
        """Record the status and move the directory to its final name."""
        info: dict[str, Any] = {"status": status, "run_id": self.run_id,
                                "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.started)),
                                "seconds": round(time.time() - self.started, 3)}
        if error:
            info["error"] = error
        self.write_json(STATUS_FILE, info)
        self.path.rename(self.final)
        self.path = self.final
        return self.final


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def read_status(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(run_dir) / STATUS_FILE
    if not path.is_file():
        return {"status": "incomplete"}
    return json.loads(path.read_text(encoding="utf-8"))
