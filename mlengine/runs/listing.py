"""`mlengine runs list|show|compare`: the run directories under a runs folder, one run's record, N runs side by side.

Works on any run directory: complete runs read their manifest and metrics, failed runs their status, and a
directory still named `.incomplete` is listed as interrupted. Every id `runs list` prints is accepted wherever a
run is taken (`mlengine.runs.refs.resolve_run_ref`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mlengine.errors import UserError
from mlengine.runs.refs import DEFAULT_RUNS_DIR, find_runs, resolve_run_ref, run_id
from mlengine.sweeps.labels import tidy_override

__all__ = ["find_runs", "resolve_run", "summarize", "compare_runs", "cmd_list", "cmd_show", "cmd_compare"]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def resolve_run(value: str, runs_dir: str | None) -> Path:
    """A run directory from a path or an id `runs list` printed (kept for callers of the old name)."""
    return resolve_run_ref(value, runs_dir)


def _overrides(run: Path, manifest: dict[str, Any]) -> list[str]:
    """The overrides the run was made with, as typed (`++` that mlengine adds to plain keys dropped)."""
    found = None
    if run.name.startswith("job") and run.parent.parent.name == "sweeps":  # the job record keeps them as typed
        job = _read(run.parent / ".jobs" / run.name[3:].split("-", 1)[0] / "job.json") or {}
        found = job.get("overrides")
    if found is None:
        found = (manifest.get("recipe") or {}).get("overrides")
    return [tidy_override(o.removeprefix("++")) for o in found or []]


def summarize(run: Path) -> dict[str, Any]:
    """One row of `runs list`: id, recipe name, status, shipped model, primary metric, overrides, data, time."""
    status = _read(run / "status.json") or {}
    manifest = _read(run / "manifest.json") or {}
    metrics = _read(run / "metrics.json") or manifest.get("metrics") or {}
    model_info = _read(run / "model.json") or {}
    state = "interrupted" if run.name.endswith(".incomplete") else status.get("status", "incomplete")
    primary = metrics.get("primary_metric")
    value, where = None, None
    if primary and (metrics.get("holdout") or {}).get(primary) is not None:
        value, where = metrics["holdout"][primary], "holdout"
    elif primary and (metrics.get("cv") or {}).get(primary):
        value, where = metrics["cv"][primary]["mean"], "cv"
    ident = run_id(run)
    recipe = (manifest.get("run") or {}).get("name") or ident.split("/", 1)[0]
    model = model_info.get("model") or (manifest.get("model") or {}).get("name")
    started = status.get("started") or (manifest.get("run") or {}).get("started")
    return {"run": ident, "path": str(run.resolve()), "recipe": recipe, "status": state, "model": model,
            "metric": primary, "value": value, "scored_on": where, "overrides": _overrides(run, manifest),
            "data": (manifest.get("data") or {}).get("content_sha256"), "started": started,
            "seconds": status.get("seconds"), "error": (status.get("error") or {}).get("message")}


# -------------------------------------------------------------------------------------------------- list ---
def list_root(args: Any) -> Path:
    """`--runs-dir DIR`, or the deprecated positional `runs list DIR` (same meaning; both must agree)."""
    legacy, flag = getattr(args, "legacy_dir", None), getattr(args, "runs_dir", None)
    if legacy is not None:
        if flag is not None and Path(flag) != Path(legacy):
            raise UserError(f"runs list: the folder is given twice ({legacy!r} and --runs-dir {flag!r}); give "
                            "only --runs-dir DIR (the positional DIR is a deprecated alias of it).")
        print(f"note: `mlengine runs list {legacy}` is deprecated; use `mlengine runs list --runs-dir {legacy}`.",
              file=sys.stderr)
        flag = legacy
    return Path(flag or DEFAULT_RUNS_DIR)


def cmd_list(args: Any) -> int:
    root = list_root(args)
    if not root.is_dir():
        raise UserError(f"runs folder {str(root)!r} does not exist (runs go to runs/ by default, or "
                        "--runs-dir DIR).")
    rows = sorted((summarize(r) for r in find_runs(root)), key=lambda r: (r["started"] or "", r["run"]))
    if getattr(args, "recipe", None):
        rows = [r for r in rows if r["recipe"] == args.recipe]
    if args.json:
        print(json.dumps(rows, default=str))
        return 0
    if not rows:
        print(f"no runs under {root}")
        return 0
    table = [("run", "recipe", "status", "model", "metric", "overrides", "data", "started", "seconds")]
    for r in rows:
        metric = f"{r['scored_on']} {r['metric']}={r['value']:.4f}" if r["value"] is not None else "-"
        table.append((r["run"], r["recipe"], r["status"], r["model"] or "-", metric,
                      _clip(" ".join(r["overrides"]) or "-", 80), (r["data"] or "-")[:12],
                      (r["started"] or "-").replace("T", " "),
                      f"{r['seconds']:.1f}" if r["seconds"] is not None else "-"))
    print(_table(table))
    return 0


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(f"{str(c):<{w}}" for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


# -------------------------------------------------------------------------------------------------- show ---
def cmd_show(args: Any) -> int:
    run = resolve_run_ref(args.run, args.runs_dir)
    row = summarize(run)
    manifest = _read(run / "manifest.json")
    if args.json:
        print(json.dumps({"summary": row, "manifest": manifest}, default=str))
        return 0
    lines = [f"run       {row['run']}  ({run})", f"recipe    {row['recipe']}", f"status    {row['status']}"
             + (f": {row['error']}" if row["error"] else "")]
    if row["overrides"]:
        lines.append(f"overrides {' '.join(row['overrides'])}")
    if manifest:
        rec, data, env = manifest["recipe"], manifest["data"], manifest["environment"]
        lines += [f"file      {rec.get('file_in_repo') or rec.get('file') or '(dict)'}  sha256 {rec['sha256'][:12]}",
                  f"data      {data['rows']} rows x {data['n_columns']} columns, content {data['content_sha256'][:12]}"]
        lines += [f"          {f['key']}: {f.get('path_in_repo') or f['path']} (sha256 {str(f.get('sha256'))[:12]})"
                  for f in data["source"]["files"]]
        lines += [f"task      {manifest['task']}; model {manifest['model']['name']} {manifest['model']['params']}"
                  + (f"; shipped {row['model']}" if row["model"] and row["model"] != manifest["model"]["name"]
                     else ""),
                  "seeds     " + ", ".join(f"{k} {v}" for k, v in manifest["seeds"].items()),
                  f"threads   model {manifest['threads']['model_n_jobs']}, pools {manifest['threads']['pools']}",
                  f"python    {env['python']} on {env['system']} {env['machine']} ({env.get('blas') or 'BLAS ?'})",
                  "packages  " + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)]
        git = manifest.get("git")
        if git:
            lines.append(f"git       {git.get('commit')}{' (dirty)' if git.get('dirty') else ''}")
        search = manifest.get("search")
        lines.append("search    " + (f"{search['trials']} trials, best {search['best_config']}" if search else "none"))
        pred = manifest.get("predictions")
        lines.append(f"preds     {pred['rows']} holdout rows, sha256 {pred['sha256'][:12]}" if pred else "preds     -")
        lines.append("artifacts " + ", ".join(f"{n} {a['sha256'][:12]}" for n, a in manifest["artifacts"].items()))
    if row["value"] is not None:
        lines.append(f"metric    {row['scored_on']} {row['metric']} = {row['value']:.4f}")
    print("\n".join(lines))
    return 0


# ----------------------------------------------------------------------------------------------- compare ---
def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _recipe_of(run: Path) -> dict[str, Any]:
    """The run's recipe with defaults filled in where the manifest allows it, else recipe.yaml as written."""
    import yaml

    manifest = _read(run / "manifest.json")
    resolved = manifest["recipe"]["resolved"] if manifest else None
    if resolved is None:
        path = run / "recipe.yaml"
        resolved = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    try:
        from mlengine.recipe.validate import validate_config

        return validate_config(resolved).model_dump(mode="json", by_alias=True)
    except Exception:  # a recipe this version no longer validates: compare it as written
        return resolved or {}


def _direction(name: str) -> bool | None:
    """True when higher is better for the metric `name` (None if unknown: no best column)."""
    try:
        from mlengine.evaluate.metrics import METRICS
    except Exception:  # pragma: no cover - the registry always imports in a working install
        return None
    spec = METRICS.get(name)
    return None if spec is None else bool(spec.greater_is_better)


def compare_runs(*runs: Path) -> dict[str, Any]:
    """Recipe keys that differ between any of the runs, the data fingerprint of each against the first, and every
    holdout / CV-mean metric side by side (with the best run and, per run, the difference to the first)."""
    from mlengine.runs.fingerprint import compare_fingerprints

    if len(runs) < 2:
        raise UserError(f"runs compare: give at least two runs; got {len(runs)}.")
    flats = [_flat(_recipe_of(r)) for r in runs]
    keys = dict.fromkeys(k for f in flats for k in f)
    recipe = [{"key": k, "values": [f.get(k) for f in flats]} for k in keys
              if any(f.get(k) != flats[0].get(k) for f in flats[1:])]
    all_metrics = [_read(r / "metrics.json") or {} for r in runs]
    metrics = []
    for part in ("holdout", "cv"):
        names = dict.fromkeys(n for m in all_metrics for n in (m.get(part) or {}))
        for name in names:
            values = [(m.get(part) or {}).get(name) for m in all_metrics]
            if part == "cv":
                values = [(v or {}).get("mean") for v in values]
            nums = [v if isinstance(v, (int, float)) else None for v in values]
            deltas = [None if v is None or nums[0] is None else v - nums[0] for v in nums]
            higher, best = _direction(name), None
            scored = [(v, i) for i, v in enumerate(nums) if v is not None and v == v]
            if higher is not None and len(scored) > 1:
                best = (max if higher else min)(scored)[1]
            metrics.append({"metric": f"{part}.{name}" + (".mean" if part == "cv" else ""), "values": values,
                            "deltas": deltas, "best": best})
    datas = [(_read(r / "manifest.json") or {}).get("data") for r in runs]
    data = []
    for r, d in zip(runs[1:], datas[1:], strict=True):
        diff = compare_fingerprints(datas[0], d) if datas[0] and d else ["no manifest: data fingerprint unknown"]
        data.append({"run": run_id(r), "diff": diff})
    return {"runs": [summarize(r) for r in runs], "recipe_diff": recipe, "metrics": metrics, "data_diff": data}


def cmd_compare(args: Any) -> int:
    if len(args.runs) < 2:
        raise UserError(f"runs compare: give at least two runs (ids from `mlengine runs list` or run directories); "
                        f"got {len(args.runs)}.")
    runs = [resolve_run_ref(r, args.runs_dir) for r in args.runs]
    result = compare_runs(*runs)
    if args.json:
        print(json.dumps(result, default=str))
        return 0
    tags = [f"#{i + 1}" for i in range(len(runs))]
    lines = ["runs", _table([(f"  {t}", s["run"], s["status"], s["model"] or "-", s["path"])
                             for t, s in zip(tags, result["runs"], strict=True)])]
    lines += ["", "recipe"]
    if result["recipe_diff"]:
        lines.append(_table([("key", *tags)] + [(d["key"], *(_plain(v) for v in d["values"]))
                                                for d in result["recipe_diff"]]))
    else:
        lines.append("  identical")
    lines += [""]
    for t, d in zip(tags[1:], result["data_diff"], strict=True):
        lines.append(f"data {t} vs #1: " + ("identical" if not d["diff"] else "; ".join(d["diff"])))
    lines += ["", "metrics"]
    deltas = [f"{t} - #1" for t in tags[1:]]
    rows = [("metric", *tags, *deltas, "best")]
    for m in result["metrics"]:
        rows.append((m["metric"], *(_show(v) for v in m["values"]),
                     *(f"{d:+.4f}" if d is not None else "-" for d in m["deltas"][1:]),
                     tags[m["best"]] if m["best"] is not None else "-"))
    lines.append(_table(rows) if len(rows) > 1 else "  none recorded")
    print("\n".join(lines))
    return 0


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def _plain(value: Any) -> str:
    """A recipe value as written (0.2, not 0.2000)."""
    if isinstance(value, float):
        return f"{value:.12g}"
    return "-" if value is None else str(value)
