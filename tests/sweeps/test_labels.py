"""Sweep job labels: float rounding residue from Hydra's range() is tidied, anything the user typed is kept."""

from __future__ import annotations

from mlengine.sweeps.labels import tidy_override, tidy_value


def test_rounding_residue_is_tidied_and_a_float_stays_a_float():
    assert tidy_value("0.30000000000000004") == "0.3"
    assert tidy_value("0.9999999999999999") == "1.0"


def test_what_the_user_typed_is_kept():
    for text in ("0.3", "1.0", "abc", "10", "1e-3", "0.123456789"):
        assert tidy_value(text) == text


def test_override_keeps_its_key_and_prefix():
    assert tidy_override("++split.holdout=0.30000000000000004") == "++split.holdout=0.3"
    assert tidy_override("model=lightgbm") == "model=lightgbm"
    assert tidy_override("~cv") == "~cv"
