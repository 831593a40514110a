"""Data profile: a data dictionary, an inferred contract, target balance, associations, seasonality (the target
per month and weekday of each datetime column) and the data checks.

`profile_table(df, recipe)` describes the raw table as the recipe sees it (roles from `data`, types as a run would
infer them, descriptions from `data.schema`). It never fails on what it finds: contract violations and personal data
are reported (the PII findings also as warnings), since finding them is the point. `mlengine profile` writes the
result as Markdown, JSON and a self-contained HTML page with plots (`mlengine.report.profile_page`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import DataError

log = logging.getLogger("mlengine")

MAX_ISIN = 15  # categorical columns with at most this many values get an `isin` rule in the inferred schema
LEAK_ASSOCIATION = 0.95


def column_roles(df: pd.DataFrame, data: Any) -> dict[str, str]:
    roles = {c: "feature" for c in df.columns}
    for c in data.drop:
        if c in roles:
            roles[c] = "dropped"
    for role in ("target", "id", "group", "time"):
        c = getattr(data, role)
        if c in roles:
            roles[c] = role
    return roles


def column_kind(s: pd.Series, name: str, data: Any) -> str:
    from mlengine.data.table import _FORCED, infer_kind

    col = data.schema_.get(name)
    if col is not None and col.dtype:
        return _FORCED[col.dtype]
    return "datetime" if name == data.time else infer_kind(s)


def _num(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    return v


def describe_column(s: pd.Series, kind: str) -> dict[str, Any]:
    n = len(s)
    missing = int(s.isna().sum())
    out: dict[str, Any] = {"dtype": str(s.dtype), "kind": kind, "missing": missing,
                           "missing_pct": round(100 * missing / n, 2) if n else 0.0,
                           "distinct": int(s.nunique(dropna=True))}
    if kind == "numeric":
        v = pd.to_numeric(s, errors="coerce")
        if v.notna().any():
            out.update(min=_num(v.min()), max=_num(v.max()), mean=_num(round(float(v.mean()), 6)),
                       median=_num(v.median()), integral=bool(np.all(np.mod(v.dropna(), 1) == 0)))
    elif kind == "datetime":
        from mlengine.data.table import to_datetime

        t = to_datetime(s).dropna()
        if len(t):
            out.update(min=str(t.min()), max=str(t.max()))
    counts = s.astype(str).where(s.notna()).value_counts().head(5) if kind != "numeric" else None
    if counts is not None:
        out["top"] = [[str(k), int(c)] for k, c in counts.items()]
    return out


# --------------------------------------------------------------------------------------- association ---
def _eta(values: pd.Series, groups: pd.Series) -> float:
    """Correlation ratio: how much of a numeric variable's variance the groups explain (0..1)."""
    frame = pd.DataFrame({"v": pd.to_numeric(values, errors="coerce"), "g": groups.astype(str)}).dropna()
    if len(frame) < 3 or frame["v"].var() == 0:
        return 0.0
    means = frame.groupby("g")["v"].agg(["mean", "count"])
    between = float((means["count"] * (means["mean"] - frame["v"].mean()) ** 2).sum())
    total = float(((frame["v"] - frame["v"].mean()) ** 2).sum())
    return float(np.sqrt(between / total)) if total > 0 else 0.0


def _cramers_v(a: pd.Series, b: pd.Series) -> float:
    frame = pd.DataFrame({"a": a.astype(str), "b": b.astype(str)})[a.notna().to_numpy() & b.notna().to_numpy()]
    if len(frame) < 3:
        return 0.0
    table = pd.crosstab(frame["a"], frame["b"]).to_numpy(dtype=float)
    if min(table.shape) < 2:
        return 0.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


def association(s: pd.Series, kind: str, y: pd.Series, task: str) -> tuple[float, str] | None:
    """Strength of a column's link with the target, 0..1 (Spearman's rho is signed), and the measure's name."""
    if kind == "datetime":
        return None
    mask = y.notna().to_numpy()
    s, y = s[mask], y[mask]
    if task == "regression":
        if kind == "numeric":
            rho = pd.to_numeric(s, errors="coerce").corr(y.astype(float), method="spearman")
            return (float(rho) if pd.notna(rho) else 0.0), "spearman"
        return _eta(y, s), "eta"
    if kind == "numeric":
        return _eta(s, y), "eta"
    return _cramers_v(s, y), "cramers_v"


# ------------------------------------------------------------------------------------------- seasonality ---
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def target_measure(y: pd.Series, task: str, positive_class: Any = None) -> tuple[pd.Series, str]:
    """Per row, what the seasonality views average: 1/0 for the positive class (binary), the value (regression),
    1 for the majority class (multiclass); and its name."""
    from mlengine.data.table import choose_pos_label

    if task == "regression":
        return pd.to_numeric(y, errors="coerce"), f"mean {y.name}"
    known = y.dropna()
    if task == "binary":
        pos = choose_pos_label(known, positive_class)[0]
        return (y.astype(str) == str(pos)).astype(float).where(y.notna()), f"share of {y.name} = {pos}"
    top = known.astype(str).value_counts().index[0] if len(known) else ""
    return (y.astype(str) == top).astype(float).where(y.notna()), f"share of {y.name} = {top}"


def seasonality(t: pd.Series, value: pd.Series, measure: str) -> dict[str, Any] | None:
    """The target measure per calendar month and per weekday of one datetime column (None without dates)."""
    frame = pd.DataFrame({"t": t.to_numpy(), "v": value.to_numpy()}).dropna(subset=["t"])
    if frame.empty:
        return None

    def view(key: pd.Series, names: tuple[str, ...], start: int) -> list[dict[str, Any]]:
        g = frame.groupby(key.to_numpy())["v"]
        rows, rate = g.size(), g.mean()
        return [{"value": int(k), "name": names[int(k) - start], "rows": int(rows[k]),
                 "rate": _num(round(float(rate[k]), 6)) if pd.notna(rate[k]) else None} for k in rows.index]

    return {"measure": measure, "rows": int(len(frame)),
            "by_month": view(frame["t"].dt.month, MONTHS, 1),
            "by_weekday": view(frame["t"].dt.day_of_week, WEEKDAYS, 0)}


# --------------------------------------------------------------------------------------- inferred schema ---
def infer_rules(s: pd.Series, info: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A contract for one column that the current data passes: proposals to review, not truths."""
    kind = info["kind"]
    rules: dict[str, Any] = {}
    if kind == "numeric":
        rules["dtype"] = "int" if info.get("integral") else "float"
    else:
        rules["dtype"] = {"boolean": "bool", "datetime": "datetime", "categorical": "category"}[kind]
    if info["missing"] == 0:
        rules["nullable"] = False
    if kind == "numeric" and info.get("min") is not None:
        if info["min"] >= 0:
            rules["ge"] = 0
            if info["max"] <= 1 and not info.get("integral"):
                rules["le"] = 1
    if kind == "categorical" and 0 < info["distinct"] <= MAX_ISIN:
        from mlengine.data.table import as_category

        rules["isin"] = sorted(as_category(s.dropna()).astype(str).unique().tolist())
    if kind in ("numeric", "categorical") and info["distinct"] == len(s) - info["missing"] and len(s) >= 20 \
            and (kind == "categorical" or info.get("integral")):
        rules["unique"] = True
    rules["description"] = description
    return rules


def schema_yaml(schema: dict[str, dict[str, Any]], profile: dict[str, Any]) -> str:
    """The inferred `schema:` block, one flow-style line per column, with the observed range as a comment."""
    import yaml

    lines = [f"# data.schema inferred by `mlengine profile` from {profile['rows']:,} rows: review, then paste "
             "under `data:`", "schema:"]
    cols = {c["name"]: c for c in profile["columns"]}
    for name, rules in schema.items():
        flow = yaml.safe_dump(rules, default_flow_style=True, sort_keys=False, width=10**6).strip()
        key = yaml.safe_dump(name, default_flow_style=True).strip().removesuffix("...").strip()
        c = cols[name]
        seen = (f"observed {c['min']} .. {c['max']}" if "min" in c else f"{c['distinct']} distinct values")
        if c["missing"]:
            seen += f", {c['missing_pct']}% missing"
        lines.append(f"  {key}: {flow}  # {seen}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- profile ---
def profile_table(df: pd.DataFrame, recipe: Any) -> dict[str, Any]:
    """Everything `mlengine profile` reports, as plain data."""
    from mlengine.data.contract import check_columns_named, check_frame, contract_spec
    from mlengine.data.pii import scan_table
    from mlengine.data.table import check_columns_exist, infer_task

    data = recipe.data
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise DataError(f"data.source: the table is empty ({df.shape[0]} rows, {df.shape[1]} columns); there is "
                        "nothing to profile.")
    check_columns_exist(df, data)
    check_columns_named(df, list(data.schema_))
    roles = column_roles(df, data)
    y = df[data.target]
    if y.notna().sum() == 0:
        raise DataError(f"data.target: column {data.target!r} has no values at all; nothing to profile against.")
    task = recipe.task if recipe.task != "auto" else infer_task(y.dropna())[0]
    findings = scan_table(df, allow=data.pii.allow, min_share=data.pii.min_share)
    for f in findings:
        log.warning("pii: %s", f.describe())
    personal = {f.column: f.kind for f in findings}
    columns, schema = [], {}
    measure: tuple[pd.Series, str] | None = None
    for name in df.columns:
        s = df[name]
        kind = column_kind(s, name, data)
        info = {"name": str(name), "role": roles[name], **describe_column(s, kind)}
        if name in personal:  # never show personal values in full, not even as top values or bounds
            _mask_info(info, personal[name])
        desc = data.schema_[name].description if name in data.schema_ else ""
        info["description"] = desc
        if name != data.target and s.notna().any():
            assoc = association(s, kind, y, task)
            if assoc is not None:
                info["association"], info["association_measure"] = round(assoc[0], 4), assoc[1]
        if kind == "datetime" and name != data.target and name not in personal:
            from mlengine.data.table import to_datetime

            measure = measure or target_measure(y, task, data.positive_class)
            season = seasonality(to_datetime(s), *measure)
            if season:
                info["seasonality"] = season
        columns.append(info)
        schema[str(name)] = infer_rules(s, info, desc)
        if name in personal:
            schema[str(name)].pop("isin", None)
    spec = contract_spec(data)
    contract = check_frame(df, spec).to_dict() if spec else None
    leaks = [c["name"] for c in columns if c["role"] in ("feature",) and abs(c.get("association", 0)) >=
             LEAK_ASSOCIATION]
    time_col = data.time or next((c["name"] for c in columns if c["kind"] == "datetime"
                                  and c["role"] in ("feature", "dropped")), None)
    return {"name": recipe.name, "rows": int(len(df)), "columns": columns, "task": task, "target": data.target,
            "target_balance": _balance(y, task), "time_column": time_col, "inferred_schema": schema,
            "pii": [f.to_dict() for f in findings], "contract": contract, "possible_leaks": leaks}


def _mask_info(info: dict[str, Any], kind: str) -> None:
    from mlengine.data.pii import mask

    info["personal"] = kind
    for key in ("min", "max", "mean", "median"):
        if key in info:
            info[key] = mask(str(info[key]), kind) if key in ("min", "max") else None
    if "top" in info:
        info["top"] = [[mask(v, kind), n] for v, n in info["top"]]


def _balance(y: pd.Series, task: str) -> dict[str, Any]:
    if task == "regression":
        v = y.dropna().astype(float)
        return {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()), "median": float(v.median()),
                "std": float(v.std()), "missing": int(y.isna().sum())}
    counts = y.astype(str).where(y.notna()).value_counts()
    return {"classes": {str(k): int(c) for k, c in counts.items()}, "missing": int(y.isna().sum())}


def data_dictionary_md(profile: dict[str, Any], schema_block: str) -> str:
    """The data dictionary as a Markdown document."""
    lines = [f"# Data dictionary: {profile['name']}", "",
             f"{profile['rows']:,} rows, {len(profile['columns'])} columns; target `{profile['target']}` "
             f"({profile['task']}).", "",
             "| column | role | type | missing % | distinct | min / max or top values | association with target "
             "| description |", "|---|---|---|---:|---:|---|---:|---|"]
    for c in profile["columns"]:
        if "min" in c:
            span = f"{c['min']} / {c['max']}"
        else:
            span = ", ".join(f"{v} ({n})" for v, n in c.get("top", [])[:3])
        assoc = f"{c['association']:.3f} ({c['association_measure']})" if "association" in c else ""
        cells = [f"`{c['name']}`", c["role"], c["kind"], f"{c['missing_pct']:.1f}", f"{c['distinct']:,}", span,
                 assoc, c["description"]]
        lines.append("| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |")
    if profile["possible_leaks"]:
        lines += ["", "**Possible leaks** (association >= 0.95 with the target): "
                  + ", ".join(f"`{c}`" for c in profile["possible_leaks"])]
    if profile["pii"]:
        lines += ["", "## Personal data (PII scan)", ""]
        lines += [f"- `{f['column']}`: {f['evidence']}" + (f" (e.g. {', '.join(f['examples'])})" if f["examples"]
                                                          else "") for f in profile["pii"]]
    if profile["contract"]:
        c = profile["contract"]
        lines += ["", "## Data contract", "", f"{c['checks']} checks: " + ("all passed" if c["passed"] else
                                                                          f"{len(c['violations'])} failed")]
        lines += [f"- `data.schema.{v['column']}.{v['rule']}`: {v['count']} rows" for v in c["violations"]]
    for c in profile["columns"]:
        season = c.get("seasonality")
        if not season:
            continue
        lines += ["", f"## Seasonality: `{c['name']}` ({season['measure']})", ""]
        for title, key in (("month", "by_month"), ("weekday", "by_weekday")):
            cells = season[key]
            lines += ["| " + title + " | " + " | ".join(v["name"] for v in cells) + " |",
                      "|---|" + "---:|" * len(cells),
                      "| rows | " + " | ".join(f"{v['rows']:,}" for v in cells) + " |",
                      "| target | " + " | ".join("-" if v["rate"] is None else f"{v['rate']:.4g}" for v in cells)
                      + " |", ""]
    lines += ["", "## Inferred schema", "", "```yaml", schema_block.rstrip(), "```", ""]
    return "\n".join(lines)


def write_profile(loaded: Any, out_dir: str | Any, write_schema: bool = False) -> dict[str, Any]:
    """Read the recipe's data and write profile.html, data_dictionary.md, profile.json (+ schema.yaml)."""
    import json
    from pathlib import Path

    from mlengine.data.sources import read_source
    from mlengine.report.profile_page import profile_html

    recipe = loaded.recipe
    df = read_source(recipe.data.source, loaded.base_dir)
    profile = profile_table(df, recipe)
    block = schema_yaml(profile["inferred_schema"], profile)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"html": out / "profile.html", "markdown": out / "data_dictionary.md", "json": out / "profile.json"}
    files["html"].write_text(profile_html(df, profile, block), encoding="utf-8")
    files["markdown"].write_text(data_dictionary_md(profile, block), encoding="utf-8")
    files["json"].write_text(json.dumps(profile, indent=2, default=str) + "\n", encoding="utf-8")
    if write_schema:
        files["schema"] = out / "schema.yaml"
        files["schema"].write_text(block, encoding="utf-8")
    return {"profile": profile, "schema_block": block, "files": {k: str(v) for k, v in files.items()}}
