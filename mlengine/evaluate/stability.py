"""Drift risk over time, before deployment: the model's metric per period of the training split, on out-of-fold
predictions, and PSI of every feature (and of the score) between the first period and each later one.

Periods: a datetime or numeric `by` column is cut into `periods` equal-count buckets in its order (equal values
stay in one bucket; with at most `periods` distinct values each value is its own period); a categorical or
boolean one gives one period per value, in sorted order. Only training rows are used (the holdout is never
read), and every prediction scored is out-of-fold: a row is scored by a model that did not see it. PSI reuses
the drift monitor's reference bins (`mlengine.monitor.reference`, fitted on the first period's rows) and its
smoothed PSI (`mlengine.monitor.stats`).

`evaluate.stability` is on by default and applies when the data has a time column (`data.time`, else the first
datetime feature); set `by` to choose another column. Without a time column (or without cross-validation) and
without an explicit `by`, there is no stability report and nothing fails.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import DataError, did_you_mean

log = logging.getLogger("mlengine")

KEY = "evaluate.stability.by"
MIN_ROWS = 30  # rows a period needs to be scored at all (metrics and PSI are noise below)
MAX_LEVELS = 50  # categorical `by`: at most this many periods


@dataclass
class ByColumn:
    """The column that defines the periods, its values on the training rows and why it was chosen."""

    name: str
    kind: str  # datetime | numeric | categorical | boolean
    values: pd.Series  # aligned with the training rows (X_tr order)
    chosen: str  # evaluate.stability.by | data.time | first datetime feature


def explicit(recipe: Any) -> bool:
    """The recipe asked for stability itself (so problems are errors, not a silent skip)."""
    ev = recipe.evaluate
    return "stability" in ev.model_fields_set and ev.stability.enabled


def resolve_by(recipe: Any, data: Any, train_idx: np.ndarray) -> ByColumn | None:
    """The `by` column on the training rows, or None when stability does not apply; DataError for a bad column."""
    st = recipe.evaluate.stability
    if not st.enabled:
        return None
    d = recipe.data
    name, chosen = st.by, KEY
    if name is None:
        if d.time:
            name, chosen = d.time, "data.time"
        elif data.columns.datetime:
            name, chosen = data.columns.datetime[0], "first datetime feature"
        else:
            return None
    if name == d.target:
        raise DataError(f"{KEY}: {name!r} is the target; periods must come from a column known before the "
                        "outcome (a date, a batch, a region).")
    if d.time and name == d.time:
        values, kind = data.times, "datetime"
    elif name in data.X.columns:
        values, kind = data.X[name], data.columns.kind_of(name)
    elif d.group and name == d.group:
        values, kind = data.groups, None
    elif d.id and name == d.id:
        values, kind = data.ids, None
    elif data.raw is not None and name in data.raw.columns:
        values, kind = data.raw[name], None
    else:
        cols = [c for c in [*data.X.columns, d.group, d.id, *(d.drop or [])] if c]
        raise DataError(f"{KEY}: column {name!r} is not in the data.{did_you_mean(name, cols)} Allowed: a "
                        f"feature, data.time, data.group, data.id or a data.drop column; the table has "
                        f"{', '.join(map(str, cols))}.")
    if kind is None:
        from mlengine.data.table import coerce_column, infer_kind

        kind = infer_kind(values)
        values = coerce_column(values, kind, name)
    return ByColumn(str(name), kind, values.iloc[train_idx].reset_index(drop=True), chosen)


def assign_periods(by: ByColumn, periods: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """(period code per row, -1 for a missing value; one {label, start, end} per period, in order)."""
    s = by.values
    missing = s.isna().to_numpy()
    codes = np.full(len(s), -1, dtype=int)
    if by.kind in ("datetime", "numeric"):
        v = (s.astype("int64") if by.kind == "datetime" else s).to_numpy(dtype=float)
        v = np.where(missing, np.nan, v)
        ok = v[~missing]
        distinct = np.unique(ok)
        if len(distinct) <= periods:
            edges = distinct[1:]
        else:  # period k starts at sorted row ceil(k n / N); equal values never straddle two periods
            srt = np.sort(ok)
            edges = np.unique(srt[np.ceil(np.arange(1, periods) * len(srt) / periods).astype(int)])
            edges = edges[edges > distinct[0]]
        codes[~missing] = np.searchsorted(edges, ok, side="right")
        used = np.unique(codes[~missing])
        codes[~missing] = np.searchsorted(used, codes[~missing])
        info = []
        for k in range(len(used)):
            sel = s[codes == k]
            lo, hi = sel.min(), sel.max()
            info.append({"label": _span(lo, hi, by.kind), "start": _plain(lo, by.kind), "end": _plain(hi, by.kind)})
        return codes, info
    levels = sorted(s[~missing].astype(str).unique())
    if len(levels) > MAX_LEVELS:
        raise DataError(f"{KEY}: column {by.name!r} has {len(levels)} distinct values on the training rows; a "
                        f"categorical column makes one period per value, at most {MAX_LEVELS}. Use a coarser "
                        "column (e.g. a month or a region).")
    lookup = {lv: i for i, lv in enumerate(levels)}
    codes[~missing] = [lookup[str(v)] for v in s[~missing]]
    return codes, [{"label": lv, "start": lv, "end": lv} for lv in levels]


def _plain(v: Any, kind: str) -> Any:
    if kind == "datetime":
        return pd.Timestamp(v).isoformat()
    return float(v)


def _span(lo: Any, hi: Any, kind: str) -> str:
    if kind == "datetime":
        lo, hi = pd.Timestamp(lo), pd.Timestamp(hi)
        whole = lo == lo.normalize() and hi == hi.normalize()
        a, b = (lo.date().isoformat(), hi.date().isoformat()) if whole or (hi - lo).days >= 2 else (str(lo), str(hi))
        return a if a == b else f"{a} .. {b}"
    return f"{lo:g}" if lo == hi else f"{lo:g} .. {hi:g}"


def check_stability(recipe: Any, data: Any, train_idx: np.ndarray) -> None:
    """Before any fit: refuse an explicit `evaluate.stability` that cannot be reported (exit 2)."""
    by = resolve_by(recipe, data, train_idx)
    if by is None or not explicit(recipe):
        if by is None and recipe.evaluate.stability.by is None and explicit(recipe):
            raise DataError("evaluate.stability: the data has no time column to make periods of (no data.time, no "
                            "datetime feature); set evaluate.stability.by to a column.")
        return
    if recipe.cv.kind == "none":
        raise DataError("evaluate.stability: the metric per period is scored on out-of-fold predictions, and "
                        "cv.kind is 'none'. Set cv.kind (e.g. kfold), or evaluate.stability.enabled: false.")
    _checked_periods(by, recipe.evaluate.stability.periods)


def _checked_periods(by: ByColumn, periods: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    codes, info = assign_periods(by, periods)
    if len(info) < 2:
        raise DataError(f"{KEY}: column {by.name!r} has {len(info)} distinct value(s) on the training rows (missing "
                        "values excluded); periods need at least two.")
    counts = np.bincount(codes[codes >= 0], minlength=len(info))
    if counts.min() < MIN_ROWS:
        small = info[int(np.argmin(counts))]["label"]
        raise DataError(f"{KEY}: period {small!r} of column {by.name!r} has {int(counts.min())} training rows; "
                        f"each period needs at least {MIN_ROWS}. Lower evaluate.stability.periods (now {periods}) "
                        "or use a coarser column.")
    return codes, info


# ------------------------------------------------------------------------------------------------ report ---
def stability_report(ctx: Any) -> dict[str, Any] | None:
    """metrics.json["stability"] for a run, or None when it does not apply (see the module docstring)."""
    recipe, data, cv = ctx.recipe, ctx.data, ctx.cv_result
    by = resolve_by(recipe, data, ctx.train_idx)
    if by is None:
        return None
    if cv is None:  # only reached without an explicit request (check_stability refuses cv.kind none)
        return {"by": by.name, "chosen": by.chosen, "skipped": "no out-of-fold predictions (cv.kind none)"}
    try:
        codes, info = _checked_periods(by, recipe.evaluate.stability.periods)
    except DataError as exc:
        if explicit(recipe):
            raise
        log.info("stability: skipped (%s)", exc)
        return {"by": by.name, "chosen": by.chosen, "skipped": str(exc)}
    plan = ctx.plan
    y = ctx.y_tr.to_numpy()
    validated = np.asarray(cv.validated if cv.validated is not None else np.ones(len(y), dtype=bool), dtype=bool)
    score = _score_vector(cv, data)
    periods = []
    for k, p in enumerate(info):
        rows = codes == k
        mask = rows & validated
        entry = {"period": k + 1, **p, "rows": int(rows.sum()), "validated": int(mask.sum()),
                 "target_rate": _target_rate(y[rows], data), "metrics": _metrics(plan, y, cv, mask, data)}
        periods.append(entry)
    _add_psi(periods, codes, ctx, by, score, validated)
    primary = plan.primary_metric
    from mlengine.evaluate.metrics import METRICS

    values = [p["metrics"].get(primary) for p in periods]
    scored = [v for v in values if v is not None]
    max_psi: dict[str, float] = {}
    for p in periods[1:]:
        for col, v in p["psi"].items():
            max_psi[col] = max(max_psi.get(col, 0.0), v)
    max_psi = dict(sorted(max_psi.items(), key=lambda kv: -kv[1]))
    warn, alert = recipe.monitor.psi_warn, recipe.monitor.psi_alert
    out = {
        "by": by.name, "kind": by.kind, "chosen": by.chosen, "periods_requested": recipe.evaluate.stability.periods,
        "primary_metric": primary, "greater_is_better": METRICS[primary].greater_is_better,
        "on": "out-of-fold predictions of the training split", "rows_without_period": int((codes < 0).sum()),
        "periods": periods, "max_psi": max_psi,
        "drifting": [c for c, v in max_psi.items() if v >= warn],
        "thresholds": {"psi_warn": warn, "psi_alert": alert},
        "metric_range": [min(scored), max(scored)] if scored else None,
        "score_of": score[1] if score else None,
    }
    if plan.cv.uses_time:
        out["note"] = ("time-ordered folds: early rows are never validated, and each period's scores come from "
                       "models trained on the rows before it")
    log.info("stability by %s: %d periods, %s %s; most shifted: %s", by.name, len(periods), primary,
             " / ".join("-" if v is None else f"{v:.4f}" for v in values),
             ", ".join(f"{c} (PSI {v:.2f})" for c, v in list(max_psi.items())[:3]) or "-")
    return out


def _score_vector(cv: Any, data: Any) -> tuple[np.ndarray, str] | None:
    """The out-of-fold score per training row: P(positive) (binary), the value (regression), or None."""
    if data.task == "binary" and cv.oof_proba is not None:
        return cv.oof_proba[:, list(data.classes).index(data.pos_label)], f"P({data.pos_label})"
    if data.task == "regression":
        return np.asarray(cv.oof_pred, dtype=float), "predicted value"
    return None


def _target_rate(y: np.ndarray, data: Any) -> float | None:
    if not len(y):
        return None
    if data.task == "binary":
        return float(np.mean(y == data.pos_label))
    if data.task == "regression":
        return float(np.mean(y.astype(float)))
    return None


def _metrics(plan: Any, y: np.ndarray, cv: Any, mask: np.ndarray, data: Any) -> dict[str, float | None]:
    """Every reported metric on the period's out-of-fold predictions; None where it cannot be computed (too few
    rows, a single class in the period)."""
    import warnings

    from mlengine.evaluate.metrics import METRICS

    out: dict[str, float | None] = {}
    if mask.sum() < MIN_ROWS:
        return {m: None for m in plan.metrics}
    pred = np.asarray(cv.oof_pred[mask].tolist())  # object array (None where unvalidated) -> the labels' dtype
    proba = None if cv.oof_proba is None else cv.oof_proba[mask]
    for m in plan.metrics:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = METRICS[m].score(y[mask], pred=pred, proba=proba, classes=data.classes, pos_label=data.pos_label)
            out[m] = None if v is None or not np.isfinite(v) else float(v)
        except (ValueError, ZeroDivisionError, IndexError):
            out[m] = None
    return out


def _add_psi(periods: list[dict[str, Any]], codes: np.ndarray, ctx: Any, by: ByColumn,
             score: tuple[np.ndarray, str] | None, validated: np.ndarray) -> None:
    """PSI of every profiled feature (reference: the first period) and of the out-of-fold score (reference: the
    first period mostly scored out of fold), into each period's entry ("psi", "score_psi")."""
    from mlengine.monitor.compare import compare_profile
    from mlengine.monitor.reference import categorical_profile, numeric_profile

    X = ctx.X_tr.reset_index(drop=True)
    cols = ctx.data.columns
    bins = ctx.recipe.monitor.bins
    first = codes == 0
    profiles = {c: numeric_profile(X.loc[first, c], bins) for c in cols.numeric if c != by.name}
    profiles.update({c: categorical_profile(X.loc[first, c]) for c in [*cols.boolean, *cols.categorical]
                     if c != by.name})
    ref_k, score_prof = None, None
    if score is not None:
        s = score[0]
        ref_k = _score_reference(codes, validated, len(periods))
        if ref_k is not None:
            score_prof = numeric_profile(s[(codes == ref_k) & validated], bins)
    elif ctx.data.task == "multiclass":
        s = np.asarray(ctx.cv_result.oof_pred).astype(str)
        ref_k = _score_reference(codes, validated, len(periods))
        if ref_k is not None:
            score_prof = categorical_profile(s[(codes == ref_k) & validated])
    for k, p in enumerate(periods):
        rows = codes == k
        p["psi"] = {} if k == 0 else {c: round(compare_profile(prof, X.loc[rows, c])["psi"], 6)
                                      for c, prof in profiles.items()}
        mask = rows & validated
        p["score_psi"] = None
        if score_prof is not None and k > ref_k and mask.sum() >= MIN_ROWS:
            p["score_psi"] = round(compare_profile(score_prof, s[mask])["psi"], 6)
    if ref_k is not None:
        periods[ref_k]["score_reference"] = True


def _score_reference(codes: np.ndarray, validated: np.ndarray, n: int) -> int | None:
    """The first period whose rows mostly have out-of-fold scores (time-ordered folds never score the earliest)."""
    for k in range(n):
        rows = codes == k
        got = int((rows & validated).sum())
        if got >= MIN_ROWS and got >= 0.5 * rows.sum():
            return k
    return None
