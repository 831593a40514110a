"""Data sources, type inference, target handling and the data-dependent checks, on the bundled data."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from mlengine.data.sources import read_source
from mlengine.data.table import infer_kind, prepare_table
from mlengine.errors import DataError
from mlengine.recipe.load import load_recipe

from tests.conftest import DATA, TITANIC


def _prepare(path, overrides=()):
    loaded = load_recipe(path, list(overrides))
    return prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)


def test_csv_types_and_task(write_recipe):
    data = _prepare(write_recipe(TITANIC))
    assert data.task == "binary" and data.pos_label == 1 and data.classes == [0, 1]
    assert set(data.columns.categorical) == {"sex", "embarked", "deck"}
    assert data.columns.boolean == ["alone"]
    assert "alive" not in data.X.columns and "survived" not in data.X.columns


def test_parquet_source(write_recipe, tmp_path):
    pd.read_csv(DATA / "penguins.csv").to_parquet(tmp_path / "p.parquet")
    path = write_recipe("data:\n  source: {kind: parquet, path: p.parquet}\n  target: species\n")
    data = _prepare(path)
    assert data.task == "multiclass" and data.classes == ["Adelie", "Chinstrap", "Gentoo"]


def test_sql_duckdb_join_over_local_files(write_recipe, tmp_path):
    df = pd.read_csv(DATA / "penguins.csv").reset_index(names="pid")
    df[["pid", "species", "island"]].to_csv(tmp_path / "labels.csv", index=False)
    df.drop(columns=["species", "island"]).to_parquet(tmp_path / "measures.parquet")
    path = write_recipe(
        "data:\n  source:\n    kind: sql\n"
        "    query: SELECT l.species, l.island, m.* EXCLUDE (pid) FROM labels l JOIN 'measures.parquet' m USING (pid)\n"
        "    tables: {labels: labels.csv}\n  target: species\n")
    data = _prepare(path)
    assert len(data.y) == 344 and "island" in data.columns.categorical and "body_mass_g" in data.columns.numeric


def test_sql_sqlite_url(write_recipe, tmp_path):
    with sqlite3.connect(tmp_path / "app.db") as con:
        pd.read_csv(DATA / "penguins.csv").to_sql("penguins", con, index=False)
    path = write_recipe("data:\n  source: {kind: sql, url: 'sqlite:///app.db', query: 'SELECT * FROM penguins'}\n"
                        "  target: species\n")
    assert len(_prepare(path).y) == 344


def test_sql_error_is_a_data_error(write_recipe):
    path = write_recipe("data:\n  source: {kind: sql, query: 'SELECT * FROM nowhere_table'}\n  target: y\n")
    with pytest.raises(DataError, match="data.source.query"):
        _prepare(path)


def test_builtin_source(write_recipe):
    data = _prepare(write_recipe("data:\n  source: {kind: builtin, name: iris}\n  target: target\n"))
    assert data.task == "multiclass" and "setosa" in data.classes


def test_datetime_inference_and_regression(write_recipe):
    path = write_recipe("data:\n  source: {kind: csv, path: data/nyc_taxis.csv}\n  target: tip\n  drop: [total]\n",
                        files=("nyc_taxis.csv",))
    data = _prepare(path)
    assert data.task == "regression"
    assert set(data.columns.datetime) == {"pickup", "dropoff"}
    assert "payment" in data.columns.categorical


def test_infer_kind_pandas_str_dtype():
    assert infer_kind(pd.Series(["a", "b", None], dtype="str")) == "categorical"
    assert infer_kind(pd.Series(["2020-01-02", "2021-03-04 10:00"])) == "datetime"
    assert infer_kind(pd.Series(["true", "false"])) == "boolean"
    assert infer_kind(pd.Series(["2013", "2014"])) == "categorical"


def test_missing_target_rows_refused_with_count_or_dropped(write_recipe, tmp_path):
    df = pd.read_csv(DATA / "titanic.csv")
    df.loc[:9, "survived"] = None
    path = write_recipe(TITANIC.replace("titanic.csv", "t2.csv"))
    df.to_csv(tmp_path / "data" / "t2.csv", index=False)
    with pytest.raises(DataError, match="10 of 891 rows"):
        _prepare(path)
    data = _prepare(path, ["data.missing_target=drop"])
    assert len(data.y) == 881 and any("dropped 10" in n for n in data.notes)


def test_missing_data_file(write_recipe):
    with pytest.raises(DataError, match="does not exist"):
        _prepare(write_recipe(TITANIC.replace("titanic.csv", "titanc.csv")))


def test_empty_file(write_recipe, tmp_path):
    path = write_recipe(TITANIC.replace("titanic.csv", "empty.csv"))
    (tmp_path / "data" / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        _prepare(path)


def test_header_only_file(write_recipe, tmp_path):
    path = write_recipe(TITANIC.replace("titanic.csv", "header.csv"))
    (tmp_path / "data" / "header.csv").write_text("survived,age\n")
    with pytest.raises(DataError, match="empty table"):
        _prepare(path)


def test_target_column_absent_with_suggestion(write_recipe):
    with pytest.raises(DataError) as exc:
        _prepare(write_recipe(TITANIC.replace("target: survived", "target: survivd")))
    assert "data.target" in str(exc.value) and "Did you mean 'survived'" in str(exc.value)


def test_target_with_one_class(write_recipe, tmp_path):
    path = write_recipe(TITANIC.replace("titanic.csv", "one.csv"))
    df = pd.read_csv(DATA / "titanic.csv")
    df[df.survived == 1].to_csv(tmp_path / "data" / "one.csv", index=False)
    with pytest.raises(DataError, match="single class"):
        _prepare(path)


def test_all_missing_column(write_recipe, tmp_path):
    path = write_recipe(TITANIC.replace("titanic.csv", "nan.csv"))
    df = pd.read_csv(DATA / "titanic.csv")
    df["empty_col"] = float("nan")
    df.to_csv(tmp_path / "data" / "nan.csv", index=False)
    with pytest.raises(DataError, match="'empty_col' is entirely missing"):
        _prepare(path)


def test_non_utf8_csv(write_recipe, tmp_path):
    path = write_recipe(TITANIC.replace("titanic.csv", "latin.csv"))
    df = pd.read_csv(DATA / "titanic.csv")
    df.loc[0, "embark_town"] = "Québec"
    df.to_csv(tmp_path / "data" / "latin.csv", index=False, encoding="latin-1")
    with pytest.raises(DataError, match="not valid utf-8.*data.source.encoding"):
        _prepare(path)
    assert len(_prepare(path, ["data.source.encoding=latin-1"]).y) == 891


def test_positive_class_must_be_a_target_value(write_recipe):
    with pytest.raises(DataError, match="data.positive_class"):
        _prepare(write_recipe(TITANIC), ["data.positive_class=yes"])


def test_default_positive_class_is_minority_for_names(write_recipe, tmp_path):
    path = write_recipe(TITANIC.replace("target: survived", "target: alive").replace("drop: [alive,", "drop: [survived,"))
    data = _prepare(path)
    assert data.pos_label == "yes"
