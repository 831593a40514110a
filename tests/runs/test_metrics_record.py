"""metrics.json is written through the typed, versioned RunMetrics record; its JSON schema is in docs/."""

from __future__ import annotations

import json

import pytest

from mlengine.runs.metrics_record import METRICS_VERSION, json_schema, read_metrics, validated

from tests.conftest import ROOT


def test_the_schema_in_docs_is_current():
    doc = json.loads((ROOT / "docs" / "metrics.schema.json").read_text(encoding="utf-8"))
    assert doc == json_schema(), "regenerate docs/metrics.schema.json from mlengine.runs.metrics_record.json_schema()"


def test_the_reference_run_reads_through_the_record():
    metrics = read_metrics(ROOT / "examples" / "ci" / "reference-run")  # written before the version field
    assert metrics.metrics_version == 1 and metrics.primary_metric and metrics.rows.train > 0


def test_a_misspelled_key_is_refused_when_written():
    report = json.loads((ROOT / "examples" / "ci" / "reference-run" / "metrics.json").read_text())
    assert validated(report)["metrics_version"] == METRICS_VERSION
    with pytest.raises(RuntimeError, match="holdot"):
        validated({**report, "holdot": {}})
    with pytest.raises(RuntimeError, match="rows.train"):
        validated({**report, "rows": {"holdout": 3}})
