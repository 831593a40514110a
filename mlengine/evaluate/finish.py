"""After the fit: turn the refitted pipeline into the saved model, and record what each modelling step did.

In order: remove the sampler (it only acts while fitting), record the selected features (and how often each
was selected across the CV folds), calibrate on out-of-fold scores, set the decision threshold on out-of-fold
probabilities. Nothing here reads holdout rows to fit anything; the holdout is only used to report calibration
before/after. See mlengine.steps.assemble for the saved structure.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from mlengine.sections.resample import strip_samplers
from mlengine.stages import stage

log = logging.getLogger("mlengine")


def needs_fold_models(plan: Any, pipeline: Any = None) -> bool:
    """Whether the fitted CV fold models are needed: for selection records, and for calibration unless the
    response is predict_proba (given `pipeline`, whose final step has no decision_function), whose out-of-fold
    values the CV result already holds."""
    if plan.select is not None and plan.select.method != "none":
        return True
    if plan.calibration is None or plan.calibration.method == "none":
        return False
    return pipeline is None or hasattr(pipeline.steps[-1][1], "decision_function")


def _in_order(proba: np.ndarray, have: list[Any], want: list[Any]) -> np.ndarray:
    from mlengine.evaluate.crossval import _align

    return _align(proba, have, want)


def describe_structure(model: Any) -> list[str]:
    """The saved estimator tree, outermost first, for metrics.json and model.json."""
    from sklearn.pipeline import Pipeline

    out = []
    node = model
    if type(node).__name__ == "FixedThresholdClassifier":
        out.append(f"FixedThresholdClassifier(threshold={node.threshold:.6g}, pos_label={node.pos_label!r}, "
                   "response_method='predict_proba')")
        node = node.estimator
    if isinstance(node, Pipeline):
        out.append("Pipeline(" + ", ".join(f"{n}={type(s).__name__}" for n, s in node.steps) + ")")
        last = node.steps[-1][1]
        inner = getattr(last, "estimator", None) or getattr(last, "regressor", None)
        if inner is not None:
            out.append(f"model={type(last).__name__}({type(inner).__name__})")
    return out


@stage(reads=("data", "plan", "candidate", "model", "pipeline", "cv_result", "X_tr", "y_tr", "X_te", "y_te",
              "groups_tr", "times_tr"), writes=("model",))
def stage_finish_model(ctx: Any) -> None:
    """Sampler removal, selection and reduction records, calibration and threshold: ctx.model becomes the model
    that is saved."""
    plan, data, recipe = ctx.plan, ctx.data, ctx.recipe
    if plan.resample is None:
        return
    model = ctx.model
    # the spec with the candidate's (searched) values applied: the record reports what was fitted
    resample = plan.spec("resample", ctx.candidate)
    if any(n == "resample" for n, _ in model.steps):
        ctx.report["resample"] = resample.record(model, ctx.X_tr, ctx.y_tr)
        log.info("resample %s: training counts %s -> %s (fit only)", resample.method,
                 ctx.report["resample"]["training_counts_before"], ctx.report["resample"]["training_counts_after"])
        model = strip_samplers(model)
    elif resample.method == "class_weight":
        ctx.report["resample"] = resample.record(model, ctx.X_tr, ctx.y_tr)
    selection = plan.spec("select", ctx.candidate).record(model, ctx.cv_result)
    if selection:
        ctx.report["selection"] = selection
        log.info("select %s: %d of %d features kept", selection["method"], selection["n_selected"], selection["n_in"])
    reduction = plan.spec("reduce", ctx.candidate).record(model)
    if reduction:
        ctx.report["reduce"] = reduction
        log.info("reduce %s: %d features -> %d components (%.1f%% of the variance)", reduction["method"],
                 reduction["n_in"], reduction["n_components"], 100 * reduction["explained_variance"])
    _record_members(ctx, model)
    if data.task == "regression" or (plan.calibration.method == "none" and plan.threshold.objective == "none"):
        ctx.model = model
        ctx.report["model_structure"] = ctx.bundle["model_structure"] = describe_structure(model)
        return
    classes = list(data.classes)
    cv = ctx.cv_result
    oof, oof_rows = None, None
    if cv is not None:
        oof_rows = cv.validated
        oof = cv.oof_proba[oof_rows]
    calibrated, threshold = False, None
    if plan.calibration.method != "none":
        from mlengine.evaluate.calibration import calibrate

        uncalibrated = model
        model, record, oof_after, mask = calibrate(model, cv, ctx.X_tr, ctx.y_tr, plan.calibration, classes)
        have = list(model.steps[-1][1].classes_)
        oof_after = _in_order(oof_after, have, classes)
        record.update(_calibration_report(ctx, uncalibrated, model, cv.oof_proba[mask], oof_after,
                                          ctx.y_tr.to_numpy()[mask]))
        ctx.report["calibration"] = record
        ctx.bundle["calibration"] = plan.calibration.bundle(record)
        oof, oof_rows, calibrated = oof_after, mask, True
    if plan.threshold.objective != "none":
        y_oof = ctx.y_tr.to_numpy()[oof_rows] if oof_rows is not None else None
        model, record = plan.threshold.apply(model, recipe.evaluate.value, oof, y_oof, classes, data.pos_label,
                                             calibrated)
        ctx.report["threshold"] = record
        threshold = record["threshold"]
        ctx.bundle["threshold"] = plan.threshold.bundle(record)
    if oof is not None:
        _final_cv(ctx, oof, oof_rows, threshold, plan.calibration.method if calibrated else None)
    ctx.model = model
    ctx.report["model_structure"] = ctx.bundle["model_structure"] = describe_structure(model)


def _fitted_members(model: Any) -> list[tuple[str, Any]]:
    """The fitted member pipelines of a search's ensemble (`Pipeline([adapt, ("model", Voting*/Stacking*)])`,
    mlengine.search.ensemble), else []. Each member has its own resample, select and reduce steps."""
    named = getattr(model.steps[-1][1], "named_estimators_", None) if hasattr(model, "steps") else None
    return list(named.items()) if named is not None else []


def _member_pins(ctx: Any) -> list[dict[str, Any]]:
    """The kept ensemble's members as recipe pins (model, params, pipeline_params), in member order: the search's
    best_overrides, or the recipe's own pinned members (a replay)."""
    pins = ((ctx.report.get("search") or {}).get("best_overrides") or {}).get("search.ensemble.members")
    return pins if pins is not None else [m.model_dump() for m in ctx.recipe.search.ensemble.members]


def _record_members(ctx: Any, model: Any) -> None:
    """metrics.json resample / selection / reduce for a kept ensemble: the same record per member (each member
    was searched with its own pipeline parameters), as `{"method": ..., "members": {member name: record}}`.
    Without this an ensemble run would say nothing of what its members resampled, selected or reduced."""
    from dataclasses import replace

    members, plan = _fitted_members(model), ctx.plan
    pins = _member_pins(ctx) if members else []
    if not members or len(pins) != len(members):
        return
    X = model.steps[0][1].transform(ctx.X_tr)  # the members' input: the shared adapter's output
    per: dict[str, dict[str, Any]] = {"resample": {}, "selection": {}, "reduce": {}}
    for (name, member), pin in zip(members, pins, strict=True):
        cand = replace(ctx.candidate, model=pin["model"], pipeline_params=pin.get("pipeline_params") or {})
        resample = plan.spec("resample", cand)
        if any(n == "resample" for n, _ in member.steps) or resample.method == "class_weight":
            per["resample"][name] = resample.record(member, X, ctx.y_tr)
        for key, step in (("selection", "select"), ("reduce", "reduce")):
            record = plan.spec(step, cand).record(member)
            if record:
                per[key][name] = record
    for key, records in per.items():
        if records:
            ctx.report[key] = {"method": next(iter(records.values()))["method"], "members": records}
            log.info("%s %s: recorded for each of the ensemble's %d member(s) (metrics.json %s.members)", key,
                     ctx.report[key]["method"], len(records), key)


def _fold_rows(ctx: Any) -> list[np.ndarray]:
    """Validation rows of each CV fold (first repeat): kept with the fold models, else split again (the
    splitters are seeded, so these are the folds the out-of-fold predictions came from)."""
    from mlengine.evaluate.crossval import split_arg

    if ctx.cv_result.folds:
        return [va for _, va in ctx.cv_result.folds]
    cv = ctx.plan.cv
    splits = cv.splitter().split(ctx.X_tr, ctx.y_tr, split_arg(cv, ctx.groups_tr, ctx.times_tr))
    return [va for _, va in list(splits)[:cv.folds]]


def final_cv_scores(oof: np.ndarray, rows: np.ndarray, y: np.ndarray, folds: list[np.ndarray], metrics: list[str],
                    classes: list[Any], pos_label: Any, threshold: float | None) -> dict[str, dict[str, Any]]:
    """Per-fold scores of the final model's out-of-fold predictions: `oof` are the (calibrated) probabilities of
    the training rows in the bool mask `rows`; labels are positive when P(positive) >= `threshold` (as the saved
    FixedThresholdClassifier decides), else the most probable class. Same shape as CVResult.summary()."""
    from mlengine.evaluate.metrics import score_all

    full = np.full((len(y), len(classes)), np.nan)
    full[rows] = oof
    labels = np.asarray(classes)
    scores: dict[str, list[float]] = {m: [] for m in metrics}
    for va in folds:
        va = va[rows[va]]
        if not len(va):
            continue
        p = full[va]
        if threshold is not None:
            neg = next(c for c in classes if c != pos_label)
            pred = np.where(p[:, classes.index(pos_label)] >= threshold, pos_label, neg)
        else:
            pred = labels[np.argmax(p, axis=1)]
        for name, v in score_all(metrics, y[va], pred=pred, proba=p, classes=classes, pos_label=pos_label).items():
            scores[name].append(v)
    return {m: {"mean": float(np.mean(v)), "std": float(np.std(v)), "folds": [float(x) for x in v]}
            for m, v in scores.items()}


def _final_cv(ctx: Any, oof: np.ndarray, rows: np.ndarray, threshold: float | None, calibration: str | None) -> None:
    """The CV figures of the model that is saved (calibrated, thresholded), so the CV column describes the same
    pipeline as the holdout; the cross-validated model before these steps stays under `cv_uncalibrated`."""
    cv, data = ctx.cv_result, ctx.data
    rows = np.asarray(rows, dtype=bool)
    folds = _fold_rows(ctx)
    covered = np.zeros(len(rows), dtype=bool)
    covered[np.concatenate(folds)] = True
    if not np.array_equal(covered, rows):
        folds = [np.flatnonzero(rows)]  # folds not recoverable: one pooled score (std 0)
    ctx.report["cv"] = final_cv_scores(oof, rows, ctx.y_tr.to_numpy(), folds, ctx.plan.metrics, list(data.classes),
                                       data.pos_label, threshold)
    ctx.report["cv_uncalibrated"] = cv.summary()
    steps = ([f"{calibration} calibration"] if calibration else []) + (
        [f"decision threshold {threshold:.4g}"] if threshold is not None else [])
    ctx.report["cv_describes"] = {
        "cv": f"the saved model: out-of-fold predictions after {' and '.join(steps)}, scored per fold "
              f"({len(folds)} fold(s), first repeat)",
        "cv_uncalibrated": "the model before calibration/threshold, as cross-validated",
        "note": "The calibrator and the threshold were fitted on these same out-of-fold predictions, so the cv "
                "figures are slightly optimistic; the holdout is the independent check"}
    primary = ctx.plan.primary_metric
    log.info("cv of the saved model (%s): %s %.4f (before: %.4f)", " and ".join(steps), primary,
             ctx.report["cv"][primary]["mean"], ctx.report["cv_uncalibrated"][primary]["mean"])


def _calibration_report(ctx: Any, before_model: Any, after_model: Any, oof_before: np.ndarray,
                        oof_after: np.ndarray, y_oof: np.ndarray) -> dict[str, Any]:
    from mlengine.evaluate.calibration import proba_quality, reliability

    data = ctx.data
    classes, pos = list(data.classes), data.pos_label
    bins = ctx.plan.calibration.bins
    out: dict[str, Any] = {"oof": {"before": proba_quality(y_oof, oof_before, classes, pos),
                                   "after": proba_quality(y_oof, oof_after, classes, pos),
                                   "note": "'after' is in-sample for the calibrator; the holdout is the honest "
                                           "comparison"}}
    if len(ctx.y_te):
        y = ctx.y_te.to_numpy()
        before = _in_order(np.asarray(before_model.predict_proba(ctx.X_te)), list(before_model.classes_), classes)
        after = _in_order(np.asarray(after_model.predict_proba(ctx.X_te)), list(after_model.classes_), classes)
        out["holdout"] = {"before": proba_quality(y, before, classes, pos), "after": proba_quality(y, after, classes,
                                                                                                  pos)}
        out["reliability"] = {"on": "holdout", "before": reliability(y, before, classes, pos, bins),
                              "after": reliability(y, after, classes, pos, bins)}
        log.info("calibration on the holdout: brier %.4f -> %.4f, log_loss %.4f -> %.4f",
                 out["holdout"]["before"]["brier"], out["holdout"]["after"]["brier"],
                 out["holdout"]["before"]["log_loss"], out["holdout"]["after"]["log_loss"])
    else:
        out["reliability"] = {"on": "out-of-fold (no holdout)",
                              "before": reliability(y_oof, oof_before, classes, pos, bins),
                              "after": reliability(y_oof, oof_after, classes, pos, bins)}
    return out
