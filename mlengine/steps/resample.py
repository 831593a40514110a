"""Class imbalance: imbalanced-learn samplers and class weights, keyed by the names recipes use.

A sampler is the pipeline step named `resample`, right after `preprocess`, inside an imbalanced-learn Pipeline:
it acts only while fitting (inside each CV training fold, then on the training split) and never on validation or
holdout rows, since imbalanced-learn skips samplers in predict. The saved model is rebuilt without it
(`strip_samplers`). `class_weight` resamples nothing: it passes weights to estimators that take them.

Checks that need the data (k_neighbors against the class counts of the smallest training fold, categorical
columns against interpolating samplers) run before anything is fitted (`check_sampler_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlengine.errors import DataError, Problem
from mlengine.lazy import import_path
from mlengine.steps.options import foreign_params


@dataclass(frozen=True)
class SamplerSpec:
    name: str
    description: str
    path: str | None  # "module:Class" (internal only, never from a recipe)
    params: tuple[str, ...]  # recipe keys the method accepts
    kind: str  # none | weight | over | under | combine
    interpolates: bool = False  # synthesizes rows by interpolating numbers: refuses categorical columns
    neighbours: tuple[tuple[str, int], ...] = ()  # (recipe key, default) needing that many rows per resampled class

    @property
    def needs_finite(self) -> bool:
        """kNN-based samplers cannot take missing values."""
        return self.kind not in ("none", "weight") and self.name not in ("random_over", "random_under")


SAMPLERS: dict[str, SamplerSpec] = {s.name: s for s in [
    SamplerSpec("none", "no resampling", None, (), "none"),
    SamplerSpec("class_weight", "no rows change: class weights (balanced or a mapping) passed to the estimator",
                None, ("weights",), "weight"),
    SamplerSpec("random_over", "duplicate minority rows at random (optionally smoothed: shrinkage)",
                "imblearn.over_sampling:RandomOverSampler", ("sampling_strategy", "shrinkage"), "over"),
    SamplerSpec("random_under", "drop majority rows at random", "imblearn.under_sampling:RandomUnderSampler",
                ("sampling_strategy", "replacement"), "under"),
    SamplerSpec("smote", "synthesize minority rows between nearest neighbours (numeric features only)",
                "imblearn.over_sampling:SMOTE", ("sampling_strategy", "k_neighbors"), "over", True,
                (("k_neighbors", 5),)),
    SamplerSpec("smotenc", "SMOTE for mixed data: categorical codes are copied from neighbours, not interpolated",
                "imblearn.over_sampling:SMOTENC", ("sampling_strategy", "k_neighbors"), "over", False,
                (("k_neighbors", 5),)),
    SamplerSpec("borderline_smote", "SMOTE on minority rows near the class border",
                "imblearn.over_sampling:BorderlineSMOTE", ("sampling_strategy", "k_neighbors", "m_neighbors", "kind"),
                "over", True, (("k_neighbors", 5),)),
    SamplerSpec("adasyn", "synthesize more rows where the minority class is harder to learn",
                "imblearn.over_sampling:ADASYN", ("sampling_strategy", "n_neighbors"), "over", True,
                (("n_neighbors", 5),)),
    SamplerSpec("tomek", "remove majority rows of Tomek links (cross-class nearest-neighbour pairs)",
                "imblearn.under_sampling:TomekLinks", ("sampling_strategy",), "under"),
    SamplerSpec("smoteenn", "SMOTE, then clean with edited nearest neighbours", "imblearn.combine:SMOTEENN",
                ("sampling_strategy", "k_neighbors"), "combine", True, (("k_neighbors", 5),)),
    SamplerSpec("smotetomek", "SMOTE, then remove Tomek links", "imblearn.combine:SMOTETomek",
                ("sampling_strategy", "k_neighbors"), "combine", True, (("k_neighbors", 5),)),
]}
RESAMPLE_METHODS = {name: s.description for name, s in SAMPLERS.items()}
SAMPLING_STRATEGIES = ("auto", "minority", "not minority", "not majority", "all", "majority")


def is_sampler(method: str) -> bool:
    return SAMPLERS[method].path is not None


def _match_class(key: Any, classes: list[Any]) -> Any:
    for c in classes:
        if c == key or str(c) == str(key):
            return c
    raise DataError(f"resample: class {key!r} is not among the target's classes "
                    f"({', '.join(repr(c) for c in classes)}).")


def resolve_strategy(strategy: Any, classes: list[Any]) -> Any:
    """The sampling_strategy with mapping keys turned into the target's class values."""
    if strategy is None:
        return "auto"
    if isinstance(strategy, dict):
        return {_match_class(k, classes): int(v) for k, v in strategy.items()}
    return strategy


def build_sampler(section: dict[str, Any], seed: int, classes: list[Any], categorical_idx: list[int]) -> Any:
    """An unfitted imbalanced-learn sampler for the recipe's `resample` section."""
    spec = SAMPLERS[section["method"]]
    cls = import_path(spec.path)
    kw: dict[str, Any] = {"sampling_strategy": resolve_strategy(section.get("sampling_strategy"), classes)}
    if spec.name != "tomek":
        kw["random_state"] = seed
    for key in spec.params:
        if key in ("sampling_strategy",) or section.get(key) is None:
            continue
        kw[key] = section[key]
    if spec.name in ("smoteenn", "smotetomek"):
        smote = import_path("imblearn.over_sampling:SMOTE")(k_neighbors=kw.pop("k_neighbors", 5), random_state=seed)
        return cls(smote=smote, **kw)
    if spec.name == "smotenc":
        return cls(categorical_features=list(categorical_idx), **kw)
    return cls(**kw)


def class_weights(section: dict[str, Any], classes: list[Any]) -> Any:
    """The estimator's class_weight for `method: class_weight` ('balanced' or {class value: weight})."""
    weights = section.get("weights") or "balanced"
    if isinstance(weights, dict):
        out = {_match_class(k, classes): float(v) for k, v in weights.items()}
        return {c: out.get(c, 1.0) for c in classes}
    return weights


def strip_samplers(pipeline: Any) -> Any:
    """The fitted pipeline as a plain scikit-learn Pipeline without sampler steps (fitted steps unchanged)."""
    from sklearn.pipeline import Pipeline

    steps = [(n, s) for n, s in pipeline.steps if not (hasattr(s, "fit_resample") and not hasattr(s, "transform"))]
    return Pipeline(steps)


# ------------------------------------------------------------------------------------------ recipe checks ---
def check_section(section: Any, task: str, model_spec: Any, model_params: dict[str, Any]) -> list[Problem]:
    """Checks without data: parameters that belong to another method, task, class_weight support."""
    method = section.method
    problems = foreign_params(section, "resample", "method", {n: s.params for n, s in SAMPLERS.items()})
    if method == "none":
        return problems
    if task == "regression":
        problems.append(Problem("resample.method", f"{method!r} balances classes; task is regression (use "
                                                   "resample.method: none, or bin the target with target.binning)."))
    if method == "class_weight":
        if not model_spec.class_weight:
            takers = ", ".join(n for n, s in _models().items() if s.class_weight)
            problems.append(Problem("resample.method", f"'class_weight' needs a model that takes class weights; "
                                                       f"{model_spec.name!r} does not (models that do: {takers})."))
        if "class_weight" in model_params:
            problems.append(Problem("model.params.class_weight", "is also set by resample.method: class_weight; "
                                                                 "set it in one place."))
    strategy = section.sampling_strategy
    if isinstance(strategy, str) and strategy not in SAMPLING_STRATEGIES:
        from mlengine.errors import did_you_mean

        problems.append(Problem("resample.sampling_strategy", f"got {strategy!r}.{did_you_mean(strategy, SAMPLING_STRATEGIES)} "
                                f"Allowed: {', '.join(SAMPLING_STRATEGIES)}, a ratio in (0, 1] (binary), or a "
                                "mapping class -> row count."))
    if isinstance(strategy, float | int) and not isinstance(strategy, bool):
        if not 0 < strategy <= 1:
            problems.append(Problem("resample.sampling_strategy", f"a ratio must be in (0, 1] (minority / majority "
                                                                  f"rows after resampling); got {strategy!r}."))
        if task == "multiclass":
            problems.append(Problem("resample.sampling_strategy", "a ratio only applies to binary tasks; use a "
                                                                  "mapping class -> row count for multiclass."))
    return problems


def _models() -> dict[str, Any]:
    from mlengine.steps.models import MODELS

    return MODELS


def check_sampler_data(section: dict[str, Any], categorical: list[str], y_folds: list[np.ndarray],
                       y_train: Any, classes: list[Any]) -> None:
    """Data checks before fitting: categorical columns vs the method, and neighbour counts per training fold.

    `y_folds` are the targets of each CV training fold (or just the training split when there is no CV).
    """
    method = section["method"]
    spec = SAMPLERS[method]
    if spec.interpolates and categorical:
        cols = ", ".join(repr(c) for c in categorical[:8])
        raise DataError(f"resample.method: {method!r} interpolates between rows and would invent categories for "
                        f"the categorical column(s) {cols}. Use method: smotenc (SMOTE for mixed data), drop those "
                        "columns, or pick random_over / random_under.")
    if method == "smotenc" and not categorical:
        raise DataError("resample.method: 'smotenc' is SMOTE for data with categorical columns; this data has none. "
                        "Use method: smote.")
    if not spec.neighbours:
        return
    resampled = _resampled_classes(section, y_train, classes, spec.kind)
    for key, default in spec.neighbours:
        k = section.get(key) or default
        for cls in resampled:
            per_fold = [int(np.sum(np.asarray(f, dtype=object) == cls)) for f in y_folds]
            smallest = min(per_fold)
            if smallest < k + 1:
                n_train = int(np.sum(np.asarray(y_train, dtype=object) == cls))
                where = "in the smallest training fold" if len(y_folds) > 1 else "in the training split"
                hint = (f"Set resample.{key} to at most {smallest - 1}" if smallest > 1 else
                        "Use random_over instead")
                raise DataError(f"resample.{key}: {method} needs {key} + 1 = {k + 1} rows of each class it "
                                f"oversamples; class {cls!r} has only {smallest} {where} ({n_train} in the "
                                f"training split). {hint}, or merge rare classes.")


def _resampled_classes(section: dict[str, Any], y: Any, classes: list[Any], kind: str) -> list[Any]:
    """Classes an over-sampler will synthesize rows for (imbalanced-learn's 'auto' = every class but the majority)."""
    strategy = resolve_strategy(section.get("sampling_strategy"), classes)
    counts = {c: int(np.sum(np.asarray(y, dtype=object) == c)) for c in classes}
    majority = max(counts, key=counts.get)
    if isinstance(strategy, dict):
        return [c for c, n in strategy.items() if n > counts.get(c, 0)]
    if strategy == "minority" or isinstance(strategy, float | int):
        return [min(counts, key=counts.get)]
    if strategy == "all":
        return list(classes)
    return [c for c in classes if c != majority]


def check_ratio(section: dict[str, Any], y: Any, classes: list[Any]) -> None:
    """A float sampling_strategy must move the minority/majority ratio the way the sampler works."""
    strategy = section.get("sampling_strategy")
    if not isinstance(strategy, float | int) or isinstance(strategy, bool) or len(classes) != 2:
        return
    counts = sorted(int(np.sum(np.asarray(y, dtype=object) == c)) for c in classes)
    current = counts[0] / counts[1]
    if strategy < current:
        raise DataError(f"resample.sampling_strategy: {strategy} asks for a minority/majority ratio below the "
                        f"current {current:.3f} of the training split; a ratio is the target after resampling, "
                        f"so give a value above {current:.3f} (1.0 balances the classes).")
