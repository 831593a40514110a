"""Serving metrics: labels counted per distinct value, requests by endpoint and status, latency for /predict only,
rendered in Prometheus' text format."""

from __future__ import annotations

import re

from mlengine.serving import metrics  # needs the [serve] extra, which make install installs


def _value(text: str, line_start: str) -> float:
    found = re.search(rf"^{re.escape(line_start)} ([0-9.e+-]+)$", text, flags=re.M)
    return float(found.group(1)) if found else 0.0


def test_counts_and_latency_show_in_the_rendered_text(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    before, _ = metrics.render()
    metrics.count_labels("a", "primary", ["yes", "no", "yes"])
    metrics.observe("/predict", 200, 0.003)
    metrics.observe("/health", 200, 0.001)
    after, content_type = metrics.render()
    b, a = before.decode(), after.decode()
    key = 'mlengine_predicted_class_total{arm="a",label="yes",role="primary"}'
    assert _value(a, key) - _value(b, key) == 2
    req = 'mlengine_requests_total{endpoint="/predict",status="200"}'
    assert _value(a, req) - _value(b, req) == 1
    count = 'mlengine_request_seconds_count{endpoint="/predict"}'
    assert _value(a, count) - _value(b, count) == 1
    assert 'mlengine_request_seconds_count{endpoint="/health"}' not in a and content_type.startswith("text/plain")
