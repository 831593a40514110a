"""Early stopping of boosting models inside each CV training fold (`model.early_stopping`).

`EarlyStoppingPipeline` is the recipe's pipeline with a different `fit`: it carves a validation split from the
rows it is given (a CV training fold: stratified for classification, the latest rows for time-ordered CV,
`validation_fraction` of them, seeded), fits every step before the model on the REST only (preprocessing,
samplers, selection, reduction: the validation rows never fit them, and samplers never touch them), sends the
validation rows through the fitted transforms, and fits the booster with that validation set: LightGBM with
`callbacks=[lightgbm.early_stopping(patience)]` and `eval_set`, XGBoost with `early_stopping_rounds=patience`. The fold model
predicts with its best iteration; `best_iteration_` records it (a count of trees) and `cross_validate` collects it
per fold (`CVResult.best_iterations`).

The refit on the whole training split has no validation carve-out: `plain_refit` rebuilds the recipe's own
pipeline (a scikit-learn or imbalanced-learn Pipeline) with `n_estimators` = the mean over folds of the best
iteration (`chosen_n_estimators`). That plain pipeline is what is saved and exported.

Imports scikit-learn and imbalanced-learn: imported only when an early-stopped pipeline is built or fitted.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.base import clone
from sklearn.pipeline import Pipeline


def validation_rows(y: Any, fraction: float, seed: int, stratify: bool, ordered: bool) -> tuple[np.ndarray, np.ndarray]:
    """(rows that fit, validation rows) as positions into `y`, disjoint and covering every row.

    Stratified (classification) when every class has at least 2 rows and the split can hold one of each, else a
    plain shuffled split; `ordered` (time-ordered CV) takes the last rows, so the booster stops on later rows
    than it learned from."""
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    y = np.asarray(y)
    n = len(y)
    n_val = max(1, int(round(fraction * n)))
    if n - n_val < 1:
        raise ValueError(f"early stopping needs at least 2 rows to carve a validation split; got {n}")
    positions = np.arange(n)
    if ordered:
        return positions[: n - n_val], positions[n - n_val:]
    if stratify:
        _, counts = np.unique(y, return_inverse=False, return_counts=True)
        if counts.min() >= 2 and len(counts) <= n_val <= n - len(counts):
            splitter: Any = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=seed)
            fit, val = next(splitter.split(positions, y))
            return np.sort(fit), np.sort(val)
    fit, val = next(ShuffleSplit(n_splits=1, test_size=n_val, random_state=seed).split(positions))
    return np.sort(fit), np.sort(val)


def _take(data: Any, rows: np.ndarray) -> Any:
    return data.iloc[rows] if hasattr(data, "iloc") else np.asarray(data)[rows]


def booster_kind(final: Any) -> str | None:
    """'lightgbm' or 'xgboost' for the pipeline's final step (inside a target transform too), else None."""
    inner = getattr(final, "regressor", final)
    module = type(inner).__module__
    if module.startswith("lightgbm"):
        return "lightgbm"
    if module.startswith("xgboost") or type(inner).__name__ == "XGBLabelClassifier":
        return "xgboost"
    return None


def _eval_target(final: Any, y_fit: Any, y_val: Any) -> Any:
    """Validation targets on the scale the booster learns: a target transform (TransformedTargetRegressor) is
    applied to them as it is to the training targets (its transformer fitted on the fitting rows only)."""
    if not hasattr(final, "regressor"):
        return y_val
    y_val = np.asarray(y_val, dtype=float)
    if final.transformer is not None:
        t = clone(final.transformer).fit(np.asarray(y_fit, dtype=float).reshape(-1, 1))
        return np.asarray(t.transform(y_val.reshape(-1, 1))).ravel()
    return final.func(y_val) if final.func is not None else y_val


def best_iteration(final: Any) -> int:
    """Trees the fitted booster predicts with (its best iteration, counted from 1)."""
    inner = getattr(final, "regressor_", final)
    if booster_kind(final) == "lightgbm":
        best = getattr(inner, "best_iteration_", None)
        return int(best) if best else int(inner.n_estimators)
    best = getattr(inner, "best_iteration", None)
    return int(best) + 1 if best is not None else int(inner.n_estimators)


class _EarlyStoppingFit:
    """The fit shared by the scikit-learn and imbalanced-learn variants (see the module docstring)."""

    steps: list[tuple[str, Any]]
    validation_fraction: float
    patience: int
    seed: int
    stratify: bool
    ordered: bool

    def __init__(self, steps: list[tuple[str, Any]], *, validation_fraction: float = 0.1, patience: int = 50,
                 seed: int = 0, stratify: bool = True, ordered: bool = False, memory: Any = None,
                 verbose: bool = False):
        super().__init__(steps, memory=memory, verbose=verbose)  # type: ignore[call-arg]  (the Pipeline's)
        self.validation_fraction, self.patience, self.seed = validation_fraction, patience, seed
        self.stratify, self.ordered = stratify, ordered

    def fit(self, X: Any, y: Any, **params: Any) -> Any:
        final_name, final = self.steps[-1]
        final_params: dict[str, Any] = {}
        for key, value in params.items():  # fit params address the model step (e.g. a deadline callback)
            step, _, name = key.partition("__")
            if step != final_name or not name:
                raise TypeError(f"early stopping passes fit parameters to the model step only; got {key!r}")
            final_params[name] = value
        fit_rows, val_rows = validation_rows(y, self.validation_fraction, self.seed, self.stratify, self.ordered)
        self.fit_rows_, self.validation_rows_ = fit_rows, val_rows
        X_fit, y_fit, X_val, y_val = _take(X, fit_rows), _take(y, fit_rows), _take(X, val_rows), _take(y, val_rows)
        for _, step in self.steps[:-1]:  # every step before the model learns from the fitting rows only
            if step is None or step == "passthrough":
                continue
            if hasattr(step, "fit_resample"):  # a sampler: acts on the fitting rows, never on validation rows
                X_fit, y_fit = step.fit_resample(X_fit, y_fit)
            else:
                X_fit = step.fit_transform(X_fit, y_fit)
                X_val = step.transform(X_val)
        kind = booster_kind(final)
        eval_y = _eval_target(final, y_fit, y_val)
        if kind == "lightgbm":
            import lightgbm

            final_params["callbacks"] = [*final_params.get("callbacks", []),
                                         lightgbm.early_stopping(self.patience, verbose=False)]
            with warnings.catch_warnings():
                # `eval_set` is deprecated in LightGBM 4.7 for eval_X/eval_y, but LGBMClassifier encodes the labels
                # of `eval_set` only (eval_y with string classes fails), so eval_set it is
                warnings.filterwarnings("ignore", message=".*'eval_set' is deprecated")
                final.fit(X_fit, y_fit, eval_set=[(X_val, eval_y)], **final_params)
        elif kind == "xgboost":
            prefix = "regressor__" if hasattr(final, "regressor") else ""
            final.set_params(**{f"{prefix}early_stopping_rounds": self.patience})
            final.fit(X_fit, y_fit, eval_set=[(X_val, eval_y)], verbose=False, **final_params)
        else:
            raise TypeError(f"early stopping needs a LightGBM or XGBoost model; got {type(final).__name__}")
        self.best_iteration_ = best_iteration(final)
        return self


class EarlyStoppingPipeline(_EarlyStoppingFit, Pipeline):
    """A scikit-learn Pipeline whose fit early-stops its booster on a validation split of the fit rows."""


class EarlyStoppingImbPipeline(_EarlyStoppingFit, ImbPipeline):
    """The imbalanced-learn variant (a sampler step): samplers act on the fitting rows only."""


def early_stopped(pipeline: Any, *, validation_fraction: float, patience: int, seed: int, task: str,
                  ordered: bool) -> Any:
    """The recipe's unfitted pipeline with the early-stopping fit."""
    cls = EarlyStoppingImbPipeline if isinstance(pipeline, ImbPipeline) else EarlyStoppingPipeline
    return cls(list(pipeline.steps), validation_fraction=validation_fraction, patience=patience, seed=seed,
               stratify=task != "regression", ordered=ordered)


def is_early_stopped(estimator: Any) -> bool:
    return isinstance(estimator, _EarlyStoppingFit)


def chosen_n_estimators(iterations: list[int]) -> int:
    """The refit's tree count: the mean over folds of the best iteration, rounded (at least 1)."""
    if not iterations:
        raise ValueError("no fold recorded a best iteration")
    return max(1, int(round(sum(iterations) / len(iterations))))


def n_estimators_key(pipeline: Any) -> str:
    """The pipeline parameter of the booster's tree count (inside a target transform too)."""
    name, final = pipeline.steps[-1]
    return f"{name}__regressor__n_estimators" if hasattr(final, "regressor") else f"{name}__n_estimators"


def plain_refit(pipeline: Any, n_estimators: int) -> Any:
    """The recipe's own (unfitted) pipeline with `n_estimators` trees and no validation carve-out."""
    cls = ImbPipeline if isinstance(pipeline, ImbPipeline) else Pipeline
    plain = cls([(name, clone(step)) for name, step in pipeline.steps])
    plain.set_params(**{n_estimators_key(plain): int(n_estimators)})
    return plain


def record(pipeline: Any, iterations: list[int], n_estimators: int) -> dict[str, Any]:
    """metrics.json `early_stopping`: what chose the refit's n_estimators."""
    final = pipeline.steps[-1][1]
    cap = getattr(getattr(final, "regressor", final), "n_estimators", None)
    return {"n_estimators": int(n_estimators), "chosen_by": "early_stopping", "max_n_estimators": cap,
            "best_iterations": [int(i) for i in iterations], "validation_fraction": pipeline.validation_fraction,
            "patience": pipeline.patience, "booster": booster_kind(final)}
