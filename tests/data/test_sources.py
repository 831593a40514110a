"""The data-source readers (mlengine/data/sources.py): each kind gives the table, bad input a DataError naming
the key, and a SQL source runs one read-only statement only."""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest

from mlengine.data.sources import read_only_problem, read_source
from mlengine.errors import DataError
from mlengine.recipe.schema import BuiltinSource, CsvSource, FrameSource, ParquetSource, SqlSource

from tests.conftest import DATA

TITANIC_CSV = DATA / "titanic.csv"


@pytest.fixture(scope="module")
def titanic() -> pd.DataFrame:
    return pd.read_csv(TITANIC_CSV)


def test_csv_reads_the_file_with_its_separator_and_missing_markers(tmp_path, titanic):
    assert read_source(CsvSource(kind="csv", path=str(TITANIC_CSV)), tmp_path).shape == titanic.shape
    path = tmp_path / "semi.csv"
    path.write_text("a;b;y\n1;n/a;0\n2;3;1\n", encoding="utf-8")
    df = read_source(CsvSource(kind="csv", path=str(path), sep=";", na_values=["n/a"]), tmp_path)
    assert list(df.columns) == ["a", "b", "y"]
    assert df["b"].isna().tolist() == [True, False]


def test_csv_errors_name_the_key_and_the_fix(tmp_path):
    shutil.copy(TITANIC_CSV, tmp_path / "titanic.csv")
    with pytest.raises(DataError, match=r"data.source.path: file .*titanik.csv' does not exist.*titanic.csv"):
        read_source(CsvSource(kind="csv", path=str(tmp_path / "titanik.csv")), tmp_path)
    with pytest.raises(DataError, match="is a directory"):
        read_source(CsvSource(kind="csv", path=str(tmp_path)), tmp_path)
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match=r"is empty \(0 bytes\)"):
        read_source(CsvSource(kind="csv", path=str(tmp_path / "empty.csv")), tmp_path)
    (tmp_path / "latin.csv").write_bytes("name,y\nJos\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not valid utf-8 text \(byte 0xe9.*data.source.encoding"):
        read_source(CsvSource(kind="csv", path=str(tmp_path / "latin.csv")), tmp_path)
    latin = read_source(CsvSource(kind="csv", path=str(tmp_path / "latin.csv"), encoding="latin-1"), tmp_path)
    assert latin["name"].tolist() == ["José"]
    with pytest.raises(DataError, match="data.source.encoding: unknown encoding 'klingon'"):
        read_source(CsvSource(kind="csv", path=str(tmp_path / "latin.csv"), encoding="klingon"), tmp_path)
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(DataError, match="not a well-formed CSV.*data.source.sep"):
        read_source(CsvSource(kind="csv", path=str(tmp_path / "ragged.csv")), tmp_path)


def test_an_empty_table_and_duplicate_column_names_are_refused(tmp_path):
    (tmp_path / "header.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"gave an empty table \(0 rows, 2 columns\)"):
        read_source(CsvSource(kind="csv", path=str(tmp_path / "header.csv")), tmp_path)
    # pandas renames the second `a` to `a.1`; the reader looks at the header itself
    (tmp_path / "dupes.csv").write_text("a,b,a\n1,2,3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"1 column name\(s\) used twice: 'a'"):
        read_source(CsvSource(kind="csv", path=str(tmp_path / "dupes.csv")), tmp_path)
    # DuckDB's .df() renames the second `x` to `x_1`; SQLAlchemy keeps both
    with pytest.raises(DataError, match="used twice: 'x'"):
        read_source(SqlSource(kind="sql", query="SELECT 1 AS x, 2 AS x"), tmp_path)
    with pytest.raises(DataError, match="used twice: 'x'"):
        read_source(SqlSource(kind="sql", query="SELECT 1 AS x, 2 AS x", url="sqlite://"), tmp_path)


def test_parquet_round_trips_and_refuses_other_files(tmp_path, titanic):
    titanic.to_parquet(tmp_path / "t.parquet")
    df = read_source(ParquetSource(kind="parquet", path=str(tmp_path / "t.parquet")), tmp_path)
    pd.testing.assert_frame_equal(df, titanic)
    with pytest.raises(DataError, match="could not be read as Parquet"):
        read_source(ParquetSource(kind="parquet", path=str(TITANIC_CSV)), tmp_path)


def test_sql_over_local_files_resolves_names_against_the_recipe_folder(tmp_path, titanic):
    shutil.copy(TITANIC_CSV, tmp_path / "titanic.csv")
    query = "SELECT pclass, count(*) AS n FROM 'titanic.csv' GROUP BY pclass ORDER BY pclass"
    df = read_source(SqlSource(kind="sql", query=query), tmp_path)
    assert df["n"].tolist() == titanic.groupby("pclass").size().tolist()
    titanic[["sex"]].drop_duplicates().to_parquet(tmp_path / "sexes.parquet")
    named = SqlSource(kind="sql", query="SELECT count(*) AS n FROM t JOIN s USING (sex)",
                      tables={"t": str(tmp_path / "titanic.csv"), "s": str(tmp_path / "sexes.parquet")})
    assert read_source(named, tmp_path)["n"].tolist() == [len(titanic)]
    with pytest.raises(DataError, match="data.source.tables.t: file"):
        read_source(SqlSource(kind="sql", query="SELECT * FROM t", tables={"t": str(tmp_path / "no.csv")}),
                    tmp_path)
    with pytest.raises(DataError, match="DuckDB could not run the query"):
        read_source(SqlSource(kind="sql", query="SELECT nope FROM 'titanic.csv'"), tmp_path)


def test_sql_through_a_database_url(tmp_path):
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (x INTEGER, y TEXT)")
        con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "a")])
    df = read_source(SqlSource(kind="sql", query="SELECT x FROM t WHERE y = 'a'", url=f"sqlite:///{db}"), tmp_path)
    assert df["x"].tolist() == [1, 3]
    with pytest.raises(DataError, match="the database refused the query: no such table: missing"):
        read_source(SqlSource(kind="sql", query="SELECT * FROM missing", url=f"sqlite:///{db}"), tmp_path)
    with pytest.raises(DataError, match="data.source.url: file"):
        read_source(SqlSource(kind="sql", query="SELECT 1", url=f"sqlite:///{tmp_path / 'no.db'}"), tmp_path)
    with pytest.raises(DataError, match="data.source.url: 'nodb://x' is not a usable database URL"):
        read_source(SqlSource(kind="sql", query="SELECT 1", url="nodb://x"), tmp_path)


@pytest.mark.parametrize(("query", "problem"), [
    ("SELECT * FROM t", None),
    ("with a AS (SELECT 1) SELECT * FROM a", None),
    ("FROM 'titanic.csv'", None),
    ("SELECT 'drop table x' AS s, \"update\" FROM t -- delete", None),
    ("SELECT 1; SELECT 2", "holds 2 statements"),
    ("  ;  ", "is empty"),
    ("COPY (SELECT 1) TO 'out.csv'", "starts with 'COPY'"),
    ("ATTACH 'x.db'", "starts with 'ATTACH'"),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "uses DELETE"),
    ("SELECT * INTO copy_t FROM t", "uses INTO"),
])
def test_only_one_read_only_statement_may_run(query, problem):
    got = read_only_problem(query)
    assert got is None if problem is None else problem in got


def test_a_writing_query_is_refused_before_it_runs(tmp_path):
    with pytest.raises(DataError, match="data.source.query: the query starts with 'COPY'"):
        read_source(SqlSource(kind="sql", query=f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'"), tmp_path)
    assert not (tmp_path / "out.csv").exists()


def test_builtin_classification_targets_are_class_names_regression_stays_numeric(tmp_path):
    iris = read_source(BuiltinSource(kind="builtin", name="iris"), tmp_path)
    assert iris.shape == (150, 5)
    assert sorted(iris["target"].unique()) == ["setosa", "versicolor", "virginica"]
    diabetes = read_source(BuiltinSource(kind="builtin", name="diabetes"), tmp_path)
    assert pd.api.types.is_float_dtype(diabetes["target"])


def test_a_frame_source_copies_the_given_frame_and_needs_one(tmp_path):
    frame = pd.DataFrame({0: [1, 2], "y": [0, 1]})
    df = read_source(FrameSource(kind="frame"), tmp_path, frame=frame)
    assert list(df.columns) == ["0", "y"]  # names become strings
    assert list(frame.columns) == [0, "y"]  # the caller's frame is untouched
    with pytest.raises(DataError, match=r"mlengine.run\(recipe, data=df\)"):
        read_source(FrameSource(kind="frame"), tmp_path)
