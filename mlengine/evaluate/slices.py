"""Slice metrics: the holdout scored separately for each value of a column the recipe names, to surface bias.

Slice columns are raw columns (features or not: a column dropped from the features, such as a protected
attribute, can still be a slice). Numeric columns with many values are cut into quantile bins; rare values
beyond the most frequent ones are grouped as "(other)"; missing values form "(missing)". Metrics a slice cannot
support (e.g. ROC AUC when a slice holds one class) are null.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import DataError, did_you_mean
from mlengine.evaluate.metrics import METRICS

MAX_GROUPS = 20


def check_slices(columns: list[str], frame: pd.DataFrame | None) -> None:
    if not columns:
        return
    have = [] if frame is None else list(frame.columns)
    for i, col in enumerate(columns):
        if col not in have:
            raise DataError(f"evaluate.slices[{i}]: column {col!r} is not in the data.{did_you_mean(col, have)} "
                            f"Columns: {', '.join(map(str, have))}.")


def slice_groups(values: pd.Series, bins: int) -> tuple[pd.Series, str]:
    """A group label per row, and how the groups were formed."""
    missing = values.isna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
            and values.nunique() > MAX_GROUPS:
        cut = pd.qcut(values, q=bins, duplicates="drop")
        groups = cut.astype(str)
        kind = f"numeric, {cut.cat.categories.size} quantile bins"
    else:
        groups = values.astype(str)
        top = groups[~missing].value_counts().index[:MAX_GROUPS]
        groups = groups.where(groups.isin(top) | missing, "(other)")
        kind = "categorical"
    return groups.where(~missing, "(missing)"), kind


def slice_report(values: pd.Series, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, metrics: list[str],
                 classes: list[Any], pos_label: Any, bins: int = 4) -> dict[str, Any]:
    groups, kind = slice_groups(values.reset_index(drop=True), bins)
    out: dict[str, Any] = {"kind": kind, "groups": []}
    for g in groups.value_counts().index:
        sel = (groups == g).to_numpy()
        entry: dict[str, Any] = {"value": g, "rows": int(sel.sum()), "share": float(sel.mean())}
        if pos_label is not None:
            entry["positive_rate"] = float(np.mean(y[sel] == pos_label))
            entry["predicted_positive_rate"] = float(np.mean(pred[sel] == pos_label))
        for m in metrics:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    v = METRICS[m].score(y[sel], pred=pred[sel], proba=None if proba is None else proba[sel],
                                         classes=classes, pos_label=pos_label)
                entry[m] = None if not np.isfinite(v) else float(v)
            except ValueError:  # e.g. one class only in this slice
                entry[m] = None
        out["groups"].append(entry)
    out["gap"] = {}
    for m in metrics:
        vals = [e[m] for e in out["groups"] if e[m] is not None and e["rows"] >= 30]
        if len(vals) >= 2:
            out["gap"][m] = float(max(vals) - min(vals))
    return out
