"""`target`: binning a numeric target into labelled classes, one typed option per `target.binning`, and the
regression target transforms.

Binning. Bins are left-closed intervals [a, b) over inner cut points ("edges"); k edges give k + 1 classes, whose
labels are the recipe's `labels` or interval text ("< 5.5", "[5.5, 6.5)", ">= 6.5"; q1..qk for quantiles). Two
bins make a binary task (positive class: `data.positive_class`, else the upper bin), more a multiclass one.
Explicit edges and a threshold fit nothing; quantile edges are fitted on the training split only
(`mlengine.steps.target` runs the binning; each option here owns its keys, defaults, checks and `fit`, which
returns the `TargetBins` recorded in metrics.json and model.json).

Transforms. `log`, `log1p`, `sqrt`, `box_cox`, `yeo_johnson` wrap the regressor in scikit-learn's
TransformedTargetRegressor (`wrap`): the model is fitted on the transformed target inside each fold, predictions
come back on the original scale, so every metric is on the original scale.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from mlengine.errors import DataError, Problem
from mlengine.sections.registry import Option, Registry

if TYPE_CHECKING:
    import pandas as pd

TARGET: Registry[TargetOption] = Registry("target", "binning", default="none")
Transform = Literal["none", "log", "log1p", "sqrt", "box_cox", "yeo_johnson"]
# transform -> (bound, inclusive): the targets it can take (log needs > 0, sqrt >= 0, ...)
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

    def counts(self, labels: Any) -> dict[str, int]:
        """Rows per bin label."""
        import pandas as pd

        s = pd.Series(labels)
        return {str(lab): int((s == lab).sum()) for lab in self.labels}

    def check_no_empty_bin(self, y: pd.Series, target: str, where: str) -> None:
        counts = self.counts(self.assign(y))
        empty = [lab for lab, n in counts.items() if n == 0]
        if empty:
            spans = dict(zip((str(lab) for lab in self.labels), self.intervals(), strict=True))
            shown = ", ".join(f"{lab!r} {spans[lab]}" for lab in empty)
            raise DataError(f"target.{self.method}: the bin(s) {shown} get no rows {where}: {target!r} ranges from "
                            f"{_fmt(float(y.min()))} to {_fmt(float(y.max()))}. Move the edges so every bin has "
                            f"rows (class counts: {counts}).")


class TargetOption(Option):
    """Base of the target options: the transform (regression) and what binning asks of any option."""

    fits: ClassVar[bool] = False  # its edges are fitted on the training split
    transform: Transform = Field("none", description="regression: fit on a transformed target "
                                                     "(TransformedTargetRegressor); predictions and metrics stay "
                                                     "on the original scale")

    @property
    def binned(self) -> bool:
        return self.binning != "none"

    def n_bins(self) -> int:
        return 0

    def binned_task(self) -> str:
        return "binary" if self.n_bins() == 2 else "multiclass"

    def bin_labels(self) -> list[Any]:
        """Labels from the recipe (or the defaults), known without data."""
        return []

    def check(self, task: str) -> list[Problem]:
        """Checks without data."""
        if self.transform != "none" and task in ("binary", "multiclass"):
            return [Problem("target.transform", f"{self.transform!r} transforms a regression target; task is "
                                                f"{task!r}.")]
        return []

    # --------------------------------------------------------------------------------------- transform ---
    def wrap(self, model: Any) -> Any:
        """The regressor inside a TransformedTargetRegressor for the transform (unchanged for 'none')."""
        if self.transform == "none":
            return model
        from sklearn.compose import TransformedTargetRegressor

        funcs = {"log": (np.log, np.exp), "log1p": (np.log1p, np.expm1), "sqrt": (np.sqrt, np.square)}
        if self.transform in funcs:
            func, inverse = funcs[self.transform]
            return TransformedTargetRegressor(regressor=model, func=func, inverse_func=inverse, check_inverse=False)
        from sklearn.preprocessing import PowerTransformer

        method = "box-cox" if self.transform == "box_cox" else "yeo-johnson"
        return TransformedTargetRegressor(regressor=model, transformer=PowerTransformer(method=method))

    def check_transform_data(self, y: pd.Series, target: str) -> None:
        """Refuse targets outside the transform's domain, saying how many and what to use instead."""
        if self.transform not in _TRANSFORM_DOMAIN:
            return
        low, inclusive = _TRANSFORM_DOMAIN[self.transform]
        bad = (y < low) if inclusive else (y <= low)
        if bad.any():
            need = f">= {_fmt(low)}" if inclusive else f"> {_fmt(low)}"
            alt = "log1p or yeo_johnson" if self.transform in ("log", "box_cox") else "yeo_johnson"
            raise DataError(f"target.transform: {self.transform!r} needs targets {need}; {int(bad.sum())} row(s) "
                            f"of {target!r} are not (minimum {_fmt(float(y.min()))}). Use {alt}.")


@TARGET.register
class NoBinning(TargetOption):
    summary: ClassVar[str] = "the target as it is"
    binning: Literal["none"] = Field("none", description="turn a numeric target into classes, bins [a, b): "
                                                         "explicit edges, quantiles (edges fitted on the training "
                                                         "split) or one threshold (two classes)")


class _Binned(TargetOption):
    labels: list[str | int] = Field(default_factory=list,
                                    description="one label per bin, lowest first (default: interval text such as "
                                                "'< 5.5', '[5.5, 6.5)', '>= 6.5'; q1..qk for quantiles)")

    def cut_points(self) -> list[float]:
        return []

    def bin_labels(self) -> list[Any]:
        if self.labels:
            return list(self.labels)
        edges = self.cut_points()
        return ([f"< {_fmt(edges[0])}"] + [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(edges[:-1], edges[1:],
                                                                                     strict=True)]
                + [f">= {_fmt(edges[-1])}"])

    def fit(self, y: pd.Series, target: str) -> TargetBins:
        """The bins for `y` (the training rows): here the recipe's cut points, nothing fitted."""
        return TargetBins(self.binning, [float(e) for e in self.cut_points()], self.bin_labels())

    def check_keys(self) -> list[Problem]:
        """The option's own keys (a missing or malformed one)."""
        return []

    def check(self, task: str) -> list[Problem]:
        problems = []
        if self.transform != "none":
            problems.append(Problem("target.transform", "applies to regression targets; target.binning makes "
                                                        "classes. Use one or the other."))
        problems += self.check_keys()
        k = self.n_bins()
        binned_task = self.binned_task()
        if k >= 2 and task not in ("auto", binned_task):
            problems.append(Problem("task", f"{task!r}, but target.binning makes {k} classes ({binned_task}); set "
                                            f"task: auto or {binned_task}."))
        if problems or not self.labels:
            return problems
        if len(self.labels) != k:
            return [Problem("target.labels", f"{len(self.labels)} labels for {k} bins; give one label per bin, "
                                             "lowest bin first.")]
        if len({str(lab) for lab in self.labels}) != k:
            return [Problem("target.labels", f"labels must be distinct; got {self.labels}.")]
        if len({type(lab) for lab in self.labels}) > 1:
            return [Problem("target.labels", f"labels must all be text or all be integers; got {self.labels}.")]
        return []


@TARGET.register
class Edges(_Binned):
    summary: ClassVar[str] = "explicit inner cut points: k edges give k + 1 classes"
    binning: Literal["edges"]
    edges: list[float] = Field(default_factory=list, description="inner cut points, increasing (k edges give "
                                                                 "k + 1 classes)")

    def n_bins(self) -> int:
        return len(self.edges) + 1

    def cut_points(self) -> list[float]:
        return list(self.edges)

    def check_keys(self) -> list[Problem]:
        if not self.edges:
            return [Problem("target.edges", "binning 'edges' needs at least one cut point, e.g. [5.5, 6.5].")]
        if any(b <= a for a, b in zip(self.edges[:-1], self.edges[1:], strict=True)):
            return [Problem("target.edges", f"cut points must increase strictly; got {self.edges}.")]
        return []


@TARGET.register
class Threshold(_Binned):
    summary: ClassVar[str] = "one cut point: two classes (binary)"
    binning: Literal["threshold"]
    threshold: float | None = Field(None, description="where the upper of two classes starts")

    def n_bins(self) -> int:
        return 2

    def cut_points(self) -> list[float]:
        return [self.threshold] if self.threshold is not None else [np.nan]

    def check_keys(self) -> list[Problem]:
        if self.threshold is None:
            return [Problem("target.threshold", "binning 'threshold' needs threshold, the value where the upper "
                                                "class starts.")]
        return []


@TARGET.register
class Quantiles(_Binned):
    summary: ClassVar[str] = "equal-frequency bins whose edges are fitted on the training split only"
    fits: ClassVar[bool] = True
    binning: Literal["quantiles"]
    quantiles: int | list[float] | None = Field(None, description="number of equal-frequency bins, or cut "
                                                                  "probabilities in (0, 1)")

    def n_bins(self) -> int:
        q = self.quantiles
        return len(q) + 1 if isinstance(q, list) else int(q or 0)

    def bin_labels(self) -> list[Any]:
        return list(self.labels) if self.labels else [f"q{i + 1}" for i in range(self.n_bins())]

    def fit(self, y: pd.Series, target: str) -> TargetBins:
        q = self.quantiles
        probs = list(q) if isinstance(q, list) else [i / q for i in range(1, q)]
        edges = [float(e) for e in np.quantile(y.to_numpy(dtype=float), probs)]
        if len(set(edges)) < len(edges):
            raise DataError(f"target.quantiles: {self.n_bins()} quantile bins of {target!r} give repeated edges "
                            f"({', '.join(_fmt(e) for e in edges)}): many rows share a value. Use fewer bins or "
                            "target.binning: edges.")
        return TargetBins("quantiles", edges, self.bin_labels())

    def check_keys(self) -> list[Problem]:
        q = self.quantiles
        if q is None:
            return [Problem("target.quantiles", "binning 'quantiles' needs quantiles: a number of bins (>= 2) or "
                                                "cut probabilities such as [0.25, 0.5, 0.75].")]
        if isinstance(q, list) and (not q or any(not 0 < p < 1 for p in q)
                                    or any(b <= a for a, b in zip(q[:-1], q[1:], strict=True))):
            return [Problem("target.quantiles", f"cut probabilities must increase strictly within (0, 1); got {q}.")]
        if isinstance(q, int) and q < 2:
            return [Problem("target.quantiles", f"needs at least 2 bins; got {q}.")]
        return []


TargetConfig, TARGET_FIELD = TARGET.field("target preparation")
