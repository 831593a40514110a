"""`mlengine.export.joblib_bundle`: model.json beside model.joblib (input contract, decision rule, artifact
sha256), reading a bundle back and the sha256 check that refuses a changed model.joblib before unpickling it."""

from __future__ import annotations

import json
from types import SimpleNamespace as NS

import pandas as pd
import pytest

from mlengine.errors import ModelLoadError
from mlengine.export.joblib_bundle import (
    BUNDLE_FILE,
    decision_rule,
    input_contract,
    load_verified_joblib,
    package_versions,
    read_bundle,
    save_joblib,
    sha256_file,
    verified_path,
)

from tests.export_helpers import prepared

PLAN = NS(export=["joblib"], candidates=[NS(model="lightgbm")])


@pytest.fixture(scope="module")
def fitted():
    """(PreparedData, pipeline fitted on 300 titanic rows)."""
    data, pipe = prepared("titanic.yaml", ("model.n_jobs=1", "model.params.n_estimators=10"))
    pipe.fit(data.X.iloc[:300], data.y.iloc[:300])
    return data, pipe


def test_save_joblib_writes_the_model_and_a_bundle_recording_its_sha256(fitted, tmp_path):
    data, pipe = fitted
    artifacts = save_joblib(tmp_path, pipe, PLAN, data, extra={"note": "x"})
    path = tmp_path / "model.joblib"
    assert artifacts == {"model.joblib": {"sha256": sha256_file(path), "bytes": path.stat().st_size}}
    bundle = json.loads((tmp_path / BUNDLE_FILE).read_text(encoding="utf-8"))
    assert bundle["format_version"] == 2 and bundle["task"] == "binary" and bundle["target"] == "survived"
    assert bundle["classes"] == [0, 1] and bundle["positive_class"] == 1 and bundle["id_column"] is None
    assert bundle["model"] == "lightgbm" and bundle["formats"] == ["joblib"] and bundle["note"] == "x"
    assert bundle["recipe_sha256"] is None  # no recipe.yaml in the folder
    assert bundle["artifacts"] == artifacts and bundle["data_checks"] == {}
    assert not (tmp_path / (BUNDLE_FILE + ".tmp")).exists()
    assert read_bundle(tmp_path) == bundle


def test_a_plan_without_joblib_writes_only_model_json(fitted, tmp_path):
    data, pipe = fitted
    assert save_joblib(tmp_path, pipe, NS(export=["onnx"], candidates=[NS(model="m")]), data) == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == [BUNDLE_FILE]
    assert read_bundle(tmp_path)["model"] == "m"


def test_input_contract_lists_kind_dtype_missing_and_categories(fitted):
    data, _ = fitted
    by_name = {c["name"]: c for c in input_contract(data)}
    assert list(by_name) == list(data.columns.features)
    assert by_name["age"] == {"name": "age", "kind": "numeric", "dtype": "float64", "missing_seen": True}
    assert by_name["sex"]["categories"] == ["female", "male"] and by_name["sex"]["missing_seen"] is False
    assert by_name["embarked"]["categories"] == ["C", "Q", "S"] and by_name["embarked"]["missing_seen"] is True
    deck = {c["name"]: c for c in input_contract(data, max_categories=3)}["deck"]
    assert deck["categories"] == ["A", "B", "C"] and deck["categories_truncated"] == 7


def test_decision_rule_for_regression_binary_and_multiclass(fitted):
    _, pipe = fitted
    assert decision_rule(pipe, "regression", []) == {"rule": "value"}
    binary = decision_rule(pipe, "binary", [0, 1])
    assert binary["rule"] == "argmax" and binary["threshold"] == 0.5
    assert binary["description"] == "the class with the highest probability (1 when its probability > 0.5)"
    multi = decision_rule(pipe, "multiclass", ["a", "b", "c"])
    assert multi == {"rule": "argmax", "threshold": None, "description": "the class with the highest probability"}


def test_decision_rule_of_a_fixed_threshold_classifier(fitted):
    from sklearn.model_selection import FixedThresholdClassifier

    data, pipe = fitted
    model = FixedThresholdClassifier(pipe, threshold=0.3).fit(data.X.iloc[:300], data.y.iloc[:300])
    rule = decision_rule(model, "binary", [0, 1])
    assert rule["rule"] == "threshold" and rule["threshold"] == 0.3 and rule["positive_class"] == 1
    assert rule["description"].startswith("predict 1 when its ") and rule["description"].endswith("score >= 0.3")


def test_load_verified_joblib_returns_the_same_model(fitted, tmp_path):
    data, pipe = fitted
    save_joblib(tmp_path, pipe, PLAN, data)
    model = load_verified_joblib(tmp_path, read_bundle(tmp_path))
    rows = data.X.iloc[300:350]
    pd.testing.assert_frame_equal(pd.DataFrame(model.predict_proba(rows)), pd.DataFrame(pipe.predict_proba(rows)))


def test_a_changed_missing_or_unlisted_artifact_is_refused(fitted, tmp_path):
    data, pipe = fitted
    save_joblib(tmp_path, pipe, PLAN, data)
    bundle = read_bundle(tmp_path)
    with pytest.raises(ModelLoadError, match=r"this run has no model.onnx \(its artifacts: model.joblib\)"):
        verified_path(tmp_path, bundle, "model.onnx")
    path = tmp_path / "model.joblib"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ModelLoadError, match="does not match the sha256 recorded in model.json"):
        load_verified_joblib(tmp_path, bundle)
    path.unlink()
    with pytest.raises(ModelLoadError, match="is missing although model.json lists it"):
        verified_path(tmp_path, bundle, "model.joblib")


def test_read_bundle_errors_name_the_problem(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        read_bundle(tmp_path / "nope")
    with pytest.raises(ModelLoadError, match="holds no model.json: not a complete mlengine run"):
        read_bundle(tmp_path)
    (tmp_path / BUNDLE_FILE).write_text("{broken", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="is not valid JSON .* the bundle is damaged"):
        read_bundle(tmp_path)


def test_package_versions_cover_the_stack_and_python():
    import platform

    import sklearn

    versions = package_versions()
    assert versions["scikit-learn"] == sklearn.__version__
    assert versions["python"] == platform.python_version()
    assert "no-such-package" not in versions and "pandas" in versions and versions["pandas"] == pd.__version__
