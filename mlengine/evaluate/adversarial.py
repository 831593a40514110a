"""Adversarial validation: does the training data reflect the data the model will score?

A small LightGBM classifier learns to tell the training rows (label 0) from the rows of a scoring sample
(`evaluate.adversarial.data`, label 1), cross-validated (stratified folds; identical rows kept in one fold); its out-of-fold ROC AUC says how
separable they are: near 0.5, the training rows look like the sample; near 1, the model will score rows unlike
those it learned from. The columns it splits on most (gain importance, averaged over the folds, as shares) name
where they differ; each column's PSI (training bins, `mlengine.monitor`) is shown beside it.

Only the training split is used on the training side (never the holdout). Features are the run's numeric,
boolean and categorical features, typed as training typed them; datetime columns are left out (a sample from
later always differs in time, which says nothing about the other columns). It runs before the model is fitted,
like the other data checks: a sample that cannot be read or lacks features fails the run at once (exit 2).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from mlengine.errors import DataError
from mlengine.stages import stage

log = logging.getLogger("mlengine")

KEY = "evaluate.adversarial.data"
MIN_ROWS = 20
# ROC AUC cut-offs of the verdict (conventions, like PSI's 0.1 / 0.25; noisier on small samples)
SIMILAR, DIFFERENT = 0.6, 0.8


def read_sample(section: Any, base_dir: Any) -> pd.DataFrame:
    """The scoring sample, read by the same loader as data.source; errors name evaluate.adversarial.data."""
    from mlengine.data.sources import read_source

    try:
        return read_source(section.data, base_dir)
    except DataError as exc:
        raise DataError(str(exc).replace("data.source", KEY)) from None


def typed_sample(sample: pd.DataFrame, columns: Any) -> pd.DataFrame:
    """The sample's features cast as training cast them; missing columns or unreadable values are refused."""
    from mlengine.data.table import coerce_column

    names = [*columns.numeric, *columns.boolean, *columns.categorical]
    missing = [c for c in names if c not in sample.columns]
    if missing:
        raise DataError(f"{KEY}: the sample lacks {len(missing)} training feature(s): "
                        f"{', '.join(repr(c) for c in missing)}. It must hold every feature the model is trained "
                        f"on ({len(names)}); its target column is not needed.")
    if len(sample) < MIN_ROWS:
        raise DataError(f"{KEY}: the sample has {len(sample)} rows; adversarial validation needs at least "
                        f"{MIN_ROWS}.")
    out = {}
    for c in names:
        kind = columns.kind_of(c)
        try:
            out[c] = coerce_column(sample[c], kind, c)
        except DataError as exc:
            raise DataError(f"{KEY}: {exc}") from None
    return pd.DataFrame(out)


def _encode(train: pd.DataFrame, sample: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Both sides in one frame; categoricals as pandas categories over the union of levels (LightGBM native)."""
    both = pd.concat([train.reset_index(drop=True), sample.reset_index(drop=True)], ignore_index=True)
    for c in categorical:
        both[c] = pd.Categorical(both[c].astype(object).where(both[c].notna(), None))
    for c in both.columns:
        if c not in categorical:
            both[c] = both[c].astype(float)
    return both


def _cap(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= n:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), size=n, replace=False))]


def adversarial_validation(section: Any, X_tr: pd.DataFrame, sample: pd.DataFrame, columns: Any, *, seed: int,
                           n_jobs: int = 1, bins: int = 10) -> dict[str, Any]:
    """Out-of-fold AUC of training rows vs sample rows, and the columns that separate them (metrics.json
    `adversarial`)."""
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold

    from mlengine.monitor.compare import compare_profile
    from mlengine.monitor.reference import categorical_profile, numeric_profile

    names = [*columns.numeric, *columns.boolean, *columns.categorical]
    if not names:
        raise DataError(f"{KEY}: the run has no numeric, boolean or categorical feature to compare (datetime "
                        "columns are left out).")
    rng = np.random.default_rng(seed)
    train = _cap(X_tr[names], section.max_rows, rng)
    new = _cap(sample[names], section.max_rows, rng)
    X = _encode(train, new, list(columns.categorical))
    y = np.r_[np.zeros(len(train), dtype=int), np.ones(len(new), dtype=int)]
    folds = min(section.folds, len(train), len(new))
    # identical rows (on either side) share a fold: a sample row that is also a training row would otherwise be
    # "recognised" from its twin with the opposite label, pushing the AUC below 0.5
    rows = pd.util.hash_pandas_object(X, index=False).to_numpy()
    shared = int(np.isin(rows[len(train):], rows[:len(train)]).sum())
    _, groups = np.unique(rows, return_inverse=True)
    oof = np.zeros(len(y))
    gain = np.zeros(len(names))
    fold_auc = []
    for tr, va in StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(X, y, groups):
        clf = lgb.LGBMClassifier(n_estimators=100, learning_rate=0.1, num_leaves=15, min_child_samples=20,
                                 subsample=0.8, subsample_freq=1, colsample_bytree=0.8, importance_type="gain",
                                 random_state=seed, n_jobs=n_jobs, verbose=-1, deterministic=True,
                                 force_col_wise=True)
        clf.fit(X.iloc[tr], y[tr])
        oof[va] = clf.predict_proba(X.iloc[va])[:, 1]
        fold_auc.append(float(roc_auc_score(y[va], oof[va])))
        gain += clf.booster_.feature_importance(importance_type="gain")
    auc = float(roc_auc_score(y, oof))
    shares = gain / gain.sum() if gain.sum() > 0 else gain
    psi = {}
    for c in names:
        prof = numeric_profile(train[c], bins) if c in columns.numeric else categorical_profile(train[c])
        psi[c] = round(compare_profile(prof, new[c])["psi"], 6)
    order = np.argsort(-shares, kind="stable")
    features = [{"feature": names[i], "importance": round(float(shares[i]), 6), "psi": psi[names[i]]}
                for i in order]
    verdict = ("similar" if auc < SIMILAR else "partly separable" if auc < DIFFERENT else "separable")
    out = {"auc": round(auc, 6), "auc_folds": [round(a, 6) for a in fold_auc], "auc_std": round(float(np.std(
        fold_auc)), 6), "verdict": verdict, "thresholds": {"similar_below": SIMILAR, "separable_from": DIFFERENT},
        "rows": {"train": int(len(train)), "sample": int(len(new)), "sample_read": int(len(sample)),
                 "shared": shared},
        "folds": folds, "source": section.data.kind, "model": "lightgbm (100 trees, 15 leaves)",
        "features": features, "top_features": [f["feature"] for f in features[:5] if f["importance"] > 0],
        "left_out": {c: "datetime" for c in columns.datetime}}
    log.info("adversarial validation: AUC %.3f (%s) over %d training and %d sample rows; separating most: %s",
             auc, verdict, len(train), len(new), ", ".join(out["top_features"][:3]) or "-")
    return out


def check_sample(recipe: Any, base_dir: Any, columns: Any) -> pd.DataFrame | None:
    """The scoring sample, read and typed like the training table (a data check: `mlengine validate` runs it)."""
    section = recipe.evaluate.adversarial
    if section is None:
        return None
    return typed_sample(read_sample(section, base_dir), columns)


@stage(reads=("data", "plan", "X_tr"))
def stage_adversarial(ctx: Any) -> None:
    """Before the fit: score how well a classifier separates the scoring sample from the training rows."""
    section = ctx.recipe.evaluate.adversarial
    if section is None:
        return
    sample = check_sample(ctx.recipe, ctx.loaded.base_dir, ctx.data.columns)
    ctx.report["adversarial"] = adversarial_validation(section, ctx.X_tr, sample, ctx.data.columns,
                                                       seed=ctx.plan.seed, n_jobs=ctx.plan.n_jobs,
                                                       bins=ctx.recipe.monitor.bins)
