"""Drift of new rows against a run's reference profile: per feature, per prediction, and a verdict.

Each column's distribution is its reference bins plus a missing bin (so a missing-rate jump moves PSI too); new
categorical values outside the kept levels fall in the "other" bin, and those whose hash the reference never saw
are counted as unseen. Status per column: ok / warn (PSI >= psi_warn) / alert (PSI >= psi_alert), never above ok
under `monitor.min_rows` new rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import UserError
from mlengine.monitor import stats
from mlengine.monitor.reference import level_hash

ORDER = {"alert": 0, "warn": 1, "ok": 2}


@dataclass
class Thresholds:
    psi_warn: float = 0.1
    psi_alert: float = 0.25
    min_rows: int = 100
    columns: dict[str, Any] | None = None

    @classmethod
    def from_recipe(cls, monitor: dict[str, Any] | None) -> Thresholds:
        m = monitor or {}
        return cls(m.get("psi_warn", 0.1), m.get("psi_alert", 0.25), m.get("min_rows", 100), m.get("columns") or {})

    def for_column(self, col: str) -> tuple[float, float, bool]:
        o = (self.columns or {}).get(col) or {}
        return (o.get("psi_warn") or self.psi_warn, o.get("psi_alert") or self.psi_alert, bool(o.get("ignore")))


def check_columns(reference: dict[str, Any], frame: pd.DataFrame) -> None:
    """Refuse new data without the reference's columns, or with text in a numeric column (exit 2)."""
    missing = [c for c in reference["features"] if c not in frame.columns]
    if missing:
        raise UserError(f"new data: missing column(s) {', '.join(repr(c) for c in missing)}; the run's reference "
                        f"profiles {len(reference['features'])} features and every one must be present.")
    bad = []
    for col, prof in reference["features"].items():
        if prof["kind"] == "numeric" and not pd.api.types.is_numeric_dtype(frame[col]):
            s = frame[col]
            coerced = pd.to_numeric(s, errors="coerce")
            if int((coerced.isna() & s.notna()).sum()):
                bad.append(col)
    if bad:
        raise UserError(f"new data: column(s) {', '.join(repr(c) for c in bad)} hold non-numeric values; the "
                        "reference profiles them as numeric. Fix the values or the column types.")


def numeric_counts(prof: dict[str, Any], values: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """(bin counts incl. the missing bin, non-missing values, missing count) of new values."""
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    nan = np.isnan(x)
    x = x[~nan]
    counts = np.bincount(np.searchsorted(np.asarray(prof["edges"]), x, side="right"),
                         minlength=len(prof["edges"]) + 1)
    return np.append(counts, int(nan.sum())), x, int(nan.sum())


def compare_numeric(prof: dict[str, Any], values: Any) -> dict[str, Any]:
    counts, x, missing = numeric_counts(prof, values)
    ref = np.append(np.asarray(prof["counts"]), prof["missing"])
    n = len(x) + missing
    d, p = stats.ks_from_sketch(prof["sketch"], prof["sketch_cdf"], prof["rows"] - prof["missing"], x)
    out_of_range = 0.0
    if len(x) and prof["min"] is not None:
        out_of_range = float(((x < prof["min"]) | (x > prof["max"])).sum() / len(x))
    return {"kind": "numeric", "rows": n, "psi": stats.psi(ref, counts), "js": stats.js_distance(ref, counts),
            "test": "ks", "statistic": d, "p_value": p, "missing_ref": prof["missing"] / max(prof["rows"], 1),
            "missing_new": missing / max(n, 1), "out_of_range": out_of_range, "unseen": 0.0,
            "ref_counts": ref.tolist(), "new_counts": counts.tolist(),
            "bins": [*_bin_labels(prof["edges"]), "missing"]}


def compare_categorical(prof: dict[str, Any], values: Any) -> dict[str, Any]:
    s = pd.Series(values)
    missing = int(s.isna().sum())
    vc = s.dropna().astype(str).value_counts()
    levels = list(prof["levels"])
    known = vc.reindex(levels, fill_value=0).to_numpy()
    rest = vc.drop([lv for lv in levels if lv in vc.index])
    rare = set(prof.get("rare_hashes") or [])
    unseen = 0 if prof.get("rare_truncated") else int(sum(c for v, c in rest.items() if level_hash(v) not in rare))
    counts = np.array([*known, int(rest.sum()), missing])
    ref = np.array([*prof["levels"].values(), prof["other"], prof["missing"]])
    n = int(counts.sum())
    chi, p = stats.chi_square(ref, counts)
    return {"kind": "categorical", "rows": n, "psi": stats.psi(ref, counts), "js": stats.js_distance(ref, counts),
            "test": "chi2", "statistic": chi, "p_value": p, "missing_ref": prof["missing"] / max(prof["rows"], 1),
            "missing_new": missing / max(n, 1), "out_of_range": 0.0, "unseen": unseen / max(n - missing, 1),
            "unseen_levels": int(sum(1 for v in rest.index if level_hash(v) not in rare)),
            "ref_counts": ref.tolist(), "new_counts": counts.tolist(), "bins": [*levels, "other", "missing"]}


def _bin_labels(edges: list[float]) -> list[str]:
    e = [f"{v:.4g}" for v in edges]
    if not e:
        return ["all"]
    return [f"< {e[0]}", *[f"{a} - {b}" for a, b in zip(e, e[1:], strict=False)], f">= {e[-1]}"]


def typed(values: pd.Series, prof: dict[str, Any], col: str) -> pd.Series:
    """New values cast as training cast them (mlengine.data.table), so levels compare like with like."""
    from mlengine.data.table import coerce_column

    return coerce_column(values, prof.get("type", prof["kind"]), col)


def compare_profile(prof: dict[str, Any], values: Any) -> dict[str, Any]:
    return compare_numeric(prof, values) if prof["kind"] == "numeric" else compare_categorical(prof, values)


def status_of(entry: dict[str, Any], warn: float, alert: float, ignore: bool, enough_rows: bool) -> str:
    if ignore or not enough_rows:
        return "ok"
    return "alert" if entry["psi"] >= alert else "warn" if entry["psi"] >= warn else "ok"


def compare_frame(reference: dict[str, Any], frame: pd.DataFrame, thresholds: Thresholds,
                  scores: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per-column drift of `frame` against `reference`, sorted drifting first, plus the overall status."""
    check_columns(reference, frame)
    enough = len(frame) >= thresholds.min_rows
    columns: dict[str, Any] = {}
    for col, prof in reference["features"].items():
        entry = compare_profile(prof, typed(frame[col], prof, col))
        warn, alert, ignore = thresholds.for_column(col)
        entry["status"] = status_of(entry, warn, alert, ignore, enough)
        columns[col] = entry
    ordered = dict(sorted(columns.items(), key=lambda kv: (ORDER[kv[1]["status"]], -kv[1]["psi"])))
    prediction: dict[str, Any] = {}
    ref_pred = reference.get("prediction") or {}
    for key in ("score", "classes"):
        if scores and key in scores and key in ref_pred:
            entry = compare_profile(ref_pred[key], scores[key])
            entry["status"] = status_of(entry, thresholds.psi_warn, thresholds.psi_alert, False, enough)
            prediction[key] = entry
    every = [e["status"] for e in [*columns.values(), *prediction.values()]]
    status = "alert" if "alert" in every else "warn" if "warn" in every else "ok"
    return {"rows": int(len(frame)), "reference_rows": reference["rows"], "status": status,
            "enough_rows": enough, "thresholds": {"psi_warn": thresholds.psi_warn, "psi_alert": thresholds.psi_alert,
                                                  "min_rows": thresholds.min_rows},
            "columns": ordered, "prediction": prediction}
