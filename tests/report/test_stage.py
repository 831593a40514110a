"""stage_report (mlengine.report.stage): skipped when report.html is off, writes report.html into the run being
written with what metrics.json will hold, and records (never raises) a report that cannot be written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from mlengine.api import load_recipe
from mlengine.report.stage import stage_report
from mlengine.runs.rundir import RunDir
from mlengine.stages import RunContext, run_stage

from tests.conftest import DATA, TITANIC


@pytest.fixture
def ctx_of(tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", tmp_path / "data")
    (tmp_path / "r.yaml").write_text(TITANIC, encoding="utf-8")

    def make(*overrides: str) -> RunContext:
        loaded = load_recipe(tmp_path / "r.yaml", overrides=list(overrides))
        ctx = RunContext(loaded=loaded, rd=RunDir(tmp_path / "runs", "t"))
        ctx.report.update({"task": "binary", "primary_metric": "roc_auc", "holdout": {"roc_auc": np.float64(0.75)}})
        return ctx

    return make


def test_report_html_false_writes_nothing_and_records_nothing(ctx_of):
    ctx = ctx_of("report.html=false")
    run_stage(stage_report, ctx)
    assert "report" not in ctx.report
    assert not ctx.rd.file("report.html").exists()


def test_the_report_is_written_into_the_run_and_its_result_recorded(ctx_of):
    ctx = ctx_of()
    run_stage(stage_report, ctx)  # also proves the stage sets no undeclared RunContext field
    path = ctx.rd.file("report.html")
    assert path.is_file()
    rec = ctx.report["report"]
    assert rec["file"] == "report.html" and rec["section_errors"] == {}
    assert rec["sections"][0] == "overview" and "metrics" in rec["sections"]
    html = path.read_text(encoding="utf-8")
    # numpy values went through the JSON conversion; the page names where the run will live, not .incomplete
    assert "holdout roc_auc 0.7500" in html and ctx.rd.final.name in html


def test_a_report_that_cannot_be_written_is_recorded_not_raised(ctx_of, caplog):
    ctx = ctx_of()
    shutil.rmtree(ctx.rd.path)  # the page's temporary file has nowhere to go
    run_stage(stage_report, ctx)
    rec = ctx.report["report"]
    assert rec["file"] is None and rec["error"].startswith("FileNotFoundError: ")
    assert "report: report.html could not be written: FileNotFoundError" in caplog.text
