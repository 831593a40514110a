"""What a notebook user sees: the API in dir(), rich displays of a run and a model."""

from __future__ import annotations

import pytest

import mlengine

from tests.conftest import TITANIC


def test_dir_lists_the_public_api():
    assert {"run", "load_recipe", "load_model", "replay", "sweep", "compile_recipe"} <= set(dir(mlengine))


@pytest.mark.slow
def test_run_result_and_model_display_as_html(write_recipe, runs_dir):
    text = TITANIC + "evaluate: {require: [{metric: roc_auc, min: 0.5}]}\n"
    result = mlengine.run(write_recipe(text), runs_dir=runs_dir)
    html = result._repr_html_()
    assert "<table>" in html and "roc_auc" in html and "no_skill" in html
    # the recipe's requirement and evaluate.require_beats_no_skill
    assert "gate: passed (2/2 requirements met)" in html and "report.html" in html
    model_html = mlengine.load_model(result.run_dir)._repr_html_()
    assert "task binary" in model_html and "pclass" in model_html


def test_run_table_uses_the_report_number_format(tmp_path):
    """No `nan`, no raw floats: the notebook table formats numbers as the report does."""
    from types import SimpleNamespace

    from mlengine.report.notebook import run_result_html

    metrics = {"primary_metric": "roc_auc", "holdout": {"roc_auc": 0.873812345, "count": 15.0},
               "cv": {"roc_auc": {"mean": 0.86, "std": float("nan")}, "count": {"mean": 15, "std": None}},
               "baselines": {"no_skill": {"roc_auc": 0.5}}}
    html = run_result_html(SimpleNamespace(metrics=metrics, status="complete", task="binary", run_dir=tmp_path))
    assert "0.8738" in html and "0.873812345" not in html and "<td>15</td>" in html and "0.5000" in html
    assert "nan" not in html.lower().replace("no_skill", "")
