"""`model`: the estimator, one typed option per `model.name` (lightgbm, xgboost, catboost, random_forest, ...).

Every option takes the same recipe keys (`params`, `n_jobs`, `early_stopping`); each carries its estimator facts,
`spec` (a `ModelSpec`), which says which tasks it serves, its family (which drives default preprocessing: trees get no scaling and
ordinal codes, linear models get scaling and one-hot), mlengine's defaults and how seeds and threads are set.
Estimator classes are imported only when a model is built or its parameters are validated, so importing this
module stays cheap.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import Field

from mlengine.errors import Problem, did_you_mean
from mlengine.lazy import import_path
from mlengine.sections.registry import Option, Registry, Section

CLASSIFICATION = frozenset({"binary", "multiclass"})
REGRESSION = frozenset({"regression"})
ALL_TASKS = CLASSIFICATION | REGRESSION

# Parameters mlengine sets itself: seeds come from `seed`, threads from `model.n_jobs`.
SCALED_FAMILIES = frozenset({"linear", "neighbors", "neural"})
RESERVED = {"random_state": "seed", "seed": "seed", "n_jobs": "model.n_jobs", "verbose": None, "verbosity": None,
            # CatBoost's names for the same, and its file writing (a run writes only inside its run directory)
            "random_seed": "seed", "thread_count": "model.n_jobs", "silent": None, "logging_level": None,
            "metric_period": None, "allow_writing_files": None, "train_dir": None, "save_snapshot": None,
            "snapshot_file": None, "cat_features": None}
# what a RESERVED name with no recipe key is controlled as, for the message
RESERVED_WHY = {"allow_writing_files": "mlengine turns CatBoost's file writing off", "train_dir": "mlengine turns "
                "CatBoost's file writing off", "save_snapshot": "mlengine turns CatBoost's file writing off",
                "snapshot_file": "mlengine turns CatBoost's file writing off",
                "cat_features": "mlengine passes the recipe's categorical columns as cat_features"}


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: how to build it and what it accepts."""

    name: str
    description: str
    family: str  # "tree" | "linear" | "neighbors" | "neural" | "dummy"
    tasks: frozenset[str]
    classifier: str | None  # "module:Class"; internal only, never taken from a recipe
    regressor: str | None
    defaults: dict[str, Any] = field(default_factory=dict)
    task_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeded: bool = True
    threaded: bool = False
    class_weight: bool = False
    native_missing: bool = False  # handles NaN itself (numeric imputation optional)
    early_stopping: bool = False  # a booster that can stop on a validation set (model.early_stopping)
    native_categorical: str | None = None  # the parameter that names categorical input columns (CatBoost's)
    seed_param: str = "random_state"
    threads_param: str = "n_jobs"
    onnx: bool = False  # an exact ONNX converter exists (mlengine/export/onnx_models.py); else joblib only
    onnx_refused: str = ""  # why a model without one is refused on purpose (the plan says so)

    @property
    def scaled(self) -> bool:
        """Distance- and gradient-based models want scaled numbers and one-hot categories; trees do not."""
        return self.family in SCALED_FAMILIES

    def class_path(self, task: str) -> str:
        path = self.classifier if task in CLASSIFICATION else self.regressor
        if path is None:
            raise ValueError(f"model {self.name} does not support task {task}")
        return path

    def estimator_class(self, task: str) -> type:
        return import_path(self.class_path(task))

    def param_names(self, task: str) -> set[str]:
        """Names the estimator accepts: a static list for LightGBM (so validation never imports it), else the
        scikit-learn constructor's signature."""
        if self.name in STATIC_PARAMS:
            return set(STATIC_PARAMS[self.name][0])
        return set(inspect.signature(self.estimator_class(task)).parameters) - {"kwargs"}

    def resolved_params(self, task: str, params: dict[str, Any], seed: int, n_jobs: int) -> dict[str, Any]:
        """mlengine defaults, then the recipe's params, then seed and threads."""
        out = {**self.defaults, **self.task_defaults.get(task, {}), **params}
        if self.seeded:
            out[self.seed_param] = seed
        if self.threaded:
            out[self.threads_param] = n_jobs
        return out

    def build(self, task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
        """An unfitted estimator for `task`."""
        return self.estimator_class(task)(**self.resolved_params(task, params, seed, n_jobs))


# LightGBM's scikit-learn constructor (4.x), plus core parameters it takes as **kwargs that are worth allowing.
LIGHTGBM_PARAMS = {
    "boosting_type", "class_weight", "colsample_bytree", "importance_type", "learning_rate", "max_depth",
    "min_child_samples", "min_child_weight", "min_split_gain", "n_estimators", "n_jobs", "num_leaves", "objective",
    "random_state", "reg_alpha", "reg_lambda", "subsample", "subsample_for_bin", "subsample_freq", "verbose",
    "max_bin", "min_data_in_leaf", "feature_fraction", "bagging_fraction", "bagging_freq", "lambda_l1",
    "lambda_l2", "extra_trees", "path_smooth", "min_sum_hessian_in_leaf", "deterministic", "force_row_wise",
    "force_col_wise", "linear_tree", "max_cat_to_onehot", "cat_smooth", "min_data_per_group",
}

_LGBM_TYPES: dict[str, tuple[type, float | None, float | None]] = {
    "n_estimators": (int, 1, None), "num_leaves": (int, 2, 131072), "max_depth": (int, -1, None),
    "learning_rate": (float, 0.0, None), "min_child_samples": (int, 0, None), "subsample": (float, 0.0, 1.0),
    "colsample_bytree": (float, 0.0, 1.0), "reg_alpha": (float, 0.0, None), "reg_lambda": (float, 0.0, None),
    "min_split_gain": (float, 0.0, None), "min_child_weight": (float, 0.0, None), "subsample_freq": (int, 0, None),
    "max_bin": (int, 2, None), "min_data_in_leaf": (int, 0, None), "feature_fraction": (float, 0.0, 1.0),
    "bagging_fraction": (float, 0.0, 1.0), "bagging_freq": (int, 0, None), "lambda_l1": (float, 0.0, None),
    "lambda_l2": (float, 0.0, None), "path_smooth": (float, 0.0, None),
}

# XGBoost's scikit-learn wrapper takes its parameters as **kwargs: the ones worth allowing, and value checks.
XGBOOST_PARAMS = {
    "n_estimators", "max_depth", "max_leaves", "max_bin", "grow_policy", "learning_rate", "booster", "tree_method",
    "gamma", "min_child_weight", "max_delta_step", "subsample", "sampling_method", "colsample_bytree",
    "colsample_bylevel", "colsample_bynode", "reg_alpha", "reg_lambda", "scale_pos_weight", "base_score",
    "objective", "eval_metric", "early_stopping_rounds", "importance_type", "num_parallel_tree", "max_cat_to_onehot",
    "n_jobs", "random_state", "verbosity",
}
_XGB_TYPES: dict[str, tuple[type, float | None, float | None]] = {
    "n_estimators": (int, 1, None), "max_depth": (int, 0, None), "max_leaves": (int, 0, None),
    "max_bin": (int, 2, None), "learning_rate": (float, 0.0, None), "gamma": (float, 0.0, None),
    "min_child_weight": (float, 0.0, None), "max_delta_step": (float, 0.0, None), "subsample": (float, 0.0, 1.0),
    "colsample_bytree": (float, 0.0, 1.0), "colsample_bylevel": (float, 0.0, 1.0),
    "colsample_bynode": (float, 0.0, 1.0), "reg_alpha": (float, 0.0, None), "reg_lambda": (float, 0.0, None),
    "scale_pos_weight": (float, 0.0, None), "num_parallel_tree": (int, 1, None),
    "early_stopping_rounds": (int, 1, None),
}
# CatBoost: the parameters worth allowing (its constructor has ~120), checked without importing catboost. Aliases
# (n_estimators, max_depth, eta, ...) are refused with the name to use, since CatBoost rejects a pair of them.
CATBOOST_PARAMS = {
    "iterations", "learning_rate", "depth", "l2_leaf_reg", "model_size_reg", "rsm", "loss_function", "border_count",
    "feature_border_type", "nan_mode", "leaf_estimation_iterations", "leaf_estimation_method",
    "leaf_estimation_backtracking", "one_hot_max_size", "random_strength", "bagging_temperature", "bootstrap_type",
    "subsample", "sampling_frequency", "grow_policy", "min_data_in_leaf", "max_leaves", "score_function",
    "boosting_type", "max_ctr_complexity", "simple_ctr", "combinations_ctr", "ctr_leaf_count_limit",
    "counter_calc_method", "final_ctr_computation_mode", "class_weights", "auto_class_weights", "scale_pos_weight",
    "eval_metric", "boost_from_average", "langevin", "diffusion_temperature", "model_shrink_rate",
    "model_shrink_mode", "monotone_constraints", "feature_weights", "random_score_type", "posterior_sampling",
    "od_type", "od_wait", "early_stopping_rounds", "random_seed", "thread_count", "verbose", "allow_writing_files",
    "cat_features",
}
CATBOOST_ALIASES = {"n_estimators": "iterations", "num_boost_round": "iterations", "num_trees": "iterations",
                    "max_depth": "depth", "eta": "learning_rate", "reg_lambda": "l2_leaf_reg", "max_bin": "border_count",
                    "colsample_bylevel": "rsm", "min_child_samples": "min_data_in_leaf", "num_leaves": "max_leaves",
                    "objective": "loss_function"}
_CB_TYPES: dict[str, tuple[type, float | None, float | None]] = {
    "iterations": (int, 1, None), "learning_rate": (float, 0.0, None), "depth": (int, 1, 16),
    "l2_leaf_reg": (float, 0.0, None), "model_size_reg": (float, 0.0, None), "rsm": (float, 0.0, 1.0),
    "border_count": (int, 1, 65535), "leaf_estimation_iterations": (int, 1, None), "one_hot_max_size": (int, 0, None),
    "random_strength": (float, 0.0, None), "bagging_temperature": (float, 0.0, None), "subsample": (float, 0.0, 1.0),
    "min_data_in_leaf": (int, 1, None), "max_leaves": (int, 2, 64), "max_ctr_complexity": (int, 0, None),
    "scale_pos_weight": (float, 0.0, None), "model_shrink_rate": (float, 0.0, 1.0),
    "diffusion_temperature": (float, 0.0, None), "od_wait": (int, 1, None), "early_stopping_rounds": (int, 1, None),
}
_CB_CHOICES = {"grow_policy": ("SymmetricTree", "Depthwise", "Lossguide"),
               "bootstrap_type": ("Bayesian", "Bernoulli", "MVS", "Poisson", "No"),
               "nan_mode": ("Min", "Max", "Forbidden"), "boosting_type": ("Ordered", "Plain"),
               "leaf_estimation_method": ("Newton", "Gradient", "Exact"),
               "auto_class_weights": ("Balanced", "SqrtBalanced"), "od_type": ("IncToDec", "Iter")}
_XGB_CHOICES = {"booster": ("gbtree", "gblinear", "dart"), "tree_method": ("hist", "approx", "exact", "auto"),
                "grow_policy": ("depthwise", "lossguide")}

MODEL: Registry[ModelOption] = Registry("model", "name", default="lightgbm")


class EarlyStoppingSection(Section):
    """Early stopping of boosting models (lightgbm, xgboost) inside each CV training fold (mlengine.steps.early_stopping)."""

    enabled: bool | None = Field(None, description="stop adding trees when a validation split carved from each "
                                                   "training fold stops improving; the refit uses the fold-mean "
                                                   "best iteration as n_estimators. null = on for boosting models "
                                                   "during a search, off for a fixed model")
    validation_fraction: float = Field(0.1, gt=0, le=0.5, description="share of each training fold held out for "
                                                                      "early stopping (stratified for "
                                                                      "classification, seeded); the rest fits "
                                                                      "the whole pipeline")
    patience: int = Field(50, ge=1, description="boosting rounds without improvement on the validation split "
                                                "before a fold stops")

    def active_for(self, model: str, searching: bool) -> bool:
        """Whether `model` is early-stopped: only boosting models, and by default only in a search."""
        if model not in MODELS or not MODELS[model].early_stopping:
            return False
        return searching if self.enabled is None else self.enabled


class ModelOption(Option):
    """Base of the model options. Every model takes the same recipe keys (its fixed params, threads, early
    stopping); what differs is its estimator facts, `spec` (classes, family, defaults, seeding, export)."""

    spec: ClassVar[ModelSpec]
    params: dict[str, Any] = Field(default_factory=dict, description="fixed hyperparameters, checked against "
                                                                     "the model")
    n_jobs: int = Field(0, ge=0, description="threads per estimator; 0 = all cores")
    early_stopping: EarlyStoppingSection = Field(default_factory=EarlyStoppingSection,
                                                 description="early stopping of boosting models inside CV folds")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            cls.summary = cls.spec.description
            name = typing.get_args(cls.model_fields["name"].annotation)[0]
            if cls.spec.name != name:
                raise ValueError(f"model option {name!r} carries the spec of {cls.spec.name!r}")

    def check(self, task: str) -> list[Problem]:
        """The model against the task, then its fixed params against the estimator's own parameters."""
        problems = check_model("model.name", self.name, task)
        if problems or not self.params:
            return problems
        return check_params("model.params", self.name, task, self.params)




@MODEL.register
class LightGBM(ModelOption):
    name: Literal["lightgbm"] = Field("lightgbm", description="registered model name (see `mlengine models`)")
    spec: ClassVar[ModelSpec] = ModelSpec(
        "lightgbm", "LightGBM gradient-boosted trees (fast, strong default for tabular data)", "tree",
        ALL_TASKS, "lightgbm:LGBMClassifier", "lightgbm:LGBMRegressor",
        defaults={"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 31, "verbose": -1,
                  "deterministic": True, "force_col_wise": True},
        threaded=True, class_weight=True, native_missing=True, early_stopping=True, onnx=True,
    )


@MODEL.register
class XGBoost(ModelOption):
    name: Literal["xgboost"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "xgboost", "XGBoost gradient-boosted trees (histogram method, CPU)", "tree", ALL_TASKS,
        "mlengine.steps.xgb:XGBLabelClassifier", "xgboost:XGBRegressor",
        defaults={"n_estimators": 200, "learning_rate": 0.1, "max_depth": 6, "tree_method": "hist",
                  "verbosity": 0},
        threaded=True, native_missing=True, early_stopping=True, onnx=True,
    )


@MODEL.register
class CatBoost(ModelOption):
    name: Literal["catboost"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "catboost", "CatBoost gradient-boosted oblivious trees (categorical columns handled natively, no one-hot)",
        "tree", ALL_TASKS, "mlengine.steps.catboost_model:CatBoostNativeClassifier",
        "mlengine.steps.catboost_model:CatBoostNativeRegressor",
        defaults={"iterations": 300, "learning_rate": 0.08, "depth": 6, "l2_leaf_reg": 3.0, "verbose": False,
                  "allow_writing_files": False},
        threaded=True, native_missing=True, native_categorical="cat_features", seed_param="random_seed",
        threads_param="thread_count",
        onnx_refused="CatBoost's own ONNX exporter takes no categorical features, and mlengine passes the "
                     "categorical columns to CatBoost natively (cat_features); mlengine's ONNX is one graph of "
                     "the whole pipeline, so a catboost model is written as joblib",
    )


@MODEL.register
class RandomForest(ModelOption):
    name: Literal["random_forest"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "random_forest", "scikit-learn random forest", "tree", ALL_TASKS,
        "sklearn.ensemble:RandomForestClassifier", "sklearn.ensemble:RandomForestRegressor",
        defaults={"n_estimators": 200}, threaded=True, class_weight=True, onnx=True,
    )


@MODEL.register
class ExtraTrees(ModelOption):
    name: Literal["extra_trees"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "extra_trees", "scikit-learn extremely randomized trees", "tree", ALL_TASKS,
        "sklearn.ensemble:ExtraTreesClassifier", "sklearn.ensemble:ExtraTreesRegressor",
        defaults={"n_estimators": 200}, threaded=True, class_weight=True, onnx=True,
    )


@MODEL.register
class HistGradientBoosting(ModelOption):
    name: Literal["hist_gradient_boosting"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "hist_gradient_boosting", "scikit-learn histogram gradient boosting", "tree", ALL_TASKS,
        "sklearn.ensemble:HistGradientBoostingClassifier", "sklearn.ensemble:HistGradientBoostingRegressor",
        defaults={"max_iter": 200, "early_stopping": False}, class_weight=True, native_missing=True, onnx=True,
    )


@MODEL.register
class LogisticRegression(ModelOption):
    name: Literal["logistic_regression"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "logistic_regression", "logistic regression (scaled, one-hot inputs)", "linear", CLASSIFICATION,
        "sklearn.linear_model:LogisticRegression", None, defaults={"max_iter": 2000}, class_weight=True,
        onnx=True,
    )


@MODEL.register
class Ridge(ModelOption):
    name: Literal["ridge"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "ridge", "ridge regression (scaled, one-hot inputs)", "linear", REGRESSION,
        None, "sklearn.linear_model:Ridge", seeded=False, onnx=True,
    )


@MODEL.register
class KNN(ModelOption):
    name: Literal["knn"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "knn", "k nearest neighbours (scaled, one-hot inputs; predicts from the closest training rows)",
        "neighbors", ALL_TASKS, "sklearn.neighbors:KNeighborsClassifier", "sklearn.neighbors:KNeighborsRegressor",
        defaults={"n_neighbors": 10}, seeded=False, threaded=True,
        onnx_refused="knn has no exact ONNX graph: training rows tied at the k-th nearest distance (duplicate "
                     "rows after encoding) are picked in an order scikit-learn does not define, so ONNX "
                     "predictions would differ on such rows (92 of 891 titanic rows with 10 neighbours)",
    )


@MODEL.register
class MLP(ModelOption):
    name: Literal["mlp"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "mlp", "multi-layer perceptron (scaled, one-hot inputs)", "neural", ALL_TASKS,
        "sklearn.neural_network:MLPClassifier", "sklearn.neural_network:MLPRegressor",
        defaults={"hidden_layer_sizes": [64], "max_iter": 300, "early_stopping": True}, onnx=True,
    )


@MODEL.register
class Dummy(ModelOption):
    name: Literal["dummy"]
    spec: ClassVar[ModelSpec] = ModelSpec(
        "dummy", "no-skill model: class prior or target mean (a floor, not a model)", "dummy", ALL_TASKS,
        "sklearn.dummy:DummyClassifier", "sklearn.dummy:DummyRegressor",
        task_defaults={"binary": {"strategy": "prior"}, "multiclass": {"strategy": "prior"}},
        seeded=False, onnx=True,
    )


# the estimator facts by model name (what search, export and the plan look up)
MODELS: dict[str, ModelSpec] = {name: cls.spec for name, cls in MODEL.items()}

ModelConfig, MODEL_FIELD = MODEL.field("the estimator and its fixed params")


# name -> (accepted parameter names, type table, choices) for estimators whose signature is **kwargs
STATIC_PARAMS = {"lightgbm": (LIGHTGBM_PARAMS, _LGBM_TYPES, {}), "xgboost": (XGBOOST_PARAMS, _XGB_TYPES, _XGB_CHOICES),
                 "catboost": (CATBOOST_PARAMS, _CB_TYPES, _CB_CHOICES)}
# name -> {alias: the parameter to set instead}
PARAM_ALIASES = {"catboost": CATBOOST_ALIASES}


def model_names(task: str | None = None) -> list[str]:
    if task in (None, "auto"):
        return sorted(MODELS)
    return sorted(n for n, s in MODELS.items() if task in s.tasks)


def check_model(path: str, name: str, task: str) -> list[Problem]:
    """Problems with a model name for a task ('auto' accepts any registered model)."""
    if name not in MODELS:
        return [Problem(path, f"unknown model {name!r}.{did_you_mean(name, MODELS)} Allowed: {', '.join(sorted(MODELS))}.")]
    spec = MODELS[name]
    if task != "auto" and task not in spec.tasks:
        return [Problem(path, f"model {name!r} does not fit task {task!r}; models for {task}: "
                              f"{', '.join(model_names(task))}.")]
    return []


def check_params(path: str, name: str, task: str, params: dict[str, Any]) -> list[Problem]:
    """Validate `params` for model `name`: unknown names (with the model they belong to), reserved names, values.

    scikit-learn estimators are checked with their own parameter constraints; LightGBM with a small type table.
    """
    spec = MODELS[name]
    task = task if task != "auto" else ("binary" if spec.classifier else "regression")
    problems: list[Problem] = []
    known = spec.param_names(task)
    good: dict[str, Any] = {}
    for key, value in params.items():
        alias = PARAM_ALIASES.get(name, {}).get(key)
        if key in RESERVED:
            where = RESERVED[key]
            hint = f"set `{where}` instead" if where else RESERVED_WHY.get(key, "mlengine controls verbosity")
            problems.append(Problem(f"{path}.{key}", f"{key!r} is set by mlengine ({hint})."))
        elif alias:
            problems.append(Problem(f"{path}.{key}", f"{key!r} is an alias in {name}; set {alias!r} instead (one "
                                                     f"name per setting)."))
        elif key not in known:
            owners = [n for n, s in MODELS.items() if n != name and key in _safe_names(s, task)]
            belongs = f" It is a parameter of {', '.join(owners)}, not of {name}." if owners else ""
            problems.append(Problem(
                f"{path}.{key}",
                f"{key!r} is not a parameter of model {name!r}.{belongs}{did_you_mean(key, known)}"
                f" Allowed: {', '.join(sorted(known - set(RESERVED)))}.",
            ))
        else:
            good[key] = value
    problems += _check_values(path, spec, task, good)
    return problems


def _safe_names(spec: ModelSpec, task: str) -> set[str]:
    try:
        t = task if task in spec.tasks else next(iter(spec.tasks))
        return spec.param_names(t)
    except ImportError:
        return set()


def _check_values(path: str, spec: ModelSpec, task: str, params: dict[str, Any]) -> list[Problem]:
    if spec.name in STATIC_PARAMS:
        return _check_static_values(path, params, *STATIC_PARAMS[spec.name][1:])
    cls = spec.estimator_class(task)
    problems: list[Problem] = []
    for key, value in params.items():  # one at a time so every bad value is reported
        try:
            cls(**{key: value})._validate_params()
        except Exception as exc:  # sklearn's InvalidParameterError (a ValueError/TypeError)
            msg = str(exc).replace(f"The {key!r} parameter of {cls.__name__} must be", "must be")
            problems.append(Problem(f"{path}.{key}", msg))
    return problems


def _check_static_values(path: str, params: dict[str, Any], types: dict[str, tuple[type, float | None, float | None]],
                         choices: dict[str, tuple[str, ...]]) -> list[Problem]:
    """Type, range and choice checks for estimators that take **kwargs (LightGBM, XGBoost)."""
    problems: list[Problem] = []
    for key, value in params.items():
        if key in choices and value not in choices[key]:
            problems.append(Problem(f"{path}.{key}", f"must be one of {', '.join(choices[key])}; got {value!r}."))
        if key not in types:
            continue
        typ, low, high = types[key]
        ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
        if typ is int and ok_type and float(value) != int(value):
            ok_type = False
        if not ok_type:
            problems.append(Problem(f"{path}.{key}", f"must be {'an int' if typ is int else 'a number'}; got {value!r}."))
        elif (low is not None and value < low) or (high is not None and value > high):
            rng = f"[{low}, {high if high is not None else 'inf'}]"
            problems.append(Problem(f"{path}.{key}", f"must be in {rng}; got {value!r}."))
    return problems


def estimator_summary(name: str, task: str, params: dict[str, Any]) -> str:
    """One-line text for plans: class name and the non-default params the recipe or mlengine set."""
    spec = MODELS[name]
    t = task if task in spec.tasks else ("binary" if spec.classifier else "regression")
    cls = spec.class_path(t).split(":")[1]
    shown = {**spec.defaults, **spec.task_defaults.get(t, {}), **params}
    shown.pop("verbose", None)
    shown.pop("verbosity", None)
    args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
    return f"{cls}({args})"

