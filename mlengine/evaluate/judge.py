"""After the holdout is scored: rule baselines, business value, per-class and residual breakdowns, slices,
stability over time (out-of-fold) and the quality gate. Two stages: `stage_judge` (before the artifacts are
saved: adds to metrics.json) and `stage_gate` (last: raises QualityGateError, exit 3, once every artifact is written)."""

from __future__ import annotations

import logging
from typing import Any

from mlengine.stages import stage

log = logging.getLogger("mlengine")


@stage(reads=("data", "plan", "model", "pred", "proba", "X_tr", "X_te", "y_te", "y_tr", "test_idx", "train_idx",
              "cv_result"))
def stage_judge(ctx: Any) -> None:
    from mlengine.evaluate.breakdown import per_class, residuals
    from mlengine.evaluate.stability import stability_report

    data, plan, recipe, report = ctx.data, ctx.plan, ctx.recipe, ctx.report
    ev = recipe.evaluate
    if ctx.pred is not None:
        y = ctx.y_te.to_numpy()
        if data.task == "regression":
            report["residuals"] = residuals(y, ctx.pred)
        else:
            report["per_class"] = per_class(y, ctx.pred, list(data.classes))
        raw_te = data.raw.iloc[ctx.test_idx] if data.raw is not None else None
        labels: dict[str, Any] = {"model": ctx.pred}
        if data.task == "binary":
            from mlengine.evaluate.baselines import no_skill

            if "no_skill" in report.get("baselines", {}):
                labels["no_skill"] = no_skill(data.task, ctx.y_tr, len(y), list(data.classes))[0]
            if raw_te is not None:
                from mlengine.evaluate.rules import score_rules

                scores, rule_labels, expressions = score_rules(recipe, raw_te, ctx.y_te, plan.metrics,
                                                               list(data.classes), data.pos_label)
                report["baselines"].update(scores)
                if expressions:
                    report["baseline_rules"] = expressions
                labels.update(rule_labels)
                for name, s in scores.items():
                    log.info("baseline %s (rule %r): %s=%.4f", name, expressions[name], plan.primary_metric,
                             s[plan.primary_metric])
            if ev.value is not None:
                from mlengine.evaluate.value import value_report

                report["value"] = value_report(ev.value, y, labels, data.pos_label)
                log.info("value per 1,000 predictions: %s", ", ".join(
                    f"{k}={v:,.1f}" for k, v in report["value"]["per_1000"].items()))
        if ev.slices:
            from mlengine.evaluate.slices import slice_report

            report["slices"] = {col: slice_report(raw_te[col], y, ctx.pred, ctx.proba, plan.metrics,
                                                  list(data.classes), data.pos_label, ev.slice_bins)
                                for col in ev.slices}
    stability = stability_report(ctx)  # evaluate.stability: metric and PSI per period (out-of-fold)
    if stability is not None:
        report["stability"] = stability
    no_skill_scores = _no_skill_scores(ctx)
    report["warnings"] = no_skill_warnings(report.get("holdout") or {}, no_skill_scores)
    for w in report["warnings"]:
        log.warning("warning: %s", w)
    checks: list[dict[str, Any]] = []
    if ev.require:
        from mlengine.evaluate.gates import judge

        checks += judge(list(ev.require), report)["checks"]
    if ev.require_beats_no_skill:
        from mlengine.evaluate.gates import beats_no_skill_check

        check = beats_no_skill_check(report, no_skill_scores)
        checks += [check] if check else []
    if checks:
        report["gate"] = {"passed": all(c["passed"] for c in checks), "checks": checks}
        for c in checks:  # a failed check reaches the console once, as the run's error (`gate failed: ...`)
            log.info("gate %s: %s (%s)", c["key"], "passed" if c["passed"] else "failed", c["detail"],
                     extra=None if c["passed"] else {"console": False})


def _no_skill_scores(ctx: Any) -> dict[str, float] | None:
    """The no-skill baseline's holdout scores: as reported, or scored here when the recipe's baselines leave it
    out (the warnings and `evaluate.require_beats_no_skill` always compare against it)."""
    if ctx.pred is None:
        return None
    if "no_skill" in ctx.report.get("baselines", {}):
        return ctx.report["baselines"]["no_skill"]
    from mlengine.evaluate.baselines import score_baselines

    data = ctx.data
    return score_baselines(["no_skill"], data.task, ctx.y_tr, ctx.y_te, ctx.plan.metrics, list(data.classes or []),
                           data.pos_label)["no_skill"]


def no_skill_warnings(holdout: dict[str, float], no_skill: dict[str, float] | None) -> list[str]:
    """One warning per holdout metric on which the model is worse than the no-skill baseline."""
    from mlengine.evaluate.metrics import METRICS

    out = []
    for metric, value in holdout.items():
        base = (no_skill or {}).get(metric)
        if metric in METRICS and base is not None and METRICS[metric].better(base, value):
            direction = "higher" if METRICS[metric].greater_is_better else "lower"
            out.append(f"holdout {metric} {value:.4f} is worse than the no-skill baseline's {base:.4f} "
                       f"({direction} is better)")
    return out


@stage(reads=("plan", "metrics"))
def stage_gate(ctx: Any) -> None:
    """Raise QualityGateError (exit 3) on a failed gate of the typed metrics record (what metrics.json holds),
    carrying the run's report so the caller can show the metrics table before the message."""
    from mlengine.errors import QualityGateError
    from mlengine.evaluate.gates import enforce

    try:
        enforce(ctx.metrics.gate)
    except QualityGateError as exc:
        exc.report = ctx.report  # type: ignore[attr-defined]
        raise
