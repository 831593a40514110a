"""Reading the table a `data.source` section describes (its options and readers: `mlengine.sections.source`).

What holds for every source is checked here: the table has rows and columns, and no column name is used twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlengine.errors import DataError


def read_source(source: Any, base_dir: Path, frame: Any = None) -> Any:
    """Read the table a `data.source` section describes (`frame`: the DataFrame of a `kind: frame` source)."""
    df = frame.copy() if source.kind == "frame" and frame is not None else source.read(base_dir)
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise DataError(f"data.source: {source.label()!r} gave an empty table ({df.shape[0]} rows, {df.shape[1]} "
                        "columns); a recipe needs rows with a target and at least one feature.")
    df.columns = [str(c) for c in df.columns]
    header = source.header() if hasattr(source, "header") else None  # read_csv renamed duplicates
    refuse_duplicate_columns(header or list(df.columns))
    return df


def refuse_duplicate_columns(names: list[str]) -> None:
    """Two columns with one name are refused: pandas would rename the second (`a.1`), a database keep both."""
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        raise DataError(f"data.source: the table has {len(dupes)} column name(s) used twice: "
                        f"{', '.join(repr(d) for d in dupes[:10])}. Rename them in the source (or alias them in "
                        "the SQL query) so each column has one name.")
