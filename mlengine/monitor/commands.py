"""`mlengine drift RUN_DIR NEW_DATA`: drift of new rows against the run's reference.json (exit 3 on an alert)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mlengine.errors import UserError

ALERT_EXIT = 3


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("drift", help="compare new data with a run's reference profile (exit 3 on an alert)",
                       description="Per feature PSI (reference quantile bins, smoothed), KS (numeric) or "
                                   "chi-square (categorical) with p-values, Jensen-Shannon distance, missing-rate "
                                   "change, unseen categories and out-of-range share; drift of the model's scores. "
                                   "Thresholds: the run recipe's monitor section. Exit 0 no alert, 3 alert, 2 bad "
                                   "input.")
    p.add_argument("run_dir", help="a run directory, a run id from `runs list` (under runs/), or a model reference")
    p.add_argument("new_data", help="new rows: a .csv or .parquet file")
    p.add_argument("--labels", action="store_true",
                   help="the new data holds the target column: score the model on it too")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("-o", "--output", metavar="FILE", help="also write an offline HTML page to FILE and drift.json beside it")
    p.add_argument("--by", metavar="PERIOD", help="report each chunk: month, week or day of the time column "
                   "(--time-column, else the recipe's data.time), or a column whose values name the chunks")
    p.add_argument("--time-column", metavar="COL", help="the time column for --by month/week/day")
    p.add_argument("--no-model", action="store_true", help="skip prediction drift (do not load the model)")


def read_new_data(path: str) -> Any:
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise UserError(f"new data: {path!r} is not a file; give a .csv or .parquet file.")
    if p.suffix.lower() == ".csv":
        return pd.read_csv(p)
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    raise UserError(f"new data: {path!r} has suffix {p.suffix!r}; allowed: .csv, .parquet.")


def load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(reference.json, the recipe's monitor section as a dict)."""
    import yaml

    ref_path = run_dir / "reference.json"
    if not ref_path.is_file():
        raise UserError(f"{str(run_dir)!r} has no reference.json (runs made before drift monitoring have none); "
                        "re-run the recipe to record one.")
    recipe = yaml.safe_load((run_dir / "recipe.yaml").read_text()) if (run_dir / "recipe.yaml").is_file() else {}
    return json.loads(ref_path.read_text()), (recipe or {}).get("monitor") or {}


def model_scores(run_dir: Path, frame: Any, reference: dict[str, Any]) -> tuple[dict[str, Any], Any, Any]:
    """Scores in the reference's terms, plus (pred, proba) for label metrics."""
    import numpy as np

    from mlengine.export.loaded import load_model

    model = load_model(run_dir, "joblib")
    cols = model.input_columns
    X = frame[[c for c in cols if c in frame.columns]]
    pred = np.asarray(model.predict(X))
    proba = None
    out: dict[str, Any] = {}
    if model.task != "regression":
        proba = np.asarray(model.predict_proba(X), dtype=float)
        out["classes"] = [str(v) for v in pred]
        pos = model.bundle.get("positive_class")
        if model.task == "binary" and pos in model.classes:
            out["score"] = proba[:, model.classes.index(pos)]
    else:
        out["score"] = pred.astype(float)
    return out, pred, proba


def label_metrics(run_dir: Path, frame: Any, pred: Any, proba: Any) -> dict[str, Any]:
    """Metrics on the labelled new rows next to the run's holdout and baselines (metrics.json)."""
    import pandas as pd

    from mlengine.evaluate.metrics import score_all

    metrics = json.loads((run_dir / "metrics.json").read_text())
    target = json.loads((run_dir / "model.json").read_text()).get("target")
    if not target or target not in frame.columns:
        raise UserError(f"--labels: the new data has no target column {target!r}.")
    names = list((metrics.get("holdout") or {}).keys())
    classes = metrics.get("classes") or []
    y = frame[target]
    if classes:
        y = y.astype(type(classes[0])) if not isinstance(classes[0], str) else y.astype(str)
    keep = pd.notna(y).to_numpy()
    new = score_all(names, y.to_numpy()[keep], pred=pred[keep], proba=None if proba is None else proba[keep],
                    classes=classes, pos_label=metrics.get("positive_class"))
    return {"new": new, "holdout": metrics.get("holdout"), "baselines": metrics.get("baselines"),
            "rows": int(keep.sum())}


def run_drift(run_dir: Path, frame: Any, *, with_model: bool = True, labels: bool = False) -> dict[str, Any]:
    from mlengine.monitor.compare import Thresholds, compare_frame

    reference, monitor = load_run(run_dir)
    scores, pred, proba = ({}, None, None)
    if with_model:
        from mlengine.monitor.compare import check_columns

        check_columns(reference, frame)
        scores, pred, proba = model_scores(run_dir, frame, reference)
    result = compare_frame(reference, frame, Thresholds.from_recipe(monitor), scores)
    if labels:
        result["labels"] = label_metrics(run_dir, frame, pred, proba)
    return result


PERIODS = {"month": "M", "week": "W", "day": "D"}


def chunks(frame: Any, by: str, time_column: str | None, recipe_time: str | None) -> list[tuple[str, Any]]:
    """(label, rows) per period of the time column, or per value of the column `by`, in order."""
    import pandas as pd

    if by in PERIODS:
        col = time_column or recipe_time
        if not col:
            raise UserError(f"--by {by}: no time column; give --time-column COL (the recipe has no data.time).")
        if col not in frame.columns:
            raise UserError(f"--by {by}: the new data has no time column {col!r}.")
        times = pd.to_datetime(frame[col], errors="coerce", format="mixed")
        if times.isna().all():
            raise UserError(f"--by {by}: column {col!r} holds no readable dates.")
        keys = times.dt.to_period(PERIODS[by]).astype(str).where(times.notna(), "no date")
    elif by in frame.columns:
        keys = frame[by].astype(str)
    else:
        raise UserError(f"--by: {by!r} is neither a period (month, week, day) nor a column of the new data.")
    return [(str(k), frame[keys.to_numpy() == k]) for k in sorted(keys.unique())]


def format_table(result: dict[str, Any]) -> str:
    head = f"{'column':<24} {'status':<6} {'PSI':>7} {'JS':>6} {'test':>5} {'p-value':>9} {'miss ref':>8} " \
           f"{'miss new':>8} {'unseen':>7} {'out rng':>7}"
    lines = [f"drift: {result['rows']} new rows vs {result['reference_rows']} reference rows -> {result['status']}",
             head, "-" * len(head)]
    rows = [*[(c, e) for c, e in result["columns"].items()],
            *[(f"[prediction {k}]", e) for k, e in result["prediction"].items()]]
    for col, e in rows:
        lines.append(f"{col[:24]:<24} {e['status']:<6} {e['psi']:>7.4f} {e['js']:>6.3f} {e['test']:>5} "
                     f"{e['p_value']:>9.3g} {e['missing_ref']:>8.3f} {e['missing_new']:>8.3f} {e['unseen']:>7.3f} "
                     f"{e['out_of_range']:>7.3f}")
    if not result["enough_rows"]:
        lines.append(f"note: fewer than monitor.min_rows={result['thresholds']['min_rows']} new rows; no column "
                     "warns or alerts.")
    if "labels" in result:
        lab = result["labels"]
        for m, v in lab["new"].items():
            lines.append(f"{m}: new {v:.4f}  holdout {(lab['holdout'] or {}).get(m, float('nan')):.4f}")
    return "\n".join(lines)


def cmd_drift(args: argparse.Namespace) -> int:
    from mlengine.runs.refs import resolve_model_ref

    run_dir = resolve_model_ref(args.run_dir)
    frame = read_new_data(args.new_data)
    if args.by:
        return by_chunk(args, run_dir, frame)
    result = run_drift(run_dir, frame, with_model=not args.no_model, labels=args.labels)
    if args.output:
        from mlengine.monitor.page import write_page

        page = write_page(result, Path(args.output), title=f"Drift: {args.new_data} vs {run_dir.name}")
        page.with_name("drift.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(json.dumps(result, indent=2, default=float) if args.json else format_table(result))
    return ALERT_EXIT if result["status"] == "alert" else 0


def by_chunk(args: argparse.Namespace, run_dir: Path, frame: Any) -> int:
    """One drift result per chunk; a compact table of chunk x status and the worst columns."""
    import yaml

    recipe = yaml.safe_load((run_dir / "recipe.yaml").read_text()) or {}
    parts = chunks(frame, args.by, args.time_column, (recipe.get("data") or {}).get("time"))
    results = {label: run_drift(run_dir, rows, with_model=not args.no_model, labels=args.labels)
               for label, rows in parts}
    status = "alert" if any(r["status"] == "alert" for r in results.values()) else \
        "warn" if any(r["status"] == "warn" for r in results.values()) else "ok"
    out = {"by": args.by, "status": status, "chunks": results}
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).with_name("drift.json").write_text(json.dumps(out, indent=2, default=float) + "\n")
    if args.json:
        print(json.dumps(out, indent=2, default=float))
    else:
        print(f"{'chunk':<16} {'rows':>8} {'status':<6} drifting columns (PSI)")
        for label, r in results.items():
            cols = ", ".join(f"{c} ({e['psi']:.2f})" for c, e in r["columns"].items() if e["status"] != "ok")
            print(f"{label[:16]:<16} {r['rows']:>8} {r['status']:<6} {cols or '-'}")
    return ALERT_EXIT if status == "alert" else 0


HANDLERS = {"drift": cmd_drift}
