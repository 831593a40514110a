"""Single-row latency and batch throughput of the exported model, measured once at export.

What is timed is what a caller pays per request: one dict of raw column values (as a JSON request gives) in,
probabilities (classification) or a prediction (regression) out. For `onnx` that is `OnnxModel` on its dict fast
path (feed + `session.run`) with onnxruntime pinned to one thread (`intra_op_num_threads=1`,
`inter_op_num_threads=1`, as `mlengine serve` loads it), so the figure does not depend on how many cores happen to be
free; for `joblib` it is the scikit-learn pipeline of model.joblib on a one-row DataFrame built from the dict (as
`load_model(...).predict_proba(dict)` does), with the n_jobs it was fitted with. After up to 3 warm-up calls, calls
cycle through real holdout rows (training rows when there is no holdout) until `max_calls` calls or `max_seconds`
(warm-up included), whichever comes first, each timed with `time.perf_counter_ns`; p50/p95/p99 are numpy's linear-interpolation
percentiles in microseconds. Batch throughput is rows/s of one call on `batch_rows` rows (the same rows repeated
when there are fewer), the median of up to 3 calls within the same time cap.

The figures describe this machine at run time: they go to metrics.json (`export.onnx.latency`), never into
model.json or any hashed artifact, so a replay on another machine is not a mismatch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MAX_CALLS = 200
MAX_SECONDS = 0.5
WARMUP_CALLS = 3
BATCH_ROWS = 1000
BATCH_REPEATS = 3
ONNX_SETTING = "onnxruntime CPUExecutionProvider, intra_op_num_threads=1, inter_op_num_threads=1"
JOBLIB_SETTING = "scikit-learn pipeline (model.joblib) on a one-row DataFrame, n_jobs as fitted"
Clock = Callable[[], int]


def percentiles_us(durations_ns: Sequence[int]) -> dict[str, float]:
    """p50/p95/p99, mean, min and max of call durations (nanoseconds) in microseconds, to 0.1 us."""
    us = np.asarray(durations_ns, dtype=np.float64) / 1e3
    if not len(us):
        raise ValueError("no timed calls")
    p50, p95, p99 = np.percentile(us, [50, 95, 99])
    return {"p50_us": round(float(p50), 1), "p95_us": round(float(p95), 1), "p99_us": round(float(p99), 1),
            "mean_us": round(float(us.mean()), 1), "min_us": round(float(us.min()), 1),
            "max_us": round(float(us.max()), 1)}


def time_calls(call: Callable[[Any], Any], inputs: Sequence[Any], max_calls: int = MAX_CALLS,
               max_seconds: float = MAX_SECONDS, warmup: int = WARMUP_CALLS,
               clock: Clock = time.perf_counter_ns) -> tuple[list[int], int]:
    """(durations in ns of `call(input)` cycling through `inputs`, warm-up calls made). Up to `warmup` untimed
    calls first, fewer once they have taken half of `max_seconds` (a slow model needs no more than one); then timed
    calls until `max_calls` were made or `max_seconds` have passed since the first call. At least one call is
    timed, so a model slower than the cap costs two calls."""
    if not inputs:
        raise ValueError("no inputs to time")
    start = clock()
    deadline = start + int(max_seconds * 1e9)
    warmed = 0
    while warmed < warmup and (warmed == 0 or clock() - start < max_seconds * 0.5e9):
        call(inputs[warmed % len(inputs)])
        warmed += 1
    durations: list[int] = []
    while len(durations) < max_calls:
        x = inputs[len(durations) % len(inputs)]
        begin = clock()
        call(x)
        end = clock()
        durations.append(end - begin)
        if end >= deadline:
            break
    return durations, warmed


def throughput(call: Callable[[Any], Any], batch: Any, rows: int, repeats: int = BATCH_REPEATS,
               max_seconds: float = MAX_SECONDS, clock: Clock = time.perf_counter_ns) -> float:
    """Rows per second of `call(batch)` (`rows` rows): the median of up to `repeats` calls within `max_seconds`."""
    durations: list[int] = []
    deadline = clock() + int(max_seconds * 1e9)
    while len(durations) < repeats:
        start = clock()
        call(batch)
        end = clock()
        durations.append(max(end - start, 1))
        if end >= deadline:
            break
    return round(rows / (float(np.median(durations)) / 1e9), 1)


def raw_rows(X: Any) -> list[dict[str, Any]]:
    """Rows as dicts of plain values, None for missing (what a service receives)."""
    return X.astype(object).where(X.notna(), None).to_dict("records")


def measure(onnx_model: Any, pipeline: Any, X: Any, task: str, rows_from: str, max_calls: int = MAX_CALLS,
            max_seconds: float = MAX_SECONDS, batch_rows: int = BATCH_ROWS) -> dict[str, Any]:
    """The latency record: {onnx: stats, joblib: stats} plus what was measured and how (see the module doc).
    `onnx_model` must be an OnnxModel built with threads=1; `pipeline` the fitted scikit-learn pipeline (or None
    to time ONNX only). A runtime that fails to run is left out, its error under `errors`."""
    import pandas as pd

    started = time.perf_counter()
    rows = raw_rows(X.iloc[:max_calls])
    batch = X.iloc[np.resize(np.arange(len(X)), batch_rows)] if len(X) else X
    proba = task != "regression"
    record: dict[str, Any] = {
        "input": "one dict of raw values per call (as a request), " + ("probabilities" if proba else "prediction")
                 + " out",
        "rows_from": rows_from, "max_warmup_calls": WARMUP_CALLS, "max_calls": max_calls, "max_seconds": max_seconds}
    runners: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], str, int | None]] = {
        "onnx": ((onnx_model.predict_proba if proba else onnx_model.predict),
                 (lambda b: onnx_model.run(onnx_model.feed_frame(b))), ONNX_SETTING, 1)}
    if pipeline is not None:
        skl = pipeline.predict_proba if proba else pipeline.predict
        runners["joblib"] = ((lambda row: skl(pd.DataFrame([row]))), skl, JOBLIB_SETTING, None)
    errors: dict[str, str] = {}
    for name, (one, many, setting, threads) in runners.items():
        try:
            durations, warmed = time_calls(one, rows, max_calls, max_seconds)
            stats: dict[str, Any] = {**percentiles_us(durations), "calls": len(durations), "warmup_calls": warmed,
                                     "seconds": round(sum(durations) / 1e9, 4)}
            stats["batch_rows"] = len(batch)
            stats["batch_rows_per_s"] = throughput(many, batch, len(batch), max_seconds=max_seconds)
            stats["threads"] = threads
            stats["setting"] = setting
            record[name] = stats
        except Exception as exc:  # a measurement problem must not fail a verified export
            errors[name] = f"{type(exc).__name__}: {exc}"
    if errors:
        record["errors"] = errors
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record
