"""`mlengine.serving.server`: `app_from_env` building the app from the MLENGINE_SERVE settings (driven here as
ASGI in-process), `serve` failing fast on a bad model or split while leaving the caller's environment, SIGTERM
handler and temporary folder as they were, and (slow) the container entrypoint `main` serving real HTTP on
127.0.0.1 until SIGTERM, then exiting 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from mlengine.errors import ModelLoadError, UserError
from mlengine.serving import app as _app  # noqa: F401  (prometheus_client imported before serve() sets its env)
from mlengine.serving.server import ENV, app_from_env, serve

from tests.conftest import ROOT
from tests.export_helpers import run_folder
from tests.serving_helpers import ROW, free_port, get, post

pytest.importorskip("starlette") if os.environ.get("CI") != "true" else None


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder of a titanic pipeline fitted on 300 rows: model.joblib, model.onnx, model.json listing both."""
    return run_folder(tmp_path_factory.mktemp("server") / "20260101-000000-abcdef", onnx=True)[0]


def _call(app, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    """One HTTP request through the ASGI app, in-process; (status, JSON body)."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"host", b"test")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


def test_app_from_env_passes_every_setting_to_the_app(run_dir, monkeypatch):
    monkeypatch.setenv(ENV, json.dumps({"run_dir": str(run_dir), "format": "joblib", "max_rows": 1,
                                        "access_log": False, "drift_window": 0}))
    app = app_from_env()
    assert _call(app, "GET", "/ready") == (200, {"status": "ready", "run_id": run_dir.name, "version": run_dir.name})
    assert _call(app, "GET", "/metadata")[1]["format"] == "joblib"
    status, body = _call(app, "POST", "/predict", json.dumps([ROW]).encode())
    assert status == 200 and len(body["labels"]) == 1 and set(body["probabilities"][0]) == {"0", "1"}
    status, body = _call(app, "POST", "/predict", json.dumps([ROW, ROW]).encode())
    assert status == 422 and body["problems"][0]["problem"] == "2 rows is over --max-rows 1"


def test_app_from_env_defaults_to_onnx(run_dir, monkeypatch):
    monkeypatch.setenv(ENV, json.dumps({"run_dir": str(run_dir)}))
    app = app_from_env()
    assert _call(app, "GET", "/metadata")[1]["format"] == "onnx"
    status, body = _call(app, "POST", "/predict", json.dumps([ROW] * 3).encode())
    assert status == 200 and len(body["labels"]) == 3


def test_app_from_env_needs_its_variable(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(KeyError, match=ENV):
        app_from_env()


@pytest.fixture
def clean_process(monkeypatch, tmp_path):
    """The caller's state serve() must restore: its env variables, SIGTERM handler and temporary folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/callers/own")
    monkeypatch.delenv(ENV, raising=False)
    handler = signal.getsignal(signal.SIGTERM)
    yield tmp_path
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == "/callers/own" and ENV not in os.environ
    assert signal.getsignal(signal.SIGTERM) is handler
    assert list(tmp_path.iterdir()) == []  # its mlengine-metrics-* folder is removed


def test_serve_fails_fast_on_a_missing_model_and_restores_the_caller(clean_process):
    with pytest.raises(ModelLoadError, match="does not exist"):
        serve(str(clean_process / "nope"), port=free_port())


def test_serve_fails_fast_on_a_bad_split(run_dir, clean_process):
    with pytest.raises(UserError, match=r"--split 'a=1,c=1': names must be --model names \(a, b\)"):
        serve({"a": str(run_dir), "b": str(run_dir)}, split="a=1,c=1", port=free_port())
    with pytest.raises(UserError, match=r"'a=x' is not NAME=WEIGHT"):
        serve({"a": str(run_dir), "b": str(run_dir)}, split="a=x", format="joblib", port=free_port())


@pytest.mark.slow
def test_the_container_entrypoint_serves_until_sigterm_and_exits_0(run_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "MODEL_DIR": str(run_dir), "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1",
           "FORMAT": "joblib", "ACCESS_LOG": "0", "TMPDIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([sys.executable, "-m", "mlengine.serving.server"], env=env, cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            assert proc.poll() is None, proc.stderr.read()
            try:
                if get(port, "/ready")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("mlengine-metrics-")]
        status, body, headers = post(port, [ROW, ROW])
        assert status == 200 and len(body["labels"]) == 2 and headers["x-model-version"] == run_dir.name
        assert json.loads(get(port, "/metadata")[1])["format"] == "joblib"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert "request_id" not in proc.stderr.read()  # ACCESS_LOG=0: no access log lines
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(tmp_path.iterdir()) == []  # the metrics folder is removed on exit
