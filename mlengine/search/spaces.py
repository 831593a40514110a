"""Search spaces as data: per registered model, each hyperparameter's domain, bounds, initial and low-cost value.

The defaults follow FLAML's own estimators (`flaml.automl.model.LGBMEstimator.search_space` and friends): cost-related
parameters (trees, leaves) start at their cheapest value and their upper bounds scale with the number of training
rows; the search moves towards costly regions only when they pay. A recipe's `search.space.<model>.<param>` narrows,
widens, pins or adds parameters; `search.pipeline.<step>.<param>` adds pipeline parameters (SMOTE k_neighbors,
SelectKBest k, ...). Nothing here imports FLAML: `to_flaml` builds the FLAML domains when a search runs.

Integer bounds are inclusive (`randint` 2..10 can give 10); FLAML's exclusive upper bound is handled here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

DOMAINS = ("uniform", "loguniform", "quniform", "randint", "lograndint", "choice", "const")
NUMERIC = ("uniform", "loguniform", "quniform", "randint", "lograndint")
INTEGER = ("randint", "lograndint")
CLASSIFICATION = ("binary", "multiclass")


def _rows(n_rows: int, n_features: int, task: str) -> float | None:
    return n_rows


def _half_rows(n_rows: int, n_features: int, task: str) -> float | None:
    return n_rows // 2


def _sqrt_share(n_rows: int, n_features: int, task: str) -> float | None:
    """scikit-learn's max_features='sqrt' as a share of the features (classification forests)."""
    return 1.0 / math.sqrt(max(n_features, 1)) if task in CLASSIFICATION else None


# Named rules for bounds and initial values that depend on the data size (FLAML scales the same way).
DATA_RULES = {"rows": _rows, "rows/2": _half_rows, "1/sqrt(features)": _sqrt_share}


@dataclass(frozen=True)
class ParamSpec:
    """One searched parameter: a domain with bounds (or values), where the search starts and its cheap start."""

    domain: str
    low: float | None = None
    high: float | None = None
    q: float | None = None  # quniform step
    values: tuple[Any, ...] | None = None  # choice
    value: Any = None  # const (a pinned value)
    init: Any = None  # where the search starts (FLAML's init_value)
    low_cost: Any = None  # the cheapest value (FLAML's low_cost_init_value), for cost-related parameters
    high_cap: str | None = None  # DATA_RULES name: high = min(high, rule(data))
    init_rule: str | None = None  # DATA_RULES name: init = rule(data) when it applies (low widens to include it)
    tasks: tuple[str, ...] | None = None  # only for these tasks (None = all)

    def for_data(self, n_rows: int, n_features: int, task: str) -> ParamSpec:
        """Bounds and init resolved for a training set of n_rows x n_features."""
        spec = self
        if spec.high_cap and spec.high is not None:
            cap = DATA_RULES[spec.high_cap](n_rows, n_features, task)
            if cap is not None:
                floor = (spec.low or 0) + (1 if spec.domain in INTEGER else 0)
                spec = replace(spec, high=max(floor, min(spec.high, cap)))
        if spec.init_rule:
            init = DATA_RULES[spec.init_rule](n_rows, n_features, task)
            if init is not None:
                spec = replace(spec, init=init, low=min(spec.low, init) if spec.low is not None else None)
        for attr in ("init", "low_cost"):
            v = getattr(spec, attr)
            if v is not None and spec.domain in NUMERIC:
                spec = replace(spec, **{attr: spec.clip(v)})
        return spec

    def clip(self, v: Any) -> Any:
        """v moved into the bounds (integers rounded); choice values must be among the values."""
        if self.domain in NUMERIC:
            v = min(max(float(v), self.low), self.high)
            if self.domain in INTEGER:
                return int(round(v))
            if self.domain == "quniform" and self.q:
                v = min(max(round(v / self.q) * self.q, self.low), self.high)
            return float(v)
        return v

    def contains(self, v: Any) -> bool:
        if self.domain == "const":
            return v == self.value
        if self.domain == "choice":
            return v in (self.values or ())
        try:
            return self.low <= float(v) <= self.high
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        """Plan text, e.g. 'lograndint 4..min(32768, rows), start 4'."""
        if self.domain == "const":
            return f"pinned {self.value!r}"
        if self.domain == "choice":
            text = f"choice {list(self.values or ())}"
        else:
            high = f"min({_num(self.high)}, {self.high_cap})" if self.high_cap else _num(self.high)
            text = f"{self.domain} {_num(self.low)}..{high}" + (f" step {_num(self.q)}" if self.q else "")
        start = self.init_rule if self.init_rule else self.init
        if start is not None:
            text += f", start {start if isinstance(start, str) and self.init_rule else _num(start)}"
        if self.low_cost is not None:
            text += f", cheapest {_num(self.low_cost)}"
        return text

    def to_flaml(self) -> Any:
        """The FLAML domain (imports flaml.tune)."""
        from flaml import tune

        if self.domain == "const":
            return self.value
        if self.domain == "choice":
            return tune.choice(list(self.values or ()))
        lo, hi = self.low, self.high
        if self.domain == "uniform":
            return tune.uniform(lo, hi)
        if self.domain == "loguniform":
            return tune.loguniform(lo, hi)
        if self.domain == "quniform":
            return tune.quniform(lo, hi, self.q)
        if self.domain == "randint":
            return tune.randint(int(lo), int(hi) + 1)  # FLAML's upper bound is exclusive
        return tune.lograndint(int(lo), int(hi) + 1)

    def to_dict(self) -> dict[str, Any]:
        out = {"domain": self.domain}
        for k in ("low", "high", "q", "values", "value", "init", "low_cost", "high_cap", "init_rule"):
            v = getattr(self, k)
            if v is not None:
                out[k] = list(v) if isinstance(v, tuple) else v
        return out


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def P(domain: str, low: float | None = None, high: float | None = None, **kw: Any) -> ParamSpec:
    if "values" in kw and kw["values"] is not None:
        kw["values"] = tuple(kw["values"])
    return ParamSpec(domain, None if low is None else low, None if high is None else high, **kw)


@dataclass(frozen=True)
class ModelSpace:
    """A registered model's default space and its training cost relative to LightGBM (orders the search)."""

    params: dict[str, ParamSpec] = field(default_factory=dict)
    cost: float = 1.0


_TREE_COUNT = P("lograndint", 4, 32768, init=4, low_cost=4, high_cap="rows")
_FOREST = {
    "n_estimators": P("lograndint", 4, 2048, init=4, low_cost=4, high_cap="rows"),
    "max_features": P("loguniform", 0.1, 1.0, init=1.0, init_rule="1/sqrt(features)"),
    "max_leaf_nodes": P("lograndint", 4, 32768, init=4, low_cost=4, high_cap="rows/2"),
    "criterion": P("choice", values=("gini", "entropy"), init="gini", tasks=CLASSIFICATION),
}

# Default spaces per registered model (mlengine.sections.model.MODELS), after FLAML's estimators.
DEFAULT_SPACES: dict[str, ModelSpace] = {
    "lightgbm": ModelSpace({
        "n_estimators": _TREE_COUNT,
        "num_leaves": P("lograndint", 4, 32768, init=4, low_cost=4, high_cap="rows"),
        "min_child_samples": P("lograndint", 2, 128, init=20),
        "learning_rate": P("loguniform", 1 / 1024, 1.0, init=0.1),
        "max_bin": P("choice", values=(7, 15, 31, 63, 127, 255, 511, 1023, 2047), init=255),
        "colsample_bytree": P("uniform", 0.01, 1.0, init=1.0),
        "reg_alpha": P("loguniform", 1 / 1024, 1024, init=1 / 1024),
        "reg_lambda": P("loguniform", 1 / 1024, 1024, init=1.0),
    }, cost=1.0),
    # FLAML's XGBoostLimitDepthEstimator (depth-wise, as mlengine fits xgboost untuned, so the recipe's own model
    # is a point of the space): depth 1 and 4 trees are the cheapest start
    "xgboost": ModelSpace({
        "n_estimators": _TREE_COUNT,
        "max_depth": P("randint", 1, 16, init=6, low_cost=1),
        "min_child_weight": P("loguniform", 1 / 1024, 128, init=1.0),
        "learning_rate": P("loguniform", 1 / 1024, 1.0, init=0.1),
        "subsample": P("uniform", 0.1, 1.0, init=1.0),
        "colsample_bylevel": P("uniform", 0.01, 1.0, init=1.0),
        "colsample_bytree": P("uniform", 0.01, 1.0, init=1.0),
        "reg_alpha": P("loguniform", 1 / 1024, 1024, init=1 / 1024),
        "reg_lambda": P("loguniform", 1 / 1024, 1024, init=1.0),
    }, cost=1.6),
    # CatBoost's symmetric (oblivious) trees: the tree count and the depth are the cost knobs, so 4 trees of depth 1
    # are the cheapest start; learning rate and L2 leaf regularisation around CatBoost's own defaults. Every
    # parameter here has a value in the registry's defaults, so the untuned model is a point of the space. Cost:
    # ~4x LightGBM per fold (titanic, 5 folds: 2.7 s against 0.7 s at the registry defaults, 2 busy cores).
    "catboost": ModelSpace({
        "iterations": P("lograndint", 4, 4096, init=4, low_cost=4, high_cap="rows"),
        "depth": P("randint", 1, 10, init=6, low_cost=1),
        "learning_rate": P("loguniform", 1 / 1024, 1.0, init=0.1),
        "l2_leaf_reg": P("loguniform", 1 / 16, 64, init=3.0),
    }, cost=4.0),
    "random_forest": ModelSpace(dict(_FOREST), cost=2.0),
    "extra_trees": ModelSpace(dict(_FOREST), cost=1.9),
    "hist_gradient_boosting": ModelSpace({
        "max_iter": P("lograndint", 4, 32768, init=4, low_cost=4, high_cap="rows"),
        "max_leaf_nodes": P("lograndint", 4, 32768, init=4, low_cost=4, high_cap="rows"),
        "min_samples_leaf": P("lograndint", 2, 128, init=20),
        "learning_rate": P("loguniform", 1 / 1024, 1.0, init=0.1),
        "l2_regularization": P("loguniform", 1 / 1024, 1024, init=1 / 1024),
        "max_features": P("uniform", 0.1, 1.0, init=1.0),
    }, cost=1.5),
    "logistic_regression": ModelSpace({"C": P("loguniform", 1 / 32, 32768, init=1.0)}, cost=25.0),
    "ridge": ModelSpace({"alpha": P("loguniform", 1 / 1024, 1024, init=1.0)}, cost=0.5),
    # FLAML's KNeighborsEstimator: one neighbour is the cheapest start; up to half the training rows
    "knn": ModelSpace({"n_neighbors": P("lograndint", 1, 512, init=5, low_cost=1, high_cap="rows/2")}, cost=3.0),
    # one hidden layer (its width is the cost knob) with L2 penalty and step size on log scales
    "mlp": ModelSpace({
        "hidden_layer_sizes": P("choice", values=(16, 32, 64, 128), init=16),
        "alpha": P("loguniform", 1e-6, 1.0, init=1e-4),
        "learning_rate_init": P("loguniform", 1e-4, 0.1, init=1e-3),
    }, cost=10.0),
    "dummy": ModelSpace({}, cost=0.1),
}


def default_space(model: str, task: str) -> dict[str, ParamSpec]:
    """The model's default space for a task ('auto' keeps every parameter)."""
    space = DEFAULT_SPACES.get(model, ModelSpace()).params
    return {k: v for k, v in space.items() if task == "auto" or v.tasks is None or task in v.tasks}


def model_cost(model: str) -> float:
    return DEFAULT_SPACES.get(model, ModelSpace()).cost


def override_spec(base: ParamSpec | None, entry: Any) -> ParamSpec:
    """Apply a recipe entry (a ParamSpace section, already validated) to a default spec, or build a new one.

    A pin (`value`) replaces the parameter by a constant; otherwise given fields replace the default's, so
    `{low: 8, high: 64}` narrows or widens the default domain and keeps its start values when they still fit.
    """
    given = entry.model_fields_set
    if "value" in given:
        return ParamSpec("const", value=entry.value)
    domain = entry.domain or (base.domain if base else None)
    if base is None or domain != base.domain:
        base = ParamSpec(domain)
    kw: dict[str, Any] = {}
    for name in ("low", "high", "q", "init", "low_cost"):
        if name in given:
            kw[name] = getattr(entry, name)
    if "values" in given:
        kw["values"] = tuple(entry.values or ())
    spec = replace(base, domain=domain, **kw)
    if "high" in given:
        spec = replace(spec, high_cap=None)
    if given & {"low", "high", "init"}:  # the recipe's bounds and start win over data-derived ones
        spec = replace(spec, init_rule=None)
    for name in ("init", "low_cost"):  # start values the new bounds exclude are dropped, not clipped silently
        v = getattr(spec, name)
        if name not in given and v is not None and spec.domain != "const" and not spec.contains(v):
            spec = replace(spec, **{name: None})
    return spec


def spec_problems(spec: ParamSpec) -> list[str]:
    """What is wrong with a (merged) spec, as sentences; empty when it is usable."""
    d = spec.domain
    if d is None:
        return ["a new parameter needs a `domain` (" + ", ".join(DOMAINS[:-1]) + ") or a pinned `value`."]
    if d == "const":
        return []
    if d == "choice":
        return [] if spec.values else ["domain 'choice' needs a non-empty `values` list."]
    out = []
    if spec.low is None or spec.high is None:
        return [f"domain {d!r} needs `low` and `high`."]
    if spec.low > spec.high:
        out.append(f"low {_num(spec.low)} is greater than high {_num(spec.high)}.")
    if d in ("loguniform", "lograndint") and spec.low <= 0:
        out.append(f"domain {d!r} needs low > 0 (a log scale); got low {_num(spec.low)}.")
    if d in INTEGER and (float(spec.low) != int(spec.low) or float(spec.high) != int(spec.high)):
        out.append(f"domain {d!r} needs integer bounds; got {_num(spec.low)}..{_num(spec.high)}.")
    if d == "quniform" and not (spec.q and spec.q > 0):
        out.append("domain 'quniform' needs a step `q` > 0.")
    if not out:
        for name in ("init", "low_cost"):
            v = getattr(spec, name)
            if v is not None and not spec.contains(v):
                out.append(f"{name} {v!r} is outside {_num(spec.low)}..{_num(spec.high)}.")
    return out
