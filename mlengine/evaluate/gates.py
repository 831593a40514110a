"""The quality gate (`evaluate.require`): conditions a run must meet, else it is marked failed (exit 3).

Each requirement names a metric and `min`, `max` and/or `beats: <baseline>` with a margin `by` (direction-aware:
for a lower-is-better metric, beating means being lower by at least `by`). `where: holdout` (default) or `cv` (the
CV mean). `value_per_1000` (with `evaluate.value`) can be required too. The run's artifacts are all written
before the gate is judged, so a failed run can still be inspected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlengine.errors import Problem, QualityGateError

if TYPE_CHECKING:
    from mlengine.runs.metrics_record import Gate

VALUE_METRIC = "value_per_1000"


def _greater(metric: str) -> bool:
    from mlengine.evaluate.metrics import METRICS

    return True if metric == VALUE_METRIC else METRICS[metric].greater_is_better


def _actual(report: dict[str, Any], metric: str, where: str, who: str = "model") -> float | None:
    if metric == VALUE_METRIC:
        return ((report.get("value") or {}).get("per_1000") or {}).get(who)
    if who != "model":
        return (report.get("baselines") or {}).get(who, {}).get(metric)
    if where == "cv":
        return ((report.get("cv") or {}).get(metric) or {}).get("mean")
    return (report.get("holdout") or {}).get(metric)


def judge(requirements: list[Any], report: dict[str, Any]) -> dict[str, Any]:
    """Every requirement checked against the run's report; nothing raised here. Each check's `detail` states the
    figure and what was needed (`holdout average_precision 0.7466, needs >= 0.9`), true whether it passed or not."""
    checks = []
    for i, req in enumerate(requirements):
        key = f"evaluate.require[{i}]"
        actual = _actual(report, req.metric, req.where)
        greater = _greater(req.metric)
        parts: list[tuple[str, bool]] = []
        if actual is None:
            parts.append((f"{req.where} {req.metric} was not computed", False))
        else:
            if req.min is not None:
                parts.append((f"{req.where} {req.metric} {actual:.4f}, needs >= {req.min}", actual >= req.min))
            if req.max is not None:
                parts.append((f"{req.where} {req.metric} {actual:.4f}, needs <= {req.max}", actual <= req.max))
            if req.beats is not None:
                base = _actual(report, req.metric, req.where, req.beats)
                if base is None:
                    parts.append((f"baseline {req.beats!r} has no {req.metric}", False))
                else:
                    margin = actual - base if greater else base - actual
                    parts.append((f"{req.where} {req.metric} {actual:.4f} against {req.beats} {base:.4f}: margin "
                                  f"{margin:+.4f}, needs >= {req.by}", margin >= req.by))
        checks.append({"key": key, "metric": req.metric, "where": req.where, "actual": actual,
                       "passed": all(ok for _, ok in parts), "detail": "; ".join(text for text, _ in parts)})
    return {"passed": all(c["passed"] for c in checks), "checks": checks}


def beats_no_skill_check(report: dict[str, Any], no_skill: dict[str, float] | None) -> dict[str, Any] | None:
    """`evaluate.require_beats_no_skill`: the holdout primary metric must be strictly better than no-skill's
    (None when there is no holdout score to compare)."""
    from mlengine.evaluate.metrics import METRICS

    metric = report.get("primary_metric")
    actual = (report.get("holdout") or {}).get(metric)
    base = (no_skill or {}).get(metric)
    if actual is None or base is None:
        return None
    sign = ">" if METRICS[metric].greater_is_better else "<"
    return {"key": "evaluate.require_beats_no_skill", "metric": metric, "where": "holdout", "actual": actual,
            "passed": METRICS[metric].better(actual, base),
            "detail": f"holdout {metric} {actual:.4f}, needs {sign} no_skill {base:.4f} "
                      "(evaluate.require_beats_no_skill)"}


def enforce(gate: Gate | None) -> None:
    """Raise QualityGateError (exit 3) when the typed gate of the run's metrics record was not met; the message
    is `Gate.message()` (the failed checks' figures; which keys failed is in metrics.json['gate'])."""
    if gate is None or gate.passed:
        return
    raise QualityGateError(gate.message())


def check_requirements(recipe: Any, task: str, baseline_names: list[str]) -> list[Problem]:
    """Checks without data: each requirement says something, names known metrics and baselines."""
    from mlengine.evaluate.metrics import check_metric

    problems: list[Problem] = []
    for i, req in enumerate(recipe.evaluate.require):
        key = f"evaluate.require[{i}]"
        if req.min is None and req.max is None and req.beats is None:
            problems.append(Problem(key, "needs min, max or beats (e.g. {metric: average_precision, min: 0.4})."))
        if req.metric == VALUE_METRIC:
            if recipe.evaluate.value is None:
                problems.append(Problem(f"{key}.metric", "'value_per_1000' needs evaluate.value (the value of each "
                                                         "outcome)."))
        else:
            problems += check_metric(f"{key}.metric", req.metric, task)
        if req.beats is not None:
            if req.beats not in baseline_names:
                from mlengine.errors import did_you_mean

                problems.append(Problem(f"{key}.beats", f"no baseline named {req.beats!r}."
                                                        f"{did_you_mean(req.beats, baseline_names)} Baselines: "
                                                        f"{', '.join(baseline_names) or 'none'}."))
            if req.where == "cv":
                problems.append(Problem(f"{key}.where", "baselines are scored on the holdout; use where: holdout with "
                                                     "beats."))
        if req.where == "holdout" and recipe.split.holdout == 0:
            problems.append(Problem(f"{key}.where", "'holdout', but split.holdout is 0; use where: cv or keep a holdout."))
        if req.where == "cv" and recipe.cv.kind == "none":
            problems.append(Problem(f"{key}.where", "'cv', but cv.kind is 'none'."))
    return problems
