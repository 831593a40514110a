"""`mlengine replay RUN_DIR`: re-run a recorded run and prove it gives the same result.

Levels:
- `refit` (default): re-run the recorded resolved recipe. For a run with a search, the recorded `best_config`
  (recipe-key overrides) is pinned and the search is disabled (`search.trials=0`); when `best_config` names
  another model than the recipe, the recipe's `model.params` are dropped first (they were written for the
  other model). For a run without a search, the recorded recipe is re-run as it was.
- `search`: re-run the search itself with the recorded trial count (`search.trials` = trials actually run, plus
  the record's `search.replay_overrides`). A run without a search cannot be replayed at this level (exit 2).

Checks, in order: the record is complete and untouched (status, manifest schema and seal, artifact hashes); the
data fingerprint (stops here, saying what changed, if the data differs); environment differences (warnings);
then, after re-running into a separate directory (a new temporary folder or `--runs-dir`; the original run
directory is only read), metrics, the predictions hash, artifact hashes and (level search) the search itself.
Thread counts are pinned to the recorded ones (`model.n_jobs` and the native OpenMP/BLAS pools).
Exit 0 when identical or within `--tolerance`, 1 when the replay diverges, 2 on user error.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlengine.errors import ReplayMismatch, UserError
from mlengine.runs.compare import DIVERGED, FAILING, IDENTICAL, WITHIN, Check

log = logging.getLogger("mlengine")
LEVELS = ("refit", "search")


@dataclass
class ReplayReport:
    """The outcome of a replay: every check, the warnings, and where the replayed run is."""

    run_dir: Path
    level: str
    tolerance: float
    replay_dir: Path | None = None
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data_changes: list[str] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        results = {c.result for c in self.checks}
        if self.data_changes or results & FAILING:
            return "diverged"
        return "within_tolerance" if WITHIN in results else "identical"

    @property
    def ok(self) -> bool:
        return self.status != "diverged"

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else ReplayMismatch.exit_code

    def raise_for_status(self) -> None:
        if not self.ok:
            bad = self.data_changes or [f"{c.name}: {c.result}" for c in self.checks if c.result in FAILING]
            raise ReplayMismatch(f"replay of {self.run_dir} diverged: " + "; ".join(bad))

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "exit_code": self.exit_code, "run_dir": str(self.run_dir),
                "replay_dir": str(self.replay_dir) if self.replay_dir else None, "level": self.level,
                "tolerance": self.tolerance, "overrides": self.overrides, "data_changes": self.data_changes,
                "warnings": self.warnings, "checks": [c.as_dict() for c in self.checks]}

    def to_text(self) -> str:
        from mlengine.runs.compare import render_table

        lines = [f"replay of {self.run_dir} (level {self.level}, tolerance {self.tolerance:g})"]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"DATA CHANGED: {d}" for d in self.data_changes]
        if self.checks:
            lines.append(render_table(self.checks))
        if self.replay_dir:
            lines.append(f"replayed run: {self.replay_dir}")
        lines.append(f"result: {self.status.replace('_', ' ')} (exit {self.exit_code})")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------- the record ---
def check_record(run_dir: Path) -> dict[str, Any]:
    """The run directory is a complete, untouched run; returns its manifest."""
    from mlengine.records import sha256_file
    from mlengine.runs.manifest import read_manifest
    from mlengine.runs.rundir import read_status

    if not run_dir.exists():
        raise UserError(f"replay: run directory {str(run_dir)!r} does not exist.")
    if not run_dir.is_dir():
        raise UserError(f"replay: {str(run_dir)!r} is a file; give a run directory (runs/<name>/<run id>).")
    if run_dir.name.endswith(".incomplete"):
        raise UserError(f"replay: {str(run_dir)!r} is an interrupted run (still named .incomplete): it never "
                        "finished, so there is nothing to replay. Run the recipe again.")
    status = read_status(run_dir)
    if status["status"] == "failed":
        err = status.get("error") or {}
        raise UserError(f"replay: {str(run_dir)!r} is a failed run ({err.get('type', 'error')}: "
                        f"{err.get('message', '?')}); only complete runs can be replayed.")
    if status["status"] != "complete":
        inside = sorted(p.name for p in run_dir.iterdir() if p.is_dir())[:3]
        hint = f" It holds folders ({', '.join(inside)}): give one run directory." if inside else ""
        raise UserError(f"replay: {str(run_dir)!r} is not a complete run (no status.json saying complete)."
                        + hint)
    manifest = read_manifest(run_dir)
    for name, rec in manifest["artifacts"].items():
        p = run_dir / name
        if not p.is_file():
            raise UserError(f"replay: the run directory is incomplete: {name} (listed in manifest.json) is "
                            "missing.")
        if sha256_file(p) != rec["sha256"]:
            raise UserError(f"replay: {name} in {str(run_dir)!r} was changed after the run (its sha256 no longer "
                            "matches manifest.json); the record cannot be trusted.")
    return manifest


# ------------------------------------------------------------------------------------------- overrides ---
def set_key(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, last = dotted.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = value


def level_overrides(manifest: dict[str, Any], level: str) -> dict[str, Any]:
    """Recipe-key overrides a replay at `level` pins (see the module docstring)."""
    search = manifest.get("search")
    if level == "search":
        if not search:
            raise UserError(f"replay --level search: run {manifest['run']['id']} had no search (manifest search: "
                            "null), so there is no search to re-run. Use --level refit.")
        return {"search.trials": search["trials"], **(search.get("replay_overrides") or {})}
    if search:
        return {**search["best_config"], "search.trials": 0}
    return {}


def apply_overrides(resolved: dict[str, Any], overrides: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    data = copy.deepcopy(resolved)
    notes = []
    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    name = overrides.get("model.name")
    if name is not None and model.get("params"):
        # a trial's params are complete (the search built it from exactly these), so the recipe's own
        # model.params must not leak into the pinned best config, whichever model it names
        notes.append(f"model.params {model.pop('params')} of the recipe replaced by the best config's ({name})")
    for key, value in overrides.items():
        set_key(data, key, value)
    return data, notes


# ---------------------------------------------------------------------------------------------- threads ---
@contextlib.contextmanager
def pinned_pools(recorded: dict[str, int], model: str, task: str) -> Any:
    """Limit OpenMP/BLAS pools to the recorded sizes where they differ (libraries must be loaded to be limited)."""
    from mlengine.runs.environment import thread_pools
    from mlengine.sections.model import MODELS

    with contextlib.suppress(Exception):
        MODELS[model].estimator_class(task if task in MODELS[model].tasks else next(iter(MODELS[model].tasks)))
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)

    now = thread_pools()
    limits = {api: n for api, n in recorded.items() if api in now and now[api] != n and n > 0}
    if not limits:
        yield {}
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=limits):
        yield limits


# -------------------------------------------------------------------------------------------- replaying ---
def replay(run_dir: str | os.PathLike[str], level: str = "refit", data: list[str] | None = None,
           tolerance: float = 0.0, runs_dir: str | os.PathLike[str] | None = None,
           frame: Any = None) -> ReplayReport:
    """Replay a recorded run (a run directory, or an id `runs list` prints, looked up under `runs_dir` then
    runs/; see the module docstring); returns the report, never raises on divergence.

    A run trained on an in-memory DataFrame (`data.source.kind: frame`) records only its fingerprint: give the
    same rows again as `frame` (a DataFrame) or, from the CLI, `--data FILE` (a CSV/Parquet copy of them)."""
    from mlengine.recipe.load import LoadedRecipe
    from mlengine.recipe.validate import validate_config
    from mlengine.runs import compare as cmp
    from mlengine.runs.environment import compare_environments, environment
    from mlengine.runs.fingerprint import compare_fingerprints, compare_sources
    from mlengine.runs.locate import locate_base_dir, locate_files, parse_data_args, with_paths

    if level not in LEVELS:
        raise UserError(f"replay --level: {level!r} is not a level; allowed: {', '.join(LEVELS)}.")
    if tolerance < 0 or tolerance != tolerance:
        raise UserError(f"replay --tolerance: must be a number >= 0; got {tolerance!r}.")
    if not Path(run_dir).expanduser().exists():  # an id that `runs list` prints (see mlengine.runs.refs)
        from mlengine.runs.refs import resolve_run_ref

        run_dir = resolve_run_ref(run_dir, [runs_dir, "runs"] if runs_dir else None)
    run_dir = Path(run_dir).expanduser().resolve()
    manifest = check_record(run_dir)
    report = ReplayReport(run_dir=run_dir, level=level, tolerance=tolerance)
    overrides = level_overrides(manifest, level)
    threads = manifest["threads"]
    if threads["model_n_jobs"] != ((manifest["recipe"]["resolved"].get("model") or {}).get("n_jobs") or
                                   os.cpu_count() or 1):
        overrides["model.n_jobs"] = threads["model_n_jobs"]
    report.overrides = overrides

    # 1. the data, found again and fingerprinted before anything is fitted
    if manifest["data"]["source"]["kind"] == "frame":
        frame, data = _frame_for_replay(run_dir, frame, list(data or [])), []
    files = manifest["data"]["source"]["files"]
    found, notes = locate_files(files, run_dir, parse_data_args(list(data or []), files))
    for note in notes:
        log.info("data: %s", note)
    recipe_dict, model_notes = apply_overrides(with_paths(manifest["recipe"]["resolved"], found), overrides)
    report.warnings += model_notes
    base_dir = locate_base_dir(manifest["recipe"], run_dir)
    pinned = [f"{k}={json.dumps(v)}" for k, v in overrides.items()]
    try:
        recipe = validate_config(recipe_dict, source=f"the recipe recorded in {run_dir / 'manifest.json'}")
    except UserError as exc:
        raise UserError(f"replay: the recorded recipe does not validate with this mlengine: {exc}") from None
    # the recorded key order is kept, so recipe.yaml comes out byte-identical when the data path is the same
    loaded = LoadedRecipe(recipe=recipe, path=None, base_dir=base_dir, resolved=recipe_dict,
                          overrides=[*manifest["recipe"]["overrides"], *pinned], frame=frame)
    current = _fingerprint(loaded)
    report.data_changes = compare_fingerprints(manifest["data"], current)
    source_changes = compare_sources(manifest["data"]["source"], current["source"])
    if report.data_changes:
        report.checks.append(Check("data content", manifest["data"]["content_sha256"][:12],
                                   current["content_sha256"][:12], DIVERGED, "; ".join(report.data_changes)))
        report.warnings += source_changes
        return report
    report.checks.append(Check("data content", manifest["data"]["content_sha256"][:12],
                               current["content_sha256"][:12], IDENTICAL,
                               f"{current['rows']} rows, {current['n_columns']} columns"))
    report.warnings += [f"{c} (the table read from it is identical)" for c in source_changes]

    # 2. the environment: differences are warnings
    env_changes = compare_environments(manifest["environment"], environment())
    report.warnings += env_changes
    report.warnings += _git_change(manifest.get("git"))
    if overrides.get("model.n_jobs") is not None:
        report.warnings.append(f"model.n_jobs pinned to the recorded {threads['model_n_jobs']} threads "
                               f"(this machine has {os.cpu_count()} cores)")

    # 3. re-run into a separate directory, then compare
    report.replay_dir = _run(loaded, run_dir, runs_dir, threads["pools"], manifest, report)
    from mlengine.runs.manifest import read_manifest

    replayed = read_manifest(report.replay_dir)
    report.checks += cmp.compare_metrics(manifest["metrics"], replayed["metrics"], tolerance)
    report.checks.append(cmp.compare_predictions(manifest["predictions"], replayed["predictions"], run_dir,
                                                 report.replay_dir, tolerance))
    env_differs = any(not c.startswith("cpu_count") for c in env_changes)
    rebuilt = level == "refit" and bool(manifest.get("search"))
    report.checks += cmp.compare_artifacts(manifest["artifacts"], replayed["artifacts"], env_differs, rebuilt)
    if level == "search":
        report.checks += cmp.compare_search(manifest["search"], replayed.get("search"), tolerance)
    if runs_dir is None and report.ok:  # a temporary replay that matched: nothing to inspect, nothing left behind
        shutil.rmtree(report.replay_dir.parent.parent, ignore_errors=True)
        report.warnings.append("the replayed run matched and was removed; give --runs-dir to keep it")
        report.replay_dir = None
    return report


def _frame_for_replay(run_dir: Path, frame: Any, data: list[str]) -> Any:
    """The rows of a run trained on an in-memory DataFrame: the frame given again, or a file copy of it."""
    if frame is not None:
        return frame
    if len(data) == 1 and "=" not in data[0]:
        from mlengine.export.predict import read_table

        return read_table(data[0])
    raise UserError(f"replay: {run_dir.name} was trained on an in-memory DataFrame, which a run does not store; "
                    "give the same rows again: mlengine.replay(run_dir, frame=df), or --data FILE with a "
                    "CSV/Parquet copy of them (their fingerprint is checked).")


def _git_change(recorded: dict[str, Any] | None) -> list[str]:
    from mlengine.runs.environment import git_state

    now = git_state()
    if not recorded or not now or recorded.get("commit") == now.get("commit"):
        return []
    dirty = " (with uncommitted changes)" if recorded.get("dirty") else ""
    return [f"git commit: {str(recorded.get('commit'))[:10]}{dirty} recorded, {str(now.get('commit'))[:10]} now "
            "(the code may differ)"]


def _fingerprint(loaded: Any) -> dict[str, Any]:
    from mlengine.data.sources import read_source
    from mlengine.runs.fingerprint import fingerprint_table

    source = loaded.recipe.data.source
    return fingerprint_table(read_source(source, loaded.base_dir, frame=loaded.frame), source)


def _run(loaded: Any, run_dir: Path, runs_dir: Any, pools: dict[str, int], manifest: dict[str, Any],
         report: ReplayReport) -> Path:
    from mlengine.runner import run_recipe

    root = Path(runs_dir).expanduser().resolve() if runs_dir else Path(tempfile.mkdtemp(prefix="mlengine-replay-"))
    if root == run_dir or run_dir in root.parents:
        raise UserError(f"replay --runs-dir: {str(root)!r} is inside the run being replayed; the original run "
                        "directory is never written to. Choose another folder.")
    with pinned_pools(pools, manifest["model"]["name"], manifest["task"]) as limits:
        if limits:
            report.warnings.append("thread pools pinned to the recorded sizes: "
                                   + ", ".join(f"{k} {v}" for k, v in limits.items()))
        from mlengine.tracking.hook import tracking_disabled

        try:
            with tracking_disabled():  # a replay checks a run; it logs no MLflow run and moves no registry alias
                result = run_recipe(loaded, runs_dir=root)
        except BaseException:
            if not runs_dir:  # the error is reported; the temporary folder goes
                shutil.rmtree(root, ignore_errors=True)
            raise
    return Path(result.run_dir)
