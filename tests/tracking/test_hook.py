"""The tracking hook against a real MLflow sqlite store: parent run, params, tags, metrics, artifacts, children,
the registry alias and the failure modes (unreachable server, required: false, gate failure, interrupt,
a store failing mid-run)."""

from __future__ import annotations

import json
import shutil
import time

import pandas as pd
import pytest

import mlengine

from tests.conftest import DATA, RECIPES
from tests.tracking_helpers import FAST, client, closed_port, require_mlflow, runs_of, store_uri, tracked


@pytest.fixture(scope="module")
def uri(tmp_path_factory) -> str:
    require_mlflow()
    return store_uri(tmp_path_factory.mktemp("store"))


def _only_parent(runs: list) -> object:
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    return parents[0]


@pytest.mark.slow
def test_parent_run_holds_params_tags_metrics_and_artifacts(cli, write_recipe, runs_dir, uri):
    path = write_recipe(tracked(FAST, uri, "parent", "  tags: {team: risk}\n"))
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--quiet")
    assert code == 0, err
    run_dir = next(runs_dir.glob("t/2*"))
    run = _only_parent(runs_of(uri, "parent"))
    assert run.info.status == "FINISHED"
    params, tags, metrics = run.data.params, run.data.tags, run.data.metrics
    assert params["model.name"] == "lightgbm" and params["cv.folds"] == "2" and params["seed"] == "1"
    assert params["model.params.n_estimators"] == "10" and params["data.target"] == "survived"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    report = json.loads((run_dir / "metrics.json").read_text())
    assert tags["mlengine.recipe_sha256"] == manifest["recipe"]["sha256"]
    assert tags["mlengine.data_sha256"] == manifest["data"]["content_sha256"]
    assert tags["mlengine.run_dir"] == str(run_dir) and tags["mlengine.status"] == "complete"
    assert tags["mlengine.version"] == mlengine.__version__ and tags["team"] == "risk"
    assert run.info.run_name == run_dir.name
    for name, value in report["holdout"].items():
        assert metrics[f"holdout.{name}"] == pytest.approx(value)
    primary = report["primary_metric"]
    assert metrics[f"cv.{primary}.mean"] == pytest.approx(report["cv"][primary]["mean"])
    folds = client(uri).get_metric_history(run.info.run_id, f"cv.{primary}.fold")
    assert [m.value for m in sorted(folds, key=lambda m: m.step)] == pytest.approx(report["cv"][primary]["folds"])
    for baseline, scores in report["baselines"].items():
        assert metrics[f"baseline.{baseline}.{primary}"] == pytest.approx(scores[primary])
    c = client(uri)
    logged = {a.path for a in c.list_artifacts(run.info.run_id, "run")}
    assert {"run/report.html", "run/manifest.json", "run/plan.txt", "run/metrics.json"} <= logged
    top = {a.path for a in c.list_artifacts(run.info.run_id)}
    assert {"model", "onnx_model", "run"} <= top
    mlmodel = {a.path for a in c.list_artifacts(run.info.run_id, "model")}
    assert {"model/MLmodel", "model/input_example.json", "model/requirements.txt"} <= mlmodel


@pytest.mark.slow
def test_logged_pyfunc_and_onnx_models_predict_like_the_run(write_recipe, runs_dir, uri, tmp_path):
    import mlflow.onnx
    import mlflow.pyfunc
    import numpy as np

    result = mlengine.run(write_recipe(tracked(FAST, uri, "models")), runs_dir=runs_dir)
    run = _only_parent(runs_of(uri, "models"))
    local = mlengine.load_model(result.run_dir)
    rows = pd.read_csv(DATA / "titanic.csv").head(20)[local.input_columns]
    rows = rows.astype({c: "float64" for c in rows.columns if rows[c].dtype.kind in "iu"})
    expected = local.predict_proba(rows)[:, 1]
    dest = client(uri).download_artifacts(run.info.run_id, "model", str(tmp_path))
    pyfunc = mlflow.pyfunc.load_model(dest)
    assert pyfunc.metadata.signature.inputs.input_names() == local.input_columns
    reqs = (tmp_path / "model" / "requirements.txt").read_text()
    assert "scikit-learn==" in reqs and "mlflow-skinny==" in reqs
    assert np.allclose(pyfunc.predict(rows)["proba_1"], expected)
    onnx_dir = client(uri).download_artifacts(run.info.run_id, "onnx_model", str(tmp_path))
    onnx = mlflow.pyfunc.load_model(onnx_dir)
    assert {i.name for i in onnx.metadata.signature.inputs.inputs} == set(local.input_columns)


@pytest.mark.slow
def test_search_trials_become_child_runs(cli, runs_dir, uri, tmp_path):
    recipe = tmp_path / "search.yaml"
    text = (RECIPES / "titanic_search.yaml").read_text().replace("../examples/data/titanic.csv",
                                                                 str(DATA / "titanic.csv"))
    recipe.write_text(tracked(text, uri, "search").replace("tracking:\n", "tracking:\n  run_name: searched\n"))
    code, out, err = cli("run", recipe, "search.trials=3", "search.ensemble.method=none", "cv.folds=2",
                         "--runs-dir", runs_dir, "--quiet")
    assert code == 0, err
    runs = runs_of(uri, "search")
    parent = _only_parent(runs)
    assert parent.info.run_name == "searched"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    board = pd.read_csv(next(runs_dir.glob("titanic_search/2*")) / "leaderboard.csv")
    assert len(children) == len(board) == 3
    by_trial = {int(r.data.tags["mlengine.trial"]): r for r in children}
    for row in board.to_dict("records"):
        child = by_trial[int(row["trial"])]
        assert child.data.params["model"] == row["model"]
        assert child.data.tags["mlengine.trial_status"] == row["status"]
        assert child.info.status == {"ok": "FINISHED", "pruned": "KILLED"}.get(row["status"], "FAILED")
        assert child.data.metrics["roc_auc"] == pytest.approx(row["roc_auc_mean"])
        folds = client(uri).get_metric_history(child.info.run_id, "roc_auc_fold")
        assert [m.value for m in sorted(folds, key=lambda m: m.step)] == pytest.approx(json.loads(row["roc_auc_folds"]))


@pytest.mark.slow
def test_log_trials_false_logs_no_children(cli, runs_dir, uri, tmp_path):
    recipe = tmp_path / "search.yaml"
    text = (RECIPES / "titanic_search.yaml").read_text().replace("../examples/data/titanic.csv",
                                                                 str(DATA / "titanic.csv"))
    recipe.write_text(tracked(text, uri, "no_trials", "  log_trials: false\n"))
    code, _, err = cli("run", recipe, "search.trials=2", "search.ensemble.method=none", "cv.folds=2",
                       "--runs-dir", runs_dir, "--quiet")
    assert code == 0, err
    assert len(runs_of(uri, "no_trials")) == 1


@pytest.mark.slow
def test_alias_moves_only_when_the_gate_passes(cli, write_recipe, runs_dir, uri, tmp_path, monkeypatch):
    register = "  register: {name: titanic_model, alias: champion}\n"
    good = write_recipe(tracked(FAST, uri, "registry", register), name="good.yaml")
    code, _, err = cli("run", good, "--runs-dir", runs_dir, "--quiet")
    assert code == 0, err
    first = next(runs_dir.glob("t/2*"))
    c = client(uri)
    assert str(c.get_model_version_by_alias("titanic_model", "champion").version) == "1"

    bad = write_recipe(tracked(FAST + "evaluate:\n  require:\n    - {metric: roc_auc, min: 0.999}\n", uri,
                               "registry", register), name="bad.yaml")
    code, _, err = cli("run", bad, "--runs-dir", runs_dir, "--quiet")
    assert code == 3, err
    failed = [r for r in runs_of(uri, "registry") if r.data.tags.get("mlengine.status") == "gate_failed"]
    assert len(failed) == 1 and failed[0].info.status == "FAILED"
    assert failed[0].data.tags["mlengine.gate"] == "failed" and failed[0].data.metrics["gate.passed"] == 0.0
    assert {a.path for a in c.list_artifacts(failed[0].info.run_id)} >= {"model", "run"}
    versions = c.search_model_versions("name='titanic_model'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    assert str(c.get_model_version_by_alias("titanic_model", "champion").version) == "1"  # not moved to the failed run

    # models:/ references: load_model and predict, sha256 still verified on the downloaded run directory
    model = mlengine.load_model("models:/titanic_model@champion", tracking_uri=uri)
    local = mlengine.load_model(first)
    rows = pd.read_csv(DATA / "titanic.csv").head(30)
    assert (model.predict(rows) == local.predict(rows)).all()
    assert model.run_dir != first and (model.run_dir / "model.json").is_file()
    again = mlengine.load_model("models:/titanic_model/1", tracking_uri=uri)
    assert again.run_dir == model.run_dir  # downloaded once per version
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    out_file = tmp_path / "p.csv"
    code, out, err = cli("predict", "models:/titanic_model/1", DATA / "titanic.csv", "-o", out_file)
    assert code == 0, err
    assert len(pd.read_csv(out_file)) == 891
    code, _, err = cli("predict", "models:/titanic_model@nope", DATA / "titanic.csv", "-o", out_file)
    assert code == 2 and "nope" in err and "Traceback" not in err
    from mlengine.errors import ModelLoadError

    (model.run_dir / "model.joblib").write_bytes(b"tampered")  # a downloaded copy: its sha256 is still checked
    with pytest.raises(ModelLoadError, match="sha256"):
        mlengine.load_model(model.run_dir)


def test_unreachable_server_exits_2_before_training(cli, write_recipe, runs_dir):
    require_mlflow()
    server = f"http://127.0.0.1:{closed_port()}"
    path = write_recipe(tracked(FAST, server, "x"))
    t = time.perf_counter()
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--quiet")
    assert time.perf_counter() - t < 30  # a hang guard (MLflow's own retries take minutes), not a speed target
    assert code == 2
    assert "tracking.uri" in err and server in err and "not reachable" in err and "Traceback" not in err
    status = json.loads(next(runs_dir.glob("t/2*/status.json")).read_text())
    assert status["status"] == "failed" and not list(runs_dir.glob("t/2*/model.joblib"))


def test_a_server_that_is_not_mlflow_exits_2(cli, write_recipe, runs_dir):
    """A real HTTP server on 127.0.0.1 that answers 404 to MLflow's API: refused before training."""
    import threading
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    require_mlflow()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}"
        code, _, err = cli("run", write_recipe(tracked(FAST, uri, "x")), "--runs-dir", runs_dir, "--quiet")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 2 and "tracking.uri" in err and uri in err and "404" in err and "Traceback" not in err


def test_required_false_warns_and_runs_untracked(cli, write_recipe, runs_dir):
    require_mlflow()
    server = f"http://127.0.0.1:{closed_port()}"
    path = write_recipe(tracked(FAST, server, "x", "  required: false\n"))
    code, out, err = cli("run", path, "--runs-dir", runs_dir)
    assert code == 0, err
    assert "not reachable" in err and "untracked" in err
    assert json.loads(next(runs_dir.glob("t/2*/status.json")).read_text())["status"] == "complete"


def test_interrupt_ends_the_run_killed(write_recipe, runs_dir, uri):
    class Interrupt:
        def before_stage(self, name, state):
            if name == "fit":
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mlengine.run(write_recipe(tracked(FAST, uri, "interrupt")), runs_dir=runs_dir, hooks=[Interrupt()])
    run = _only_parent(runs_of(uri, "interrupt"))
    assert run.info.status == "KILLED" and run.data.tags["mlengine.status"] == "failed"


@pytest.mark.slow
def test_store_failing_mid_run_keeps_the_run_directory(write_recipe, runs_dir, tmp_path, caplog):
    require_mlflow()
    store = tmp_path / "broken"
    store.mkdir()
    uri = store_uri(store)

    class BreakArtifacts:
        """Replace the artifact folder by a plain file after training: every artifact upload fails."""

        def before_stage(self, name, state):
            if name == "finalize":
                shutil.rmtree(store / "mlruns-artifacts", ignore_errors=True)
                (store / "mlruns-artifacts").write_text("not a folder")

    result = mlengine.run(write_recipe(tracked(FAST, uri, "broken")), runs_dir=runs_dir, hooks=[BreakArtifacts()])
    assert result.status == "complete" and (result.run_dir / "model.joblib").is_file()
    assert json.loads((result.run_dir / "status.json").read_text())["status"] == "complete"
    assert "run directory" in caplog.text and "unaffected" in caplog.text
    run = _only_parent(runs_of(uri, "broken"))
    assert run.info.status == "FAILED" and "mlengine.tracking_error" in run.data.tags
    assert run.data.params["model.name"] == "lightgbm"  # what could be logged was logged


def test_no_tracking_uri_means_no_hook_and_no_mlflow_import(write_recipe):
    import subprocess
    import sys

    code = ("import sys, mlengine; from mlengine.hooks import HookManager; "
            "loaded = mlengine.load_recipe(sys.argv[1]); m = HookManager.for_run(loaded); "
            "assert not [h for h in m.hooks if type(h).__name__ == 'TrackingHook'], m.hooks; "
            "assert 'mlflow' not in sys.modules; print('ok')")
    path = write_recipe(FAST)
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_bad_tracking_keys_are_recipe_errors(cli, write_recipe):
    path = write_recipe(FAST + "tracking:\n  uri: ftp://x\n  register: {name: 'a b'}\n")
    code, _, err = cli("validate", path, "--no-data")
    assert code == 2
    assert "tracking.uri" in err and "ftp://x" in err and "tracking.register.name" in err


def test_missing_extra_exits_2_naming_tracking_uri(write_recipe, runs_dir):
    """A Python where mlflow cannot be imported (blocked in sys.modules, as when the extra is not installed)."""
    import subprocess
    import sys

    path = write_recipe(tracked(FAST, "sqlite:///x.db", "x"))
    code = ("import sys; sys.modules['mlflow'] = None; from mlengine.cli import main; "
            f"raise SystemExit(main(['run', sys.argv[1], '--runs-dir', {str(runs_dir)!r}, '--quiet']))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "tracking.uri" in out.stderr and "[tracking] extra" in out.stderr and "Traceback" not in out.stderr
    assert not list(runs_dir.glob("t/2*/model.joblib"))


def test_a_run_failing_on_its_data_ends_failed_with_the_error(cli, write_recipe, runs_dir, uri):
    path = write_recipe(tracked(FAST.replace("target: survived", "target: nosuchcolumn"), uri, "data_error"))
    code, _, err = cli("run", path, "--runs-dir", runs_dir, "--quiet")
    assert code == 2 and "nosuchcolumn" in err
    run = _only_parent(runs_of(uri, "data_error"))
    assert run.info.status == "FAILED" and "nosuchcolumn" in run.data.tags["mlengine.error"]
    assert run.data.params["data.target"] == "nosuchcolumn"


@pytest.mark.slow
def test_replay_of_a_tracked_run_logs_nothing(cli, write_recipe, runs_dir, uri, tmp_path):
    path = write_recipe(tracked(FAST, uri, "replayed", "  register: {name: replayed_model}\n"))
    assert cli("run", path, "--runs-dir", runs_dir, "--quiet")[0] == 0
    run_dir = next(runs_dir.glob("t/2*"))
    code, _, err = cli("replay", run_dir, "--runs-dir", tmp_path / "replays", "--quiet")
    assert code == 0, err
    assert len(runs_of(uri, "replayed")) == 1
    assert len(client(uri).search_model_versions("name='replayed_model'")) == 1


@pytest.mark.slow
def test_file_store_uri_works_offline(write_recipe, runs_dir, tmp_path):
    require_mlflow()
    store = tmp_path / "filestore"
    uri = store.as_uri()
    mlengine.run(write_recipe(tracked(FAST, uri, "files")), runs_dir=runs_dir)
    run = _only_parent(runs_of(uri, "files"))
    assert run.info.status == "FINISHED" and "holdout.roc_auc" in run.data.metrics
