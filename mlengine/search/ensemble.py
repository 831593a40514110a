"""Ensembles of the best distinct trials: soft voting or stacking, kept only if they beat the single best.

Members: the best trial of each model first (best first), then further distinct configurations by rank.
`greedy` (Caruana et al. 2004, ensemble selection) needs no fits at all: the search keeps the out-of-fold
predictions of those top_k trials, and for GREEDY_ROUNDS rounds adds (with replacement) the member whose inclusion
in the averaged predictions gives the best mean fold score; the best prefix's selection counts are the weights of
a soft vote. Its fold scores are exactly what cross-validating that weighted vote gives (each member is fitted on
the same training folds), so nothing is fitted twice.

Members are the trials' whole pipelines without the shared, stateless adapter: `Pipeline([adapt, VotingClassifier(
[preprocess + model, ...])])`, so each member keeps its own preprocessing (and samplers, which act only while that
member fits). The ensemble is cross-validated on the same folds as the trials, then compared with the best trial
on the search metric; a tie keeps the single model (simpler, same score).

Under `run.time_budget` an ensemble is built only if its estimated cost (its other members' refits, and a
cross-validation of all of them when it needs one, from their trials' seconds) fits in what the run has left
(`mlengine.search.budget.ensemble_allowance`); otherwise the single best is kept and the reason says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("mlengine")


GREEDY_ROUNDS = 25  # selection rounds (with replacement), as AutoGluon's weighted ensemble; the best prefix wins


@dataclass
class EnsembleOutcome:
    method: str
    members: list[int]  # trial numbers
    kept: bool
    pipeline: Any = None
    cv: Any = None
    mean: float | None = None
    std: float | None = None
    reason: str = ""
    weights: list[float] | None = None  # greedy: selection counts per member

    def to_dict(self, best_mean: float) -> dict[str, Any]:
        return {"method": self.method, "members": self.members, "weights": self.weights, "kept": self.kept,
                "cv_mean": self.mean,
                "cv_std": self.std, "best_single_cv_mean": best_mean, "reason": self.reason}


def ensemble_members(ranked_ok: list[Any], k: int) -> list[Any]:
    """Up to k distinct configurations, best first: the best trial of each model before a second config of any
    model (members that differ predict differently, which is what an ensemble gains from)."""
    seen, firsts, rest, models = set(), [], [], set()
    for r in ranked_ok:
        if r.key() in seen:
            continue
        seen.add(r.key())
        (rest if r.model in models else firsts).append(r)
        models.add(r.model)
    chosen = (firsts + rest)[:k]
    return sorted(chosen, key=ranked_ok.index)


def build_ensemble(method: str, pipelines: list[tuple[str, Any]], task: str, cv: Any,
                   weights: list[float] | None = None) -> Any:
    """An unfitted ensemble pipeline over `(name, full pipeline)` members sharing their first step (the adapter).
    `voting` and `greedy` are soft votes with `weights` (a pinned member's `weight`; for greedy, how often selection
    picked each member); stacking learns its own combination."""
    from sklearn import ensemble as E
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.pipeline import Pipeline

    adapt = pipelines[0][1].steps[0]
    members = [(name, type(p)(p.steps[1:])) for name, p in pipelines]
    classify = task != "regression"
    if method in ("voting", "greedy"):
        w = weights  # a pinned or greedy vote passes the members' own; None: equal weights (a searched vote)
        if method == "voting" and w is not None and len(set(w)) == 1:
            w = None  # equal weights are an unweighted vote, and stay the model they were before weights were read
        combiner = (E.VotingClassifier(members, voting="soft", weights=w) if classify
                    else E.VotingRegressor(members, weights=w))
    else:
        inner = (StratifiedKFold if classify else KFold)(n_splits=cv.folds, shuffle=True, random_state=cv.seed)
        combiner = (E.StackingClassifier(members, cv=inner) if classify else E.StackingRegressor(members, cv=inner))
    return Pipeline([adapt, ("model", combiner)])


def over_allowance(method: str, members: list[Any], best_number: int, folds: int, cross_validated: bool,
                   allowance: float | None) -> str | None:
    """Why an ensemble of `members` is not built under run.time_budget (`allowance` seconds left for it), else None.
    Its cost: each member other than the single best refitted on the whole training split and, when the ensemble
    is cross-validated itself, every member once per fold (a stacking also fits its members on its inner folds)."""
    if allowance is None:
        return None
    from mlengine.search.budget import RESERVE_MIN_S, refit_seconds

    fits = 1 + folds if method == "stacking" else 1
    refit = sum(refit_seconds(r, folds) for r in members if r.number != best_number) * fits
    cv = sum(r.seconds for r in members) * fits if cross_validated else 0.0
    if refit + cv <= allowance:
        return None
    return (f"not built: refitting its {len(members)} members{' and cross-validating them' if cv else ''} would take "
            f"about {refit + cv:.0f} s (from their trials' seconds), more than the {max(allowance, 0.0):.0f} s "
            f"run.time_budget leaves after the single best's refit and {RESERVE_MIN_S:g} s for the export and report")


def try_ensemble(setup: Any, method: str, top: list[Any], best: Any, greater_is_better: bool,
                 n_jobs: int, allowance: float | None = None) -> EnsembleOutcome:
    """Cross-validate the ensemble of `top` (best first, distinct) and keep it only if strictly better; not built
    when its estimated cost exceeds `allowance` seconds (what run.time_budget leaves it; None: no bound)."""
    from mlengine.evaluate.crossval import cross_validate

    numbers = [r.number for r in top]
    if len(top) < 2:
        reason = f"only {len(top)} distinct successful configuration(s); an ensemble needs 2"
        log.info("ensemble (%s): skipped, %s", method, reason)
        return EnsembleOutcome(method, numbers, False, reason=reason)
    reason = over_allowance(method, top, best.number, setup.plan.cv.folds, True, allowance)
    if reason:
        log.warning("note: ensemble (%s of %d): %s; keeping the single best trial", method, len(top), reason)
        return EnsembleOutcome(method, numbers, False, reason=reason)
    members = []
    for i, r in enumerate(top):  # names as a pinned ensemble names them, so a replay pickles the same bytes
        members.append((f"member{i}_{r.model}", setup.member_pipeline(r, n_jobs=n_jobs)))
    pipe = build_ensemble(method, members, setup.task, setup.plan.cv)
    log.info("ensemble: %s of trials %s, cross-validated on the same folds", method, numbers)
    try:
        cv = cross_validate(pipe, setup.X, setup.y, setup.plan.cv, task=setup.task, metrics=setup.plan.metrics,
                            primary=setup.metric, classes=setup.classes, pos_label=setup.pos_label,
                            groups=setup.groups, times=setup.times, label="  ensemble ",
                            fold_log_level=logging.DEBUG)
    except Exception as exc:
        reason = f"failed: {type(exc).__name__}: {exc}"
        log.warning("ensemble (%s) %s; keeping the single best model", method, reason)
        return EnsembleOutcome(method, numbers, False, reason=reason)
    folds = cv.scores[setup.metric]
    mean = sum(folds) / len(folds)
    std = (sum((v - mean) ** 2 for v in folds) / len(folds)) ** 0.5
    better = mean > best.mean if greater_is_better else mean < best.mean
    verdict = "kept" if better else "not kept"
    reason = (f"cv {setup.metric} {mean:.4f} vs single best {best.mean:.4f} (trial {best.number}): "
              + ("better" if better else "not better"))
    log.info("ensemble (%s of %d): %s; %s", method, len(top), reason, verdict)
    return EnsembleOutcome(method, numbers, better, pipe if better else None, cv, mean, std, reason)


def greedy_ensemble(setup: Any, top: list[Any], cv_results: dict[int, Any], greater_is_better: bool,
                    n_jobs: int, allowance: float | None = None) -> EnsembleOutcome:
    """Ensemble selection over the kept out-of-fold predictions of `top` (best first); kept only if strictly
    better, and built only if its members' refit fits in `allowance` seconds (None: no bound)."""
    import numpy as np

    from mlengine.evaluate.crossval import CVResult, split_arg
    from mlengine.evaluate.metrics import score_all

    top = [r for r in top if r.number in cv_results]
    numbers = [r.number for r in top]
    if len(top) < 2:
        reason = f"only {len(top)} distinct successful configuration(s) with predictions; an ensemble needs 2"
        log.info("ensemble (greedy): skipped, %s", reason)
        return EnsembleOutcome("greedy", numbers, False, reason=reason)
    cv = setup.plan.cv
    splits = list(cv.splitter().split(setup.X, setup.y, split_arg(cv, setup.groups, setup.times)))[:cv.folds]
    y = setup.y.to_numpy()
    classify = setup.task != "regression"
    preds = [cv_results[n].oof_proba if classify else cv_results[n].oof_pred.astype(float) for n in numbers]
    classes = np.asarray(setup.classes) if classify else None

    def blend(weights: list[float]) -> np.ndarray:  # as VotingClassifier / VotingRegressor average
        used = [i for i, w in enumerate(weights) if w > 0]
        return np.average(np.asarray([preds[i] for i in used]), axis=0, weights=[weights[i] for i in used])

    def fold_scores(blended: np.ndarray, metrics: list[str]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {m: [] for m in metrics}
        for _, va in splits:
            proba = blended[va] if classify else None
            pred = classes[np.argmax(proba, axis=1)] if classify else blended[va]
            for m, v in score_all(metrics, y[va], pred=pred, proba=proba, classes=setup.classes,
                                  pos_label=setup.pos_label).items():
                out[m].append(float(v))
        return out

    def objective(weights: list[float]) -> float:
        folds = fold_scores(blend(weights), [setup.metric])[setup.metric]
        return sum(folds) / len(folds)

    better = (lambda a, b: a > b) if greater_is_better else (lambda a, b: a < b)
    counts = [0.0] * len(top)
    history: list[tuple[float, list[float]]] = []
    for _ in range(GREEDY_ROUNDS):
        choice, value = None, None
        for j in range(len(top)):
            trial = counts.copy()
            trial[j] += 1
            v = objective(trial)
            if value is None or better(v, value):
                choice, value = j, v
        counts[choice] += 1
        history.append((value, counts.copy()))
    single = history[0][0]  # round 1 picks the best single member on these folds
    best_value, weights = history[0]
    for value, w in history[1:]:
        if better(value, best_value):
            best_value, weights = value, w
    members = [i for i, w in enumerate(weights) if w > 0]
    kept = len(members) > 1 and better(best_value, single)
    reason = (f"cv {setup.metric} {best_value:.4f} ({len(members)} of {len(top)} trials, weights "
              f"{', '.join(f'{numbers[i]}:{weights[i]:g}' for i in members)}) vs single best {single:.4f} "
              f"(trial {numbers[int(np.argmax(history[0][1]))]}): " + ("better" if kept else "not better"))
    log.info("ensemble (greedy over the out-of-fold predictions of trials %s): %s; %s", numbers, reason,
             "kept" if kept else "not kept")
    if not kept:
        return EnsembleOutcome("greedy", numbers, False, reason=reason, mean=best_value)
    chosen = [top[i] for i in members]
    w = [weights[i] for i in members]
    costly = over_allowance("greedy", chosen, top[0].number, cv.folds, any(r.best_iterations for r in chosen),
                            allowance)
    if costly:
        log.warning("note: ensemble (greedy): %s; keeping the single best trial", costly)
        return EnsembleOutcome("greedy", numbers, False, reason=f"{reason}; {costly}", mean=best_value)
    blended = blend(weights)
    scores = fold_scores(blended, setup.plan.metrics)
    validated = np.logical_and.reduce([cv_results[r.number].validated for r in chosen])
    pred = np.empty(len(y), dtype=object if classify else float)
    pred[:] = None if classify else np.nan
    pred[validated] = classes[np.argmax(blended[validated], axis=1)] if classify else blended[validated]
    result = CVResult(scores, pred, blended if classify else None, [], validated)
    pipes = [(f"member{i}_{r.model}", setup.member_pipeline(r, n_jobs=n_jobs)) for i, r in enumerate(chosen)]
    pipe = build_ensemble("greedy", pipes, setup.task, cv, weights=w)
    if any(r.best_iterations for r in chosen):
        # an early-stopped member is fitted with its chosen tree count, not as its trial was: the blend of the
        # trials' predictions is not this ensemble's, so it is cross-validated itself (as a replay would)
        from mlengine.evaluate.crossval import cross_validate

        log.info("ensemble (greedy): cross-validating the chosen members with their early-stopped tree counts")
        result = cross_validate(pipe, setup.X, setup.y, cv, task=setup.task, metrics=setup.plan.metrics,
                                primary=setup.metric, classes=setup.classes, pos_label=setup.pos_label,
                                groups=setup.groups, times=setup.times, label="  ensemble ",
                                fold_log_level=logging.DEBUG)
        scores = result.scores
    folds = scores[setup.metric]
    mean = sum(folds) / len(folds)
    std = (sum((v - mean) ** 2 for v in folds) / len(folds)) ** 0.5
    if any(r.best_iterations for r in chosen) and not better(mean, single):
        reason = (f"cv {setup.metric} {mean:.4f} with the members' early-stopped tree counts vs single best "
                  f"{single:.4f}: not better")
        log.info("ensemble (greedy): %s; not kept", reason)
        return EnsembleOutcome("greedy", numbers, False, reason=reason, mean=mean)
    return EnsembleOutcome("greedy", [r.number for r in chosen], True, pipe, result, mean, std, reason, w)
