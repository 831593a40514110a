"""`manifest.json`: everything a run depended on and produced, sealed with its own hash.

Written by the runner stage `stage_manifest` (in `mlengine.runs.record`) just before `stage_finalize`; read and
checked by `mlengine replay` and `mlengine runs`. Top-level keys:

- `manifest_version`, `mlengine_version`, `run` (id, name, started, run_dir)
- `recipe`: `resolved` (the composed recipe as run, as in recipe.yaml), `sha256` (canonical JSON of the
  validated recipe with every default filled in and data paths in portable form), `file`, `base_dir` and their
  paths inside the git repository (`file_in_repo`, `base_dir_in_repo`), `overrides`
- `data`: the fingerprint of the table read (`mlengine.runs.fingerprint`): rows, columns with dtype and content
  hash, the source files with sha256 and portable paths (`path_in_repo`, `path_from_recipe`) or the SQL query
- `task`, `seeds` (every seed and where it goes), `threads` (`model_n_jobs`, native pool sizes)
- `environment` (Python, platform, BLAS, package versions), `git` (root, commit, dirty) or null
- `model` (the fitted candidate's name and params)
- `search`: null when the run had no search. Otherwise the search stage (issue 4) sets `RunContext.search` to:
  `trials` (int, trials actually run), `metric` (str), `best_trial` (int | null), `best_config` (dict of RECIPE-KEY
  OVERRIDES, e.g. {"model.name": "lightgbm", "model.params.num_leaves": 40, "resample.k_neighbors": 7}),
  `history` (list of {"trial": int, "config": {recipe key: value}, "score": float | null, ...}) and optionally
  `replay_overrides` (recipe-key overrides a `--level search` replay applies on top, e.g. to lift a time cap).
  `replay --level refit` re-runs the resolved recipe with `best_config` pinned and `search.trials=0`; so the
  run's final CV and holdout metrics must come from fitting `best_config` the way a search-less run fits
  `model.params` (stage_fit), or a refit replay will not match.
- `metrics` (primary metric, cv, holdout, baselines), `predictions` (canonical sha256 of the holdout
  predictions, `mlengine.runs.determinism`), `artifacts` (sha256 and size of every file in the run directory
  except logs, status.json, metrics.json and this file), `timings_seconds`
- `manifest_sha256`: sha256 of the canonical JSON of everything else; a hand edit breaks it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlengine.errors import UserError

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
SEAL_KEY = "manifest_sha256"


class ManifestError(UserError):
    """A run's manifest is missing, damaged, edited by hand or from a newer mlengine; exit 2."""


# --------------------------------------------------------------------------------------------- the schema ---
class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class RunInfo(_Part):
    id: str
    name: str
    started: str
    run_dir: str


class RecipeInfo(_Part):
    sha256: str = Field(min_length=64, max_length=64)
    resolved: dict[str, Any]
    file: str | None
    file_in_repo: str | None
    base_dir: str
    base_dir_in_repo: str | None
    overrides: list[str]


class SourceFile(_Part):
    key: str
    path: str
    sha256: str | None = None
    bytes: int | None = None
    path_in_repo: str | None = None
    path_from_recipe: str | None = None


class SourceInfo(_Part):
    kind: str
    files: list[SourceFile]


class ColumnInfo(_Part):
    dtype: str
    sha256: str
    block_rows: int
    blocks: list[str]


class DataInfo(_Part):
    form: str
    content_sha256: str
    rows: int = Field(ge=0)
    n_columns: int = Field(ge=0)
    columns: dict[str, ColumnInfo]
    source: SourceInfo


class ThreadsInfo(_Part):
    model_n_jobs: int
    pools: dict[str, int]


class EnvironmentInfo(_Part):
    python: str
    system: str
    machine: str
    packages: dict[str, str | None]


class TrialInfo(_Part):
    trial: int
    config: dict[str, Any]
    score: float | None = None


class SearchInfo(_Part):
    trials: int = Field(ge=0)
    metric: str
    best_trial: int | None = None
    best_config: dict[str, Any]
    history: list[TrialInfo]
    replay_overrides: dict[str, Any] = Field(default_factory=dict)


class ModelInfo(_Part):
    name: str
    params: dict[str, Any]


class MetricsInfo(_Part):
    primary_metric: str
    cv: dict[str, Any] | None
    holdout: dict[str, float] | None
    baselines: dict[str, dict[str, float]]


class PredictionsInfo(_Part):
    form: str
    rows: int
    sha256: str


class ArtifactInfo(_Part):
    sha256: str
    bytes: int


class Manifest(_Part):
    manifest_version: int
    mlengine_version: str
    run: RunInfo
    recipe: RecipeInfo
    data: DataInfo
    task: str
    seeds: dict[str, int | None]
    threads: ThreadsInfo
    environment: EnvironmentInfo
    git: dict[str, Any] | None
    model: ModelInfo
    search: SearchInfo | None
    metrics: MetricsInfo
    predictions: PredictionsInfo | None
    artifacts: dict[str, ArtifactInfo]
    timings_seconds: dict[str, float]
    manifest_sha256: str


# ------------------------------------------------------------------------------------------- read / write ---
def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True, ensure_ascii=True)


def seal(data: dict[str, Any]) -> str:
    """The manifest's self-hash: sha256 of the canonical JSON of everything but the seal."""
    body = {k: v for k, v in data.items() if k != SEAL_KEY}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def _json_copy(value: Any) -> Any:
    """JSON-ready copy (numpy scalars and arrays, paths -> plain values)."""
    from mlengine.runs.rundir import _jsonable

    return json.loads(json.dumps(value, default=_jsonable, allow_nan=True))


def write_manifest(run_path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Seal and write manifest.json atomically; returns the sealed manifest."""
    body = _json_copy({k: v for k, v in data.items() if k != SEAL_KEY})
    body[SEAL_KEY] = seal(body)
    target = Path(run_path) / MANIFEST_FILE
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(body, indent=2, allow_nan=True) + "\n", encoding="utf-8")
    tmp.replace(target)
    return body


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def read_manifest(run_dir: str | Path, check_seal: bool = True) -> dict[str, Any]:
    """Read, schema-check and (by default) seal-check a run's manifest; ManifestError says what is wrong."""
    path = Path(run_dir) / MANIFEST_FILE
    if not path.is_file():
        raise ManifestError(f"{str(Path(run_dir))!r} has no {MANIFEST_FILE}: the run was made before manifests "
                            "existed, or it did not complete. Re-run the recipe to get a replayable record.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} is not valid JSON ({exc}); the manifest is damaged.") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path} must hold a JSON object; got {type(data).__name__}.")
    version = data.get("manifest_version")
    if isinstance(version, int) and version > MANIFEST_VERSION:
        raise ManifestError(f"{path}: manifest_version {version} was written by a newer mlengine (this one reads "
                            f"version {MANIFEST_VERSION}); upgrade mlengine to replay it.")
    try:
        Manifest.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_location(e['loc'])}: {e['msg']}" + (f" (got {e['input']!r:.60})" if e["type"] != "missing"
                                                             else "") for e in exc.errors()[:8]]
        more = f" (and {exc.error_count() - 8} more)" if exc.error_count() > 8 else ""
        raise ManifestError(f"{path} does not match the manifest schema (version {MANIFEST_VERSION}): "
                            + "; ".join(problems) + more + ". Was it edited by hand?") from None
    if check_seal:
        digest = seal(data)
        if digest != data[SEAL_KEY]:
            raise ManifestError(f"{path} was changed after the run: its content no longer matches its "
                                f"{SEAL_KEY} (recorded {data[SEAL_KEY][:12]}..., content {digest[:12]}...). A "
                                "hand-edited record cannot be trusted; re-run the recipe to get a new one.")
    return data
