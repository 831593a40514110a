"""`mlengine serve`: the real uvicorn server on 127.0.0.1 (ephemeral port), talked to over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests import serving_helpers as sh
from tests.conftest import DATA, TITANIC, titanic_run
from tests.serving_helpers import ROW, get, metric_families, post, sample_sum, start, stop

pytest.importorskip("starlette") if os.environ.get("CI") != "true" else None


@pytest.fixture(scope="session")
def served_run(tmp_path_factory) -> Path:
    text = TITANIC.replace("  drop:", "  schema:\n    age: {dtype: float, ge: 0, le: 120}\n    sex: {isin: [male, female]}\n"
                           "  drop:") + "export: {format: [onnx, joblib]}\n"
    return titanic_run(tmp_path_factory.mktemp("serve"), text)


@pytest.fixture(scope="module")
def failing_run(served_run, tmp_path_factory) -> Path:
    return sh.failing_copy(served_run, tmp_path_factory.mktemp("failing") / served_run.name)


@pytest.fixture(scope="module")
def server(served_run):
    proc, port = start(served_run, "--workers", "2", "--max-bytes", "5000")
    yield port
    stop(proc)


def test_status_codes_and_body(server, served_run):
    status, body, headers = post(server, [ROW, {**ROW, "sex": "female", "deck": "Z"}])
    assert status == 200, body
    assert len(body["labels"]) == 2 and set(body["probabilities"][0]) == {"0", "1"}
    assert abs(sum(body["probabilities"][0].values()) - 1) < 1e-6
    assert headers["x-model-version"] == body["version"] and body["run_id"] == served_run.name
    assert headers["x-request-id"] == body["request_id"]
    assert any("deck" in w for w in body["warnings"])
    columnar = {k: [v] for k, v in ROW.items()}
    assert post(server, columnar)[1]["labels"] == body["labels"][:1]
    status, body, _ = post(server, [ROW, {**ROW, "age": -3, "sex": "Jane Doe", "fare": "abc"}])
    assert status == 422
    assert {(p["column"], p["row"]) for p in body["problems"]} == {("age", 1), ("sex", 1), ("fare", 1)}
    assert all(set(p) == {"column", "row", "problem"} for p in body["problems"])
    assert "Jane Doe" not in json.dumps(body) and "-3" not in json.dumps(body) and "abc" not in json.dumps(body)
    status, body, _ = post(server, [{k: v for k, v in ROW.items() if k != "fare"} | {"x": 1}])
    assert status == 422 and {(p["column"], p["problem"]) for p in body["problems"]} == {
        ("fare", "missing column"), ("x", "unknown column")}
    for bad, code in (("{not json", 400), ("[" * 3000, 400), (b"\xff\xfe", 400)):
        status, body, _ = post(server, bad)
        assert (status, body["error"]) == (code, "malformed JSON") and body["request_id"]
    status, body, _ = post(server, "x", "text/plain")
    assert status == 415 and "application/json" in body["error"] and body["request_id"]
    assert post(server, [ROW] * 100)[0] == 413
    for path in ("/health", "/ready", "/metadata"):
        assert get(server, path)[0] == 200
    meta = json.loads(get(server, "/metadata")[1])
    assert [c["name"] for c in meta["inputs"]][:2] == ["pclass", "age"] and meta["classes"] == [0, 1]


def test_odd_bodies_get_4xx_not_500(server):
    """Bodies that are valid JSON but not a table, huge numbers and bodies over --max-bytes announced or streamed."""
    for bad in (None, 5, "text", [1, 2], {}, [], [{**ROW, "age": 10**400}], {"age": [1, 2], "fare": [1]}):
        status, body, _ = post(server, json.dumps(bad))
        assert status == 422 and body["problems"], (bad, body)
    status, body, _ = post(server, [{**ROW, "age": 10**400}])
    assert body["problems"] == [{"column": "age", "row": 0, "problem": "not a number (or beyond float64)"}]
    assert post(server, json.dumps([ROW] * 20_000))[0] == 413  # 2 MB with a Content-Length: refused unread
    c = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    c.request("POST", "/predict", body=iter([json.dumps([ROW] * 40).encode()] * 3), encode_chunked=True,
              headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert c.getresponse().status == 413  # no Content-Length: cut off while streaming
    rid = "client-chosen-id"
    assert post(server, [ROW], headers={"X-Request-Id": rid})[1]["request_id"] == rid


@pytest.mark.slow
def test_model_error_is_500_with_request_id_and_the_worker_keeps_serving(failing_run):
    proc, port = start(failing_run, "--format", "joblib", "--workers", "1")
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        status, body, headers = post(port, [{**ROW, "fare": sh.FAIL_FARE}], conn=c)
        assert status == 500 and body == {"error": "model error", "request_id": headers["x-request-id"]}
        rid = body["request_id"]
        answers = [post(port, [ROW], conn=c)[0] for _ in range(20)]  # the same process, the same connection
        assert answers == [200] * 20
        fams = metric_families(port)
        assert sample_sum(fams, "mlengine_requests", "mlengine_requests_total", endpoint="/predict", status="500") == 1
    finally:
        assert stop(proc) == 0
    err = proc.stderr.read()
    error_lines = [json.loads(line) for line in err.splitlines() if '"error"' in line]
    assert [(e["request_id"], e["error"]) for e in error_lines] == [(rid, "RuntimeError")]
    assert "Traceback" not in err


@pytest.mark.parametrize("workers", [1, 2])
def test_metrics_series(served_run, workers):
    """Every series the issue names, parsed with prometheus_client's parser, summed across worker processes."""
    proc, port = start(served_run, "--workers", str(workers), "--no-access-log")
    try:
        for i in range(30):  # new connections, so both workers take some
            assert post(port, [{**ROW, "age": i + 1}])[0] == 200
        assert post(port, [ROW] * 5)[0] == 200
        assert post(port, [{**ROW, "age": -1}, {**ROW, "age": 500, "sex": "x"}])[0] == 422
        assert post(port, "{")[0] == 400 and post(port, "x", "text/plain")[0] == 415
        fams = metric_families(port)
    finally:
        assert stop(proc) == 0
    requests = {(s.labels["endpoint"], s.labels["status"]): s.value for s in fams["mlengine_requests"].samples
                if s.name == "mlengine_requests_total" and s.labels["endpoint"] == "/predict"}
    assert requests == {("/predict", "200"): 31, ("/predict", "422"): 1, ("/predict", "400"): 1,
                        ("/predict", "415"): 1}
    assert sample_sum(fams, "mlengine_requests", "mlengine_requests_total", endpoint="/ready") >= 1
    latency = fams["mlengine_request_seconds"]
    assert sample_sum({"h": latency}, "h", "mlengine_request_seconds_count") == 34
    buckets = sorted((float(s.labels["le"]), s.value) for s in latency.samples if s.name.endswith("_bucket"))
    assert buckets[-1] == (float("inf"), 34) and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:], strict=False))
    assert 0 < sample_sum({"h": latency}, "h", "mlengine_request_seconds_sum") < 34
    assert sample_sum(fams, "mlengine_rows_predicted", "mlengine_rows_predicted_total") == 35
    classes = {s.labels["label"]: s.value for s in fams["mlengine_predicted_class"].samples
               if s.name.endswith("_total") and s.labels["role"] == "primary"}
    assert set(classes) <= {"0", "1"} and sum(classes.values()) == 35
    violations = {s.labels["column"]: s.value for s in fams["mlengine_contract_violations"].samples
                  if s.name.endswith("_total")}
    assert violations == {"age": 2, "sex": 1}
    load = [s.value for s in fams["mlengine_model_load_seconds"].samples]
    assert load and 0 < max(load) < 60


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_answers_in_flight_and_exits_0(served_run, workers):
    """Requests whose bodies are still arriving when SIGTERM lands are answered, then the process exits 0."""
    proc, port = start(served_run, "--workers", str(workers))
    body = json.dumps([ROW] * 50).encode()
    socks = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:100])
        socks.append(s)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert proc.poll() is None  # still draining the in-flight requests
    answers = []
    for s in socks:
        s.sendall(body[100:])
        answers.append(s.makefile("rb").readline())
        s.close()
    assert proc.wait(timeout=30) == 0
    assert answers == [b"HTTP/1.1 200 OK\r\n"] * 3
    assert "Traceback" not in proc.stderr.read()


def _arms_by_key(port: int, keys: list[str], header: bool) -> list[str]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out = []
    for i, key in enumerate(keys):
        row = {**ROW, "age": i % 80 + 1}  # different rows: the key, not the row, picks the arm
        status, body, _ = post(port, [row], headers={"X-Route-Key": key}, conn=c) if header else \
            post(port, [{**row, "user": key}], conn=c)
        assert status == 200, body
        out.append(body["arm"])
    return out


@pytest.mark.slow
def test_ab_split_stickiness_and_shadow(served_run):
    proc, port = start(None, "--model", f"a={served_run}", "--model", f"b={served_run}",
                       "--model", f"s={served_run}", "--split", "a=90,b=10", "--shadow", "s",
                       "--route-key", "user", "--no-access-log")
    try:
        keys = [f"u{i}" for i in range(2000)]
        by_column = _arms_by_key(port, keys, header=False)
        by_header = _arms_by_key(port, [f"h{i}" for i in range(2000)], header=True)
        for arms in (by_column, by_header):
            assert abs(arms.count("a") / 2000 - 0.9) <= 0.03 and set(arms) == {"a", "b"}  # only live arms answer
        assert _arms_by_key(port, keys[:100], header=False) == by_column[:100]  # sticky by column
        assert _arms_by_key(port, [f"h{i}" for i in range(100)], header=True) == by_header[:100]  # by header
        flip = next(i for i in range(2000) if by_column[i] != by_header[i])  # the header wins over the column
        status, body, _ = post(port, [{**ROW, "user": f"u{flip}"}], headers={"X-Route-Key": f"h{flip}"})
        assert body["arm"] == by_header[flip]
        fams = metric_families(port)
    finally:
        assert stop(proc) == 0
    by_role: dict[tuple[str, str], float] = {}
    for smp in fams["mlengine_predicted_class"].samples:
        if smp.name.endswith("_total"):
            key = (smp.labels["arm"], smp.labels["role"])
            by_role[key] = by_role.get(key, 0) + smp.value
    a, b = by_role[("a", "primary")], by_role[("b", "primary")]
    assert a + b == 4201 and by_role[("s", "shadow")] == 4201 and len(by_role) == 3


def test_shadow_errors_never_change_the_answer(served_run, failing_run):
    proc, port = start(None, "--model", f"a={served_run}", "--model", f"s={failing_run}", "--shadow", "s",
                       "--format", "joblib", "--no-access-log")
    try:
        status, body, _ = post(port, [{**ROW, "fare": sh.FAIL_FARE}])
        assert status == 200 and body["arm"] == "a"
        assert post(port, [ROW, ROW])[0] == 200
        fams = metric_families(port)
    finally:
        assert stop(proc) == 0
    assert sample_sum(fams, "mlengine_shadow_errors", "mlengine_shadow_errors_total", arm="s") == 1
    assert sample_sum(fams, "mlengine_predicted_class", "mlengine_predicted_class_total", role="shadow") == 2
    assert sample_sum(fams, "mlengine_predicted_class", "mlengine_predicted_class_total", role="primary") == 3


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    return [r for v in node for r in _refs(v)] if isinstance(node, list) else []


def test_openapi_from_the_contract(server):
    status, raw, headers = get(server, "/openapi.json")
    assert status == 200 and headers["content-type"].startswith("application/json")
    doc, meta = json.loads(raw), json.loads(get(server, "/metadata")[1])
    assert doc["openapi"].startswith("3.") and doc["info"]["version"] == meta["version"]
    assert meta["recipe"] == "t" and len(meta["data_fingerprint"]) == 64
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):  # every reference resolves
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    row = schemas["Row"]
    names = [c["name"] for c in meta["inputs"]]
    assert list(row["properties"]) == names and row["required"] == names and row["additionalProperties"] is False
    assert list(schemas["Columnar"]["properties"]) == names
    kinds = {c["name"]: c["kind"] for c in meta["inputs"]}
    assert all(row["properties"][c]["x-kind"] == k for c, k in kinds.items())
    assert (row["properties"]["age"]["minimum"], row["properties"]["age"]["maximum"]) == (0, 120)
    assert row["properties"]["sex"]["enum"][:2] == ["male", "female"]
    assert "F" in row["properties"]["deck"]["x-categories-seen"] and "enum" not in row["properties"]["deck"]
    assert "number" in row["properties"]["fare"]["type"]
    responses = doc["paths"]["/predict"]["post"]["responses"]
    assert set(responses) == {"200", "400", "413", "415", "422", "500"}
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ContractError")
    assert "5000" in responses["413"]["description"]
    answer = schemas["PredictResponse"]["properties"]
    assert answer["labels"]["items"]["enum"] == [0, 1] and set(answer["probabilities"]["items"]["properties"]) == {
        "0", "1"}
    request = schemas["PredictRequest"]["oneOf"]
    assert {"$ref": "#/components/schemas/Records"} in request and {"$ref": "#/components/schemas/Columnar"} in request
    assert set(doc["paths"]) == {"/predict", "/health", "/ready", "/metadata", "/metrics", "/openapi.json"}
    try:  # the reference validator when this environment has it (not a dependency)
        from openapi_spec_validator import validate
    except ImportError:
        return
    validate(doc)


def test_openapi_regression_and_text_classes():
    from mlengine.serving.openapi import build_openapi

    bundle = {"task": "regression", "inputs": [{"name": "x", "kind": "numeric", "dtype": "int64"},
                                               {"name": "d", "kind": "datetime"}, {"name": "b", "kind": "boolean"}],
              "data_checks": {"contract": {"x": {"dtype": "int", "nullable": False}}}, "id_column": "id"}
    doc = build_openapi(bundle, {"run_id": "r", "version": "v"}, 10, 100)
    row = doc["components"]["schemas"]["Row"]
    assert row["properties"]["x"]["type"] == ["integer"] and row["required"] == ["x", "d", "b"] and "id" in row[
        "properties"]
    assert row["properties"]["d"]["format"] == "date-time" and None in row["properties"]["b"]["enum"]
    assert "predictions" in doc["components"]["schemas"]["PredictResponse"]["properties"]
    doc = build_openapi({**bundle, "task": "binary", "classes": ["no", "yes"]}, {"run_id": "r", "version": "v"}, 10, 9)
    labels = doc["components"]["schemas"]["PredictResponse"]["properties"]["labels"]["items"]
    assert labels == {"type": "string", "enum": ["no", "yes"]}


def _titanic_rows() -> list[dict]:
    import pandas as pd

    frame = pd.read_csv(DATA / "titanic.csv")[list(ROW)]
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _psi(port: int) -> dict[str, float]:
    fams = metric_families(port)
    return {s.labels["feature"]: s.value for s in fams["mlengine_drift_psi"].samples} if \
        "mlengine_drift_psi" in fams else {}


@pytest.mark.parametrize("workers", [1, 2])
def test_drift_gauges_rise_for_the_shifted_column_only(served_run, workers):
    rows = _titanic_rows()
    proc, port = start(served_run, "--drift-window", "500", "--workers", str(workers), "--no-access-log")
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for k in range(0, 500, 50):  # unshifted rows first
            assert post(port, rows[k:k + 50], conn=c)[0] == 200
        before = _psi(port)
        shifted = [{**r, "age": None if r["age"] is None else min(r["age"] + 30, 120)} for r in rows[300:800]]
        for k in range(0, 500, 50):  # then as many shifted ones: the window holds only these
            assert post(port, shifted[k:k + 50], conn=c)[0] == 200
        after = _psi(port)
        fams = metric_families(port)
    finally:
        assert stop(proc) == 0
    assert set(after) == {"pclass", "age", "sibsp", "parch", "fare", "alone", "sex", "embarked", "deck"}
    if workers == 1:  # one window saw every row
        assert max(before.values()) < 0.1, before
        assert sample_sum(fams, "mlengine_drift_window_rows", "mlengine_drift_window_rows") == 500
    assert after["age"] > 0.5 and after["age"] > 5 * max(v for k, v in after.items() if k != "age"), after


def test_drift_window_off(served_run):
    proc, port = start(served_run, "--drift-window", "0")
    try:
        assert post(port, [ROW])[0] == 200 and _psi(port) == {}
    finally:
        stop(proc)


@pytest.mark.slow
def test_pii_hashed_columns_are_hashed_as_at_training(tmp_path):
    """data.pii.action: hash: the server hashes the raw values like `mlengine predict` (or the model sees
    unseen digests); the answer equals load_model's, and no raw value is reported as an unseen category."""
    import pandas as pd

    import mlengine
    from mlengine.data.pii import hash_value
    from mlengine.serving.checks import pii_digest

    assert all(pii_digest(v) == hash_value(v) for v in ("a@b.com", " x ", "3", "Zoë"))
    df = pd.read_csv(DATA / "titanic.csv")
    df["email"] = [f"user{i % 40}@example.com" for i in range(len(df))]
    (tmp_path / "data").mkdir()
    df.to_csv(tmp_path / "data" / "people.csv", index=False)
    (tmp_path / "r.yaml").write_text(TITANIC.replace("  target:", "  pii: {action: hash}\n  target:").replace(
        "titanic.csv", "people.csv"), encoding="utf-8")
    run = mlengine.run(tmp_path / "r.yaml", overrides=["model.n_jobs=1"], runs_dir=tmp_path / "runs").run_dir
    rows = df[[*ROW, "email"]].head(40)
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    proc, port = start(run, "--no-access-log")
    try:
        status, body, _ = post(port, records)
    finally:
        stop(proc)
    assert status == 200 and "warnings" not in body, body
    want = mlengine.load_model(run, format="onnx").predict_proba(rows)[:, 1]
    got = [p["1"] for p in body["probabilities"]]
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 1e-12


def test_live_split_gives_the_shadow_share_to_the_live_arms():
    from mlengine.errors import UserError
    from mlengine.serving.routing import live_split, parse_split, pick_arm

    live = live_split(parse_split("a=45,b=45,s=10", ["a", "b", "s"]), ["a", "b", "s"], "s")
    assert live == {"a": 0.5, "b": 0.5}
    picks = [pick_arm(live, f"k{i}") for i in range(4000)]
    assert abs(picks.count("a") / 4000 - 0.5) <= 0.03 and "s" not in picks
    assert live_split({"a": 1.0}, ["a", "s"], "s") == {"a": 1.0}
    assert live_split({"s": 1.0}, ["a", "s"], "s") == {"a": 1.0}
    with pytest.raises(UserError, match="only --model"):
        live_split({"s": 1.0}, ["s"], "s")
