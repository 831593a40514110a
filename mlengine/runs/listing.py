"""`mlengine runs list|show|compare`: the run directories under a runs folder, one run's record, two runs' diff.

Works on any run directory: complete runs read their manifest and metrics, failed runs their status, and a
directory still named `.incomplete` is listed as interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlengine.errors import UserError


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def find_runs(root: Path) -> list[Path]:
    """Run directories under `root` (a runs folder, one run name's folder, or a single run)."""
    if (root / "status.json").is_file() or (root / "manifest.json").is_file():
        return [root]
    runs = []
    for p in sorted(root.rglob("*")):
        if p.is_dir() and ((p / "status.json").is_file() or p.name.endswith(".incomplete")):
            runs.append(p)
    return runs


def summarize(run: Path) -> dict[str, Any]:
    """One row of `runs list`."""
    status = _read(run / "status.json") or {}
    manifest = _read(run / "manifest.json") or {}
    metrics = _read(run / "metrics.json") or manifest.get("metrics") or {}
    state = "interrupted" if run.name.endswith(".incomplete") else status.get("status", "incomplete")
    primary = metrics.get("primary_metric")
    value, where = None, None
    if primary and (metrics.get("holdout") or {}).get(primary) is not None:
        value, where = metrics["holdout"][primary], "holdout"
    elif primary and (metrics.get("cv") or {}).get(primary):
        value, where = metrics["cv"][primary]["mean"], "cv"
    started = status.get("started") or (manifest.get("run") or {}).get("started")
    return {"run": f"{run.parent.name}/{run.name}", "path": str(run), "status": state, "metric": primary,
            "value": value, "scored_on": where, "data": (manifest.get("data") or {}).get("content_sha256"),
            "started": started, "seconds": status.get("seconds"),
            "error": (status.get("error") or {}).get("message")}


def resolve_run(value: str, runs_dir: str) -> Path:
    p = Path(value)
    for candidate in (p, Path(runs_dir) / value):
        if candidate.is_dir():
            return candidate.resolve()
    raise UserError(f"run {value!r} not found: neither a directory nor <name>/<run id> under {runs_dir!r}. "
                    "See `mlengine runs list`.")


# -------------------------------------------------------------------------------------------------- list ---
def cmd_list(args: Any) -> int:
    root = Path(args.runs_dir)
    if not root.is_dir():
        raise UserError(f"runs folder {args.runs_dir!r} does not exist (runs go to runs/ by default, or "
                        "--runs-dir).")
    rows = sorted((summarize(r) for r in find_runs(root)), key=lambda r: (r["started"] or "", r["run"]))
    if args.json:
        print(json.dumps(rows, default=str))
        return 0
    if not rows:
        print(f"no runs under {root}")
        return 0
    table = [("run", "status", "metric", "data", "started", "seconds")]
    for r in rows:
        metric = f"{r['scored_on']} {r['metric']}={r['value']:.4f}" if r["value"] is not None else "-"
        table.append((r["run"], r["status"], metric, (r["data"] or "-")[:12], r["started"] or "-",
                      f"{r['seconds']:.1f}" if r["seconds"] is not None else "-"))
    print(_table(table))
    return 0


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(f"{str(c):<{w}}" for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


# -------------------------------------------------------------------------------------------------- show ---
def cmd_show(args: Any) -> int:
    run = resolve_run(args.run, args.runs_dir)
    row = summarize(run)
    manifest = _read(run / "manifest.json")
    if args.json:
        print(json.dumps({"summary": row, "manifest": manifest}, default=str))
        return 0
    lines = [f"run       {row['run']}  ({run})", f"status    {row['status']}"
             + (f": {row['error']}" if row["error"] else "")]
    if manifest:
        rec, data, env = manifest["recipe"], manifest["data"], manifest["environment"]
        lines += [f"recipe    {rec.get('file_in_repo') or rec.get('file') or '(dict)'}  sha256 {rec['sha256'][:12]}"
                  + (f"  overrides: {' '.join(rec['overrides'])}" if rec.get("overrides") else ""),
                  f"data      {data['rows']} rows x {data['n_columns']} columns, content {data['content_sha256'][:12]}"]
        lines += [f"          {f['key']}: {f.get('path_in_repo') or f['path']} (sha256 {str(f.get('sha256'))[:12]})"
                  for f in data["source"]["files"]]
        lines += [f"task      {manifest['task']}; model {manifest['model']['name']} {manifest['model']['params']}",
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


def compare_runs(a: Path, b: Path) -> dict[str, Any]:
    from mlengine.runs.fingerprint import compare_fingerprints

    ra, rb = _flat(_recipe_of(a)), _flat(_recipe_of(b))
    recipe = [{"key": k, "a": ra.get(k), "b": rb.get(k)} for k in dict.fromkeys([*ra, *rb]) if ra.get(k) != rb.get(k)]
    ma = _read(a / "metrics.json") or {}
    mb = _read(b / "metrics.json") or {}
    metrics = []
    for part in ("holdout", "cv"):
        xa, xb = ma.get(part) or {}, mb.get(part) or {}
        for name in dict.fromkeys([*xa, *xb]):
            va, vb = xa.get(name), xb.get(name)
            if part == "cv":
                va, vb = (va or {}).get("mean"), (vb or {}).get("mean")
            delta = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
            metrics.append({"metric": f"{part}.{name}" + (".mean" if part == "cv" else ""), "a": va, "b": vb,
                            "delta": delta})
    fa, fb = (_read(a / "manifest.json") or {}).get("data"), (_read(b / "manifest.json") or {}).get("data")
    data = compare_fingerprints(fa, fb) if fa and fb else ["no manifest: data fingerprint unknown"]
    return {"a": str(a), "b": str(b), "recipe_diff": recipe, "metrics": metrics, "data_diff": data}


def cmd_compare(args: Any) -> int:
    a, b = resolve_run(args.run_a, args.runs_dir), resolve_run(args.run_b, args.runs_dir)
    result = compare_runs(a, b)
    if args.json:
        print(json.dumps(result, default=str))
        return 0
    lines = [f"a: {a}", f"b: {b}", "", "recipe"]
    if result["recipe_diff"]:
        lines.append(_table([("key", "a", "b")] + [(d["key"], _show(d["a"]), _show(d["b"]))
                                                  for d in result["recipe_diff"]]))
    else:
        lines.append("  identical")
    lines += ["", "data: " + ("identical" if not result["data_diff"] else "; ".join(result["data_diff"])), "",
              "metrics"]
    rows = [("metric", "a", "b", "b - a")]
    for m in result["metrics"]:
        rows.append((m["metric"], _show(m["a"]), _show(m["b"]),
                     f"{m['delta']:+.4f}" if m["delta"] is not None else "-"))
    lines.append(_table(rows) if len(rows) > 1 else "  none recorded")
    print("\n".join(lines))
    return 0


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)
