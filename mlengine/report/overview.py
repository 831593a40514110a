"""Report sections about the run itself: headline, recipe, data and its checks, plan, search, export, replay."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlengine.report import plots
from mlengine.report.html import Block, badge, esc, figure, fmt, notes, pre, table, tiles
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
    items.append(("model", str(run.bundle.get("model") or (run.recipe.get("model") or {}).get("name", "-")),
                  f"task {run.task}"))
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
    body = tiles(items)
    if hold is not None and base is not None:
        better = hold > base if run.greater_is_better else hold < base
        body += ("<p>" + (badge("beats the no-skill baseline", "ok") if better else
                          badge("does not beat the no-skill baseline", "fail")) + "</p>")
    body += _gate_and_warnings(m)
    return Block("overview", "Overview", body, lead)


def _gate_and_warnings(m: dict[str, Any]) -> str:
    """The failed gate checks (what was measured, what was needed) and the warnings, e.g. worse than no-skill."""
    from mlengine.evaluate.gates import gate_message

    gate, out = m.get("gate") or {}, ""
    if gate.get("checks"):
        out += "<p>" + (badge("gate passed", "ok") if gate.get("passed") else
                        badge("gate failed", "fail") + " " + esc(gate_message(gate).removeprefix("gate failed: "))) \
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
    model = r.get("model") or {}
    facts = [
        ("data", f"{src.get('kind', '?')}: {where}"),
        ("target", d.get("target")),
        ("roles", ", ".join(f"{k} {d[k]!r}" for k in ("id", "group", "time") if d.get(k)) or "-"),
        ("dropped columns", ", ".join(map(str, d.get("drop") or [])) or "-"),
        ("model", f"{model.get('name', '-')} {model.get('params') or ''}".strip()),
        ("cross-validation", f"{(r.get('cv') or {}).get('kind', 'auto')}, {(r.get('cv') or {}).get('folds', 5)} folds"),
        ("holdout", f"{(r.get('split') or {}).get('holdout', 0.2):.0%} ({(r.get('split') or {}).get('strategy', 'auto')})"),
        ("seed", r.get("seed")),
    ]
    option_key = {"resample": "method", "select": "method", "reduce": "method", "calibration": "method",
                  "threshold": "objective"}  # the key naming each section's chosen option
    for key in (*option_key, "search"):
        sec = r.get(key) or {}
        used = sec.get(option_key[key], "none") != "none" if key in option_key else bool(sec.get("trials"))
        if sec and used:
            facts.append((key, ", ".join(f"{k}: {v}" for k, v in sec.items())))
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
    return Block("plan", "Plan", pre(text.rstrip()), "Every step in order and where it is fitted: nothing that "
                                                     "learns from data sees validation or holdout rows.")


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
                       f"{metric or score_col}, {'higher' if gib else 'lower'} is better; failed trials left out")
        lb = lb.sort_values(score_col, ascending=not gib, na_position="last")
    shown = [c for c in lb.columns if c != "config" and not c.endswith("_folds")]  # in the CSV, too wide here
    top = lb[shown].head(20)
    numeric = [i for i, c in enumerate(shown) if pd.api.types.is_numeric_dtype(top[c])]
    rows = [[_cell(v) for v in r] for r in top.itertuples(index=False)]
    body += "<h3>Best trials</h3>" + table(shown, rows, numeric=numeric)
    return Block("search", "Search", body, "Every trial of the hyperparameter search (leaderboard.csv).")


_LATENCY_COLUMNS = {"p50_us": "p50 µs", "p95_us": "p95 µs", "p99_us": "p99 µs", "mean_us": "mean µs",
                    "max_us": "max µs", "calls": "calls", "batch_rows_per_s": "batch rows/s",
                    "batch_rows": "batch rows", "threads": "threads"}
_LATENCY_HIDDEN = ("min_us", "seconds", "setting", "warmup_calls")  # min adds little; seconds and setting go in the note


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
        return None
    body = ""
    if onnx.get("error"):
        body += f"<p>{badge('not exported', 'fail')} {esc(onnx['error'])}</p>"
    parity = onnx.get("parity") or {}
    if parity:
        passed = parity.get("passed")
        body += ("<p>" + (badge("parity passed", "ok") if passed else badge("parity failed", "fail")
                          if passed is False else "") + "</p>")
        body += table(["check", "value"], [(k, v) for k, v in parity.items() if not isinstance(v, (dict, list))],
                      numeric=(1,))
    body += latency_block(onnx.get("latency") or {})
    other = {k: v for k, v in onnx.items() if k not in ("parity", "latency") and not isinstance(v, (dict, list))}
    if other:
        body += table(["field", "value"], list(other.items()))
    return Block("export", "ONNX export", body, "The ONNX model checked against the scikit-learn pipeline on the "
                                                "holdout rows, and how fast each answers one row.")


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

