"""`resample`: class imbalance, one typed option per `resample.method` (imbalanced-learn samplers, class weights).

A sampler is the pipeline step named `resample`, right after `preprocess`, inside an imbalanced-learn Pipeline:
it acts only while fitting (inside each CV training fold, then on the training split) and never on validation or
holdout rows, since imbalanced-learn skips samplers in predict. The saved model is rebuilt without it
(`strip_samplers`). `class_weight` resamples nothing: it passes weights to estimators that take them.

Each option class owns its keys with their defaults (stated once, here), its checks (without data: `check`, with
the data: `check_data`), its builder (`build`: the unfitted sampler) and its record (`record`). Estimator
parameters are checked with imbalanced-learn's own `_parameter_constraints` (`mlengine.compat`), not copied here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from mlengine.compat import check_estimator_params
from mlengine.errors import DataError, Problem, did_you_mean
from mlengine.lazy import import_path
from mlengine.sections.registry import Option, Registry

RESAMPLE: Registry[ResampleOption] = Registry("resample", "method", default="none")
SAMPLING_STRATEGIES = ("auto", "minority", "not minority", "not majority", "all", "majority")


class ResampleOption(Option):
    """Base of the resample options: what the plan, the checks and the pipeline ask of any of them."""

    effect: ClassVar[str] = "none"  # none | weight | over | under | combine
    path: ClassVar[str | None] = None  # "module:Class" of the imbalanced-learn sampler (internal, never a recipe's)
    interpolates: ClassVar[bool] = False  # synthesizes rows by interpolating numbers: refuses categorical columns
    neighbours: ClassVar[tuple[str, ...]] = ()  # keys needing that many + 1 rows of each resampled class

    @property
    def sampler(self) -> bool:
        """A pipeline step that acts while fitting (class_weight and none are not)."""
        return self.path is not None

    @property
    def needs_finite(self) -> bool:
        """kNN-based samplers cannot take missing values."""
        return self.effect in ("over", "under", "combine") and self.method not in ("random_over", "random_under")

    @property
    def component(self) -> str:
        return self.path.split(":")[1] if self.path else ""

    def estimator_params(self) -> dict[str, Any]:
        """The sampler's constructor arguments taken from the recipe (sampling_strategy is resolved at build)."""
        return {k: v for k, v in self.settings().items() if k != "sampling_strategy"}

    def check(self, task: str, model_spec: Any, model_params: dict[str, Any]) -> list[Problem]:
        """Checks without data: the task, and the estimator's own parameter constraints."""
        if self.method == "none":
            return []
        problems = []
        if task == "regression":
            problems.append(Problem("resample.method", f"{self.method!r} balances classes; task is regression (use "
                                                       "resample.method: none, or bin the target with target.binning)."))
        if self.path:
            problems += check_estimator_params("resample", import_path(self.path), self.estimator_params())
        return problems

    def build(self, seed: int, classes: list[Any], categorical_idx: list[int]) -> Any:
        """The unfitted imbalanced-learn sampler."""
        kw = {"sampling_strategy": resolve_strategy(getattr(self, "sampling_strategy", None), classes),
              "random_state": seed, **self.estimator_params()}
        return import_path(self.path)(**kw)

    def check_data(self, categorical: list[str], y_folds: list[np.ndarray], y_train: Any,
                   classes: list[Any]) -> None:
        """Checks against the data before fitting; raises DataError."""

    def record(self, fitted: Any, X_tr: Any, y_tr: Any) -> dict[str, Any]:
        """What the run did, for metrics.json `resample`: these (search-applied) values and the class counts."""
        return {"method": self.method, "params": self.settings()}


class SamplerOption(ResampleOption):
    """An imbalanced-learn sampler: rows change while fitting only."""

    sampling_strategy: dict[str | int, int] | float | str | None = Field(
        None, description="auto (every class but the majority; the default), minority, not minority, not majority, "
                          "all; a minority/majority ratio in (0, 1] (binary); or class -> rows")

    @field_validator("sampling_strategy")
    @classmethod
    def _strategy(cls, v: Any) -> Any:
        if isinstance(v, str) and v not in SAMPLING_STRATEGIES:
            raise ValueError(f"got {v!r}.{did_you_mean(v, SAMPLING_STRATEGIES)} Allowed: "
                             f"{', '.join(SAMPLING_STRATEGIES)}, a ratio in (0, 1] (binary), or a mapping class -> "
                             "row count.")
        if isinstance(v, float | int) and not isinstance(v, bool) and not 0 < v <= 1:
            raise ValueError(f"a ratio must be in (0, 1] (minority / majority rows after resampling); got {v!r}.")
        return v

    def check(self, task: str, model_spec: Any, model_params: dict[str, Any]) -> list[Problem]:
        problems = super().check(task, model_spec, model_params)
        s = self.sampling_strategy
        if isinstance(s, float | int) and not isinstance(s, bool) and task == "multiclass":
            problems.append(Problem("resample.sampling_strategy", "a ratio only applies to binary tasks; use a "
                                                                  "mapping class -> row count for multiclass."))
        return problems

    def check_data(self, categorical: list[str], y_folds: list[np.ndarray], y_train: Any,
                   classes: list[Any]) -> None:
        resolve_strategy(self.sampling_strategy, classes)
        if self.interpolates and categorical:
            cols = ", ".join(repr(c) for c in categorical[:8])
            raise DataError(f"resample.method: {self.method!r} interpolates between rows and would invent "
                            f"categories for the categorical column(s) {cols}. Use method: smotenc (SMOTE for mixed "
                            "data), drop those columns, or pick random_over / random_under.")
        for key in self.neighbours:
            self._check_neighbours(key, getattr(self, key), y_folds, y_train, classes)
        self._check_ratio(y_train, classes)

    def _check_neighbours(self, key: str, k: int, y_folds: list[np.ndarray], y_train: Any,
                          classes: list[Any]) -> None:
        for cls in _resampled_classes(self.sampling_strategy, y_train, classes):
            smallest = min(int(np.sum(np.asarray(f, dtype=object) == cls)) for f in y_folds)
            if smallest < k + 1:
                n_train = int(np.sum(np.asarray(y_train, dtype=object) == cls))
                where = "in the smallest training fold" if len(y_folds) > 1 else "in the training split"
                hint = f"Set resample.{key} to at most {smallest - 1}" if smallest > 1 else "Use random_over instead"
                raise DataError(f"resample.{key}: {self.method} needs {key} + 1 = {k + 1} rows of each class it "
                                f"oversamples; class {cls!r} has only {smallest} {where} ({n_train} in the "
                                f"training split). {hint}, or merge rare classes.")

    def _check_ratio(self, y: Any, classes: list[Any]) -> None:
        """A float sampling_strategy must move the minority/majority ratio the way the sampler works."""
        s = self.sampling_strategy
        if not isinstance(s, float | int) or isinstance(s, bool) or len(classes) != 2:
            return
        counts = sorted(int(np.sum(np.asarray(y, dtype=object) == c)) for c in classes)
        current = counts[0] / counts[1]
        if s < current:
            raise DataError(f"resample.sampling_strategy: {s} asks for a minority/majority ratio below the "
                            f"current {current:.3f} of the training split; a ratio is the target after resampling, "
                            f"so give a value above {current:.3f} (1.0 balances the classes).")

    def record(self, fitted: Any, X_tr: Any, y_tr: Any) -> dict[str, Any]:
        """Class counts of the training split before and after the (fitted, seeded) sampler, replayed once."""
        names = [n for n, _ in fitted.steps]
        i = names.index("resample")
        _, y_res = fitted.steps[i][1].fit_resample(fitted[:i].transform(X_tr), np.asarray(y_tr))
        return {**super().record(fitted, X_tr, y_tr), "placement": "fit_only",
                "training_counts_before": counts(y_tr), "training_counts_after": counts(y_res),
                "note": "validation folds and holdout rows are never resampled"}


K_NEIGHBORS = Field(5, description="neighbours to interpolate from")


# ------------------------------------------------------------------------------------------------ options ---
@RESAMPLE.register
class NoResample(ResampleOption):
    summary: ClassVar[str] = "no resampling"
    method: Literal["none"] = Field("none", description="imbalance handling, fitted inside each training fold only")


@RESAMPLE.register
class ClassWeight(ResampleOption):
    summary: ClassVar[str] = "no rows change: class weights (balanced or a mapping) passed to the estimator"
    effect: ClassVar[str] = "weight"
    method: Literal["class_weight"]
    weights: dict[str | int, float] | Literal["balanced"] = Field(
        "balanced", description="'balanced' (weights inverse to class frequency) or class -> weight (others 1)")

    def check(self, task: str, model_spec: Any, model_params: dict[str, Any]) -> list[Problem]:
        problems = super().check(task, model_spec, model_params)
        if not model_spec.class_weight:
            from mlengine.sections.model import MODELS

            takers = ", ".join(n for n, s in MODELS.items() if s.class_weight)
            problems.append(Problem("resample.method", f"'class_weight' needs a model that takes class weights; "
                                                       f"{model_spec.name!r} does not (models that do: {takers})."))
        if "class_weight" in model_params:
            problems.append(Problem("model.params.class_weight", "is also set by resample.method: class_weight; "
                                                                 "set it in one place."))
        return problems

    def check_data(self, categorical: list[str], y_folds: list[np.ndarray], y_train: Any,
                   classes: list[Any]) -> None:
        self.class_weights(classes)

    def class_weights(self, classes: list[Any]) -> Any:
        """The estimator's class_weight: 'balanced' or {class value: weight} over every class."""
        if isinstance(self.weights, dict):
            out = {_match_class(k, classes): float(v) for k, v in self.weights.items()}
            return {c: out.get(c, 1.0) for c in classes}
        return self.weights

    def record(self, fitted: Any, X_tr: Any, y_tr: Any) -> dict[str, Any]:
        return {"method": "class_weight", "class_weight": fitted.steps[-1][1].get_params().get("class_weight"),
                "note": "no rows resampled; weights passed to the estimator"}


@RESAMPLE.register
class RandomOver(SamplerOption):
    summary: ClassVar[str] = "duplicate minority rows at random (optionally smoothed: shrinkage)"
    effect, path = "over", "imblearn.over_sampling:RandomOverSampler"
    method: Literal["random_over"]
    shrinkage: float | None = Field(None, description="smoothed bootstrap spread (none = plain copies)")


@RESAMPLE.register
class RandomUnder(SamplerOption):
    summary: ClassVar[str] = "drop majority rows at random"
    effect, path = "under", "imblearn.under_sampling:RandomUnderSampler"
    method: Literal["random_under"]
    replacement: bool = Field(False, description="draw with replacement")


@RESAMPLE.register
class Smote(SamplerOption):
    summary: ClassVar[str] = "synthesize minority rows between nearest neighbours (numeric features only)"
    effect, path, interpolates, neighbours = "over", "imblearn.over_sampling:SMOTE", True, ("k_neighbors",)
    method: Literal["smote"]
    k_neighbors: int = K_NEIGHBORS


@RESAMPLE.register
class SmoteNC(SamplerOption):
    summary: ClassVar[str] = "SMOTE for mixed data: categorical codes are copied from neighbours, not interpolated"
    effect, path, neighbours = "over", "imblearn.over_sampling:SMOTENC", ("k_neighbors",)
    method: Literal["smotenc"]
    k_neighbors: int = K_NEIGHBORS

    def build(self, seed: int, classes: list[Any], categorical_idx: list[int]) -> Any:
        return import_path(self.path)(categorical_features=list(categorical_idx), random_state=seed,
                                      sampling_strategy=resolve_strategy(self.sampling_strategy, classes),
                                      **self.estimator_params())

    def check_data(self, categorical: list[str], y_folds: list[np.ndarray], y_train: Any,
                   classes: list[Any]) -> None:
        if not categorical:
            raise DataError("resample.method: 'smotenc' is SMOTE for data with categorical columns; this data has "
                            "none. Use method: smote.")
        super().check_data(categorical, y_folds, y_train, classes)


@RESAMPLE.register
class BorderlineSmote(SamplerOption):
    summary: ClassVar[str] = "SMOTE on minority rows near the class border"
    effect, path, interpolates, neighbours = "over", "imblearn.over_sampling:BorderlineSMOTE", True, ("k_neighbors",)
    method: Literal["borderline_smote"]
    k_neighbors: int = K_NEIGHBORS
    m_neighbors: int = Field(10, description="neighbours that decide if a row is on the border")
    kind: Literal["borderline-1", "borderline-2"] = Field("borderline-1", description="the variant: borderline-2 "
                                                          "also interpolates towards majority neighbours")


@RESAMPLE.register
class Adasyn(SamplerOption):
    summary: ClassVar[str] = "synthesize more rows where the minority class is harder to learn"
    effect, path, interpolates, neighbours = "over", "imblearn.over_sampling:ADASYN", True, ("n_neighbors",)
    method: Literal["adasyn"]
    n_neighbors: int = Field(5, description="neighbours used to weigh how hard each minority row is")


@RESAMPLE.register
class Tomek(SamplerOption):
    summary: ClassVar[str] = "remove majority rows of Tomek links (cross-class nearest-neighbour pairs)"
    effect, path = "under", "imblearn.under_sampling:TomekLinks"
    method: Literal["tomek"]

    def build(self, seed: int, classes: list[Any], categorical_idx: list[int]) -> Any:
        return import_path(self.path)(sampling_strategy=resolve_strategy(self.sampling_strategy, classes))


class _SmoteThenClean(SamplerOption):
    """SMOTE followed by a cleaning sampler: k_neighbors is the inner SMOTE's."""

    interpolates, neighbours = True, ("k_neighbors",)
    k_neighbors: int = K_NEIGHBORS

    def check(self, task: str, model_spec: Any, model_params: dict[str, Any]) -> list[Problem]:
        problems = super().check(task, model_spec, model_params)
        smote = import_path("imblearn.over_sampling:SMOTE")
        return problems + check_estimator_params("resample", smote, {"k_neighbors": self.k_neighbors})

    def estimator_params(self) -> dict[str, Any]:
        return {}

    def build(self, seed: int, classes: list[Any], categorical_idx: list[int]) -> Any:
        smote = import_path("imblearn.over_sampling:SMOTE")(k_neighbors=self.k_neighbors, random_state=seed)
        return import_path(self.path)(smote=smote, random_state=seed,
                                      sampling_strategy=resolve_strategy(self.sampling_strategy, classes))


@RESAMPLE.register
class SmoteEnn(_SmoteThenClean):
    summary: ClassVar[str] = "SMOTE, then clean with edited nearest neighbours"
    effect, path = "combine", "imblearn.combine:SMOTEENN"
    method: Literal["smoteenn"]


@RESAMPLE.register
class SmoteTomek(_SmoteThenClean):
    summary: ClassVar[str] = "SMOTE, then remove Tomek links"
    effect, path = "combine", "imblearn.combine:SMOTETomek"
    method: Literal["smotetomek"]


@RESAMPLE.register
class NearMiss(SamplerOption):
    summary: ClassVar[str] = "keep the majority rows nearest to the minority class (NearMiss-1, -2 or -3)"
    effect, path = "under", "imblearn.under_sampling:NearMiss"
    method: Literal["near_miss"]
    version: Literal[1, 2, 3] = Field(1, description="1: majority rows closest to their nearest minority rows; 2: "
                                                     "closest to the farthest; 3: a few per minority row")
    n_neighbors: int = Field(3, description="minority neighbours each majority row is measured against")

    def build(self, seed: int, classes: list[Any], categorical_idx: list[int]) -> Any:
        return import_path(self.path)(sampling_strategy=resolve_strategy(self.sampling_strategy, classes),
                                      **self.estimator_params())  # deterministic: takes no random_state

    def check_data(self, categorical: list[str], y_folds: list[np.ndarray], y_train: Any,
                   classes: list[Any]) -> None:
        super().check_data(categorical, y_folds, y_train, classes)
        minority = min(classes, key=lambda c: int(np.sum(np.asarray(y_train, dtype=object) == c)))
        smallest = min(int(np.sum(np.asarray(f, dtype=object) == minority)) for f in y_folds)
        if smallest < self.n_neighbors:
            raise DataError(f"resample.n_neighbors: near_miss measures each majority row against its "
                            f"{self.n_neighbors} nearest rows of class {minority!r}, which has only {smallest} in "
                            f"the smallest training fold. Set resample.n_neighbors to at most {smallest}.")


ResampleConfig, RESAMPLE_FIELD = RESAMPLE.field("class imbalance handling, fitted inside each training fold only")


# ------------------------------------------------------------------------------------------------ helpers ---
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


def _resampled_classes(strategy: Any, y: Any, classes: list[Any]) -> list[Any]:
    """Classes an over-sampler will synthesize rows for (imbalanced-learn's 'auto' = every class but the majority)."""
    strategy = resolve_strategy(strategy, classes)
    n = {c: int(np.sum(np.asarray(y, dtype=object) == c)) for c in classes}
    if isinstance(strategy, dict):
        return [c for c, rows in strategy.items() if rows > n.get(c, 0)]
    if strategy == "minority" or isinstance(strategy, float | int):
        return [min(n, key=n.get)]
    if strategy == "all":
        return list(classes)
    majority = max(n, key=n.get)
    return [c for c in classes if c != majority]


def counts(y: Any) -> dict[str, int]:
    values, n = np.unique(np.asarray(y).astype(str), return_counts=True)
    return {str(v): int(c) for v, c in zip(values, n, strict=True)}


def strip_samplers(pipeline: Any) -> Any:
    """The fitted pipeline as a plain scikit-learn Pipeline without sampler steps (fitted steps unchanged)."""
    from sklearn.pipeline import Pipeline

    steps = [(n, s) for n, s in pipeline.steps if not (hasattr(s, "fit_resample") and not hasattr(s, "transform"))]
    return Pipeline(steps)
