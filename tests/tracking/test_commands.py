"""`mlengine registry promote|list|show` (tracking/commands.py): the parser's arguments and defaults, and each
action's text and --json output over run folders of a real fitted titanic pipeline (model.joblib, model.json,
status.json, metrics.json), plus the exit code 2 of a user error."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace as NS

import pytest

from mlengine.export.joblib_bundle import save_joblib

from tests.export_helpers import prepared

RUN_IDS = ("20260101-000000-aaaaaa", "20260102-000000-bbbbbb")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A runs folder with two complete runs `t/<id>` of one pipeline fitted on 200 titanic rows; the second has
    no holdout score."""
    data, pipe = prepared("titanic.yaml", ("model.n_jobs=1", "model.params.n_estimators=5"))
    pipe.fit(data.X.iloc[:200], data.y.iloc[:200])
    root = tmp_path_factory.mktemp("registry") / "runs"
    for run_id, holdout in zip(RUN_IDS, ({"roc_auc": 0.85123}, {}), strict=True):
        run = root / "t" / run_id
        run.mkdir(parents=True)
        save_joblib(run, pipe, NS(export=["joblib"], candidates=[NS(model="lightgbm")]), data)
        (run / "status.json").write_text(json.dumps({"status": "complete"}), encoding="utf-8")
        (run / "metrics.json").write_text(json.dumps({"primary_metric": "roc_auc", "holdout": holdout,
                                                      "cv": {"roc_auc": {"mean": 0.84}}}), encoding="utf-8")
    return root


@pytest.fixture
def runs_copy(runs, tmp_path):
    """A fresh copy of the runs folder (each test promotes into its own registry.json)."""
    return shutil.copytree(runs, tmp_path / "runs")


def test_parser_arguments_and_defaults():
    from mlengine.cli import build_parser

    args = build_parser().parse_args(["registry", "promote", "t/1", "--name", "credit"])
    assert (args.command, args.registry_command, args.run, args.name) == ("registry", "promote", "t/1", "credit")
    assert (args.alias, args.runs_dir, args.json) == (None, "runs", False)
    args = build_parser().parse_args(["registry", "show", "credit@champion", "--runs-dir", "r", "--json"])
    assert (args.registry_command, args.ref, args.runs_dir, args.json) == ("show", "credit@champion", "r", True)


def test_promote_needs_a_name_and_registry_an_action(cli):
    code, _, err = cli("registry", "promote", "t/1")
    assert code == 2 and "the following arguments are required: --name" in err
    code, _, err = cli("registry")
    assert code == 2 and "ACTION" in err


def test_promote_prints_the_version_and_the_alias_it_moved(cli, runs_copy):
    first = runs_copy / "t" / RUN_IDS[0]
    code, out, err = cli("registry", "promote", f"t/{RUN_IDS[0]}", "--name", "credit", "--alias", "champion",
                         "--runs-dir", runs_copy)
    assert code == 0, err
    assert out == f"credit version 1, alias 'champion' -> it: {first}\n"
    code, out, err = cli("registry", "promote", runs_copy / "t" / RUN_IDS[1], "--name", "credit", "--runs-dir",
                         runs_copy)
    assert code == 0 and out == f"credit version 2: {runs_copy / 't' / RUN_IDS[1]}\n"
    assert json.loads((runs_copy / "registry.json").read_text(encoding="utf-8"))["models"]["credit"]["aliases"] == {
        "champion": 1}


def test_promote_json_is_the_registry_entry(cli, runs_copy):
    code, out, err = cli("registry", "promote", f"t/{RUN_IDS[0]}", "--name", "credit", "--alias", "champion",
                         "--runs-dir", runs_copy, "--json")
    assert code == 0, err
    entry = json.loads(out)
    assert entry["name"] == "credit" and entry["alias"] == "champion" and entry["version"] == 1
    assert entry["run_dir"] == f"t/{RUN_IDS[0]}" and entry["path"] == str(runs_copy / "t" / RUN_IDS[0])
    assert (entry["task"], entry["model"], entry["metric"], entry["holdout"], entry["cv"]) == (
        "binary", "lightgbm", "roc_auc", 0.85123, 0.84)


def test_list_prints_a_table_with_holdout_scores_and_aliases(cli, runs_copy):
    code, out, _ = cli("registry", "list", "--runs-dir", runs_copy)
    assert code == 0 and out == f"no registered models in {runs_copy / 'registry.json'}\n"
    for run_id, alias in zip(RUN_IDS, ("champion", None), strict=True):
        assert cli("registry", "promote", f"t/{run_id}", "--name", "credit", *(["--alias", alias] if alias else []),
                   "--runs-dir", runs_copy)[0] == 0
    code, out, _ = cli("registry", "list", "--runs-dir", runs_copy)
    header, one, two = out.splitlines()
    assert header == f"{'name':<20}{'version':>8}  {'aliases':<20}{'metric':<20}{'holdout':>9}  run"
    assert one.split() == ["credit", "1", "champion", "roc_auc", "0.8512", f"t/{RUN_IDS[0]}"]
    assert two.split() == ["credit", "2", "-", "roc_auc", "-", f"t/{RUN_IDS[1]}"]
    code, out, _ = cli("registry", "list", "--runs-dir", runs_copy, "--json")
    rows = json.loads(out)
    assert [(r["version"], r["aliases"], r["holdout"]) for r in rows] == [(1, ["champion"], 0.85123), (2, [], None)]


def test_show_prints_one_line_per_field(cli, runs_copy):
    cli("registry", "promote", f"t/{RUN_IDS[0]}", "--name", "credit", "--alias", "champion", "--runs-dir", runs_copy)
    cli("registry", "promote", f"t/{RUN_IDS[0]}", "--name", "credit", "--alias", "prod", "--runs-dir", runs_copy)
    code, out, _ = cli("registry", "show", "registry:/credit@prod", "--runs-dir", runs_copy)
    assert code == 0
    lines = dict(line.split(None, 1) if " " in line.strip() else (line.strip(), "") for line in out.splitlines())
    assert list(lines) == ["name", "version", "aliases", "path", "registered", "task", "model", "metric", "cv",
                           "holdout", "recipe_sha256"]
    assert (lines["name"], lines["version"], lines["aliases"]) == ("credit", "1", "champion, prod")
    assert (lines["path"], lines["holdout"], lines["recipe_sha256"]) == (str(runs_copy / "t" / RUN_IDS[0]),
                                                                         "0.85123", "None")
    code, out, _ = cli("registry", "show", "credit/1", "--runs-dir", runs_copy, "--json")
    assert json.loads(out)["aliases"] == ["champion", "prod"]


def test_user_errors_exit_2_without_a_traceback(cli, runs_copy):
    code, _, err = cli("registry", "show", "credit", "--runs-dir", runs_copy)
    assert code == 2 and "model 'credit' is not in the registry" in err and "Traceback" not in err
    code, _, err = cli("registry", "promote", "t/nope", "--name", "credit", "--runs-dir", runs_copy)
    assert code == 2 and "run 't/nope' not found" in err
    (runs_copy / "t" / RUN_IDS[0] / "model.joblib").write_bytes(b"x")
    code, _, err = cli("registry", "promote", f"t/{RUN_IDS[0]}", "--name", "credit", "--runs-dir", runs_copy)
    assert code == 2 and "does not match the sha256" in err
    assert not (runs_copy / "registry.json").exists()
