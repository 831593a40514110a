"""Parity: the ONNX model against the scikit-learn pipeline on the same raw rows.

Classification: labels must be equal on every row and probabilities within `tolerance` (absolute). Regression:
predictions within `tolerance` relative, |onnx - sklearn| <= tolerance * max(|sklearn|, floor), where the
floor (1e-6 of the mean absolute prediction) keeps predictions at or near zero from dividing by nothing.
mlengine's converters compute in float64 like scikit-learn, so differences are at the 1e-12 level; a row that
differs more is reported by its position (and id, when the data has one), never averaged away.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mlengine.errors import ExportError

MAX_LISTED = 20


@dataclass
class ParityReport:
    rows_checked: int
    tolerance: float
    task: str
    max_abs_diff: float
    max_rel_diff: float | None = None
    label_mismatches: int = 0
    value_mismatches: int = 0  # probabilities (classification) or predictions (regression) beyond tolerance
    failing_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.label_mismatches == 0 and self.value_mismatches == 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def summary(self) -> str:
        if self.task == "regression":
            diff = f"max abs diff {self.max_abs_diff:.3g}, max rel diff {self.max_rel_diff:.3g}"
        else:
            diff = f"max abs probability diff {self.max_abs_diff:.3g}, {self.label_mismatches} label mismatch(es)"
        return f"{self.rows_checked} rows, {diff} (tolerance {self.tolerance:g})"

    def raise_if_failed(self) -> None:
        if self.passed:
            return
        shown = "; ".join(_row_text(r) for r in self.failing_rows[:MAX_LISTED])
        more = self.label_mismatches + self.value_mismatches - min(len(self.failing_rows), MAX_LISTED)
        raise ExportError(
            f"ONNX parity check failed on {self.summary()}: {self.label_mismatches} row(s) with a different label, "
            f"{self.value_mismatches} row(s) beyond the tolerance. Rows: {shown}"
            + (" (and more; see onnx_parity.json)" if more > 0 else "")
            + ". model.joblib is unaffected and model.onnx was not kept. Use export.format: joblib to skip ONNX, "
              "or raise export.tolerance if these differences are acceptable.")


def _row_text(r: dict[str, Any]) -> str:
    who = f"row {r['row']}" + (f" (id {r['id']!r})" if "id" in r else "")
    if "label_sklearn" in r and r["label_sklearn"] != r["label_onnx"]:
        return f"{who}: label {r['label_sklearn']!r} vs {r['label_onnx']!r} in ONNX"
    return f"{who}: diff {r['diff']:.3g}"


def compare(skl_model: Any, onnx_model: Any, X: Any, task: str, tolerance: float, rows: Any = None,
            ids: Any = None) -> ParityReport:
    """Run both models on the raw rows `X` and compare (rows/ids name the rows in reports)."""
    n = len(X)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    out = onnx_model.run(onnx_model.feed_frame(X))
    failing: list[dict[str, Any]] = []

    def who(i: int) -> dict[str, Any]:
        d: dict[str, Any] = {"row": _py(rows[i])}
        if ids is not None:
            d["id"] = _py(np.asarray(ids)[i])
        return d

    if task == "regression":
        ref = np.asarray(skl_model.predict(X), dtype=np.float64).reshape(-1)
        got = np.asarray(out["prediction"], dtype=np.float64).reshape(-1)
        diff = np.abs(got - ref)
        floor = max(1e-6 * float(np.mean(np.abs(ref))), np.finfo(np.float64).tiny)
        rel = diff / np.maximum(np.abs(ref), floor)
        bad = np.flatnonzero(~(rel <= tolerance))  # NaN counts as a failure
        failing = [{**who(i), "sklearn": float(ref[i]), "onnx": float(got[i]), "diff": float(diff[i])}
                   for i in bad[:MAX_LISTED * 2]]
        return ParityReport(n, tolerance, task, _max(diff), _max(rel), 0, len(bad), failing)

    ref_label = np.asarray(skl_model.predict(X))
    ref_proba = np.asarray(skl_model.predict_proba(X), dtype=np.float64)
    got_label = np.asarray(out["label"])
    got_proba = np.asarray(out["probabilities"], dtype=np.float64)
    same = np.array([a == b for a, b in zip(ref_label.tolist(), got_label.tolist(), strict=True)], dtype=bool)
    diff = np.abs(got_proba - ref_proba).max(axis=1)
    far = ~(diff <= tolerance)
    for i in np.flatnonzero(~same | far)[:MAX_LISTED * 2]:
        failing.append({**who(i), "label_sklearn": _py(ref_label[i]), "label_onnx": _py(got_label[i]),
                        "diff": float(diff[i])})
    return ParityReport(n, tolerance, task, _max(diff), None, int((~same).sum()), int(far.sum()), failing)


def _max(a: np.ndarray) -> float:
    return float(np.max(a)) if len(a) else 0.0


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
