"""The sweep summary (mlengine/sweeps/summary.py) over hand-written job records: job order, rank by CV mean (else
holdout) in the metric's direction, the CSV, and the terminal table naming the best job and the failures."""

from __future__ import annotations

import json

import pandas as pd

from mlengine.sweeps.summary import SUMMARY_FILE, build_summary, format_summary


def _job(sweep, job, overrides, status="complete", cv=None, holdout=None, greater=True, error=None):
    run = sweep / "runs" / str(job)
    run.mkdir(parents=True)
    metric = "roc_auc" if greater else "rmse"
    (run / "metrics.json").write_text(json.dumps({
        "primary_metric": metric, "greater_is_better": greater,
        "cv": {metric: {"mean": cv, "std": 0.01}} if cv is not None else {},
        "holdout": {metric: holdout, "accuracy": 0.8}, "baselines": {"no_skill": {metric: 0.5}}}))
    rec = sweep / ".jobs" / str(job)
    rec.mkdir(parents=True)
    (rec / "job.json").write_text(json.dumps({"job": job, "overrides": overrides, "status": status, "seconds": 2.5,
                                              "run_dir": str(run), "error": error}))


def test_jobs_in_order_ranked_by_cv_mean_in_the_metrics_direction(tmp_path):
    for job, overrides, cv in [(0, ["model.params.C=1"], 0.81), (1, ["model.params.C=10"], 0.86),
                               (2, ["model.params.C=0.1"], 0.79)]:
        _job(tmp_path, job, overrides, cv=cv, holdout=cv - 0.01)
    _job(tmp_path, 10, ["model.params.C=-1"], status="failed", error="ValueError: C must be > 0")
    frame = build_summary(tmp_path)
    assert frame["job"].tolist() == [0, 1, 2, 10]  # numeric order, not 0, 1, 10, 2
    assert frame["rank"].tolist()[:3] == [2, 1, 3] and pd.isna(frame["rank"].iloc[3])
    assert list(frame.columns[:6]) == ["job", "overrides", "status", "rank", "metric", "cv_mean"]
    assert frame["holdout_accuracy"].iloc[0] == 0.8 and frame["no_skill"].iloc[0] == 0.5
    assert pd.read_csv(tmp_path / SUMMARY_FILE)["job"].tolist() == [0, 1, 2, 10]
    text = format_summary(frame)
    assert "best: job 1 (model.params.C=10)" in text
    assert text.splitlines()[-1] == "job 10 failed: ValueError: C must be > 0"
    assert "0.8600 +/- 0.010" in text


def test_lower_is_better_and_holdout_when_there_is_no_cv(tmp_path):
    _job(tmp_path, 0, ["a=1"], holdout=3.0, greater=False)
    _job(tmp_path, 1, ["a=2"], holdout=2.0, greater=False)
    frame = build_summary(tmp_path)
    assert frame["rank"].tolist() == [2, 1]
    assert "best: job 1 (a=2)" in format_summary(frame)


def test_no_jobs(tmp_path):
    frame = build_summary(tmp_path)
    assert frame.empty and format_summary(frame) == "no jobs ran" and (tmp_path / SUMMARY_FILE).is_file()
