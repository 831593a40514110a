"""Assembling report.html (mlengine/report/build.py): every section that has data, in the order of `SECTIONS`,
the title and subtitle from the run, the page written atomically (in the run or at `out`), a section that fails
replaced by a notice while the others still render, and `ReportResult.to_dict` as metrics.json stores it."""

from __future__ import annotations

import json
import re

from mlengine.report import build
from mlengine.report.build import REPORT_FILE, SECTIONS, ReportResult, render_report

METRICS = {"task": "binary", "primary_metric": "roc_auc", "greater_is_better": True, "classes": [0, 1],
           "positive_class": 1, "rows": {"train": 240, "holdout": 60},
           "cv": {"roc_auc": {"mean": 0.8, "std": 0.01, "folds": [0.79, 0.81]}},
           "holdout": {"roc_auc": 0.81234}, "baselines": {"no_skill": {"roc_auc": 0.5}},
           "confusion_matrix": {"labels": [0, 1], "matrix": [[30, 5], [6, 19]]}}


def _section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', html)


def test_every_section_function_has_a_distinct_name():
    names = [f.__name__.removesuffix("_section") for f in SECTIONS]
    assert len(set(names)) == len(names)
    assert names[:2] == ["overview", "recipe"] and names[-1] == "replay"


def test_an_empty_run_directory_still_gets_a_report_of_what_always_applies(tmp_path):
    result = render_report(tmp_path)
    assert result.path == tmp_path / REPORT_FILE and result.path.is_file()
    assert result.sections == ["overview", "data", "replay"] and result.errors == {}
    html = result.path.read_text(encoding="utf-8")
    assert _section_ids(html) == result.sections
    assert "<title>mlengine run report: " + tmp_path.parent.name + "</title>" in html  # no recipe: the runs folder
    assert not list(tmp_path.glob("*.tmp"))


def test_metrics_given_in_memory_add_their_sections_in_order(tmp_path):
    (tmp_path / "recipe.yaml").write_text("name: titanic\n", encoding="utf-8")
    (tmp_path / "model.json").write_text(json.dumps({"model": "lightgbm"}), encoding="utf-8")
    final = tmp_path.parent / "20240101-000000-abcdef"
    result = render_report(tmp_path, metrics=METRICS, final_dir=final)
    assert result.sections == ["overview", "recipe", "data", "metrics", "confusion", "replay"]
    html = result.path.read_text(encoding="utf-8")
    assert "<title>mlengine run report: titanic</title>" in html
    assert '<div class="sub">binary · lightgbm · holdout roc_auc 0.8123 · 20240101-000000-abcdef</div>' in html
    assert re.findall(r'<nav>(.*?)</nav>', html)[0].count("<a href=") == len(result.sections)
    assert result.seconds > 0


def test_the_subtitle_leaves_out_a_missing_holdout_score(tmp_path):
    result = render_report(tmp_path, metrics={"task": "regression", "primary_metric": "rmse"})
    html = result.path.read_text(encoding="utf-8")
    assert f'<div class="sub">regression ·  · {tmp_path.name}</div>' in html


def test_out_writes_the_page_elsewhere_and_leaves_the_run_untouched(tmp_path):
    run, out = tmp_path / "run", tmp_path / "elsewhere.html"
    run.mkdir()
    result = render_report(run, metrics=METRICS, out=out)
    assert result.path == out and out.is_file()
    assert not (run / REPORT_FILE).exists() and not list(tmp_path.glob("*.tmp"))


def test_a_section_that_fails_becomes_a_notice_and_the_rest_still_render(tmp_path, caplog):
    broken = {**METRICS, "confusion_matrix": {"labels": [0, 1], "matrix": "garbage"}}
    result = render_report(tmp_path, metrics=broken)
    assert result.errors["confusion"] == "ValueError: could not convert string to float: 'garbage'"
    assert "metrics" in result.sections and "confusion" in result.sections  # the notice keeps its place
    html = result.path.read_text(encoding="utf-8")
    confusion = html.split('<section id="confusion">')[1].split("</section>")[0]
    assert '<span class="badge fail">not drawn</span> ValueError: could not convert string to float: ' in confusion
    assert "<h2>Confusion</h2>" in confusion
    assert "report: section confusion could not be drawn" in caplog.text


def test_report_result_to_dict_is_what_metrics_json_stores(tmp_path):
    res = ReportResult(tmp_path / "report.html", ["overview", "data"], {"data": "KeyError: 'x'"}, 1.23456)
    assert res.to_dict() == {"file": "report.html", "sections": ["overview", "data"],
                             "section_errors": {"data": "KeyError: 'x'"}, "seconds": 1.235}
    assert ReportResult(tmp_path / "r.html", []).errors == {}


def test_sections_are_drawn_in_the_order_of_the_section_list(tmp_path, monkeypatch):
    from mlengine.report.html import Block

    def first_section(run):
        return Block("first", "First", "<p>one</p>")

    def never_section(run):
        return None

    monkeypatch.setattr(build, "SECTIONS", [never_section, first_section, *SECTIONS[:1]])
    result = render_report(tmp_path, metrics=METRICS)
    assert result.sections == ["first", "overview"]
    assert _section_ids(result.path.read_text(encoding="utf-8")) == ["first", "overview"]
