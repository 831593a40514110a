"""The `mlengine` command.

Exit codes (a public contract): 0 ok, 1 internal error, 2 user error (recipe, data, arguments), 3 quality gate
not met. User errors print one clear message and no traceback. Heavy libraries are imported inside commands, so
`mlengine --help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_INTERNAL, EXIT_USER, EXIT_GATE = 0, 1, 2, 3

DESCRIPTION = """Declarative AutoML for tabular data: one YAML recipe -> a trained, evaluated, exported model
and a run directory that records everything.

Overrides use Hydra's grammar after the recipe: key=value, +key=value, ~key, group=option
(e.g. `mlengine run recipes/titanic.yaml model=logistic_regression cv.folds=3`)."""

EPILOG = "Exit codes: 0 ok, 1 internal error, 2 user error (recipe, data, arguments), 3 quality gate not met."


# Command groups kept in their own packages (serving, tracking, monitoring): each module defines
# `add_parsers(sub)` and `HANDLERS` ({command: handler(args) -> exit code}) and imports nothing heavy at import.
COMMAND_MODULES: tuple[str, ...] = ("mlengine.tracking.commands", "mlengine.monitor.commands",
                                   "mlengine.serving.commands", "mlengine.serving.docker_commands")


def _command_modules() -> list[Any]:
    from importlib import import_module

    return [import_module(name) for name in COMMAND_MODULES]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on usage errors, as our contract says
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER, f"error: {message}\n")


def _recipe_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to a recipe YAML file")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="Hydra-style overrides")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mlengine", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("run", help="run a recipe: load, validate, fit, evaluate, export",
                       description="Run a recipe and write a run directory (recipe, plan, metrics, model, "
                                   "holdout predictions, log). Quick start from a table: `mlengine run data.csv "
                                   "--target y` runs the default recipe and saves it in the run directory.",
                       epilog=EPILOG)
    p.add_argument("recipe", help="a recipe YAML file, or a .csv/.parquet data file with --target")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="Hydra-style overrides")
    p.add_argument("--target", metavar="COL", help="with a data file: the column to predict")
    p.add_argument("--task", choices=["auto", "binary", "multiclass", "regression"],
                   help="with a data file: the task (default: inferred from the target)")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="with a data file: search models and parameters for this long (default: the default "
                        "model, no search)")
    p.add_argument("--runs-dir", help="root for run directories (default: tracking.runs_dir, 'runs')")
    p.add_argument("--json", action="store_true", help="print the run summary as one JSON object on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output (warnings and errors only)")
    p.add_argument("-v", "--verbose", action="store_true", help="more detail in the progress output")
    p.add_argument("--log-format", choices=["text", "json"], default=None,
                   help="progress lines as text (default) or one JSON object per line (also $MLENGINE_LOG_FORMAT)")
    p.add_argument("-m", "--multirun", action="store_true",
                   help="sweep: run every combination of comma-separated values (key=a,b), range(start,stop,step) "
                        "and group options through Hydra's multirun; hydra/launcher=joblib runs jobs in parallel")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the search of an earlier (interrupted) run from its leaderboard.csv: its finished "
                        "trials are replayed, then the search goes on as an uninterrupted one would (search.trials)")

    p = sub.add_parser("validate", help="check a recipe (and its data) without fitting anything",
                       description="Validate the whole recipe and report every problem at once; then read the data "
                                   "and run the data checks (unless --no-data). Exit 0 when valid, 2 otherwise.",
                       epilog=EPILOG)
    _recipe_args(p)
    p.add_argument("--no-data", action="store_true", help="skip reading the data")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")

    p = sub.add_parser("plan", help="print the compiled plan without reading data",
                       description="Compile the recipe into its plan: steps in order and where each is fitted, "
                                   "the estimator, CV, metrics and export. Reads no data.", epilog=EPILOG)
    _recipe_args(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON")

    p = sub.add_parser("configs", help="list the packaged config groups and their options",
                       description="List the config groups recipes can pick in `defaults:` or with group=option "
                                   "overrides, with each option's one-line description.")
    p.add_argument("group", nargs="?", help="only this group")
    p = sub.add_parser("predict", help="batch predictions from a run's model on a CSV or Parquet file",
                       description="Predict every row of DATA (CSV or Parquet) with the model of RUN_DIR and write "
                                   "OUT (CSV or Parquet, by extension), the id column (data.id) carried through. "
                                   "The model file's sha256 is checked against model.json before loading.",
                       epilog=EPILOG)
    p.add_argument("run_dir", help="a completed run directory, a run id that `runs list` prints (under --runs-dir), "
                                   "or registry:/NAME@ALIAS, registry:/NAME/VERSION, models:/NAME@ALIAS, "
                                   "models:/NAME/VERSION")
    p.add_argument("data", help="rows to predict: .csv, .parquet or .pq with the raw feature columns")
    p.add_argument("--runs-dir", default="runs", help="runs folder for run ids and registry:/ references "
                                                      "(default: runs)")
    p.add_argument("--tracking-uri", help="MLflow tracking URI for models:/ references (default: env "
                                          "MLFLOW_TRACKING_URI)")
    p.add_argument("-o", "--output", required=True, help="output file: .csv, .parquet or .pq")
    p.add_argument("--format", choices=["auto", "onnx", "joblib"], default="auto",
                   help="model to use: onnx (onnxruntime), joblib (scikit-learn); auto = onnx when the run has one")
    p.add_argument("--proba", action="store_true", help="add one proba_<class> column per class")
    p.add_argument("--chunk-rows", type=int, metavar="N", help="stream DATA N rows at a time (Parquet batches, CSV "
                   "chunks) for files larger than memory; contract violations are reported for the whole file")
    p.add_argument("-v", "--verbose", action="store_true", help="list the DATA columns the model ignores")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")

    p = sub.add_parser("profile", help="profile the recipe's data: data dictionary, PII scan, plots",
                       description="Read the recipe's data and write a data dictionary (profile.html, "
                                   "data_dictionary.md, profile.json): types, missing values, distinct counts, "
                                   "ranges, target balance, associations with the target, distributions, "
                                   "seasonality, the PII scan and an inferred data.schema. Fits nothing.",
                       epilog=EPILOG)
    _recipe_args(p)
    p.add_argument("-o", "--output", metavar="DIR", help="output folder (default: profiles/<recipe name>)")
    p.add_argument("--write-schema", action="store_true",
                   help="also write the inferred data.schema block to DIR/schema.yaml and print it")
    p.add_argument("--json", action="store_true", help="print the profile as JSON on stdout")

    p = sub.add_parser("report", help="(re)draw report.html of a run directory",
                       description="Render the run report (report.html) from a run directory's files.",
                       epilog=EPILOG)
    p.add_argument("run_dir", help="a run directory")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write (default: RUN_DIR/report.html)")

    sub.add_parser("models", help="list registered models", description="List the models a recipe can name.")
    sub.add_parser("metrics", help="list registered metrics", description="List the metrics a recipe can name.")
    _reproducibility_parsers(sub)
    for module in _command_modules():
        module.add_parsers(sub)
    return parser


def _reproducibility_parsers(sub: Any) -> None:
    """replay, init, runs (issue 7)."""
    p = sub.add_parser("replay", help="re-run a recorded run and check it gives the same result",
                       description="Replay a run directory: check the data fingerprint, list environment "
                                   "differences, re-run into a separate directory and compare metrics, the "
                                   "predictions hash and artifact hashes. Exit 0 identical (or within "
                                   "--tolerance), 1 diverged, 2 user error.", epilog=EPILOG)
    p.add_argument("run_dir", help="a run directory, or an id that `runs list` prints (looked up under --runs-dir, "
                                   "then runs/)")
    p.add_argument("--level", choices=["refit", "search"], default="refit",
                   help="refit: re-fit the recorded (best) config; search: re-run the search (default: refit)")
    p.add_argument("--data", action="append", default=[], metavar="PATH",
                   help="read the data from PATH instead of the recorded place (NAME=PATH for SQL tables)")
    p.add_argument("--tolerance", type=float, default=0.0, metavar="X",
                   help="accept metric and prediction differences up to X (default 0: identical)")
    p.add_argument("--runs-dir", help="where the replayed run goes (default: a new temporary folder)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.add_argument("-v", "--verbose", action="store_true", help="more detail in the progress output")
    p.add_argument("--log-format", choices=["text", "json"], default=None,
                   help="progress lines as text (default) or one JSON object per line (also $MLENGINE_LOG_FORMAT)")

    p = sub.add_parser("init", help="scaffold a new ML project (recipes, data, Makefile, CI)",
                       description="Create a project folder: recipes/ with a starter recipe on a bundled "
                                   "dataset, data/ with a data dictionary, runs/ (git-ignored), a Makefile with "
                                   "run / sweep / replay targets and a CI workflow that replays reference runs.",
                       epilog=EPILOG)
    p.add_argument("dir", help="the project folder (created if missing)")
    p.add_argument("--force", action="store_true",
                   help="scaffold into a non-empty folder (existing files are never overwritten)")
    p.add_argument("--mlengine-requirement", metavar="SPEC",
                   help="the pip requirement requirements.txt installs mlengine from (default: the checkout or "
                        "wheel this mlengine was installed from; also $MLENGINE_REQUIREMENT)")
    p.add_argument("--wheel", action="store_true",
                   help="put a wheel of that mlengine in DIR/wheels/ and install from it (commit it: CI then "
                        "installs the same mlengine)")

    p = sub.add_parser("runs", help="list, show and compare run directories",
                       description="Work with the run directories under a runs folder.", epilog=EPILOG)
    rs = p.add_subparsers(dest="runs_command", metavar="ACTION", parser_class=_Parser, required=True)
    ids = "a run directory, or an id that `runs list` prints (<name>/<run id>, <name>/sweeps/<sweep>/<job>)"
    q = rs.add_parser("list", help="table of runs: recipe, status, model, metric, overrides, data, time")
    q.add_argument("legacy_dir", nargs="?", metavar="DIR", help="deprecated alias of --runs-dir DIR")
    q.add_argument("--runs-dir", help="runs folder (default: runs)")
    q.add_argument("--recipe", metavar="NAME", help="only the runs of this recipe name")
    q.add_argument("--json", action="store_true", help="print the runs as JSON")
    q = rs.add_parser("show", help="one run's record: recipe, data, seeds, environment, metrics, artifacts")
    q.add_argument("run", help=ids)
    q.add_argument("--runs-dir", default="runs", help="runs folder the id is looked up in (default: runs)")
    q.add_argument("--json", action="store_true", help="print the manifest as JSON")
    q = rs.add_parser("compare", help="recipe diff, data diff and metrics of two or more runs, side by side")
    q.add_argument("runs", nargs="+", metavar="RUN", help=ids + "; two or more")
    q.add_argument("--runs-dir", default="runs", help="runs folder the ids are looked up in (default: runs)")
    q.add_argument("--json", action="store_true", help="print the comparison as JSON")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # overrides may come before or after the flags: positional leftovers join the overrides
    try:
        args, extra = parser.parse_known_args(argv)
        unknown = [a for a in extra if a.startswith("-")]
        if unknown or (extra and not hasattr(args, "overrides")):
            parser.error(f"unrecognized arguments: {' '.join(unknown or extra)}")
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if extra:
        args.overrides = [*args.overrides, *extra]
    if args.version:
        from mlengine.version import __version__

        print(f"mlengine {__version__}")
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_USER
    handler = {"run": cmd_run, "validate": cmd_validate, "plan": cmd_plan, "models": cmd_models,
               "metrics": cmd_metrics, "configs": cmd_configs, "predict": cmd_predict, "replay": cmd_replay,
               "init": cmd_init, "runs": cmd_runs, "profile": cmd_profile, "report": cmd_report}
    for module in _command_modules():
        handler.update(module.HANDLERS)
    return _guarded(handler[args.command], args)


def _marked(exc: BaseException | None) -> str:
    run_dir = getattr(exc, "run_dir", None)
    return f"\nrun directory (marked interrupted): {run_dir}" if run_dir else ""


def _guarded(handler: Any, args: argparse.Namespace) -> int:
    """Map exceptions to exit codes; user errors print their message only."""
    from mlengine.errors import MlengineError, RunInterrupted, UserError

    want_json = getattr(args, "json", False)
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"{sys.exc_info()[1] or 'interrupted'}" + _marked(sys.exc_info()[1]), file=sys.stderr)
        return 130
    except RunInterrupted as exc:
        print(f"{exc}{_marked(exc)}", file=sys.stderr)
        return 143
    except BrokenPipeError:  # the reader stopped early (`mlengine runs | head`): not an error, and no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's last flush of stdout does not fail either
        return EXIT_OK
    except MlengineError as exc:
        from mlengine.errors import QualityGateError

        kind = "error" if isinstance(exc, UserError) else type(exc).__name__
        # a failed gate says so itself ("gate failed: ..."); cmd_run has printed the metrics table before it
        print(str(exc) if isinstance(exc, QualityGateError) else f"{kind}: {exc}", file=sys.stderr)
        run_dir = getattr(exc, "run_dir", None)
        if run_dir:
            print(f"run directory (marked failed): {run_dir}", file=sys.stderr)
            if getattr(exc, "quick_start", False) and (Path(run_dir) / "recipe.yaml").is_file():
                print(f"recipe used: {Path(run_dir) / 'recipe.yaml'} (fix it as the error says and run: "
                      "mlengine run <that file>)", file=sys.stderr)
        if want_json:
            print(json.dumps({**getattr(exc, "summary", {}), "status": "failed", "error": str(exc),
                              "error_type": type(exc).__name__, "exit_code": exc.exit_code,
                              "run_dir": str(run_dir) if run_dir else None}, default=str))
        return exc.exit_code
    except Exception as exc:
        import traceback

        traceback.print_exc()
        run_dir = getattr(exc, "run_dir", None)
        print(f"internal error: {type(exc).__name__}: {exc}"
              + (f"\nrun directory (marked failed): {run_dir}" if run_dir else ""), file=sys.stderr)
        if want_json:
            print(json.dumps({"status": "failed", "error": f"{type(exc).__name__}: {exc}", "error_type": "internal",
                              "exit_code": EXIT_INTERNAL, "run_dir": str(run_dir) if run_dir else None}))
        return EXIT_INTERNAL


def cmd_run(args: argparse.Namespace) -> int:
    from mlengine.api import load_recipe
    from mlengine.errors import MlengineError, QualityGateError, UserError
    from mlengine.log import setup_console
    from mlengine.recipe.quickstart import default_recipe, is_data_file, write_recipe
    from mlengine.runner import RunResult, run_recipe

    setup_console(quiet=args.quiet or args.json, verbose=args.verbose, fmt=args.log_format)
    quick = is_data_file(args.recipe)
    if not quick and (args.target or args.task or args.time_budget is not None):
        raise UserError("--target, --task and --time-budget go with a data file (mlengine run data.csv --target y); "
                        "in a recipe they are data.target, task and search.time_budget.")
    if args.multirun:
        if quick:
            raise UserError("-m sweeps run a recipe file: start with `mlengine run data.csv --target y`, then sweep "
                            "the recipe it saves.")
        if args.resume:
            raise UserError("--resume continues one run's search; it cannot be combined with --multirun. Resume "
                            "each job's run directory with its own `mlengine run` command.")
        return _run_sweep(args)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mlengine-quick-") as scratch:
        path = (write_recipe(default_recipe(args.recipe, args.target, args.task, args.time_budget), Path(scratch))
                if quick else args.recipe)
        loaded = load_recipe(path, args.overrides)
        try:
            result = run_recipe(loaded, runs_dir=args.runs_dir, resume=args.resume)
        except MlengineError as exc:
            exc.quick_start = quick  # type: ignore[attr-defined]  # main() then names the saved recipe to edit
            if not isinstance(exc, QualityGateError) or not getattr(exc, "report", None):
                raise
            # a failed gate: the evidence first, the table (or the JSON summary), then the message
            result = RunResult(run_dir=exc.run_dir, status="failed", task=exc.report.get("task"), metrics=exc.report)
            if args.json:
                exc.summary = result.summary()  # type: ignore[attr-defined]
            else:
                print(format_summary(result))
            raise
    if args.json:
        print(json.dumps(result.summary(), default=str))
    else:
        print(format_summary(result))
        if quick:
            print(f"recipe used: {result.run_dir / 'recipe.yaml'} (edit it and run: mlengine run <that file>)")
    return EXIT_OK


def _run_sweep(args: argparse.Namespace) -> int:
    """Exit 0 when every job completed, 1 when some failed (each failure is listed)."""
    from mlengine.sweeps.multirun import run_sweep
    from mlengine.sweeps.summary import format_summary as format_sweep

    frame = run_sweep(args.recipe, args.overrides, runs_dir=args.runs_dir, quiet=args.quiet or args.json,
                      log_format=args.log_format)
    failed = int((frame["status"] != "complete").sum())
    if args.json:
        rows = json.loads(frame.to_json(orient="records"))
        print(json.dumps({"sweep_dir": frame.attrs["sweep_dir"], "jobs": rows, "failed": failed}))
    else:
        print(format_sweep(frame))
        print(f"sweep directory: {frame.attrs['sweep_dir']} ({len(frame)} jobs, {failed} failed)")
    return EXIT_OK if failed == 0 else EXIT_INTERNAL


def format_summary(result: Any) -> str:
    """The metrics table: the cv columns describe the saved model (calibrated/thresholded out-of-fold predictions
    when those steps are on), `cv before*` the model before them."""
    m = result.metrics
    primary = m["primary_metric"]
    lines = [f"task: {result.task}   judged by: {primary}"]
    names = list((m.get("holdout") or {}).keys()) or list((m.get("cv") or {}).keys())
    before = m.get("cv_uncalibrated") or {}
    header = f"{'metric':<20}{'cv mean':>10}{'cv std':>9}" + (f"{'cv before*':>12}" if before else "")
    header += f"{'holdout':>10}"
    baselines = list((m.get("baselines") or {}).keys())
    widths = {b: max(12, len(b) + 2) for b in baselines}  # long rule-baseline names keep a gap
    header += "".join(f"{b:>{widths[b]}}" for b in baselines)
    lines.append(header)
    for name in names:
        cv = (m.get("cv") or {}).get(name)
        row = f"{name:<20}"
        row += f"{cv['mean']:>10.4f}{cv['std']:>9.4f}" if cv else f"{'-':>10}{'-':>9}"
        if before:
            row += f"{before[name]['mean']:>12.4f}" if name in before else f"{'-':>12}"
        hold = (m.get("holdout") or {}).get(name)
        row += f"{hold:>10.4f}" if hold is not None else f"{'-':>10}"
        row += "".join(f"{m['baselines'][b].get(name, float('nan')):>{widths[b]}.4f}" for b in baselines)
        lines.append(row)
    if before:
        lines.append(f"cv: {(m.get('cv_describes') or {}).get('cv', 'the saved model')}")
        lines.append("cv before*: the model before calibration/threshold (out-of-fold, as cross-validated)")
    lines.append(f"run directory: {result.run_dir}")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    from mlengine.api import load_recipe

    loaded = load_recipe(args.recipe, args.overrides)
    info: dict[str, Any] = {"status": "valid", "recipe": str(loaded.path), "name": loaded.recipe.name,
                            "notes": loaded.notes}
    if not args.no_data:
        info["data"] = check_data(loaded)
    if args.json:
        print(json.dumps(info, default=str))
    else:
        for note in loaded.notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"recipe {loaded.recipe.name!r} is valid ({loaded.path})")
        if "data" in info:
            d = info["data"]
            print(f"data OK: {d['rows']} rows, {d['features']} features, task {d['task']}"
                  + (f", positive class {d['positive_class']!r}" if d.get("positive_class") is not None else ""))
            for note in d["notes"]:
                print(f"  {note}")
    return EXIT_OK


def check_data(loaded: Any) -> dict[str, Any]:
    """Read the data and run every data-dependent check a run would (the run's own stages up to the modelling
    checks: contract, personal data, types, task, split, target bins, CV feasibility), without fitting."""
    from mlengine.runner import check_recipe_data

    ctx = check_recipe_data(loaded)
    data, contract, pii = ctx.data, ctx.report.get("contract", {}), ctx.report.get("pii", {"findings": []})
    notes = list(data.notes)
    if contract.get("checks"):
        notes.append(f"data contract: {contract['checks']} checks, " + (
            "all passed" if contract["passed"] else f"{len(contract['violations'])} failed "
            f"(data.on_violation: {contract['on_violation']}, {contract['rows_dropped']} rows dropped)"))
    if pii["findings"]:
        notes.append(f"personal data: {', '.join(sorted({f['column'] for f in pii['findings']}))} "
                     f"(data.pii.action: {pii['action']})")
    return {"rows": len(data.y), "features": len(data.columns.features), "task": data.task,
            "positive_class": data.pos_label, "classes": data.classes[:20], "notes": notes,
            "warnings": data.warnings,
            "contract": contract, "pii": pii}


def cmd_plan(args: argparse.Namespace) -> int:
    from mlengine.api import load_recipe
    from mlengine.plan import compile_recipe

    loaded = load_recipe(args.recipe, args.overrides)
    plan = compile_recipe(loaded.recipe)
    if args.json:
        print(json.dumps(plan.to_dict(), default=str))
    else:
        for note in loaded.notes:
            print(f"note: {note}", file=sys.stderr)
        print(plan.to_text())
    return EXIT_OK


def cmd_configs(args: argparse.Namespace) -> int:
    from mlengine.errors import UserError, unknown_name
    from mlengine.recipe.load import config_groups, configs_dir, option_description

    groups = config_groups()
    if args.group and args.group not in groups:
        raise UserError(unknown_name("config group", args.group, groups))
    for group, options in groups.items():
        if args.group and group != args.group:
            continue
        print(f"{group}/")
        for opt in options:
            print(f"  {opt:<28}{option_description(configs_dir() / group / f'{opt}.yaml')}")
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    from mlengine.export.predict import predict_file
    from mlengine.runs.refs import resolve_model_ref

    run_dir = resolve_model_ref(args.run_dir, args.runs_dir, tracking_uri=args.tracking_uri)
    from mlengine.export.progress import ProgressLine

    progress = ProgressLine("predict") if args.chunk_rows is not None else None
    result = predict_file(run_dir, args.data, args.output, format=args.format, proba=args.proba,
                          chunk_rows=args.chunk_rows, progress=progress)
    if progress:
        progress.done()
    if result.contract and not result.contract["passed"]:
        from mlengine.export.chunked import ViolationReport

        print(f"warning: predict input: {ViolationReport.from_dict(result.contract).summary()}", file=sys.stderr)
    if args.verbose and result.ignored_columns:
        print(f"ignored columns: {', '.join(map(str, result.ignored_columns))}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({"rows": result.rows, "output": str(result.output), "format": result.format,
                          "ignored_columns": result.ignored_columns, "notes": result.notes,
                          **({"contract": result.contract} if result.contract else {})}, default=str))
    else:
        print(f"{result.rows} predictions ({result.format}) -> {result.output}")
    return EXIT_OK


def cmd_profile(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlengine.api import load_recipe
    from mlengine.data.profile import write_profile
    from mlengine.log import setup_console

    setup_console(quiet=args.json)
    loaded = load_recipe(args.recipe, args.overrides)
    out = Path(args.output) if args.output else Path("profiles") / loaded.recipe.name
    result = write_profile(loaded, out, write_schema=args.write_schema)
    prof = result["profile"]
    if args.json:
        print(json.dumps({"files": result["files"], **prof}, default=str))
        return EXIT_OK
    print(f"profile of {loaded.recipe.name!r}: {prof['rows']:,} rows, {len(prof['columns'])} columns, target "
          f"{prof['target']!r} ({prof['task']})")
    for f in prof["pii"]:
        print(f"  personal data? {f['column']}: {f['evidence']}", file=sys.stderr)
    if prof["possible_leaks"]:
        print(f"  possible leaks: {', '.join(prof['possible_leaks'])}", file=sys.stderr)
    for kind, path in result["files"].items():
        print(f"  {kind:<9}{path}")
    if args.write_schema:
        print(result["schema_block"], end="")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlengine.errors import UserError

    run_dir = Path(args.run_dir)
    if not (run_dir / "metrics.json").is_file():
        raise UserError(f"{str(run_dir)!r} is not a complete run directory (no metrics.json); give a directory "
                        "that `mlengine run` wrote.")
    from mlengine.report import render_report

    result = render_report(run_dir, out=args.output)
    for name, err in result.errors.items():
        print(f"warning: section {name} could not be drawn: {err}", file=sys.stderr)
    print(result.path)
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from mlengine.sections.model import MODELS

    for name, spec in MODELS.items():
        print(f"{name:<24}{spec.family:<10}{'/'.join(sorted(spec.tasks)):<32}{spec.description}")
    return EXIT_OK


def cmd_metrics(args: argparse.Namespace) -> int:
    from mlengine.evaluate.metrics import METRICS

    for name, m in METRICS.items():
        arrow = "higher" if m.greater_is_better else "lower"
        print(f"{name:<20}{'/'.join(sorted(m.tasks)):<28}{arrow + ' is better':<18}{m.description}")
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from mlengine.log import setup_console
    from mlengine.runs.replay import replay

    setup_console(quiet=args.quiet or args.json, verbose=args.verbose, fmt=args.log_format)
    report = replay(args.run_dir, level=args.level, data=args.data, tolerance=args.tolerance,
                    runs_dir=args.runs_dir)
    print(json.dumps(report.as_dict(), default=str) if args.json else report.to_text())
    return report.exit_code


def cmd_init(args: argparse.Namespace) -> int:
    from mlengine.scaffold import scaffold

    created = scaffold(args.dir, force=args.force, requirement=args.mlengine_requirement, wheel=args.wheel)
    for line in created.lines():
        print(line)
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    from mlengine.runs import listing

    return {"list": listing.cmd_list, "show": listing.cmd_show, "compare": listing.cmd_compare}[
        args.runs_command](args)


if __name__ == "__main__":
    raise SystemExit(main())
