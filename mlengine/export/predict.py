"""`mlengine predict RUN_DIR DATA -o OUT`: batch predictions from a run's model on a CSV or Parquet file.

Required columns come from the bundle's input contract: a missing one is an error naming it, extra columns are
ignored (listed with --verbose), unseen categories are encoded as at training, and values that cannot be read as
their column's type are refused with examples (the same rules as training). The id column (data.id) is carried
into the output when the file has it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
    contract: dict[str, Any] | None = None  # the violation report of a chunked predict (None: no contract)


def read_table(path: str | Path) -> Any:
    """A CSV or Parquet file as a DataFrame; clear errors for a missing, empty or unknown file."""
    import pandas as pd

    path = Path(path)
    kind = _input_kind(path)
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
                 proba: bool = False, chunk_rows: int | None = None,
                 progress: Callable[[int, float | None], None] | None = None) -> PredictResult:
    """Predict every row of `data` with the run's model and write `output` (under a temporary name, renamed at
    the end). With `chunk_rows`, the file is streamed `chunk_rows` rows at a time (see export/chunked.py)."""
    from mlengine.export.loaded import load_model

    output = Path(output)
    out_kind = READERS.get(output.suffix.lower())
    if out_kind is None:
        raise UserError(f"--output {str(output)!r}: unknown file type {output.suffix!r}; allowed: .csv, .parquet, .pq.")
    if output.resolve() == Path(data).resolve():
        raise UserError(f"--output {str(output)!r} is the input file DATA: writing it would replace the rows being "
                        "predicted. Give another output file.")
    if chunk_rows is not None:
        from mlengine.export.chunked import predict_chunked

        kind = _input_kind(data)
        model = load_model(run_dir, format=format)
        rows, ignored, notes, report = predict_chunked(model, Path(data), kind, output, out_kind, chunk_rows, proba,
                                                       progress)
        if proba and model.task == "regression":
            notes.append("--proba ignored: a regression model has no class probabilities")
        return PredictResult(rows, output, model.format, ignored, notes, report)
    model = load_model(run_dir, format=format)
    frame = read_table(data)
    bundle = model.bundle
    required = [c["name"] for c in bundle["inputs"]]
    id_col = bundle.get("id_column")
    ignored = [c for c in frame.columns if c not in required and c != id_col]
    notes = []
    if id_col and id_col not in frame.columns:
        notes.append(f"the id column {id_col!r} is not in DATA; rows are in file order")
    if output_prefix(model, id_col):
        notes.append(f"the id column is named {id_col!r}, like an output column: the outputs are prefixed "
                     "mlengine_ (mlengine_prediction, mlengine_proba_<class>)")
    if [c for c in required if c not in frame.columns]:
        raise missing_columns_error(required, list(frame.columns), ignored)
    out = output_frame(model, frame, proba, id_col, checked=False)
    if proba and model.task == "regression":
        notes.append("--proba ignored: a regression model has no class probabilities")
    from mlengine.export.chunked import ChunkWriter

    writer = ChunkWriter(output, out_kind)  # one chunk: the same temporary name and rename
    try:
        writer.write(out)
    except BaseException:
        writer.discard()
        raise
    path = writer.commit()
    if progress:
        progress(len(frame), 1.0)
    return PredictResult(len(frame), path, model.format, ignored, notes)


def _input_kind(path: str | Path) -> str:
    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"DATA {str(path)!r}: unknown file type {path.suffix!r}; allowed: .csv, .parquet, .pq.")
    if not path.is_file():
        raise UserError(f"DATA {str(path)!r} does not exist.")
    return kind


def missing_columns_error(required: list[str], have: list[str], ignored: list[str]) -> DataError:
    from mlengine.errors import did_you_mean

    missing = [c for c in required if c not in have]
    hints = "".join(did_you_mean(c, ignored) for c in missing[:3])
    return DataError(f"DATA is missing {len(missing)} column(s) the model needs: {', '.join(missing)}.{hints} "
                     f"Required: {', '.join(required)}.")


def output_frame(model: Any, frame: Any, proba: bool, id_col: str | None, checked: bool = True) -> Any:
    """The output table for `frame`: the id column when present, `prediction`, `proba_<class>` with `proba`.

    `checked`: the contract was already checked and PII hashed (the chunked path), so the estimator is called
    directly; otherwise `model.predict` checks and hashes first."""
    import numpy as np
    import pandas as pd

    predict = model.estimator.predict if checked else model.predict
    prefix = output_prefix(model, id_col)
    out: dict[str, Any] = {}
    if id_col and id_col in frame.columns:
        out[id_col] = frame[id_col].to_numpy()
    if model.task == "regression":
        out[f"{prefix}prediction"] = np.asarray(predict(frame), dtype=np.float64)
        return pd.DataFrame(out)
    probabilities = None
    if proba:
        probabilities = np.asarray(model.estimator.predict_proba(frame) if checked else model.predict_proba(frame))
    out[f"{prefix}prediction"] = _labels(predict(frame), model.classes)
    if probabilities is not None:
        for j, cls in enumerate(model.classes):
            out[f"{prefix}proba_{cls}"] = probabilities[:, j]
    return pd.DataFrame(out)


def output_prefix(model: Any, id_col: str | None) -> str:
    """'' normally; 'mlengine_' when the id column is named like an output column (`prediction`, `proba_<class>`),
    which would otherwise overwrite it and vanish from the output."""
    names = {"prediction", *(f"proba_{c}" for c in model.classes)}
    return "mlengine_" if id_col in names else ""


def _labels(labels: Any, classes: list[Any]) -> Any:
    """Labels as the training classes' Python type (onnxruntime returns strings as objects, ints as int64)."""
    import numpy as np

    arr = np.asarray(labels)
    if classes and all(isinstance(c, str) for c in classes):
        return arr.astype(str).astype(object)
    return arr
