"""`metrics.json` as a versioned, typed record (like `manifest.json`): what a run measured and decided.

`stage_finalize` writes it through `RunMetrics`, so a key a stage misspells or forgets to declare is refused
when the run is written, not found later by a reader; `read_metrics` reads it back through the same model (a
file from before the version field reads as version 1). `docs/metrics.schema.json` is the JSON schema, kept
equal to the model by a test. The core is typed field by field; each section's own record (calibration,
threshold, stability, ...) is a JSON object whose shape its module documents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

METRICS_FILE = "metrics.json"
METRICS_VERSION = 1
Record = Any  # a section's own record (an object or a list): its module documents the shape


class CVScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mean: float = Field(description="mean over the CV folds")
    std: float = Field(description="standard deviation over the folds (population)")
    folds: list[float | None] = Field(description="the score of each fold, in fold order")


class Rows(BaseModel):
    model_config = ConfigDict(extra="forbid")

    train: int = Field(description="rows of the training split (CV runs inside it)")
    holdout: int = Field(description="rows set aside before anything was fitted")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Decile(_Strict):
    decile: int = Field(description="1 = the tenth of rows with the highest scores")
    rows: int
    positives: int
    min_score: float
    max_score: float
    response_rate: float = Field(description="share of positives in the decile")
    lift: float = Field(description="response rate / base rate")
    cumulative_gain: float = Field(description="share of all positives in deciles 1..this one")
    cumulative_lift: float


class Lift(_Strict):
    rows: int
    positives: int
    base_rate: float
    deciles: list[Decile]
    curve: dict[str, list[float]] = Field(description="cumulative gains: share_of_rows -> share_of_positives")


class KS(_Strict):
    statistic: float = Field(description="max |TPR - FPR|: the gap between the classes' score CDFs")
    threshold: float = Field(description="P(positive) where the gap is largest")
    tpr: float
    fpr: float


class Histogram(_Strict):
    edges: list[float]
    counts: list[int]
    quantiles: dict[str, float]
    mean: float


class ScoreDistribution(_Strict):
    kind: str
    what: str
    edges: list[float] = Field(description="bin edges (equal width)")
    counts: dict[str, list[int]] = Field(description="series (a true class; actual/predicted) -> rows per bin")
    summary: dict[str, dict[str, float]]
    residuals: Histogram | None = None


class ReliabilityPoint(_Strict):
    bin: list[float]
    count: int
    mean_predicted: float
    observed: float


class ClassCalibration(_Strict):
    class_: str = Field(alias="class")
    rows: int
    ece: float
    brier: float = Field(description="one-vs-rest mean squared error of P(class)")
    points: list[ReliabilityPoint]


class CalibrationByClass(_Strict):
    bins: int
    rows: int
    classes: list[ClassCalibration]
    classwise_ece: float = Field(description="mean of the classes' one-vs-rest ECE")
    top_label_ece: float = Field(description="top-class confidence vs accuracy")
    brier: float = Field(description="multiclass Brier (summed over classes, as the brier metric)")


class PDCurve(_Strict):
    feature: str
    kind: Literal["numeric", "categorical"]
    grid: list[Any]
    average: dict[str, list[float]] = Field(description="response -> average over the rows at each grid value")


class PartialDependence(_Strict):
    method: str
    rows: int
    source: str
    grid_resolution: int
    ranked_by: str
    response: str
    features: list[PDCurve]
    skipped_features: list[dict[str, str]]
    seconds: float


class Diagnostics(_Strict):
    """Evaluation views beside the metrics (mlengine.evaluate.diagnostics)."""

    on: str | None = Field(None, description="rows the score views use (holdout)")
    lift: Lift | None = Field(None, description="binary: lift by decile and cumulative gains curve")
    ks: KS | None = Field(None, description="binary: Kolmogorov-Smirnov statistic")
    score_distribution: ScoreDistribution | None = None
    calibration_by_class: CalibrationByClass | None = Field(None, description="multiclass: one-vs-rest "
                                                                              "reliability per class")
    partial_dependence: PartialDependence | None = None
    skipped: dict[str, str] = Field(default_factory=dict, description="view -> why it is not computed")
    seconds: dict[str, float] = Field(default_factory=dict, description="view -> seconds to compute")


class RuntimeLatency(_Strict):
    """One runtime's timings (mlengine.export.latency)."""

    p50_us: float = Field(description="median single-row call, microseconds")
    p95_us: float
    p99_us: float
    mean_us: float
    min_us: float
    max_us: float
    calls: int = Field(description="timed single-row calls (after the warm-up)")
    warmup_calls: int = Field(description="untimed calls before them (fewer than the maximum for a slow model)")
    seconds: float = Field(description="time spent in the timed calls")
    batch_rows: int = Field(description="rows in one batch call")
    batch_rows_per_s: float = Field(description="batch throughput: rows per second (median of up to 3 calls)")
    threads: int | None = Field(description="onnxruntime intra-op threads (1); null: the model's own n_jobs")
    setting: str = Field(description="what was run, and how")


class Latency(_Strict):
    """Single-row latency and batch throughput at export, on this machine (export.measure_latency)."""

    input: str | None = Field(None, description="what one call takes and returns")
    rows_from: str | None = Field(None, description="holdout, or training rows when there is no holdout")
    max_warmup_calls: int | None = None
    max_calls: int | None = Field(None, description="bound on the timed calls per runtime")
    max_seconds: float | None = Field(None, description="bound on the time per runtime (warm-up and single-row "
                                                        "calls; then batch calls); one call always completes")
    onnx: RuntimeLatency | None = Field(None, description="model.onnx through onnxruntime")
    joblib: RuntimeLatency | None = Field(None, description="the scikit-learn pipeline of model.joblib")
    errors: dict[str, str] = Field(default_factory=dict, description="runtime -> why it was not measured")
    error: str | None = Field(None, description="why nothing was measured")
    seconds: float | None = Field(None, description="the measurement's wall time")


class OnnxExport(_Strict):
    """metrics.json export.onnx (mlengine.export.stage)."""

    file: str
    opset: int
    written: bool
    signature: Record | None = Field(None, description="ONNX inputs and outputs (as in model.json)")
    parity: Record | None = Field(None, description="ONNX vs scikit-learn on the holdout (export/parity.py)")
    latency: Latency | None = None
    skipped: str | None = Field(None, description="why model.onnx was not written under format auto")
    error: str | None = Field(None, description="why the conversion or its check failed")


class Export(_Strict):
    onnx: OnnxExport | None = None


class GateCheck(_Strict):
    """One requirement of the quality gate, judged (`mlengine.evaluate.gates.judge`)."""

    key: str = Field(description="the recipe key it came from, e.g. evaluate.require[0]")
    metric: str
    where: str = Field(description="holdout or cv")
    actual: float | None = Field(description="the run's figure (null when it was not computed)")
    passed: bool
    detail: str = Field(description="the figure and what was needed, e.g. 'holdout roc_auc 0.81, needs >= 0.9'")


class Gate(_Strict):
    """`evaluate.require` (and `evaluate.require_beats_no_skill`) as judged: the run fails (exit 3) unless passed."""

    passed: bool
    checks: list[GateCheck]

    def failed(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed]

    def message(self) -> str:
        """One line for a failed gate: `gate failed: holdout average_precision 0.7466, needs >= 0.9`."""
        return "gate failed: " + "; ".join(c.detail for c in self.failed())


def gate_of(metrics: dict[str, Any] | None) -> Gate | None:
    """The typed gate of a metrics record (in memory or read from metrics.json); None when the run had none."""
    gate = (metrics or {}).get("gate")
    return Gate.model_validate(gate) if gate else None


class RunMetrics(BaseModel):
    """Top-level keys of metrics.json; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    metrics_version: int = Field(METRICS_VERSION, description="version of this record's shape")
    task: Literal["binary", "multiclass", "regression"]
    primary_metric: str = Field(description="the metric the run is judged and searched by")
    greater_is_better: bool
    classes: list[Any] = Field(description="class labels, sorted (empty for regression)")
    positive_class: Any = Field(None, description="binary: the class whose probability is scored")
    rows: Rows
    features: dict[str, list[str]] = Field(description="feature columns by kind (numeric, categorical, ...)")
    cv: dict[str, CVScore] | None = Field(description="metric -> CV score of the saved model (calibrated and "
                                                      "thresholded out-of-fold predictions); null without CV")
    cv_uncalibrated: dict[str, CVScore] | None = Field(None, description="the CV of the model before calibration "
                                                                         "and threshold, when those steps are on")
    cv_describes: Record | None = Field(None, description="what the cv and cv_uncalibrated columns describe")
    holdout: dict[str, float | None] | None = Field(description="metric -> holdout score; null without a holdout")
    baselines: dict[str, dict[str, float | None]] = Field(description="baseline -> metric -> holdout score")
    confusion_matrix: Record | None = None
    contract: Record | None = Field(None, description="data.schema checks on the raw table")
    pii: Record | None = Field(None, description="the personal-data scan and its decision")
    target_bins: Record | None = Field(None, description="target.binning edges fitted on the training split")
    resample: Record | None = Field(None, description="the sampler as fitted and the class counts it produced")
    selection: Record | None = Field(None, description="features kept by select, and how stable across folds")
    reduce: Record | None = Field(None, description="the reducer as fitted: components and the variance they keep")
    model_structure: Record | None = Field(None, description="the fitted pipeline's steps")
    calibration: Record | None = None
    threshold: Record | None = None
    per_class: Record | None = None
    residuals: Record | None = None
    baseline_rules: Record | None = None
    value: Record | None = Field(None, description="evaluate.value on the holdout")
    slices: Record | None = None
    stability: Record | None = Field(None, description="evaluate.stability: metric and PSI per period")
    adversarial: Record | None = Field(None, description="evaluate.adversarial: training rows vs a sample")
    gate: Gate | None = Field(None, description="evaluate.require: each requirement and whether it passed")
    explain: Record | None = None
    diagnostics: Diagnostics | None = Field(None, description="lift/gains and KS, score distribution by class, "
                                                              "calibration by class, partial dependence")
    export: Export | None = Field(None, description="export records: ONNX parity and latency")
    search: Record | None = Field(None, description="the search: trials, best, leaderboard summary")
    early_stopping: Record | None = Field(None, description="model.early_stopping: the refit's n_estimators "
                                                            "(chosen_by early_stopping: the fold-mean best "
                                                            "iteration), the best iteration per fold, the cap")
    report: Record | None = Field(None, description="report.html: file, sections, time (or its error)")
    artifacts: Record = Field(default_factory=dict, description="files written, with sha256 and size")
    notes: list[str] = Field(default_factory=list)
    warnings: list[Any] = Field(default_factory=list, description="what to look at, e.g. metrics worse than "
                                                                  "no-skill")
    wall_seconds: float | None = Field(None, description="the run's wall time up to metrics.json")
    run_budget: Record | None = Field(None, description="run.time_budget and how the run kept it")
    timings_seconds: dict[str, float] = Field(default_factory=dict, description="seconds per stage and in all")


def typed(report: dict[str, Any]) -> RunMetrics:
    """The stages' report checked by RunMetrics: a key or a shape the record does not know is a bug, named."""
    from pydantic import ValidationError

    try:
        return RunMetrics.model_validate(report)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise RuntimeError(f"metrics.json does not match RunMetrics (mlengine/runs/metrics_record.py): "
                           f"{problems}") from None


def validated(report: dict[str, Any], model: RunMetrics | None = None) -> dict[str, Any]:
    """The report as metrics.json holds it: checked by RunMetrics (`model`, when already checked), version first,
    the stages' own values and key order."""
    model = model or typed(report)
    out: dict[str, Any] = {"metrics_version": model.metrics_version}
    out.update({k: report[k] for k in report if k != "metrics_version"})
    return out


def read_metrics(run_dir: str | Path) -> RunMetrics:
    """A run's metrics.json through the typed record."""
    data = json.loads((Path(run_dir) / METRICS_FILE).read_text(encoding="utf-8"))
    return RunMetrics.model_validate({"metrics_version": 1, **data})


def json_schema() -> dict[str, Any]:
    return RunMetrics.model_json_schema()
