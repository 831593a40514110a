"""The report's diagnostics sections (lift/gains and KS, score distribution, calibration by class, partial
dependence) on the records `mlengine.evaluate.diagnostics` computes from small real models: the headline numbers
and tables they show, the one-line note when a view was skipped, nothing for a run from before diagnostics, and
plots of the stated size."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from mlengine.evaluate import diagnostics as ed
from mlengine.report import diagnostics
from mlengine.report.diagnostics import (
    class_calibration_section,
    lift_section,
    partial_dependence_section,
    score_distribution_section,
)
from mlengine.report.rundata import RunData

from tests.conftest import DATA


def _png_size(b64: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(base64.b64decode(b64))).size


def _images(body: str) -> list[str]:
    return re.findall(r'src="data:image/png;base64,([^"]+)"', body)


def _tiles(body: str) -> dict[str, tuple[str, str]]:
    return {k: (v, n) for k, v, n in re.findall(r'<div class="k">([^<]*)</div><div class="v">([^<]*)</div>'
                                                 r'<div class="n">([^<]*)</div>', body)}


@pytest.fixture(scope="module")
def binary() -> dict:
    """Titanic: a logistic regression on sex and three numbers, scored on 200 holdout rows."""
    df = pd.read_csv(DATA / "titanic.csv")
    X, y = df[["sex", "pclass", "fare", "sibsp"]], df["survived"]
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["sex"]), remainder="passthrough"),
                          LogisticRegression(max_iter=1000)).fit(X[:600], y[:600])
    Xt, yt = X[600:800], y[600:800].to_numpy()
    d = ed.score_diagnostics("binary", yt, model.predict(Xt), model.predict_proba(Xt), [0, 1], 1)
    curves = ed.partial_dependence(model, Xt, ["sex", "fare"], task="binary", classes=[0, 1], pos_label=1,
                                   categorical=["sex"])
    d["partial_dependence"] = {"rows": 200, "source": "holdout", "grid_resolution": 20,
                               "ranked_by": "explain.permutation", "response": "P(1)", "features": curves,
                               "skipped_features": [{"feature": "embarked", "reason": "fewer than two distinct "
                                                                                      "values in the rows"}]}
    return {"diagnostics": d, "positive_class": 1, "task": "binary"}


@pytest.fixture(scope="module")
def multiclass() -> dict:
    df = pd.read_csv(DATA / "penguins.csv").dropna()
    X, y = df[["bill_length_mm", "bill_depth_mm"]], df["species"].to_numpy()
    model = LogisticRegression(max_iter=1000).fit(X, y)
    classes = list(model.classes_)
    return {"diagnostics": ed.score_diagnostics("multiclass", y, model.predict(X), model.predict_proba(X),
                                                classes, None), "task": "multiclass"}


@pytest.fixture(scope="module")
def regression() -> dict:
    df = pd.read_csv(DATA / "wine_quality_white.csv").head(300)
    X, y = df[["alcohol", "density"]], df["quality"].to_numpy(dtype=float)
    pred = LinearRegression().fit(X, y).predict(X)
    return {"diagnostics": ed.score_diagnostics("regression", y, pred, None, [], None), "task": "regression"}


def test_a_run_without_diagnostics_shows_none_of_the_sections(tmp_path):
    for metrics in ({"task": "binary"}, {"diagnostics": "garbled"}):
        run = RunData(tmp_path, metrics)
        assert [section(run) for section in diagnostics.SECTIONS] == [None] * 4
    assert diagnostics.SECTIONS == [lift_section, score_distribution_section, class_calibration_section,
                                    partial_dependence_section]


def test_lift_section_shows_base_rate_top_decile_and_ks(tmp_path, binary):
    d = binary["diagnostics"]
    lift, ks = d["lift"], d["ks"]
    block = lift_section(RunData(tmp_path, binary))
    assert (block.id, block.title) == ("lift", "Lift, gains and KS")
    tiles = _tiles(block.body)
    assert tiles["base rate"] == (f"{lift['base_rate']:#.4g}", f"{lift['positives']} of 200 rows")
    top = lift["deciles"][0]
    assert tiles["top-decile lift"][1] == f"{top['positives']} of {top['rows']} rows"
    assert tiles["top-decile lift"][0] == f"{top['lift']:#.4g}".rstrip(".")
    share30 = lift["curve"]["share_of_positives"][lift["curve"]["share_of_rows"].index(0.3)]
    assert tiles["top 30% of rows capture"][0] == f"{share30:#.4g}"
    assert tiles["KS statistic"][0] == f"{ks['statistic']:#.4g}"
    assert tiles["KS statistic"][1].startswith(f"at P = {ks['threshold']:#.4g} (TPR ")
    rows = re.findall(r"<tr><td>(\d+)</td>", block.body)
    assert rows == [str(i) for i in range(1, 11)]  # one table row per decile
    text = re.sub(r'src="[^"]+"', "", block.body)
    assert "nan" not in text.lower() and "P(1) ranks the holdout" in block.lead
    [img] = _images(block.body)
    assert _png_size(img) == (1300, 494)  # 10 x 3.8 inches at 130 dpi: gains beside lift


def test_views_a_task_does_not_have_say_why(tmp_path, multiclass, regression, binary):
    block = lift_section(RunData(tmp_path, multiclass))
    assert block.body == ('<p class="note">Not shown: ranks rows by P(positive): binary tasks only (see calibration '
                          'by class and score distribution).</p>')
    assert class_calibration_section(RunData(tmp_path, binary)).body == (
        '<p class="note">Not shown: binary: the Calibration section shows the reliability curve.</p>')
    assert class_calibration_section(RunData(tmp_path, regression)).body == (
        '<p class="note">Not shown: regression has no class probabilities.</p>')
    bare = RunData(tmp_path, {"diagnostics": {"skipped": {}}})
    assert score_distribution_section(bare).body == '<p class="note">Not shown: not computed.</p>'
    assert lift_section(bare).id == "lift" and not _images(lift_section(bare).body)


def test_binary_score_distribution_marks_the_ks_threshold(tmp_path, binary):
    sd = binary["diagnostics"]["score_distribution"]
    block = score_distribution_section(RunData(tmp_path, binary))
    assert block.title == "Score distribution by class" and block.lead.startswith("Holdout: how the predicted")
    assert "20 equal-width bins; each class&#x27;s histogram sums to 1; dashed: where the classes" in block.body
    rows = re.findall(r"<tr><td>(true class \w+)</td><td class=\"num\">([\d,]+)</td>", block.body)
    assert rows == [("true class 0", str(sd["summary"]["0"]["rows"])), ("true class 1", str(sd["summary"]["1"]["rows"]))]
    assert sum(int(n) for _, n in rows) == 200
    assert "<th class=\"num\">mean P(1)</th>" in block.body
    assert _png_size(_images(block.body)[0]) == (702, 468)  # one 5.4 x 3.6 panel


def test_multiclass_score_distribution_and_calibration_by_class(tmp_path, multiclass):
    run = RunData(tmp_path, multiclass)
    sd = score_distribution_section(run)
    assert "own true class" in sd.lead and "dashed" not in sd.body  # no KS outside binary
    assert re.findall(r"<td>(true class \w+)</td>", sd.body) == ["true class Adelie", "true class Chinstrap",
                                                                "true class Gentoo"]
    cal = multiclass["diagnostics"]["calibration_by_class"]
    block = class_calibration_section(run)
    tiles = _tiles(block.body)
    assert tiles["classwise ECE"] == (f"{cal['classwise_ece']:#.4g}", "mean over classes")
    assert tiles["Brier (multiclass)"][0] == f"{cal['brier']:#.4g}"
    assert re.findall(r"<tr><td>(\w+)</td><td class=\"num\">(\d+)</td>", block.body) == [
        ("Adelie", "146"), ("Chinstrap", "68"), ("Gentoo", "119")]
    assert "10 equal-width bins of P(class)" in block.body and "on 333 holdout rows" in block.lead


def test_regression_score_distribution_shows_predictions_actuals_and_residuals(tmp_path, regression):
    sd = regression["diagnostics"]["score_distribution"]
    block = score_distribution_section(RunData(tmp_path, regression))
    assert block.title == "Score distribution" and block.lead.startswith("Regression has no classes")
    assert re.findall(r"<tr><td>(\w+)</td><td class=\"num\">300</td>", block.body) == ["actual", "predicted"]
    quantiles = re.findall(r"<tr><td>(p\d+)</td><td class=\"num\">([^<]+)</td>", block.body)
    assert [q for q, _ in quantiles] == ["p5", "p25", "p50", "p75", "p95"]
    assert quantiles[2][1] == f"{sd['residuals']['quantiles']['p50']:#.4g}".rstrip(".")
    assert _png_size(_images(block.body)[0]) == (1300, 468)  # the residual panel beside the distributions


def test_partial_dependence_section_plots_the_ranked_features(tmp_path, binary):
    block = partial_dependence_section(RunData(tmp_path, binary))
    assert block.lead.startswith("The top 2 features by the run's permutation importance:")
    assert "Average P(1) over 200 rows (holdout) with the feature set to each grid value (up to 20 points" in block.body
    assert '<p class="note">embarked skipped: fewer than two distinct values in the rows.</p>' in block.body
    [img] = _images(block.body)
    assert _png_size(img) == (1014, 442)  # two panels: 3.6 * 2 + 0.6 = 7.8 x 3.4 inches


def test_partial_dependence_notes(tmp_path, binary):
    pd_rec = binary["diagnostics"]["partial_dependence"]
    empty = {"diagnostics": {"partial_dependence": {**pd_rec, "features": []}}}
    assert partial_dependence_section(RunData(tmp_path, empty)).body == (
        '<p class="note">Not shown: no feature could be varied.</p>')
    skipped = {"diagnostics": {"skipped": {"partial_dependence": "could not be computed: ValueError: x"}}}
    assert partial_dependence_section(RunData(tmp_path, skipped)).body == (
        '<p class="note">Not shown: could not be computed: ValueError: x.</p>')
    (tmp_path / "recipe.yaml").write_text("name: t\nreport: {explain: false}\n", encoding="utf-8")
    off = partial_dependence_section(RunData(tmp_path, {"diagnostics": {"skipped": {}}}))
    assert off.body == ('<p class="note">Not shown: report.explain is off (partial dependence follows the '
                        'importance ranking).</p>')


def test_plots_are_decodable_pngs_of_the_figure_size(binary):
    lift = binary["diagnostics"]["lift"]
    assert _png_size(diagnostics.gains_plot(lift["curve"]["share_of_rows"], lift["curve"]["share_of_positives"],
                                            0.0, [1.0] * 10)) == (1300, 494)  # a zero base rate still draws
    assert _png_size(diagnostics.class_reliability({"a": ([0.1, 0.9], [0.2, 0.8])})) == (624, 572)
    many = {f"series {i}": list(np.arange(4) + i) for i in range(12)}  # only the first 10 are drawn
    assert _png_size(diagnostics.histograms([0, 1, 2, 3, 4], many, "x", "t", mark=(2.0, "m"))) == (702, 468)


def test_table_formats_numbers_and_keeps_the_first_column_as_text():
    out = diagnostics._table(["name", "a", "b"], [["10", 0.123456, None]])
    assert "<td>10</td>" in out and '<td class="num">0.1235</td>' in out and "—" in out
    assert '<th class="num">a</th><th class="num">b</th>' in out and "<th>name</th>" in out
    allnum = diagnostics._table(["a", "b"], [[3.0, 2.5]], first_text=False)
    assert '<td class="num">3</td><td class="num">2.500</td>' in allnum


def test_gains_point_lookup(tmp_path: Path):
    curve = {"share_of_rows": [0.0, 0.1, 0.3], "share_of_positives": [0.0, 0.25, 0.6]}
    assert diagnostics._at(curve, 0.3) == 0.6 and diagnostics._at(curve, 0.5) is None
