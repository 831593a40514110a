"""From a raw table to model inputs: column roles, type inference, the target and the data-dependent checks.

Type inference is per column and looks at types, never at the target: numeric, boolean, datetime (ISO-like
strings included) and categorical (pandas 3 `str` dtype included). `data.schema` can force any column's type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import DataError, did_you_mean

_DATE_RE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?|\d{1,2}/\d{1,2}/\d{4}"
                      r"( \d{1,2}:\d{2}(:\d{2})?)?)\s*(Z|[+-]\d{2}:?\d{2})?$")


@dataclass
class Columns:
    """Feature columns by type, plus the role columns that are not features."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    boolean: list[str] = field(default_factory=list)
    datetime: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.boolean, *self.datetime, *self.categorical]

    def kind_of(self, col: str) -> str:
        for kind in ("numeric", "categorical", "boolean", "datetime"):
            if col in getattr(self, kind):
                return kind
        raise KeyError(col)

    def as_dict(self) -> dict[str, list[str]]:
        return {"numeric": self.numeric, "categorical": self.categorical, "boolean": self.boolean,
                "datetime": self.datetime}


@dataclass
class PreparedData:
    """Features, target and role columns, aligned row by row."""

    X: pd.DataFrame
    y: pd.Series
    columns: Columns
    task: str
    classes: list[Any]  # sorted class labels (empty for regression)
    pos_label: Any  # binary only
    ids: pd.Series | None
    groups: pd.Series | None
    times: pd.Series | None
    notes: list[str]
    y_raw: pd.Series | None = None  # the numeric target before binning (target.binning), else None
    raw: pd.DataFrame | None = None  # raw columns as read, kept only for rule baselines and slices
    warnings: list[str] = field(default_factory=list)  # what the user should look at (logged as warnings)


def check_columns_exist(df: pd.DataFrame, data: Any) -> None:
    """Every column the recipe names must exist; one error lists them all."""
    cols = list(df.columns)
    named = [("data.target", data.target), ("data.id", data.id), ("data.group", data.group),
             ("data.time", data.time)]
    named += [(f"data.drop[{i}]", c) for i, c in enumerate(data.drop)]
    named += [(f"data.schema.{c}", c) for c in data.schema_]
    missing = [(key, c) for key, c in named if c is not None and c not in df.columns]
    if missing:
        parts = [f"{key}: column {c!r} is not in the data.{did_you_mean(c, cols)}" for key, c in missing]
        raise DataError("; ".join(parts) + f" The table has columns: {', '.join(cols)}.")


def _target_copies(X: pd.DataFrame, y: pd.Series, cols: Any) -> list[str]:
    """Categorical/boolean features whose every value goes with a single class (on rows where both are known):
    the classic leak of a quick start (titanic's `alive` is `survived` spelt out)."""
    out = []
    for c in [*cols.categorical, *cols.boolean]:
        known = X[c].notna() & y.notna()
        if known.sum() < 20 or X.loc[known, c].nunique() < 2:
            continue
        classes_per_value = y[known].groupby(X.loc[known, c].astype(str)).nunique()
        if (classes_per_value == 1).all() and y[known].nunique() > 1:
            out.append(c)
    return out


def _refuse_stray_text(s: pd.Series, column: str) -> None:
    """A column that is numbers but for a few text values ('?', 'n/a') would silently become a categorical with
    one level per number: refuse it, show the stray values, and say how to declare what it is."""
    values = s.dropna()
    if len(values) < 20:
        return
    numbers = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
    share = float(numbers.notna().mean())
    if 0.9 <= share < 1.0:
        stray = values[numbers.isna()].astype(str).value_counts()
        shown = ", ".join(f"{v!r} ({n}x)" for v, n in stray.head(3).items())
        raise DataError(f"column {column!r} is numeric in {share:.1%} of its rows but holds {int(stray.sum())} text "
                        f"value(s): {shown}. Declare it in data.schema: `{column}: {{dtype: float}}` reads it as "
                        "numbers (unreadable values become contract violations, see data.on_violation), "
                        f"`{column}: {{dtype: str}}` keeps it categorical; or list the markers in "
                        "data.source.na_values.")


def infer_kind(s: pd.Series) -> str:
    """numeric | boolean | datetime | categorical for one column."""
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s):
        return "numeric"
    non_null = s.dropna()
    if len(non_null) and (pd.api.types.is_string_dtype(s) or s.dtype == object):
        sample = non_null.astype(str).iloc[:: max(1, len(non_null) // 200)][:200]
        if sample.str.match(_DATE_RE).mean() >= 0.95:
            return "datetime"
        lowered = set(sample.str.lower().unique())
        if lowered <= {"true", "false"}:
            return "boolean"
    return "categorical"


_FORCED = {"float": "numeric", "int": "numeric", "bool": "boolean", "category": "categorical", "str": "categorical",
           "datetime": "datetime"}


def to_datetime(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    out = pd.to_datetime(s, errors="coerce", format="mixed")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def coerce_column(s: pd.Series, kind: str, name: str) -> pd.Series:
    """Cast one column to its kind; values that cannot be read are refused with examples."""
    if kind == "numeric":
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            return s.astype("float64")
        out = pd.to_numeric(s, errors="coerce")
    elif kind == "boolean":
        if pd.api.types.is_bool_dtype(s):
            return s.astype("float64")
        mapped = s.map(lambda v: _BOOL.get(str(v).strip().lower()) if pd.notna(v) else np.nan)
        out = pd.to_numeric(mapped, errors="coerce")
    elif kind == "datetime":
        out = to_datetime(s)
    else:
        return as_category(s)
    bad = s.notna() & out.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in s[bad].astype(str).unique()[:5])
        raise DataError(f"column {name!r} should be {kind} but {int(bad.sum())} value(s) cannot be read as such "
                        f"(e.g. {examples}). Fix the data or set data.schema.{name}.dtype.")
    return out.astype("float64") if kind != "datetime" else out


def as_category(s: pd.Series) -> pd.Series:
    """Categories as strings (pandas `str` dtype, missing kept missing); integral numbers print without '.0'."""
    if pd.api.types.is_string_dtype(s) and not s.dtype == object:
        return s
    missing = s.isna()
    if pd.api.types.is_float_dtype(s) and bool(np.all(np.mod(s[~missing], 1) == 0)):
        s = s.astype("Int64")
    out = s.astype(str)
    return out.where(~missing, None) if missing.any() else out


_BOOL = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "yes": 1.0, "no": 0.0, "t": 1.0, "f": 0.0, "1.0": 1.0,
         "0.0": 0.0}


def infer_task(y: pd.Series) -> tuple[str, str]:
    """Task and the reason, from the target's values."""
    n = y.nunique()
    if pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        return ("binary" if n == 2 else "multiclass"), f"target has {n} distinct non-numeric values"
    values = y.to_numpy(dtype=float)
    integral = bool(np.all(np.mod(values, 1) == 0))
    if n == 2:
        return "binary", "target has 2 distinct values"
    if integral and n <= 20 and n <= max(3, len(y) // 20):
        return "multiclass", f"target has {n} distinct integer values (set task: regression to treat it as numbers)"
    return "regression", f"target is numeric with {n} distinct values"


def choose_pos_label(y: pd.Series, requested: Any) -> tuple[Any, str]:
    classes = sorted((c.item() if isinstance(c, np.generic) else c for c in y.unique()), key=str)  # plain values
    if requested is not None:
        for c in classes:
            if c == requested or str(c) == str(requested):
                return c, f"positive class {c!r} (from data.positive_class)"
        raise DataError(f"data.positive_class: {requested!r} is not among the target's values."
                        f"{did_you_mean(requested, [str(c) for c in classes])} Values: "
                        f"{', '.join(repr(c) for c in classes)}.")
    for c in classes:
        if c is True or str(c).lower() in ("1", "1.0", "true", "yes", "positive", "pos"):
            return c, f"positive class {c!r} (conventional name; set data.positive_class to change)"
    counts = y.value_counts()
    c = counts.index[-1]
    c = c.item() if isinstance(c, np.generic) else c
    return c, f"positive class {c!r} (the minority class; set data.positive_class to change)"


def prepare_table(df: pd.DataFrame, recipe: Any) -> PreparedData:
    """Apply column roles, types and target handling; run the data-dependent checks."""
    data = recipe.data
    notes: list[str] = []
    check_columns_exist(df, data)
    target = df[data.target]
    missing = target.isna()
    if missing.all():
        raise DataError(f"data.target: column {data.target!r} has no values at all.")
    if missing.any():
        if data.missing_target == "fail":
            raise DataError(f"data.target: {int(missing.sum())} of {len(df)} rows have no value in {data.target!r}. "
                            "Set data.missing_target: drop to drop them, or fix the data.")
        df = df.loc[~missing]
        notes.append(f"dropped {int(missing.sum())} rows with a missing target (data.missing_target: drop)")
    df = df.reset_index(drop=True)

    role_cols = {data.target, data.id, data.group} - {None}
    feature_names = [c for c in df.columns if c not in role_cols and c not in data.drop]
    if not feature_names:
        raise DataError("data: no feature columns are left after removing the target, id, group and drop columns.")
    cols = Columns()
    typed: dict[str, pd.Series] = {}
    infinite: list[str] = []
    for c in feature_names:
        s = df[c]
        if s.isna().all():
            raise DataError(f"column {c!r} is entirely missing ({len(s)} rows); it cannot be a feature. "
                            f"Add it to data.drop.")
        forced = data.schema_.get(c).dtype if c in data.schema_ else None
        kind = _FORCED[forced] if forced else ("datetime" if c == data.time else infer_kind(s))
        if kind == "categorical" and not forced:
            _refuse_stray_text(s, c)
        typed[c] = coerce_column(s, kind, c)
        if kind == "numeric" and np.isinf(typed[c].to_numpy(dtype=float, na_value=np.nan)).any():
            infinite.append(c)
        getattr(cols, kind).append(c)
        if kind == "categorical":
            n = typed[c].nunique()
            if n > 0.5 * len(s) and n > 50:
                notes.append(f"column {c!r} has {n} distinct values in {len(s)} rows: an identifier or free text? "
                             "Consider data.drop or data.id")
    if infinite:
        if data.inf == "error":
            raise DataError(f"data.inf: column(s) {', '.join(repr(c) for c in infinite)} hold infinite values, which "
                            "models treat inconsistently (one family crashes, another trains silently). Fix the "
                            "data, or set data.inf: missing to read them as missing values.")
        for c in infinite:
            typed[c] = typed[c].replace([np.inf, -np.inf], np.nan)
        notes.append(f"infinite values read as missing in {', '.join(infinite)} (data.inf: missing)")
    X = pd.DataFrame(typed)

    y, task, classes, pos_label = _prepare_target(df[data.target], recipe, notes)
    warnings = [f"column {c!r} determines the target: every value of it goes with one class. A leak (a copy or "
                "a consequence of the target)? Add it to data.drop unless it is known when predicting."
                for c in (_target_copies(X, y, cols) if task != "regression" else [])]
    from mlengine.evaluate.rules import needs_raw_columns

    binned = recipe.target.binned
    times = to_datetime(df[data.time]) if data.time else None
    if times is not None and times.isna().any():
        raise DataError(f"data.time: {int(times.isna().sum())} rows of {data.time!r} are missing or not dates.")
    return PreparedData(
        X=X, y=y, columns=cols, task=task, classes=classes, pos_label=pos_label,
        ids=df[data.id] if data.id else None, groups=df[data.group] if data.group else None, times=times,
        notes=notes, y_raw=df[data.target].astype(float) if binned else None,
        raw=df if needs_raw_columns(recipe) else None, warnings=warnings,
    )


def _prepare_target(y: pd.Series, recipe: Any, notes: list[str]) -> tuple[pd.Series, str, list[Any], Any]:
    task = recipe.task
    if recipe.target.binned:
        from mlengine.steps.target import prepare_binned_target

        return prepare_binned_target(y, recipe, notes)
    if task == "auto":
        task, why = infer_task(y)
        notes.append(f"task {task}: {why}")
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            raise DataError(f"task: regression needs a numeric target; {recipe.data.target!r} holds "
                            f"{y.dtype} values such as {y.iloc[0]!r}.")
        if y.nunique() < 2:
            raise DataError(f"data.target: {recipe.data.target!r} has a single value ({y.iloc[0]!r}); nothing to "
                            "learn.")
        return y.astype(float), task, [], None
    if pd.api.types.is_string_dtype(y) or y.dtype == object or isinstance(y.dtype, pd.CategoricalDtype):
        y = y.astype(str).astype(object)
    elif pd.api.types.is_float_dtype(y) and bool(np.all(np.mod(y.to_numpy(), 1) == 0)):
        y = y.astype("int64")
    counts = y.value_counts()
    if len(counts) < 2:
        raise DataError(f"data.target: {recipe.data.target!r} has a single class ({counts.index[0]!r}, "
                        f"{int(counts.iloc[0])} rows); classification needs at least two.")
    if task == "binary" and len(counts) > 2:
        raise DataError(f"task: binary, but {recipe.data.target!r} has {len(counts)} classes "
                        f"({', '.join(repr(c) for c in counts.index[:10])}). Use task: multiclass or auto.")
    classes = sorted((c.item() if isinstance(c, np.generic) else c for c in counts.index), key=lambda v: (str(type(v)), v))
    pos_label = None
    if task == "binary":
        pos_label, why = choose_pos_label(y, recipe.data.positive_class)
        notes.append(why)
    return y, task, classes, pos_label
