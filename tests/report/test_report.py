"""The run report: real runs render every section they have data for; sections other stages feed are proven on
small synthetic inputs; a report failure never loses the model; the page renders in a real browser."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlengine
from mlengine.report import render_report

from tests.conftest import RECIPES, TITANIC, read_json
from tests.report_helpers import _chromium, _rendered, chromium  # noqa: F401  (the browser fixture)

DIAGNOSTICS = ["lift", "score_distribution", "class_calibration", "partial_dependence"]  # mlengine.report.diagnostics


@pytest.fixture(scope="module")
def titanic_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("titanic")
    (base / "data").mkdir()
    shutil.copy(RECIPES.parent / "examples" / "data" / "titanic.csv", base / "data")
    (base / "recipe.yaml").write_text(TITANIC, encoding="utf-8")
    return mlengine.run(base / "recipe.yaml", overrides=["cv.folds=2"], runs_dir=base / "runs").run_dir


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', html)


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def _check_self_contained(html: str) -> None:
    assert not re.search(r'(src|href)="(https?:)?//', html), "the report must not load anything from the network"
    from PIL import Image

    for png in _images(html):
        assert Image.open(io.BytesIO(png)).size[0] > 200


@pytest.mark.slow
def test_report_of_a_real_binary_run(titanic_run):
    m = read_json(titanic_run / "metrics.json")
    html = (titanic_run / "report.html").read_text(encoding="utf-8")
    assert _sections(html) == ["overview", "recipe", "data", "plan", "metrics", "confusion", "curves", "calibration",
                               "importance", *DIAGNOSTICS, "export", "replay"]
    assert m["report"]["sections"] == _sections(html) and m["report"]["section_errors"] == {}
    assert len(_images(html)) == 8 + 3 + 1  # metrics, confusion, ROC, PR, reliability, permutation, |SHAP|, SHAP
    # summary + gains/lift, score distribution, partial dependence + ONNX vs joblib single-row latency (export)
    _check_self_contained(html)
    assert f"{m['holdout']['roc_auc']:.4f}" in html and "beats the no-skill baseline" in html
    assert f"mlengine replay {titanic_run}" in html and ".incomplete" not in html  # the record exists


def test_explainability_in_metrics(titanic_run):
    ex = read_json(titanic_run / "metrics.json")["explain"]
    perm = ex["permutation"]
    assert perm["metric"] == "roc_auc" and perm["rows"] == 179 and perm["repeats"] == 5
    assert ex["top_features"][0] == "sex" and perm["features"][0]["mean"] > 0.05
    assert {f["feature"] for f in perm["features"]} == {"pclass", "sex", "age", "sibsp", "parch", "fare",
                                                        "embarked", "deck", "alone"}
    shap = ex["shap"]
    assert shap["method"].startswith("lightgbm") and shap["units"] == "log-odds of class 1"
    sample = pd.read_parquet(titanic_run / shap["file"])
    assert len(sample) == 179 and "shap::sex" in sample.columns and "value::sex" in sample.columns
    # the contributions add up to the model's raw score (log-odds) up to one constant, the expected value
    pipe = mlengine.load_model(titanic_run).estimator
    rows = pd.read_parquet(titanic_run / "predictions.parquet")["row"]
    X = pd.read_csv(RECIPES.parent / "examples" / "data" / "titanic.csv").iloc[rows]
    raw = pipe[-1].predict(pipe[:-1].transform(X), raw_score=True)
    gap = raw - sample.filter(like="shap::").sum(axis=1).to_numpy()
    assert np.ptp(gap) < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("recipe, sections", [
    ("nyc_taxis_tip.yaml", ["metrics", "residuals", "importance"]),
    ("penguins.yaml", ["metrics", "confusion", "curves", "importance"]),
])
def test_report_of_regression_and_multiclass_runs(cli, runs_dir, recipe, sections):
    code, out, err = cli("run", RECIPES / recipe, "--runs-dir", runs_dir, "--json", "cv.kind=none")
    assert code == 0, err
    run = Path(json.loads(out)["run_dir"])
    m = read_json(run / "metrics.json")
    assert m["report"]["section_errors"] == {} and set(sections) <= set(m["report"]["sections"])
    html = (run / "report.html").read_text(encoding="utf-8")
    _check_self_contained(html)
    if recipe == "penguins.yaml":  # logistic regression: permutation importance only, no SHAP
        assert "shap" not in m["explain"] and m["explain"]["top_features"]
        assert "calibration" not in m["report"]["sections"]
    else:
        assert m["explain"]["shap"]["features"] and "Residuals vs predicted" not in html  # titles are in the PNG
        assert "residual summary" in html


# ------------------------------------------------------------------- sections fed by other stages ---
def _fixtures(run: Path, shape: str = "stages") -> None:
    """Small synthetic outputs for the stages other issues add, in the shapes `mlengine.report` documents: the
    shapes those stages write ("stages") or the simpler documented alternatives ("simple")."""
    m = read_json(run / "metrics.json")
    bins = np.linspace(0.05, 0.95, 10)
    ts = np.linspace(0.05, 0.95, 19)
    rng = np.random.default_rng(0)
    if shape == "stages":
        m["calibration"] = {
            "method": "isotonic", "oof": {"before": {"brier": 0.16, "log_loss": 0.5}, "after": {"brier": 0.14,
                                                                                            "log_loss": 0.45}},
            "holdout": {"before": {"brier": 0.15, "log_loss": 0.48}, "after": {"brier": 0.13, "log_loss": 0.43}},
            "reliability": {"on": "holdout", **{
                when: {"bins": 10, "expected_calibration_error": ece, "points": [
                    {"bin": [b - 0.05, b + 0.05], "count": 18, "mean_predicted": b, "observed": f(b)} for b in bins]}
                for when, ece, f in (("before", 0.06, lambda b: b ** 1.4), ("after", 0.01, lambda b: b * 0.98))}}}
        m["threshold"] = {"objective": "f1", "positive_class": 1, "threshold": 0.41, "chosen_on": "out-of-fold",
                          "objective_value": 0.8, "at_threshold": {"precision": 0.78, "recall": 0.74},
                          "curve": [{"threshold": t, "precision": 0.4 + t / 2, "recall": 1 - t ** 2,
                                     "objective": 0.8 - (t - 0.41) ** 2} for t in ts]}
        m["value"] = {"matrix": {"true_positive": 50, "false_positive": -10, "false_negative": -40,
                                 "true_negative": 0}, "rows": 179,
                      "per_1000": {"model": 8150.0, "no_skill": -15400.0, "rule": 2100.0},
                      "references": {"all_positive": 12800.0, "all_negative": -15400.0}}
        m["slices"] = {"sex": {"kind": "categorical", "groups": [
            {"value": "male", "rows": 115, "share": 0.64, "positive_rate": 0.2, "roc_auc": 0.77, "f1": 0.42},
            {"value": "female", "rows": 64, "share": 0.36, "positive_rate": 0.7, "roc_auc": 0.82, "f1": 0.81}],
            "gap": {"roc_auc": 0.05, "f1": 0.39}}}
        m["search"] = {"metric": "roc_auc", "greater_is_better": True}
        lb = pd.DataFrame({"trial": range(1, 13), "status": ["ok"] * 11 + ["failed"],
                           "model": ["lightgbm", "random_forest", "logistic_regression"] * 4,
                           "roc_auc_mean": rng.uniform(0.78, 0.87, 12), "roc_auc_std": rng.uniform(0.01, 0.05, 12),
                           "roc_auc_folds": ["[0.8, 0.9]"] * 12, "seconds": rng.uniform(0.2, 2, 12),
                           "error": [None] * 11 + ["MemoryError"], "config": ['{"num_leaves": 15}'] * 12,
                           "param.num_leaves": rng.integers(8, 64, 12)})
        lb.insert(0, "rank", lb["roc_auc_mean"].rank(ascending=False).astype(int))
        man = {"recipe": {"sha256": "ab12cd34"}, "data": {"content_sha256": "ff00aa11", "rows": 891},
               "git": {"commit": "96d395b", "dirty": False}, "predictions": {"sha256": "0badc0de"}}
    else:
        m["calibration"] = {"method": "isotonic", "before": {"brier": 0.15, "log_loss": 0.48},
                            "after": {"brier": 0.13, "log_loss": 0.43},
                            "reliability": {"before": {"mean_predicted": bins.tolist(),
                                                       "fraction_positive": (bins ** 1.4).tolist()},
                                            "after": {"prob_pred": bins.tolist(), "prob_true": (bins * 0.98).tolist()}}}
        m["threshold"] = {"method": "tuned", "objective": "f1", "value": 0.41,
                          "curve": {"metric": "f1", "thresholds": ts.tolist(),
                                    "scores": (0.8 - (ts - 0.41) ** 2).tolist()}}
        m["business_value"] = {"per": 1000, "threshold": 0.41, "matrix": {"tp": 50, "fp": -10, "fn": -40, "tn": 0},
                               "model": 8150.0, "baselines": {"no_skill": -15400.0, "rule": 2100.0}}
        m["slices"] = {"sex": [{"value": "female", "rows": 64, "metrics": {"roc_auc": 0.82, "f1": 0.81}},
                               {"value": "male", "rows": 115, "metrics": {"roc_auc": 0.77, "f1": 0.42}}]}
        lb = pd.DataFrame({"trial": range(1, 13), "estimator": ["lightgbm", "random_forest"] * 6,
                           "score": rng.uniform(0.78, 0.87, 12), "status": ["ok"] * 11 + ["failed"]})
        man = {"recipe_hash": "ab12cd34", "data": {"fingerprint": "ff00aa11"}}
    m["export"] = {"onnx": {"file": "model.onnx", "opset": 17, "written": True,
                            "signature": {"inputs": [], "outputs": []},
                            "parity": {"rows_checked": 179, "tolerance": 1e-5, "task": "binary",
                                       "max_abs_diff": 2.4e-7, "label_mismatches": 0, "value_mismatches": 0,
                                       "failing_rows": [], "passed": True, "rows_from": "holdout"},
                            "latency": {"onnx": {"p50_us": 92.0, "p99_us": 160.0},
                                        "joblib": {"p50_us": 15800.0, "p99_us": 21000.0}}}}
    (run / "metrics.json").write_text(json.dumps(m))
    lb.to_csv(run / "leaderboard.csv", index=False)
    (run / "manifest.json").write_text(json.dumps(man))


@pytest.mark.parametrize("shape", ["stages", "simple"])
def test_sections_other_stages_feed_render_from_their_documented_shapes(titanic_run, tmp_path, shape):
    run = tmp_path / titanic_run.name
    shutil.copytree(titanic_run, run)
    _fixtures(run, shape)
    result = render_report(run)
    assert result.errors == {}
    assert result.sections == ["overview", "recipe", "data", "plan", "search", "metrics", "confusion", "curves",
                               "calibration", "threshold", "business", "slices", "importance", *DIAGNOSTICS,
                               "export", "replay"]
    html = result.path.read_text(encoding="utf-8")
    _check_self_contained(html)
    assert len(_images(html)) == 8 + 3 + 5  # + trials, threshold curve, business value, slices, latency
    assert "12 trials, 11 finished, 1 failed or stopped" in html and "parity passed" in html
    assert f"mlengine replay {run}\nmlengine replay {run} --level search" in html and "ff00aa11" in html
    assert "decision threshold 0.4100" in html and "0.4300" in html  # threshold; log loss after calibration
    if shape == "stages":
        assert "Largest gap between slices" in html and "expected calibration error, after" in html
        assert "roc_auc_folds" not in html and "0badc0de" in html


def test_a_broken_section_is_a_notice_not_a_lost_report(titanic_run, tmp_path):
    run = tmp_path / titanic_run.name
    shutil.copytree(titanic_run, run)
    m = read_json(run / "metrics.json")
    m["slices"] = {"sex": "not a list of groups"}
    result = render_report(run, metrics=m)
    assert list(result.errors) == ["slices"] and "slices" in result.sections
    assert "not drawn" in result.path.read_text() and "importance" in result.sections


def test_report_failure_keeps_the_trained_model(write_recipe, runs_dir, monkeypatch):
    import mlengine.report.build as build

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while drawing")

    monkeypatch.setattr(build, "render_report", broken)
    result = mlengine.run(write_recipe(TITANIC), overrides=["cv.kind=none", "report.explain=false"],
                          runs_dir=runs_dir)
    assert result.status == "complete"
    assert read_json(result.run_dir / "status.json")["status"] == "complete"
    assert read_json(result.run_dir / "metrics.json")["report"] == {
        "file": None, "error": "RuntimeError: disk full while drawing"}
    assert not (result.run_dir / "report.html").exists()
    assert len(mlengine.load_model(result.run_dir).predict(pd.read_csv(
        RECIPES.parent / "examples" / "data" / "titanic.csv").head(3))) == 3
    assert "report.html could not be written" in (result.run_dir / "run.log").read_text()


def test_report_command(cli, titanic_run, tmp_path):
    code, out, err = cli("report", titanic_run, "-o", tmp_path / "again.html")
    assert code == 0, err
    assert out.strip() == str(tmp_path / "again.html") and "overview" in (tmp_path / "again.html").read_text()
    code, _, err = cli("report", tmp_path)
    assert code == 2 and "not a complete run directory" in err


# ------------------------------------------------------------------------------------ in a browser ---
def _colourful_pixels(tmp_path: Path, page: Path) -> int:
    """Screenshot the top 6000 px of a page; count strongly coloured pixels (plots; the page chrome is grey)."""
    from PIL import Image

    shot = tmp_path / f"{page.stem}.png"
    _chromium(tmp_path, "--window-size=1280,6000", f"--screenshot={shot}", page.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (6000, 1280)
    return int(((pixels.max(axis=2) - pixels.min(axis=2)) > 60).sum())


@pytest.mark.slow  # end to end (--durations: among the slowest of make test-fast); CI runs it
def test_report_renders_in_headless_chromium(chromium, titanic_run, tmp_path):  # noqa: F811
    run = tmp_path / titanic_run.name
    shutil.copytree(titanic_run, run)
    _fixtures(run, "stages")
    page = render_report(run).path
    n = len(_images(page.read_text()))
    rendered, console = _rendered(tmp_path, page)
    assert rendered == f"{n}/{n}" and n == 13 + 3  # + the diagnostics plots
    assert console == []
    assert _colourful_pixels(tmp_path, page) > 30_000, "the screenshot shows no plots"
    # the check can fail: a page with a broken image reports it
    bad = tmp_path / "bad.html"
    bad.write_text(page.read_text().replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1))
    rendered, console = _rendered(tmp_path, bad)
    assert rendered == f"{n - 1}/{n}" and any("plot failed to render" in line for line in console)
    blank = tmp_path / "blank.html"
    blank.write_text(re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', page.read_text()))
    assert _colourful_pixels(tmp_path, blank) < 15_000  # and the pixel measure tells plots from no plots


def test_a_model_that_ignores_its_inputs_has_no_top_features(write_recipe, runs_dir):
    result = mlengine.run(write_recipe(TITANIC), overrides=["model=dummy", "cv.kind=none", "report.html=false",
                                     "evaluate.require_beats_no_skill=false"],  # no skill, on purpose
                          runs_dir=runs_dir)
    perm = result.metrics["explain"]["permutation"]
    assert all(f["mean"] == 0 for f in perm["features"]) and result.metrics["explain"]["top_features"] == []
    assert "shap" not in result.metrics["explain"]
