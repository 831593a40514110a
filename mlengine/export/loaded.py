"""`load_model(run_dir, format=...)`: a run's model, ready for raw rows (DataFrame, dict or list of dicts).

`joblib` unpickles the scikit-learn pipeline (exact, needs scikit-learn and trust: its sha256 is checked first);
`onnx` runs model.onnx with onnxruntime (fast, no unpickling; checked against its sha256 too); `auto` picks onnx
when the run has one, else joblib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlengine.errors import ModelLoadError, UserError
from mlengine.export.joblib_bundle import load_verified_joblib, read_bundle, verified_path

FORMATS = ("joblib", "onnx", "auto")


class LoadedModel:
    """A run's model with the bundle's metadata. `predict` / `predict_proba` take raw input columns."""

    def __init__(self, run_dir: Path, bundle: dict[str, Any], estimator: Any, format: str = "joblib"):
        self.run_dir = run_dir
        self.bundle = bundle
        self.estimator = estimator  # the scikit-learn pipeline, or an OnnxModel
        self.format = format

    def _repr_html_(self) -> str:
        """A notebook cell shows what the model takes and gives."""
        from html import escape

        inputs = ", ".join(f"{escape(c['name'])} <small>({escape(str(c.get('kind', '')))})</small>"
                           for c in self.bundle["inputs"])
        classes = ", ".join(escape(repr(c)) for c in self.classes) or "-"
        return (f"<div><b>mlengine model</b> ({escape(self.format)}) from <code>{escape(str(self.run_dir))}</code>"
                f"<br>task {escape(self.task)}; classes {classes}<br>inputs: {inputs}</div>")

    @property
    def task(self) -> str:
        return self.bundle["task"]

    @property
    def classes(self) -> list[Any]:
        return list(self.bundle.get("classes") or [])

    @property
    def input_columns(self) -> list[str]:
        return [c["name"] for c in self.bundle["inputs"]]

    def _frame(self, rows: Any) -> Any:
        import pandas as pd

        if isinstance(rows, pd.DataFrame):
            frame = rows
        elif isinstance(rows, dict):
            frame = pd.DataFrame([rows])
        elif isinstance(rows, list):
            frame = pd.DataFrame.from_records(rows)
        else:
            raise UserError(f"predict takes a pandas DataFrame, a dict or a list of dicts; got {type(rows).__name__}.")
        if len(frame) == 0:
            raise UserError("predict got no rows.")
        return frame

    def check(self, rows: Any) -> Any:
        """The data contract (`data.schema` of the run) on the input columns: a ContractResult, never raises."""
        from mlengine.data.contract import check_frame

        return check_frame(self._frame(rows), self.bundle.get("data_checks", {}).get("contract") or {},
                           columns=self._checked_columns())

    def _checked_columns(self) -> list[str]:
        return [*self.input_columns, *([self.bundle["id_column"]] if self.bundle.get("id_column") else [])]

    def prepare(self, rows: Any) -> Any:
        """Raw rows -> the frame the model takes: contract checked (data.on_violation: fail raises, warn and
        drop_rows warn; rows are never dropped from a prediction) and PII columns hashed as in training."""
        checks = self.bundle.get("data_checks") or {}
        if not checks.get("contract") and not checks.get("pii_hashed"):
            # nothing to check: ONNX takes dicts as they are (its fast path), joblib a DataFrame
            return rows if self.format == "onnx" else self._frame(rows)
        from mlengine.data.contract import enforce
        from mlengine.data.pii import hash_columns

        frame = self._frame(rows)
        if checks.get("contract"):
            frame, _ = enforce(frame, checks["contract"], checks.get("on_violation", "fail"), where="predict input",
                               columns=self._checked_columns())
        if checks.get("pii_hashed"):
            frame = hash_columns(frame, checks["pii_hashed"])
        return frame

    def predict(self, rows: Any) -> Any:
        """Predicted labels (classification) or values (regression), one per row."""
        return self.estimator.predict(self.prepare(rows))

    def predict_proba(self, rows: Any) -> Any:
        """Class probabilities, columns in `classes` order (classification only)."""
        if self.task == "regression":
            raise UserError("predict_proba is for classification; this model is a regression model.")
        return self.estimator.predict_proba(self.prepare(rows))


def load_model(run_dir: str | Path, format: str = "joblib", threads: int | None = None) -> LoadedModel:
    """Load a run's model after checking its hash against the bundle."""
    run_dir = Path(run_dir)
    if format not in FORMATS:
        raise UserError(f"format: {format!r} is not available; allowed: {', '.join(FORMATS)}.")
    bundle = read_bundle(run_dir)
    if format == "auto":
        format = "onnx" if "model.onnx" in bundle.get("artifacts", {}) else "joblib"
    if format == "joblib":
        return LoadedModel(run_dir, bundle, load_verified_joblib(run_dir, bundle), "joblib")
    return LoadedModel(run_dir, bundle, load_verified_onnx(run_dir, bundle, threads), "onnx")


def load_verified_onnx(run_dir: Path, bundle: dict[str, Any], threads: int | None = None) -> Any:
    """An OnnxModel over model.onnx, after its sha256 check."""
    from mlengine.export.onnx_runtime import OnnxModel

    path = verified_path(run_dir, bundle, "model.onnx")
    info = bundle.get("onnx") or {}
    signature = info.get("signature")
    if not signature:
        raise ModelLoadError(f"{str(path)!r} has no input signature in model.json; the bundle is damaged.")
    try:
        return OnnxModel(path.read_bytes(), signature["inputs"], "regression" if bundle["task"] == "regression"
                         else "classification", bundle.get("classes"), threads=threads)
    except Exception as exc:
        raise ModelLoadError(f"{str(path)!r} could not be loaded by onnxruntime: {exc}.") from None
