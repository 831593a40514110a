"""Finding a recorded run's data again, on this machine, for a replay.

A run records each data file's absolute path, its path inside the git repository and its path relative to the
recipe's folder. A replay looks, in order: at `--data`, at the recorded absolute path, then at the repository
path and the file's trailing path parts under every folder above the run directory and the working directory
(so a run committed to a repository replays from a fresh clone at another path). A candidate whose sha256 matches
the record wins; otherwise the first file found is used and the fingerprint check says what changed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from mlengine.errors import DataError, UserError


def anchors(run_dir: Path) -> list[Path]:
    """Folders to resolve repository-relative paths against: those above the run dir, then the cwd's."""
    out: list[Path] = []
    for start in (run_dir.resolve(), Path.cwd().resolve()):
        for p in (start, *start.parents):
            if p not in out:
                out.append(p)
    return out


def _candidates(entry: dict[str, Any], places: list[Path]) -> list[Path]:
    out = [Path(entry["path"])]
    rel = [entry["path_in_repo"]] if entry.get("path_in_repo") else []
    parts = Path(entry["path"]).parts
    rel += [str(Path(*parts[-k:])) for k in range(min(4, len(parts) - 1), 0, -1)]
    for r in dict.fromkeys(rel):
        out += [a / r for a in places]
    return list(dict.fromkeys(out))


def parse_data_args(values: list[str], files: list[dict[str, Any]]) -> dict[str, Path]:
    """`--data PATH` (single-file sources) or `--data NAME=PATH` (SQL tables) -> recipe key -> path."""
    keys = [f["key"] for f in files]
    out: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if sep and f"data.source.tables.{name}" in keys:
            key = f"data.source.tables.{name}"
        elif len(keys) == 1:
            key, path = keys[0], value
        elif not keys:
            raise UserError(f"--data {value!r}: the recorded run read no data file (its source is not a file), so "
                            "there is nothing to point elsewhere.")
        else:
            tables = [k.removeprefix("data.source.tables.") for k in keys if k.startswith("data.source.tables.")]
            raise UserError(f"--data {value!r}: the run read {len(keys)} files; name the table as --data NAME=PATH "
                            f"(tables: {', '.join(tables)}).")
        p = Path(path).expanduser().resolve()
        if not p.is_file():
            raise DataError(f"--data: file {str(p)!r} does not exist.")
        out[key] = p
    return out


def locate_files(files: list[dict[str, Any]], run_dir: Path, given: dict[str, Path]) -> tuple[dict[str, Path],
                                                                                             list[str]]:
    """recipe key -> the file to read now, and notes on files found away from their recorded path."""
    from mlengine.records import sha256_file

    places = anchors(run_dir)
    found: dict[str, Path] = {}
    notes: list[str] = []
    for entry in files:
        key = entry["key"]
        if key in given:
            found[key] = given[key]
            notes.append(f"{key}: using {given[key]} (--data)")
            continue
        existing = [c for c in _candidates(entry, places) if c.is_file()]
        if not existing:
            tried = ", ".join(str(c) for c in _candidates(entry, places)[:3])
            raise DataError(f"{key}: the recorded data file {entry['path']!r} is missing (also looked for "
                            f"{entry.get('path_in_repo') or Path(entry['path']).name!r} above the run directory "
                            f"and the working directory, e.g. {tried}). Point the replay at it with --data PATH.")
        matching = [c for c in existing if entry.get("sha256") and sha256_file(c) == entry["sha256"]]
        found[key] = (matching or existing)[0].resolve()
        if str(found[key]) != str(Path(entry["path"])):
            notes.append(f"{key}: recorded at {entry['path']}, found at {found[key]}")
    return found, notes


def locate_base_dir(recipe_info: dict[str, Any], run_dir: Path) -> Path:
    """The recipe's folder (DuckDB resolves file names in queries against it), or the run dir if it is gone."""
    recorded = Path(recipe_info["base_dir"])
    if recorded.is_dir():
        return recorded
    rel = recipe_info.get("base_dir_in_repo")
    if rel is not None:
        for a in anchors(run_dir):
            if (a / rel).is_dir():
                return (a / rel).resolve()
    return run_dir.resolve()


def with_paths(resolved: dict[str, Any], found: dict[str, Path]) -> dict[str, Any]:
    """A copy of the resolved recipe whose data source reads the located files."""
    data = copy.deepcopy(resolved)
    source = data["data"]["source"]
    for key, path in found.items():
        if key == "data.source.path":
            source["path"] = str(path)
        elif key.startswith("data.source.tables."):
            source["tables"][key.removeprefix("data.source.tables.")] = str(path)
        elif key == "data.source.url":
            source["url"] = "sqlite:///" + str(path)
    return data
