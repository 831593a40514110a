"""The library API: the same operations as the CLI, for `import mlengine` users."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def load_recipe(path: str | os.PathLike[str] | dict[str, Any], overrides: list[str] | None = None,
                base_dir: str | os.PathLike[str] | None = None) -> Any:
    """Compose and validate a recipe (file path or dict); raises RecipeError listing every problem."""
    from mlengine.recipe.load import load_recipe as _load
    from mlengine.recipe.load import recipe_from_dict

    if isinstance(path, dict):
        if overrides:
            raise ValueError("overrides apply to recipe files; edit the dict instead")
        return recipe_from_dict(path, base_dir=base_dir)
    return _load(path, overrides)


def compile_recipe(recipe: Any, task: str | None = None) -> Any:
    """Recipe (loaded or path) -> Plan, without reading data."""
    from mlengine.plan import compile_recipe as _compile

    loaded = recipe if hasattr(recipe, "recipe") else load_recipe(recipe)
    return _compile(loaded.recipe, task=task)


def run(recipe: Any, overrides: list[str] | None = None, runs_dir: str | os.PathLike[str] | None = None,
        progress: bool = False, hooks: list[Any] | None = None, data: Any = None,
        resume: str | os.PathLike[str] | None = None) -> Any:
    """Run a recipe (path, dict or loaded recipe); returns a RunResult (metrics, run_dir, model).

    With progress=True, progress lines go to stderr as in the CLI: one line per search trial with the best so
    far and the time left, plus a redrawn bar when stderr is a terminal (never in a notebook, whose stderr is not). `hooks`: objects called at defined points of
    the run (see `mlengine.hooks`). `data`: a pandas DataFrame to train on instead of the recipe's data.source
    (a dict recipe may then leave data.source out). The run records the frame's fingerprint, not the frame:
    replaying it needs the same frame again, `mlengine.replay(run_dir, frame=df)`. `resume`: a run directory
    whose search this run continues (as `--resume`).
    """
    from mlengine.log import setup_console
    from mlengine.recipe.load import with_frame
    from mlengine.runner import run_recipe

    if progress:
        setup_console()
    if data is not None and isinstance(recipe, dict):
        import copy

        recipe = copy.deepcopy(recipe)
        recipe.setdefault("data", {}).setdefault("source", {"kind": "frame"})
    loaded = recipe if hasattr(recipe, "recipe") else load_recipe(recipe, overrides)
    if data is not None:
        loaded = with_frame(loaded, data)
    return run_recipe(loaded, runs_dir=runs_dir, hooks=hooks or (), resume=resume)


def load_model(run_dir: str | os.PathLike[str], format: str = "joblib", threads: int | None = None,
               runs_dir: str | os.PathLike[str] | None = None, tracking_uri: str | None = None) -> Any:
    """A run's verified model; `predict`/`predict_proba` take a DataFrame, a dict or a list of dicts of raw columns.

    run_dir: a run directory or a registry reference: `registry:/NAME@ALIAS`, `registry:/NAME/VERSION` (the local
    registry of `runs_dir`, default runs/), `models:/NAME@ALIAS`, `models:/NAME/VERSION` (MLflow at `tracking_uri`,
    default env MLFLOW_TRACKING_URI). format: joblib (the scikit-learn pipeline), onnx (model.onnx on onnxruntime;
    `threads` sets its thread count) or auto (onnx when the run has one). The artifact's sha256 is checked against
    model.json first.
    """
    from mlengine.export.loaded import load_model as _load_model
    from mlengine.runs.refs import resolve_model_ref

    path = resolve_model_ref(run_dir, runs_dir, tracking_uri=tracking_uri)
    return _load_model(Path(path), format=format, threads=threads)


def sweep(recipe: str | os.PathLike[str], grid: dict[str, list[Any]], overrides: list[str] | None = None,
          runs_dir: str | os.PathLike[str] | None = None, launcher: str = "basic", n_jobs: int | None = None,
          quiet: bool = True) -> Any:
    """Run a Hydra multirun over `grid` (key -> values); returns the sweep summary as a DataFrame.

    `launcher="joblib"` runs jobs in parallel processes (Hydra's joblib launcher); the summary's
    `.attrs["sweep_dir"]` is the sweep directory holding each job's run and sweep_summary.csv.
    """
    from mlengine.sweeps.multirun import sweep as _sweep

    return _sweep(recipe, grid, overrides=overrides, runs_dir=runs_dir, launcher=launcher, n_jobs=n_jobs,
                  quiet=quiet)


def replay(run_dir: str | os.PathLike[str], level: str = "refit", data: list[str] | None = None,
           tolerance: float = 0.0, runs_dir: str | os.PathLike[str] | None = None, frame: Any = None) -> Any:
    """Re-run a recorded run and compare (see `mlengine.runs.replay`); returns a ReplayReport (`.ok`,
    `.status`, `.checks`, `.raise_for_status()`), never raising on divergence. `frame`: the DataFrame again, for
    a run trained with `run(..., data=df)`."""
    from mlengine.runs.replay import replay as _replay

    return _replay(run_dir, level=level, data=data, tolerance=tolerance, runs_dir=runs_dir, frame=frame)
