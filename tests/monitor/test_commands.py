"""`mlengine drift` (mlengine/monitor/commands.py) on a run record built by hand: reading new data, the reference
and thresholds from the run, chunks by period or column, the table, and exit 3 on an alert."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from mlengine.data.table import Columns
from mlengine.errors import UserError
from mlengine.monitor.commands import (
    ALERT_EXIT,
    add_parsers,
    chunks,
    cmd_drift,
    format_table,
    load_run,
    read_new_data,
    run_drift,
)
from mlengine.monitor.reference import build_reference

RNG = np.random.default_rng(3)
TRAIN = pd.DataFrame({"age": RNG.normal(40, 10, 600), "deck": RNG.choice(list("AB"), 600),
                      "day": pd.date_range("2024-01-01", periods=600, freq="D").astype(str)})


@pytest.fixture
def run_dir(tmp_path):
    """A run directory with reference.json and recipe.yaml only: enough for `drift --no-model`."""
    ref = build_reference(TRAIN, Columns(numeric=["age"], categorical=["deck"]), task="regression", classes=[],
                          pos_label=None)
    (tmp_path / "reference.json").write_text(json.dumps(ref))
    recipe = {"data": {"time": "day"}, "monitor": {"psi_warn": 0.1, "psi_alert": 0.25, "min_rows": 25}}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    return tmp_path


def _args(run_dir, new, *extra):
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers())
    return parser.parse_args(["drift", str(run_dir), str(new), "--no-model", *extra])


def test_new_data_is_a_csv_or_parquet_file(tmp_path):
    TRAIN.to_csv(tmp_path / "n.csv", index=False)
    TRAIN.to_parquet(tmp_path / "n.parquet")
    assert read_new_data(str(tmp_path / "n.csv")).shape == read_new_data(str(tmp_path / "n.parquet")).shape
    with pytest.raises(UserError, match="is not a file"):
        read_new_data(str(tmp_path / "none.csv"))
    (tmp_path / "n.json").write_text("{}")
    with pytest.raises(UserError, match="has suffix '.json'; allowed: .csv, .parquet"):
        read_new_data(str(tmp_path / "n.json"))


def test_the_run_gives_the_reference_and_its_monitor_section(run_dir, tmp_path):
    reference, monitor = load_run(run_dir)
    assert set(reference["features"]) == {"age", "deck"} and monitor["min_rows"] == 25
    with pytest.raises(UserError, match="has no reference.json.*re-run the recipe"):
        load_run(tmp_path / "elsewhere")


def test_run_drift_without_the_model_uses_the_recipe_thresholds(run_dir):
    new = TRAIN.sample(60, random_state=0)
    result = run_drift(run_dir, new, with_model=False)
    assert result["enough_rows"] and result["thresholds"]["min_rows"] == 25 and result["prediction"] == {}
    assert run_drift(run_dir, new.head(24), with_model=False)["enough_rows"] is False


def test_chunks_by_period_or_by_column(run_dir):
    frame = TRAIN.head(70)
    months = chunks(frame, "month", None, "day")
    assert [(k, len(v)) for k, v in months] == [("2024-01", 31), ("2024-02", 29), ("2024-03", 10)]
    assert [k for k, _ in chunks(frame, "deck", None, None)] == ["A", "B"]
    with_gaps = frame.assign(day=[*frame["day"][:-1], "not a date"])
    assert chunks(with_gaps, "month", "day", None)[-1][0] == "no date"
    with pytest.raises(UserError, match="no time column; give --time-column"):
        chunks(frame, "week", None, None)
    with pytest.raises(UserError, match="no time column 'when'"):
        chunks(frame, "day", "when", None)
    with pytest.raises(UserError, match="holds no readable dates"):
        chunks(frame, "day", "deck", None)
    with pytest.raises(UserError, match="neither a period"):
        chunks(frame, "fortnight", None, None)


def test_the_table_has_a_row_per_column_and_notes_too_few_rows(run_dir):
    text = format_table(run_drift(run_dir, TRAIN.head(20), with_model=False))
    lines = text.splitlines()
    assert lines[0] == "drift: 20 new rows vs 600 reference rows -> ok"
    assert lines[1].split()[:3] == ["column", "status", "PSI"]
    assert {line.split()[0] for line in lines[3:5]} == {"age", "deck"}
    assert lines[-1].startswith("note: fewer than monitor.min_rows=25 new rows")


def test_the_command_exits_3_on_an_alert_and_writes_page_and_json(run_dir, tmp_path, capsys):
    same = tmp_path / "same.csv"
    TRAIN.to_csv(same, index=False)
    assert cmd_drift(_args(run_dir, same)) == 0
    assert "-> ok" in capsys.readouterr().out
    shifted = tmp_path / "shifted.csv"
    TRAIN.assign(age=TRAIN["age"] + 25).to_csv(shifted, index=False)
    page = tmp_path / "out" / "drift.html"
    assert cmd_drift(_args(run_dir, shifted, "--json", "-o", str(page))) == ALERT_EXIT
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "alert" and printed["columns"]["age"]["status"] == "alert"
    assert json.loads((tmp_path / "out" / "drift.json").read_text())["status"] == "alert" and page.is_file()


def test_by_chunk_reports_each_chunk(run_dir, tmp_path, capsys):
    batches = TRAIN.assign(batch=["early"] * 300 + ["late"] * 300)
    batches.loc[batches["batch"] == "late", "age"] += 30  # drift starts with the late batch
    path = tmp_path / "batches.csv"
    batches.to_csv(path, index=False)
    assert cmd_drift(_args(run_dir, path, "--by", "batch")) == ALERT_EXIT
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["chunk", "rows", "status"]
    assert [line.split()[:3] for line in lines[1:]] == [["early", "300", "ok"], ["late", "300", "alert"]]
    assert lines[2].split()[3] == "age"
