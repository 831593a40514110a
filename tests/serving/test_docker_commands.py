"""`mlengine build-docker` (serving/docker_commands.py): its flags and defaults, and the command writing a build
context from a model bundle (text and --json output) or refusing a non-empty OUT_DIR."""

from __future__ import annotations

import json

import pytest

from tests.export_helpers import run_folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("docker-cmd") / "runs" / "t" / "20260101-000000-abcdef"
    return run_folder(root, overrides=("model.n_jobs=1", "model.params.n_estimators=5"), rows=200)[0]


def test_flags_and_their_defaults():
    from mlengine.cli import build_parser

    args = build_parser().parse_args(["build-docker", "runs/t/1", "out"])
    assert (args.command, args.run_dir, args.out_dir) == ("build-docker", "runs/t/1", "out")
    assert (args.format, args.serve, args.port, args.runs_dir, args.json) == ("auto", False, 8080, None, False)
    args = build_parser().parse_args(["build-docker", "r", "o", "--format", "joblib", "--port", "9000", "--json"])
    assert (args.format, args.port, args.json) == ("joblib", 9000, True)


def test_an_unknown_format_is_a_usage_error(cli):
    code, _, err = cli("build-docker", "r", "o", "--format", "pickle")
    assert code == 2 and "invalid choice: 'pickle'" in err


@pytest.mark.slow
def test_build_docker_json_names_what_was_written(cli, run_dir, tmp_path):
    code, out, err = cli("build-docker", run_dir, tmp_path / "ctx", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["run_id"] == run_dir.name and shown["format"] == "joblib" and shown["out_dir"] == str(tmp_path / "ctx")
    assert "Dockerfile" in shown["files"] and shown["bytes"] > 0 and shown["requirements"]
    assert (tmp_path / "ctx" / "Dockerfile").is_file()


@pytest.mark.slow
def test_build_docker_prints_the_build_and_run_commands(cli, run_dir, tmp_path):
    code, out, err = cli("build-docker", run_dir, tmp_path / "ctx")
    assert code == 0, err
    assert out.startswith(f"build context for run {run_dir.name} (model.joblib, ")
    assert "  docker build -t " in out and f" {tmp_path / 'ctx'}\n" in out and "docker run --rm -p 8080:8080" in out


def test_a_non_empty_out_dir_is_refused(cli, run_dir, tmp_path):
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "keep.txt").write_text("x", encoding="utf-8")
    code, _, err = cli("build-docker", run_dir, tmp_path / "ctx")
    assert code == 2 and "Traceback" not in err and "ctx" in err
    assert sorted(p.name for p in (tmp_path / "ctx").iterdir()) == ["keep.txt"]
