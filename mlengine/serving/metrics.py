"""Prometheus metrics; multiprocess-safe when PROMETHEUS_MULTIPROC_DIR is set (the serve command sets it)."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter("mlengine_requests", "requests by endpoint and status", ["endpoint", "status"])
LATENCY = Histogram("mlengine_request_seconds", "request latency", ["endpoint"],
                    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
ROWS = Counter("mlengine_rows_predicted", "rows predicted")
SHADOW_ERRORS = Counter("mlengine_shadow_errors", "shadow model errors (the primary still answered)", ["arm"])
CLASSES = Counter("mlengine_predicted_class", "predicted labels by arm (primary or shadow)", ["arm", "role", "label"])
VIOLATIONS = Counter("mlengine_contract_violations", "request problems by column", ["column"])
UNSEEN = Counter("mlengine_unseen_categories", "unseen categories by column", ["column"])
DRIFT_PSI = Gauge("mlengine_drift_psi", "PSI of the last --drift-window accepted rows against the run's reference",
                  ["feature"], multiprocess_mode="livemostrecent")
DRIFT_ROWS = Gauge("mlengine_drift_window_rows", "rows in the drift window", multiprocess_mode="livemostrecent")
MODEL_LOAD = Gauge("mlengine_model_load_seconds", "model load time", multiprocess_mode="max")


_CHILDREN: dict[tuple, Any] = {}  # labelled children, looked up once (labels() takes a lock and builds a key)


def child(metric: Any, *labels: str) -> Any:
    key = (metric, labels)
    out = _CHILDREN.get(key)
    if out is None:
        out = _CHILDREN[key] = metric.labels(*labels)
    return out


def count_labels(arm: str, role: str, labels: list[Any]) -> None:
    """Predicted labels by arm and role, one increment per distinct label (not per row)."""
    if len(labels) == 1:
        child(CLASSES, arm, role, str(labels[0])).inc()
        return
    counts: dict[Any, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    for lab, k in counts.items():
        child(CLASSES, arm, role, str(lab)).inc(k)


def observe(endpoint: str, status: int, seconds: float) -> None:
    child(REQUESTS, endpoint, str(status)).inc()
    if endpoint == "/predict":
        child(LATENCY, endpoint).observe(seconds)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import CollectorRegistry, multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
