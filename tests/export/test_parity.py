"""`mlengine.export.parity`: the ONNX-vs-scikit-learn comparison on raw rows, for classification (labels equal,
probabilities within an absolute tolerance) and regression (relative tolerance), and the failure report that
names the rows."""

from __future__ import annotations

import pytest

from mlengine.errors import ExportError
from mlengine.export.parity import MAX_LISTED, ParityReport, compare

from tests.export_helpers import onnx_of, prepared

OVERRIDES = ("model.n_jobs=1", "model.params.n_estimators=10")


@pytest.fixture(scope="module")
def classifiers():
    """(rows, pipeline A, pipeline B): the same titanic recipe fitted on different rows (they disagree)."""
    data, a = prepared("titanic.yaml", OVERRIDES)
    _, b = prepared("titanic.yaml", (*OVERRIDES, "model.params.num_leaves=3"))
    a.fit(data.X.iloc[:300], data.y.iloc[:300])
    b.fit(data.X.iloc[300:600], data.y.iloc[300:600])
    return data.X.iloc[600:800], a, b


@pytest.fixture(scope="module")
def regressor():
    data, pipe = prepared("nyc_taxis_fare.yaml", OVERRIDES)
    assert data.task == "regression"
    pipe.fit(data.X.iloc[:300], data.y.iloc[:300])
    return data.X.iloc[300:400], pipe


def test_a_model_and_its_onnx_agree_on_every_row(classifiers):
    X, a, _ = classifiers
    report = compare(a, onnx_of(a), X, "binary", 1e-9)
    assert report.passed and report.rows_checked == 200 and report.task == "binary"
    assert report.label_mismatches == report.value_mismatches == 0 and report.failing_rows == []
    assert report.max_abs_diff < 1e-12 and report.max_rel_diff is None
    assert report.summary().startswith("200 rows, max abs probability diff ")
    assert report.summary().endswith(", 0 label mismatch(es) (tolerance 1e-09)")
    assert report.as_dict()["passed"] is True
    report.raise_if_failed()  # returns quietly


def test_a_different_model_fails_and_names_its_rows_and_ids(classifiers):
    X, a, b = classifiers
    ids = [f"P{i}" for i in range(len(X))]
    report = compare(a, onnx_of(b), X, "binary", 1e-6, rows=list(range(600, 800)), ids=ids)
    assert not report.passed and report.value_mismatches > 0
    labels_a, labels_b = a.predict(X), b.predict(X)
    assert report.label_mismatches == int((labels_a != labels_b).sum())
    first = report.failing_rows[0]
    assert first["row"] >= 600 and first["id"] == f"P{first['row'] - 600}"
    assert first["label_sklearn"] == labels_a[first["row"] - 600] and first["label_onnx"] == labels_b[first["row"] - 600]
    assert len(report.failing_rows) <= 2 * MAX_LISTED
    with pytest.raises(ExportError, match=r"ONNX parity check failed on 200 rows.*Rows: row 6\d\d \(id 'P"):
        report.raise_if_failed()


def test_a_loose_tolerance_accepts_probability_differences_but_never_labels(classifiers):
    X, a, b = classifiers
    report = compare(a, onnx_of(b), X, "binary", 1.0)
    assert report.value_mismatches == 0
    assert report.label_mismatches == int((a.predict(X) != b.predict(X)).sum()) > 0
    assert not report.passed


def test_regression_is_compared_relative_to_the_prediction(regressor):
    X, pipe = regressor
    report = compare(pipe, onnx_of(pipe), X, "regression", 1e-9)
    assert report.passed and report.rows_checked == 100 and report.max_rel_diff is not None
    assert report.max_rel_diff <= 1e-9
    assert "max abs diff" in report.summary() and "max rel diff" in report.summary()


def test_a_regression_failure_lists_both_values(regressor, classifiers):
    X, pipe = regressor
    data, other = prepared("nyc_taxis_fare.yaml", (*OVERRIDES, "model.params.num_leaves=3"))
    other.fit(data.X.iloc[500:800], data.y.iloc[500:800])
    report = compare(pipe, onnx_of(other), X, "regression", 1e-9)
    assert not report.passed and report.label_mismatches == 0 and report.value_mismatches > 0
    row = report.failing_rows[0]
    assert row["diff"] == pytest.approx(abs(row["onnx"] - row["sklearn"]))
    assert row["sklearn"] == pytest.approx(float(pipe.predict(X.iloc[[row["row"]]])[0]))
    with pytest.raises(ExportError, match=rf"Rows: row {row['row']}: diff "):
        report.raise_if_failed()


def test_the_error_says_more_rows_failed_than_it_lists():
    rows = [{"row": i, "label_sklearn": 0, "label_onnx": 1, "diff": 0.5} for i in range(2 * MAX_LISTED)]
    report = ParityReport(100, 1e-5, "binary", 0.5, None, 2 * MAX_LISTED, 0, rows)
    with pytest.raises(ExportError) as exc:
        report.raise_if_failed()
    text = str(exc.value)
    assert "40 row(s) with a different label, 0 row(s) beyond the tolerance" in text
    assert "row 19: label 0 vs 1 in ONNX" in text and "row 20:" not in text
    assert "(and more; see onnx_parity.json)" in text
