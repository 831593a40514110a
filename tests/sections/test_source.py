"""`data.source`: one typed option per data.source.kind (mlengine/sections/source.py), read through read_source: each kind gives the table, bad input a DataError naming
the key, and a SQL source runs one read-only statement only."""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest

from mlengine.data.sources import read_source
from mlengine.errors import DataError
from mlengine.sections.source import (
    BuiltinSource,
    CsvSource,
    ParquetSource,
    SqlSource,
    read_only_problem,
)

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


def _problems(source) -> list[str]:
    from mlengine.errors import RecipeError
    from mlengine.recipe.validate import validate_config

    try:
        validate_config({"name": "s", "data": {"source": source, "target": "survived"}})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


def test_recipe_keys_of_each_kind_are_checked_with_one_message_each():
    assert _problems({"path": "t.csv"}) == [
        "data.source.kind: is missing; give one of csv, parquet, sql, builtin, frame."]
    unknown = _problems({"kind": "cvs", "path": "t.csv"})
    assert len(unknown) == 1 and unknown[0].startswith("data.source.kind") and "Did you mean 'csv'" in unknown[0]
    assert _problems({"kind": "parquet", "path": "t.parquet", "sep": ";"}) == [
        "data.source.sep: does not apply to kind 'parquet'; it is a parameter of csv."]
    assert _problems({"kind": "sql", "query": "DELETE FROM t"})[0].startswith(
        "data.source.query: the query starts with 'DELETE'")
    missing = _problems({"kind": "csv"})
    assert len(missing) == 1 and missing[0].startswith("data.source.path: kind 'csv' needs path")
    assert _problems({"kind": "csv", "path": "t.csv"}) == []


def test_each_kind_names_the_files_it_reads(tmp_path):
    assert CsvSource(kind="csv", path="a.csv").files() == [("data.source.path", "a.csv")]
    sql = SqlSource(kind="sql", query="SELECT 1", url=f"sqlite:///{tmp_path / 'x.db'}", tables={"t": "t.csv"})
    assert sql.files() == [("data.source.tables.t", "t.csv"), ("data.source.url", str(tmp_path / "x.db"))]
    assert SqlSource(kind="sql", query="SELECT 1", url="sqlite://").files() == []
    assert BuiltinSource(kind="builtin", name="iris").files() == []
    assert SqlSource(kind="sql", query="SELECT 1").label() == "SELECT 1"
