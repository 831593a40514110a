"""The Starlette app: /predict, /health, /ready, /metadata, /metrics over one verified model.

`create_app(run_dir)` loads the model through `mlengine.export.loaded` (sha256 checked) and answers with plain
Starlette responses (no framework layer: STACK-NOTES measured FastAPI's thread-pool endpoint at 1,827 req/s).
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from mlengine.errors import UserError
from mlengine.serving.checks import RequestChecker, RequestProblems, to_columns
from mlengine.serving.drift import DriftWindow, load_reference
from mlengine.serving.openapi import build_openapi


class ServedModel:
    """A loaded model with its request checker and the ONNX feed built straight from typed columns."""

    def __init__(self, run_dir: str | Path, format: str = "onnx"):
        from mlengine.export.loaded import load_model

        start = time.perf_counter()
        self.model = load_model(run_dir, format=format, threads=1)
        self.load_seconds = time.perf_counter() - start
        self.bundle = self.model.bundle
        self.checker = RequestChecker(self.bundle)
        self.run_id = Path(run_dir).resolve().name
        self.version = str(self.bundle.get("version") or self.run_id)

    def predict(self, typed: dict[str, list[Any]], n: int) -> dict[str, Any]:
        import numpy as np

        task = self.bundle["task"]
        if self.model.format == "onnx":
            est = self.model.estimator
            if any(s["kind"] == "datetime" for s in est.inputs):
                out = est.run(est.feed([{c: typed[c][i] for c in typed} for i in range(n)]))
            else:
                feed = {s["name"]: np.asarray(typed[s["source"]], dtype=object if s["kind"] == "categorical"
                                              else np.float64).reshape(-1, 1) for s in est.inputs}
                out = est.run(feed)
            if task == "regression":
                return {"predictions": np.asarray(out["prediction"]).ravel().tolist()}
            labels, proba = np.asarray(out["label"]).ravel().tolist(), np.asarray(out["probabilities"])
        else:
            import pandas as pd

            frame = pd.DataFrame(typed)
            if task == "regression":
                return {"predictions": np.asarray(self.model.estimator.predict(frame)).ravel().tolist()}
            labels = np.asarray(self.model.estimator.predict(frame)).ravel().tolist()
            proba = np.asarray(self.model.estimator.predict_proba(frame))
        classes = self.model.classes
        if classes and isinstance(classes[0], (int, str)) and labels and type(labels[0]) is not type(classes[0]):
            labels = [type(classes[0])(v) for v in labels]  # e.g. int labels of a text-typed output
        keys = [str(c) for c in classes]
        return {"labels": labels, "probabilities": [dict(zip(keys, row, strict=True))
                                                    for row in np.asarray(proba, dtype=np.float64).tolist()]}

    def metadata(self) -> dict[str, Any]:
        b = self.bundle
        return {"run_id": self.run_id, "version": self.version, "task": b["task"], "target": b.get("target"),
                "inputs": [{k: c.get(k) for k in ("name", "kind", "dtype", "categories")} for c in b["inputs"]],
                "contract": (b.get("data_checks") or {}).get("contract") or {}, "classes": b.get("classes"),
                "decision": b.get("decision"), "model": b.get("model"), "format": self.model.format,
                **_manifest_facts(self.model.run_dir)}


def check_same_inputs(arms: dict[str, ServedModel]) -> None:
    """A/B and shadow arms must take the same input columns (checked at start)."""
    first_name, first = next(iter(arms.items()))
    want = [c["name"] for c in first.bundle["inputs"]]
    for name, arm in arms.items():
        have = [c["name"] for c in arm.bundle["inputs"]]
        if sorted(have) != sorted(want):
            raise UserError(f"--model {name}: its input columns ({', '.join(have)}) differ from --model "
                            f"{first_name}'s ({', '.join(want)}); A/B and shadow arms must share input columns.")


def _manifest_facts(run_dir: Path) -> dict[str, Any]:
    """The recipe name and the training data's content fingerprint from the run's manifest (None when absent)."""
    try:
        manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"recipe": None, "data_fingerprint": None}
    data = manifest.get("data") or {}
    resolved = (manifest.get("recipe") or {}).get("resolved") or {}
    return {"recipe": resolved.get("name"),
            "data_fingerprint": data.get("content_sha256") or data.get("fingerprint") or data.get("sha256")}


class Answer:
    """What one /predict request produced: status, JSON body, arm and row count (for the log and metrics)."""

    __slots__ = ("status", "body", "arm", "rows", "version")

    def __init__(self, status: int, body: dict[str, Any], arm: str | None = None, rows: int = 0,
                 version: str | None = None):
        self.status, self.body, self.arm, self.rows, self.version = status, body, arm, rows, version


async def read_body(request: Any, max_bytes: int) -> bytes | None:
    """The request body, or None as soon as it is over `max_bytes` (by Content-Length or while streaming), so an
    oversized body is never held in memory."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def log_error(rid: str, where: str, exc: BaseException) -> None:
    """One JSON line on stderr for an error (always, even with --no-access-log): request id, type, message."""
    sys.stderr.write(json.dumps({"request_id": rid, "error": type(exc).__name__, "where": where,
                                 "message": str(exc)[:200]}) + "\n")


def create_app(run_dir: str | Path | dict[str, str], format: str = "onnx", max_rows: int = 10_000,
               max_bytes: int = 10_000_000, access_log: bool = True, split: str | None = None,
               shadow: str | None = None, route_key: str | None = None, drift_window: int = 10_000) -> Any:
    """The app for one model (a run directory) or several arms ({name: run_dir}) split by `split`; with
    `drift_window` > 0, PSI gauges over the last `drift_window` accepted rows against the first live arm's
    reference.json (serving/drift.py)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from mlengine.serving import metrics
    from mlengine.serving.routing import live_split, parse_split, pick_arm

    arms = {name: ServedModel(path, format) for name, path in
            (run_dir.items() if isinstance(run_dir, dict) else [("default", run_dir)])}
    check_same_inputs(arms)
    if route_key:
        for arm_model in arms.values():
            arm_model.checker = RequestChecker(arm_model.bundle, (route_key,))
    weights = parse_split(split, list(arms))
    if shadow is not None and shadow not in arms:
        raise UserError(f"--shadow {shadow!r} is not a --model name ({', '.join(arms)}).")
    live = live_split(weights, list(arms), shadow)
    served = arms[next(iter(live))]
    metrics.MODEL_LOAD.set(max(a.load_seconds for a in arms.values()))
    version_header = {"X-Model-Version": served.version}
    drift = None
    if drift_window > 0:
        reference = load_reference(served.model.run_dir)
        drift = DriftWindow(reference, drift_window) if reference else None

    def problems(rid: str, exc: RequestProblems) -> Answer:
        for p in exc.problems:
            metrics.VIOLATIONS.labels("(body)" if p["column"] is None else str(p["column"])).inc()
        return Answer(422, {"error": "the request does not fit the model's data contract",
                            "problems": exc.problems, "request_id": rid})

    async def answer(request: Any, rid: str) -> Answer:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return Answer(415, {"error": "Content-Type must be application/json", "request_id": rid})
        raw = await read_body(request, max_bytes)
        if raw is None:
            return Answer(413, {"error": f"body over --max-bytes {max_bytes}", "request_id": rid})
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):  # bad syntax or encoding, or nesting deeper than the parser goes
            return Answer(400, {"error": "malformed JSON", "request_id": rid})
        try:
            cols, rows = to_columns(payload, max_rows)
            typed, unseen = served.checker.check(cols, rows)
        except RequestProblems as exc:
            return problems(rid, exc)
        key = request.headers.get("x-route-key")
        if key is None and route_key and route_key in cols:
            key = str(cols[route_key][0])
        arm = pick_arm(live, key)
        model = arms[arm]
        try:
            result = model.predict(typed, rows)
        except Exception as exc:  # a model error: answer 500 with the request id, keep serving
            log_error(rid, f"model {arm}", exc)
            return Answer(500, {"error": "model error", "request_id": rid}, arm, rows, model.version)
        if shadow and shadow != arm:
            try:  # the shadow never changes the answer, even when it fails
                metrics.count_labels(shadow, "shadow", arms[shadow].predict(typed, rows).get("labels", []))
            except Exception as exc:
                metrics.SHADOW_ERRORS.labels(shadow).inc()
                log_error(rid, f"shadow {shadow}", exc)
        metrics.ROWS.inc(rows)
        if drift is not None:
            drift.add(typed, rows)
        metrics.count_labels(arm, "primary", result.get("labels", []))
        for c, k in unseen.items():
            metrics.UNSEEN.labels(c).inc(k)
        body = {**result, "run_id": model.run_id, "version": model.version, "arm": arm, "request_id": rid}
        if unseen:
            body["warnings"] = [f"column {c!r}: {k} unseen categor{'y' if k == 1 else 'ies'}"
                                for c, k in unseen.items()]
        return Answer(200, body, arm, rows, model.version)

    async def predict(request: Any) -> Any:
        start = time.perf_counter()
        rid = (request.headers.get("x-request-id") or uuid.uuid4().hex)[:128]
        try:
            out = await answer(request, rid)
        except Exception as exc:  # a bug outside the model: still a JSON 500 with the id, and the worker goes on
            log_error(rid, "request", exc)
            out = Answer(500, {"error": "internal error", "request_id": rid})
        elapsed = time.perf_counter() - start
        metrics.observe("/predict", out.status, elapsed)
        if access_log:
            sys.stderr.write(json.dumps({"request_id": rid, "path": "/predict", "arm": out.arm, "rows": out.rows,
                                         "status": out.status, "ms": round(elapsed * 1000, 3)}) + "\n")
        headers = {"X-Model-Version": out.version or served.version, "X-Request-Id": rid}
        return JSONResponse(out.body, status_code=out.status, headers=headers)

    async def health(request: Any) -> Any:
        metrics.observe("/health", 200, 0.0)
        return JSONResponse({"status": "ok"})

    async def ready(request: Any) -> Any:
        metrics.observe("/ready", 200, 0.0)
        return JSONResponse({"status": "ready", "run_id": served.run_id, "version": served.version},
                            headers=version_header)

    meta = served.metadata()
    openapi = build_openapi(served.bundle, meta, max_rows, max_bytes, (route_key,) if route_key else (), list(live))

    async def openapi_json(request: Any) -> Any:
        metrics.observe("/openapi.json", 200, 0.0)
        return JSONResponse(openapi, headers=version_header)

    async def metadata(request: Any) -> Any:
        metrics.observe("/metadata", 200, 0.0)
        return JSONResponse(meta, headers=version_header)

    async def prometheus(request: Any) -> Any:
        if drift is not None:
            drift.flush()
        data, ctype = metrics.render()
        return Response(data, media_type=ctype)

    return Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/health", health),
                             Route("/ready", ready), Route("/metadata", metadata), Route("/metrics", prometheus),
                             Route("/openapi.json", openapi_json)])
