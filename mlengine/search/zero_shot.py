"""FLAML's zero-shot configurations (`flaml.default`) as start points for the search.

FLAML mined a portfolio of strong configurations per learner and task over many datasets, and picks the ones whose
datasets are nearest to ours by four meta features (rows, features, classes, share of numeric features). They are
suggestions for where to start: the search still scores them under the recipe's CV like any other trial.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("mlengine")

# mlengine model -> FLAML's learner name in flaml/default/<name>/<task>.json
FLAML_LEARNER = {"lightgbm": "lgbm", "random_forest": "rf", "extra_trees": "extra_tree", "xgboost": "xgb_limitdepth"}


def zero_shot_params(model: str, task: str, X: Any, y: Any, k: int = 1) -> list[dict[str, Any]]:
    """Up to k suggested parameter sets for `model` on this data, in mlengine's parameter names ([] if none)."""
    learner = FLAML_LEARNER.get(model)
    if learner is None:
        return []
    try:
        from flaml.default import suggest_config

        configs = suggest_config(task, X, y, learner, k=k)
    except Exception as exc:  # a missing portfolio must not stop the search
        log.debug("no zero-shot configuration for %s (%s): %s", model, task, exc)
        return []
    out = []
    for c in configs:
        params = dict(c.get("hyperparameters") or {})
        if not params:  # FLAML's own defaults: the 'defaults' start point covers them
            continue
        params.pop("FLAML_sample_size", None)
        if "log_max_bin" in params:
            params["max_bin"] = (1 << int(params.pop("log_max_bin"))) - 1
        if "max_leaves" in params:
            params["max_leaf_nodes"] = params.pop("max_leaves")
        if task == "regression":
            params.pop("criterion", None)
        out.append(params)
    return out
