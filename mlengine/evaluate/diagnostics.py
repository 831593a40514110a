"""Evaluation views a data scientist expects beside the metrics: lift/gains and KS (binary), score distributions
by class, one-vs-rest calibration per class (multiclass) and partial dependence of the top features.

Pure functions of (y_true, scores) or (model, rows) so each is tested on tiny arrays; `score_diagnostics` (called by
`stage_evaluate` on the holdout predictions) and `add_partial_dependence` (called by `stage_explain`, after the
importance ranking exists) put them in `metrics.json["diagnostics"]` (typed: `mlengine.runs.metrics_record`). Sizes
stay small (10 deciles, 20 histogram bins, 10 reliability bins, 20 grid points, <= 1,000 rows for partial
dependence). A view that does not apply to the task is not computed and `skipped[view]` says why; a failure is
recorded the same way and never fails the run. No value is NaN: a figure that cannot be computed is left out.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from mlengine.records import plain

log = logging.getLogger("mlengine")

DECILES, BINS, CALIBRATION_BINS, GRID, PD_ROWS, PD_FEATURES, CURVE_POINTS = 10, 20, 10, 20, 1000, 3, 20


# ------------------------------------------------------------------------------------------ binary ---
def ks_statistic(y_true: Any, score: np.ndarray, pos_label: Any) -> dict[str, Any] | None:
    """Kolmogorov-Smirnov statistic: the largest gap between the score CDFs of the positive and negative rows
    (= max |TPR - FPR| over thresholds), with the threshold where it is reached. None with only one class."""
    from sklearn.metrics import roc_curve

    truth = np.asarray(y_true, dtype=object) == pos_label
    if truth.all() or not truth.any():
        return None
    fpr, tpr, thresholds = roc_curve(truth.astype(int), np.asarray(score, dtype=float))
    gap = np.abs(tpr - fpr)
    i = int(np.argmax(gap))
    return {"statistic": float(gap[i]), "threshold": float(min(thresholds[i], 1.0) if np.isfinite(thresholds[i])
                                                           else 1.0),
            "tpr": float(tpr[i]), "fpr": float(fpr[i])}


def gains_lift(y_true: Any, score: np.ndarray, pos_label: Any, deciles: int = DECILES,
               points: int = CURVE_POINTS) -> dict[str, Any] | None:
    """Rows ranked by score (highest first, ties in row order): the lift table by decile and the cumulative gains
    curve (share of all positives captured in the top share of rows, from (0, 0) to (1, 1)). None without
    positives."""
    truth = (np.asarray(y_true, dtype=object) == pos_label).astype(float)
    n, total = len(truth), float(truth.sum())
    if n == 0 or total == 0:
        return None
    order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
    ranked, s = truth[order], np.asarray(score, dtype=float)[order]
    base = total / n
    rows_out, seen, hits = [], 0, 0.0
    for i, part in enumerate(np.array_split(np.arange(n), min(deciles, n)), 1):
        pos = float(ranked[part].sum())
        seen, hits = seen + len(part), hits + pos
        rate = pos / len(part)
        rows_out.append({"decile": i, "rows": int(len(part)), "positives": int(pos),
                         "min_score": float(s[part].min()), "max_score": float(s[part].max()),
                         "response_rate": rate, "lift": rate / base, "cumulative_gain": hits / total,
                         "cumulative_lift": (hits / seen) / base})
    cum = np.concatenate([[0.0], np.cumsum(ranked)])
    share = np.round(np.linspace(0.0, 1.0, points + 1), 6)
    gain = cum[np.rint(share * n).astype(int)] / total
    return {"rows": int(n), "positives": int(total), "base_rate": base, "deciles": rows_out,
            "curve": {"share_of_rows": [float(x) for x in share], "share_of_positives": [float(x) for x in gain]}}


# ---------------------------------------------------------------------------------- distributions ---
def _hist(values: np.ndarray, edges: np.ndarray) -> list[int]:
    return [int(c) for c in np.histogram(values, bins=edges)[0]]


def _summary(values: np.ndarray) -> dict[str, Any]:
    return {"rows": int(len(values)), "mean": float(np.mean(values)), "median": float(np.median(values))}


def score_distribution(task: str, y_true: Any, *, proba: np.ndarray | None = None, pred: np.ndarray | None = None,
                       classes: list[Any] | None = None, pos_label: Any = None, bins: int = BINS) -> dict[str, Any]:
    """Histograms (equal-width bins) of the model's score per true class.

    binary: P(positive) for the rows of each true class; multiclass: each row's probability of its own true class,
    per true class; regression (no classes): the predicted and the actual values on common bins, and the
    residuals (actual - predicted)."""
    if task == "regression":
        y, p = np.asarray(y_true, dtype=float), np.asarray(pred, dtype=float)
        lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
        res = y - p
        r_lo, r_hi = float(res.min()), float(res.max())
        r_edges = np.linspace(r_lo, r_hi if r_hi > r_lo else r_lo + 1.0, bins + 1)
        q = np.percentile(res, [5, 25, 50, 75, 95])
        return {"kind": "regression", "what": "predicted and actual values (regression has no classes)",
                "edges": [float(e) for e in edges], "counts": {"actual": _hist(y, edges), "predicted": _hist(p, edges)},
                "summary": {"actual": _summary(y), "predicted": _summary(p)},
                "residuals": {"edges": [float(e) for e in r_edges], "counts": _hist(res, r_edges),
                              "quantiles": {f"p{k}": float(v) for k, v in zip((5, 25, 50, 75, 95), q, strict=True)},
                              "mean": float(res.mean())}}
    y = np.asarray(y_true, dtype=object)
    classes = list(classes or [])
    proba = np.asarray(proba, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, summary = {}, {}
    if task == "binary":
        score = proba[:, classes.index(pos_label)]
        what = f"P({plain(pos_label)}) by true class"
    else:
        idx = np.array([classes.index(v) if v in classes else -1 for v in y])
        score = np.where(idx >= 0, proba[np.arange(len(y)), np.clip(idx, 0, None)], np.nan)
        what = "P(true class) by true class"
    for c in classes:
        sel = score[y == c]
        sel = sel[np.isfinite(sel)]
        if len(sel):
            counts[str(c)] = _hist(sel, edges)
            summary[str(c)] = _summary(sel)
    return {"kind": task, "what": what, "edges": [float(e) for e in edges], "counts": counts, "summary": summary}


# ----------------------------------------------------------------------------------- calibration ---
def _reliability(hit: np.ndarray, p: np.ndarray, bins: int) -> tuple[list[dict[str, Any]], float]:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    points, gap = [], 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            mp, ob = float(p[sel].mean()), float(hit[sel].mean())
            points.append({"bin": [float(edges[b]), float(edges[b + 1])], "count": int(sel.sum()),
                           "mean_predicted": mp, "observed": ob})
            gap += sel.sum() * abs(mp - ob)
    return points, float(gap / len(p))


def calibration_by_class(y_true: Any, proba: np.ndarray, classes: list[Any], bins: int = CALIBRATION_BINS
                         ) -> dict[str, Any]:
    """One-vs-rest reliability of each class (P(class) vs how often the row is that class, equal-width bins) with
    its ECE and Brier; overall: classwise ECE (mean over classes), top-label ECE (confidence vs accuracy) and the
    multiclass Brier score (squared error summed over classes, as the `brier` metric)."""
    y = np.asarray(y_true, dtype=object)
    proba = np.asarray(proba, dtype=float)
    onehot = (y[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)
    per_class = []
    for k, c in enumerate(classes):
        points, ece = _reliability(onehot[:, k], proba[:, k], bins)
        per_class.append({"class": str(c), "rows": int(onehot[:, k].sum()), "ece": ece,
                          "brier": float(np.mean((proba[:, k] - onehot[:, k]) ** 2)), "points": points})
    top = np.argmax(proba, axis=1)
    _, top_ece = _reliability(onehot[np.arange(len(y)), top], proba[np.arange(len(y)), top], bins)
    return {"bins": bins, "rows": int(len(y)), "classes": per_class,
            "classwise_ece": float(np.mean([c["ece"] for c in per_class])), "top_label_ece": top_ece,
            "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))}


# ------------------------------------------------------------------------------ partial dependence ---
def _grid(values: pd.Series, categorical: bool, resolution: int) -> list[Any]:
    """The grid of one raw column: its most frequent values (categorical, at most `resolution`), else its unique
    values when fewer than `resolution`, else `resolution` points from the 5th to the 95th percentile (as
    scikit-learn's default grid). Missing values are never grid points."""
    v = values.dropna()
    if categorical:
        return [plain(x) for x in v.value_counts(sort=True).index[:resolution]]
    x = v.to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    uniq = np.unique(x)
    if len(uniq) < resolution:
        return [float(u) for u in uniq]
    from scipy.stats.mstats import mquantiles  # scikit-learn's own grid: the same points as its default

    lo, hi = mquantiles(x, prob=(0.05, 0.95))
    if hi <= lo:
        lo, hi = float(uniq[0]), float(uniq[-1])
    return [float(g) for g in np.linspace(lo, hi, resolution)]


def partial_dependence(model: Any, X: pd.DataFrame, features: list[str], *, task: str, classes: list[Any],
                       pos_label: Any, categorical: list[str] = (), grid_resolution: int = GRID) -> list[dict[str, Any]]:
    """Average model response over the rows of `X` with one raw column set to each grid value, through
    `sklearn.inspection.partial_dependence` (method brute, on the whole fitted pipeline). Binary: P(positive);
    multiclass: P(class) for each class; regression: the prediction."""
    from sklearn.inspection import partial_dependence as sk_pd

    out = []
    for f in features:
        is_cat = f in categorical
        Xf = X
        if not is_cat and X[f].dtype.kind in "iu":  # scikit-learn refuses integer columns (rounding on assignment)
            Xf = X.assign(**{f: X[f].astype(float)})
        grid = _grid(X[f], is_cat, grid_resolution)
        res = sk_pd(model, Xf, [f], categorical_features=[f] if is_cat else None, kind="average", method="brute",
                    custom_values={f: np.asarray(grid, dtype=object if is_cat else float)},
                    response_method="auto" if task == "regression" else "predict_proba")
        avg = np.asarray(res["average"], dtype=float)
        if task == "regression":
            curves = {"prediction": avg[0]}
        elif task == "binary":
            have = list(getattr(model, "classes_", classes))
            p = avg[0] if have.index(pos_label) == 1 else 1.0 - avg[0]
            curves = {f"P({plain(pos_label)})": p}
        else:
            have = [plain(c) for c in getattr(model, "classes_", classes)]
            curves = {str(c): avg[have.index(plain(c))] for c in classes}
        out.append({"feature": f, "kind": "categorical" if is_cat else "numeric",
                    "grid": [plain(g) for g in res["grid_values"][0]],
                    "average": {k: [float(v) for v in vals] for k, vals in curves.items()}})
    return out


def _ranking(ctx: Any, X: pd.DataFrame, y: pd.Series) -> tuple[list[str], str]:
    """Raw columns by importance: the run's permutation importance (metrics.json explain), else one computed here
    on the same rows (2 shuffles per column)."""
    perm = ((ctx.report.get("explain") or {}).get("permutation") or {}).get("features")
    if perm:
        return [r["feature"] for r in perm if r["feature"] in X.columns], "explain.permutation"
    from mlengine.evaluate.explain import permutation_importance

    data, plan = ctx.data, ctx.plan
    feats = permutation_importance(ctx.model, X, y, task=data.task, metric=plan.primary_metric, classes=data.classes,
                                   pos_label=data.pos_label, repeats=2, seed=plan.seed)
    return [r["feature"] for r in feats], "permutation importance computed for partial dependence (2 shuffles)"


def partial_dependence_record(ctx: Any) -> dict[str, Any]:
    """Partial dependence of the top features on <= PD_ROWS seeded holdout rows (training rows without a holdout)."""
    t = time.perf_counter()
    data = ctx.data
    has_holdout = ctx.X_te is not None and len(ctx.X_te)
    X, y = (ctx.X_te, ctx.y_te) if has_holdout else (ctx.X_tr, ctx.y_tr)
    take = np.sort(np.random.default_rng(ctx.plan.seed).choice(len(X), size=min(len(X), PD_ROWS), replace=False))
    X, y = X.iloc[take], y.iloc[take]
    ranked, ranked_by = _ranking(ctx, X, y)
    cols = data.columns
    categorical = [*cols.categorical, *cols.boolean]
    usable, skipped = [], []
    for f in ranked:
        if len(usable) == PD_FEATURES:
            break
        if f in cols.datetime:
            skipped.append({"feature": f, "reason": "datetime column: its parts are derived inside the pipeline"})
        elif X[f].notna().sum() == 0 or X[f].dropna().nunique() < 2:
            skipped.append({"feature": f, "reason": "fewer than two distinct values in the rows"})
        else:
            usable.append(f)
    curves = partial_dependence(ctx.model, X, usable, task=data.task, classes=list(data.classes),
                                pos_label=data.pos_label, categorical=categorical)
    response = {"binary": f"P({plain(data.pos_label)})", "multiclass": "P(class)",
                "regression": "predicted value"}[data.task]
    return {"method": "sklearn.inspection.partial_dependence (brute, average) on the saved pipeline",
            "rows": int(len(X)), "source": "holdout" if has_holdout else "training split (no holdout)",
            "grid_resolution": GRID, "ranked_by": ranked_by, "response": response, "features": curves,
            "skipped_features": skipped, "seconds": round(time.perf_counter() - t, 3)}


# --------------------------------------------------------------------------------------- the stages ---
def _timed(out: dict[str, Any], name: str, fn: Any, *args: Any, **kw: Any) -> None:
    t = time.perf_counter()
    try:
        value = fn(*args, **kw)
    except Exception as exc:  # the model is trained and scored: a diagnostic must not lose it
        log.warning("diagnostics: %s failed: %s: %s", name, type(exc).__name__, exc)
        out["skipped"][name] = f"could not be computed: {type(exc).__name__}: {exc}"
        return
    if value is None:
        out["skipped"][name] = "needs both classes in the holdout"
    else:
        out[name] = value
    out["seconds"][name] = round(time.perf_counter() - t, 4)


def score_diagnostics(task: str, y_true: Any, pred: Any, proba: Any, classes: list[Any], pos_label: Any
                      ) -> dict[str, Any]:
    """The views computed from the holdout predictions (`metrics.json["diagnostics"]`), with a reason for each
    view that does not apply."""
    out: dict[str, Any] = {"on": "holdout", "skipped": {}, "seconds": {}}
    if pred is None or not len(y_true):
        out["on"] = None
        for name in ("lift", "ks", "score_distribution", "calibration_by_class"):
            out["skipped"][name] = "no holdout rows to score"
        return out
    y = np.asarray(y_true)
    if task == "binary":
        score = np.asarray(proba, dtype=float)[:, list(classes).index(pos_label)]
        _timed(out, "lift", gains_lift, y, score, pos_label)
        _timed(out, "ks", ks_statistic, y, score, pos_label)
    else:
        why = "ranks rows by P(positive): binary tasks only" + (
            "" if task == "regression" else " (see calibration by class and score distribution)")
        out["skipped"]["lift"] = out["skipped"]["ks"] = why
    _timed(out, "score_distribution", score_distribution, task, y, proba=proba, pred=pred, classes=list(classes),
           pos_label=pos_label)
    if task == "multiclass":
        _timed(out, "calibration_by_class", calibration_by_class, y, proba, list(classes))
    else:
        out["skipped"]["calibration_by_class"] = ("binary: the Calibration section shows the reliability curve"
                                                  if task == "binary" else "regression has no class probabilities")
    return out


def add_partial_dependence(ctx: Any) -> None:
    """Add `partial_dependence` to metrics.json["diagnostics"] (after the importance ranking); never fails."""
    diag = ctx.report.setdefault("diagnostics", {"skipped": {}, "seconds": {}})
    t = time.perf_counter()
    _timed(diag, "partial_dependence", partial_dependence_record, ctx)
    if "partial_dependence" in diag:
        pd_rec = diag["partial_dependence"]
        log.info("diagnostics: partial dependence of %s on %d rows (%.1fs)",
                 ", ".join(f["feature"] for f in pd_rec["features"]) or "no feature", pd_rec["rows"],
                 time.perf_counter() - t)
