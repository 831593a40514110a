"""`mlengine.export.stage`: the ONNX export stage on a fitted titanic pipeline and a real RunDir: model.onnx
written and verified on the holdout (or training rows), the records in metrics, model.json and
onnx_parity.json, the auto-format skip and fallback, the explicit-format failures, and the size estimate."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace as NS

import numpy as np
import pytest

from mlengine.errors import ExportError
from mlengine.export.joblib_bundle import read_bundle, save_joblib, sha256_file
from mlengine.export.stage import estimated_onnx_mb, stage_export_onnx
from mlengine.runs.rundir import RunDir

from tests.export_helpers import prepared


@pytest.fixture(scope="module")
def fitted():
    data, pipe = prepared("titanic.yaml", ("model.n_jobs=1", "model.params.n_estimators=10"))
    pipe.fit(data.X.iloc[:300], data.y.iloc[:300])
    return data, pipe


def _ctx(tmp_path, fitted, explicit=True, tolerance=1e-9, max_mb=50.0, holdout=True, model=None):
    data, pipe = fitted
    export = NS(explicit=explicit, format="[onnx, joblib]" if explicit else "auto", opset=17, verify=True,
                tolerance=tolerance, auto_onnx_max_mb=max_mb, measure_latency=False)
    plan = NS(export=["onnx", "joblib"], candidates=[NS(model="lightgbm")])
    rd = RunDir(tmp_path / "runs", "t")
    artifacts = save_joblib(rd.path, pipe, plan, data)
    test_idx = np.arange(300, 400) if holdout else np.arange(0)
    return NS(recipe=NS(name="t", export=export), plan=plan, model=model or pipe, data=data, rd=rd,
              artifacts=dict(artifacts), report={}, X_tr=data.X.iloc[:300], train_idx=np.arange(300),
              X_te=data.X.iloc[test_idx], y_te=data.y.iloc[test_idx], test_idx=test_idx)


def test_onnx_is_written_verified_on_the_holdout_and_recorded(tmp_path, fitted):
    ctx = _ctx(tmp_path, fitted)
    stage_export_onnx(ctx)
    path = ctx.rd.path / "model.onnx"
    assert ctx.artifacts["model.onnx"] == {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    record = ctx.report["export"]["onnx"]
    assert record["written"] is True and record["opset"] == 17 and record["file"] == "model.onnx"
    parity = record["parity"]
    assert parity["passed"] and parity["rows_checked"] == 100 and parity["rows_from"] == "holdout"
    assert json.loads((ctx.rd.path / "onnx_parity.json").read_text(encoding="utf-8")) == parity
    bundle = read_bundle(ctx.rd.path)
    assert sorted(bundle["artifacts"]) == ["model.joblib", "model.onnx"] and bundle["formats"] == ["onnx", "joblib"]
    assert bundle["onnx"]["written"] is True and "file" not in bundle["onnx"]
    assert [i["name"] for i in bundle["onnx"]["signature"]["inputs"]] == [c["name"] for c in bundle["inputs"]]


def test_without_a_holdout_the_training_rows_are_checked(tmp_path, fitted):
    ctx = _ctx(tmp_path, fitted, holdout=False)
    stage_export_onnx(ctx)
    parity = ctx.report["export"]["onnx"]["parity"]
    assert parity["rows_from"] == "training (no holdout)" and parity["rows_checked"] == 300


def test_nothing_happens_when_the_plan_has_no_onnx(tmp_path, fitted):
    ctx = _ctx(tmp_path, fitted)
    ctx.plan = NS(export=["joblib"])
    stage_export_onnx(ctx)
    assert ctx.report == {} and not (ctx.rd.path / "model.onnx").exists()


def test_auto_skips_a_model_over_the_size_limit(tmp_path, fitted, caplog):
    ctx = _ctx(tmp_path, fitted, explicit=False, max_mb=-1.0)
    with caplog.at_level(logging.WARNING, logger="mlengine"):
        stage_export_onnx(ctx)
    record = ctx.report["export"]["onnx"]
    assert record["written"] is False and "over export.auto_onnx_max_mb (-1)" in record["skipped"]
    assert not (ctx.rd.path / "model.onnx").exists()
    assert read_bundle(ctx.rd.path)["formats"] == ["joblib"]
    assert "onnx not exported (export.format auto; joblib only)" in caplog.text


def test_a_failed_parity_check_raises_when_explicit_and_falls_back_under_auto(tmp_path, fitted, caplog):
    ctx = _ctx(tmp_path / "a", fitted, tolerance=-1.0)
    with pytest.raises(ExportError, match="ONNX parity check failed on 100 rows"):
        stage_export_onnx(ctx)
    assert not (ctx.rd.path / "model.onnx").exists() and "model.onnx" not in ctx.artifacts
    assert "ONNX parity check failed" in ctx.report["export"]["onnx"]["error"]
    ctx = _ctx(tmp_path / "b", fitted, explicit=False, tolerance=-1.0)
    with caplog.at_level(logging.WARNING, logger="mlengine"):
        stage_export_onnx(ctx)  # no raise: the run completes with joblib only
    bundle = read_bundle(ctx.rd.path)
    assert bundle["formats"] == ["joblib"] and sorted(bundle["artifacts"]) == ["model.joblib"]
    assert not (ctx.rd.path / "model.onnx").exists()
    assert "onnx not exported" in caplog.text and "parity check failed" in caplog.text


def test_estimated_size_counts_scikit_learn_tree_nodes(fitted):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeRegressor

    X = np.arange(200, dtype=float).reshape(-1, 1)
    tree = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, np.sin(X[:, 0]))
    assert estimated_onnx_mb(tree) == pytest.approx(tree.tree_.node_count * 35 / 1e6)
    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, np.arange(200) % 3)
    nodes = sum(t.tree_.node_count for t in forest.estimators_)
    assert estimated_onnx_mb(forest) == pytest.approx(nodes * (20 + 15 * 3) / 1e6)
    assert estimated_onnx_mb(fitted[1]) == 0.0  # LightGBM boosters are not counted
