"""Request checks (mlengine/serving/checks.py) against a hand-written bundle contract: both body shapes, every
problem listed by column, row and rule (never the value), typed columns, hashed PII and unseen levels."""

from __future__ import annotations

import math

import pytest

from mlengine.serving.checks import MAX_PROBLEMS, RequestChecker, RequestProblems, pii_digest, to_columns

BUNDLE = {
    "inputs": [{"name": "age", "kind": "numeric"}, {"name": "alone", "kind": "boolean"},
               {"name": "deck", "kind": "categorical", "categories": ["A", "B"]},
               {"name": "email", "kind": "categorical", "categories": [pii_digest("a@x.org")]},
               {"name": "when", "kind": "datetime"}],
    "data_checks": {"contract": {"age": {"ge": 0, "le": 100, "dtype": "int", "nullable": False},
                                 "deck": {"isin": ["A", "B", "C"], "regex": "[A-Z]"}},
                    "pii_hashed": ["email"]},
    "id_column": "id",
}


def _problems(body, checker=None):
    cols, n = to_columns(body, max_rows=10)
    with pytest.raises(RequestProblems) as info:
        (checker or RequestChecker(BUNDLE)).check(cols, n)
    return [(p["column"], p["row"], p["problem"]) for p in info.value.problems]


def test_records_and_columns_give_the_same_columns():
    records = [{"age": 1, "deck": "A"}, {"age": 2}]
    assert to_columns(records, 10) == ({"age": [1, 2], "deck": ["A", None]}, 2)
    assert to_columns({"age": [1, 2], "deck": ["A", None]}, 10) == ({"age": [1, 2], "deck": ["A", None]}, 2)
    assert to_columns({"rows": records}, 10)[1] == 2
    assert to_columns({"age": 3}, 10) == ({"age": [3]}, 1)  # one row as scalars


@pytest.mark.parametrize(("body", "problem"), [
    ({}, "the body has no columns"), ({"a": [1], "b": [1, 2]}, "columns have different lengths ([1, 2])"),
    ([1, 2], "records must be JSON objects"), ("text", "the body must be a list of records"), ([], "no rows"),
    ([{"a": 1}] * 11, "11 rows is over --max-rows 10"),
])
def test_malformed_bodies(body, problem):
    with pytest.raises(RequestProblems) as info:
        to_columns(body, max_rows=10)
    assert info.value.problems[0]["problem"].startswith(problem)


def test_a_valid_request_is_typed_for_the_model():
    cols, n = to_columns([{"id": 7, "age": "30", "alone": "yes", "deck": "C", "email": " a@x.org ", "when": "2024"},
                          {"id": 8, "age": 4.0, "alone": False, "deck": None, "email": "b@y.org", "when": None}], 10)
    typed, unseen = RequestChecker(BUNDLE).check(cols, n)
    assert typed["age"] == [30.0, 4.0] and typed["alone"] == [1.0, 0.0]
    assert typed["deck"] == ["C", ""] and typed["when"] == ["2024", None]
    assert typed["email"] == [pii_digest("a@x.org"), pii_digest("b@y.org")]  # the model sees the digest only
    assert unseen == {"deck": 1, "email": 1}  # C was allowed by the contract but never seen in training


def test_every_problem_is_listed_by_column_row_and_rule_without_the_value():
    body = [{"age": 101, "alone": "maybe", "deck": "Z", "email": "x", "oops": 1},
            {"age": None, "alone": True, "deck": "c", "email": "x"},
            {"age": 2.5, "alone": True, "deck": "A"}]  # a record without a key is a missing value, not column
    got = _problems(body)
    assert ("when", None, "missing column") in got and ("oops", None, "unknown column") in got
    assert not any(c == "email" for c, _, _ in got)
    assert ("age", 0, "above the maximum 100") in got and ("age", 1, "missing value not allowed") in got
    assert ("age", 2, "not an integer") in got and ("alone", 0, "not a boolean") in got
    assert ("deck", 0, "value not in data.schema isin list") in got
    assert ("deck", 1, "value does not match data.schema regex") in got
    assert not any("maybe" in p or "101" in p for _, _, p in got)


def test_numbers_that_are_not_float64_and_booleans_are_not_numbers():
    got = _problems({"age": [10**400, True, "abc"], "alone": [1, 1, 1], "deck": ["A"] * 3, "email": ["x"] * 3,
                     "when": [None] * 3})
    assert got == [("age", r, "not a number (or beyond float64)") for r in range(3)]


def test_the_problem_list_is_capped():
    body = {"age": [-1] * 10, "alone": [1] * 10, "deck": ["A"] * 10, "email": ["x"] * 10, "when": [None] * 10}
    cols, n = to_columns(body, max_rows=10)
    with pytest.raises(RequestProblems) as info:
        RequestChecker({**BUNDLE, "data_checks": {"contract": {"age": {"ge": 0}}}}).check(cols, n)
    assert len(info.value.problems) == 10 and str(info.value) == "10 problem(s)"
    assert len(RequestProblems([{}] * (MAX_PROBLEMS + 5)).problems) == MAX_PROBLEMS
    assert math.isnan(RequestChecker(BUNDLE).check(*to_columns(
        {"age": [1], "alone": [None], "deck": ["A"], "email": ["x"], "when": [None]}, 1))[0]["alone"][0])


def test_extra_columns_such_as_the_route_key_are_allowed():
    body = {"age": [1], "alone": [1], "deck": ["A"], "email": ["x"], "when": [None], "variant": ["b"]}
    assert "variant" not in RequestChecker(BUNDLE, extra_columns=("variant",)).check(*to_columns(body, 1))[0]
    assert ("variant", None, "unknown column") in _problems(body)
