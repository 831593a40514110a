"""The metrics registry: names recipes use, the tasks they fit, their direction and how to compute them.

Classification metrics that need scores take the full probability matrix with the class order; binary ones use
the positive class's column. Multiclass averages are macro (every class counts the same), which is the honest choice
for rare classes. scikit-learn is imported only when a metric is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlengine.errors import Problem, did_you_mean

CLASSIFICATION = frozenset({"binary", "multiclass"})
REGRESSION = frozenset({"regression"})


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    tasks: frozenset[str]
    needs: str  # "proba" (class probabilities), "label" (predicted classes), "value" (regression predictions)
    greater_is_better: bool

    def score(self, y_true: Any, *, pred: Any = None, proba: Any = None, classes: Sequence[Any] = (),
              pos_label: Any = None) -> float:
        return float(_COMPUTE[self.name](np.asarray(y_true), pred, proba, list(classes), pos_label))

    def better(self, a: float, b: float) -> bool:
        """True when score a is strictly better than b."""
        return a > b if self.greater_is_better else a < b


def _pos_col(proba: Any, classes: list, pos_label: Any) -> np.ndarray:
    return np.asarray(proba)[:, classes.index(pos_label)]


def _binary(y: np.ndarray, pos_label: Any) -> np.ndarray:
    return (y == pos_label).astype(int)


def _roc_auc(y, pred, proba, classes, pos):
    from sklearn.metrics import roc_auc_score
    if len(classes) == 2:
        return roc_auc_score(_binary(y, pos), _pos_col(proba, classes, pos))
    return roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes)


def _average_precision(y, pred, proba, classes, pos):
    from sklearn.metrics import average_precision_score
    if len(classes) == 2:
        return average_precision_score(_binary(y, pos), _pos_col(proba, classes, pos))
    onehot = (y[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(int)
    return average_precision_score(onehot, proba, average="macro")


def _log_loss(y, pred, proba, classes, pos):
    from sklearn.metrics import log_loss
    return log_loss(y, np.clip(proba, 1e-15, 1 - 1e-15), labels=classes)


def _brier(y, pred, proba, classes, pos):
    if len(classes) == 2:
        p = _pos_col(proba, classes, pos)
        return float(np.mean((p - _binary(y, pos)) ** 2))
    onehot = (y[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)
    return float(np.mean(np.sum((np.asarray(proba) - onehot) ** 2, axis=1)))


def _label_metric(fn_name: str, **kw):
    def compute(y, pred, proba, classes, pos):
        import sklearn.metrics as m
        fn = getattr(m, fn_name)
        if fn_name in ("f1_score", "precision_score", "recall_score"):
            extra = {"pos_label": pos, "average": "binary"} if len(classes) == 2 else {"average": "macro"}
            return fn(y, pred, zero_division=0, labels=classes if len(classes) > 2 else None, **extra)
        return fn(y, pred, **kw)
    return compute


def _rmse(y, pred, proba, classes, pos):
    return float(np.sqrt(np.mean((np.asarray(pred, dtype=float) - y.astype(float)) ** 2)))


def _mae(y, pred, proba, classes, pos):
    return float(np.mean(np.abs(np.asarray(pred, dtype=float) - y.astype(float))))


def _r2(y, pred, proba, classes, pos):
    from sklearn.metrics import r2_score
    return r2_score(y.astype(float), np.asarray(pred, dtype=float))


def _mape(y, pred, proba, classes, pos):
    from sklearn.metrics import mean_absolute_percentage_error
    return mean_absolute_percentage_error(y.astype(float), np.asarray(pred, dtype=float))


_COMPUTE = {
    "roc_auc": _roc_auc,
    "average_precision": _average_precision,
    "log_loss": _log_loss,
    "brier": _brier,
    "f1": _label_metric("f1_score"),
    "precision": _label_metric("precision_score"),
    "recall": _label_metric("recall_score"),
    "balanced_accuracy": _label_metric("balanced_accuracy_score"),
    "accuracy": _label_metric("accuracy_score"),
    "mcc": _label_metric("matthews_corrcoef"),
    "rmse": _rmse,
    "mae": _mae,
    "r2": _r2,
    "mape": _mape,
}

METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", "area under the ROC curve (multiclass: one-vs-rest, macro)", CLASSIFICATION, "proba", True),
        Metric("average_precision", "area under the precision-recall curve (multiclass: macro)", CLASSIFICATION,
               "proba", True),
        Metric("log_loss", "cross-entropy of the predicted probabilities", CLASSIFICATION, "proba", False),
        Metric("brier", "mean squared error of the probabilities (multiclass: summed over classes)",
               CLASSIFICATION, "proba", False),
        Metric("f1", "F1 of the positive class (multiclass: macro)", CLASSIFICATION, "label", True),
        Metric("precision", "precision of the positive class (multiclass: macro)", CLASSIFICATION, "label", True),
        Metric("recall", "recall of the positive class (multiclass: macro)", CLASSIFICATION, "label", True),
        Metric("balanced_accuracy", "mean recall over classes", CLASSIFICATION, "label", True),
        Metric("accuracy", "share of correct labels", CLASSIFICATION, "label", True),
        Metric("mcc", "Matthews correlation coefficient", CLASSIFICATION, "label", True),
        Metric("rmse", "root mean squared error", REGRESSION, "value", False),
        Metric("mae", "mean absolute error", REGRESSION, "value", False),
        Metric("r2", "coefficient of determination", REGRESSION, "value", True),
        Metric("mape", "mean absolute percentage error", REGRESSION, "value", False),
    ]
}

DEFAULT_METRICS = {
    "binary": ["roc_auc", "average_precision", "log_loss", "brier", "f1", "accuracy"],
    "multiclass": ["accuracy", "balanced_accuracy", "f1", "log_loss", "roc_auc"],
    "regression": ["rmse", "mae", "r2"],
}
# The metric a run is judged and sorted by when the recipe names none (FLAML's defaults).
DEFAULT_PRIMARY = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "r2"}


def get_metric(name: str) -> Metric:
    return METRICS[name]


def check_metric(path: str, name: str, task: str) -> list[Problem]:
    if name not in METRICS:
        return [Problem(path, f"unknown metric {name!r}.{did_you_mean(name, METRICS)} "
                              f"Allowed: {', '.join(sorted(METRICS))}.")]
    if task != "auto" and task not in METRICS[name].tasks:
        fits = sorted(n for n, m in METRICS.items() if task in m.tasks)
        return [Problem(path, f"metric {name!r} does not fit task {task!r}; metrics for {task}: {', '.join(fits)}.")]
    return []


def score_all(names: Sequence[str], y_true: Any, *, pred: Any, proba: Any, classes: Sequence[Any],
              pos_label: Any) -> dict[str, float]:
    """Every named metric on one set of predictions."""
    return {n: METRICS[n].score(y_true, pred=pred, proba=proba, classes=classes, pos_label=pos_label) for n in names}
