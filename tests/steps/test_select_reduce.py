"""`select` and `reduce`: fitted inside each training fold, selectors are SelectorMixins, names are recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import SelectorMixin

import mlengine
from mlengine.steps.correlation import CorrelationFilter

from tests.conftest import DATA
from tests.modelling import TITANIC_M, WINE, error_of, run_json


@pytest.mark.parametrize("select", [
    "{method: variance, threshold: 0.3}", "{method: kbest, k: 5, score: mutual_info}", "{method: percentile, percentile: 50}",
    "{method: from_model, estimator: linear}", "{method: from_model, max_features: 4}",
    "{method: rfe, n_features: 0.5, step: 2}", "{method: rfe, n_features: 4, estimator: linear}",
    "{method: rfecv, estimator: linear, folds: 2}", "{method: correlation, threshold: 0.5, correlation: spearman}",
])
def test_every_selector_runs_and_records_its_features(cli, write_recipe, runs_dir, select):
    metrics, run = run_json(cli, write_recipe(TITANIC_M.replace("cv: {folds: 3}", "cv: {folds: 2}") + f"select: {select}\n"), runs_dir)
    sel = metrics["selection"]
    assert 0 < sel["n_selected"] < sel["n_in"] == 9
    if "variance" in select:  # the two-valued columns have variance p(1 - p) <= 0.25 < 0.3; the others more
        assert set(sel["dropped"]) == {"alone", "sex"}
    assert sorted(sel["selected"] + sel["dropped"]) == sorted(metrics["features"]["numeric"] + metrics["features"][
        "boolean"] + metrics["features"]["categorical"])
    freq = sel["selected_in_folds"]  # share of the CV folds whose selector kept each feature
    assert set(freq) <= set(sel["selected"] + sel["dropped"]) and all(v in (0.5, 1.0) for v in freq.values())
    model = mlengine.load_model(run).estimator
    step = dict(model.steps)["select"]
    assert isinstance(step, SelectorMixin) and int(step.get_support().sum()) == sel["n_selected"]
    assert metrics["holdout"]["roc_auc"] > (0.7 if "variance" in select else 0.75)  # variance drops `sex`


def test_kbest_chi2_with_minmax_and_pca_after_selection(cli, write_recipe, runs_dir):
    text = TITANIC_M + ("preprocess: {scale: minmax}\nselect: {method: kbest, k: 6, score: chi2}\n"
                        "reduce: {method: pca, n_components: 4}\n")
    path = write_recipe(text)
    code, out, _ = cli("plan", path)
    steps = [line.split()[1] for line in out.splitlines() if line.strip()[:2] in {f"{i}." for i in range(1, 9)}]
    assert steps == ["adapt", "preprocess", "select", "reduce", "model"]
    metrics, run = run_json(cli, path, runs_dir)
    model = mlengine.load_model(run).estimator
    assert type(dict(model.steps)["reduce"]).__name__ == "PCA" and dict(model.steps)["reduce"].n_components_ == 4
    assert metrics["selection"]["n_selected"] == 6


def test_reduce_by_variance_share_and_truncated_svd(cli, write_recipe, runs_dir):
    metrics, run = run_json(cli, write_recipe(WINE, files=("wine_quality_white.csv",)), runs_dir,
                            "reduce.method=pca", "reduce.n_components=0.9", "reduce.whiten=true", "cv.kind=none")
    pca = dict(mlengine.load_model(run).estimator.steps)["reduce"]
    assert pca.n_components_ < 11 and pca.explained_variance_ratio_.sum() >= 0.9
    metrics, run = run_json(cli, write_recipe(WINE, files=("wine_quality_white.csv",)), runs_dir,
                            "reduce.method=truncated_svd", "reduce.n_components=5", "cv.kind=none")
    assert dict(mlengine.load_model(run).estimator.steps)["reduce"].components_.shape == (5, 11)


def test_correlation_filter_drops_the_later_of_a_correlated_pair():
    d = pd.read_csv(DATA / "wine_quality_white.csv").drop(columns=["quality"])
    X = d[["residual_sugar", "density", "alcohol", "ph"]].to_numpy()
    r = np.corrcoef(X, rowvar=False)
    f = CorrelationFilter(threshold=0.8).fit(X)
    assert abs(r[0, 1]) > 0.8 and abs(r[1, 2]) > 0.75  # sugar~density; density~alcohol
    assert list(f.get_support()) == [True, False, True, True]  # density goes: it follows sugar
    assert f.transform(X).shape == (len(X), 3)
    X_nan = X.copy()
    X_nan[::7, 0] = np.nan  # missing values are tolerated
    assert list(CorrelationFilter(threshold=0.8).fit(X_nan).get_support()) == [True, False, True, True]


# ------------------------------------------------------------------------------------------------ bad input ---
def test_kbest_k_larger_than_the_encoded_features(cli, write_recipe):
    err = error_of(cli, write_recipe(TITANIC_M + "select: {method: kbest, k: 25}\n"))
    assert "select.k: 25 is more than the 9 features after encoding" in err and "pclass" in err
    err = error_of(cli, write_recipe(TITANIC_M + "select: {method: kbest, k: 25}\n"), command="run")
    assert "select.k" in err


def test_select_and_reduce_recipe_checks(cli, write_recipe):
    path = write_recipe(TITANIC_M)
    err = error_of(cli, path, "select.method=kbest", "--no-data")
    assert "select.k: method 'kbest' needs k" in err
    err = error_of(cli, path, "select.method=kbest", "select.k=3", "select.score=chi2", "model.name=logistic_regression",
                   "--no-data")
    assert "select.score" in err and "non-negative" in err and "minmax" in err
    err = error_of(cli, path, "select.method=variance", "select.k=3", "--no-data")
    assert "select.k: does not apply to method 'variance'" in err
    err = error_of(cli, path, "reduce.method=truncated_svd", "--no-data")
    assert "reduce.n_components" in err and "needs n_components" in err
    err = error_of(cli, path, "reduce.method=pca", "reduce.n_components=40")
    assert "reduce.n_components: 40 is more than pca allows" in err
    err = error_of(cli, path, "select.method=kbest", "select.k=3", "preprocess.numeric_impute=none", "--no-data")
    assert "preprocess.numeric_impute" in err and "select.method: kbest" in err
