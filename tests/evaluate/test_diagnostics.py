"""Evaluation diagnostics (lift/gains, KS, score distribution, calibration by class, partial dependence): the pure
functions against hand-computed values on tiny arrays, and real runs whose metrics.json and report hold them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlengine.evaluate import diagnostics as dg
from mlengine.report.diagnostics import num

from tests.conftest import TITANIC, read_json, titanic_run


# ------------------------------------------------------------------------------------------ KS, lift ---
def test_ks_of_perfectly_separated_scores_is_one_and_matches_scipy():
    y = np.array([0, 0, 0, 1, 1])
    ks = dg.ks_statistic(y, np.array([0.1, 0.2, 0.3, 0.8, 0.9]), 1)
    assert ks["statistic"] == 1.0 and ks["tpr"] == 1.0 and ks["fpr"] == 0.0 and 0.3 < ks["threshold"] <= 0.8
    assert dg.ks_statistic(y, np.array([0.5] * 5), 1)["statistic"] == 0.0  # no separation
    assert dg.ks_statistic(np.zeros(4), np.arange(4.0), 1) is None  # one class only
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = rng.normal(size=300) + y * 0.7
    assert dg.ks_statistic(y, s, 1)["statistic"] == pytest.approx(ks_2samp(s[y == 1], s[y == 0]).statistic)


def test_gains_curve_runs_from_zero_to_one_and_lift_of_a_known_ranking():
    y = np.array([1] * 10 + [0] * 90)  # the 10 positives have the 10 highest scores
    score = np.linspace(1, 0, 100)
    g = dg.gains_lift(y, score, 1)
    curve = g["curve"]["share_of_positives"]
    assert curve[0] == 0.0 and curve[-1] == 1.0 and np.all(np.diff(curve) >= 0)
    assert g["curve"]["share_of_rows"][0] == 0.0 and g["curve"]["share_of_rows"][-1] == 1.0
    top = g["deciles"][0]
    assert top["rows"] == 10 and top["positives"] == 10 and top["lift"] == pytest.approx(10.0)
    assert top["cumulative_gain"] == 1.0 and g["deciles"][1]["lift"] == 0.0 and g["base_rate"] == 0.1
    assert sum(d["rows"] for d in g["deciles"]) == 100 and g["deciles"][-1]["cumulative_lift"] == pytest.approx(1)
    # string labels, a reversed ranking: the positives are all in the last decile
    rev = dg.gains_lift(np.where(y == 1, "yes", "no"), -score, "yes")
    assert rev["deciles"][0]["lift"] == 0.0 and rev["deciles"][-1]["lift"] == pytest.approx(10.0)
    assert dg.gains_lift(np.zeros(5), np.arange(5.0), 1) is None
    assert len(dg.gains_lift(np.array([1, 0, 1]), np.array([0.9, 0.1, 0.5]), 1)["deciles"]) == 3  # < 10 rows


# --------------------------------------------------------------------------------------- distributions ---
def test_score_distribution_per_task():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    b = dg.score_distribution("binary", np.array([0, 1, 1, 0]), proba=proba, classes=[0, 1], pos_label=1, bins=4)
    assert b["edges"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert b["counts"] == {"0": [1, 1, 0, 0], "1": [0, 0, 1, 1]} and b["summary"]["1"]["mean"] == pytest.approx(0.7)
    m = dg.score_distribution("multiclass", np.array(["a", "b", "c"]), classes=["a", "b", "c"], bins=2,
                              proba=np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]))
    assert m["counts"] == {"a": [0, 1], "b": [1, 0], "c": [0, 1]}  # each row's P(its true class)
    r = dg.score_distribution("regression", np.array([1.0, 2.0, 3.0, 4.0]), pred=np.array([1.5, 2.0, 2.5, 4.0]),
                              bins=3)
    assert sum(r["counts"]["actual"]) == sum(r["counts"]["predicted"]) == 4 and r["residuals"]["mean"] == 0.0
    assert r["residuals"]["quantiles"]["p50"] == 0.0 and sum(r["residuals"]["counts"]) == 4


def test_calibration_by_class_by_hand():
    y = np.array(["a", "a", "b", "c"])
    proba = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6]])
    c = dg.calibration_by_class(y, proba, ["a", "b", "c"], bins=2)
    a, b, _ = c["classes"]
    # class a: bin [0, .5) has rows 3, 4 (p .3, .2; neither is a) -> gap .25; bin [.5, 1] rows 1, 2 (p .8, .6; both a)
    assert a["ece"] == pytest.approx((2 * 0.25 + 2 * 0.3) / 4) and a["rows"] == 2
    assert [p["count"] for p in a["points"]] == [2, 2] and a["points"][1]["observed"] == 1.0
    assert a["brier"] == pytest.approx(np.mean([0.04, 0.16, 0.09, 0.04]))
    # class b: [0, .5): rows 1, 2, 4 (p .1 .3 .2, none b) gap .2; [.5, 1]: row 3 (p .6, is b) gap .4
    assert b["ece"] == pytest.approx((3 * 0.2 + 1 * 0.4) / 4)
    assert c["classwise_ece"] == pytest.approx(np.mean([x["ece"] for x in c["classes"]]))
    # top label: confidences .8 .6 .6 .6, all right -> bin [.5, 1]: mean .65 vs 1
    assert c["top_label_ece"] == pytest.approx(0.35)
    from mlengine.evaluate.metrics import METRICS

    assert c["brier"] == pytest.approx(METRICS["brier"].score(y, proba=proba, classes=["a", "b", "c"], pos_label=None))


# --------------------------------------------------------------------------------- partial dependence ---
def _frame(n: int = 200) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.normal(size=n), "k": rng.choice(["u", "v", "w"], n), "z": rng.normal(size=n)})
    y = 2 * X["x"].to_numpy() + np.where(X["k"] == "v", 3.0, 0.0) + rng.normal(scale=0.1, size=n)
    return X, y


def _pipe(model):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    ct = ColumnTransformer([("cat", OneHotEncoder(), ["k"])], remainder="passthrough")
    return make_pipeline(ct, model)


def test_partial_dependence_agrees_with_sklearn_and_by_hand():
    from sklearn.inspection import partial_dependence
    from sklearn.linear_model import LinearRegression

    X, y = _frame()
    model = _pipe(LinearRegression()).fit(X, y)
    got = dg.partial_dependence(model, X, ["x", "k"], task="regression", classes=[], pos_label=None,
                                categorical=["k"], grid_resolution=5)
    x_curve, k_curve = got
    from scipy.stats.mstats import mquantiles

    lo, hi = mquantiles(X["x"], prob=(0.05, 0.95))
    assert x_curve["grid"] == pytest.approx(np.linspace(lo, hi, 5)) and x_curve["kind"] == "numeric"
    ref = partial_dependence(model, X, ["x"], grid_resolution=5, kind="average")  # scikit-learn's own grid
    assert x_curve["grid"] == pytest.approx(ref["grid_values"][0])
    assert x_curve["average"]["prediction"] == pytest.approx(ref["average"][0])
    for g, v in zip(x_curve["grid"], x_curve["average"]["prediction"], strict=True):  # by hand
        assert v == pytest.approx(model.predict(X.assign(x=g)).mean())
    assert k_curve["kind"] == "categorical" and set(k_curve["grid"]) == {"u", "v", "w"}
    by_k = dict(zip(k_curve["grid"], k_curve["average"]["prediction"], strict=True))
    assert by_k["v"] - by_k["u"] == pytest.approx(3.0, abs=0.1)
    assert by_k["w"] == pytest.approx(model.predict(X.assign(k="w")).mean())


def test_partial_dependence_of_classifiers_speaks_of_the_named_classes():
    from sklearn.linear_model import LogisticRegression

    X, y = _frame()
    labels = np.where(y > 1, "hi", "lo")  # classes_ = [hi, lo]: the positive class "hi" is column 0
    model = _pipe(LogisticRegression()).fit(X, labels)
    (curve,) = dg.partial_dependence(model, X, ["x"], task="binary", classes=["hi", "lo"], pos_label="hi",
                                     grid_resolution=4)
    for g, v in zip(curve["grid"], curve["average"]["P(hi)"], strict=True):
        assert v == pytest.approx(model.predict_proba(X.assign(x=g))[:, 0].mean())
    assert np.all(np.diff(curve["average"]["P(hi)"]) > 0)  # larger x, more "hi"
    three = np.digitize(y, [0, 2]).astype(str)
    model = _pipe(LogisticRegression()).fit(X, three)
    (curve,) = dg.partial_dependence(model, X, ["k"], task="multiclass", classes=["0", "1", "2"], pos_label=None,
                                     categorical=["k"])
    assert set(curve["average"]) == {"0", "1", "2"}
    assert np.allclose(np.sum([curve["average"][c] for c in "012"], axis=0), 1.0)


def test_without_an_importance_ranking_partial_dependence_ranks_by_permutation_and_skips_datetimes():
    from types import SimpleNamespace

    from sklearn.linear_model import LinearRegression

    X, y = _frame(120)
    X["when"] = pd.date_range("2024-01-01", periods=len(X), freq="D")
    model = _pipe(LinearRegression()).fit(X[["x", "k", "z"]], y)
    columns = SimpleNamespace(numeric=["x", "z"], categorical=["k"], boolean=[], datetime=["when"])
    ctx = SimpleNamespace(
        data=SimpleNamespace(task="regression", classes=[], pos_label=None, columns=columns),
        plan=SimpleNamespace(seed=0, primary_metric="rmse"), model=_WithDates(model), report={"explain": {
            "error": "boom"}}, X_te=X, y_te=pd.Series(y), X_tr=None, y_tr=None)
    rec = dg.partial_dependence_record(ctx)
    assert rec["ranked_by"].startswith("permutation importance computed") and rec["rows"] == 120
    assert [f["feature"] for f in rec["features"]][:2] == ["x", "k"]  # x and the "v" category drive y
    ranking = [{"feature": f, "mean": 0.1, "std": 0.0} for f in ("when", "z", "k", "x")]
    ctx.report = {"explain": {"permutation": {"features": ranking}}}
    rec = dg.partial_dependence_record(ctx)
    assert rec["ranked_by"] == "explain.permutation" and [f["feature"] for f in rec["features"]] == ["z", "k", "x"]
    assert [s["feature"] for s in rec["skipped_features"]] == ["when"]


class _WithDates:
    """A regressor over X that ignores a datetime column (as a pipeline deriving its parts would use it)."""

    _estimator_type = "regressor"

    def __init__(self, model):
        self.model = model

    def fit(self, X, y):
        return self

    def predict(self, X):
        return self.model.predict(X[["x", "k", "z"]])

    def __sklearn_tags__(self):
        return self.model.__sklearn_tags__()

    def __sklearn_is_fitted__(self):
        return True


def test_a_diagnostic_that_does_not_apply_says_why():
    out = dg.score_diagnostics("regression", np.array([1.0, 2.0]), np.array([1.0, 2.5]), None, [], None)
    assert set(out["skipped"]) == {"lift", "ks", "calibration_by_class"} and "score_distribution" in out
    out = dg.score_diagnostics("binary", np.array([]), None, None, [0, 1], 1)
    assert out["skipped"]["lift"] == "no holdout rows to score" and "score_distribution" not in out


def test_numbers_in_the_report():
    assert [num(3), num(1234567), num(0.123456), num(2.0), num(12345.6), num(float("nan")), num(None), num(0.0)] \
        == ["3", "1,234,567", "0.1235", "2", "12,350", "\u2014", "\u2014", "0"]
    assert num(np.int64(7)) == "7" and num(1.5e-6) == "1.500e-06"


# ------------------------------------------------------------------------------------------- real runs ---
_SECTIONS = ["lift", "score_distribution", "class_calibration", "partial_dependence"]


def _text(html: str) -> str:
    return re.sub(r'src="data:image/png;base64,[^"]+"', "", html)


@pytest.fixture(scope="module")
def binary_run(tmp_path_factory) -> Path:
    return titanic_run(tmp_path_factory.mktemp("diag"), TITANIC)


def test_a_binary_run_records_and_reports_the_diagnostics(binary_run):
    m = read_json(binary_run / "metrics.json")
    d = m["diagnostics"]
    assert d["on"] == "holdout" and {"lift", "ks", "score_distribution", "partial_dependence"} <= set(d)
    assert set(d["skipped"]) == {"calibration_by_class"} and 0 < d["ks"]["statistic"] <= 1
    assert len(d["lift"]["deciles"]) == 10 and d["lift"]["curve"]["share_of_positives"][-1] == 1.0
    p = d["partial_dependence"]
    assert p["rows"] == m["rows"]["holdout"] and p["ranked_by"] == "explain.permutation"
    ranked = [f["feature"] for f in m["explain"]["permutation"]["features"]]
    assert [f["feature"] for f in p["features"]] == ranked[:3] and all(len(f["grid"]) <= 20 for f in p["features"])
    assert {f["kind"] for f in p["features"]} == {"numeric", "categorical"}  # sex is among the top 3
    html = (binary_run / "report.html").read_text(encoding="utf-8")
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert [s for s in ids if s in _SECTIONS] == _SECTIONS and m["report"]["section_errors"] == {}
    text = _text(html)
    assert "KS statistic" in text and "Lift by decile" not in text  # plot titles are inside the PNGs
    assert "Not shown: binary: the Calibration section shows the reliability curve." in text
    assert not re.search(r"\bnan\b", text, re.I)


@pytest.mark.slow
def test_multiclass_and_regression_runs_show_their_analogues(cli, runs_dir):
    from tests.conftest import RECIPES

    for recipe, shown, note, skipped in [("penguins.yaml", "class_calibration", "lift", "lift"),
                                         ("nyc_taxis_tip.yaml", "score_distribution", "class_calibration",
                                          "calibration_by_class")]:
        code, out, err = cli("run", RECIPES / recipe, "--runs-dir", runs_dir, "-q", "cv.kind=none")
        assert code == 0, err
        run = next(p for p in (runs_dir).glob("*/*") if (p / "metrics.json").exists() and recipe.split(".")[0]
                   .split("_")[0] in p.parent.name.replace("-", "_"))
        m = read_json(run / "metrics.json")
        d = m["diagnostics"]
        assert "partial_dependence" in d and skipped in d["skipped"] and m["report"]["section_errors"] == {}
        text = _text((run / "report.html").read_text(encoding="utf-8"))
        assert f'<section id="{shown}">' in text and not re.search(r"\bnan\b", text, re.I)
        assert re.search(rf'<section id="{note}"><h2>[^<]+</h2><p class="note">Not shown: ', text)
        if recipe == "penguins.yaml":
            c = d["calibration_by_class"]
            assert [x["class"] for x in c["classes"]] == m["classes"]
            assert c["brier"] == pytest.approx(m["holdout"].get("brier", c["brier"]))
            assert len(d["partial_dependence"]["features"][0]["average"]) == 3
        else:
            assert d["score_distribution"]["kind"] == "regression" and "residual quantile" in text
