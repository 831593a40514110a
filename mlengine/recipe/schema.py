"""The typed recipe: one class per section, every field with a type, a default and a one-line description.

The descriptions are the documentation: `mlengine.recipe.docs` renders them into the README's key reference.
Registry names (models, metrics, CV kinds) are checked here with did-you-mean messages; checks that need several
sections at once live in `mlengine.recipe.validate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from mlengine.errors import unknown_name
from mlengine.evaluate.cv import CV_KINDS, HOLDOUT_STRATEGIES

TASKS = ("auto", "binary", "multiclass", "regression")
BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "diabetes", "digits")
DATETIME_PARTS = ("year", "month", "day", "dayofweek", "dayofyear", "hour", "minute")


class Section(BaseModel):
    """Base of every recipe section: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)


# ----------------------------------------------------------------------------------------------------- data ---
class CsvSource(Section):
    kind: Literal["csv"] = Field(description="read a CSV file")
    path: str = Field(description="file path; relative paths resolve against the recipe's folder")
    sep: str = Field(",", description="field separator")
    encoding: str = Field("utf-8", description="text encoding of the file")
    na_values: list[str] = Field(default_factory=list, description="extra strings to read as missing")


class ParquetSource(Section):
    kind: Literal["parquet"] = Field(description="read a Parquet file")
    path: str = Field(description="file path; relative paths resolve against the recipe's folder")


class SqlSource(Section):
    kind: Literal["sql"] = Field(description="run a SQL query")
    query: str = Field(description="the SELECT to run; without `url`, DuckDB runs it over local files "
                                   "(e.g. FROM 'orders.csv' JOIN 'customers.parquet' USING (id))")
    url: str | None = Field(None, description="database URL (SQLAlchemy form, e.g. sqlite:///data/app.db); "
                                              "unset means DuckDB over local files")
    tables: dict[str, str] = Field(default_factory=dict,
                                   description="DuckDB only: name -> CSV/Parquet file, queryable by that name")


class BuiltinSource(Section):
    kind: Literal["builtin"] = Field(description="a dataset bundled with scikit-learn")
    name: Literal["iris", "wine", "breast_cancer", "diabetes", "digits"] = Field(
        description="scikit-learn dataset name (target column: `target`)")


Source = Annotated[CsvSource | ParquetSource | SqlSource | BuiltinSource, Field(discriminator="kind")]

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
    source: Source = Field(description="where the table comes from (kind: csv, parquet, sql, builtin)")
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


# ----------------------------------------------------------------------------------------------- modelling ---
class TargetSection(Section):
    transform: Literal["none"] = Field("none", description="regression target transform (more arrive with the "
                                                           "modelling sections)")


class SplitSection(Section):
    holdout: float = Field(0.2, ge=0.0, lt=1.0, description="share of rows kept aside for the final evaluation "
                                                            "(0 = none)")
    strategy: str = Field("auto", description="how holdout rows are chosen: " + ", ".join(HOLDOUT_STRATEGIES))

    _check_strategy = field_validator("strategy")(lambda v: _one_of(v, HOLDOUT_STRATEGIES, "holdout strategy"))


class CVSection(Section):
    kind: str = Field("auto", description="cross-validation strategy: " + ", ".join(CV_KINDS))
    folds: int = Field(5, ge=2, description="number of folds")
    repeats: int = Field(1, ge=1, description="repeat the (stratified) K-fold this many times with new shuffles")
    shuffle: bool = Field(True, description="shuffle rows before folding (not for time_series)")
    gap: int = Field(0, ge=0, description="time_series only: distinct time steps left out between train and "
                                          "validation")

    _check_kind = field_validator("kind")(lambda v: _one_of(v, CV_KINDS, "cv kind"))


class PreprocessSection(Section):
    numeric_impute: Literal["auto", "median", "mean", "most_frequent", "none"] = Field(
        "auto", description="missing numeric values: auto = none for models that handle NaN (lightgbm, "
                            "hist_gradient_boosting), median otherwise")
    scale: Literal["auto", "standard", "robust", "minmax", "none"] = Field(
        "auto", description="numeric scaling: auto = standard for linear models, none for trees")
    categorical: Literal["auto", "onehot", "ordinal"] = Field(
        "auto", description="categorical encoding: auto = one-hot for linear models, ordinal codes for trees")
    max_categories: int = Field(30, ge=2, description="one-hot: keep at most this many categories per column "
                                                      "(rarer ones grouped)")
    min_frequency: int = Field(5, ge=1, description="one-hot: categories seen fewer times are grouped as rare")
    datetime_features: list[Literal["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute"]] = Field(
        default_factory=lambda: ["year", "month", "day", "dayofweek", "hour"],
        description="calendar features derived from each datetime column")


class MethodNone(Section):
    method: str = Field("none", description="'none' (the methods arrive with the modelling sections)")

    @field_validator("method")
    @classmethod
    def _only_none(cls, v: str) -> str:
        if v != "none":
            raise ValueError(f"method {v!r} is not supported yet; only 'none' is available in this version.")
        return v


class ResampleSection(MethodNone):
    """Class imbalance handling."""


class SelectSection(MethodNone):
    """Feature selection."""


class ReduceSection(MethodNone):
    """Dimensionality reduction."""


class CalibrationSection(MethodNone):
    """Probability calibration."""


class ThresholdSection(MethodNone):
    """Decision threshold."""


class ModelSection(Section):
    name: str = Field("lightgbm", description="registered model name (see `mlengine models`)")
    params: dict[str, Any] = Field(default_factory=dict, description="fixed hyperparameters, checked against "
                                                                     "the model")
    n_jobs: int = Field(0, ge=0, description="threads per estimator; 0 = all cores")

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        from mlengine.steps.models import MODELS

        if v not in MODELS:
            raise ValueError(unknown_name("model", v, MODELS))
        return v


class SearchSection(Section):
    trials: int = Field(0, ge=0, description="number of search trials; 0 = no search, fit model.params as given "
                                             "(search arrives with the search issue)")


def _metric_name(v: str) -> str:
    from mlengine.evaluate.metrics import METRICS

    if v not in METRICS:
        raise ValueError(unknown_name("metric", v, METRICS))
    return v


MetricName = Annotated[str, AfterValidator(_metric_name)]


class EvaluateSection(Section):
    metrics: list[MetricName] = Field(default_factory=list,
                                      description="metrics to report (default depends on the task)")
    metric: MetricName | None = Field(None, description="the metric the run is judged and sorted by (default: "
                                                        "roc_auc binary, log_loss multiclass, r2 regression)")
    baselines: list[Literal["no_skill"]] = Field(default_factory=lambda: ["no_skill"],
                                                 description="baselines scored on the same holdout")


class ExportSection(Section):
    format: list[Literal["joblib"]] = Field(default_factory=lambda: ["joblib"],
                                            description="artifact formats to write (onnx arrives with the export "
                                                        "issue)")

    @field_validator("format", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class ReportSection(Section):
    html: bool = Field(True, description="write report.html: one self-contained page with plots that opens "
                                         "offline (a failure to write it is recorded, never fails the run)")
    explain: bool = Field(True, description="feature importance: permutation importance on the holdout (every "
                                            "model) and SHAP values (LightGBM), in metrics.json `explain`")
    importance_rows: int = Field(1000, ge=50, description="holdout rows (a seeded sample) used for permutation "
                                                          "importance and SHAP")
    importance_repeats: int = Field(5, ge=1, description="shuffles per column for permutation importance")
    top_features: int = Field(15, ge=1, description="features listed in `explain.top_features` and plotted")


class TrackingSection(Section):
    runs_dir: str = Field("runs", description="root of run directories (relative to the working directory); "
                                              "--runs-dir overrides")
    tags: dict[str, str] = Field(default_factory=dict, description="free-form labels stored with the run")


# ------------------------------------------------------------------------------------------------- recipe ---
class Recipe(Section):
    name: str = Field(description="run name; run directories go under <runs_dir>/<name>/ (default: file name)")
    seed: int = Field(0, description="master seed: every split, sampler and model seed derives from it")
    task: Literal["auto", "binary", "multiclass", "regression"] = Field(
        "auto", description="auto infers from the target: 2 values binary, few discrete values multiclass, "
                            "otherwise regression")
    data: DataSection = Field(description="source, target and column roles")
    target: TargetSection = Field(default_factory=TargetSection, description="target preparation")
    split: SplitSection = Field(default_factory=SplitSection, description="the holdout split")
    cv: CVSection = Field(default_factory=CVSection, description="cross-validation inside the training split")
    preprocess: PreprocessSection = Field(default_factory=PreprocessSection, description="per-type preprocessing")
    resample: ResampleSection = Field(default_factory=ResampleSection, description="class imbalance handling")
    select: SelectSection = Field(default_factory=SelectSection, description="feature selection")
    reduce: ReduceSection = Field(default_factory=ReduceSection, description="dimensionality reduction")
    model: ModelSection = Field(default_factory=ModelSection, description="the estimator and its fixed params")
    search: SearchSection = Field(default_factory=SearchSection, description="hyperparameter search")
    calibration: CalibrationSection = Field(default_factory=CalibrationSection, description="probability calibration")
    threshold: ThresholdSection = Field(default_factory=ThresholdSection, description="decision threshold (binary)")
    evaluate: EvaluateSection = Field(default_factory=EvaluateSection, description="metrics and baselines")
    export: ExportSection = Field(default_factory=ExportSection, description="model artifacts")
    report: ReportSection = Field(default_factory=ReportSection, description="run report and explainability")
    tracking: TrackingSection = Field(default_factory=TrackingSection, description="where runs are recorded")


def _one_of(value: str, choices: dict[str, str] | tuple[str, ...], kind: str) -> str:
    if value not in choices:
        raise ValueError(unknown_name(kind, value, choices))
    return value
