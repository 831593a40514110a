"""`target`: binning a numeric target into labelled classes, and regression target transforms."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlengine

from tests.conftest import DATA
from tests.modelling import TAXI, WINE, error_of, run_json


def test_edges_with_labels_end_to_end(cli, write_recipe, runs_dir):
    text = WINE + "target: {binning: edges, edges: [5.5, 6.5], labels: [low, medium, high]}\n"
    path = write_recipe(text, files=("wine_quality_white.csv",))
    code, out, _ = cli("plan", path)
    assert code == 0 and "[training_split] bin target (edges)" in out and "['low', 'medium', 'high']" in out
    metrics, run = run_json(cli, path, runs_dir)
    assert metrics["task"] == "multiclass" and metrics["classes"] == ["high", "low", "medium"]
    bins = metrics["target_bins"]
    assert bins["edges"] == [5.5, 6.5] and bins["labels"] == ["low", "medium", "high"]
    raw = pd.read_csv(DATA / "wine_quality_white.csv")["quality"]
    total = {k: bins["counts"]["train"][k] + bins["counts"]["holdout"][k] for k in bins["labels"]}
    assert total == {"low": int((raw <= 5).sum()), "medium": int((raw == 6).sum()), "high": int((raw >= 7).sum())}
    bundle = json.loads((run / "model.json").read_text())
    assert bundle["target_bins"]["edges"] == [5.5, 6.5] and bundle["classes"] == ["high", "low", "medium"]
    model = mlengine.load_model(run)  # predict returns the bin labels
    rows = pd.read_csv(DATA / "wine_quality_white.csv").drop(columns=["quality"]).head(50)
    assert set(model.predict(rows)) <= {"low", "medium", "high"}
    preds = pd.read_parquet(run / "predictions.parquet")
    assert set(preds["y_true"]) == {"low", "medium", "high"} and "proba_high" in preds.columns
    assert metrics["holdout"]["log_loss"] < metrics["baselines"]["no_skill"]["log_loss"]
    assert set(metrics["per_class"]) == {"low", "medium", "high"}


def test_quantile_edges_are_fitted_on_training_rows_only(cli, write_recipe, runs_dir):
    text = WINE + "target: {binning: quantiles, quantiles: [0.3, 0.75]}\nsplit: {holdout: 0.3}\n"
    metrics, run = run_json(cli, write_recipe(text, files=("wine_quality_white.csv",)), runs_dir)
    raw = pd.read_csv(DATA / "wine_quality_white.csv")["quality"].to_numpy(dtype=float)
    holdout = pd.read_parquet(run / "predictions.parquet")["row"].to_numpy()
    train = np.setdiff1d(np.arange(len(raw)), holdout)
    assert metrics["target_bins"]["edges"] == list(np.quantile(raw[train], [0.3, 0.75]))
    assert metrics["target_bins"]["labels"] == ["q1", "q2", "q3"]


def test_threshold_binning_gives_a_binary_task(cli, write_recipe, runs_dir):
    text = WINE + "target: {binning: threshold, threshold: 7, labels: [ordinary, fine]}\n"
    metrics, run = run_json(cli, write_recipe(text, files=("wine_quality_white.csv",)), runs_dir)
    assert metrics["task"] == "binary" and metrics["positive_class"] == "fine"  # the upper bin by default
    raw = pd.read_csv(DATA / "wine_quality_white.csv")["quality"]
    assert sum(metrics["target_bins"]["counts"][s]["fine"] for s in ("train", "holdout")) == int((raw >= 7).sum())


def test_log_transform_metrics_on_the_original_scale(cli, write_recipe, runs_dir):
    path = write_recipe(TAXI + "target: {transform: log}\n", files=("nyc_taxis.csv",))
    code, out, _ = cli("plan", path)
    assert "TransformedTargetRegressor(log)" in out
    metrics, run = run_json(cli, path, runs_dir)
    model = mlengine.load_model(run)
    last = model.estimator.steps[-1][1]
    assert type(last).__name__ == "TransformedTargetRegressor" and type(last.regressor_).__name__ == "LGBMRegressor"
    preds = pd.read_parquet(run / "predictions.parquet")
    rmse = float(np.sqrt(np.mean((preds["y_true"] - preds["y_pred"]) ** 2)))
    assert abs(rmse - metrics["holdout"]["rmse"]) < 1e-9 and preds["y_pred"].min() > 0  # dollars, not log dollars
    assert metrics["holdout"]["r2"] > 0.8
    res = metrics["residuals"]
    assert res["definition"] == "true - predicted" and abs(res["mean_absolute"] - metrics["holdout"]["mae"]) < 1e-9


@pytest.mark.parametrize("transform", ["log1p", "sqrt", "box_cox", "yeo_johnson"])
def test_other_transforms_run(cli, write_recipe, runs_dir, transform):
    text = TAXI.replace("cv: {folds: 3}", "cv: {kind: none}") + f"target: {{transform: {transform}}}\n"
    path = write_recipe(text, files=("nyc_taxis.csv",))
    metrics, _ = run_json(cli, path, runs_dir)
    assert metrics["holdout"]["r2"] > 0.7


# ------------------------------------------------------------------------------------------------ bad input ---
def test_binning_edges_that_leave_an_empty_class(cli, write_recipe):
    path = write_recipe(WINE + "target: {binning: edges, edges: [5.5, 9.5]}\n", files=("wine_quality_white.csv",))
    err = error_of(cli, path)
    assert "target.edges" in err and "'>= 9.5'" in err and "ranges from 3 to 9" in err


def test_binning_recipe_checks(cli, write_recipe):
    path = write_recipe(WINE, files=("wine_quality_white.csv",))
    err = error_of(cli, path, "target.binning=edges", "target.edges=[6.5,5.5]", "target.labels=[a,b]", "--no-data")
    assert "cut points must increase" in err
    err = error_of(cli, path, "target.binning=edges", "target.edges=[5.5]", "target.labels=[a,b,c]", "--no-data")
    assert "3 labels for 2 bins" in err
    err = error_of(cli, path, "target.binning=threshold", "task=multiclass", "--no-data")
    assert "target.threshold" in err and "task" in err and "binary" in err
    err = error_of(cli, path, "target.binning=quantiles", "target.quantiles=5")
    assert "repeated edges" in err
    err = error_of(cli, path, "target.binning=edges", "target.edges=[6]", "target.transform=log", "--no-data")
    assert "target.transform" in err


def test_transform_outside_its_domain(cli, write_recipe):
    path = write_recipe(TAXI.replace("target: fare", "target: tip").replace("tip, dropoff", "fare, dropoff"),
                        files=("nyc_taxis.csv",))
    err = error_of(cli, path, "target.transform=log")
    assert "target.transform: 'log' needs targets > 0" in err and "'tip'" in err and "log1p" in err
    err = error_of(cli, path, "target.transform=log", "task=binary", "--no-data")
    assert "target.transform" in err
