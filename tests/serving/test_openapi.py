"""The served model's OpenAPI document (mlengine/serving/openapi.py), checked by validating requests and answers
against it with jsonschema: it accepts what /predict accepts and refuses what the request checks refuse."""

from __future__ import annotations

import jsonschema
import pytest

from mlengine.serving.openapi import build_openapi, column_schema

BUNDLE = {
    "task": "binary", "classes": [0, 1], "target": "survived", "model": "lightgbm", "id_column": "id",
    "inputs": [{"name": "age", "kind": "numeric", "dtype": "float64"},
               {"name": "alone", "kind": "boolean", "dtype": "bool"},
               {"name": "deck", "kind": "categorical", "dtype": "object", "categories": ["A", "B"]},
               {"name": "pclass", "kind": "numeric", "dtype": "int64"}],
    "data_checks": {"contract": {"age": {"ge": 0, "le": 100}, "pclass": {"dtype": "int", "isin": [1, 2, 3],
                                                                         "nullable": False},
                                 "deck": {"regex": "[A-G]"}}},
}
DOC = build_openapi(BUNDLE, {"run_id": "r1", "version": "3", "recipe": "titanic"}, max_rows=2, max_bytes=1000,
                    extra_columns=("variant",), arms=["a", "b"])


def _valid(name: str, value) -> bool:
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        return False
    return True


ROW = {"age": 22, "alone": "yes", "deck": "C", "pclass": 3}


def test_the_three_request_shapes_validate():
    assert _valid("PredictRequest", [ROW, {**ROW, "age": None, "id": 7, "variant": "b"}])
    assert _valid("PredictRequest", {"age": [22, 30], "alone": [True, 0], "deck": ["A", None], "pclass": [1, 2]})
    assert _valid("PredictRequest", {"age": 22, "alone": True, "deck": "A", "pclass": 1})  # scalars: one row
    assert _valid("PredictRequest", {"rows": [ROW]})


@pytest.mark.parametrize("row", [
    {k: v for k, v in ROW.items() if k != "deck"},  # every column is required
    {**ROW, "extra": 1},  # unknown columns are refused
    {**ROW, "age": 101}, {**ROW, "age": -1},  # ge / le
    {**ROW, "pclass": 2.5}, {**ROW, "pclass": None},  # dtype int, nullable false
    {**ROW, "alone": "maybe"}, {**ROW, "deck": "z"},  # boolean spellings, regex
])
def test_rows_the_checks_refuse_do_not_validate(row):
    assert not _valid("Row", row)


def test_more_rows_than_max_rows_do_not_validate():
    assert not _valid("PredictRequest", [ROW] * 3) and not _valid("PredictRequest", [])


def test_the_answer_schema_follows_the_task_and_the_classes():
    answer = {"labels": [1], "probabilities": [{"0": 0.3, "1": 0.7}], "run_id": "r1", "version": "3", "arm": "a",
              "request_id": "x"}
    assert _valid("PredictResponse", answer)
    assert not _valid("PredictResponse", {**answer, "labels": [2]}) and not _valid("PredictResponse",
                                                                                   {**answer, "arm": "c"})
    reg = build_openapi({**BUNDLE, "task": "regression", "classes": []}, {"run_id": "r1", "version": 1}, 5, 10)
    assert reg["components"]["schemas"]["PredictResponse"]["required"][0] == "predictions"
    assert reg["info"]["title"] == "mlengine model r1" and DOC["info"]["title"] == "mlengine model titanic"


def test_seen_categories_are_documented_not_enforced():
    schema = column_schema({"name": "deck", "kind": "categorical", "categories": ["A"], "categories_truncated": 90},
                           {})
    assert schema["x-categories-seen"] == ["A"] and schema["x-categories-seen-total"] == 90 and "enum" not in schema
    assert schema["type"][-1] == "null"
    assert DOC["paths"]["/predict"]["post"]["responses"]["413"]["description"] == "body over --max-bytes (1000 bytes)"
    assert DOC["openapi"] == "3.1.0" and set(DOC["paths"]) == {"/predict", "/health", "/ready", "/metadata",
                                                               "/metrics", "/openapi.json"}
