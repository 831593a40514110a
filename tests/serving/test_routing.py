"""A/B routing: --split parsing and its refusals, the shadow's share redistributed, a stable arm per key."""

from __future__ import annotations

import pytest

from mlengine.errors import UserError
from mlengine.serving.routing import live_split, parse_split, pick_arm


def test_split_is_normalised_and_bad_splits_name_the_fault():
    assert parse_split("a=90,b=10", ["a", "b"]) == {"a": 0.9, "b": 0.1}
    assert parse_split(None, ["a", "b"]) == {"a": 1.0}
    with pytest.raises(UserError, match="'a' is not NAME=WEIGHT"):
        parse_split("a", ["a", "b"])
    with pytest.raises(UserError, match=r"--model names \(a, b\)"):
        parse_split("a=1,c=1", ["a", "b"])


def test_the_shadow_never_answers_and_its_share_goes_to_the_others():
    assert live_split({"a": 0.45, "b": 0.45, "s": 0.1}, ["a", "b", "s"], shadow="s") == {"a": 0.5, "b": 0.5}
    with pytest.raises(UserError, match="only --model"):
        live_split({"s": 1.0}, ["s"], shadow="s")


def test_one_key_always_gets_the_same_arm_and_the_split_is_respected():
    split = {"a": 0.8, "b": 0.2}
    assert len({pick_arm(split, "user-7") for _ in range(20)}) == 1
    share_b = sum(pick_arm(split, f"user-{i}") == "b" for i in range(4000)) / 4000
    assert 0.17 < share_b < 0.23
