"""`mlengine build-docker`: the build context's files, its errors, and (slow) its entrypoint in a fresh venv.

No Docker daemon is available on these machines, so the context is checked the way the image would run it:
its requirements.txt installed into a new venv (no training stack), its CMD started there on 127.0.0.1 and
talked to over real HTTP, and its HEALTHCHECK command run against that server.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, TITANIC, titanic_run

GOLDEN = ROOT / "tests" / "golden" / "Dockerfile.onnx"
TRAINING = ("sklearn", "lightgbm", "flaml", "skl2onnx", "onnx", "hydra", "pandas", "imblearn", "xgboost")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    text = (TITANIC.replace("  drop:", "  schema:\n    age: {dtype: float, ge: 0, le: 120}\n  drop:")
            .replace("folds: 3", "folds: 2") + "export: {format: [onnx, joblib]}\n")
    return titanic_run(tmp_path_factory.mktemp("docker"), text)


@pytest.fixture(scope="module")
def context(run_dir, tmp_path_factory) -> Path:
    from mlengine.cli import main

    out = tmp_path_factory.mktemp("ctx") / "image"
    assert main(["build-docker", str(run_dir), str(out)]) == 0
    return out


def _normalised(text: str, run_id: str) -> str:
    return text.replace(run_id, "RUN_ID")


@pytest.mark.slow
def test_dockerfile_matches_golden(context, run_dir):
    text = _normalised((context / "Dockerfile").read_text(encoding="utf-8"), run_dir.name)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), "Dockerfile changed: review it, then UPDATE_GOLDEN=1"
    assert "FROM python:3.11-slim" in text and "USER 10001" in text and "EXPOSE 8080" in text
    assert "curl" not in text.split("HEALTHCHECK")[1].split("CMD [\"python\", \"-m\"")[0].replace("no curl", "")


def test_context_files_pins_and_model(context, run_dir):
    from mlengine.export.joblib_bundle import sha256_file
    from mlengine.serving.docker import lock_pins

    names = {str(p.relative_to(context)) for p in context.rglob("*") if p.is_file()}
    model = f"model/{run_dir.name}"
    assert {"Dockerfile", ".dockerignore", "README.md", "requirements.txt", f"{model}/model.json",
            f"{model}/model.onnx", f"{model}/manifest.json", "mlengine/serving/server.py"} <= names
    assert f"{model}/model.joblib" not in names and not any("__pycache__" in n for n in names)
    for name in ("model.json", "model.onnx", "manifest.json"):  # byte-identical copies
        assert sha256_file(context / model / name) == sha256_file(run_dir / name)
    bundle = json.loads((context / model / "model.json").read_text(encoding="utf-8"))
    assert bundle["artifacts"]["model.onnx"]["sha256"] == sha256_file(context / model / "model.onnx")
    lines = [ln for ln in (context / "requirements.txt").read_text(encoding="utf-8").splitlines()
             if ln and not ln.startswith("#")]
    pins = dict(ln.split("==") for ln in lines)
    assert {"numpy", "onnxruntime", "starlette", "uvicorn[standard]", "prometheus_client"} <= set(pins)
    locks = lock_pins()
    for name, version in pins.items():  # every line pinned, from the tested locks
        assert locks[name.split("[")[0].lower().replace("_", "-")] == version, name
    lowered = {n.split("[")[0].lower() for n in pins}
    assert not lowered & {"scikit-learn", "lightgbm", "flaml", "skl2onnx", "onnx", "hydra-core", "pandas", "mlengine"}
    readme = (context / "README.md").read_text(encoding="utf-8")
    assert "docker build" in readme and "path: /health" in readme and "path: /ready" in readme
    assert (context / ".dockerignore").read_text(encoding="utf-8").startswith("# Send the daemon")


ROW = {"pclass": 3, "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25, "alone": False, "sex": "male",
       "embarked": "S", "deck": None}
ASGI_CALL = """
import asyncio, json, sys
sys.path.insert(0, CONTEXT)
import mlengine, mlengine.serving.server
from mlengine.serving.app import create_app
assert mlengine.__file__.startswith(CONTEXT), mlengine.__file__
app = create_app(MODEL_DIR)
sent = []
async def receive():
    return {"type": "http.request", "body": json.dumps([ROW]).encode(), "more_body": False}
async def send(message):
    sent.append(message)
scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
         "path": "/predict", "raw_path": b"/predict", "query_string": b"", "root_path": "",
         "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
asyncio.run(app(scope, receive, send))
assert sent[0]["status"] == 200, sent
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_serving_imports_no_training_stack(context, run_dir):
    """The context's own mlengine source, building the app and answering /predict, imports only light modules."""
    code = (f"CONTEXT = {str(context)!r}; MODEL_DIR = {str(context / 'model' / run_dir.name)!r}; ROW = {ROW!r}\n"
            + ASGI_CALL)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout.splitlines()[-1]))
    assert not loaded & set(TRAINING), loaded & set(TRAINING)
    assert {"onnxruntime", "numpy", "starlette", "prometheus_client"} <= loaded


def test_user_errors_exit_2_and_leave_nothing(run_dir, tmp_path, cli, monkeypatch):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    code, _, err = cli("build-docker", run_dir, busy)
    assert code == 2 and "OUT_DIR" in err and "not empty" in err and "Traceback" not in err
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    code, _, err = cli("build-docker", empty, tmp_path / "out")
    assert code == 2 and "model.json" in err and not (tmp_path / "out").exists()
    tampered = tmp_path / "tampered"
    shutil.copytree(run_dir, tampered)
    (tampered / "model.onnx").write_bytes(b"not a model")
    code, _, err = cli("build-docker", tampered, tmp_path / "out")
    assert code == 2 and "sha256" in err and not (tmp_path / "out").exists()
    code, _, err = cli("build-docker", run_dir, tmp_path / "out", "--format", "nope")
    assert code == 2

    from mlengine.serving import docker

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(docker, "dockerfile", boom)
    with pytest.raises(RuntimeError):
        docker.build_context(run_dir, tmp_path / "half")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "not-a-run", "tampered"]  # no temp left


def test_joblib_context_lists_what_unpickling_needs(run_dir, tmp_path):
    from mlengine.serving.docker import build_context

    ctx = build_context(run_dir, tmp_path / "j", format="joblib")
    names = {r.split("==")[0].split("[")[0].lower() for r in ctx.requirements}
    assert {"scikit-learn", "lightgbm", "pandas", "joblib", "starlette"} <= names
    assert not names & {"flaml", "skl2onnx", "hydra-core", "onnxruntime", "mlengine"}
    assert (tmp_path / "j" / "model" / run_dir.name / "model.joblib").is_file()
    assert "FORMAT=joblib" in (tmp_path / "j" / "Dockerfile").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ the entrypoint, for real ---
def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
    r = c.getresponse()
    return r.status, r.read()


def _wait_ready(proc: subprocess.Popen, port: int) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read() if proc.stderr else f"exit {proc.returncode}")
        try:
            if _request(port, "GET", "/ready")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the context's server never became ready")


def _dockerfile_json(text: str, which: int) -> list[str]:
    """The exec-form array of a `CMD [...]` line: 0 is HEALTHCHECK's (a continuation line), -1 the image's."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("CMD [")]
    assert len(lines) == 2, lines
    return json.loads(lines[which][len("CMD"):].strip())


@pytest.mark.slow
def test_context_serves_in_a_fresh_venv(context, run_dir, tmp_path):
    import numpy as np
    import pandas as pd

    from mlengine.export.predict import predict_file

    venv = tmp_path / "venv"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = str(venv / "bin" / "python")
    pip = subprocess.run([py, "-m", "pip", "install", "-q", "-r", str(context / "requirements.txt")],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]
    print(f"\nfresh venv + pip install -r requirements.txt: {time.perf_counter() - start:.1f} s")
    for module in TRAINING:  # the training stack is not importable there
        r = subprocess.run([py, "-c", f"import {module}"], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr, module

    dockerfile = (context / "Dockerfile").read_text(encoding="utf-8")
    env_line = dockerfile.split("\nENV PYTHONPATH=")[1].split("\n\n")[0].replace("\\\n", " ")
    image_env = dict(kv.split("=", 1) for kv in ("PYTHONPATH=" + env_line).split())
    port = _port()
    env = {"PATH": os.environ.get("PATH", ""), **image_env, "PYTHONPATH": str(context),
           "MODEL_DIR": str(context / image_env["MODEL_DIR"].removeprefix("/app/")),
           "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = _dockerfile_json(dockerfile, -1)
    assert cmd == ["python", "-m", "mlengine.serving.server"]
    proc = subprocess.Popen([py, *cmd[1:]], cwd=context, env=env, stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(proc, port)
        health = _dockerfile_json(dockerfile, 0)
        assert health[:2] == ["python", "-c"] and "urllib.request" in health[2]
        assert subprocess.run([py, *health[1:]], env=env, timeout=10).returncode == 0  # the HEALTHCHECK itself
        frame = pd.read_csv(DATA / "titanic.csv").head(40)
        inputs = [c["name"] for c in json.loads((run_dir / "model.json").read_text())["inputs"]]
        records = frame[inputs].astype(object).where(frame[inputs].notna(), None).to_dict("records")
        status, body = _request(port, "POST", "/predict", json.dumps(records).encode())
        assert status == 200, body
        served = json.loads(body)
        assert served["run_id"] == run_dir.name
        csv = tmp_path / "rows.csv"
        frame.to_csv(csv, index=False)
        predict_file(run_dir, csv, tmp_path / "pred.csv", proba=True)  # what `mlengine predict --proba` writes
        expected = pd.read_csv(tmp_path / "pred.csv")
        assert served["labels"] == expected["prediction"].tolist()
        got = np.array([[p["0"], p["1"]] for p in served["probabilities"]])
        np.testing.assert_allclose(got, expected[["proba_0", "proba_1"]].to_numpy(), rtol=0, atol=1e-6)
        assert _request(port, "GET", "/metrics")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    err = proc.stderr.read()
    # uvicorn re-raises the SIGTERM it handled after a clean shutdown, so -15 (exit 143 in Docker) is normal
    assert proc.returncode in (0, -15) and "Traceback" not in err, err[-2000:]


def test_serve_flag_runs_the_context_entrypoint(run_dir, tmp_path):
    """--serve starts the context's CMD here (mlengine imported from OUT_DIR) and stops it on SIGTERM."""
    import signal

    port = _port()
    out = tmp_path / "served"
    proc = subprocess.Popen([sys.executable, "-m", "mlengine", "build-docker", str(run_dir), str(out), "--serve",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(proc, port)
        status, body = _request(port, "POST", "/predict", json.dumps([ROW]).encode())
        assert status == 200 and json.loads(body)["run_id"] == run_dir.name
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    with pytest.raises(OSError):  # the server went with the command
        _request(port, "GET", "/health")
    assert (out / "Dockerfile").is_file() and "Traceback" not in proc.stderr.read()


def test_datetime_inputs_add_pandas_to_the_onnx_requirements(run_dir):
    from mlengine.serving.docker import requirements_for

    plain = requirements_for(run_dir, {"inputs": [{"name": "x", "kind": "numeric"}]}, "onnx")
    dated = requirements_for(run_dir, {"inputs": [{"name": "d", "kind": "datetime"}]}, "onnx")
    assert not any(r.startswith("pandas==") for r in plain)
    assert any(r.startswith("pandas==") for r in dated) and set(plain) <= set(dated)
