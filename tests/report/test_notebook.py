"""What a notebook user sees: the API in dir(), rich displays of a run and a model."""

from __future__ import annotations

import mlengine

from tests.conftest import TITANIC


def test_dir_lists_the_public_api():
    assert {"run", "load_recipe", "load_model", "replay", "sweep", "compile_recipe"} <= set(dir(mlengine))


def test_run_result_and_model_display_as_html(write_recipe, runs_dir):
    text = TITANIC + "evaluate: {require: [{metric: roc_auc, min: 0.5}]}\n"
    result = mlengine.run(write_recipe(text), runs_dir=runs_dir)
    html = result._repr_html_()
    assert "<table>" in html and "roc_auc" in html and "no_skill" in html
    # the recipe's requirement and evaluate.require_beats_no_skill
    assert "gate: passed (2/2 requirements met)" in html and "report.html" in html
    model_html = mlengine.load_model(result.run_dir)._repr_html_()
    assert "task binary" in model_html and "pclass" in model_html
