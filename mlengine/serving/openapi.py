"""`GET /openapi.json`: a static OpenAPI 3.1 document built once from the model's stored contract.

The row schema says what /predict accepts, column by column: JSON type from the input kind (and `data.schema`
dtype), `minimum`/`maximum` from ge/le, `enum` from isin, `pattern` from regex, null unless nullable is false.
Categories seen in training go in `x-categories-seen` rather than `enum`, because unseen ones are accepted (and
counted) rather than refused. Every column is required and unknown columns are refused, as the checks do.
"""

from __future__ import annotations

from typing import Any

ACCEPTED_BOOLEANS = [True, False, 0, 1, "true", "false", "yes", "no", "t", "f", "1", "0"]


def column_schema(spec: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of one input column's value."""
    kind = spec["kind"]
    out: dict[str, Any]
    if kind == "numeric":
        out = {"type": ["integer" if rules.get("dtype") == "int" else "number"],
               "description": "a number (numeric strings are read too)"}
        if "ge" in rules:
            out["minimum"] = rules["ge"]
        if "le" in rules:
            out["maximum"] = rules["le"]
    elif kind == "boolean":
        out = {"enum": list(ACCEPTED_BOOLEANS), "description": "true/false (also 0/1, yes/no, t/f)"}
    elif kind == "datetime":
        out = {"type": ["string"], "format": "date-time", "description": "a date or date-time (ISO 8601)"}
    else:
        out = {"type": ["string", "number", "boolean"], "description": "a category (compared as text)"}
        if "isin" in rules:
            out["enum"] = [str(v) for v in rules["isin"]]
        if "regex" in rules:
            out["pattern"] = rules["regex"]
        if spec.get("categories") is not None:
            out["x-categories-seen"] = spec["categories"]
            if spec.get("categories_truncated"):
                out["x-categories-seen-total"] = spec["categories_truncated"]
    if rules.get("nullable") is not False:
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "type" in out:
            out["type"] = [*out["type"], "null"]
    out["x-kind"] = kind
    out["x-training-dtype"] = spec.get("dtype")
    return out


def _error(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {"error": {"type": "string"}, "request_id": {"type": "string"}, **(extra or {})}
    return {"type": "object", "properties": props, "required": ["error", "request_id"]}


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def build_openapi(bundle: dict[str, Any], info: dict[str, Any], max_rows: int, max_bytes: int,
                  extra_columns: tuple[str, ...] = (), arms: list[str] | None = None) -> dict[str, Any]:
    """The OpenAPI document for a served bundle; `info` holds run_id, version and recipe (from /metadata)."""
    contract = (bundle.get("data_checks") or {}).get("contract") or {}
    columns = {c["name"]: column_schema(c, contract.get(c["name"], {})) for c in bundle["inputs"]}
    optional = [c for c in (bundle.get("id_column"), *extra_columns) if c]
    row_props = {**columns, **{c: {"description": "carried along, not a model input (id column or --route-key)"}
                               for c in optional}}
    row = {"type": "object", "properties": row_props, "required": list(columns), "additionalProperties": False}
    columnar = {"type": "object", "required": list(columns), "additionalProperties": False,
                "properties": {c: {"oneOf": [{"type": "array", "items": s, "minItems": 1, "maxItems": max_rows}, s]}
                               for c, s in row_props.items()},
                "description": "one array per column, all the same length (a scalar is one row)"}
    records = {"type": "array", "items": {"$ref": "#/components/schemas/Row"}, "minItems": 1, "maxItems": max_rows}
    classes = bundle.get("classes") or []
    if bundle["task"] == "regression":
        result = {"predictions": {"type": "array", "items": {"type": "number"}}}
    else:
        label_type = "integer" if classes and all(isinstance(c, int) for c in classes) else "string"
        result = {"labels": {"type": "array", "items": {"type": label_type, "enum": classes}},
                  "probabilities": {"type": "array", "items": {
                      "type": "object", "required": [str(c) for c in classes], "additionalProperties": False,
                      "properties": {str(c): {"type": "number", "minimum": 0, "maximum": 1} for c in classes}}}}
    answer = {"type": "object", "required": [*result, "run_id", "version", "arm", "request_id"], "properties": {
        **result, "run_id": {"type": "string"}, "version": {"type": "string"},
        "arm": {"type": "string", **({"enum": arms} if arms else {})}, "request_id": {"type": "string"},
        "warnings": {"type": "array", "items": {"type": "string"}, "description": "unseen categories per column"}}}
    problem = {"type": "object", "required": ["column", "row", "problem"], "properties": {
        "column": {"type": ["string", "null"]}, "row": {"type": ["integer", "null"], "minimum": 0},
        "problem": {"type": "string", "description": "the rule broken; the value itself is never echoed"}}}
    schemas = {
        "Row": row, "Records": records, "Columnar": columnar,
        "PredictRequest": {"oneOf": [{"$ref": "#/components/schemas/Records"},
                                     {"$ref": "#/components/schemas/Columnar"},
                                     {"type": "object", "required": ["rows"], "additionalProperties": False,
                                      "properties": {"rows": {"$ref": "#/components/schemas/Records"}}}]},
        "PredictResponse": answer, "Problem": problem, "Error": _error(),
        "ContractError": _error({"problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}),
    }
    err = "#/components/schemas/Error"
    text = {"description": "", "content": {"text/plain": {"schema": {"type": "string"}}}}
    predict = {
        "summary": f"predict {bundle.get('target') or 'the target'} for 1 to {max_rows} rows",
        "parameters": [{"name": h, "in": "header", "required": False, "schema": {"type": "string"},
                        "description": d} for h, d in (("X-Request-Id", "echoed back; generated when absent"),
                                                       ("X-Route-Key", "picks the A/B arm (stable hash)"))],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/PredictRequest"}}}},
        "responses": {
            "200": _json("#/components/schemas/PredictResponse", "predictions (header X-Model-Version)"),
            "400": _json(err, "malformed JSON"),
            "413": _json(err, f"body over --max-bytes ({max_bytes} bytes)"),
            "415": _json(err, "Content-Type is not application/json"),
            "422": _json("#/components/schemas/ContractError", "rows that do not fit the contract, by column and row"),
            "500": _json(err, "a model error; the request id is in the server's error log"),
        },
    }
    plain = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"mlengine model {info.get('recipe') or info['run_id']}", "version": str(info["version"]),
                 "description": f"run {info['run_id']}; task {bundle['task']}; model {bundle.get('model')}"},
        "paths": {
            "/predict": {"post": predict},
            "/health": {"get": {"summary": "liveness", "responses": {"200": {"description": "the process lives",
                                                                            "content": {"application/json": {
                                                                                "schema": plain}}}}}},
            "/ready": {"get": {"summary": "readiness: the model is loaded and verified",
                               "responses": {"200": {"description": "ready", "content": {"application/json": {
                                   "schema": plain}}}}}},
            "/metadata": {"get": {"summary": "input columns, contract, classes, decision rule, run id",
                                  "responses": {"200": {"description": "", "content": {"application/json": {
                                      "schema": plain}}}}}},
            "/metrics": {"get": {"summary": "Prometheus text format", "responses": {"200": text}}},
            "/openapi.json": {"get": {"summary": "this document", "responses": {"200": {
                "description": "", "content": {"application/json": {"schema": plain}}}}}},
        },
        "components": {"schemas": schemas},
    }
