"""Ensembles of the best distinct trials: soft voting or stacking, kept only if they beat the single best.

Members: the best trial of each model first (best first), then further distinct configurations by rank.

Members are the trials' whole pipelines without the shared, stateless adapter: `Pipeline([adapt, VotingClassifier(
[preprocess + model, ...])])`, so each member keeps its own preprocessing (and samplers, which act only while that
member fits). The ensemble is cross-validated on the same folds as the trials, then compared with the best trial
on the search metric; a tie keeps the single model (simpler, same score).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("mlengine")


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

    def to_dict(self, best_mean: float) -> dict[str, Any]:
        return {"method": self.method, "members": self.members, "kept": self.kept, "cv_mean": self.mean,
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


def build_ensemble(method: str, pipelines: list[tuple[str, Any]], task: str, cv: Any) -> Any:
    """An unfitted ensemble pipeline over `(name, full pipeline)` members sharing their first step (the adapter)."""
    from sklearn import ensemble as E
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.pipeline import Pipeline

    adapt = pipelines[0][1].steps[0]
    members = [(name, type(p)(p.steps[1:])) for name, p in pipelines]
    classify = task != "regression"
    if method == "voting":
        combiner = E.VotingClassifier(members, voting="soft") if classify else E.VotingRegressor(members)
    else:
        inner = (StratifiedKFold if classify else KFold)(n_splits=cv.folds, shuffle=True, random_state=cv.seed)
        combiner = (E.StackingClassifier(members, cv=inner) if classify else E.StackingRegressor(members, cv=inner))
    return Pipeline([adapt, ("model", combiner)])


def try_ensemble(setup: Any, method: str, top: list[Any], best: Any, greater_is_better: bool,
                 n_jobs: int) -> EnsembleOutcome:
    """Cross-validate the ensemble of `top` (best first, distinct) and keep it only if strictly better."""
    from mlengine.evaluate.crossval import cross_validate

    numbers = [r.number for r in top]
    if len(top) < 2:
        reason = f"only {len(top)} distinct successful configuration(s); an ensemble needs 2"
        log.info("ensemble (%s): skipped, %s", method, reason)
        return EnsembleOutcome(method, numbers, False, reason=reason)
    members = []
    for i, r in enumerate(top):  # names as a pinned ensemble names them, so a replay pickles the same bytes
        cand = setup.candidate(r.model, r.params, r.pipeline_params)
        members.append((f"member{i}_{r.model}", setup.pipeline(cand, n_jobs=n_jobs)))
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
