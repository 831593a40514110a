"""Report sections for drift risk before deployment: stability over time and adversarial validation.

Stability     metrics.json["stability"] = {by, kind, chosen, primary_metric, greater_is_better, periods: [{period,
              label, rows, validated, target_rate, metrics: {m: v}, psi: {col: v}, score_psi, score_reference}],
              max_psi: {col: v}, drifting[], thresholds: {psi_warn, psi_alert}, score_of, note} or {by, skipped}
Adversarial   metrics.json["adversarial"] = {auc, auc_std, verdict, rows: {train, sample, shared}, folds,
              features: [{feature, importance, psi}], top_features[], left_out: {col: why}}
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.report import plots
from mlengine.report.html import Block, badge, esc, figure, fmt, grid, table, tiles

TOP = 15


def metric_by_period(labels: list[str], values: list[float | None], metric: str, rates: list[float | None],
                     rate_label: str) -> str:
    """The metric per period (line) over the target rate per period (bars, right axis)."""
    fig, ax = plots.figure(5.6, 3.2)
    x = np.arange(len(labels))
    if any(r is not None for r in rates):
        ax2 = ax.twinx()
        ax2.bar(x, [np.nan if r is None else r for r in rates], color=plots.GRAY, alpha=0.35, width=0.6)
        ax2.set_ylabel(rate_label, color="#64748b")
        ax2.grid(False)
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
    y = np.array([np.nan if v is None else v for v in values], dtype=float)
    ax.plot(x, y, marker="o", color=plots.BLUE, lw=1.6)
    for xi, yi in zip(x, y, strict=True):
        if np.isfinite(yi):
            ax.annotate(f"{yi:.3f}", (xi, yi), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    ax.set_xticks(x, [plots._short(lb, 24) for lb in labels], rotation=20 if len(labels) > 3 else 0, ha="right"
                  if len(labels) > 3 else "center", fontsize=7)
    ax.set_ylabel(metric)
    ax.set_title(f"Out-of-fold {metric} per period")
    return plots.png(fig)


def psi_heatmap(features: list[str], periods: list[str], values: np.ndarray, warn: float, alert: float) -> str:
    """PSI of each feature (rows) in each later period (columns) against the first period."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    k, m = values.shape
    fig, ax = plots.figure(max(4.2, 1.6 + 1.1 * m), max(2.2, 0.8 + 0.3 * k))
    # grey: not computed (the score's reference period, too few scored rows)
    cmap = ListedColormap(["#dcfce7", "#fef3c7", "#fecaca"]).with_extremes(bad="#f1f5f9")
    finite = values[np.isfinite(values)]
    top = max(float(finite.max()) if finite.size else 0.0, alert) + 1.0
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=BoundaryNorm([0, warn, alert, top], 3), aspect="auto")
    ax.grid(False)
    ax.set_xticks(range(m), [plots._short(p, 26) for p in periods], rotation=20 if m > 3 else 0,
                  ha="right" if m > 3 else "center", fontsize=7)
    ax.set_yticks(range(k), [plots._short(f, 22) for f in features], fontsize=7)
    for i in range(k):
        for j in range(m):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7, color="#1e293b")
    ax.set_title("PSI against the first period")
    return plots.png(fig)


def stability_section(run: Any) -> Block | None:
    st = run.metrics.get("stability")
    if not isinstance(st, dict):
        return None
    if st.get("skipped"):
        return Block("stability", "Stability over time", f"<p>{badge('skipped', 'warn')} {esc(st['skipped'])}</p>",
                     f"By {st.get('by')}.")
    periods = st.get("periods") or []
    if not periods:
        return None
    metric = st.get("primary_metric") or run.primary
    labels = [str(p["label"]) for p in periods]
    values = [(p.get("metrics") or {}).get(metric) for p in periods]
    rate_label = "target mean" if run.task == "regression" else "positive rate"
    plot = figure(metric_by_period(labels, values, metric, [p.get("target_rate") for p in periods], rate_label),
                  f"{metric} per period", "Line: the metric on out-of-fold predictions; bars: the target rate.")
    warn = (st.get("thresholds") or {}).get("psi_warn", 0.1)
    alert = (st.get("thresholds") or {}).get("psi_alert", 0.25)
    cols = list(st.get("max_psi") or {})[:TOP]
    rows_psi = [*cols, *(["[score]"] if any(p.get("score_psi") is not None for p in periods) else [])]
    heat = ""
    if rows_psi and len(periods) > 1:
        cell = [[p.get("score_psi") if c == "[score]" else (p.get("psi") or {}).get(c) for p in periods[1:]]
                for c in rows_psi]
        mat = np.array([[np.nan if v is None else v for v in row] for row in cell], dtype=float)
        heat = figure(psi_heatmap(rows_psi, labels[1:], mat, warn, alert), "PSI per period",
                      f"Green < {warn:g} <= amber < {alert:g} <= red (monitor.psi_warn / psi_alert).")
    names = list(dict.fromkeys(k for p in periods for k in (p.get("metrics") or {})))
    tab = table(["period", "rows", "out-of-fold", "target rate", *names, "score PSI"],
                [[p["label"], p.get("rows"), p.get("validated"), p.get("target_rate"),
                  *[(p.get("metrics") or {}).get(n) for n in names],
                  "reference" if p.get("score_reference") else p.get("score_psi")] for p in periods],
                numeric=tuple(range(1, len(names) + 5)))
    scored = [v for v in values if v is not None]
    drifting = st.get("drifting") or []
    items = [("periods", str(len(periods)), f"by {st.get('by')} ({st.get('chosen')})"),
             (f"{metric} range", f"{fmt(min(scored))} .. {fmt(max(scored))}" if scored else "-", "out of fold"),
             ("most shifted", cols[0] if cols else "-", f"PSI {fmt(st['max_psi'][cols[0]])}" if cols else ""),
             ("columns >= psi_warn", str(len(drifting)), ", ".join(drifting[:4]))]
    note = f'<p class="note">{esc(st["note"])}.</p>' if st.get("note") else ""
    body = tiles(items) + grid(plot, heat) + tab + note
    return Block("stability", "Stability over time", body,
                 f"Training rows in periods of {st.get('by')}: the model's out-of-fold metric per period, and PSI "
                 "of each feature against the first period. A metric that slides or features that shift say "
                 "the model may not hold up after deployment. PSI is noisy on small periods.")


def adversarial_section(run: Any) -> Block | None:
    adv = run.metrics.get("adversarial")
    if not isinstance(adv, dict) or adv.get("auc") is None:
        return None
    feats = adv.get("features") or []
    kind = {"similar": "ok", "partly separable": "warn"}.get(adv.get("verdict"), "fail")
    rows = adv.get("rows") or {}
    items = [("AUC", fmt(adv["auc"], 3), f"± {fmt(adv.get('auc_std'), 3)} over {adv.get('folds')} folds"),
             ("verdict", str(adv.get("verdict")), "0.5 = indistinguishable"),
             ("rows", f"{rows.get('train', 0):,} / {rows.get('sample', 0):,}", "training / sample"),
             ("separating most", ", ".join(adv.get("top_features") or []) or "-", "")]
    top = feats[:TOP]
    plot = ""
    if top and any(f["importance"] > 0 for f in top):
        plot = figure(plots.bars([f["feature"] for f in top], [f["importance"] for f in top],
                                 "Columns that separate training from the sample", "share of split gain",
                                 annotate=[f"PSI {f['psi']:.2f}" for f in top]), "adversarial importance")
    tab = table(["feature", "importance (share of gain)", "PSI (training bins)"],
                [[f["feature"], f["importance"], f["psi"]] for f in feats], numeric=(1, 2))
    left = adv.get("left_out") or {}
    note = (f'<p class="note">Left out: {esc(", ".join(f"{c} ({w})" for c, w in left.items()))}.</p>' if left
            else "")
    if rows.get("shared"):
        note += (f'<p class="note">{rows["shared"]:,} sample rows are identical to a training row (kept in one '
                 "fold with their twins, so they count as indistinguishable).</p>")
    body = f"<p>{badge(str(adv.get('verdict')), kind)}</p>" + tiles(items) + grid(plot, tab) + note
    return Block("adversarial", "Adversarial validation", body,
                 "A classifier trained to tell training rows from the scoring sample (evaluate.adversarial.data), "
                 "cross-validated: an AUC near 0.5 means the training data reflects the sample.")
