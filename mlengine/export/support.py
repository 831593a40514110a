"""Which export formats a recipe gets, decided at plan time from the recipe alone (no data, no heavy imports).

`export.format: auto` (the default) writes joblib always and ONNX whenever the recipe's model can be exported;
an explicit list writes exactly those formats, and asking for `onnx` with a model that cannot be exported is a
recipe error at validate/plan time. The run itself converts the fitted pipeline and checks parity; a structure
this table does not foresee fails there, loudly when ONNX was asked for and with a warning under `auto`.
"""

from __future__ import annotations

from typing import Any

from mlengine.sections.calibration import exportable_methods
from mlengine.sections.model import MODELS

# registered models with an exact converter (mlengine/export/onnx_models.py), and those refused on purpose with
# why (the plan says so; the run writes joblib): both stated on the model's registry entry
EXPORTABLE_MODELS = tuple(name for name, spec in MODELS.items() if spec.onnx)
REFUSED_MODELS = {name: spec.onnx_refused for name, spec in MODELS.items() if spec.onnx_refused}
XGB_CLASSIFICATION = ("binary:logistic", "multi:softprob")
XGB_REGRESSION = ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:quantileerror",
                  "count:poisson", "reg:gamma", "reg:tweedie")
LGBM_CLASSIFICATION = ("binary", "multiclass", "softmax", "cross_entropy", "xentropy")
LGBM_REGRESSION = ("regression", "regression_l2", "l2", "mean_squared_error", "mse", "regression_l1", "l1",
                   "mean_absolute_error", "mae", "huber", "fair", "quantile", "mape",
                   "mean_absolute_percentage_error", "poisson", "gamma", "tweedie")


def onnx_blockers(recipe: Any, task: str = "auto") -> list[str]:
    """Reasons the recipe's model cannot be exported to ONNX (empty when it can)."""
    name, params = recipe.model.name, dict(recipe.model.params)
    out: list[str] = []
    if name in REFUSED_MODELS:
        return [REFUSED_MODELS[name]]
    if name not in EXPORTABLE_MODELS:
        return [f"model {name!r} has no ONNX converter (exportable models: {', '.join(EXPORTABLE_MODELS)})"]
    classification = task in ("binary", "multiclass")
    if name == "lightgbm":
        if params.get("linear_tree"):
            out.append("lightgbm with model.params.linear_tree: true (linear models in the leaves) has no ONNX "
                       "tree-ensemble equivalent")
        objective = params.get("objective")
        if objective is not None:
            allowed = (LGBM_CLASSIFICATION if classification else LGBM_REGRESSION if task == "regression"
                       else (*LGBM_CLASSIFICATION, *LGBM_REGRESSION))
            if objective not in allowed:
                out.append(f"lightgbm objective {objective!r} (model.params.objective) cannot be exported; "
                           f"exportable: {', '.join(allowed)}")
    elif name == "xgboost":
        out += _xgboost_blockers(params, task)
    elif name == "mlp" and params.get("activation", "relu") not in ("relu", "tanh", "logistic", "identity"):
        out.append(f"mlp activation {params['activation']!r} (model.params.activation) cannot be exported")
    elif name == "dummy" and task != "regression" and params.get("strategy") in ("stratified", "uniform"):
        out.append(f"dummy strategy {params['strategy']!r} (model.params.strategy) predicts at random; an ONNX "
                   "graph cannot reproduce its draws (use 'prior' or 'most_frequent')")
    elif name == "hist_gradient_boosting" and params.get("categorical_features") not in (None, "from_dtype"):
        out.append("hist_gradient_boosting with model.params.categorical_features: its categorical splits have "
                   "no exact ONNX equivalent (mlengine encodes categories before the model)")
    calibration = getattr(recipe, "calibration", None)
    if calibration is not None and not calibration.exportable:
        out.append(f"calibration.method {calibration.method!r} cannot be exported (exportable: "
                   f"{', '.join(exportable_methods())})")
    return out


def search_onnx_blockers(recipe: Any) -> list[str]:
    """Searched models (search.estimators) that could win and then not export; the default estimators all export."""
    s = recipe.search
    if not (s.trials or s.time_budget):
        return []
    bad = [m for m in dict.fromkeys(s.estimators) if m != recipe.model.name
           and (m in REFUSED_MODELS or m not in EXPORTABLE_MODELS)]
    return [f"search.estimators includes {m!r}, which could be the best and cannot be exported ("
            + (REFUSED_MODELS[m] if m in REFUSED_MODELS else "no ONNX converter") + ")" for m in bad]


def _xgboost_blockers(params: dict[str, Any], task: str) -> list[str]:
    out = []
    booster = params.get("booster", "gbtree")
    if booster != "gbtree":
        out.append(f"xgboost booster {booster!r} (model.params.booster) cannot be exported; only 'gbtree' "
                   "(dart drops trees at random while training and weights them at prediction; gblinear is linear)")
    objective = params.get("objective")
    if objective is not None:
        allowed = (XGB_CLASSIFICATION if task in ("binary", "multiclass") else XGB_REGRESSION if task == "regression"
                   else (*XGB_CLASSIFICATION, *XGB_REGRESSION))
        if objective not in allowed:
            out.append(f"xgboost objective {objective!r} (model.params.objective) cannot be exported; "
                       f"exportable: {', '.join(allowed)}")
    return out
