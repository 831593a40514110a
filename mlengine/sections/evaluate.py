"""`evaluate`: metrics, baselines (no-skill and rules), value, slices, the quality gate, stability and adversarial
validation.

The section's keys with their defaults (stated once, here). Metric names are checked against
`mlengine.evaluate.metrics.METRICS` (imported when a name is checked); `mlengine.evaluate` runs the section.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Discriminator, Field, Tag

from mlengine.errors import did_you_mean, unknown_name
from mlengine.sections.registry import Section
from mlengine.sections.source import SourceConfig
from mlengine.sections.threshold import ValueMatrix


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
