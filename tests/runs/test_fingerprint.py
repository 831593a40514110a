"""Data fingerprints: stable for the same table, and precise about what changed."""

from __future__ import annotations

import pandas as pd

from mlengine.runs.fingerprint import compare_fingerprints, compare_sources, fingerprint_frame, source_record

from tests.conftest import DATA


def titanic() -> pd.DataFrame:
    return pd.read_csv(DATA / "titanic.csv")


def test_same_table_same_fingerprint_and_read_twice():
    a, b = fingerprint_frame(titanic()), fingerprint_frame(titanic())
    assert a == b
    assert a["rows"] == 891 and a["n_columns"] == 15
    assert a["columns"]["age"]["dtype"] == "float64" and len(a["columns"]["age"]["blocks"]) == 16
    assert compare_fingerprints(a, b) == []


def test_one_changed_cell_names_the_column_and_the_rows():
    df = titanic()
    df.loc[500, "fare"] = df.loc[500, "fare"] + 0.01
    changes = compare_fingerprints(fingerprint_frame(titanic()), fingerprint_frame(df))
    assert changes == ["column 'fare': content changed in rows 448-503"]


def test_text_cell_and_missing_value_changes_are_seen():
    df = titanic()
    df.loc[3, "embarked"] = None  # a value becomes missing
    df.loc[800, "sex"] = "Male"
    changes = compare_fingerprints(fingerprint_frame(titanic()), fingerprint_frame(df))
    assert "column 'embarked': content changed in rows 0-55" in changes
    assert "column 'sex': content changed in rows 784-839" in changes
    assert len(changes) == 2


def test_rows_columns_and_dtypes():
    base = fingerprint_frame(titanic())
    fewer = compare_fingerprints(base, fingerprint_frame(titanic().iloc[:-3]))
    assert fewer[0] == "rows: 891 recorded, 888 now (3 fewer)"
    assert any(c.startswith("content changed in 15 of 15 common columns") for c in fewer)
    df = titanic().drop(columns=["deck"]).assign(extra=1)
    assert compare_fingerprints(base, fingerprint_frame(df))[:2] == ["columns removed: deck", "columns added: extra"]
    df = titanic()
    df["pclass"] = df["pclass"].astype(float)  # same numbers, another dtype
    assert compare_fingerprints(base, fingerprint_frame(df)) == [
        "column 'pclass': dtype int64 recorded, float64 now", "column 'pclass': content changed throughout (all 16 "
        "row ranges)"]
    reordered = titanic()[list(reversed(titanic().columns))]
    assert compare_fingerprints(base, fingerprint_frame(reordered))[0].startswith("column order changed")


def test_file_bytes_change_without_table_change(tmp_path):
    """CRLF line endings change the file's sha256, not the table: the source check says so separately."""
    from mlengine.sections.source import CsvSource

    text = (DATA / "titanic.csv").read_text()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(text)
    b.write_bytes(text.replace("\n", "\r\n").encode())
    fa = fingerprint_frame(pd.read_csv(a))
    fb = fingerprint_frame(pd.read_csv(b))
    assert compare_fingerprints(fa, fb) == []
    ra = source_record(CsvSource(kind="csv", path=str(a)))
    rb = source_record(CsvSource(kind="csv", path=str(b)))
    rb["files"][0]["key"] = ra["files"][0]["key"]
    changes = compare_sources(ra, rb)
    assert len(changes) == 1 and "file bytes changed (57018 bytes" in changes[0]


def test_canonical_form_covers_every_dtype():
    df = pd.DataFrame({
        "i": [1, 2, 3], "f": [0.5, float("nan"), 2.0], "b": [True, False, True], "s": ["a", None, "c"],
        "n": pd.array([1, None, 3], dtype="Int64"), "c": pd.Categorical(["x", "y", "x"]),
        "t": pd.to_datetime(["2024-01-01", None, "2024-03-01"]), "o": pd.Series([1, "1", None], dtype=object),
        "z": pd.to_datetime(["2024-01-01", "2024-01-02", None]).tz_localize("UTC"),
    })
    a = fingerprint_frame(df)
    assert a == fingerprint_frame(df.copy())
    changed = df.copy()
    changed.loc[0, "o"] = 1.0  # same text "1" after str(), different type: still a change
    assert compare_fingerprints(a, fingerprint_frame(changed)) == ["column 'o': content changed in row 0"]
