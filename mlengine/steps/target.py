"""The `target` section: binning a numeric target into labelled classes, and regression target transforms.

Binning. Bins are left-closed intervals [a, b) over inner cut points ("edges"); k edges give k + 1 classes, whose
labels are the recipe's `labels` or interval text ("< 5.5", "[5.5, 6.5)", ">= 6.5"; q1..qk for quantiles). Two
bins make a binary task (positive class: `data.positive_class`, else the upper bin), more a multiclass one.
Explicit edges and a threshold fit nothing. Quantile edges are fitted on the training split only: the table is
first labelled with edges from all rows (used only to stratify the holdout split and for the data checks), then
`stage_bin_target` refits the edges on the training rows and relabels every row with them. The fitted edges and
labels go to metrics.json (`target_bins`, with class counts) and model.json (`target_bins`). The classifier's
classes ARE the bin labels, so `load_model(run).predict` returns bin labels.

Transforms. `log`, `log1p`, `sqrt`, `box_cox`, `yeo_johnson` wrap the regressor in scikit-learn's
TransformedTargetRegressor (the `model` step becomes TransformedTargetRegressor(regressor=<model>)): the model
is fitted on the transformed target inside each fold, predictions come back on the original scale, so every
metric is on the original scale.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlengine.errors import DataError, Problem
from mlengine.stages import stage

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("mlengine")

_TRANSFORM_DOMAIN = {"log": (0.0, False), "box_cox": (0.0, False), "log1p": (-1.0, False), "sqrt": (0.0, True)}


def _fmt(v: float) -> str:
    return f"{v:g}"


@dataclass
class TargetBins:
    """Fitted bins: inner cut points (ascending) and one label per bin."""

    method: str
    edges: list[float]
    labels: list[Any]

    def assign(self, y: Any) -> np.ndarray:
        """The label of each value (left-closed bins: a value equal to an edge goes to the upper bin)."""
        idx = np.searchsorted(np.asarray(self.edges, dtype=float), np.asarray(y, dtype=float), side="right")
        return np.asarray(self.labels, dtype=object)[idx]

    def intervals(self) -> list[str]:
        bounds = [-np.inf, *self.edges, np.inf]
        return [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "intervals": self.intervals(), "closed": "left"}


def n_bins(section: Any) -> int:
    if section.binning == "edges":
        return len(section.edges) + 1
    if section.binning == "threshold":
        return 2
    if section.binning == "quantiles":
        q = section.quantiles
        return len(q) + 1 if isinstance(q, list) else int(q or 0)
    return 0


def bin_labels(section: Any) -> list[Any]:
    """Labels from the recipe (or the defaults), known without data."""
    if section.labels:
        return list(section.labels)
    if section.binning == "quantiles":
        return [f"q{i + 1}" for i in range(n_bins(section))]
    edges = section.edges if section.binning == "edges" else [section.threshold]
    return [f"< {_fmt(edges[0])}"] + [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(edges[:-1], edges[1:], strict=True)] \
        + [f">= {_fmt(edges[-1])}"]


def binned_task(section: Any) -> str:
    return "binary" if n_bins(section) == 2 else "multiclass"


def fit_bins(section: Any, y: pd.Series, target: str) -> TargetBins:
    """Edges for the recipe's binning: explicit, the threshold, or quantiles of `y` (the training rows)."""
    labels = bin_labels(section)
    if section.binning == "edges":
        return TargetBins("edges", [float(e) for e in section.edges], labels)
    if section.binning == "threshold":
        return TargetBins("threshold", [float(section.threshold)], labels)
    q = section.quantiles
    probs = list(q) if isinstance(q, list) else [i / q for i in range(1, q)]
    edges = [float(e) for e in np.quantile(y.to_numpy(dtype=float), probs)]
    if len(set(edges)) < len(edges):
        raise DataError(f"target.quantiles: {n_bins(section)} quantile bins of {target!r} give repeated edges "
                        f"({', '.join(_fmt(e) for e in edges)}): many rows share a value. Use fewer bins or "
                        "target.binning: edges.")
    return TargetBins("quantiles", edges, labels)


def class_counts(bins: TargetBins, labels: Any) -> dict[str, int]:
    import pandas as pd

    s = pd.Series(labels)
    return {str(lab): int((s == lab).sum()) for lab in bins.labels}


def check_no_empty_bin(bins: TargetBins, y: pd.Series, target: str, where: str) -> None:
    counts = class_counts(bins, bins.assign(y))
    empty = [lab for lab, n in counts.items() if n == 0]
    if empty:
        key = {"edges": "target.edges", "threshold": "target.threshold", "quantiles": "target.quantiles"}[bins.method]
        spans = dict(zip((str(lab) for lab in bins.labels), bins.intervals(), strict=True))
        shown = ", ".join(f"{lab!r} {spans[lab]}" for lab in empty)
        raise DataError(f"{key}: the bin(s) {shown} get no rows {where}: {target!r} ranges from "
                        f"{_fmt(float(y.min()))} to {_fmt(float(y.max()))}. Move the edges so every bin has rows "
                        f"(class counts: {counts}).")


def _numeric_target(y: pd.Series, recipe: Any) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        raise DataError(f"target.binning: {recipe.target.binning!r} needs a numeric target; {recipe.data.target!r} "
                        f"holds {y.dtype} values such as {y.iloc[0]!r}.")
    return y.astype(float)


def prepare_binned_target(y: pd.Series, recipe: Any, notes: list[str]) -> tuple[pd.Series, str, list[Any], Any]:
    """Label the whole table (quantile edges from all rows, provisional: refitted on the training split later)."""
    import pandas as pd

    section = recipe.target
    raw = _numeric_target(y, recipe)
    bins = fit_bins(section, raw, recipe.data.target)
    check_no_empty_bin(bins, raw, recipe.data.target, "in the data")
    labels = pd.Series(bins.assign(raw), index=y.index, name=y.name)
    task = binned_task(section)
    classes = sorted(bins.labels, key=lambda v: (str(type(v)), v))
    pos_label = None
    if task == "binary":
        pos_label = bins.labels[-1]
        requested = recipe.data.positive_class
        if requested is not None:
            match = [c for c in bins.labels if c == requested or str(c) == str(requested)]
            if not match:
                raise DataError(f"data.positive_class: {requested!r} is not one of the bin labels "
                                f"({', '.join(repr(c) for c in bins.labels)}).")
            pos_label = match[0]
    notes.append(f"target {recipe.data.target!r} binned ({section.binning}) into {len(bins.labels)} classes: "
                 + ", ".join(f"{lab} {span}" for lab, span in zip(bins.labels, bins.intervals(), strict=True)))
    return labels, task, classes, pos_label


@stage(reads=("data", "train_idx", "test_idx"), writes=("y_tr", "y_te"))
def stage_bin_target(ctx: Any) -> None:
    """After the split: fit the bin edges on the training rows only and relabel training and holdout rows."""
    import pandas as pd

    recipe, data = ctx.recipe, ctx.data
    if recipe.target.binning == "none":
        return
    target = recipe.data.target
    raw_tr = data.y_raw.iloc[ctx.train_idx]
    bins = fit_bins(recipe.target, raw_tr, target)
    check_no_empty_bin(bins, raw_tr, target, "in the training split")
    labelled = pd.Series(bins.assign(data.y_raw), index=data.y.index, name=data.y.name)
    changed = int((labelled != data.y).sum())
    data.y = labelled
    ctx.y_tr, ctx.y_te = labelled.iloc[ctx.train_idx], labelled.iloc[ctx.test_idx]
    record = {**bins.as_dict(), "target": target, "counts": {"train": class_counts(bins, ctx.y_tr),
                                                              "holdout": class_counts(bins, ctx.y_te)}}
    if bins.method == "quantiles":
        record["relabelled_rows"] = changed  # rows whose label moved when the edges were refitted on training rows
    ctx.report["target_bins"] = record
    ctx.bundle["target_bins"] = bins.as_dict()
    log.info("target bins (%s, fitted on the training split): edges %s; training counts %s", bins.method,
             [_fmt(e) for e in bins.edges], record["counts"]["train"])


# ------------------------------------------------------------------------------------------- transforms ---
def wrap_target_transform(model: Any, transform: str) -> Any:
    """The regressor inside a TransformedTargetRegressor for `transform` (unchanged for 'none')."""
    if transform == "none":
        return model
    from sklearn.compose import TransformedTargetRegressor

    funcs = {"log": (np.log, np.exp), "log1p": (np.log1p, np.expm1), "sqrt": (np.sqrt, np.square)}
    if transform in funcs:
        func, inverse = funcs[transform]
        return TransformedTargetRegressor(regressor=model, func=func, inverse_func=inverse, check_inverse=False)
    from sklearn.preprocessing import PowerTransformer

    method = "box-cox" if transform == "box_cox" else "yeo-johnson"
    return TransformedTargetRegressor(regressor=model, transformer=PowerTransformer(method=method))


def check_transform_data(transform: str, y: pd.Series, target: str) -> None:
    if transform not in _TRANSFORM_DOMAIN:
        return
    low, inclusive = _TRANSFORM_DOMAIN[transform]
    bad = (y < low) if inclusive else (y <= low)
    if bad.any():
        need = f">= {_fmt(low)}" if inclusive else f"> {_fmt(low)}"
        alt = "log1p or yeo_johnson" if transform in ("log", "box_cox") else "yeo_johnson"
        raise DataError(f"target.transform: {transform!r} needs targets {need}; {int(bad.sum())} row(s) of "
                        f"{target!r} are not (minimum {_fmt(float(y.min()))}). Use {alt}.")


# ------------------------------------------------------------------------------------------ recipe checks ---
def check_section(recipe: Any) -> list[Problem]:
    t = recipe.target
    problems: list[Problem] = []
    given = t.model_fields_set
    needs = {"edges": "edges", "quantiles": "quantiles", "threshold": "threshold"}
    for key in ("edges", "quantiles", "threshold"):
        if key in given and getattr(t, key) not in (None, []) and t.binning != needs[key]:
            problems.append(Problem(f"target.{key}", f"applies to target.binning: {key}; binning is {t.binning!r}."))
    if "labels" in given and t.labels and t.binning == "none":
        problems.append(Problem("target.labels", "labels name the bins of target.binning, which is 'none'."))
    if t.binning == "none":
        if t.transform != "none" and recipe.task in ("binary", "multiclass"):
            problems.append(Problem("target.transform", f"{t.transform!r} transforms a regression target; task is "
                                                        f"{recipe.task!r}."))
        return problems
    if t.transform != "none":
        problems.append(Problem("target.transform", "applies to regression targets; target.binning makes classes. "
                                                    "Use one or the other."))
    if t.binning == "edges":
        if not t.edges:
            problems.append(Problem("target.edges", "binning 'edges' needs at least one cut point, e.g. [5.5, 6.5]."))
        elif any(b <= a for a, b in zip(t.edges[:-1], t.edges[1:], strict=True)):
            problems.append(Problem("target.edges", f"cut points must increase strictly; got {t.edges}."))
    if t.binning == "threshold" and t.threshold is None:
        problems.append(Problem("target.threshold", "binning 'threshold' needs threshold, the value where the upper "
                                                    "class starts."))
    if t.binning == "quantiles":
        q = t.quantiles
        if q is None:
            problems.append(Problem("target.quantiles", "binning 'quantiles' needs quantiles: a number of bins (>= 2) "
                                                        "or cut probabilities such as [0.25, 0.5, 0.75]."))
        elif isinstance(q, list) and (not q or any(not 0 < p < 1 for p in q)
                                      or any(b <= a for a, b in zip(q[:-1], q[1:], strict=True))):
            problems.append(Problem("target.quantiles", f"cut probabilities must increase strictly within (0, 1); "
                                                        f"got {q}."))
        elif isinstance(q, int) and q < 2:
            problems.append(Problem("target.quantiles", f"needs at least 2 bins; got {q}."))
    k = n_bins(t)
    task = binned_task(t)
    if k >= 2 and recipe.task not in ("auto", task):
        problems.append(Problem("task", f"{recipe.task!r}, but target.binning makes {k} classes ({task}); set task: "
                                        f"auto or {task}."))
    if problems:
        return problems
    if t.labels:
        if len(t.labels) != k:
            problems.append(Problem("target.labels", f"{len(t.labels)} labels for {k} bins; give one label per bin, "
                                                     "lowest bin first."))
        elif len({str(lab) for lab in t.labels}) != k:
            problems.append(Problem("target.labels", f"labels must be distinct; got {t.labels}."))
        elif len({type(lab) for lab in t.labels}) > 1:
            problems.append(Problem("target.labels", f"labels must all be text or all be integers; got {t.labels}."))
    return problems
