"""`mlengine serve`: the real uvicorn server on 127.0.0.1 (ephemeral port), talked to over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, TITANIC

pytest.importorskip("starlette") if os.environ.get("CI") != "true" else None

ROW = {"pclass": 3, "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25, "alone": False, "sex": "male",
       "embarked": "S", "deck": None}


@pytest.fixture(scope="session")
def served_run(tmp_path_factory) -> Path:
    import shutil

    from mlengine.api import load_recipe
    from mlengine.runner import run_recipe

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    root = tmp_path_factory.mktemp("serve")
    (root / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", root / "data" / "titanic.csv")
    text = TITANIC.replace("  drop:", "  schema:\n    age: {dtype: float, ge: 0, le: 120}\n    sex: {isin: [male, female]}\n"
                           "  drop:") + "export: {format: [onnx, joblib]}\n"
    (root / "r.yaml").write_text(text, encoding="utf-8")
    return Path(run_recipe(load_recipe(root / "r.yaml"), runs_dir=root / "runs").run_dir)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(run_dir: Path | None, *extra: str) -> tuple[subprocess.Popen, int]:
    port = _port()
    ref = [str(run_dir)] if run_dir else []
    proc = subprocess.Popen([sys.executable, "-m", "mlengine", "serve", *ref, "--port", str(port), *extra],
                            stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        try:
            if _get(port, "/ready")[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.stderr.read())


def _get(port: int, path: str) -> tuple[int, bytes, dict]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read(), dict(r.getheaders())


def _post(port: int, body: bytes | str, ctype: str = "application/json") -> tuple[int, dict, dict]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/predict", body=body if isinstance(body, bytes) else body.encode(),
              headers={"Content-Type": ctype})
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null"), dict(r.getheaders())


@pytest.fixture(scope="module")
def server(served_run):
    proc, port = _start(served_run, "--workers", "2", "--max-bytes", "5000")
    yield port
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


def test_status_codes_and_body(server, served_run):
    status, body, headers = _post(server, json.dumps([ROW, {**ROW, "sex": "female", "deck": "Z"}]))
    assert status == 200, body
    assert len(body["labels"]) == 2 and set(body["probabilities"][0]) == {"0", "1"}
    assert abs(sum(body["probabilities"][0].values()) - 1) < 1e-6
    assert headers["x-model-version"] == body["version"] and body["run_id"] == served_run.name
    assert any("deck" in w for w in body["warnings"])
    columnar = {k: [v] for k, v in ROW.items()}
    assert _post(server, json.dumps(columnar))[1]["labels"] == body["labels"][:1]
    status, body, _ = _post(server, json.dumps([{**ROW, "age": -3, "sex": "Jane Doe", "fare": "abc"}]))
    assert status == 422
    assert {(p["column"], p["row"]) for p in body["problems"]} == {("age", 0), ("sex", 0), ("fare", 0)}
    assert "Jane Doe" not in json.dumps(body) and "-3" not in json.dumps(body)
    status, body, _ = _post(server, json.dumps([{k: v for k, v in ROW.items() if k != "fare"} | {"x": 1}]))
    assert status == 422 and {(p["column"], p["problem"]) for p in body["problems"]} == {
        ("fare", "missing column"), ("x", "unknown column")}
    assert _post(server, "{not json")[0] == 400
    assert _post(server, "x", "text/plain")[0] == 415
    assert _post(server, json.dumps([ROW] * 100))[0] == 413
    for path in ("/health", "/ready", "/metadata"):
        assert _get(server, path)[0] == 200
    meta = json.loads(_get(server, "/metadata")[1])
    assert [c["name"] for c in meta["inputs"]][:2] == ["pclass", "age"] and meta["classes"] == [0, 1]


def test_metrics_parse_across_workers(server):
    from prometheus_client.parser import text_string_to_metric_families

    for _ in range(20):
        _post(server, json.dumps([ROW]))
    families = {f.name: f for f in text_string_to_metric_families(_get(server, "/metrics")[1].decode())}
    ok = sum(s.value for s in families["mlengine_requests"].samples
             if s.name == "mlengine_requests_total" and s.labels == {"endpoint": "/predict", "status": "200"})
    assert ok >= 20
    assert any(s.labels.get("column") == "age" for s in families["mlengine_contract_violations"].samples)
    assert any(s.labels.get("column") == "deck" for s in families["mlengine_unseen_categories"].samples)
    assert "mlengine_request_seconds" in families and "mlengine_model_load_seconds" in families


def test_sigterm_answers_in_flight(served_run):
    """Requests whose bodies are still arriving when SIGTERM lands are answered before the server exits."""
    proc, port = _start(served_run)
    body = json.dumps([ROW] * 50).encode()
    socks = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:100])
        socks.append(s)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert proc.poll() is None  # still draining the in-flight requests
    answers = []
    for s in socks:
        s.sendall(body[100:])
        answers.append(s.makefile("rb").readline())
        s.close()
    code = proc.wait(timeout=30)
    assert answers == [b"HTTP/1.1 200 OK\r\n"] * 3
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after its graceful shutdown
    assert "Traceback" not in proc.stderr.read()


def test_ab_split_stickiness_and_shadow(served_run):
    from prometheus_client.parser import text_string_to_metric_families

    proc, port = _start(None, "--model", f"a={served_run}", "--model", f"b={served_run}",
                        "--model", f"s={served_run}", "--split", "a=90,b=10,s=0", "--shadow", "s",
                        "--route-key", "user", "--no-access-log")
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        arms = []
        for i in range(2000):
            c.request("POST", "/predict", body=json.dumps([{**ROW, "user": f"u{i}"}]),
                      headers={"Content-Type": "application/json"})
            arms.append(json.loads(c.getresponse().read())["arm"])
        assert abs(arms.count("a") / 2000 - 0.9) <= 0.03 and set(arms) == {"a", "b"}
        again = [_post(port, json.dumps([{**ROW, "user": f"u{i}"}]))[1]["arm"] for i in range(50)]
        assert again == arms[:50]
        fams = {f.name: f for f in text_string_to_metric_families(_get(port, "/metrics")[1].decode())}
        by_role: dict[str, float] = {}
        for smp in fams["mlengine_predicted_class"].samples:
            if smp.name.endswith("_total"):
                by_role[smp.labels["role"]] = by_role.get(smp.labels["role"], 0) + smp.value
        assert by_role == {"primary": 2050, "shadow": 2050}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
