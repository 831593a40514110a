"""Data fingerprints: what a run read, recorded so that a later read can say exactly what changed.

A fingerprint is taken of the table as the source returned it (before roles and types are applied): row count,
column names in order, dtypes, a content hash per column and one over the whole table, plus the source itself
(sha256 and size of every file read, or the SQL query text). Column hashes are computed from the values in a
canonical byte form (little-endian numbers, NaN normalised, text as UTF-8 with an explicit missing marker), not
from pandas' internal hashing, so they do not move with pandas versions. Each column also keeps short hashes of
`BLOCKS` equal row ranges, so a changed cell is located to a row range, not just to a column.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mlengine.records import sha256_file

FORM = "mlengine-table-v1"
BLOCKS = 16
_MISSING = "\x00"  # a missing text value; cannot be confused with a string, which never holds NUL from a CSV
_SEP = "\x1e"


# ------------------------------------------------------------------------------------------------ hashing ---
def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return f"{type(value).__name__}:{value!r}"


def canonical_bytes(s: Any) -> bytes:
    """The values of one column (a pandas Series) as bytes that depend on the values and dtype only."""
    import numpy as np
    import pandas as pd

    dtype = s.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "b":
            return s.to_numpy().astype(np.uint8).tobytes()
        if dtype.kind in "iu":
            return s.to_numpy().astype("<i8" if dtype.kind == "i" else "<u8").tobytes()
        if dtype.kind == "f":
            arr = s.to_numpy().astype("<f8")
            arr[np.isnan(arr)] = np.nan  # one bit pattern for every NaN
            return arr.tobytes()
        if dtype.kind in "mM":
            return s.to_numpy().view("<i8").tobytes()
    na = s.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):  # nullable Int64, Float64, boolean
        values = s.to_numpy(dtype="float64", na_value=0.0).astype("<f8")
        return np.packbits(na).tobytes() + values.tobytes()
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return str(dtype.tz).encode() + b"\0" + naive.to_numpy().view("<i8").tobytes()
    values = s.to_numpy(dtype=object).copy()
    values[na] = _MISSING
    try:
        text = _SEP.join(values)  # all text: joined in C
    except TypeError:  # other objects: each tagged with its type
        text = _SEP.join(_MISSING if m else _text(v) for v, m in zip(values, na, strict=True))
    return text.encode("utf-8", errors="surrogatepass")


def column_record(s: Any) -> dict[str, Any]:
    """dtype, sha256 of the column's content, and short hashes of BLOCKS row ranges (to locate a change)."""
    n = len(s)
    size = max(1, -(-n // BLOCKS))
    blocks = [hashlib.sha256(canonical_bytes(s.iloc[i:i + size])).digest() for i in range(0, n, size)] or [b""]
    whole = hashlib.sha256(str(s.dtype).encode() + b"\0" + b"".join(blocks)).hexdigest()
    return {"dtype": str(s.dtype), "sha256": whole, "block_rows": size, "blocks": [b.hex()[:12] for b in blocks]}


def fingerprint_frame(df: Any) -> dict[str, Any]:
    """Rows, columns, dtypes and content hashes of a DataFrame."""
    columns = {str(c): column_record(df[c]) for c in df.columns}
    summary = {"rows": int(len(df)), "columns": [str(c) for c in df.columns],
               "column_sha256": {c: r["sha256"] for c, r in columns.items()}}
    content = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()
    return {"form": FORM, "content_sha256": content, "rows": int(len(df)), "n_columns": len(columns),
            "columns": columns}


# ------------------------------------------------------------------------------------------------ sources ---
def source_files(source: Any) -> list[tuple[str, str]]:
    """(recipe key, absolute path) of every local file a source reads by name (the source option says)."""
    return source.files()


def _masked_url(url: str | None) -> str | None:
    if not url or "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def source_record(source: Any) -> dict[str, Any]:
    """The source as run: kind, files with sha256 and size, query text (SQL), dataset name (builtin)."""
    from pathlib import Path

    rec: dict[str, Any] = {"kind": source.kind, "files": []}
    for key, path in source_files(source):
        p = Path(path)
        entry: dict[str, Any] = {"key": key, "path": str(p)}
        if p.is_file():
            entry.update(sha256=sha256_file(p), bytes=p.stat().st_size)
        rec["files"].append(entry)
    if source.kind == "sql":
        rec["query"] = source.query
        rec["url"] = _masked_url(source.url)
    if source.kind == "builtin":
        rec["name"] = source.name
    return rec


def fingerprint_table(df: Any, source: Any) -> dict[str, Any]:
    """The data fingerprint a run records: the table read plus where it came from."""
    return {**fingerprint_frame(df), "source": source_record(source)}


# ---------------------------------------------------------------------------------------------- comparing ---
def _rows_of_block(i: int, size: int, rows: int) -> str:
    lo, hi = i * size, min((i + 1) * size, rows) - 1
    return f"rows {lo}-{hi}" if hi > lo else f"row {lo}"


def compare_fingerprints(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Sentences saying what differs between two table fingerprints (empty when the content is the same)."""
    if recorded.get("content_sha256") == current.get("content_sha256"):
        return []
    out: list[str] = []
    r_rows, c_rows = recorded["rows"], current["rows"]
    if r_rows != c_rows:
        diff = c_rows - r_rows
        out.append(f"rows: {r_rows} recorded, {c_rows} now ({abs(diff)} {'more' if diff > 0 else 'fewer'})")
    r_rec, c_rec = recorded["columns"], current["columns"]
    r_cols, c_cols = list(r_rec), list(c_rec)
    removed = [c for c in r_cols if c not in c_cols]
    added = [c for c in c_cols if c not in r_cols]
    if removed:
        out.append(f"columns removed: {', '.join(removed)}")
    if added:
        out.append(f"columns added: {', '.join(added)}")
    common = [c for c in r_cols if c in c_cols]
    if not removed and not added and r_cols != c_cols:
        out.append("column order changed: " + ", ".join(c_cols))
    changed_cols = []
    for c in common:
        a, b = r_rec[c], c_rec[c]
        if a["dtype"] != b["dtype"]:
            out.append(f"column {c!r}: dtype {a['dtype']} recorded, {b['dtype']} now")
        if a["sha256"] == b["sha256"]:
            continue
        if r_rows != c_rows:
            changed_cols.append(c)
            continue
        where = ""
        if a.get("block_rows") == b.get("block_rows") and a.get("blocks"):
            changed = [i for i, (x, y) in enumerate(zip(a["blocks"], b["blocks"], strict=False)) if x != y]
            if changed and len(changed) == len(a["blocks"]) > 1:
                where = f" throughout (all {len(changed)} row ranges)"
            elif changed:
                parts = [_rows_of_block(i, a["block_rows"], r_rows) for i in changed[:4]]
                where = " in " + ", ".join(parts) + (f" and {len(changed) - 4} more ranges" if len(changed) > 4 else "")
        out.append(f"column {c!r}: content changed{where}")
    if changed_cols:
        out.append(f"content changed in {len(changed_cols)} of {len(common)} common columns "
                   f"({', '.join(changed_cols[:10])}{', ...' if len(changed_cols) > 10 else ''})")
    if not out:
        out.append("table content changed (same rows, columns and column contents; the table hash differs)")
    return out


def compare_sources(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Differences in the source files (sha256, size) between two source records."""
    out = []
    now = {f["key"]: f for f in current.get("files", [])}
    for f in recorded.get("files", []):
        g = now.get(f["key"])
        if g is None:
            out.append(f"{f['key']}: no longer read")
        elif f.get("sha256") != g.get("sha256"):
            out.append(f"{f['key']}: file bytes changed ({f.get('bytes')} bytes, sha256 {str(f.get('sha256'))[:12]} "
                       f"recorded; {g.get('bytes')} bytes, sha256 {str(g.get('sha256'))[:12]} now: {g['path']})")
    return out
