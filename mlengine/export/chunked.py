"""`mlengine predict --chunk-rows N`: predictions for files larger than memory, one chunk at a time.

Parquet is read a batch of row groups at a time (pyarrow `iter_batches`) and CSV in `chunksize` pieces, only the
columns the model needs (plus the id column). Each chunk gets the same contract checks as a whole-file predict;
violations are summed over the file into one report, with row numbers counted from the file's first row. Under
`data.on_violation: fail` prediction stops at the first bad chunk, the rest is still checked (so the report covers
the whole file) and nothing is written. The output goes to a temporary name beside OUT, renamed at the end, so a
crash or a refusal never leaves a half-written file under the real name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mlengine.errors import DataError, UserError

Progress = Callable[[int, float | None], None]  # (rows done, share of the file done when known)
MAX_EXAMPLES = 5


class ViolationReport:
    """Contract violations summed over chunks: per column and rule the count and a few (masked) examples."""

    def __init__(self, checks: int):
        self.checks, self.rows, self.bad_rows = checks, 0, 0
        self.first_bad_rows: list[int] = []
        self.violations: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, result: Any, offset: int) -> None:
        self.rows += result.rows
        self.bad_rows += len(result.bad_rows)
        self.first_bad_rows += [int(offset + i) for i in result.bad_rows[: 10 - len(self.first_bad_rows)]]
        for v in result.violations:
            agg = self.violations.setdefault((v.column, v.rule), {"column": v.column, "rule": v.rule,
                                                                  "allowed": v.allowed, "count": 0, "examples": []})
            agg["count"] += v.count
            agg["examples"] += [e for e in v.examples if e not in agg["examples"]][: MAX_EXAMPLES - len(agg["examples"])]

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> ViolationReport:
        out = cls(record["checks"])
        out.rows, out.bad_rows = record["rows"], record["rows_with_violations"]
        out.first_bad_rows = list(record["first_rows_with_violations"])
        out.violations = {(v["column"], v["rule"]): dict(v) for v in record["violations"]}
        return out

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        parts = []
        for v in self.violations.values():
            what = {"nullable": "missing value(s)", "unique": "repeated value(s)"}.get(v["rule"], "row(s) fail")
            text = f"data.schema.{v['column']}.{v['rule']}={_short(v['allowed'])}: {v['count']} {what}"
            parts.append(text + (f", e.g. {', '.join(v['examples'])}" if v["examples"] else ""))
        return (f"{len(self.violations)} contract check(s) failed on {self.bad_rows} of {self.rows} rows: "
                + "; ".join(parts) + f" (first rows, from 0: {', '.join(map(str, self.first_bad_rows))}).")

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "checks": self.checks, "passed": self.ok, "rows_with_violations": self.bad_rows,
                "first_rows_with_violations": self.first_bad_rows, "violations": list(self.violations.values())}


def _short(v: Any, width: int = 40) -> str:
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= width else text[: width - 3] + "..."


def iter_chunks(path: Path, kind: str, chunk_rows: int, columns: list[str], dtypes: dict[str, str]
                ) -> Iterator[tuple[Any, float | None]]:
    """(DataFrame chunk, share of the file read) for a CSV or Parquet file, only `columns`."""
    import pandas as pd

    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        total, done = pf.metadata.num_rows, 0
        for batch in pf.iter_batches(batch_size=chunk_rows, columns=columns):
            done += batch.num_rows
            yield pa.Table.from_batches([batch]).to_pandas(), done / max(total, 1)
        return
    size = max(path.stat().st_size, 1)
    with open(path, "rb") as handle:
        reader = pd.read_csv(handle, chunksize=chunk_rows, usecols=columns, dtype=dtypes)
        for chunk in reader:
            yield chunk, min(handle.tell() / size, 1.0)


def file_columns(path: Path, kind: str) -> list[str]:
    """The file's column names, read from the Parquet schema or the CSV header only."""
    import pandas as pd

    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    try:
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except pd.errors.EmptyDataError:
        raise DataError(f"DATA {str(path)!r} is empty: no header and no rows.") from None


class ChunkWriter:
    """Appends output chunks to a temporary file beside `path`; `commit` renames it, `discard` removes it."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = path, kind
        self.tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
        self.writer: Any = None
        self.schema: Any = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, frame: Any) -> None:
        if self.kind == "csv":
            frame.to_csv(self.tmp, index=False, mode="w" if self.writer is None else "a", header=self.writer is None)
            self.writer = True
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.tmp, self.schema)
        elif not table.schema.equals(self.schema):
            try:
                table = table.cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                raise DataError(f"--chunk-rows: a column of the output changed type between chunks ({self.schema} "
                                f"then {table.schema}); use a larger --chunk-rows or a Parquet input.") from None
        self.writer.write_table(table)

    def commit(self) -> Path:
        if self.kind == "parquet" and self.writer is not None:
            self.writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        if self.kind == "parquet" and self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


def predict_chunked(model: Any, data: Path, kind: str, output: Path, out_kind: str, chunk_rows: int, proba: bool,
                    progress: Progress | None = None) -> tuple[int, list[str], list[str], dict[str, Any] | None]:
    """Predict `data` chunk by chunk into `output`: (rows, ignored columns, notes, violation report or None)."""
    from mlengine.data.contract import check_frame, count_checks
    from mlengine.export.predict import missing_columns_error, output_frame

    if chunk_rows < 1:
        raise UserError(f"--chunk-rows {chunk_rows}: must be at least 1 row.")
    bundle = model.bundle
    required = [c["name"] for c in bundle["inputs"]]
    id_col = bundle.get("id_column")
    header = file_columns(data, kind)
    ignored = [c for c in header if c not in required and c != id_col]
    notes = [] if not id_col or id_col in header else [f"the id column {id_col!r} is not in DATA; rows are in "
                                                          "file order"]
    if [c for c in required if c not in header]:
        raise missing_columns_error(required, header, ignored)
    checks = bundle.get("data_checks") or {}
    contract = checks.get("contract") or {}
    checked = [*required, *([id_col] if id_col else [])]
    spec = {c: r for c, r in contract.items() if c in checked and c in header}
    report = ViolationReport(count_checks(spec)) if spec else None
    fail = checks.get("on_violation", "fail") == "fail"
    pii = checks.get("pii_hashed") or []
    columns = [c for c in header if c in checked]
    dtypes = {c["name"]: "str" for c in bundle["inputs"]
              if c["kind"] == "categorical" and c.get("dtype") in ("object", "str", "string")}
    writer = ChunkWriter(output, out_kind)
    rows = 0
    try:
        for chunk, share in iter_chunks(data, kind, chunk_rows, columns, dtypes):
            chunk = chunk.reset_index(drop=True)
            if report is not None:
                result = check_frame(chunk, spec)
                report.add(result, rows)
            rows += len(chunk)
            if report is None or report.ok or not fail:
                if pii:
                    from mlengine.data.pii import hash_columns

                    chunk = hash_columns(chunk, pii)
                writer.write(output_frame(model, chunk, proba, id_col))
            if progress:
                progress(rows, share)
        if rows == 0:
            raise DataError(f"DATA {str(data)!r} has a header but no rows; nothing to predict.")
        if report is not None and not report.ok and fail:
            raise DataError(f"predict input: {report.summary()} Fix the data, relax data.schema, or set "
                            "data.on_violation: warn or drop_rows. Nothing was written.")
    except BaseException:
        writer.discard()
        raise
    writer.commit()
    return rows, ignored, notes, report.to_dict() if report is not None else None
