"""The run report (`report.html`) and the data profile page: self-contained HTML with matplotlib PNGs inlined.

`render_report(run_dir)` draws whatever the run directory holds; a section appears only when its inputs exist, so
runs from before a capability existed still render. What each section reads (the contract for other stages):

| section            | reads                                                                                      |
|--------------------|--------------------------------------------------------------------------------------------|
| Overview           | metrics.json: task, primary_metric, greater_is_better, holdout{m: v}, cv{m: {mean, std,     |
|                    | folds}}, baselines{name: {m: v}}, rows{train, holdout}, contract, pii; model.json: model;   |
|                    | status.json: status                                                                        |
| Recipe             | recipe.yaml (the resolved recipe)                                                          |
| Data               | metrics.json: features{kind: [cols]}, notes[], contract, pii, confusion_matrix             |
|                    | contract = {checks, passed, rows, columns[], rows_with_violations, on_violation,            |
|                    | rows_dropped, violations: [{column, rule, allowed, count, examples[]}]}                     |
|                    | pii = {action, scanned, allow[], findings: [{column, kind, share, matched, sampled,         |
|                    | examples[] (masked), evidence}], in_dropped_columns[], dropped[], hashed[]}                 |
| Plan               | plan.txt                                                                                   |
| Search             | leaderboard.csv, one row per trial: `trial`, `score` (or `<primary>_mean`, or the first     |
|                    | `*_mean` column) in the metric's natural direction; optional `estimator`, `status` (`ok`    |
|                    | = finished; anything else = failed, left out of the plot), `score_std`, `seconds`, any      |
|                    | other column (shown as is). metrics.json["search"] = {metric, greater_is_better} if the     |
|                    | search metric differs from the primary metric.                                             |
| Metrics            | metrics.json: cv, holdout, baselines (a column per baseline, e.g. no_skill, rule)           |
| Confusion matrix   | metrics.json["confusion_matrix"] = {labels[], matrix[[...]]} (rows true, columns predicted)|
| ROC and PR         | predictions.parquet: y_true, proba_<class>; metrics.json positive_class, classes            |
| Calibration        | metrics.json["calibration"] = {method, before: {brier, log_loss, ...}, after: {...},        |
|                    | reliability: {before: {mean_predicted[], fraction_positive[]}, after: {...}}};               |
|                    | without it (binary): the final model's reliability curve from predictions.parquet          |
| Decision threshold | metrics.json["threshold"] = {method, objective, value, ...scalars, curve: {metric,           |
|                    | thresholds[], scores[] (or any named lists of the same length)}}                            |
| Business value     | metrics.json["business_value"] = {per: 1000, threshold, matrix: {tp, fp, fn, tn},           |
|                    | model: value, baselines: {name: value}}                                                     |
| Slice metrics      | metrics.json["slices"] = {column: [{value, rows, metrics: {metric: v}}]}                     |
| Residuals          | predictions.parquet: y_true, y_pred (regression)                                           |
| Feature importance | metrics.json["explain"] = {permutation: {metric, rows, repeats, features: [{feature, mean,  |
|                    | std}]}, shap: {method, units, rows, features: [{feature, mean_abs}], file | by_class},      |
|                    | top_features[], error}; shap_values.parquet (shap::<f>, value::<f> columns)               |
| ONNX export        | metrics.json["export"]["onnx"] (else model.json["onnx"]) = {parity: {passed, rows,          |
|                    | max_abs_diff, label_mismatches, tolerance, ...scalars}, latency: {runtime: {p50_us, p99_us, |
|                    | ...}}, ...scalars}                                                                         |
| Replay             | manifest.json (its presence): shows `mlengine replay RUN_DIR` (and `--level search` when    |
|                    | leaderboard.csv exists) with recipe_hash, data.fingerprint (or data_fingerprint),           |
|                    | git.commit; without it, the `mlengine run RUN_DIR/recipe.yaml` command                      |

A section whose drawing fails shows a notice instead (recorded in metrics.json["report"]["section_errors"]); the
report stage itself never fails a run (metrics.json["report"]["error"]).
"""

from __future__ import annotations

from typing import Any


def render_report(run_dir: Any, metrics: dict[str, Any] | None = None, out: Any = None,
                  final_dir: Any = None) -> Any:
    """Write report.html for a run directory; see `mlengine.report.build.render_report`."""
    from mlengine.report.build import render_report as _render

    return _render(run_dir, metrics=metrics, out=out, final_dir=final_dir)
