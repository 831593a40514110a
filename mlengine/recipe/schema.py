"""The typed recipe: one class per section, every field with a type, a default and a one-line description.

The descriptions are the documentation: `mlengine.recipe.docs` renders them into the README's key reference.
Registry names (models, metrics, CV kinds) are checked here with did-you-mean messages; checks that need several
sections at once live in `mlengine.recipe.validate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from mlengine.errors import did_you_mean, unknown_name
from mlengine.sections.calibration import CALIBRATION, CALIBRATION_FIELD, CalibrationConfig
from mlengine.sections.cv import CV, CV_FIELD, CVConfig
from mlengine.sections.export import ExportSection
from mlengine.sections.reduce import REDUCE, REDUCE_FIELD, ReduceConfig
from mlengine.sections.registry import Registry, Section
from mlengine.sections.resample import RESAMPLE, RESAMPLE_FIELD, ResampleConfig
from mlengine.sections.select import SELECT, SELECT_FIELD, SelectConfig
from mlengine.sections.source import SOURCE_FIELD, SourceConfig
from mlengine.sections.split import SPLIT, SPLIT_FIELD, SplitConfig
from mlengine.sections.target import TARGET, TARGET_FIELD, TargetConfig
from mlengine.sections.threshold import THRESHOLD, THRESHOLD_FIELD, ThresholdConfig, ValueMatrix

TASKS = ("auto", "binary", "multiclass", "regression")
BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "diabetes", "digits")
DATETIME_PARTS = ("year", "month", "day", "dayofweek", "dayofyear", "hour", "minute")


def _choices(names: dict[str, str]) -> str:
    return "Methods: " + ", ".join(names) + "."


# ----------------------------------------------------------------------------------------------------- data ---
ColumnDtype = Literal["float", "int", "bool", "category", "str", "datetime"]


class ColumnSchema(Section):
    """One column of the data contract (checked on the raw table at load and again at predict)."""

    dtype: ColumnDtype | None = Field(None, description="force the column's type: float, int, bool, category, "
                                                        "str (categorical) or datetime; values that cannot be "
                                                        "read as it are contract violations")
    nullable: bool = Field(True, description="false: missing values are contract violations")
    ge: float | None = Field(None, description="every value must be >= this")
    le: float | None = Field(None, description="every value must be <= this")
    isin: list[str | int | float | bool] | None = Field(None, description="the only values allowed")
    regex: str | None = Field(None, description="every value (as text) must match this regular expression "
                                                "in full")
    unique: bool = Field(False, description="true: no value may repeat (missing values excepted)")
    description: str = Field("", description="what the column means (data dictionary)")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            import re

            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"{v!r} is not a valid regular expression ({exc}).") from None
        return v

    @model_validator(mode="after")
    def _bounds(self) -> ColumnSchema:
        if self.ge is not None and self.le is not None and self.ge > self.le:
            raise ValueError(f"ge ({self.ge:g}) is greater than le ({self.le:g}); no value could pass.")
        if (self.ge is not None or self.le is not None) and self.dtype in ("bool", "category", "str"):
            raise ValueError(f"ge/le apply to numbers and dates; dtype is {self.dtype!r}.")
        return self


class PiiSection(Section):
    """What to do with columns that look like personal data (the PII scan runs on every load)."""

    action: Literal["fail", "drop", "hash", "allow"] = Field(
        "fail", description="when a column looks like personal data: fail the run (default), drop the column, "
                            "hash its values (a BLAKE2b digest, applied again at predict), or allow it")
    allow: list[str] = Field(default_factory=list, description="columns known to be fine: never flagged")
    min_share: float = Field(0.05, gt=0.0, le=1.0, description="share of sampled values that must look like "
                                                                "personal data for a column to be flagged")


class DataSection(Section):
    source: SourceConfig = SOURCE_FIELD
    target: str = Field(description="column to predict")
    positive_class: str | int | bool | None = Field(
        None, description="binary only: the class whose probability is scored; default 1/True/'yes' if present, "
                          "else the minority class")
    drop: list[str] = Field(default_factory=list, description="columns never used (leaks, free text, ...)")
    id: str | None = Field(None, description="row identifier: not a feature, carried into predictions")
    group: str | None = Field(None, description="group column (e.g. customer): groups never straddle folds or the "
                                                "holdout when group-aware splits are used; not a feature")
    time: str | None = Field(None, description="time column: drives time-ordered splits; expanded into calendar "
                                               "features")
    schema_: dict[str, ColumnSchema] = Field(default_factory=dict, alias="schema",
                                             description="per-column types, rules (the data contract, checked at load "
                                                         "and at predict) and descriptions (data dictionary)")
    missing_target: Literal["fail", "drop"] = Field("fail", description="rows whose target is missing: fail "
                                                                        "(with their count) or drop them")
    on_violation: Literal["fail", "warn", "drop_rows"] = Field(
        "fail", description="data.schema contract violations: fail (every violation listed), warn, or drop the "
                            "offending rows (at predict, drop_rows warns: rows are never dropped silently)")
    pii: PiiSection = Field(default_factory=PiiSection, description="personal data found by the PII scan")
    inf: Literal["error", "missing"] = Field("error", description="infinite values in numeric feature columns: "
                                                                  "error (naming the columns) or read them as "
                                                                  "missing")


# ----------------------------------------------------------------------------------------------- modelling ---
class PreprocessSection(Section):
    numeric_impute: Literal["auto", "median", "mean", "most_frequent", "none"] = Field(
        "auto", description="missing numeric values: auto = none for models that handle NaN (lightgbm, "
                            "xgboost, catboost, hist_gradient_boosting), median otherwise")
    scale: Literal["auto", "standard", "robust", "minmax", "none"] = Field(
        "auto", description="numeric scaling: auto = standard for linear models, knn and mlp, "
                            "none for trees")
    categorical: Literal["auto", "onehot", "ordinal"] = Field(
        "auto", description="categorical encoding: auto = one-hot for linear models, knn and mlp, "
                            "ordinal codes for trees (catboost takes the code columns as its cat_features)")
    max_categories: int = Field(30, ge=2, description="one-hot: keep at most this many categories per column "
                                                      "(rarer ones grouped)")
    min_frequency: int = Field(5, ge=1, description="one-hot: categories seen fewer times are grouped as rare")
    datetime_features: list[Literal["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute"]] = Field(
        default_factory=lambda: ["year", "month", "day", "dayofweek", "hour"],
        description="calendar features derived from each datetime column")


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
        from mlengine.steps.models import MODELS

        if model not in MODELS or not MODELS[model].early_stopping:
            return False
        return searching if self.enabled is None else self.enabled


class ModelSection(Section):
    name: str = Field("lightgbm", description="registered model name (see `mlengine models`)")
    params: dict[str, Any] = Field(default_factory=dict, description="fixed hyperparameters, checked against "
                                                                     "the model")
    n_jobs: int = Field(0, ge=0, description="threads per estimator; 0 = all cores")
    early_stopping: EarlyStoppingSection = Field(default_factory=EarlyStoppingSection,
                                                 description="early stopping of boosting models inside CV folds")

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        from mlengine.steps.models import MODELS

        if v not in MODELS:
            raise ValueError(unknown_name("model", v, MODELS))
        return v


def _metric_name(v: str) -> str:
    from mlengine.evaluate.metrics import METRICS

    if v not in METRICS:
        raise ValueError(unknown_name("metric", v, METRICS))
    return v


MetricName = Annotated[str, AfterValidator(_metric_name)]


class RuleBaseline(Section):
    rule: str = Field(description="pandas expression over the raw columns, true = positive class (e.g. "
                                  "\"pay_1 >= 2\")")
    name: str | None = Field(None, description="name in metrics.json (default rule_<position>)")


def _baseline(v: Any) -> Any:
    if v != "no_skill":
        raise ValueError(f"unknown baseline {v!r}.{did_you_mean(v, ['no_skill'])} Allowed: no_skill, or "
                         "{rule: <pandas expression>, name: <name>}.")
    return v


# a baseline is the name `no_skill` or a mapping {rule: ..., name: ...}; the discriminator keeps errors to one
Baseline = Annotated[
    Annotated[Annotated[str, AfterValidator(_baseline)], Tag("name")] | Annotated[RuleBaseline, Tag("rule")],
    Discriminator(lambda v: "rule" if isinstance(v, dict | RuleBaseline) else "name")]


class Requirement(Section):
    metric: str = Field(description="a reported metric, or value_per_1000 (needs evaluate.value)")
    min: float | None = Field(None, description="the metric must be at least this")
    max: float | None = Field(None, description="the metric must be at most this")
    beats: str | None = Field(None, description="a baseline name the model must beat (direction-aware)")
    by: float = Field(0.0, ge=0, description="beats: by at least this margin")
    where: Literal["holdout", "cv"] = Field("holdout", description="judge the holdout score or the CV mean")


def source_from_path(value: Any) -> Any:
    """A bare file path stands for a csv or parquet source (by its suffix); anything else is left to the schema."""
    if not isinstance(value, str):
        return value
    suffix = value.rsplit(".", 1)[-1].lower() if "." in value else ""
    kinds = {"csv": "csv", "parquet": "parquet", "pq": "parquet"}
    if suffix not in kinds:
        raise ValueError(f"{value!r} is neither a .csv nor a .parquet path; give a path with one of those suffixes "
                         "or a source mapping such as {kind: sql, query: ...}.")
    return {"kind": kinds[suffix], "path": value}


class StabilitySection(Section):
    enabled: bool = Field(True, description="false: no stability report, even when the data has a time column")
    by: str | None = Field(None, description="column that orders the training rows into periods (datetime or "
                                             "numeric: equal-count buckets; categorical: one period per value); "
                                             "default data.time, else the first datetime feature, else no report")
    periods: int = Field(4, ge=2, le=50, description="number of equal-count periods of a datetime or numeric `by`")


class AdversarialSection(Section):
    data: Annotated[SourceConfig, BeforeValidator(source_from_path)] = Field(
        description="the scoring sample: a .csv/.parquet path or any data.source mapping (csv, parquet, sql, "
                    "builtin); it needs the training features, its target column is ignored")
    folds: int = Field(5, ge=2, le=20, description="stratified CV folds of the training-vs-sample classifier")
    max_rows: int = Field(20000, ge=100, description="rows per side at most (a seeded sample of each)")


class EvaluateSection(Section):
    metrics: list[MetricName] = Field(default_factory=list,
                                      description="metrics to report (default depends on the task)")
    metric: MetricName | None = Field(None, description="the metric the run is judged and sorted by (default: "
                                                        "roc_auc binary, log_loss multiclass, r2 regression)")
    baselines: list[Baseline] = Field(
        default_factory=lambda: ["no_skill"],
        description="baselines scored on the same holdout: no_skill (prior / most frequent / mean) and rule "
                    "baselines {rule: <pandas expression>, name: ...} (binary)")
    value: ValueMatrix | None = Field(None, description="binary: value of each outcome; metrics.json reports "
                                                        "expected value per 1,000 predictions for the model and "
                                                        "each baseline")
    slices: list[str] = Field(default_factory=list, description="raw columns to score the holdout by, group by "
                                                                "group (numeric ones in quantile bins)")
    slice_bins: int = Field(4, ge=2, le=20, description="quantile bins for numeric slice columns")
    require: list[Requirement] = Field(default_factory=list,
                                       description="quality gate: when any requirement fails the run is marked "
                                                   "failed, exit 3 (artifacts are still written)")
    require_beats_no_skill: bool = Field(True, description="the holdout primary metric must be better than the "
                                                           "no_skill baseline's, else the run fails like a failed "
                                                           "`require` (exit 3)")
    stability: StabilitySection = Field(default_factory=StabilitySection,
                                        description="metric per time period on out-of-fold predictions and PSI "
                                                    "of each feature between the first and each later period")
    adversarial: AdversarialSection | None = Field(None, description="adversarial validation: how well a "
                                                   "classifier tells training rows from a scoring sample")


def _model_name(v: str) -> str:
    from mlengine.steps.models import MODELS

    if v not in MODELS:
        raise ValueError(unknown_name("model", v, MODELS))
    return v


class ParamSpace(Section):
    """One parameter of a search space; a bare value (`num_leaves: 31`) pins it."""

    domain: Literal["uniform", "loguniform", "quniform", "randint", "lograndint", "choice"] | None = Field(
        None, description="uniform, loguniform, quniform, randint, lograndint or choice; unset keeps the model's "
                          "default domain (so low/high alone narrow or widen it)")
    low: float | None = Field(None, description="lower bound (inclusive)")
    high: float | None = Field(None, description="upper bound (inclusive, integers too)")
    q: float | None = Field(None, gt=0, description="quniform: step between values")
    values: list[Any] | None = Field(None, description="choice: the values to choose from")
    init: Any = Field(None, description="where the search starts (FLAML's init_value)")
    low_cost: Any = Field(None, description="the cheapest value, for cost-related parameters such as tree counts "
                                            "(FLAML's low_cost_init_value)")
    value: Any = Field(None, description="pin the parameter to this value: it is not searched")

    @model_validator(mode="before")
    @classmethod
    def _bare_value_pins(cls, v: Any) -> Any:
        return v if isinstance(v, dict) else {"value": v}


class EnsembleMember(Section):
    model: Annotated[str, AfterValidator(_model_name)] = Field(description="registered model name")
    params: dict[str, Any] = Field(default_factory=dict, description="the member's hyperparameters")
    pipeline_params: dict[str, Any] = Field(default_factory=dict,
                                            description="the member's pipeline parameters (<step>.<param>: value)")
    weight: float = Field(1.0, gt=0.0, description="the member's weight in the soft vote (greedy ensembles "
                                                   "record how often selection picked it)")


class EnsembleSection(Section):
    method: Literal["none", "voting", "stacking", "greedy"] = Field(
        "none", description="combine the best distinct trials: voting (soft, averaged probabilities or values), "
                            "stacking (a linear model over their out-of-fold predictions) or greedy (Caruana "
                            "ensemble selection: a weighted soft vote chosen on the trials' own out-of-fold "
                            "predictions, no extra fits); kept only if its CV score beats the single best")
    top_k: int | None = Field(None, ge=2, description="how many distinct configurations to combine (greedy: the "
                                                      "pool it selects from): the best of each model first, then "
                                                      "the next best; default 3, greedy 10")

    @property
    def size(self) -> int:
        """top_k, or its default for the method (greedy selects from a wider pool: it weighs members itself)."""
        return self.top_k if self.top_k is not None else (10 if self.method == "greedy" else 3)
    members: list[EnsembleMember] = Field(
        default_factory=list, description="pinned members (recorded by a search that kept its ensemble): with "
                                          "search.trials 0 this ensemble is fitted as it is, without a search "
                                          "(how `mlengine replay` rebuilds an ensemble)")


class RaySection(Section):
    address: str | None = Field(None, description="Ray cluster to send trials to (host:port of a `ray start --head` "
                                                  "node, or ray://host:port); default: the RAY_ADDRESS environment "
                                                  "variable, else a local Ray started for the run and stopped after")
    num_cpus_per_trial: float | None = Field(None, gt=0, description="CPUs Ray reserves per trial (default: the "
                                                                     "trial's estimator threads)")
    runtime_env: dict[str, Any] | None = Field(None, description="Ray runtime_env of the trial tasks (e.g. "
                                                                 "env_vars, pip, working_dir), passed to Ray as is")
    connect_timeout: float = Field(10.0, gt=0, le=300, description="seconds to wait for the cluster before the run "
                                                                    "fails with a message (Ray itself retries for "
                                                                    "minutes)")


class SearchSection(Section):
    estimators: list[Annotated[str, AfterValidator(_model_name)]] = Field(
        default_factory=list, description="models to search over (see `mlengine models`); empty = model.name plus "
                                          "lightgbm, xgboost, random_forest, extra_trees, hist_gradient_boosting and "
                                          "logistic_regression (classification) or ridge (regression)")
    metric: MetricName | None = Field(None, description="metric the search optimises (its direction is known); "
                                                        "default: evaluate.metric or the task default")
    trials: int | None = Field(None, ge=0, description="number of trials, the reproducible budget; 0 = no search "
                                                       "(fit model.name with model.params); unset = until "
                                                       "time_budget")
    time_budget: float | None = Field(None, gt=0, description="seconds: a cap on the search (trials are stopped "
                                                              "inside a fold at it); runs are reproducible only "
                                                              "with trials")
    algorithm: Literal["cfo", "blendsearch"] = Field(
        "cfo", description="FLAML search algorithm: cfo (local search from cheap configs) or blendsearch (adds "
                           "global search)")
    seed: int | None = Field(None, description="seed of the search algorithm (default: the recipe's seed)")
    early_stop: int | None = Field(None, ge=1, description="stop after this many trials without improvement")
    prune: bool = Field(True, description="race each trial against the best so far: stop its CV after a fold "
                                          "when its mean on the folds done is behind the best trial's on the same "
                                          "folds by more than the best's fold std / sqrt(folds done); logged as "
                                          "pruned, never chosen")
    n_concurrent: int = Field(1, ge=1, description="trials run at once; estimator threads are divided so that "
                                                   "threads x trials <= cores")
    backend: Literal["local", "ray"] = Field(
        "local", description="where trials run: local processes, or a Ray cluster (`pip install mlengine[ray]`; "
                             "search.ray.address or RAY_ADDRESS selects the cluster, else a local Ray)")
    ray: RaySection = Field(default_factory=RaySection, description="the Ray cluster (search.backend: ray)")
    warm_start: Literal["none", "defaults", "zero_shot"] = Field(
        "defaults", description="start points besides each model's cheapest config: defaults (the recipe's own "
                                "model first, model.name with model.params, then each model's untuned defaults), "
                                "zero_shot (also FLAML's zero-shot configurations for this data), none")
    space: dict[str, dict[str, ParamSpace]] = Field(
        default_factory=dict, json_schema_extra={"keys": ["model", "param"]},
        description="per model: narrow, widen, pin or add parameters of its default search space")
    pipeline: dict[str, dict[str, ParamSpace]] = Field(
        default_factory=dict, json_schema_extra={"keys": ["step", "param"]},
        description="pipeline parameters to search, per pipeline step (e.g. resample: {k_neighbors: ...}); "
                    "the step must be in the recipe's pipeline")
    ensemble: EnsembleSection = Field(default_factory=EnsembleSection, description="ensemble of the best trials")

    @property
    def active(self) -> bool:
        """The search runs when trials > 0, or when a time budget is set and trials is not 0."""
        return self.trials != 0 and bool(self.trials or self.time_budget)


class RunSection(Section):
    time_budget: float | None = Field(None, gt=0, description="seconds for the whole run: a search gets what is "
                                                              "left when it starts minus a reserve for the refit, "
                                                              "evaluation, export and report (at least 10 s or a "
                                                              "quarter), capped by search.time_budget; a run "
                                                              "without a search is not cut")


class ReportSection(Section):
    html: bool = Field(True, description="write report.html: one self-contained page with plots that opens "
                                         "offline (a failure to write it is recorded, never fails the run)")
    explain: bool = Field(True, description="feature importance: permutation importance on the holdout (every "
                                            "model) and SHAP values (LightGBM), in metrics.json `explain`")
    importance_rows: int = Field(1000, ge=50, description="holdout rows (a seeded sample) used for permutation "
                                                          "importance and SHAP")
    importance_repeats: int = Field(5, ge=1, description="shuffles per column for permutation importance")
    top_features: int = Field(15, ge=1, description="features listed in `explain.top_features` and plotted")


TRACKING_SCHEMES = ("sqlite", "file", "http", "https", "postgresql", "mysql", "mssql")
_REGISTRY_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class RegisterSection(Section):
    name: str = Field(pattern=_REGISTRY_NAME, description="registered model name: each tracked run becomes a new "
                                                          "version of it (letters, digits, _ . -)")
    alias: str | None = Field("champion", pattern=_REGISTRY_NAME,
                              description="alias moved to the new version only when the quality gate passed "
                                          "(null: versions only)")


def _check_tracking_uri(uri: str | None) -> str | None:
    if uri is None:
        return None
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower() if ":" in uri else ""
    if scheme not in TRACKING_SCHEMES:
        raise ValueError(f"{uri!r} is not a tracking URI; allowed schemes: {', '.join(TRACKING_SCHEMES)} "
                         "(e.g. sqlite:///mlruns.db, file:./mlruns, http://127.0.0.1:5000).")
    return uri


class MonitorColumn(Section):
    psi_warn: float | None = Field(None, gt=0.0, description="this column's PSI warning threshold (default: monitor.psi_warn)")
    psi_alert: float | None = Field(None, gt=0.0, description="this column's PSI alert threshold (default: monitor.psi_alert)")
    ignore: bool = Field(False, description="never warn or alert on this column (it is still reported)")


class MonitorSection(Section):
    bins: int = Field(10, ge=2, le=100, description="quantile bins per numeric feature in reference.json")
    psi_warn: float = Field(0.1, gt=0.0, description="PSI at or above which a column is reported as drifting "
                            "(a convention: with small samples PSI is noisy; see min_rows)")
    psi_alert: float = Field(0.25, gt=0.0, description="PSI at or above which `mlengine drift` alerts (exit 3)")
    min_rows: int = Field(100, ge=1, description="fewer new rows than this: statistics are shown but no column "
                          "warns or alerts (PSI is unreliable on small samples)")
    columns: dict[str, MonitorColumn] = Field(default_factory=dict, description="per-column threshold overrides")


class TrackingSection(Section):
    runs_dir: str = Field("runs", description="root of run directories (relative to the working directory); "
                                              "--runs-dir overrides")
    tags: dict[str, str] = Field(default_factory=dict, description="free-form labels stored with the run (and "
                                                                   "set as MLflow run tags)")
    uri: Annotated[str | None, AfterValidator(_check_tracking_uri)] = Field(
        None, description="MLflow tracking URI (needs the [tracking] extra): sqlite:///mlruns.db or file: work "
                          "offline, http(s):// for a server; null: no tracking")
    experiment: str | None = Field(None, min_length=1, description="MLflow experiment (default: the recipe name)")
    run_name: str | None = Field(None, min_length=1, description="MLflow run name (default: the run id)")
    log_trials: bool = Field(True, description="one child run per search trial (model, params, per-fold metric, "
                                               "status)")
    register_: RegisterSection | None = Field(None, alias="register", description="register the model in the MLflow model registry "
                                                                "(name, alias)")
    required: bool = Field(True, description="false: an unreachable server or a missing extra is a warning and the "
                                             "run goes on untracked (default: exit 2 before training)")


# ------------------------------------------------------------------------------------------------- recipe ---
# recipe section -> the registry of its options (the section's key that picks one: cv.kind, resample.method, ...)
OPTION_REGISTRIES: dict[str, Registry[Any]] = {r.section: r for r in (TARGET, SPLIT, CV, RESAMPLE, SELECT,
                                                                    REDUCE, CALIBRATION, THRESHOLD)}


class Recipe(Section):
    name: str = Field(description="run name; run directories go under <runs_dir>/<name>/ (default: file name)")
    seed: int = Field(0, description="master seed: every split, sampler and model seed derives from it")
    task: Literal["auto", "binary", "multiclass", "regression"] = Field(
        "auto", description="auto infers from the target: 2 values binary, few discrete values multiclass, "
                            "otherwise regression")
    data: DataSection = Field(description="source, target and column roles")
    target: TargetConfig = TARGET_FIELD
    split: SplitConfig = SPLIT_FIELD
    cv: CVConfig = CV_FIELD
    preprocess: PreprocessSection = Field(default_factory=PreprocessSection, description="per-type preprocessing")
    resample: ResampleConfig = RESAMPLE_FIELD
    select: SelectConfig = SELECT_FIELD
    reduce: ReduceConfig = REDUCE_FIELD
    model: ModelSection = Field(default_factory=ModelSection, description="the estimator and its fixed params")
    search: SearchSection = Field(default_factory=SearchSection, description="hyperparameter search")
    run: RunSection = Field(default_factory=RunSection, description="the run as a whole (time budget)")
    calibration: CalibrationConfig = CALIBRATION_FIELD
    threshold: ThresholdConfig = THRESHOLD_FIELD
    evaluate: EvaluateSection = Field(default_factory=EvaluateSection, description="metrics and baselines")
    export: ExportSection = Field(default_factory=ExportSection, description="model artifacts")
    report: ReportSection = Field(default_factory=ReportSection, description="run report and explainability")
    tracking: TrackingSection = Field(default_factory=TrackingSection, description="where runs are recorded")
    monitor: MonitorSection = Field(default_factory=MonitorSection, description="drift reference and thresholds")


def _one_of(value: str, choices: dict[str, str] | tuple[str, ...], kind: str) -> str:
    if value not in choices:
        raise ValueError(unknown_name(kind, value, choices))
    return value
