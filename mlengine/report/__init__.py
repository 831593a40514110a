"""The run report (`report.html`) and the data profile page: self-contained HTML with matplotlib PNGs inlined.

`render_report(run_dir)` draws whatever the run directory holds; a section appears only when its inputs exist, so
runs from before a capability existed still render. What each section reads (the contract for other stages; where
two shapes are listed, either works):

Overview      metrics.json: task, primary_metric, greater_is_better, holdout{m: v}, cv{m: {mean, std, folds}},
              baselines{name: {m: v}}, rows{train, holdout}, contract, pii; model.json: model; status.json
Recipe        recipe.yaml (the resolved recipe)
Data          metrics.json: features{kind: [cols]}, notes[], confusion_matrix, and
              contract = {checks, passed, rows, columns[], rows_with_violations, on_violation, rows_dropped,
                          violations: [{column, rule, allowed, count, examples[]}]}
              pii = {action, scanned, allow[], findings: [{column, kind, share, matched, sampled, examples[]
                     (masked), evidence}], in_dropped_columns[], dropped[], hashed[]}
Plan          plan.txt
Search        leaderboard.csv, one row per trial: trial; the score `<search metric>_mean` (else `score`, else the
              first `*_mean` column) in the metric's natural direction; optional rank, model (or estimator),
              status (`ok` = finished; other values are failed/stopped and left out of the plot), `<m>_std`,
              seconds, error, param.* (`config` and `*_folds` stay in the CSV).
              metrics.json["search"] = {metric, greater_is_better, ...}
Metrics       metrics.json: cv, holdout, baselines (one column per baseline: no_skill, rules, ...)
Confusion     metrics.json["confusion_matrix"] = {labels[], matrix[[...]]} (rows true, columns predicted)
ROC and PR    predictions.parquet: y_true, proba_<class>; metrics.json: positive_class, classes
Calibration   metrics.json["calibration"] = {method, holdout|oof: {before: {brier, log_loss}, after: {...}}
              (or before/after at the top level), reliability: {on, before: R, after: R}} where R is
              {points: [{mean_predicted, observed, count}], expected_calibration_error} or {mean_predicted[],
              fraction_positive[]} or scikit-learn's {prob_pred[], prob_true[]}; without it (binary): the final
              model's reliability curve from predictions.parquet
Threshold     metrics.json["threshold"] = {objective|method, threshold|value, ...scalars, at_threshold: {...},
              curve: [{threshold, <name>: v, ...}] or {thresholds[], scores[] | <name>[], metric}}
Business      metrics.json["value"] = {matrix: {outcome: value}, per_1000: {model: v, <baseline>: v},
              references: {name: v}} or metrics.json["business_value"] = {per, threshold, matrix, model,
              baselines: {name: v}}
Slices        metrics.json["slices"] = {column: {kind, groups: [{value, rows, share, <metric>: v, ...}],
              gap: {metric: v}}} or {column: [{value, rows, metrics: {metric: v}}]}
Residuals     predictions.parquet: y_true, y_pred (regression)
Importance    metrics.json["explain"] = {permutation: {metric, rows, repeats, features: [{feature, mean, std}]},
              shap: {method, units, rows, features: [{feature, mean_abs}], file | by_class + feature_order},
              top_features[], error}; shap_values.parquet (`shap::<f>`, `value::<f>` columns)
Diagnostics   metrics.json["diagnostics"] = {lift, ks, score_distribution, calibration_by_class, partial_dependence,
              skipped: {view: why}} (shapes: mlengine.runs.metrics_record.Diagnostics); four sections, each a
              one-line note when its view was skipped
Stability     metrics.json["stability"], Adversarial: metrics.json["adversarial"] (shapes: mlengine.report.drift_risk)
ONNX export   metrics.json["export"]["onnx"] (else model.json["onnx"]) = {error, parity: {passed, rows_checked,
              max_abs_diff, label_mismatches, tolerance, ...scalars}, latency: {runtime: {p50_us, p95_us, p99_us,
              calls, batch_rows_per_s, threads, setting, ...}, rows_from, max_calls, max_seconds, errors} (shape:
              mlengine.runs.metrics_record.Latency), ...scalars}
Replay        manifest.json (its presence): `mlengine replay RUN_DIR` (and `--level search` when leaderboard.csv
              exists) with recipe.sha256, data.content_sha256 (or data.fingerprint), data.rows,
              predictions.sha256, git.commit/dirty; without a manifest, `mlengine run RUN_DIR/recipe.yaml`

A section whose drawing fails shows a notice instead (recorded in metrics.json["report"]["section_errors"]); the
report stage itself never fails a run (metrics.json["report"]["error"]). report.html embeds the run directory's
path, so it differs between a run and its replay: it is a view of the run, not an artifact to hash.
"""

from __future__ import annotations

from typing import Any


def render_report(run_dir: Any, metrics: dict[str, Any] | None = None, out: Any = None,
                  final_dir: Any = None) -> Any:
    """Write report.html for a run directory; see `mlengine.report.build.render_report`."""
    from mlengine.report.build import render_report as _render

    return _render(run_dir, metrics=metrics, out=out, final_dir=final_dir)
