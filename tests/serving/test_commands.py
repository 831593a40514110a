"""`mlengine serve` (serving/commands.py): its flags and defaults, the refusals before anything is served (exit 2,
no traceback), and the flags reaching the real server on 127.0.0.1 (ephemeral port) over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TITANIC, titanic_run
from tests.serving_helpers import ROW, get, metric_families, post, sample_sum, start, stop

pytest.importorskip("starlette")

RECIPE = (TITANIC.replace("n_estimators: 30", "n_estimators: 10").replace("folds: 3", "folds: 2")
          + "report: {html: false, explain: false}\nexport: {format: [onnx, joblib]}\n")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return titanic_run(tmp_path_factory.mktemp("serve-cmd"), RECIPE)


def test_serve_flags_and_their_defaults():
    from mlengine.cli import build_parser

    args = build_parser().parse_args(["serve", "runs/t/1"])
    assert args.command == "serve" and args.ref == "runs/t/1" and args.model == []
    assert (args.host, args.port, args.workers, args.format) == ("127.0.0.1", 8080, 1, "onnx")
    assert (args.max_rows, args.max_bytes, args.drift_window) == (10_000, 10_000_000, 10_000)
    assert (args.split, args.shadow, args.route_key, args.no_access_log) == (None, None, None, False)
    arms = build_parser().parse_args(["serve", "--model", "a=x", "--model", "b=y", "--split", "a=9,b=1",
                                      "--format", "joblib", "--drift-window", "0"])
    assert arms.ref is None and arms.model == ["a=x", "b=y"] and arms.split == "a=9,b=1"
    assert arms.format == "joblib" and arms.drift_window == 0


def test_unknown_format_is_a_usage_error(cli):
    code, _, err = cli("serve", "runs/t/1", "--format", "pickle")
    assert code == 2 and "invalid choice: 'pickle'" in err


def test_refusals_exit_2_with_the_reason_and_no_traceback(cli, run_dir):
    cases = [
        ((), "give either REF or one --model NAME=REF per arm"),
        ((run_dir, "--model", f"a={run_dir}"), "give either REF or one --model NAME=REF per arm"),
        (("--model", "a"), "--model 'a': expected NAME=REF"),
        (("--model", f"={run_dir}"), "expected NAME=REF with a name used once"),
        (("--model", f"a={run_dir}", "--model", f"a={run_dir}"), f"--model 'a={run_dir}': expected NAME=REF"),
        ((run_dir, "--workers", "0"), "--workers, --max-rows and --max-bytes must be at least 1."),
        ((run_dir, "--max-rows", "0"), "--workers, --max-rows and --max-bytes must be at least 1."),
        ((run_dir, "--max-bytes", "0"), "--workers, --max-rows and --max-bytes must be at least 1."),
        ((run_dir, "--drift-window", "-1"), "--drift-window -1: must be 0 (off) or a number of rows."),
        ((run_dir.parent / "no-such-run",), "model reference: run"),
    ]
    for args, message in cases:
        code, out, err = cli("serve", *args)
        assert (code, out) == (2, ""), args
        assert err.startswith("error: ") and message in err and "Traceback" not in err, (args, err)


def test_a_run_id_is_looked_up_under_runs(cli, run_dir, monkeypatch):
    monkeypatch.chdir(run_dir.parent.parent.parent)  # <root>/runs/t/<id>
    code, _, err = cli("serve", f"t/{run_dir.name}", "--workers", "0")  # resolved, then refused for --workers
    assert code == 2 and "--workers" in err and "model reference" not in err
    code, _, err = cli("serve", "t/20000101-000000-000000", "--workers", "0")
    assert code == 2 and "model reference: run 't/20000101-000000-000000' not found" in err


def test_format_max_rows_drift_window_and_access_log_reach_the_server(run_dir):
    proc, port = start(run_dir, "--format", "joblib", "--max-rows", "2", "--drift-window", "0", "--no-access-log")
    try:
        status, body, headers = post(port, [ROW, {**ROW, "sex": "female"}])
        assert status == 200 and len(body["labels"]) == 2 and body["run_id"] == run_dir.name
        status, body, _ = post(port, [ROW] * 3)
        assert status == 422
        assert body["problems"] == [{"column": None, "row": None, "problem": "3 rows is over --max-rows 2"}]
        assert json.loads(get(port, "/metadata")[1])["format"] == "joblib"
        assert "mlengine_drift_psi" not in metric_families(port)  # --drift-window 0: no gauges
    finally:
        assert stop(proc) == 0
    assert '"path": "/predict"' not in proc.stderr.read()  # --no-access-log


def test_model_arms_and_shadow_reach_the_server(run_dir):
    proc, port = start(None, "--model", f"a={run_dir}", "--model", f"b={run_dir}", "--shadow", "a",
                       "--drift-window", "10")
    try:
        answers = [post(port, [{**ROW, "age": 20 + i}]) for i in range(6)]
        assert [(status, body["arm"]) for status, body, _ in answers] == [(200, "b")] * 6  # the shadow never answers
        fams = metric_families(port)
    finally:
        assert stop(proc) == 0
    assert sample_sum(fams, "mlengine_predicted_class", "mlengine_predicted_class_total", arm="a", role="shadow") == 6
    assert sample_sum(fams, "mlengine_predicted_class", "mlengine_predicted_class_total", arm="b",
                      role="primary") == 6
    assert sample_sum(fams, "mlengine_drift_window_rows", "mlengine_drift_window_rows") == 6  # --drift-window on
    assert '"path": "/predict"' in proc.stderr.read()  # access log on by default
