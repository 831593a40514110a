"""Determinism helpers: single-threaded forest prediction and a canonical hash of holdout predictions.

Every seed already derives from `recipe.seed` (holdout split, CV folds, model `random_state`), and LightGBM runs
with `deterministic=True, force_col_wise=True`. One source of run-to-run noise was left: scikit-learn forests
(random_forest, extra_trees) sum per-tree probabilities across threads in completion order, so with `n_jobs > 1`
the last bits of a probability change between runs (measured: 2 of 179 titanic holdout rows off by 1.1e-16).
`ordered_prediction` predicts those with one thread; fitting stays parallel (each tree's seed is drawn up front,
so fitting is deterministic) and the saved model keeps its `n_jobs`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PREDICTIONS_FORM = "mlengine-predictions-v1"


def _estimators(obj: Any, seen: set[int], depth: int = 0) -> Iterator[Any]:
    """Every fitted estimator inside `obj` (pipeline steps, wrapped and calibrated estimators, ...)."""
    if id(obj) in seen or depth > 6 or not hasattr(obj, "get_params"):
        return
    seen.add(id(obj))
    yield obj
    children: list[Any] = []
    for value in vars(obj).values():
        if isinstance(value, (list, tuple)):
            for item in value:
                children += list(item) if isinstance(item, tuple) else [item]
        else:
            children.append(value)
    for child in children:
        if hasattr(child, "get_params") and not isinstance(child, type):
            yield from _estimators(child, seen, depth + 1)


@contextmanager
def ordered_prediction(model: Any) -> Iterator[None]:
    """Predict with one thread in ensembles whose parallel prediction sums in completion order (forests)."""
    changed = []
    for est in _estimators(model, set()):
        if hasattr(est, "estimators_") and isinstance(getattr(est, "n_jobs", None), int) and est.n_jobs != 1:
            changed.append((est, est.n_jobs))
            est.n_jobs = 1
    try:
        yield
    finally:
        for est, n_jobs in changed:
            est.n_jobs = n_jobs


def _label(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def predictions_sha256(rows: Any, pred: Any, proba: Any = None) -> str:
    """sha256 of holdout predictions in a canonical form: row positions as int64, values as little-endian
    float64 (regression) or labels as JSON (classification), probabilities as a float64 matrix."""
    import numpy as np

    h = hashlib.sha256(PREDICTIONS_FORM.encode())
    h.update(b"rows\0" + np.asarray(rows, dtype="<i8").tobytes())
    pred = np.asarray(pred)
    if pred.dtype.kind in "fiu":
        h.update(b"values\0" + pred.astype("<f8").tobytes())
    else:
        h.update(b"labels\0" + json.dumps([_label(v) for v in pred.tolist()]).encode())
    if proba is not None:
        proba = np.ascontiguousarray(np.asarray(proba, dtype="<f8"))
        h.update(f"proba {proba.shape}\0".encode() + proba.tobytes())
    return h.hexdigest()


def predictions_record(ctx: Any) -> dict[str, Any] | None:
    """The manifest's predictions entry for a run context (None when there is no holdout)."""
    if ctx.pred is None or ctx.test_idx is None:
        return None
    return {"form": PREDICTIONS_FORM, "rows": int(len(ctx.test_idx)),
            "sha256": predictions_sha256(ctx.test_idx, ctx.pred, ctx.proba)}
