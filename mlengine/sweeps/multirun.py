"""Multirun sweeps through Hydra's own machinery (sweeper + launcher), one mlengine run per job.

`mlengine run RECIPE -m resample=none,smote model=lightgbm,logistic_regression` becomes a call of a
`hydra.main`-decorated task function with `--multirun` (Hydra's compose API cannot sweep: hydra issue 2673).
Hydra expands the cartesian product (choice and range sweeps included) and launches the jobs with the basic
launcher or any launcher plugin (`hydra/launcher=joblib` runs jobs in parallel processes). Each job re-composes
its recipe with mlengine's own loader from the job's overrides, so a sweep job is exactly the run that
`mlengine run RECIPE <the job's overrides>` would make, and writes a job record; the parent then builds
`sweep_summary.csv`. A failing job is recorded and the others go on.

Layout: `<runs_dir>/<name>/sweeps/<timestamp>-<id>/` holds one run directory per job (`job<N>-<run id>`),
`.jobs/<N>/job.json` records, and `sweep_summary.csv`.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from mlengine.errors import Problem, RecipeError
from mlengine.log import ENV_FORMAT
from mlengine.sweeps.labels import tidy_override, tidy_value

log = logging.getLogger("mlengine")

ENV_RECIPE = "MLENGINE_SWEEP_RECIPE"
ENV_SWEEP_DIR = "MLENGINE_SWEEP_DIR"
ENV_THREADS = "MLENGINE_SWEEP_THREADS"
ENV_QUIET = "MLENGINE_SWEEP_QUIET"
ENV_PLAIN = "MLENGINE_SWEEP_PLAIN_KEYS"  # keys the user wrote as key=value (shown without the ++ mlengine adds)


CONTEXT_FILE = ".jobs/context.json"


def _job(cfg: Any) -> None:
    """Hydra task function: run one job with the sweep's context; never raises, so the sweep goes on.

    The context (recipe path, quiet flag, tracking parent run...) is read from the sweep directory, not inherited
    from the environment: joblib's loky workers are reused across sweeps in one process and keep the environment of
    the first sweep that spawned them.
    """
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    context = json.loads((Path(hc.sweep.dir) / CONTEXT_FILE).read_text(encoding="utf-8"))
    saved = {k: os.environ.get(k) for k in context}
    os.environ.update(context)
    try:
        _run_job(hc)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run_job(hc: Any) -> None:
    from mlengine.log import setup_console
    from mlengine.recipe.load import load_recipe
    from mlengine.runner import run_recipe

    num = int(hc.job.num)
    # float ranges label (and run) the job with the value the user meant: 0.3, not 0.30000000000000004
    overrides = [tidy_override(o) for o in hc.overrides.task if not o.lstrip("+").startswith("hydra")]
    plain = set(json.loads(os.environ.get(ENV_PLAIN, "[]")))
    shown = [o.lstrip("+") if o.lstrip("+").split("=", 1)[0] in plain else o for o in overrides]
    record: dict[str, Any] = {"job": num, "overrides": shown, "status": "failed", "run_dir": None}
    sweep_dir = Path(os.environ[ENV_SWEEP_DIR])
    job_dir = sweep_dir / ".jobs" / str(num)
    job_dir.mkdir(parents=True, exist_ok=True)
    parallel = os.environ.get(ENV_THREADS) is not None  # set only for a parallel launcher
    setup_console(quiet=os.environ.get(ENV_QUIET) == "1", job=num if parallel else None)
    t = time.perf_counter()
    try:
        extra = []
        threads = os.environ.get(ENV_THREADS)
        if threads and not any(o.lstrip("+").startswith("model.n_jobs=") for o in overrides):
            extra = [f"++model.n_jobs={threads}"]  # parallel jobs share the cores: no oversubscription
        loaded = load_recipe(os.environ[ENV_RECIPE], [*overrides, *extra])
        log.info("sweep job %d: %s", num, " ".join(overrides) or "(no overrides)")
        result = run_recipe(loaded, run_parent=sweep_dir, run_prefix=f"job{num}-")
        record.update(status="complete", run_dir=str(result.run_dir))
    except BaseException as exc:  # recorded, never re-raised: the other jobs must finish
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["run_dir"] = str(getattr(exc, "run_dir", "") or "") or None
        log.error("sweep job %d failed: %s", num, exc)
    record["seconds"] = round(time.perf_counter() - t, 3)
    (job_dir / "job.json").write_text(json.dumps(record, indent=2), encoding="utf-8")


def _launcher_jobs(overrides: list[str]) -> int | None:
    """Parallel job count when a parallel launcher is chosen (None for the basic launcher)."""
    chosen = [o.split("=", 1)[1] for o in overrides if o.lstrip("+").startswith("hydra/launcher=")]
    if not chosen or chosen[-1] == "basic":
        return None
    n = [o.split("=", 1)[1] for o in overrides if o.lstrip("+").startswith("hydra.launcher.n_jobs=")]
    cores = os.cpu_count() or 1
    try:
        return min(int(n[-1]), cores) if n and int(n[-1]) > 0 else cores
    except ValueError:
        return cores


def validate_sweep(recipe: Path, overrides: list[str]) -> list[list[str]]:
    """Expand the sweep and validate every job's recipe before anything runs; returns the job override lists."""
    import itertools

    from mlengine.recipe.load import load_recipe, parse_overrides

    user = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    axes: list[list[str]] = []
    for ov in parse_overrides(user):
        if ov.is_sweep_override():
            prefix = ov.input_line[: len(ov.input_line) - len(ov.input_line.lstrip("+~"))]
            axes.append([f"{prefix}{ov.get_key_element()}={tidy_value(v)}" for v in ov.sweep_string_iterator()])
        else:
            axes.append([ov.input_line])
    jobs = [list(combo) for combo in itertools.product(*axes)]
    problems: list[Problem] = []
    for combo in jobs:
        try:
            load_recipe(recipe, combo)
        except RecipeError as exc:
            for p in exc.problems:
                problems.append(Problem(p.path, f"{p.message} (job: {' '.join(combo) or 'no overrides'})"))
    if problems:
        unique = list(dict.fromkeys(problems))
        raise RecipeError(unique, source=str(recipe))
    return jobs


def run_sweep(recipe: str | os.PathLike[str], overrides: list[str], runs_dir: str | os.PathLike[str] | None = None,
              quiet: bool = False, log_format: str | None = None) -> Any:
    """Run a Hydra multirun over `overrides`; returns the sweep summary DataFrame (also written to CSV)."""
    import hydra

    from mlengine.recipe.load import config_groups, configs_dir, plan_overrides, read_yaml
    from mlengine.sweeps.summary import build_summary

    recipe = Path(recipe).expanduser().resolve()
    if recipe.suffix != ".yaml":
        raise RecipeError(f"sweeps need a recipe file ending in .yaml; got {recipe.name!r}.")
    jobs = validate_sweep(recipe, overrides)
    raw = read_yaml(recipe)
    user = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    hydra_args = [o for o in overrides if o.lstrip("+~").startswith("hydra")]
    rewritten, _, _ = plan_overrides(raw, user, config_groups((recipe.parent,)), allow_sweeps=True)

    from mlengine.recipe.load import load_recipe

    base = load_recipe(recipe, jobs[0])
    root = Path(runs_dir or base.recipe.tracking.runs_dir).resolve()
    sweep_dir = root / base.recipe.name / "sweeps" / (time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3))
    sweep_dir.mkdir(parents=True)
    parallel = _launcher_jobs(hydra_args)
    plain = [o.split("=", 1)[0] for o in user if not o.startswith(("+", "~"))]
    env = {ENV_RECIPE: str(recipe), ENV_SWEEP_DIR: str(sweep_dir), ENV_QUIET: "1" if quiet else "0",
           ENV_PLAIN: json.dumps(plain), ENV_FORMAT: log_format or os.environ.get(ENV_FORMAT) or "text"}
    if parallel:
        env[ENV_THREADS] = str(max(1, (os.cpu_count() or 1) // parallel))
    from mlengine.tracking.sweeps import start_sweep_run

    tracked = start_sweep_run(base, sweep_dir, user, len(jobs))  # None unless tracking.uri is set
    if tracked:
        env.update(tracked.env)  # jobs (maybe in other processes) nest their runs under it
    (sweep_dir / ".jobs").mkdir()
    (sweep_dir / CONTEXT_FILE).write_text(json.dumps(env, indent=2), encoding="utf-8")
    log.info("sweep of %d jobs -> %s", len(jobs), sweep_dir)
    search = ",".join(f"file://{d}" for d in (recipe.parent, configs_dir()))
    argv = [
        "mlengine", "--multirun", "--config-dir", str(recipe.parent), "--config-name", recipe.stem,
        f"hydra.searchpath=[{search}]", f"hydra.sweep.dir={sweep_dir}", "hydra.sweep.subdir=.jobs/${hydra.job.num}",
        "hydra.job.chdir=False", "hydra.output_subdir=null", "hydra/job_logging=none", "hydra/hydra_logging=none",
        *hydra_args, *rewritten,
    ]
    saved_argv = sys.argv
    sys.argv = argv
    t = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hydra.main(config_path=None, config_name=None, version_base="1.3")(_job)()
    except SystemExit as exc:
        if exc.code not in (0, None):
            error = RecipeError(f"Hydra could not run the sweep (exit {exc.code}); see the message above.")
            if tracked:
                tracked.finish(error=error)
            raise error from None
    except BaseException as exc:
        if tracked:
            tracked.finish(error=exc)
        raise
    finally:
        sys.argv = saved_argv
    try:
        summary = build_summary(sweep_dir)
    except BaseException as exc:
        if tracked:
            tracked.finish(error=exc)
        raise
    summary.attrs["sweep_dir"] = str(sweep_dir)
    summary.attrs["seconds"] = round(time.perf_counter() - t, 3)
    if tracked:
        tracked.finish(summary)
    return summary


def sweep(recipe: str | os.PathLike[str], grid: dict[str, list[Any]], overrides: list[str] | None = None,
          runs_dir: str | os.PathLike[str] | None = None, launcher: str = "basic", n_jobs: int | None = None,
          quiet: bool = True) -> Any:
    """Library form: `sweep("r.yaml", {"resample": ["none", "smote"], "model": ["lightgbm", "ridge"]})`.

    Returns the sweep summary as a DataFrame (`.attrs["sweep_dir"]` says where it was written).
    """
    args = list(overrides or [])
    for key, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise RecipeError([Problem(key, f"sweep values must be a non-empty list; got {values!r}.")])
        args.append(f"{key}={','.join(_override_value(v) for v in values)}")
    if launcher != "basic":
        args.append(f"hydra/launcher={launcher}")
        if n_jobs:
            args.append(f"hydra.launcher.n_jobs={n_jobs}")
    return run_sweep(recipe, args, runs_dir=runs_dir, quiet=quiet)


def _override_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)
