"""Report sections about how good the model is: metrics beside baselines, confusion matrix, ROC/PR, calibration,
threshold, business value, slices, residuals and feature importance."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.report import plots
from mlengine.report.html import Block, badge, esc, figure, fmt, grid, table
from mlengine.report.rundata import RunData


def _skipped(block_id: str, title: str, why: str) -> Block:
    """A section that applies to this run but was not drawn: one line saying why."""
    return Block(block_id, title, f'<p class="note">Not shown: {esc(why)}.</p>')


def metrics_section(run: RunData) -> Block | None:
    m = run.metrics
    cv, hold, bases = m.get("cv") or {}, m.get("holdout") or {}, m.get("baselines") or {}
    names = list(dict.fromkeys([*hold, *cv]))
    if not names:
        return None
    from mlengine.evaluate.metrics import METRICS

    before = m.get("cv_uncalibrated") or {}
    headers = ["metric", "", "CV mean", "CV std", *(["CV before calibration/threshold"] if before else []),
               "holdout", *[f"baseline: {b}" for b in bases]]
    rows = []
    for n in names:
        arrow = "↑" if n not in METRICS or METRICS[n].greater_is_better else "↓"
        c = cv.get(n) or {}
        extra = [(before.get(n) or {}).get("mean")] if before else []
        rows.append([n, arrow, c.get("mean"), c.get("std"), *extra, hold.get(n), *[bases[b].get(n) for b in bases]])
    body = table(headers, rows, numeric=tuple(range(2, len(headers))))
    primary = run.primary
    if primary:
        folds = (cv.get(primary) or {}).get("folds") or []
        body = grid(body, figure(plots.metric_summary(primary, folds, hold.get(primary),
                                            {b: v.get(primary) for b, v in bases.items() if v.get(primary) is not None},
                                            run.greater_is_better),
                       f"{primary}: cross-validation folds, holdout and baselines",
                       "Each dot is one CV fold; the diamond is the holdout; dashed lines are the baselines scored "
                       "on the same holdout."))
    lead = ("Cross-validated on the training split and scored once on the holdout, beside every baseline "
            "(↑ higher is better, ↓ lower is better).")
    if before:
        d = m.get("cv_describes") or {}
        lead += (f" CV columns: {d.get('cv', 'the saved model')}; 'CV before calibration/threshold': "
                 f"{d.get('cv_uncalibrated', 'the model before those steps')}. {d.get('note', '')}")
    return Block("metrics", "Metrics", body, lead.strip())


def confusion_section(run: RunData) -> Block | None:
    cm = run.metrics.get("confusion_matrix")
    if not cm:
        return None
    labels, matrix = cm["labels"], np.asarray(cm["matrix"], dtype=float)
    tp = np.diag(matrix)
    precision = np.divide(tp, matrix.sum(axis=0), out=np.full(len(tp), np.nan), where=matrix.sum(axis=0) > 0)
    recall = np.divide(tp, matrix.sum(axis=1), out=np.full(len(tp), np.nan), where=matrix.sum(axis=1) > 0)
    per_class = table(["class", "rows", "precision", "recall"],
                      [(c, int(matrix[i].sum()), float(precision[i]), float(recall[i]))
                       for i, c in enumerate(labels)], numeric=(1, 2, 3))
    fig = figure(plots.confusion(labels, matrix), "confusion matrix")
    return Block("confusion", "Confusion matrix", grid(fig, "<h3>Per class (holdout)</h3>" + per_class),
                 "Holdout rows by true and predicted class.")


def curves_section(run: RunData) -> Block | None:
    """ROC and precision-recall curves from predictions.parquet (y_true, proba_<class>)."""
    preds, cols = run.predictions, run.proba_columns()
    if run.task not in ("binary", "multiclass") or preds is None:
        return None
    title = "ROC and precision-recall"
    if not cols:
        return _skipped("curves", title, "predictions.parquet holds no class probabilities (proba_<class> "
                                         "columns), so there is no score to rank the holdout by")
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    y = preds["y_true"].astype(str).to_numpy()
    if run.task == "binary":
        pos = run.metrics.get("positive_class")
        targets = [pos] if pos in cols else [list(cols)[-1]]
    else:
        targets = list(cols)[:10]
    roc, pr = {}, {}
    for c in targets:
        truth = (y == str(c)).astype(int)
        if truth.min() == truth.max():
            continue
        p = preds[cols[c]].to_numpy(dtype=float)
        fpr, tpr, _ = roc_curve(truth, p)
        prec, rec, _ = precision_recall_curve(truth, p)
        label = f"class {c}" if run.task == "binary" else str(c)
        roc[label] = (*_thin(fpr, tpr), float(auc(fpr, tpr)))
        pr[label] = (*_thin(rec, prec), float(average_precision_score(truth, p)), float(truth.mean()))
    if not roc:
        return _skipped("curves", title, "every class examined is either all or none of the holdout rows, where "
                                         "ROC and precision-recall are undefined")
    body = grid(figure(plots.roc_curves(roc), "ROC curve"), figure(plots.pr_curves(pr), "precision-recall curve"))
    lead = ("Holdout rows; the positive class is "
            f"{run.metrics.get('positive_class')}." if run.task == "binary" else "Holdout rows, one class against "
                                                                                  "the rest.")
    return Block("curves", "ROC and precision-recall", body, lead)


def _reliability_points(r: dict[str, Any]) -> tuple[list[float], list[float]]:
    """(mean predicted, observed) from {points: [{mean_predicted, observed}]}, {mean_predicted, fraction_positive}
    or scikit-learn's {prob_pred, prob_true}."""
    if r.get("points") is not None:
        return [q["mean_predicted"] for q in r["points"]], [q["observed"] for q in r["points"]]
    return (list(r.get("mean_predicted", r.get("prob_pred")) or []),
            list(r.get("fraction_positive", r.get("prob_true")) or []))


def _thin(x: np.ndarray, y: np.ndarray, points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """At most `points` vertices of a curve (a picture needs no more; large holdouts have one per row)."""
    if len(x) <= points:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, points).astype(int))
    return x[keep], y[keep]


def calibration_section(run: RunData) -> Block | None:
    """metrics.json["calibration"] (before/after, from the calibration step), else the final model's curve."""
    cal = run.metrics.get("calibration")
    curves: dict[str, tuple[Any, Any]] = {}
    body = ""
    proba = None
    if isinstance(cal, dict) and cal.get("reliability"):
        rel = cal["reliability"]
        for when in ("before", "after"):
            if rel.get(when):
                label = f"{when} calibration" + (f" ({cal['method']})" if when == "after" and cal.get("method") else "")
                curves[label] = _reliability_points(rel[when])
        rows = []
        for source in ("holdout", "oof", None):  # {holdout|oof: {before: {...}, after: {...}}} or top-level
            part = cal.get(source) if source else cal
            if isinstance(part, dict) and isinstance(part.get("before"), dict):
                for k in sorted(set(part["before"]) | set(part.get("after") or {})):
                    rows.append((k + (f" ({source})" if source else ""), part["before"].get(k),
                                 (part.get("after") or {}).get(k)))
                break
        for when in ("before", "after"):
            ece = (rel.get(when) or {}).get("expected_calibration_error")
            if ece is not None:
                rows.append((f"expected calibration error, {when}", ece, None))
        if rows:
            body += table(["metric", "before", "after"], rows, numeric=(1, 2))
        if rel.get("on"):
            body += f'<p class="note">Reliability measured on: {esc(rel["on"])}.</p>'
    preds, cols = run.predictions, run.proba_columns()
    pos = run.metrics.get("positive_class")
    if run.task == "binary" and preds is not None and pos in cols:
        from sklearn.calibration import calibration_curve

        truth = (preds["y_true"].astype(str).to_numpy() == str(pos)).astype(int)
        proba = preds[cols[pos]].to_numpy(dtype=float)
        if not curves and truth.min() != truth.max():
            fp, mp = calibration_curve(truth, proba, n_bins=10, strategy="quantile")
            curves["final model (holdout)"] = (mp, fp)
    if not curves:
        if run.task == "binary" and preds is not None and pos in cols:
            return _skipped("calibration", "Calibration", "the holdout holds one class only, so observed "
                                                          "frequencies cannot be compared with the probabilities")
        return None
    if not body:
        hold = run.metrics.get("holdout") or {}
        scores = [(k, hold[k]) for k in ("brier", "log_loss") if k in hold]
        body = table(["holdout", "value"], scores, numeric=(1,)) if scores else ""
    fig = figure(plots.reliability(curves, proba), "reliability curve",
                 "Points on the diagonal mean the predicted probabilities can be read as frequencies.")
    lead = (f"Probability calibration ({cal.get('method', 'calibrated')}), fitted on out-of-fold predictions."
            if isinstance(cal, dict) and cal.get("reliability") else
            "How well the final model's probabilities match observed frequencies on the holdout "
            "(no calibration step in this run).")
    return Block("calibration", "Calibration", grid(fig, body), lead)


def threshold_section(run: RunData) -> Block | None:
    """metrics.json["threshold"]: {objective|method, threshold|value, ...scalars, at_threshold: {...}, curve}, the
    curve as [{threshold, <name>: v, ...}] or {thresholds: [], scores | <name>: [...], metric}."""
    th = run.metrics.get("threshold")
    if not isinstance(th, dict):
        return None
    chosen = th.get("threshold", th.get("value"))
    rows = [(k, v) for k, v in th.items() if not isinstance(v, (dict, list))]
    rows += [(f"{k} at the threshold", v) for k, v in (th.get("at_threshold") or {}).items()]
    body = table(["setting", "value"], rows)
    curve = th.get("curve") or {}
    metric = th.get("objective") or th.get("method") or "score"
    if isinstance(curve, list) and curve:
        xs = [c["threshold"] for c in curve]
        label = f"objective: {metric}" + (", value per row" if metric == "cost" else "")
        series = {(label if k == "objective" else k): [c.get(k) for c in curve]
                  for k in curve[0] if k != "threshold"}
    elif isinstance(curve, dict) and curve.get("thresholds"):
        xs = curve["thresholds"]
        series = {k: v for k, v in curve.items() if isinstance(v, list) and k != "thresholds" and len(v) == len(xs)}
        if "scores" in series:
            series[curve.get("metric") or metric] = series.pop("scores")
    else:
        xs, series = [], {}
    series = {k: [np.nan if v is None else v for v in vals] for k, vals in series.items()}
    if xs and series:
        fig = figure(plots.threshold_curve(xs, series, chosen, "value"), "threshold curve",
                     "Tuned on out-of-fold predictions of the training split; the dashed line is the threshold "
                     "the model applies.")
        body = grid(fig, body)
    return Block("threshold", "Decision threshold", body, "The probability above which the positive class is "
                                                          "predicted.")


def business_section(run: RunData) -> Block | None:
    """metrics.json["value"] = {matrix: {outcome: value}, per_1000: {model, <baseline>: v}, references: {...}}
    (or metrics.json["business_value"] = {per, threshold, matrix, model, baselines: {name: v}})."""
    m = run.metrics
    bv = m.get("value") if isinstance(m.get("value"), dict) and "per_1000" in m["value"] else m.get("business_value")
    if not isinstance(bv, dict):
        return None
    if "per_1000" in bv:
        values = {("model" if k == "model" else f"baseline: {k}"): v for k, v in bv["per_1000"].items()}
        values.update({f"reference: {k.replace('_', ' ')}": v for k, v in (bv.get("references") or {}).items()})
        per = 1000
        threshold = (m.get("threshold") or {}).get("threshold")
    elif "model" in bv:
        per = bv.get("per", 1000)
        values = {"model": bv["model"], **{f"baseline: {k}": v for k, v in (bv.get("baselines") or {}).items()}}
        threshold = bv.get("threshold")
    else:
        return None
    labels = list(values)
    hi = labels.index("model") if "model" in labels else None
    fig = figure(plots.bars(labels, [float(v) for v in values.values()], f"Expected value per {per:,} predictions",
                            "value", highlight=hi, annotate=[fmt(float(v)) for v in values.values()]),
                 "business value")
    matrix = bv.get("matrix") or {}
    body = table(["outcome", "value each"], list(matrix.items()), numeric=(1,)) if matrix else ""
    if threshold is not None:
        body += f'<p class="note">The model at decision threshold {fmt(threshold)}.</p>'
    return Block("business", "Business value", grid(fig, body), "The value matrix applied to the holdout "
                                                               "predictions of the model and each baseline.")


_SLICE_INFO = ("value", "rows", "share", "metrics")


def slices_section(run: RunData) -> Block | None:
    """metrics.json["slices"] = {column: {kind, groups: [{value, rows, share, <metric>: v, ...}], gap: {m: v}}}
    (or {column: [{value, rows, metrics: {name: v}}]})."""
    slices = run.metrics.get("slices")
    if not isinstance(slices, dict) or not slices:
        return None
    primary = run.primary
    body = ""
    for col, spec in slices.items():
        groups = spec.get("groups") if isinstance(spec, dict) else spec
        if not groups:
            continue
        rows_of = [{**(g.get("metrics") or {}), **{k: v for k, v in g.items() if k not in _SLICE_INFO}}
                   for g in groups]
        names = list(dict.fromkeys(k for r in rows_of for k in r))
        rows = [[g.get("value"), g.get("rows"), *[r.get(n) for n in names]] for g, r in zip(groups, rows_of,
                                                                                           strict=True)]
        tab = table([col, "rows", *names], rows, numeric=tuple(range(1, len(names) + 2)))
        gap = spec.get("gap") if isinstance(spec, dict) else None
        if gap:
            tab += '<p class="note">Largest gap between slices of at least 30 rows: ' + ", ".join(
                f"{esc(k)} {fmt(v)}" for k, v in gap.items()) + ".</p>"
        metric = primary if primary in names else next((n for n in names if n not in ("positive_rate",
                                                                                        "predicted_positive_rate")),
                                                       None)
        fig = ""
        if metric:
            vals = [r.get(metric) for r in rows_of]
            keep = [i for i, v in enumerate(vals) if v is not None]
            if keep:
                fig = figure(plots.bars([str(groups[i].get("value")) for i in keep], [float(vals[i]) for i in keep],
                                        f"{metric} by {col}", metric,
                                        annotate=[f"n={groups[i].get('rows')}" for i in keep]), f"slices by {col}")
        body += f"<h3>By {esc(col)}</h3>" + grid(fig, tab)
    return Block("slices", "Slice metrics", body, "Holdout metrics per value of a column: where the model works "
                                                  "less well.") if body else None


def regression_section(run: RunData) -> Block | None:
    preds = run.predictions
    if run.task != "regression":
        return None
    if preds is None or not len(preds):
        return _skipped("residuals", "Residuals", "the run has no holdout predictions (predictions.parquet)")
    y, p = preds["y_true"].to_numpy(dtype=float), preds["y_pred"].to_numpy(dtype=float)
    res = y - p
    target = str(run.bundle.get("target") or (run.recipe.get("data") or {}).get("target") or "target")
    stats = [("mean residual (bias)", float(res.mean())), ("median absolute error", float(np.median(np.abs(res)))),
             ("90th percentile of |residual|", float(np.percentile(np.abs(res), 90))),
             ("max |residual|", float(np.abs(res).max()))]
    body = figure(plots.residuals(y, p, target), "residual plots") + table(["residual summary", "value"], stats,
                                                                           numeric=(1,))
    return Block("residuals", "Residuals", body, "Holdout predictions against the truth.")


def importance_section(run: RunData) -> Block | None:
    ex = run.metrics.get("explain")
    if not isinstance(ex, dict):
        if (run.recipe.get("report") or {}).get("explain") is False:
            return _skipped("importance", "Feature importance", "report.explain is off in the recipe")
        return None
    if ex.get("error"):
        return Block("importance", "Feature importance", f"<p>{badge('not computed', 'warn')} {esc(ex['error'])}"
                                                         "</p>")
    top_n = int((run.recipe.get("report") or {}).get("top_features", 15))
    cells = []
    perm = ex.get("permutation")
    if perm:
        f = perm["features"][:top_n]
        cells.append(figure(plots.bars([r["feature"] for r in f], [r["mean"] for r in f],
                                       "Permutation importance (holdout)", f"drop in {perm['metric']} when shuffled",
                                       errors=[r["std"] for r in f]), "permutation importance",
                            f"{perm['rows']} holdout rows, {perm['repeats']} shuffles per column; error bars: one "
                            "standard deviation."))
    shap = ex.get("shap")
    if shap:
        f = shap["features"][:top_n]
        if shap.get("by_class"):
            order = shap["feature_order"]
            idx = [order.index(r["feature"]) for r in f]
            parts = {c: [v[i] for i in idx] for c, v in shap["by_class"].items()}
            cells.append(figure(plots.stacked_bars([r["feature"] for r in f], parts, "Mean |SHAP| by class",
                                                   f"mean |SHAP| ({shap['units']})"), "SHAP by class"))
        else:
            cells.append(figure(plots.bars([r["feature"] for r in f], [r["mean_abs"] for r in f], "Mean |SHAP|",
                                           f"mean |SHAP| ({shap['units']})"), "mean absolute SHAP"))
        sample = run.frame(shap["file"]) if shap.get("file") else None
        if sample is not None and len(sample):
            feats = [c.removeprefix("shap::") for c in sample.columns if c.startswith("shap::")]
            cells.append(figure(plots.shap_summary(feats, sample[[f"shap::{c}" for c in feats]].to_numpy(),
                                                   sample[[f"value::{c}" for c in feats]].to_numpy(), shap["units"]),
                                "SHAP summary", f"{shap['rows']} rows; {shap['method']}."))
    skipped = [f"{what} not computed: {ex[key]}." for what, key in (("Permutation importance", "permutation_skipped"),
                                                                     ("SHAP", "shap_skipped")) if ex.get(key)]
    note = "".join(f'<p class="note">{esc(t)}</p>' for t in skipped)
    if not cells:
        return Block("importance", "Feature importance", note) if note else None
    lead = ("Which inputs the model relies on. Permutation importance speaks in raw input columns for any model; "
            "SHAP (LightGBM's exact TreeSHAP) in the model's inputs after preprocessing.")
    return Block("importance", "Feature importance", note + grid(*cells), lead)
