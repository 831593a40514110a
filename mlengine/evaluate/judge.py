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
    if ev.require:
        from mlengine.evaluate.gates import judge

        report["gate"] = judge(list(ev.require), report)
        for c in report["gate"]["checks"]:
            log.info("gate %s: %s (%s)", c["key"], "passed" if c["passed"] else "FAILED", c["detail"])


@stage(reads=("plan",))
def stage_gate(ctx: Any) -> None:
    from mlengine.evaluate.gates import enforce

    enforce(ctx.report.get("gate"))
