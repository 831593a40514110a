"""`mlengine predict RUN_DIR DATA -o OUT`: batch predictions from a run's model on a CSV or Parquet file.

Required columns come from the bundle's input contract: a missing one is an error naming it, extra columns are
ignored (listed with --verbose), unseen categories are encoded as at training, and values that cannot be read as
their column's type are refused with examples (the same rules as training). The id column (data.id) is carried
into the output when the file has it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlengine.errors import DataError, UserError

log = logging.getLogger("mlengine")
READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class PredictResult:
    rows: int
    output: Path
    format: str
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_table(path: str | Path) -> Any:
    """A CSV or Parquet file as a DataFrame; clear errors for a missing, empty or unknown file."""
    import pandas as pd

    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"DATA {str(path)!r}: unknown file type {path.suffix!r}; allowed: .csv, .parquet, .pq.")
    if not path.is_file():
        raise UserError(f"DATA {str(path)!r} does not exist.")
    try:
        frame = pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"DATA {str(path)!r} is empty: no header and no rows.") from None
    except Exception as exc:
        raise DataError(f"DATA {str(path)!r} could not be read as {kind}: {exc}") from None
    if len(frame) == 0:
        raise DataError(f"DATA {str(path)!r} has a header but no rows; nothing to predict.")
    return frame


def write_table(frame: Any, path: str | Path) -> Path:
    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"--output {str(path)!r}: unknown file type {path.suffix!r}; allowed: .csv, .parquet, .pq.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def predict_file(run_dir: str | Path, data: str | Path, output: str | Path, format: str = "auto",
                 proba: bool = False) -> PredictResult:
    """Predict every row of `data` with the run's model and write `output`."""
    import numpy as np
    import pandas as pd

    from mlengine.export.loaded import load_model

    output = Path(output)
    if output.suffix.lower() not in READERS:
        raise UserError(f"--output {str(output)!r}: unknown file type {output.suffix!r}; allowed: .csv, .parquet, .pq.")
    model = load_model(run_dir, format=format)
    frame = read_table(data)
    bundle = model.bundle
    required = [c["name"] for c in bundle["inputs"]]
    id_col = bundle.get("id_column")
    ignored = [c for c in frame.columns if c not in required and c != id_col]
    notes = []
    out: dict[str, Any] = {}
    if id_col:
        if id_col in frame.columns:
            out[id_col] = frame[id_col].to_numpy()
        else:
            notes.append(f"the id column {id_col!r} is not in DATA; rows are in file order")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        from mlengine.errors import did_you_mean

        hints = "".join(did_you_mean(c, ignored) for c in missing[:3])
        raise DataError(f"DATA is missing {len(missing)} column(s) the model needs: {', '.join(missing)}.{hints} "
                        f"Required: {', '.join(required)}.")
    if model.task == "regression":
        out["prediction"] = np.asarray(model.predict(frame), dtype=np.float64)
    else:
        probabilities = np.asarray(model.predict_proba(frame)) if proba else None
        out["prediction"] = _labels(model.predict(frame), model.classes)
        if probabilities is not None:
            for j, cls in enumerate(model.classes):
                out[f"proba_{cls}"] = probabilities[:, j]
    if proba and model.task == "regression":
        notes.append("--proba ignored: a regression model has no class probabilities")
    path = write_table(pd.DataFrame(out), output)
    return PredictResult(len(frame), path, model.format, ignored, notes)


def _labels(labels: Any, classes: list[Any]) -> Any:
    """Labels as the training classes' Python type (onnxruntime returns strings as objects, ints as int64)."""
    import numpy as np

    arr = np.asarray(labels)
    if classes and all(isinstance(c, str) for c in classes):
        return arr.astype(str).astype(object)
    return arr
