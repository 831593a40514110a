"""Run a run's model.onnx with onnxruntime from raw rows: a DataFrame, a dict or a list of dicts.

The feed applies the same typing as the pipeline's FrameAdapter (numbers, booleans and datetime parts as float64,
categories as strings with '' for missing), through the same `coerce_column` rules, so unreadable values are
refused with the same message. A single dict takes a fast path that builds the arrays straight from the values
(no DataFrame), which is what keeps single-row latency in microseconds. Needs numpy, pandas and onnxruntime only.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

import numpy as np

from mlengine.errors import DataError, UserError, did_you_mean

MISSING_CATEGORY = ""
_PANDAS_PART = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}
_BOOL = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "yes": 1.0, "no": 0.0, "t": 1.0, "f": 0.0, "1.0": 1.0,
         "0.0": 0.0}


class OnnxModel:
    """An onnxruntime session over a verified model.onnx, with the bundle's input contract."""

    def __init__(self, model: bytes | str | Path, inputs: list[dict[str, Any]], task: str,
                 classes: list[Any] | None = None, threads: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        data = model if isinstance(model, bytes) else Path(model).read_bytes()
        self.session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        self.inputs = inputs
        self.task = task
        self.classes = list(classes or [])
        self.sources = list(dict.fromkeys(i["source"] for i in inputs))
        self._outputs = [o.name for o in self.session.get_outputs()]

    # -------------------------------------------------------------------------------------------- feeds ---
    def feed(self, rows: Any) -> dict[str, np.ndarray]:
        """ONNX inputs for a DataFrame, a dict (fast path) or a list of dicts."""
        import pandas as pd

        if isinstance(rows, dict):
            return self.feed_row(rows)
        if isinstance(rows, list):
            if not rows:
                raise UserError("predict got no rows.")
            rows = pd.DataFrame.from_records(rows)
        if not isinstance(rows, pd.DataFrame):
            raise UserError(f"predict takes a pandas DataFrame, a dict or a list of dicts; got {type(rows).__name__}.")
        return self.feed_frame(rows)

    def check_columns(self, present: Any) -> None:
        missing = [c for c in self.sources if c not in present]
        if missing:
            hints = "".join(did_you_mean(c, [p for p in present if p not in self.sources]) for c in missing[:3])
            raise DataError(f"input is missing {len(missing)} required column(s): {', '.join(missing)}.{hints}")

    def feed_frame(self, frame: Any) -> dict[str, np.ndarray]:
        """Typed [N, 1] arrays per input from a DataFrame (the FrameAdapter's rules, column by column)."""
        from mlengine.data.table import coerce_column

        if len(frame) == 0:
            raise UserError("predict got no rows.")
        self.check_columns(frame.columns)
        feed: dict[str, np.ndarray] = {}
        typed: dict[str, Any] = {}
        for spec in self.inputs:
            src, kind = spec["source"], spec["kind"]
            if src not in typed:
                typed[src] = coerce_column(frame[src], kind, src)
            col = typed[src]
            if kind == "datetime":
                values = getattr(col.dt, _PANDAS_PART.get(spec["part"], spec["part"])).to_numpy(np.float64,
                                                                                                 na_value=np.nan)
            elif kind == "categorical":
                values = col.fillna(MISSING_CATEGORY).to_numpy(object)
            else:
                values = col.to_numpy(np.float64, na_value=np.nan)
            feed[spec["name"]] = values.reshape(-1, 1)
        return feed

    def feed_row(self, row: dict[str, Any]) -> dict[str, np.ndarray]:
        """Typed [1, 1] arrays for one dict of raw values, without pandas for the common value types."""
        self.check_columns(row)
        feed: dict[str, np.ndarray] = {}
        parts: dict[str, Any] = {}
        for spec in self.inputs:
            src, kind, v = spec["source"], spec["kind"], row[spec["source"]]
            if kind == "numeric":
                feed[spec["name"]] = np.array([[_number(v, src)]], dtype=np.float64)
            elif kind == "boolean":
                feed[spec["name"]] = np.array([[_boolean(v, src)]], dtype=np.float64)
            elif kind == "categorical":
                feed[spec["name"]] = np.array([[_category(v)]], dtype=object)
            else:
                if src not in parts:
                    parts[src] = _datetime_parts(v, src)
                feed[spec["name"]] = np.array([[parts[src](spec["part"])]], dtype=np.float64)
        return feed

    # ------------------------------------------------------------------------------------------ predict ---
    def run(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self._outputs, self.session.run(None, feed), strict=True))

    def predict(self, rows: Any) -> np.ndarray:
        """Labels (classification) or values (regression), one per row."""
        out = self.run(self.feed(rows))
        if self.task == "regression":
            return out["prediction"]
        return out["label"]

    def predict_proba(self, rows: Any) -> np.ndarray:
        if self.task == "regression":
            raise UserError("predict_proba is for classification; this model is a regression model.")
        return self.run(self.feed(rows))["probabilities"]


# ------------------------------------------------------------------------------------- value coercions ---
def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ in ("NAType", "NaTType")


def _slow(v: Any, kind: str, name: str) -> Any:
    """The pandas rules (coerce_column) for a value the fast path does not handle."""
    import pandas as pd

    from mlengine.data.table import coerce_column

    return coerce_column(pd.Series([v]), kind, name)


def _number(v: Any, name: str) -> float:
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v)
    if v is None:
        return math.nan
    return float(_slow(v, "numeric", name).iloc[0])


def _boolean(v: Any, name: str) -> float:
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if _missing(v):
        return math.nan
    out = _BOOL.get(str(v).strip().lower())
    if out is None:
        return float(_slow(v, "boolean", name).iloc[0])  # raises the DataError with the column's name
    return out


def _category(v: Any) -> str:
    if isinstance(v, str):
        return v
    if _missing(v):
        return MISSING_CATEGORY
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    return str(v)


def _datetime_parts(v: Any, name: str) -> Any:
    """A function part -> float for one datetime value (NaN for every part when missing)."""
    if isinstance(v, _dt.datetime) and v.tzinfo is None:
        ts = v
    else:
        parsed = _slow(v, "datetime", name).iloc[0]
        if parsed != parsed:  # NaT
            return lambda part: math.nan
        ts = parsed.to_pydatetime()
    values = {"year": ts.year, "month": ts.month, "day": ts.day, "dayofweek": ts.weekday(),
              "dayofyear": ts.timetuple().tm_yday, "hour": ts.hour, "minute": ts.minute}
    return lambda part: float(values[part])
