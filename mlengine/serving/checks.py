"""Request checks against the model's stored contract, in plain Python (no pandas on the request path).

A request body (records `[{col: v}]` or columnar `{col: [...]}`) becomes typed columns for the ONNX feed; every
problem is listed by column, row index and rule, never with the value itself (no personal data in responses).
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from mlengine.export.onnx_runtime import _BOOL, MISSING_CATEGORY, _category

MAX_PROBLEMS = 100


def pii_digest(text: str) -> str:
    """`mlengine.data.pii.hash_value` of a category's text (data.pii.action: hash), without importing pandas;
    tests pin the two equal."""
    return hashlib.blake2b(text.strip().encode("utf-8"), digest_size=8, person=b"mlengine-pii").hexdigest()


class RequestProblems(Exception):
    """The request does not fit the contract: a list of {column, row, problem} dicts (status 422)."""

    def __init__(self, problems: list[dict[str, Any]]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems[:MAX_PROBLEMS]


def to_columns(body: Any, max_rows: int) -> tuple[dict[str, list[Any]], int]:
    """Records or columnar JSON -> (column -> values, row count)."""
    if isinstance(body, dict) and "rows" in body and len(body) == 1:
        body = body["rows"]
    if isinstance(body, dict):
        if not body:
            raise RequestProblems([{"column": None, "row": None, "problem": "the body has no columns"}])
        cols = {k: (v if isinstance(v, list) else [v]) for k, v in body.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            raise RequestProblems([{"column": None, "row": None,
                                    "problem": f"columns have different lengths ({sorted(lengths)})"}])
        n = lengths.pop()
    elif isinstance(body, list):
        if not all(isinstance(r, dict) for r in body):
            raise RequestProblems([{"column": None, "row": None, "problem": "records must be JSON objects"}])
        n = len(body)
        names = list(dict.fromkeys(k for r in body for k in r))
        cols = {k: [r.get(k) for r in body] for k in names}
    else:
        raise RequestProblems([{"column": None, "row": None,
                                "problem": "the body must be a list of records or an object of columns"}])
    if n == 0:
        raise RequestProblems([{"column": None, "row": None, "problem": "no rows"}])
    if n > max_rows:
        raise RequestProblems([{"column": None, "row": None, "problem": f"{n} rows is over --max-rows {max_rows}"}])
    return cols, n


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _as_number(v: Any) -> float | None:
    """A float, NaN for missing, None when the value cannot be read as a number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        try:
            return float(v)
        except OverflowError:  # a JSON integer beyond float64 (e.g. 10**400)
            return None
    if v is None:
        return math.nan
    if isinstance(v, str):
        try:
            return float(v) if v.strip() else math.nan
        except ValueError:
            return None
    return None


def _as_bool(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if _missing(v):
        return math.nan
    return _BOOL.get(str(v).strip().lower())


class RequestChecker:
    """Checks and types request columns with the bundle's `inputs` and `data_checks.contract`."""

    def __init__(self, bundle: dict[str, Any], extra_columns: tuple[str, ...] = ()):
        self.extra = set(extra_columns)  # allowed but not model inputs (the A/B route key)
        self.inputs = {c["name"]: c for c in bundle["inputs"]}
        self.contract = (bundle.get("data_checks") or {}).get("contract") or {}
        self.pii = set((bundle.get("data_checks") or {}).get("pii_hashed") or [])  # hashed as at training
        self.id_column = bundle.get("id_column")
        self.regex = {c: re.compile(r["regex"]) for c, r in self.contract.items() if "regex" in r}
        self.levels = {c: set(i.get("categories") or []) for c, i in self.inputs.items()
                       if i["kind"] == "categorical" and not i.get("categories_truncated")}

    def check(self, cols: dict[str, list[Any]], n: int) -> tuple[dict[str, list[Any]], dict[str, int]]:
        """(typed columns, unseen category counts per column); raises RequestProblems listing every problem."""
        problems: list[dict[str, Any]] = []
        for c in self.inputs:
            if c not in cols:
                problems.append({"column": c, "row": None, "problem": "missing column"})
        for c in cols:
            if c not in self.inputs and c != self.id_column and c not in self.extra:
                problems.append({"column": c, "row": None, "problem": "unknown column"})
        typed: dict[str, list[Any]] = {}
        unseen: dict[str, int] = {}
        for c, spec in self.inputs.items():
            if c not in cols:
                continue
            rules = self.contract.get(c, {})
            out = typed[c] = []
            for i, v in enumerate(cols[c]):
                if rules.get("nullable") is False and _missing(v):
                    problems.append({"column": c, "row": i, "problem": "missing value not allowed"})
                kind = spec["kind"]
                if kind == "numeric":
                    x = _as_number(v)
                    if x is None:
                        problems.append({"column": c, "row": i, "problem": "not a number (or beyond float64)"})
                        out.append(math.nan)
                        continue
                    self._range(c, i, x, rules, problems)
                    out.append(x)
                elif kind == "boolean":
                    b = _as_bool(v)
                    if b is None:
                        problems.append({"column": c, "row": i, "problem": "not a boolean"})
                        b = math.nan
                    out.append(b)
                elif kind == "categorical":
                    s = _category(v)
                    if "isin" in rules and s != MISSING_CATEGORY and s not in {_category(a) for a in rules["isin"]}:
                        problems.append({"column": c, "row": i, "problem": "value not in data.schema isin list"})
                    if c in self.regex and s != MISSING_CATEGORY and not self.regex[c].fullmatch(s):
                        problems.append({"column": c, "row": i, "problem": "value does not match data.schema regex"})
                    if c in self.pii and s != MISSING_CATEGORY:  # the contract sees the raw value, the model the digest
                        s = pii_digest(s)
                    if c in self.levels and s != MISSING_CATEGORY and s not in self.levels[c]:
                        unseen[c] = unseen.get(c, 0) + 1
                    out.append(s)
                else:  # datetime: parsed by the model's feed (pandas, the training rules)
                    out.append(v)
        if problems:
            raise RequestProblems(problems)
        return typed, unseen

    @staticmethod
    def _range(c: str, i: int, x: float, rules: dict[str, Any], problems: list[dict[str, Any]]) -> None:
        if math.isnan(x):
            return
        if rules.get("dtype") == "int" and not float(x).is_integer():
            problems.append({"column": c, "row": i, "problem": "not an integer"})
        if "ge" in rules and x < rules["ge"]:
            problems.append({"column": c, "row": i, "problem": f"below the minimum {rules['ge']}"})
        if "le" in rules and x > rules["le"]:
            problems.append({"column": c, "row": i, "problem": f"above the maximum {rules['le']}"})
