"""The typed recipe: the `Recipe` assembled from the section classes, every field with a type, a default and a
one-line description.

Each modelling section's class lives in the module that owns it (`mlengine.sections.<section>`); this module holds
the sections that are not modelling steps (data roles, run, report, tracking, monitor) and the `Recipe` itself.
The descriptions are the documentation: `mlengine.recipe.docs` renders them into the README's key reference.
Checks that need several sections at once live in `mlengine.recipe.validate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from mlengine.sections.calibration import CALIBRATION, CALIBRATION_FIELD, CalibrationConfig
from mlengine.sections.cv import CV, CV_FIELD, CVConfig
from mlengine.sections.evaluate import EvaluateSection
from mlengine.sections.export import ExportSection
from mlengine.sections.model import MODEL, MODEL_FIELD, ModelConfig
from mlengine.sections.preprocess import PreprocessSection
from mlengine.sections.reduce import REDUCE, REDUCE_FIELD, ReduceConfig
from mlengine.sections.registry import Registry, Section
from mlengine.sections.resample import RESAMPLE, RESAMPLE_FIELD, ResampleConfig
from mlengine.sections.search import SearchSection
from mlengine.sections.select import SELECT, SELECT_FIELD, SelectConfig
from mlengine.sections.source import SOURCE_FIELD, SourceConfig
from mlengine.sections.split import SPLIT, SPLIT_FIELD, SplitConfig
from mlengine.sections.target import TARGET, TARGET_FIELD, TargetConfig
from mlengine.sections.threshold import THRESHOLD, THRESHOLD_FIELD, ThresholdConfig

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
                                                                    REDUCE, MODEL, CALIBRATION, THRESHOLD)}


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
    model: ModelConfig = MODEL_FIELD
    search: SearchSection = Field(default_factory=SearchSection, description="hyperparameter search")
    run: RunSection = Field(default_factory=RunSection, description="the run as a whole (time budget)")
    calibration: CalibrationConfig = CALIBRATION_FIELD
    threshold: ThresholdConfig = THRESHOLD_FIELD
    evaluate: EvaluateSection = Field(default_factory=EvaluateSection, description="metrics and baselines")
    export: ExportSection = Field(default_factory=ExportSection, description="model artifacts")
    report: ReportSection = Field(default_factory=ReportSection, description="run report and explainability")
    tracking: TrackingSection = Field(default_factory=TrackingSection, description="where runs are recorded")
    monitor: MonitorSection = Field(default_factory=MonitorSection, description="drift reference and thresholds")
