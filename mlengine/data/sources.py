"""Data sources keyed by `data.source.kind`: csv, parquet, sql (DuckDB over local files, or a database URL), builtin.

Each reader returns a pandas DataFrame or raises DataError naming the recipe key, the bad value and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlengine.errors import DataError

SOURCE_KINDS = ("csv", "parquet", "sql", "builtin")


def read_source(source: Any, base_dir: Path, frame: Any = None) -> Any:
    """Read the table a `data.source` section describes (`frame`: the DataFrame of a `kind: frame` source)."""
    readers: dict[str, Callable[[Any, Path], Any]] = {
        "csv": _read_csv, "parquet": _read_parquet, "sql": _read_sql, "builtin": _read_builtin,
    }
    if source.kind == "frame":
        if frame is None:
            raise DataError("data.source.kind: 'frame' is an in-memory DataFrame, given from Python as "
                            "mlengine.run(recipe, data=df) (or mlengine.replay(run, frame=df)); a recipe file "
                            "names a csv, parquet, sql or builtin source.")
        df = frame.copy()
    else:
        df = readers[source.kind](source, base_dir)
    if df.shape[1] == 0 or df.shape[0] == 0:
        what = getattr(source, "path", None) or getattr(source, "query", None) or source.kind
        raise DataError(f"data.source: {what!r} gave an empty table ({df.shape[0]} rows, {df.shape[1]} columns); "
                        "a recipe needs rows with a target and at least one feature.")
    df.columns = [str(c) for c in df.columns]
    _refuse_duplicate_columns(list(df.columns), source)
    return df


def _refuse_duplicate_columns(names: list[str], source: Any) -> None:
    """Two columns with one name are refused: pandas would rename the second (`a.1`), a database keep both."""
    if source.kind == "csv" and len(source.sep) == 1:  # read_csv renamed duplicates: read the header itself
        import csv

        with open(source.path, encoding=source.encoding, newline="") as f:
            names = next(csv.reader(f, delimiter=source.sep), names)
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        raise DataError(f"data.source: the table has {len(dupes)} column name(s) used twice: "
                        f"{', '.join(repr(d) for d in dupes[:10])}. Rename them in the source (or alias them in "
                        "the SQL query) so each column has one name.")


def _existing_file(path: str, key: str = "data.source.path") -> Path:
    p = Path(path)
    if not p.exists():
        near = ""
        if p.parent.is_dir():
            from mlengine.errors import did_you_mean

            near = did_you_mean(p.name, [c.name for c in p.parent.iterdir()])
        raise DataError(f"{key}: file {str(p)!r} does not exist.{near} Relative paths resolve against the recipe's "
                        "folder.")
    if p.is_dir():
        raise DataError(f"{key}: {str(p)!r} is a directory; give a file.")
    if p.stat().st_size == 0:
        raise DataError(f"{key}: file {str(p)!r} is empty (0 bytes).")
    return p


def _read_csv(source: Any, base_dir: Path) -> Any:
    import pandas as pd

    path = _existing_file(source.path)
    try:
        return pd.read_csv(path, sep=source.sep, encoding=source.encoding, na_values=source.na_values or None,
                           low_memory=False)
    except UnicodeDecodeError as exc:
        raise DataError(f"data.source.path: {str(path)!r} is not valid {source.encoding} text (byte 0x"
                        f"{exc.object[exc.start]:02x} at offset {exc.start}). Set data.source.encoding to the file's "
                        "encoding, e.g. latin-1 or cp1252.") from None
    except LookupError:
        raise DataError(f"data.source.encoding: unknown encoding {source.encoding!r}; use a Python codec name such "
                        "as utf-8, latin-1 or cp1252.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data.source.path: {str(path)!r} has no columns (empty CSV).") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"data.source.path: {str(path)!r} is not a well-formed CSV: "
                        f"{str(exc).strip().splitlines()[-1]}. Check data.source.sep.") from None


def _read_parquet(source: Any, base_dir: Path) -> Any:
    import pandas as pd

    path = _existing_file(source.path)
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for non-Parquet input
        raise DataError(f"data.source.path: {str(path)!r} could not be read as Parquet: "
                        f"{str(exc).splitlines()[0]}.") from None


# words that make a SELECT-led statement write (a CTE feeding DELETE, SELECT ... INTO); statements that start
# with anything but SELECT/WITH/FROM/VALUES/TABLE (COPY, ATTACH, PRAGMA, SET, LOAD, ...) are refused before these
_WRITES = ("insert", "update", "delete", "merge", "upsert", "copy", "create", "drop", "alter", "truncate", "grant",
           "revoke", "into")


def read_only_problem(query: str) -> str | None:
    """Why `query` is not a single read-only SELECT/WITH statement, or None when it is.

    Checked before anything runs, for DuckDB and SQLAlchemy alike: comments and quoted text are set aside, then
    the text must be one statement that starts with SELECT, WITH or FROM (DuckDB's short form) and holds no
    writing keyword (`COPY (...) TO 'file'` once wrote a file outside the run directory before failing)."""
    import re

    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", query, flags=re.S)
    text = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`", " _q_ ", text)
    statements = [part for part in text.split(";") if part.strip()]
    if not statements:
        return "is empty; give one SELECT statement."
    if len(statements) > 1:
        return f"holds {len(statements)} statements; give exactly one SELECT (or WITH ... SELECT)."
    words = re.findall(r"[a-z_]+", statements[0].lower())
    if not words or words[0] not in ("select", "with", "from", "values", "table"):
        return (f"starts with {words[0].upper() if words else '?'!r}: only a read-only SELECT (or WITH ... SELECT) "
                "may run.")
    bad = sorted({w for w in words if w in _WRITES})
    if bad:
        return (f"uses {', '.join(w.upper() for w in bad)}, which can write or change the database or files: only a "
                "read-only SELECT may run (a column named like that can be quoted: \"update\").")
    return None


def _read_sql(source: Any, base_dir: Path) -> Any:
    problem = read_only_problem(source.query)
    if problem:
        raise DataError(f"data.source.query: the query {problem}")
    if source.url:
        return _read_sql_url(source)
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET file_search_path = '{str(base_dir).replace(chr(39), chr(39) * 2)}'")
        for name, path in source.tables.items():
            p = _existing_file(path, key=f"data.source.tables.{name}")
            reader = "read_parquet" if p.suffix.lower() in (".parquet", ".pq") else "read_csv_auto"
            quoted = str(p).replace("'", "''")
            con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM {reader}('{quoted}')")
        result = con.execute(source.query)
        _refuse_duplicate_columns([d[0] for d in result.description or []], source)  # .df() renames to x_1
        return result.df()
    except duckdb.Error as exc:
        raise DataError(f"data.source.query: DuckDB could not run the query: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def _read_sql_url(source: Any) -> Any:
    import pandas as pd
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(source.url)
    except Exception as exc:
        raise DataError(f"data.source.url: {source.url!r} is not a usable database URL: {exc}. Example: "
                        "sqlite:///data/app.db") from None
    if source.url.startswith("sqlite:///"):
        db = source.url[len("sqlite:///"):]
        if db and db != ":memory:":
            _existing_file(db, key="data.source.url")
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sa.text(source.query), conn)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:  # pandas 2.2+ wraps the SQLAlchemy error
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ else exc
        why = getattr(cause, "orig", None) or cause
        raise DataError(f"data.source.query: the database refused the query: {str(why).splitlines()[0]}") from None
    finally:
        engine.dispose()


def _read_builtin(source: Any, base_dir: Path) -> Any:
    import sklearn.datasets as ds

    bunch = getattr(ds, f"load_{source.name}")(as_frame=True)
    df = bunch.frame.copy()
    names = getattr(bunch, "target_names", None)
    if names is not None and source.name != "diabetes":  # classification: use the class names as labels
        df["target"] = [str(names[i]) for i in df["target"]]
    return df


def source_files(source: Any) -> list[str]:
    """Local files a source reads (for fingerprints)."""
    files = [getattr(source, "path", None)]
    files += list(getattr(source, "tables", {}).values())
    return [f for f in files if f]
