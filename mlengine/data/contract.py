"""The data contract: `data.schema` compiled to a pandera schema and checked on the raw table.

Checked once on load (before types are cast, so the rules speak about the values as they are in the file) and again
at predict on the model's input columns. Validation is lazy: every violation of every column is collected, counted
and shown with up to five example values per check. `data.on_violation` decides: `fail` (one error listing them
all), `warn`, or `drop_rows` (rows with any violation are removed before the split; at predict it warns instead,
because rows are never dropped silently from a prediction).

The contract travels with the model: `contract_spec(recipe)` is the plain-data form stored in `model.json`
(`data_checks.contract`), and `check_frame(df, spec)` rebuilds the same pandera schema from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import DataError, did_you_mean
from mlengine.stages import stage

log = logging.getLogger("mlengine")

RULES = ("dtype", "nullable", "ge", "le", "isin", "regex", "unique")
MAX_EXAMPLES = 5


@dataclass
class Violation:
    """One failed check of one column: how many rows fail and a few example values."""

    column: str
    rule: str
    allowed: Any
    count: int
    examples: list[str]

    def key(self) -> str:
        return f"data.schema.{self.column}.{self.rule}"

    def describe(self) -> str:
        what = {"nullable": "missing value(s)", "unique": "repeated value(s)"}.get(self.rule, "row(s) fail")
        shown = f"{self.key()}={_short(self.allowed)}: {self.count} {what}"
        return shown + (f", e.g. {', '.join(self.examples)}" if self.examples else "")

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "rule": self.rule, "allowed": self.allowed, "count": self.count,
                "examples": self.examples}


@dataclass
class ContractResult:
    """Every violation found in one table, with the positions of the rows that broke a rule."""

    rows: int
    columns: list[str]
    checks: int
    violations: list[Violation] = field(default_factory=list)
    bad_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        n = len(self.violations)
        return (f"{n} contract check(s) failed on {len(self.bad_rows)} of {self.rows} rows: "
                + "; ".join(v.describe() for v in self.violations) + ".")

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.columns, "checks": self.checks, "passed": self.ok,
                "rows_with_violations": int(len(self.bad_rows)),
                "violations": [v.to_dict() for v in self.violations]}


# --------------------------------------------------------------------------------------------- the spec ---
def contract_spec(data_section: Any) -> dict[str, dict[str, Any]]:
    """`data.schema` as plain data: column -> the rules it sets (defaults left out)."""
    out: dict[str, dict[str, Any]] = {}
    for name, col in data_section.schema_.items():
        rules = {k: v for k, v in col.model_dump(exclude={"description"}).items()
                 if k in RULES and v is not None and v is not False and not (k == "nullable" and v is True)}
        if col.nullable is False:  # the one rule whose value is False
            rules["nullable"] = False
        if rules:
            out[name] = rules
    return out


def count_checks(spec: dict[str, dict[str, Any]]) -> int:
    return sum(len(rules) for rules in spec.values())


# -------------------------------------------------------------------------------------- the checks ---
def _numeric(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    return pd.to_numeric(s, errors="coerce")


def _text(s: pd.Series) -> pd.Series:
    from mlengine.data.table import as_category

    return as_category(s).astype(str)


def _dtype_ok(s: pd.Series, dtype: str) -> pd.Series:
    from mlengine.data.table import _BOOL, to_datetime

    if dtype in ("float", "int"):
        v = _numeric(s)
        ok = v.notna()
        if dtype == "int":
            ok &= np.isclose(np.mod(v.fillna(0), 1), 0) | np.isclose(np.mod(v.fillna(0), 1), 1)
    elif dtype == "bool":
        if pd.api.types.is_bool_dtype(s):
            return pd.Series(True, index=s.index)
        ok = s.astype(str).str.strip().str.lower().isin(set(_BOOL))
    elif dtype == "datetime":
        ok = to_datetime(s).notna()
    else:
        return pd.Series(True, index=s.index)
    return ok | s.isna()


def _isin_ok(s: pd.Series, allowed: list[Any]) -> pd.Series:
    numbers = all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in allowed)
    if numbers and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        ok = s.isin(allowed)
    elif pd.api.types.is_bool_dtype(s) and all(isinstance(a, bool) for a in allowed):
        ok = s.isin(allowed)
    else:
        texts = {str(a) if not isinstance(a, float) or not float(a).is_integer() else str(int(a)) for a in allowed}
        ok = _text(s).isin(texts)
    return ok | s.isna()


def _rule_check(rule: str, value: Any) -> Any:
    """The vectorised test for one rule: a function Series -> boolean Series (True = passes)."""
    import re

    if rule == "dtype":
        return lambda s: _dtype_ok(s, value)
    if rule == "nullable":
        return lambda s: s.notna()
    if rule == "ge":
        return lambda s: ~(_numeric(s) < value)
    if rule == "le":
        return lambda s: ~(_numeric(s) > value)
    if rule == "isin":
        return lambda s: _isin_ok(s, list(value))
    if rule == "regex":
        rx = re.compile(value)
        return lambda s: s.isna() | _text(s.dropna()).map(lambda t: rx.fullmatch(t) is not None).reindex(
            s.index, fill_value=True).astype(bool)
    if rule == "unique":
        return lambda s: s.isna() | ~s.duplicated(keep="first")
    raise ValueError(rule)


def build_schema(spec: dict[str, dict[str, Any]]) -> Any:
    """A pandera DataFrameSchema with one named check per rule (names are the recipe keys)."""
    import pandera.pandas as pa

    columns = {}
    for name, rules in spec.items():
        checks = [pa.Check(_rule_check(rule, value), name=rule, ignore_na=False) for rule, value in rules.items()]
        columns[name] = pa.Column(checks=checks, nullable=True, required=False, coerce=False)
    return pa.DataFrameSchema(columns, strict=False)


_SCHEMAS: dict[str, Any] = {}


def _schema(spec: dict[str, dict[str, Any]]) -> Any:
    """build_schema, cached by content: predict checks every call and should not rebuild it each time."""
    import json

    key = json.dumps(spec, sort_keys=True, default=str)
    if key not in _SCHEMAS:
        if len(_SCHEMAS) > 64:
            _SCHEMAS.clear()
        _SCHEMAS[key] = build_schema(spec)
    return _SCHEMAS[key]


# -------------------------------------------------------------------------------------- validation ---
def check_frame(df: pd.DataFrame, spec: dict[str, dict[str, Any]], columns: list[str] | None = None
                ) -> ContractResult:
    """Validate `df` lazily against the contract (optionally only `columns`); never raises on violations."""
    import pandera.pandas as pa

    if columns is not None:
        spec = {c: r for c, r in spec.items() if c in columns}
    spec = {c: r for c, r in spec.items() if c in df.columns}
    result = ContractResult(rows=len(df), columns=list(spec), checks=count_checks(spec))
    if not spec or not len(df):
        return result
    frame = df[list(spec)].reset_index(drop=True)
    try:
        _schema(spec).validate(frame, lazy=True)
        return result
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    bad: set[int] = set()
    for (col, rule), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        idx = pd.to_numeric(group["index"], errors="coerce").dropna().astype(int)
        bad.update(idx.tolist())
        examples = []
        for v in group["failure_case"]:
            text = "missing" if _isna(v) else _short(v)
            if text not in examples:
                examples.append(text)
            if len(examples) == MAX_EXAMPLES:
                break
        if rule == "nullable":
            examples = []
        rule = str(rule).split("(")[0]
        result.violations.append(Violation(str(col), rule, spec[str(col)].get(rule), len(group), examples))
    _mask_personal(result, frame)
    order = {c: i for i, c in enumerate(spec)}
    result.violations.sort(key=lambda v: (order.get(v.column, 0), RULES.index(v.rule) if v.rule in RULES else 9))
    result.bad_rows = np.asarray(sorted(bad), dtype=int)
    return result


def _mask_personal(result: ContractResult, frame: pd.DataFrame) -> None:
    """Examples from columns that look like personal data are masked (the PII scan's rule holds here too)."""
    from mlengine.data.pii import mask, scan_column

    kinds: dict[str, str] = {}
    for v in result.violations:
        if v.column not in kinds:
            found = scan_column(v.column, frame[v.column], min_share=0.01)
            kinds[v.column] = found[0].kind if found else ""
        if kinds[v.column] and v.examples:
            v.examples = [e if e == "missing" else mask(e.strip("'"), kinds[v.column]) for e in v.examples]


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _short(v: Any, width: int = 40) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v) if abs(v) < 1e15 else v
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= width else text[: width - 3] + "..."


def check_columns_named(df: pd.DataFrame, spec_columns: list[str]) -> None:
    """A contract naming a column the table does not have is a user error (with did-you-mean)."""
    missing = [c for c in spec_columns if c not in df.columns]
    if missing:
        cols = list(map(str, df.columns))
        parts = [f"data.schema.{c}: column {c!r} is not in the data.{did_you_mean(c, cols)}" for c in missing]
        raise DataError("; ".join(parts) + f" The table has columns: {', '.join(cols)}.")


def enforce(df: pd.DataFrame, spec: dict[str, dict[str, Any]], on_violation: str, where: str = "data",
            columns: list[str] | None = None) -> tuple[pd.DataFrame, ContractResult]:
    """Check `df` and act on violations: raise (fail), log (warn) or remove the rows (drop_rows)."""
    result = check_frame(df, spec, columns)
    if result.ok:
        return df, result
    if on_violation == "fail":
        raise DataError(f"{where}: {result.summary()} Fix the data, relax data.schema, or set "
                        "data.on_violation: warn or drop_rows.")
    if on_violation == "drop_rows" and where == "data":
        keep = np.setdiff1d(np.arange(len(df)), result.bad_rows)
        if not len(keep):
            raise DataError(f"data.on_violation: drop_rows would drop every row ({len(df)}): {result.summary()}")
        log.warning("contract: dropping %d of %d rows (data.on_violation: drop_rows): %s", len(result.bad_rows),
                    len(df), result.summary())
        return df.iloc[keep].reset_index(drop=True), result
    log.warning("contract (%s): %s", where, result.summary())
    if where != "data":  # library callers of predict see it too
        import warnings

        warnings.warn(f"{where}: {result.summary()}", UserWarning, stacklevel=3)
    return df, result


# ----------------------------------------------------------------------------------------- the stage ---
def apply_contract(raw: pd.DataFrame, data_section: Any) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Check the raw table against `data.schema`: (table, possibly with rows dropped; record; spec)."""
    spec = contract_spec(data_section)
    check_columns_named(raw, list(data_section.schema_))
    if not spec:
        return raw, {"checks": 0, "passed": True, "violations": [], "rows": int(len(raw))}, spec
    n_before = len(raw)
    raw, result = enforce(raw, spec, data_section.on_violation)
    record = result.to_dict()
    record["on_violation"] = data_section.on_violation
    record["rows_dropped"] = int(n_before - len(raw))
    log.info("contract: %d checks on %d columns, %s", result.checks, len(result.columns),
             "all passed" if result.ok else f"{len(result.violations)} failed")
    return raw, record, spec


@stage(reads=("raw",), writes=("raw",))
def stage_contract(ctx: Any) -> None:
    """Check the raw table before types are cast; record the result (report) and the contract (model bundle)."""
    data = ctx.recipe.data
    ctx.raw, ctx.report["contract"], spec = apply_contract(ctx.raw, data)
    ctx.data_checks["contract"] = spec
    ctx.data_checks["on_violation"] = data.on_violation
