"""Report sections about the run itself: headline, recipe, data and its checks, plan, search, export, replay."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlengine.report import plots
from mlengine.report.html import MISSING, Block, badge, esc, figure, fmt, notes, pre, table, tiles
from mlengine.report.rundata import RunData


def overview(run: RunData) -> Block:
    m = run.metrics
    primary = run.primary or "-"
    hold = (m.get("holdout") or {}).get(primary)
    cv = (m.get("cv") or {}).get(primary) or {}
    base = (m.get("baselines") or {}).get("no_skill", {}).get(primary)
    rows = m.get("rows") or {}
    items = [("holdout " + primary, fmt(hold), f"no-skill baseline {fmt(base)}" if base is not None else "")]
    if cv:
        saved = " (saved model)" if m.get("cv_uncalibrated") else ""
        items.append((f"cv {primary}{saved}", fmt(cv.get("mean")), f"± {fmt(cv.get('std'))} over "
                                                                   f"{len(cv.get('folds') or [])} folds"))
    items.append(("model", *_model_tile(run)))
    items.append(("rows", fmt(int(rows.get("train", 0)) + int(rows.get("holdout", 0))),
                  f"{fmt(rows.get('train'))} train / {fmt(rows.get('holdout'))} holdout"))
    contract = m.get("contract") or {}
    if contract.get("checks"):
        items.append(("data contract", "passed" if contract.get("passed") else
                      f"{len(contract.get('violations', []))} failed", f"{contract['checks']} checks"))
    pii = m.get("pii")
    if pii is not None:
        found = [f for f in pii.get("findings", []) if f["column"] not in pii.get("in_dropped_columns", [])]
        items.append(("personal data", "none found" if not found else f"{len(found)} column(s)",
                      f"action: {pii.get('action')}" if found else f"{pii.get('scanned', 0)} columns scanned"))
    status = run.status.get("status")
    direction = "higher" if run.greater_is_better else "lower"
    lead = (f"Judged by {primary} ({direction} is better)." + (f" Status: {status}." if status else "")
            + f" Run directory: {run.final}")
    body = f'<p class="shipped"><strong>Shipped:</strong> {esc(shipped(run))}</p>' + tiles(items)
    if hold is not None and base is not None:
        better = hold > base if run.greater_is_better else hold < base
        body += ("<p>" + (badge("beats the no-skill baseline", "ok") if better else
                          badge("does not beat the no-skill baseline", "fail")) + "</p>")
    body += _gate_and_warnings(m)
    return Block("overview", "Overview", body, lead)


def _default(section: str | None, key: str) -> Any:
    """The schema default of a recipe key: what a run uses when the resolved recipe leaves the key out."""
    from mlengine.recipe import schema

    if section is None:
        return schema.Recipe.model_fields[key].get_default(call_default_factory=True)
    return getattr(schema.Recipe.model_fields[section].get_default(call_default_factory=True), key)  # its default option


def _recipe_model(run: RunData) -> tuple[str, str]:
    """(the recipe's model name, its fixed params as text); a name the recipe leaves out is the schema default."""
    model = run.recipe.get("model") or {}
    name = model.get("name") or f"{_default('model', 'name')} (default)"
    params = model.get("params") or {}
    return name, _params(params, limit=99)


def _value(v: Any) -> str:
    """A hyperparameter as a person would type it: 0.05, not 0.05000; 0.3954755846549707 -> 0.3955."""
    v = _cell(v)
    if isinstance(v, float) and not isinstance(v, bool):
        return fmt(v).replace(",", "") if (v != v or v == round(v)) else f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)  # max_iter: 2000, as typed (no thousands separator)
    return fmt(v)


def _setting(v: Any) -> str:
    """A recipe value as YAML's flow style reads (no Python quotes): [a, b], {k: v}, numbers via `_value`."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_setting(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_setting(x) for x in v) + "]"
    if v is None or isinstance(v, bool):
        return {None: "null", True: "true", False: "false"}[v]
    return _value(v)


def _params(params: dict[str, Any], limit: int = 6) -> str:
    items = [f"{k}: {_value(v)}" for k, v in (params or {}).items()]
    return "{" + ", ".join(items[:limit]) + (", ..." if len(items) > limit else "") + "}" if items else ""


def _trial_models(run: RunData) -> dict[int, str]:
    lb = run.leaderboard
    col = next((c for c in ("model", "estimator") if lb is not None and c in lb.columns), None)
    if col is None or "trial" not in lb.columns:
        return {}
    return {int(t): str(m) for t, m in zip(lb["trial"], lb[col], strict=True)}


def shipped(run: RunData) -> str:
    """One line that reconciles the recipe's model, the plan and the search: what the saved model is and how it
    was chosen (the plan lists the recipe's model as a candidate; a search may replace it, an ensemble may combine
    trials, and calibration or a threshold may wrap the result)."""
    m = run.metrics
    name, params = _recipe_model(run)
    recipe_model = f"{name} {params}".strip()
    search = m.get("search") if isinstance(m.get("search"), dict) else None
    final = run.bundle.get("model") or (search or {}).get("final_model") or name
    best = (search or {}).get("best") or {}
    best_no = best.get("trial", best.get("number"))
    if search and (search.get("fallback") or {}).get("message"):
        line = (f"the recipe's model {recipe_model}, fitted without a search result: "
                f"{search['fallback']['message']}")
    elif search and best:
        estimators = ", ".join(map(str, search.get("estimators") or [])) or "the recipe's model"
        n = search.get("trials_run") or search.get("trials_ok")
        over = f"the search over {estimators}" + (f" ({n} trials)" if n else "")
        ens = search.get("ensemble") or {}
        if ens.get("kept"):
            weights = ens.get("weights")
            total = sum(weights) if weights else None
            models = _trial_models(run)
            members = ", ".join(
                f"{models.get(int(t), 'trial')} trial {t}" + (f" ({weights[i] / total:.0%})" if total else "")
                for i, t in enumerate(ens.get("members") or []))
            line = (f"a {ens['method']} ensemble of {len(ens.get('members') or [])} trials from {over}: {members}"
                    f"; it beat the best single trial ({best.get('model')}, trial {best_no}) on cv "
                    f"{search.get('metric')}, {fmt(ens.get('cv_mean'))} vs {fmt(ens.get('best_single_cv_mean'))}")
        else:
            line = (f"{best.get('model', final)} {_params(best.get('params') or {})}".strip()
                    + f", trial {best_no}, chosen by {over}")
            if ens.get("method"):
                line += f"; a {ens['method']} ensemble was tried and not kept"
        starts = search.get("estimators") or []
        if name in starts or not starts:
            line += f"; the recipe's model {recipe_model} was the start point (trial 1)"
        else:
            line += f"; the recipe's model {recipe_model} was not among the searched estimators"
    else:
        line = f"{final} {params}".strip() + ", as the recipe sets it (no search)"
    extras = []
    cal = m.get("calibration")
    if isinstance(cal, dict) and cal.get("method") and cal.get("method") != "none":
        extras.append(f"{cal['method']} calibration")
    th = m.get("threshold")
    if isinstance(th, dict) and th.get("threshold", th.get("value")) is not None:
        extras.append(f"decision threshold {fmt(th.get('threshold', th.get('value')))} ({th.get('objective')})")
    if extras:
        line += "; wrapped with " + " and ".join(extras)
    return line + "."


def _model_tile(run: RunData) -> tuple[str, str]:
    """(tile value, tile note) for the shipped model: an ensemble's long name becomes its method and members."""
    model = str(run.bundle.get("model") or _recipe_model(run)[0])
    if "(" in model and len(model) > 22:
        method, inner = model.split("(", 1)
        parts = [p.strip() for p in inner.rstrip(")").split(",") if p.strip()]
        counts = {p: parts.count(p) for p in dict.fromkeys(parts)}
        return (f"{method} ensemble", f"{len(parts)} members: "
                + ", ".join(f"{p} x{c}" if c > 1 else p for p, c in counts.items()) + f"; task {run.task}")
    return model, f"task {run.task}"


def _gate_and_warnings(m: dict[str, Any]) -> str:
    """The failed gate checks (what was measured, what was needed) and the warnings, e.g. worse than no-skill."""
    from mlengine.runs.metrics_record import gate_of

    gate, out = gate_of(m), ""
    if gate is not None and gate.checks:
        out += "<p>" + (badge("gate passed", "ok") if gate.passed else
                        badge("gate failed", "fail") + " " + esc(gate.message().removeprefix("gate failed: "))) \
            + "</p>"
    if m.get("warnings"):
        out += "<p>" + badge(f"{len(m['warnings'])} warning(s)", "warn") + "</p>" + notes(m["warnings"])
    return out


def recipe_section(run: RunData) -> Block | None:
    r = run.recipe
    text = run.text("recipe.yaml")
    if not text:
        return None
    d = r.get("data") or {}
    src = d.get("source") or {}
    where = src.get("path") or src.get("query") or src.get("name") or ""
    facts = [
        ("data", f"{src.get('kind', '?')}: {where}"),
        ("target", d.get("target")),
        ("roles", ", ".join(f"{k} {d[k]!r}" for k in ("id", "group", "time") if d.get(k)) or "none"),
        ("dropped columns", ", ".join(map(str, d.get("drop") or [])) or "none"),
        ("model (search start point)" if (r.get("search") or {}).get("estimators") or run.metrics.get("search")
         else "model", " ".join(_recipe_model(run)).strip()),
        ("cross-validation", f"{(r.get('cv') or {}).get('kind', 'auto')}, {(r.get('cv') or {}).get('folds', 5)} folds"),
        ("holdout", f"{(r.get('split') or {}).get('holdout', 0.2):.0%} ({(r.get('split') or {}).get('strategy', 'auto')})"),
        ("seed", r.get("seed") if r.get("seed") is not None else f"{_default(None, 'seed')} (default)"),
    ]
    option_key = {"resample": "method", "select": "method", "reduce": "method", "calibration": "method",
                  "threshold": "objective"}  # the key naming each section's chosen option
    for key in (*option_key, "search"):
        sec = r.get(key) or {}
        used = sec.get(option_key[key], "none") != "none" if key in option_key else bool(sec.get("trials"))
        if sec and used:
            facts.append((key, ", ".join(f"{k}: {_setting(v)}" for k, v in sec.items())))
    body = table(["setting", "value"], facts)
    body += f"<details><summary>Full resolved recipe (recipe.yaml)</summary>{pre(text)}</details>"
    return Block("recipe", "Recipe", body, "What was asked for, after defaults and overrides.")


def data_section(run: RunData) -> Block:
    m = run.metrics
    feats = m.get("features") or {}
    rows = [(kind, len(cols), ", ".join(map(str, cols[:25])) + (" ..." if len(cols) > 25 else ""))
            for kind, cols in feats.items() if cols]
    body = table(["kind", "columns", "names"], rows, numeric=(1,)) if rows else ""
    body += notes(m.get("notes") or [])
    body += "<h3>Data contract (data.schema)</h3>" + _contract(m.get("contract"))
    body += "<h3>Personal data (PII scan)</h3>" + _pii(m.get("pii"))
    if run.task != "regression" and m.get("confusion_matrix"):
        cm = m["confusion_matrix"]
        counts = np.asarray(cm["matrix"]).sum(axis=1)
        body += "<h3>Holdout class balance</h3>" + table(
            ["class", "rows", "share"], [(c, int(n), f"{n / max(counts.sum(), 1):.1%}")
                                         for c, n in zip(cm["labels"], counts, strict=False)], numeric=(1,))
    return Block("data", "Data", body, "Columns by kind, the contract result and the personal-data scan.")


def _contract(c: dict[str, Any] | None) -> str:
    if not c or not c.get("checks"):
        return '<p class="note">No contract declared: add rules under data.schema (nullable, ge, le, isin, regex, ' \
               "unique); `mlengine profile RECIPE --write-schema` proposes one.</p>"
    if c.get("passed"):
        return (f"<p>{badge('passed', 'ok')} {c['checks']} checks on {len(c.get('columns', []))} columns, "
                f"{fmt(c.get('rows'))} rows.</p>")
    head = (f"<p>{badge(str(len(c['violations'])) + ' checks failed', 'warn')} on "
            f"{fmt(c.get('rows_with_violations'))} of {fmt(c.get('rows'))} rows; data.on_violation: "
            f"<code>{esc(c.get('on_violation'))}</code>, rows dropped: {fmt(c.get('rows_dropped', 0))}.</p>")
    rows = [(f"data.schema.{v['column']}.{v['rule']}", v.get("allowed"), v["count"], ", ".join(v["examples"]))
            for v in c["violations"]]
    return head + table(["rule", "allowed", "rows", "examples"], rows, numeric=(2,))


def _pii(p: dict[str, Any] | None) -> str:
    if p is None:
        return '<p class="note">Not scanned in this run.</p>'
    findings = p.get("findings") or []
    if not findings:
        return f"<p>{badge('none found', 'ok')} {p.get('scanned', 0)} columns scanned.</p>"
    dropped = set(p.get("in_dropped_columns") or [])
    rows = [(f["column"], f["kind"], f"{f['share']:.0%}", ", ".join(f.get("examples") or []) or "-",
             "already in data.drop" if f["column"] in dropped else p.get("action"), f.get("evidence", ""))
            for f in findings]
    return (f"<p>{badge(str(len(findings)) + ' finding(s)', 'warn')} action: <code>{esc(p.get('action'))}</code>"
            f"; values are masked.</p>" + table(["column", "kind", "share", "examples (masked)", "outcome",
                                                 "evidence"], rows))


def plan_section(run: RunData) -> Block | None:
    text = run.text("plan.txt")
    if not text:
        return None
    lead = ("Every step in order and where it is fitted: nothing that learns from data sees validation or holdout "
            "rows.")
    if run.metrics.get("search"):
        lead += " The candidates are the search's start points; the overview's Shipped line says what was chosen."
    return Block("plan", "Plan", pre(text.rstrip()), lead)


def search_section(run: RunData) -> Block | None:
    """leaderboard.csv, one row per trial: `trial`; the score `<search metric>_mean` (or `score`, or the first
    `*_mean` column); optional `rank`, `model` (or `estimator`), `status` (`ok` = finished), `<metric>_std`,
    `seconds`, `error`, `param.*`; metrics.json["search"] gives {metric, greater_is_better}."""
    lb = run.leaderboard
    if lb is None or not len(lb):
        return None
    search = run.metrics.get("search") or {}
    metric = search.get("metric") or run.primary
    candidates = (f"{metric}_mean", "score", f"{run.primary}_mean", "mean")
    score_col = next((c for c in candidates if c in lb.columns), None) or next(
        (c for c in lb.columns if c.endswith("_mean")), None)
    gib = search.get("greater_is_better", run.greater_is_better)
    status = lb["status"].astype(str).str.lower() if "status" in lb.columns else None
    ok = status.isin(["ok", "success", "done", "complete", "completed"]).to_numpy() if status is not None \
        else np.ones(len(lb), dtype=bool)
    pruned = int(np.sum(status == "pruned")) if status is not None else 0
    rest = len(lb) - int(np.sum(ok)) - pruned
    body = (f"<p>{len(lb)} trials, {int(np.sum(ok))} finished"
            + (f", {pruned} pruned (behind the best on their first folds)" if pruned else "")
            + (f", {rest} failed or stopped" if rest else "") + ".</p>")
    if (search.get("fallback") or {}).get("message"):  # no trial finished within the budget: what was fitted
        body += f"<p><strong>Fallback.</strong> {esc(search['fallback']['message'])}.</p>"
    group_col = next((c for c in ("model", "estimator") if c in lb.columns), None)
    if score_col is not None and np.any(ok):
        good = lb[ok].copy()
        good = good.sort_values("trial") if "trial" in good.columns else good
        trial = good["trial"].to_numpy() if "trial" in good.columns else np.arange(1, len(good) + 1)
        score = good[score_col].astype(float).to_numpy()
        best = np.maximum.accumulate(score) if gib else np.minimum.accumulate(score)
        groups = good[group_col].astype(str).tolist() if group_col else ["trial"] * len(good)
        body += figure(plots.trials(trial, score, groups, best, metric or score_col), "search trials",
                       f"{metric or score_col}, {'higher' if gib else 'lower'} is better; "
                       + ("pruned and failed" if pruned else "failed") + " trials left out")
        lb = pd.concat([part.sort_values(score_col, ascending=not gib, na_position="last")  # finished first
                        for part in (lb[ok], lb[~ok])])
    body += "<h3>Best trials</h3>" + _leaderboard_table(lb.head(20), score_col, _cv_folds(run))
    body += _ensemble(run, search.get("ensemble"), lb, metric)
    return Block("search", "Search", body, "Every trial of the hyperparameter search (leaderboard.csv).")


_LATENCY_COLUMNS = {"p50_us": "p50 µs", "p95_us": "p95 µs", "p99_us": "p99 µs", "mean_us": "mean µs",
                    "max_us": "max µs", "calls": "calls", "batch_rows_per_s": "batch rows/s",
                    "batch_rows": "batch rows", "threads": "threads"}
_LATENCY_HIDDEN = ("min_us", "seconds", "setting", "warmup_calls")  # min adds little; seconds and setting go in the note


def _cv_folds(run: RunData) -> int | None:
    """How many folds a finished trial runs (the recipe's cv.folds as the run recorded it)."""
    folds = ((run.metrics.get("cv") or {}).get(run.primary or "") or {}).get("folds")
    if folds:
        return len(folds)
    n = (run.recipe.get("cv") or {}).get("folds")
    return int(n) if isinstance(n, int) else None


def _fold_count(v: Any) -> int | None:
    """The number of fold scores in a leaderboard `*_folds` cell (a JSON list), None when unreadable."""
    import json

    try:
        folds = json.loads(v) if isinstance(v, str) else None
    except json.JSONDecodeError:
        return None
    return len(folds) if isinstance(folds, list) else None


def _leaderboard_table(top: pd.DataFrame, score_col: str | None, n_folds: int | None) -> str:
    """The leaderboard rows as a table: integers as integers, 4 significant digits, no `nan`; columns empty in
    every shown row are left out; a pruned trial's std cell says after how many folds it stopped (its std is over
    those folds only, not comparable with a finished trial's)."""
    pruned = top["status"].astype(str).str.lower() == "pruned" if "status" in top.columns else None
    shown = [c for c in top.columns if c != "config" and not c.endswith("_folds")  # in the CSV, too wide here
             and (top[c] if c != "error" or pruned is None else top[c][~pruned]).notna().any()]
    std_col = score_col.removesuffix("_mean") + "_std" if score_col and score_col.endswith("_mean") else None
    folds_col = score_col.removesuffix("_mean") + "_folds" if score_col and score_col.endswith("_mean") else None
    numeric = [i for i, c in enumerate(shown) if pd.api.types.is_numeric_dtype(top[c])]
    rows = []
    for rec in top.to_dict("records"):
        row = []
        for c in shown:
            v = _cell(rec[c])
            if c == std_col and str(rec.get("status", "")).lower() == "pruned":
                done = _fold_count(rec.get(folds_col)) if folds_col else None
                v = ("pruned" + (f" after {done}" if done is not None else "")
                     + (f" of {n_folds} folds" if n_folds and done is not None else " folds" if done else ""))
            elif c == "error" and str(rec.get("status", "")).lower() == "pruned":
                v = None  # "pruned after ...: clearly worse": the status and the std cell say it
            row.append(v)
        rows.append(row)
    return table(shown, rows, numeric=numeric)


def _ensemble(run: RunData, ens: dict[str, Any] | None, lb: pd.DataFrame, metric: str | None) -> str:
    """metrics.json["search"]["ensemble"] = {method, members (trial numbers), weights, kept, cv_mean, cv_std,
    best_single_cv_mean, reason}: the members with their weights (share of the vote) and each member's own
    trial score, model and parameters from the leaderboard."""
    if not isinstance(ens, dict) or not ens.get("method"):
        return ""
    members = list(ens.get("members") or [])
    weights = ens.get("weights")
    kept = bool(ens.get("kept"))
    head = (badge("kept", "ok") if kept else badge("not kept", "warn")) + " "
    text = (f"{esc(ens['method'])} ensemble of {len(members)} trial(s)"
            + (f": cv {esc(metric)} {fmt(ens.get('cv_mean'))} ± {fmt(ens.get('cv_std'))} vs the best single "
               f"trial's {fmt(ens.get('best_single_cv_mean'))}" if ens.get("cv_mean") is not None else "")
            + ("; this ensemble is the shipped model." if kept else
               "; the best single trial is shipped instead."))
    body = f"<h3>Ensemble</h3><p>{head}{text}</p>"
    if ens.get("reason"):
        body += f'<p class="note">{esc(ens["reason"])}</p>'
    if not members:
        return body
    by_trial = {int(r["trial"]): r for r in lb.to_dict("records")} if "trial" in lb.columns else {}
    score_col = next((c for c in (f"{metric}_mean", "score") if c in lb.columns), None)
    total = sum(weights) if weights and kept else None
    rows = []
    for i, n in enumerate(members):
        rec = by_trial.get(int(n), {})
        params = ", ".join(f"{k.removeprefix('param.')}: {_value(v)}" for k, v in rec.items()
                           if k.startswith("param.") and not pd.isna(v))
        w = weights[i] if total else None
        rows.append([n, rec.get("model", rec.get("estimator")), w, f"{w / total:.0%}" if total else None,
                     rec.get(score_col) if score_col else None, params or MISSING])
    if kept:
        body += table(["trial", "model", "weight", "share of the vote", f"trial cv {metric}", "parameters"], rows,
                      numeric=(0, 2, 3, 4))
    else:
        body += table(["trial", "model", f"trial cv {metric}", "parameters"], [[r[0], r[1], r[4], r[5]]
                                                                               for r in rows], numeric=(0, 2))
        body += '<p class="note">The candidate pool the ensemble was chosen from.</p>'
    return body


def _latency(v: Any) -> Any:
    """Microseconds and rows/s: thousands separators, one decimal below 100; '-' for missing."""
    if v is None:
        return "-"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"


def latency_block(latency: dict[str, Any]) -> str:
    """The export section's latency: a sentence with the p50s, a table per runtime, a bar chart of the p50s.
    Shape: metrics.json export.onnx.latency (mlengine.runs.metrics_record.Latency): {runtime: {p50_us, ...},
    rows_from, max_calls, max_seconds, max_warmup_calls, errors, error}."""
    if latency.get("error"):
        return f"<h3>Latency</h3><p>{badge('not measured', 'warn')} {esc(latency['error'])}</p>"
    runtimes = [k for k, v in latency.items() if isinstance(v, dict) and k != "errors"]
    if not runtimes:
        return ""
    present = {s for k in runtimes for s in latency[k] if s not in _LATENCY_HIDDEN}
    stats = [s for s in _LATENCY_COLUMNS if s in present] + sorted(present - set(_LATENCY_COLUMNS))
    p50s = {k: latency[k].get("p50_us") for k in runtimes if isinstance(latency[k].get("p50_us"), (int, float))}
    lead = ", ".join(f"{k} {_latency(v)} µs" for k, v in p50s.items())
    if "onnx" in p50s and "joblib" in p50s and p50s["onnx"] > 0:
        ratio = p50s["joblib"] / p50s["onnx"]
        faster, by = ("ONNX", ratio) if ratio >= 1 else ("joblib", 1 / ratio)
        lead += f" ({faster} {by:,.0f}x faster)" if by >= 10 else f" ({faster} {by:.1f}x faster)"
    how = []
    if latency.get("rows_from"):
        how.append(f"on {latency['rows_from']} rows")
    if latency.get("max_calls") or latency.get("max_seconds"):
        how.append(f"after up to {latency.get('max_warmup_calls', 0)} warm-up calls, up to "
                   f"{latency.get('max_calls')} calls or {latency.get('max_seconds')} s per runtime, whichever came "
                   "first")
    body = "<h3>Latency</h3>"
    if lead:
        body += f"<p>Single-row latency, p50: {esc(lead)}" + (f"; measured {esc(', '.join(how))}" if how else "") \
                + ".</p>"
    body += table(["runtime", *(_LATENCY_COLUMNS.get(s, s) for s in stats)],
                  [[k, *(_latency(latency[k].get(s)) for s in stats)] for k in runtimes],
                  numeric=tuple(range(1, len(stats) + 1)))
    settings = [f"{k}: {latency[k]['setting']}" for k in runtimes if latency[k].get("setting")]
    settings += [f"{k} not measured: {v}" for k, v in (latency.get("errors") or {}).items()]
    if latency.get("input"):
        settings.append(f"each call: {latency['input']}")
    body += notes(settings)
    if len(p50s) > 1:
        vals = [float(v) for v in p50s.values()]
        body += figure(plots.bars(list(p50s), vals, "Single-row latency (p50)", "p50 µs (log scale)", log=True,
                                  annotate=[f"{_latency(v)} µs" for v in vals]), "latency",
                       "measured at export on this machine; lower is better")
    return body


def _cell(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str) and len(v) > 80:
        return v[:77] + "..."
    return v


def export_section(run: RunData) -> Block | None:
    """ONNX parity and latency: metrics.json["export"]["onnx"] (or model.json["onnx"])."""
    onnx = (run.metrics.get("export") or {}).get("onnx") or run.bundle.get("onnx")
    if not onnx:
        why = _no_onnx(run)
        return Block("export", "ONNX export", f'<p class="note">Not exported: {esc(why)}.</p>') if why else None
    body = ""
    if onnx.get("error"):
        body += f"<p>{badge('not exported', 'fail')} {esc(onnx['error'])}</p>"
    if onnx.get("skipped"):
        body += f"<p>{badge('not exported', 'warn')} {esc(onnx['skipped'])}.</p>"
    parity = onnx.get("parity") or {}
    if parity:
        passed = parity.get("passed")
        body += ("<p>" + (badge("parity passed", "ok") if passed else badge("parity failed", "fail")
                          if passed is False else "") + "</p>")
        body += table(["check", "value"], [(k, v) for k, v in parity.items() if not isinstance(v, (dict, list))],
                      numeric=(1,))
    body += latency_block(onnx.get("latency") or {})
    other = {k: v for k, v in onnx.items() if k not in ("parity", "latency", "error", "skipped")
             and not isinstance(v, (dict, list))}
    if other:
        body += table(["field", "value"], list(other.items()))
    return Block("export", "ONNX export", body, "The ONNX model checked against the scikit-learn pipeline on the "
                                                "holdout rows, and how fast each answers one row.")


def _no_onnx(run: RunData) -> str | None:
    """Why a run has no ONNX record: the plan's note (the model cannot be exported) or export.format without
    onnx; None for a run from before export existed."""
    for line in (run.text("plan.txt") or "").splitlines():
        if "onnx: this model cannot be exported" in line:
            return line.split("onnx: ", 1)[1].rstrip(".")
    fmt_ = (run.recipe.get("export") or {}).get("format")
    if isinstance(fmt_, list) and "onnx" not in fmt_:
        return f"export.format is {fmt_} (add onnx to write model.onnx)"
    return None


def replay_section(run: RunData) -> Block:
    """manifest.json (its presence) means the run can be replayed; without it, show how to re-run the recipe."""
    path = str(run.final)
    man = run.manifest
    if man is not None:
        cmd = f"mlengine replay {path}"
        body = pre(cmd + ("\n" + cmd + " --level search" if run.leaderboard is not None else ""))
        recipe = man.get("recipe") if isinstance(man.get("recipe"), dict) else {}
        data = man.get("data") if isinstance(man.get("data"), dict) else {}
        git = man.get("git") if isinstance(man.get("git"), dict) else {}
        preds = man.get("predictions") if isinstance(man.get("predictions"), dict) else {}
        facts = [("recipe sha256", recipe.get("sha256") or man.get("recipe_hash")),
                 ("data fingerprint", data.get("content_sha256") or data.get("fingerprint")
                  or man.get("data_fingerprint")),
                 ("data rows", data.get("rows")),
                 ("holdout predictions sha256", preds.get("sha256")),
                 ("git commit", (git.get("commit") or "") + (" (uncommitted changes)" if git.get("dirty") else ""))]
        body += table(["recorded", "value"], [(k, v) for k, v in facts if v])
        return Block("replay", "Replay", body, "Re-fits the recorded configuration and checks the data fingerprint, "
                                               "metrics, predictions and artifact hashes against this run.")
    body = pre(f"mlengine run {path}/recipe.yaml")
    return Block("replay", "Reproduce", body, "The resolved recipe re-runs this experiment into a new run "
                                               "directory.")


def versions_footer(run: RunData) -> str:
    v = run.bundle.get("versions") or {}
    keep = [f"{k} {v[k]}" for k in ("mlengine", "python", "scikit-learn", "lightgbm", "pandas") if v.get(k)]
    return "Generated by mlengine" + (f" · {' · '.join(keep)}" if keep else "")

