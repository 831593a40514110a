"""Drift of new rows against a reference (mlengine/monitor/compare.py): PSI per column with a missing bin, unseen
levels, per-column thresholds, no verdict under min_rows, and the refusals of unusable new data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.data.table import Columns
from mlengine.errors import UserError
from mlengine.monitor.compare import (
    Thresholds,
    check_columns,
    compare_categorical,
    compare_frame,
    compare_numeric,
)
from mlengine.monitor.reference import build_reference, categorical_profile, numeric_profile

RNG = np.random.default_rng(7)
TRAIN = pd.DataFrame({"age": RNG.normal(40, 10, 2000), "fare": RNG.exponential(30, 2000),
                      "deck": RNG.choice(list("ABC"), 2000, p=[0.5, 0.3, 0.2])})
TRAIN.loc[:9, "deck"] = [f"rare{i}" for i in range(10)]  # ten levels seen once: pooled and hashed
REFERENCE = build_reference(TRAIN, Columns(numeric=["age", "fare"], categorical=["deck"]), task="regression",
                            classes=[], pos_label=None, oof_pred=TRAIN["fare"].to_numpy() * 2)


def _new(n: int = 1000, seed: int = 1) -> pd.DataFrame:
    return TRAIN.sample(n, random_state=seed, replace=True).reset_index(drop=True)


def test_the_same_distribution_is_ok_everywhere():
    result = compare_frame(REFERENCE, _new(), Thresholds())
    assert result["status"] == "ok" and result["enough_rows"] and result["reference_rows"] == 2000
    assert all(e["status"] == "ok" and e["psi"] < 0.1 for e in result["columns"].values())


def test_a_shifted_column_alerts_and_sorts_first():
    new = _new()
    new["fare"] = new["fare"] + 60
    result = compare_frame(REFERENCE, new, Thresholds())
    assert result["status"] == "alert" and list(result["columns"])[0] == "fare"
    fare = result["columns"]["fare"]
    assert fare["psi"] >= 0.25 and fare["p_value"] < 1e-6 and fare["out_of_range"] > 0
    assert {c: e["status"] for c, e in result["columns"].items()} == {"fare": "alert", "age": "ok", "deck": "ok"}


def test_a_missing_rate_jump_moves_psi_through_the_missing_bin():
    new = _new()
    new.loc[: len(new) // 2, "age"] = np.nan
    age = compare_frame(REFERENCE, new, Thresholds())["columns"]["age"]
    assert age["missing_ref"] == 0.0 and age["missing_new"] > 0.45
    assert age["status"] == "alert" and age["bins"][-1] == "missing" and age["new_counts"][-1] == 501


def test_unseen_levels_are_told_from_rare_seen_ones():
    prof = categorical_profile(TRAIN["deck"])
    seen_rare = compare_categorical(prof, pd.Series(["A"] * 90 + ["rare3"] * 10))
    assert seen_rare["unseen"] == 0.0 and seen_rare["unseen_levels"] == 0
    unseen = compare_categorical(prof, pd.Series(["A"] * 90 + ["Z"] * 10))
    assert unseen["unseen"] == pytest.approx(0.1) and unseen["unseen_levels"] == 1
    assert unseen["bins"] == ["A", "B", "C", "other", "missing"] and unseen["new_counts"] == [90, 0, 0, 10, 0]


def test_numeric_bins_are_labelled_by_their_edges():
    prof = numeric_profile(np.arange(100.0), bins=2)
    entry = compare_numeric(prof, np.arange(100.0))
    assert entry["bins"] == ["< 49.5", ">= 49.5", "missing"] and entry["psi"] == pytest.approx(0.0, abs=1e-9)


def test_column_thresholds_and_ignore_override_the_defaults():
    new = _new()
    new["fare"] = new["fare"] + 60
    new["age"] = new["age"] + 3
    loose = Thresholds.from_recipe({"psi_warn": 0.2, "psi_alert": 50.0,
                                    "columns": {"age": {"psi_warn": 0.01}, "fare": {"ignore": True}}})
    result = compare_frame(REFERENCE, new, loose)
    assert result["columns"]["fare"]["status"] == "ok" and result["columns"]["age"]["status"] == "warn"
    assert result["status"] == "warn" and result["thresholds"]["psi_alert"] == 50.0
    assert Thresholds.from_recipe(None) == Thresholds(columns={})


def test_under_min_rows_nothing_warns():
    new = _new(50)
    new["fare"] = new["fare"] + 60
    result = compare_frame(REFERENCE, new, Thresholds(min_rows=100))
    assert not result["enough_rows"] and result["status"] == "ok"
    assert result["columns"]["fare"]["psi"] >= 0.25  # measured, only not judged


def test_prediction_drift_is_compared_when_scores_are_given():
    new = _new()
    shifted = compare_frame(REFERENCE, new, Thresholds(), scores={"score": new["fare"].to_numpy() * 2 + 100})
    assert shifted["prediction"]["score"]["status"] == "alert" and shifted["status"] == "alert"
    assert compare_frame(REFERENCE, new, Thresholds())["prediction"] == {}


def test_new_data_without_a_column_or_with_text_in_a_numeric_one_is_refused():
    with pytest.raises(UserError, match=r"missing column\(s\) 'deck'.*profiles 3 features"):
        check_columns(REFERENCE, _new().drop(columns="deck"))
    bad = _new().astype({"age": object})
    bad.loc[3, "age"] = "forty"
    with pytest.raises(UserError, match=r"column\(s\) 'age' hold non-numeric values"):
        compare_frame(REFERENCE, bad, Thresholds())
    as_text = _new().astype({"age": str})  # numbers written as text are read as numbers
    assert compare_frame(REFERENCE, as_text, Thresholds())["columns"]["age"]["status"] == "ok"
