"""The reference profile (mlengine/monitor/reference.py): quantile bins and a CDF sketch per numeric column,
level counts with rare levels pooled and hashed per categorical one, the out-of-fold scores; no raw rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from mlengine.data.table import Columns
from mlengine.monitor.reference import (
    MAX_LEVELS,
    build_reference,
    categorical_profile,
    level_hash,
    numeric_profile,
    prediction_profile,
)


def test_numeric_bins_are_training_quantiles_with_open_outer_bins():
    x = np.arange(1000, dtype=float)
    prof = numeric_profile(np.append(x, [np.nan, np.nan]), bins=4)
    assert prof["rows"] == 1002 and prof["missing"] == 2
    assert prof["edges"] == [249.75, 499.5, 749.25]  # three inner edges make four bins
    assert prof["counts"] == [250, 250, 250, 250] and sum(prof["counts"]) == 1000
    assert (prof["min"], prof["max"]) == (0.0, 999.0)
    assert len(prof["sketch"]) == 51 and prof["sketch_cdf"][-1] == 1.0
    assert all(a <= b for a, b in zip(prof["sketch_cdf"], prof["sketch_cdf"][1:], strict=False))


def test_a_constant_or_empty_column_still_gives_a_profile():
    const = numeric_profile([3.0] * 20)
    assert const["edges"] == [3.0] and const["counts"] == [0, 20] and const["sketch"] == [3.0]
    empty = numeric_profile([None, None])
    assert empty == {"kind": "numeric", "rows": 2, "missing": 2, "edges": [], "counts": [0], "min": None,
                     "max": None, "sketch": [], "sketch_cdf": []}
    assert numeric_profile(["1", "x", "3"])["missing"] == 1  # unreadable text counts as missing


def test_rare_levels_are_pooled_and_kept_only_as_hashes():
    values = ["a"] * 600 + ["b"] * 395 + ["rare1"] * 3 + ["rare2"] * 2 + [None] * 5
    prof = categorical_profile(values)
    assert prof["levels"] == {"a": 600, "b": 395} and prof["other"] == 5 and prof["missing"] == 5
    assert prof["rare_hashes"] == sorted([level_hash("rare1"), level_hash("rare2")])
    assert "rare1" not in json.dumps(prof)  # the text of a rare level is not stored
    assert prof["rare_truncated"] is False and len(level_hash("x")) == 16


def test_level_order_is_by_count_then_name_and_capped():
    assert list(categorical_profile(["b", "a", "b", "a", "c"] * 10)["levels"]) == ["a", "b", "c"]
    many = categorical_profile([f"l{i:03d}" for i in range(80)] * 2)
    assert len(many["levels"]) == MAX_LEVELS and many["other"] == 2 * (80 - MAX_LEVELS)


def test_the_reference_profiles_features_by_kind_and_the_out_of_fold_scores():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.normal(40, 10, 200), "deck": rng.choice(list("ABC"), 200),
                      "alone": rng.choice([0.0, 1.0], 200), "when": pd.date_range("2024-01-01", periods=200)})
    cols = Columns(numeric=["age"], categorical=["deck"], boolean=["alone"], datetime=["when"])
    proba = np.column_stack([1 - (p := rng.uniform(size=200)), p])
    pred = np.where(p > 0.5, "yes", "no")
    validated = np.arange(200) < 150  # rows never in a validation fold are not profiled
    ref = build_reference(X, cols, task="binary", classes=["no", "yes"], pos_label="yes", oof_pred=pred,
                          oof_proba=proba, validated=validated, bins=5)
    assert ref["rows"] == 200 and ref["bins"] == 5 and ref["task"] == "binary"
    assert set(ref["features"]) == {"age", "deck", "alone"}
    assert ref["features"]["alone"]["type"] == "boolean" and ref["features"]["deck"]["kind"] == "categorical"
    assert ref["skipped"] == {"when": "datetime columns are not profiled"}
    assert ref["prediction"]["score_of"] == "P(yes)" and ref["prediction"]["score"]["rows"] == 150
    assert sum(ref["prediction"]["classes"]["levels"].values()) == 150
    assert build_reference(X, cols, task="binary", classes=["no", "yes"], pos_label="yes")["prediction"] is None
    assert json.loads(json.dumps(ref)) == ref  # plain JSON


def test_regression_profiles_the_predicted_value_and_no_classes():
    prof = prediction_profile(np.linspace(0, 1, 50), None, "regression", [], None, bins=4)
    assert prof["score_of"] == "predicted value" and "classes" not in prof and prof["score"]["max"] == 1.0
    multi = prediction_profile(np.array(["a", "b", "c"] * 10), None, "multiclass", ["a", "b", "c"], None)
    assert set(multi) == {"classes"} and multi["classes"]["levels"] == {"a": 10, "b": 10, "c": 10}
