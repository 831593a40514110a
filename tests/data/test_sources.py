"""read_source (mlengine/data/sources.py): what holds for every source: a table with rows and columns, no column
name used twice (pandas and DuckDB would rename the second silently), and an in-memory frame copied, never moved."""

from __future__ import annotations

import pandas as pd
import pytest

from mlengine.data.sources import read_source
from mlengine.errors import DataError
from mlengine.sections.source import CsvSource, FrameSource, SqlSource


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


def test_a_frame_source_copies_the_given_frame_and_needs_one(tmp_path):
    frame = pd.DataFrame({0: [1, 2], "y": [0, 1]})
    df = read_source(FrameSource(kind="frame"), tmp_path, frame=frame)
    assert list(df.columns) == ["0", "y"]  # names become strings
    assert list(frame.columns) == [0, "y"]  # the caller's frame is untouched
    with pytest.raises(DataError, match=r"mlengine.run\(recipe, data=df\)"):
        read_source(FrameSource(kind="frame"), tmp_path)
