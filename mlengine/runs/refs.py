"""Run references: the one resolver behind every command that takes a run (`runs show|compare`, `replay`,
`predict`, `serve`, `drift`, `build-docker`, `load_model`).

Forms, tried in order:
- a run directory path (absolute or relative to the working directory);
- a run id as `mlengine runs list` prints it, looked up under the runs folder (`--runs-dir`, default `runs`):
  `<name>/<run id>` for a run, `<name>/sweeps/<sweep id>/<job run id>` for a sweep job, and any trailing part of
  one that names a single run (`<run id>`, `<sweep id>/<job run id>`, `job0-<...>`), so ids copied from older
  listings still resolve;
- `registry:/NAME@ALIAS` or `registry:/NAME/VERSION` (the local registry in the runs folder) and `models:/NAME@ALIAS`
  or `models:/NAME/VERSION` (an MLflow registry, with the `[tracking]` extra), for model references only.

The caller verifies the model files by sha256 as for any run directory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from mlengine.errors import UserError

REF_SCHEMES = ("registry:/", "models:/")
DEFAULT_RUNS_DIR = "runs"

PathLike = str | os.PathLike[str]


def is_registry_ref(ref: PathLike) -> bool:
    return isinstance(ref, str) and ref.startswith(REF_SCHEMES)


def is_run_dir(path: Path) -> bool:
    """A run directory: it has a status or manifest, or is still named `.<id>.incomplete` (interrupted)."""
    return path.is_dir() and ((path / "status.json").is_file() or (path / "manifest.json").is_file()
                              or (path.name.startswith(".") and path.name.endswith(".incomplete")))


def find_runs(root: Path) -> list[Path]:
    """Run directories under `root` (a runs folder, one run name's folder, a sweep folder, or a single run),
    sorted by path; the walk does not descend into run directories."""
    root = Path(root)
    if is_run_dir(root):
        return [root]
    runs: list[Path] = []
    for here, dirs, _ in os.walk(root):
        keep = []
        for d in sorted(dirs):
            p = Path(here) / d
            if is_run_dir(p):
                runs.append(p)
            elif d != ".jobs":
                keep.append(d)
        dirs[:] = keep
    return sorted(runs)


def run_id(run: Path) -> str:
    """The id `runs list` prints: `<name>/<run id>`, or `<name>/sweeps/<sweep id>/<job run id>` for a sweep job."""
    run = Path(run)
    if run.parent.parent.name == "sweeps":
        return f"{run.parent.parent.parent.name}/sweeps/{run.parent.name}/{run.name}"
    return f"{run.parent.name}/{run.name}"


def _folders(runs_dir: PathLike | Sequence[PathLike] | None) -> list[Path]:
    if runs_dir is None:
        return [Path(DEFAULT_RUNS_DIR)]
    if isinstance(runs_dir, (str, os.PathLike)):
        return [Path(runs_dir)]
    return list(dict.fromkeys(Path(d) for d in runs_dir if d is not None)) or [Path(DEFAULT_RUNS_DIR)]


def _matches(run: Path, ref: str) -> bool:
    ident = run_id(run)
    names = {ident, f"{ident.rsplit('/', 1)[0]}/{run.name.removeprefix('.').removesuffix('.incomplete')}"}
    return any(n == ref or n.endswith("/" + ref) for n in names)


def resolve_run_ref(ref: PathLike, runs_dir: PathLike | Sequence[PathLike] | None = None) -> Path:
    """The run directory `ref` names (a path, or an id from `runs list` under `runs_dir`); UserError if none or
    several match."""
    text = os.fspath(ref)
    path = Path(text).expanduser()
    if path.is_dir():
        return path.resolve()
    folders = _folders(runs_dir)
    ref_id = text.strip().strip("/")
    for folder in folders:
        if ref_id and (folder / ref_id).is_dir():
            return (folder / ref_id).resolve()
    hits: list[Path] = []
    if ref_id and not path.is_absolute():
        for folder in folders:
            if folder.is_dir():
                hits += [r for r in find_runs(folder) if _matches(r, ref_id) and r.resolve() not in hits]
        hits = list(dict.fromkeys(h.resolve() for h in hits))
    if len(hits) == 1:
        return hits[0]
    where = " or ".join(repr(str(f)) for f in folders)
    if len(hits) > 1:
        shown = ", ".join(run_id(h) for h in hits[:5]) + (", ..." if len(hits) > 5 else "")
        raise UserError(f"run {text!r} is ambiguous: {len(hits)} runs under {where} match it ({shown}); give the "
                        "full id that `mlengine runs list` prints.")
    raise UserError(f"run {text!r} not found: it does not exist as a directory, and no run under {where} has that "
                    "id. Give a run directory or an id that `mlengine runs list` prints (<name>/<run id>, or "
                    "<name>/sweeps/<sweep id>/<job run id> for a sweep job); pass --runs-dir when the runs are "
                    "elsewhere.")


def resolve_model_ref(ref: PathLike, runs_dir: PathLike | None = None, *, tracking_uri: str | None = None) -> Path:
    """A local run directory for `ref`: a path, a run id from `runs list`, `registry:/...` or `models:/...`.

    `registry:/` looks in `runs_dir`'s registry.json (default: `runs`); run ids are looked up under `runs_dir` too.
    `models:/` asks the MLflow registry at `tracking_uri` (default: env MLFLOW_TRACKING_URI) and downloads the
    version's run directory to a new temporary folder."""
    if isinstance(ref, str) and ref.startswith("registry:/"):
        from mlengine.tracking.registry import resolve

        return resolve(runs_dir or DEFAULT_RUNS_DIR, ref)
    if isinstance(ref, str) and ref.startswith("models:/"):
        from mlengine.tracking.models import download_model_ref

        return download_model_ref(ref, tracking_uri=tracking_uri)
    try:
        return resolve_run_ref(ref, runs_dir)
    except UserError as exc:
        raise UserError(f"model reference: {exc} Model references also take registry:/NAME@ALIAS, "
                        "registry:/NAME/VERSION, models:/NAME@ALIAS and models:/NAME/VERSION.") from None
