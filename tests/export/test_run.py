"""Export inside a run: model.onnx + parity record + bundle, plan-time refusal, failing parity, load_model, and
`mlengine predict` with its bad inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlengine
from mlengine.errors import ModelLoadError

from tests.conftest import DATA, RECIPES, TITANIC, read_json
from tests.export_helpers import raw_rows

ONNX_TITANIC = TITANIC.replace("data:\n", "data:\n  id: pid\n").replace("titanic.csv", "titanic_ids.csv") + """
export: {format: [onnx, joblib]}
"""


@pytest.fixture(scope="module")
def titanic_run(tmp_path_factory):
    """One titanic run with an id column, exporting both formats (shared by the read-only tests below)."""
    root = tmp_path_factory.mktemp("export")
    (root / "data").mkdir()
    raw = pd.read_csv(DATA / "titanic.csv")
    raw.insert(0, "pid", [f"P{i:04d}" for i in range(len(raw))])
    raw.to_csv(root / "data" / "titanic_ids.csv", index=False)
    recipe = root / "recipe.yaml"
    recipe.write_text(ONNX_TITANIC, encoding="utf-8")
    result = mlengine.run(recipe, overrides=["model.n_jobs=1"], runs_dir=root / "runs")
    return result, raw


def _copy_run(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / "run"))


@pytest.mark.slow
def test_run_writes_verified_onnx_and_bundle(titanic_run):
    result, _ = titanic_run
    run = result.run_dir
    assert (run / "model.onnx").is_file() and (run / "model.joblib").is_file()
    metrics = read_json(run / "metrics.json")
    parity = metrics["export"]["onnx"]["parity"]
    assert parity["passed"] and parity["rows_checked"] == metrics["rows"]["holdout"] == 179
    assert parity["max_abs_diff"] < 1e-9 and parity["label_mismatches"] == 0 and parity["rows_from"] == "holdout"
    bundle = read_json(run / "model.json")
    assert set(bundle["artifacts"]) == {"model.onnx", "model.joblib"}
    assert all(len(a["sha256"]) == 64 for a in bundle["artifacts"].values())
    assert bundle["formats"] == ["onnx", "joblib"] and bundle["id_column"] == "pid"
    assert bundle["decision"]["rule"] == "argmax" and bundle["decision"]["threshold"] == 0.5
    assert len(bundle["recipe_sha256"]) == 64 and bundle["versions"]["onnxruntime"]
    deck = next(c for c in bundle["inputs"] if c["name"] == "deck")
    assert deck["kind"] == "categorical" and deck["categories"] == list("ABCDEFG") and deck["missing_seen"]
    names = [i["name"] for i in bundle["onnx"]["signature"]["inputs"]]
    assert "pid" not in names and {"age", "deck", "alone"} <= set(names)
    assert bundle["onnx"]["parity"]["passed"]


def test_load_model_onnx_matches_joblib_from_frames_dicts_and_lists(titanic_run):
    result, raw = titanic_run
    skl = mlengine.load_model(result.run_dir)
    onx = mlengine.load_model(result.run_dir, format="onnx")
    assert onx.format == "onnx" and mlengine.load_model(result.run_dir, format="auto").format == "onnx"
    frame = raw.head(50)
    np.testing.assert_allclose(onx.predict_proba(frame), skl.predict_proba(frame), atol=1e-12)
    assert (onx.predict(frame) == skl.predict(frame)).all()
    rows = raw_rows(frame)
    assert (onx.predict(rows) == skl.predict(frame)).all()
    one = onx.predict_proba(rows[3])
    np.testing.assert_allclose(one, skl.predict_proba(frame.iloc[[3]]), atol=1e-12)


def test_predict_cli_both_formats_with_ids_and_probabilities(cli, titanic_run, tmp_path):
    result, raw = titanic_run
    data = tmp_path / "in.parquet"
    raw.head(100).to_parquet(data)
    outs = {}
    for fmt, ext in (("onnx", "csv"), ("joblib", "parquet")):
        out = tmp_path / f"out_{fmt}.{ext}"
        code, stdout, err = cli("predict", result.run_dir, data, "-o", out, "--format", fmt, "--proba", "-v")
        assert code == 0, err
        assert f"100 predictions ({fmt})" in stdout and "ignored columns: survived" in err
        outs[fmt] = pd.read_csv(out) if ext == "csv" else pd.read_parquet(out)
    a, b = outs["onnx"], outs["joblib"]
    assert list(a.columns) == ["pid", "prediction", "proba_0", "proba_1"]
    assert (a["pid"] == raw["pid"].head(100)).all() and (a["prediction"] == b["prediction"]).all()
    np.testing.assert_allclose(a["proba_1"], b["proba_1"], atol=1e-12)


def test_predict_bad_inputs(cli, titanic_run, tmp_path):
    result, raw = titanic_run
    run = result.run_dir
    out = tmp_path / "out.csv"
    raw.drop(columns=["age", "sex"]).head(5).to_csv(tmp_path / "missing.csv", index=False)
    code, _, err = cli("predict", run, tmp_path / "missing.csv", "-o", out)
    assert code == 2 and "missing 2 column(s) the model needs: age, sex" in err and "Traceback" not in err
    bad = raw.head(5).copy()
    bad["age"] = ["22", "x", "forty", "", "30"]
    bad.to_csv(tmp_path / "badtype.csv", index=False)
    for fmt in ("onnx", "joblib"):
        code, _, err = cli("predict", run, tmp_path / "badtype.csv", "-o", out, "--format", fmt)
        assert code == 2 and "column 'age' should be numeric" in err and "'forty'" in err, (fmt, err)
    (tmp_path / "empty.csv").write_text("")
    code, _, err = cli("predict", run, tmp_path / "empty.csv", "-o", out)
    assert code == 2 and "is empty" in err
    raw.head(0).to_csv(tmp_path / "header.csv", index=False)
    code, _, err = cli("predict", run, tmp_path / "header.csv", "-o", out)
    assert code == 2 and "no rows" in err
    code, _, err = cli("predict", run, tmp_path / "missing.csv", "-o", tmp_path / "out.xlsx")
    assert code == 2 and "allowed: .csv, .parquet" in err


@pytest.mark.parametrize("artifact", ["model.onnx", "model.joblib"])
def test_truncated_or_tampered_artifacts_are_refused(cli, titanic_run, tmp_path, artifact):
    result, raw = titanic_run
    run = _copy_run(result.run_dir, tmp_path)
    fmt = artifact.split(".")[1]
    path = run / artifact
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    with pytest.raises(ModelLoadError, match="sha256"):
        mlengine.load_model(run, format=fmt)
    raw.head(5).to_csv(tmp_path / "in.csv", index=False)
    code, _, err = cli("predict", run, tmp_path / "in.csv", "-o", tmp_path / "o.csv", "--format", fmt)
    assert code == 2 and "refusing to load it" in err
    # a corrupt file whose hash was also rewritten in model.json: the loader's own failure, still a clear error
    bundle = read_json(run / "model.json")
    from mlengine.records import sha256_file

    bundle["artifacts"][artifact]["sha256"] = sha256_file(path)
    (run / "model.json").write_text(json.dumps(bundle))
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        mlengine.load_model(run, format=fmt)


def test_plan_refuses_onnx_for_a_model_that_cannot_be_exported(cli, write_recipe, runs_dir):
    path = write_recipe(TITANIC)
    code, out, err = cli("plan", path, "model=dummy", "+model.params.strategy=uniform")
    assert code == 0 and "cannot be exported to ONNX" in out and "export    joblib" in out
    code, out, err = cli("plan", path, "model=dummy", "+model.params.strategy=uniform", "export.format=[onnx]")
    assert code == 2 and "export.format: 'onnx' is not possible" in err and "strategy 'uniform'" in err
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "++model.params.linear_tree=true", "export.format=onnx")
    assert code == 2 and "linear_tree" in err and not runs_dir.exists()
    # a stacking ensemble (kept only if better, so known only after the search) with ONNX asked for: refused up
    # front; soft votes (voting, greedy) convert
    code, out, err = cli("plan", path, "+search.trials=4", "+search.ensemble.method=stacking", "export.format=onnx")
    assert code == 2 and "search.ensemble.method" in err and "auto" in err and "greedy" in err
    for method in ("voting", "greedy"):
        code, out, err = cli("plan", path, "+search.trials=4", f"+search.ensemble.method={method}",
                             "export.format=onnx")
        assert code == 0, err
    code, out, err = cli("plan", path, "+search.trials=4", "+search.ensemble.method=voting")
    assert code == 0 and "export    joblib, onnx" in out


@pytest.mark.slow
def test_failed_parity_fails_the_run_and_names_rows(cli, write_recipe, runs_dir):
    path = write_recipe(TITANIC)
    args = ("run", path, "--runs-dir", runs_dir, "--json", "model=logistic_regression", "cv.kind=none",
            "export.tolerance=1e-18")  # float64 rounding (~1e-16) exceeds this tolerance
    code, out, err = cli(*args, "export.format=[onnx,joblib]")
    assert code == 1 and "ONNX parity check failed" in err and "row " in err
    run = Path(json.loads(out)["run_dir"])
    status = read_json(run / "status.json")
    assert status["status"] == "failed" and "parity" in status["error"]["message"]
    assert not (run / "model.onnx").exists() and read_json(run / "onnx_parity.json")["value_mismatches"] > 0
    # under format auto the same failure drops model.onnx with a warning and the run completes
    code, out, err = cli(*args)
    assert code == 0 and "onnx not exported" in err
    run = Path(json.loads(out)["run_dir"])
    assert not (run / "model.onnx").exists() and (run / "model.joblib").exists()
    assert read_json(run / "model.json")["formats"] == ["joblib"]
    assert read_json(run / "metrics.json")["export"]["onnx"]["written"] is False


@pytest.mark.slow
def test_auto_skips_an_onnx_file_larger_than_its_cap_and_explicit_onnx_writes_it(cli, write_recipe, runs_dir):
    from mlengine.export.stage import estimated_onnx_mb

    path = write_recipe(TITANIC)
    args = ("run", path, "--runs-dir", runs_dir, "--json", "model=random_forest", "model.n_jobs=1", "cv.kind=none",
            "model.params.n_estimators=40")
    code, out, err = cli(*args, "export.auto_onnx_max_mb=0.05")
    assert code == 0, err
    run = Path(json.loads(out)["run_dir"])
    estimate = estimated_onnx_mb(mlengine.load_model(run, format="joblib").estimator)
    assert estimate > 0.05 and "onnx not exported" in err and "export.auto_onnx_max_mb" in err
    assert not (run / "model.onnx").exists() and read_json(run / "model.json")["formats"] == ["joblib"]
    assert "over export.auto_onnx_max_mb" in read_json(run / "metrics.json")["export"]["onnx"]["skipped"]
    code, out, err = cli(*args, "export.auto_onnx_max_mb=0.05", "export.format=[onnx,joblib]")
    assert code == 0, err
    written = Path(json.loads(out)["run_dir"]) / "model.onnx"
    assert written.exists() and 0.5 < written.stat().st_size / 1e6 / estimate < 1.5  # the estimate is close


ENSEMBLE = """
name: e
seed: 2
data:
  source: {kind: csv, path: data/DATA}
  target: TARGET
model: {name: lightgbm, n_jobs: 1}
cv: {folds: 3}
export: {format: [onnx, joblib]}
search:
  trials: 0
  ensemble:
    method: greedy
    members:
      - {model: lightgbm, params: {n_estimators: 40, num_leaves: 8}, weight: 3}
      - {model: random_forest, params: {n_estimators: 25, max_depth: 6}, weight: 1}
      - {model: LINEAR, weight: 2}
"""


@pytest.mark.parametrize("data,target,linear", [("titanic.csv", "survived", "logistic_regression"),
                                                ("penguins.csv", "species", "logistic_regression"),
                                                ("wage_panel.csv", "lwage", "ridge")])
@pytest.mark.slow
def test_weighted_soft_vote_of_different_models_exports_to_onnx_with_parity(cli, write_recipe, runs_dir, data,
                                                                           target, linear):
    text = ENSEMBLE.replace("DATA", data).replace("TARGET", target).replace("LINEAR", linear)
    if data == "titanic.csv":
        text = text.replace("target: survived", "target: survived\n  drop: [alive, who, adult_male, class, embark_town]")
    code, out, err = cli("run", write_recipe(text, files=(data,)), "--runs-dir", runs_dir, "--json")
    assert code == 0, err
    run = Path(json.loads(out)["run_dir"])
    parity = read_json(run / "onnx_parity.json")
    assert parity["passed"] and parity["rows_checked"] > 0
    model = mlengine.load_model(run, format="joblib").estimator
    vote = model.named_steps["model"]
    assert type(vote).__name__.startswith("Voting") and list(vote.weights) == [3.0, 1.0, 2.0]
    onnx = mlengine.load_model(run, format="onnx")
    raw = pd.read_csv(DATA / data).drop(columns=[target]).head(50)
    if target == "survived":
        raw = raw.drop(columns=["alive", "who", "adult_male", "class", "embark_town"])
    a = mlengine.load_model(run, format="joblib")
    if data == "wage_panel.csv":
        assert np.allclose(onnx.predict(raw), a.predict(raw), rtol=1e-9)
    else:
        assert np.allclose(onnx.predict_proba(raw), a.predict_proba(raw), atol=1e-9)
        assert (np.asarray(onnx.predict(raw)) == np.asarray(a.predict(raw))).all()


def test_onnx_only_run_has_no_joblib(cli, write_recipe, runs_dir, tmp_path):
    text = TITANIC.replace("survived\n", "survived\n  schema: {fare: {dtype: float}}\n")
    data = pd.read_csv(DATA / "titanic.csv").rename(columns={"fare": "prediction"})  # a column named like an output
    (tmp_path / "data").mkdir()
    data.to_csv(tmp_path / "data" / "renamed.csv", index=False)
    path = write_recipe(text.replace("titanic.csv", "renamed.csv").replace("fare", "prediction"))
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", "cv.kind=none", "split.holdout=0",
                         "export.format=onnx", "model.n_jobs=1")
    assert code == 0, err
    run = Path(json.loads(out)["run_dir"])
    assert (run / "model.onnx").exists() and not (run / "model.joblib").exists()
    parity = read_json(run / "onnx_parity.json")
    assert parity["passed"] and parity["rows_from"] == "training (no holdout)"
    assert "prediction__input" in [i["name"] for i in read_json(run / "model.json")["onnx"]["signature"]["inputs"]]
    with pytest.raises(ModelLoadError, match="no model.joblib"):
        mlengine.load_model(run, format="joblib")
    data.head(3).to_csv(tmp_path / "in.csv", index=False)
    code, stdout, err = cli("predict", run, tmp_path / "in.csv", "-o", tmp_path / "o.csv")
    assert code == 0 and "(onnx)" in stdout
    assert list(pd.read_csv(tmp_path / "o.csv").columns) == ["prediction"]


@pytest.mark.slow
@pytest.mark.parametrize("recipe", sorted(p.name for p in RECIPES.glob("*.yaml")))
def test_every_recipe_exports_both_formats_and_predicts_from_both(cli, runs_dir, tmp_path, recipe):
    text = (RECIPES / recipe).read_text()
    # a search keeps a small CV and few trials; calibration and tuned thresholds are fitted on out-of-fold
    # predictions, so those recipes keep a (small) CV too
    if "\nsearch:" in text:
        fast = ["cv.folds=2", "search.trials=3", "~search.ensemble"]
    elif "\ncalibration:" in text or "\nthreshold:" in text:
        fast = ["cv.folds=2"]
    else:
        fast = ["cv.kind=none"]
    code, out, err = cli("run", RECIPES / recipe, "--runs-dir", runs_dir, "--json", *fast, "model.n_jobs=1")
    assert code == 0, err
    run = Path(json.loads(out)["run_dir"])
    parity = read_json(run / "metrics.json")["export"]["onnx"]["parity"]
    assert parity["passed"] and parity["max_abs_diff"] < 1e-9, parity
    source = read_json(run / "plan.json")["data"].split()[1].rstrip(";")
    pd.read_csv(source).head(300).to_csv(tmp_path / "rows.csv", index=False)
    frames = {}
    for fmt in ("onnx", "joblib"):
        code, _, err = cli("predict", run, tmp_path / "rows.csv", "-o", tmp_path / f"{fmt}.csv", "--format", fmt,
                           "--proba")
        assert code == 0, err
        frames[fmt] = pd.read_csv(tmp_path / f"{fmt}.csv")
    assert (frames["onnx"].columns == frames["joblib"].columns).all()
    for col in frames["onnx"].columns:
        a, b = frames["onnx"][col], frames["joblib"][col]
        if not pd.api.types.is_numeric_dtype(a):
            assert (a == b).all()
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
