"""Rule baselines: "the current business rule" as a pandas expression, scored on the same holdout as the model.

A rule is a boolean condition over the raw input columns (as read, before typing; the target column is not
visible to it), e.g. `pay_1 >= 2` or `sex == 'female' and pclass < 3`. True means the positive class (binary
tasks). It learns nothing, so it cannot leak. Scored with every metric: as a hard classifier its
"probability" is 1 or 0.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import DataError, did_you_mean
from mlengine.evaluate.metrics import score_all


def rule_baselines(recipe: Any) -> list[tuple[str, str, str]]:
    """(name, expression, recipe key) of each rule baseline."""
    out = []
    for i, b in enumerate(recipe.evaluate.baselines):
        if not isinstance(b, str):
            out.append((b.name or f"rule_{i}", b.rule, f"evaluate.baselines[{i}].rule"))
    return out


def needs_raw_columns(recipe: Any) -> bool:
    """Rules, slices and a dropped stability column read raw columns, which the prepared table does not keep otherwise."""
    by = recipe.evaluate.stability.by  # a dropped column can still order the rows into periods
    return bool(rule_baselines(recipe) or recipe.evaluate.slices or (by is not None and by in recipe.data.drop))


def evaluate_rule(rule: str, frame: pd.DataFrame, key: str, target: str) -> np.ndarray:
    """The rule's boolean value per row; a clear error for unknown columns, bad syntax or non-boolean results."""
    visible = frame.drop(columns=[target], errors="ignore")
    try:
        out = visible.eval(rule, engine="python")
    except pd.errors.UndefinedVariableError as exc:
        name = (re.findall(r"name '([^']+)'", str(exc)) or [str(exc)])[0]
        if name == target:
            raise DataError(f"{key}: {rule!r} reads the target {target!r}; a baseline must predict it from the "
                            "inputs.") from None
        raise DataError(f"{key}: {rule!r} names {name!r}, which is not a column.{did_you_mean(name, visible.columns)} "
                        f"Columns: {', '.join(map(str, visible.columns))}.") from None
    except Exception as exc:
        raise DataError(f"{key}: {rule!r} is not a valid pandas expression ({type(exc).__name__}: {exc}). Write a "
                        "condition such as \"pay_1 >= 2\" or \"sex == 'female' and age < 30\".") from None
    if not isinstance(out, pd.Series) or not pd.api.types.is_bool_dtype(out):
        kind = out.dtype if isinstance(out, pd.Series) else type(out).__name__
        raise DataError(f"{key}: {rule!r} gives {kind} values, not true/false; a rule must be a condition (e.g. "
                        "\"pay_1 >= 2\"), true meaning the positive class.")
    return out.fillna(False).to_numpy(dtype=bool)


def check_rules(recipe: Any, frame: pd.DataFrame | None) -> None:
    """Run every rule on the data once, before anything is fitted."""
    if frame is None:
        return
    for _, rule, key in rule_baselines(recipe):
        evaluate_rule(rule, frame, key, recipe.data.target)


def score_rules(recipe: Any, frame: pd.DataFrame, y_te: pd.Series, metrics: list[str], classes: list[Any],
                pos_label: Any) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray], dict[str, str]]:
    """Scores, labels and expressions of each rule baseline on the holdout rows in `frame`."""
    neg = next(c for c in classes if c != pos_label)
    scores, labels, expressions = {}, {}, {}
    for name, rule, key in rule_baselines(recipe):
        hit = evaluate_rule(rule, frame, key, recipe.data.target)
        pred = np.asarray(classes)[np.where(hit, classes.index(pos_label), classes.index(neg))]
        proba = np.zeros((len(hit), len(classes)))
        proba[:, classes.index(pos_label)] = hit
        proba[:, classes.index(neg)] = ~hit
        scores[name] = score_all(metrics, y_te.to_numpy(), pred=pred, proba=proba, classes=classes,
                                 pos_label=pos_label)
        labels[name] = pred
        expressions[name] = rule
    return scores, labels, expressions
