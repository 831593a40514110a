"""Recorded vs replayed: the checks a replay makes after the data check, and the table it prints.

Each check has a result: `identical`, `within tolerance`, `diverged` (the replay fails), or an informational
result that never fails it (`differs (not checked)`, `missing`, `new`). Model files (`model.*` except metadata)
and `predictions.parquet` are checked byte for byte; when the environment differs (package versions, platform)
their bytes may legitimately differ while predictions stay identical, so then a difference is reported as
`differs (environment)` and the predictions and metrics carry the check. Other files (recipe.yaml with this
machine's paths, plan files with thread counts, reports with dates) are compared for information only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

IDENTICAL, WITHIN, DIVERGED = "identical", "within tolerance", "diverged"
FAILING = {DIVERGED}
_METADATA = {".json", ".txt", ".md", ".html", ".csv", ".yaml", ".yml"}


@dataclass
class Check:
    name: str
    recorded: Any
    replayed: Any
    result: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def checked_artifact(name: str) -> bool:
    """Model files and the holdout predictions must match byte for byte; other files are informational."""
    p = Path(name)
    return name == "predictions.parquet" or (p.name.startswith("model.") and p.suffix not in _METADATA)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _num_result(a: Any, b: Any, tol: float) -> tuple[str, float | None]:
    if _equal(a, b):
        return IDENTICAL, 0.0
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a is not None and b is not None:
        diff = abs(float(a) - float(b))
        return (WITHIN if diff <= tol else DIVERGED), diff
    return DIVERGED, None


def _leaves(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_leaves(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def compare_metrics(recorded: dict[str, Any], replayed: dict[str, Any], tol: float) -> list[Check]:
    """holdout.* and cv.*.mean one row each; the remaining values (fold scores, std, baselines) in one row."""
    a = {k: v for k, v in _leaves({k: recorded.get(k) for k in ("holdout", "cv", "baselines")}, "").items()}
    b = {k: v for k, v in _leaves({k: replayed.get(k) for k in ("holdout", "cv", "baselines")}, "").items()}
    checks: list[Check] = []
    rest: list[tuple[str, str, float | None]] = []
    for key in dict.fromkeys([*a, *b]):
        result, diff = _num_result(a.get(key), b.get(key), tol)
        if key.startswith("holdout.") or (key.startswith("cv.") and key.endswith(".mean")):
            detail = f"|diff| {diff:.3g}" if diff else ""
            checks.append(Check(f"metric {key}", a.get(key), b.get(key), result, detail))
        else:
            rest.append((key, result, diff))
    if rest:
        bad = [k for k, r, _ in rest if r == DIVERGED]
        near = [d for _, r, d in rest if r == WITHIN and d is not None]
        result = DIVERGED if bad else WITHIN if near else IDENTICAL
        detail = (f"differ: {', '.join(bad[:5])}" + (" ..." if len(bad) > 5 else "") if bad else
                  f"max |diff| {max(near):.3g}" if near else "")
        checks.append(Check(f"other metric values ({len(rest)})", "recorded", "replayed", result, detail))
    return checks


def _prediction_diff(recorded_file: Path, replayed_file: Path) -> tuple[float | None, int | None, str]:
    """Max absolute difference of numeric prediction columns and the number of differing labels."""
    import numpy as np
    import pandas as pd

    if not recorded_file.is_file() or not replayed_file.is_file():
        return None, None, "predictions.parquet missing; compared by hash only"
    a, b = pd.read_parquet(recorded_file), pd.read_parquet(replayed_file)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return None, None, f"different shape: {a.shape} recorded, {b.shape} replayed"
    max_diff, labels = 0.0, 0
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y) and col != "row":
            d = np.abs(x.to_numpy(dtype=float) - y.to_numpy(dtype=float))
            max_diff = max(max_diff, float(np.nanmax(d)) if len(d) else 0.0)
        else:
            labels += int((x.astype(str) != y.astype(str)).sum())
    return max_diff, labels, ""


def compare_predictions(recorded: dict[str, Any] | None, replayed: dict[str, Any] | None, run_dir: Path,
                        replay_dir: Path, tol: float) -> Check:
    ra = (recorded or {}).get("sha256")
    rb = (replayed or {}).get("sha256")
    if ra == rb:
        return Check("predictions sha256", _short(ra), _short(rb), IDENTICAL, f"{(recorded or {}).get('rows', 0)} "
                                                                               "holdout rows" if ra else "no holdout")
    diff, labels, why = _prediction_diff(run_dir / "predictions.parquet", replay_dir / "predictions.parquet")
    if diff is None:
        return Check("predictions sha256", _short(ra), _short(rb), DIVERGED, why)
    detail = f"max |diff| {diff:.3g}, {labels} labels differ"
    result = WITHIN if labels == 0 and diff <= tol else DIVERGED
    return Check("predictions sha256", _short(ra), _short(rb), result, detail)


def compare_artifacts(recorded: dict[str, Any], replayed: dict[str, Any], env_differs: bool) -> list[Check]:
    checks = []
    for name in dict.fromkeys([*recorded, *replayed]):
        a, b = recorded.get(name), replayed.get(name)
        sa, sb = (a or {}).get("sha256"), (b or {}).get("sha256")
        if a is None:
            checks.append(Check(f"artifact {name}", "-", _short(sb), "new", "not in the record"))
        elif b is None:
            checks.append(Check(f"artifact {name}", _short(sa), "-", "missing", "not written by the replay"))
        elif sa == sb:
            checks.append(Check(f"artifact {name}", _short(sa), _short(sb), IDENTICAL))
        elif not checked_artifact(name):
            checks.append(Check(f"artifact {name}", _short(sa), _short(sb), "differs (not checked)",
                                "metadata: may hold paths, thread counts or dates"))
        elif env_differs:
            checks.append(Check(f"artifact {name}", _short(sa), _short(sb), "differs (environment)",
                                "serialized bytes depend on library versions"))
        else:
            checks.append(Check(f"artifact {name}", _short(sa), _short(sb), DIVERGED,
                                f"{a.get('bytes')} -> {b.get('bytes')} bytes"))
    return checks


def compare_search(recorded: dict[str, Any] | None, replayed: dict[str, Any] | None, tol: float) -> list[Check]:
    """Level search: same trial count, same best config, same trial scores."""
    if recorded is None:
        return []
    replayed = replayed or {}
    checks = [Check("search trials", recorded.get("trials"), replayed.get("trials"),
                    IDENTICAL if recorded.get("trials") == replayed.get("trials") else DIVERGED)]
    same = recorded.get("best_config") == replayed.get("best_config")
    checks.append(Check("search best_config", _brief(recorded.get("best_config")),
                        _brief(replayed.get("best_config")), IDENTICAL if same else DIVERGED))
    a = [t.get("score") for t in recorded.get("history") or []]
    b = [t.get("score") for t in replayed.get("history") or []]
    results = [_num_result(x, y, tol) for x, y in zip(a, b, strict=False)]
    worst = DIVERGED if len(a) != len(b) or any(r == DIVERGED for r, _ in results) else (
        WITHIN if any(r == WITHIN for r, _ in results) else IDENTICAL)
    checks.append(Check("search trial scores", f"{len(a)} trials", f"{len(b)} trials", worst))
    return checks


def _short(digest: Any) -> str:
    return str(digest)[:12] if digest else "-"


def _brief(value: Any, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.12g}"
    return "-" if value is None else str(value)


def render_table(checks: list[Check]) -> str:
    rows = [("check", "recorded", "replayed", "result")]
    rows += [(c.name, _fmt(c.recorded), _fmt(c.replayed), c.result + (f"  ({c.detail})" if c.detail else ""))
             for c in checks]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c:<{w2}}  {d}".rstrip() for a, b, c, d in rows)
