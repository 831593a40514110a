"""The local registry (runs/registry.json): promote, list, show, registry:/ references, atomic locked writes."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

import mlengine
from mlengine.tracking import registry

from tests.conftest import DATA
from tests.tracking_helpers import FAST


def _two_runs(cli, write_recipe, runs_dir):
    path = write_recipe(FAST)
    for _ in range(2):
        code, _, err = cli("run", path, "--runs-dir", runs_dir, "--quiet")
        assert code == 0, err
    return sorted(runs_dir.glob("t/2*"))


@pytest.mark.slow
def test_promote_list_show_and_load(cli, write_recipe, runs_dir, tmp_path):
    first, second = _two_runs(cli, write_recipe, runs_dir)
    code, out, err = cli("registry", "promote", f"t/{first.name}", "--name", "credit", "--alias", "champion",
                         "--runs-dir", runs_dir, "--json")
    assert code == 0, err
    assert json.loads(out)["version"] == 1
    code, out, err = cli("registry", "promote", second, "--name", "credit", "--alias", "challenger",
                         "--runs-dir", runs_dir)
    assert code == 0 and "credit version 2" in out
    code, out, _ = cli("registry", "list", "--runs-dir", runs_dir, "--json")
    rows = json.loads(out)
    assert [(r["version"], r["aliases"]) for r in rows] == [(1, ["champion"]), (2, ["challenger"])]
    code, out, _ = cli("registry", "show", "credit@champion", "--runs-dir", runs_dir, "--json")
    shown = json.loads(out)
    assert shown["path"] == str(first) and shown["version"] == 1 and shown["metric"] == "roc_auc"
    code, out, _ = cli("registry", "show", "credit/2", "--runs-dir", runs_dir)
    assert code == 0 and str(second) in out

    # promoting an already registered run moves the alias, no new version
    code, out, _ = cli("registry", "promote", second, "--name", "credit", "--alias", "champion",
                       "--runs-dir", runs_dir, "--json")
    assert json.loads(out)["version"] == 2
    assert registry.lookup(runs_dir, "credit@champion")["path"] == str(second)
    assert len(registry.list_models(runs_dir)) == 2

    model = mlengine.load_model("registry:/credit@champion", runs_dir=runs_dir)
    assert model.run_dir == second
    rows = pd.read_csv(DATA / "titanic.csv").head(10)
    assert (model.predict(rows) == mlengine.load_model(second).predict(rows)).all()
    out_file = tmp_path / "pred.csv"
    code, _, err = cli("predict", "registry:/credit/1", DATA / "titanic.csv", "-o", out_file, "--runs-dir", runs_dir)
    assert code == 0, err
    assert len(pd.read_csv(out_file)) == 891


@pytest.mark.slow
def test_unknown_names_aliases_versions_are_user_errors(cli, write_recipe, runs_dir, tmp_path):
    (run,) = _two_runs(cli, write_recipe, runs_dir)[:1]
    assert cli("registry", "promote", run, "--name", "credit", "--runs-dir", runs_dir)[0] == 0
    for ref, words in (("credt@champion", ["'credt'", "Did you mean 'credit'"]), ("credit@champion", ["no alias"]),
                       ("credit/9", ["no version 9"])):
        code, _, err = cli("registry", "show", ref, "--runs-dir", runs_dir)
        assert code == 2 and all(w in err for w in words) and "Traceback" not in err, err
    code, _, err = cli("predict", "registry:/credit@nope", DATA / "titanic.csv", "-o", tmp_path / "p.csv",
                       "--runs-dir", runs_dir)
    assert code == 2 and "nope" in err
    code, _, err = cli("registry", "promote", run, "--name", "bad name", "--runs-dir", runs_dir)
    assert code == 2 and "--name 'bad name'" in err


@pytest.mark.slow
def test_a_run_that_failed_its_gate_cannot_be_promoted(cli, write_recipe, runs_dir):
    path = write_recipe(FAST + "evaluate:\n  require:\n    - {metric: roc_auc, min: 0.999}\n")
    assert cli("run", path, "--runs-dir", runs_dir, "--quiet")[0] == 3
    failed = next(runs_dir.glob("t/2*"))
    code, _, err = cli("registry", "promote", failed, "--name", "credit", "--alias", "champion",
                       "--runs-dir", runs_dir)
    assert code == 2 and "not complete" in err and "quality gate" in err
    assert not (runs_dir / "registry.json").exists()


@pytest.mark.slow
def test_a_tampered_model_cannot_be_promoted(cli, write_recipe, runs_dir):
    run = _two_runs(cli, write_recipe, runs_dir)[0]
    (run / "model.joblib").write_bytes(b"x")
    code, _, err = cli("registry", "promote", run, "--name", "credit", "--runs-dir", runs_dir)
    assert code == 2 and "sha256" in err


def _promote(args: tuple[str, str, str]) -> int:
    runs_dir, run, name = args
    return registry.promote(runs_dir, run, name, alias="latest")["version"]


@pytest.mark.slow
def test_concurrent_promotes_keep_one_valid_file(cli, write_recipe, runs_dir):
    first, second = _two_runs(cli, write_recipe, runs_dir)
    jobs = [(str(runs_dir), str(run), f"m{i % 4}") for i in range(12) for run in (first, second)]
    with ProcessPoolExecutor(4) as pool:
        list(pool.map(_promote, jobs))
    data = json.loads((runs_dir / "registry.json").read_text())  # valid JSON: never half-written
    assert sorted(data["models"]) == ["m0", "m1", "m2", "m3"]
    for model in data["models"].values():
        versions = sorted(v["version"] for v in model["versions"])
        assert versions == [1, 2]  # both runs, once each: no lost update, no doubled version
        assert len({v["run_dir"] for v in model["versions"]}) == 2
    assert not list(runs_dir.glob(".registry.json.*.tmp"))


def test_registry_list_without_registry(cli, runs_dir):
    code, out, _ = cli("registry", "list", "--runs-dir", runs_dir)
    assert code == 0 and "no registered models" in out
