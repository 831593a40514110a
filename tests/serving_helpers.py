"""Helpers for the serving tests: start `mlengine serve` as a real process, talk HTTP to it, a failing model."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ROW = {"pclass": 3, "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25, "alone": False, "sex": "male",
       "embarked": "S", "deck": None}
FAIL_FARE = 123.456  # the fare on which FailingModel raises


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(run_dir: Path | None, *extra: str) -> tuple[subprocess.Popen, int]:
    """`python -m mlengine serve` on 127.0.0.1 and an ephemeral port, once /ready answers 200."""
    port = free_port()
    ref = [str(run_dir)] if run_dir else []
    proc = subprocess.Popen([sys.executable, "-m", "mlengine", "serve", *ref, "--port", str(port), *extra],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    for _ in range(300):
        if proc.poll() is not None:
            break
        try:
            if get(port, "/ready")[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.stderr.read())


def get(port: int, path: str) -> tuple[int, bytes, dict]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}


def post(port: int, body: bytes | str | Any, ctype: str = "application/json", headers: dict | None = None,
         conn: http.client.HTTPConnection | None = None) -> tuple[int, Any, dict]:
    """POST /predict; `body` is sent as is when bytes/str, else as JSON."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/predict", body=body if isinstance(body, bytes) else body.encode(),
              headers={"Content-Type": ctype, **(headers or {})})
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null"), {k.lower(): v for k, v in r.getheaders()}


def metric_families(port: int) -> dict[str, Any]:
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: f for f in text_string_to_metric_families(get(port, "/metrics")[1].decode())}


def sample_sum(families: dict[str, Any], family: str, sample: str, **labels: str) -> float:
    """The sum of `sample` values in `family` whose labels include `labels`."""
    fam = families.get(family)
    return sum(s.value for s in (fam.samples if fam else []) if s.name == sample
               and all(s.labels.get(k) == v for k, v in labels.items()))


def stop(proc: subprocess.Popen) -> int:
    import signal

    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


class FailingModel:
    """A real fitted pipeline that raises on rows with fare == FAIL_FARE: a model error the server must survive."""

    def __init__(self, inner: Any):
        self.inner = inner

    def _check(self, frame: Any) -> None:
        if (frame["fare"] == FAIL_FARE).any():
            raise RuntimeError("this model cannot score the row")

    def predict(self, frame: Any) -> Any:
        self._check(frame)
        return self.inner.predict(frame)

    def predict_proba(self, frame: Any) -> Any:
        self._check(frame)
        return self.inner.predict_proba(frame)


def failing_copy(run_dir: Path, dest: Path) -> Path:
    """A copy of the run whose model.joblib is FailingModel(original), re-hashed in model.json."""
    import joblib

    from mlengine.export.joblib_bundle import read_bundle, sha256_file, write_bundle

    shutil.copytree(run_dir, dest)
    path = dest / "model.joblib"
    joblib.dump(FailingModel(joblib.load(path)), path)
    bundle = read_bundle(dest)
    bundle["artifacts"]["model.joblib"] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    write_bundle(dest, bundle)
    return dest
