"""`data.source`: where the table comes from, one typed option per `data.source.kind` (csv, parquet, sql, builtin,
and frame for the library's in-memory DataFrame).

Each option class owns its keys with their defaults (stated once, here), its checks without data (`check`: a SQL
query must be one read-only statement), its reader (`read`: a pandas DataFrame, or a DataError naming the recipe
key, the bad value and what to do) and the files it reads (`files`, for the run's fingerprint).
`mlengine.data.sources.read_source` calls the reader and applies what holds for every source (no empty table, no
column name used twice).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from mlengine.errors import DataError, Problem
from mlengine.sections.registry import Option, Registry

SOURCE: Registry[SourceOption] = Registry("data.source", "kind", default=None)


class SourceOption(Option):
    """Base of the data sources."""

    def check(self) -> list[Problem]:
        """Checks without reading anything."""
        return []

    def read(self, base_dir: Path) -> Any:
        """The table, as a pandas DataFrame."""
        raise DataError(f"data.source.kind: {self.kind!r} has no reader.")

    def files(self) -> list[tuple[str, str]]:
        """(recipe key, path) of every local file the source reads by name."""
        return []

    def label(self) -> str:
        """How messages name the source (its file, query or kind)."""
        return getattr(self, "path", None) or getattr(self, "query", None) or self.kind


def existing_file(path: str, key: str = "data.source.path") -> Path:
    """`path` as a readable, non-empty file, else a DataError naming `key` (with a did-you-mean)."""
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


PATH = Field(description="file path; relative paths resolve against the recipe's folder")


@SOURCE.register
class CsvSource(SourceOption):
    summary: ClassVar[str] = "a CSV file"
    kind: Literal["csv"] = Field(description="read a CSV file")
    path: str = PATH
    sep: str = Field(",", description="field separator")
    encoding: str = Field("utf-8", description="text encoding of the file")
    na_values: list[str] = Field(default_factory=list, description="extra strings to read as missing")

    def read(self, base_dir: Path) -> Any:
        import pandas as pd

        path = existing_file(self.path)
        try:
            return pd.read_csv(path, sep=self.sep, encoding=self.encoding, na_values=self.na_values or None,
                               low_memory=False)
        except UnicodeDecodeError as exc:
            raise DataError(f"data.source.path: {str(path)!r} is not valid {self.encoding} text (byte 0x"
                            f"{exc.object[exc.start]:02x} at offset {exc.start}). Set data.source.encoding to the "
                            "file's encoding, e.g. latin-1 or cp1252.") from None
        except LookupError:
            raise DataError(f"data.source.encoding: unknown encoding {self.encoding!r}; use a Python codec name "
                            "such as utf-8, latin-1 or cp1252.") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"data.source.path: {str(path)!r} has no columns (empty CSV).") from None
        except pd.errors.ParserError as exc:
            raise DataError(f"data.source.path: {str(path)!r} is not a well-formed CSV: "
                            f"{str(exc).strip().splitlines()[-1]}. Check data.source.sep.") from None

    def header(self) -> list[str] | None:
        """The column names as the file writes them (pandas renames a repeated name to `a.1`)."""
        if len(self.sep) != 1:
            return None
        import csv

        with open(self.path, encoding=self.encoding, newline="") as f:
            return next(csv.reader(f, delimiter=self.sep), None)

    def files(self) -> list[tuple[str, str]]:
        return [("data.source.path", self.path)]


@SOURCE.register
class ParquetSource(SourceOption):
    summary: ClassVar[str] = "a Parquet file"
    kind: Literal["parquet"] = Field(description="read a Parquet file")
    path: str = PATH

    def read(self, base_dir: Path) -> Any:
        import pandas as pd

        path = existing_file(self.path)
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for non-Parquet input
            raise DataError(f"data.source.path: {str(path)!r} could not be read as Parquet: "
                            f"{str(exc).splitlines()[0]}.") from None

    def files(self) -> list[tuple[str, str]]:
        return [("data.source.path", self.path)]


# words that make a SELECT-led statement write (a CTE feeding DELETE, SELECT ... INTO); statements that start
# with anything but SELECT/WITH/FROM/VALUES/TABLE (COPY, ATTACH, PRAGMA, SET, LOAD, ...) are refused before these
_WRITES = ("insert", "update", "delete", "merge", "upsert", "copy", "create", "drop", "alter", "truncate", "grant",
           "revoke", "into")


def read_only_problem(query: str) -> str | None:
    """Why `query` is not a single read-only SELECT/WITH statement, or None when it is.

    Checked before anything runs, for DuckDB and SQLAlchemy alike: comments and quoted text are set aside, then
    the text must be one statement that starts with SELECT, WITH or FROM (DuckDB's short form) and holds no
    writing keyword (`COPY (...) TO 'file'` once wrote a file outside the run directory before failing)."""
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


@SOURCE.register
class SqlSource(SourceOption):
    summary: ClassVar[str] = "a SQL query: DuckDB over local files, or a database URL"
    kind: Literal["sql"] = Field(description="run a SQL query")
    query: str = Field(description="the SELECT to run; without `url`, DuckDB runs it over local files "
                                   "(e.g. FROM 'orders.csv' JOIN 'customers.parquet' USING (id))")
    url: str | None = Field(None, description="database URL (SQLAlchemy form, e.g. sqlite:///data/app.db); "
                                              "unset means DuckDB over local files")
    tables: dict[str, str] = Field(default_factory=dict,
                                   description="DuckDB only: name -> CSV/Parquet file, queryable by that name")

    def check(self) -> list[Problem]:
        problem = read_only_problem(self.query)
        return [Problem("data.source.query", f"the query {problem}")] if problem else []

    def read(self, base_dir: Path) -> Any:
        problem = read_only_problem(self.query)
        if problem:
            raise DataError(f"data.source.query: the query {problem}")
        return self._read_url() if self.url else self._read_duckdb(base_dir)

    def _read_duckdb(self, base_dir: Path) -> Any:
        import duckdb

        from mlengine.data.sources import refuse_duplicate_columns

        con = duckdb.connect(":memory:")
        try:
            con.execute(f"SET file_search_path = '{str(base_dir).replace(chr(39), chr(39) * 2)}'")
            for name, path in self.tables.items():
                p = existing_file(path, key=f"data.source.tables.{name}")
                reader = "read_parquet" if p.suffix.lower() in (".parquet", ".pq") else "read_csv_auto"
                quoted = str(p).replace("'", "''")
                con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM {reader}('{quoted}')")
            result = con.execute(self.query)
            refuse_duplicate_columns([d[0] for d in result.description or []])  # .df() renames to x_1
            return result.df()
        except duckdb.Error as exc:
            raise DataError(f"data.source.query: DuckDB could not run the query: {str(exc).splitlines()[0]}") \
                from None
        finally:
            con.close()

    def _read_url(self) -> Any:
        import pandas as pd
        import sqlalchemy as sa

        try:
            engine = sa.create_engine(self.url)
        except Exception as exc:
            raise DataError(f"data.source.url: {self.url!r} is not a usable database URL: {exc}. Example: "
                            "sqlite:///data/app.db") from None
        db = self._sqlite_file()
        if db:
            existing_file(db, key="data.source.url")
        try:
            with engine.connect() as conn:
                return pd.read_sql_query(sa.text(self.query), conn)
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:  # pandas 2.2+ wraps SQLAlchemy's error
            cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ else exc
            why = getattr(cause, "orig", None) or cause
            raise DataError(f"data.source.query: the database refused the query: {str(why).splitlines()[0]}") \
                from None
        finally:
            engine.dispose()

    def _sqlite_file(self) -> str | None:
        url = self.url or ""
        db = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        return db if db not in ("", ":memory:") else None

    def files(self) -> list[tuple[str, str]]:
        out = [(f"data.source.tables.{name}", path) for name, path in self.tables.items()]
        db = self._sqlite_file()
        return out + ([("data.source.url", db)] if db else [])


@SOURCE.register
class BuiltinSource(SourceOption):
    summary: ClassVar[str] = "a dataset bundled with scikit-learn"
    kind: Literal["builtin"] = Field(description="a dataset bundled with scikit-learn")
    name: Literal["iris", "wine", "breast_cancer", "diabetes", "digits"] = Field(
        description="scikit-learn dataset name (target column: `target`)")

    def read(self, base_dir: Path) -> Any:
        import sklearn.datasets as ds

        bunch = getattr(ds, f"load_{self.name}")(as_frame=True)
        df = bunch.frame.copy()
        names = getattr(bunch, "target_names", None)
        if names is not None and self.name != "diabetes":  # classification: use the class names as labels
            df["target"] = [str(names[i]) for i in df["target"]]
        return df


@SOURCE.register
class FrameSource(SourceOption):
    summary: ClassVar[str] = "an in-memory pandas DataFrame (library use only)"
    kind: Literal["frame"] = Field(description="an in-memory pandas DataFrame: set by the library's "
                                               "mlengine.run(recipe, data=df), not written in a recipe file")

    def read(self, base_dir: Path) -> Any:
        raise DataError("data.source.kind: 'frame' is an in-memory DataFrame, given from Python as "
                        "mlengine.run(recipe, data=df) (or mlengine.replay(run, frame=df)); a recipe file "
                        "names a csv, parquet, sql or builtin source.")


SourceConfig, SOURCE_FIELD = SOURCE.field("where the table comes from (kind: csv, parquet, sql, builtin)")
