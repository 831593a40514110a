"""Feature selection: the pipeline step named `select`, after `preprocess` (and after a sampler, if any).

Every selector is a scikit-learn `SelectorMixin` (so `get_support()` and `get_feature_names_out()` work and the
export can keep just the selected columns), fitted inside each CV training fold and then on the training split.
The correlation filter is mlengine's own `CorrelationFilter` (mlengine.steps.correlation), a SelectorMixin too.
scikit-learn is imported only when a selector is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlengine.errors import Problem
from mlengine.steps.options import foreign_params


@dataclass(frozen=True)
class SelectorSpec:
    name: str
    description: str
    params: tuple[str, ...]


SELECTORS: dict[str, SelectorSpec] = {s.name: s for s in [
    SelectorSpec("none", "keep every feature", ()),
    SelectorSpec("variance", "drop features whose variance is at most `threshold` (default 0: constant features)",
                 ("threshold",)),
    SelectorSpec("kbest", "keep the `k` best features by a univariate `score` (f_test, chi2, mutual_info)",
                 ("k", "score")),
    SelectorSpec("percentile", "keep the best `percentile` % of features by a univariate `score`",
                 ("percentile", "score")),
    SelectorSpec("from_model", "keep features a model finds important: `estimator` linear (L1-penalised) or tree "
                               "(extra trees), above `threshold`, at most `max_features`",
                 ("estimator", "threshold", "max_features", "C")),
    SelectorSpec("rfe", "recursive feature elimination down to `n_features` with a linear or tree `estimator`",
                 ("estimator", "n_features", "step")),
    SelectorSpec("rfecv", "recursive feature elimination, the count chosen by an inner CV (`folds`) inside each "
                          "training fold", ("estimator", "n_features", "step", "folds")),
    SelectorSpec("correlation", "of each pair of features correlated above `threshold` (default 0.95), drop the "
                                "later one", ("threshold", "correlation")),
]}
SELECT_METHODS = {n: s.description for n, s in SELECTORS.items()}
SCORES = ("f_test", "chi2", "mutual_info")


def _score_func(score: str, task: str, seed: int) -> Any:
    from functools import partial

    import sklearn.feature_selection as fs

    classify = task != "regression"
    if score == "chi2":
        return fs.chi2
    if score == "mutual_info":
        fn = fs.mutual_info_classif if classify else fs.mutual_info_regression
        return partial(fn, random_state=seed)
    return fs.f_classif if classify else fs.f_regression


def _estimator(kind: str, task: str, seed: int, n_jobs: int, C: float | None, sparse: bool) -> tuple[Any, str]:
    """(estimator, importance_getter) for from_model / rfe / rfecv."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    classify = task != "regression"
    if kind == "tree":
        from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

        cls = ExtraTreesClassifier if classify else ExtraTreesRegressor
        return cls(n_estimators=100, random_state=seed, n_jobs=n_jobs), "auto"
    c = C if C is not None else (0.1 if sparse else 1.0)
    if classify:
        from sklearn.linear_model import LogisticRegression

        model = (LogisticRegression(l1_ratio=1.0, solver="liblinear", C=c, random_state=seed) if sparse
                 else LogisticRegression(C=c, max_iter=2000))
    else:
        from sklearn.linear_model import Lasso, LassoCV, Ridge

        if sparse:  # Lasso's alpha is on the target's scale: choose it by an inner CV unless C pins it (alpha = 1/C)
            model = (LassoCV(cv=3, random_state=seed, max_iter=5000) if C is None
                     else Lasso(alpha=1.0 / C, random_state=seed, max_iter=5000))
        else:
            model = Ridge(alpha=1.0 / c)
    # linear importances are only comparable on a common scale: standardize inside the selector's own model
    return Pipeline([("scale", StandardScaler()), ("linear", model)]), "named_steps.linear.coef_"


def build_selector(section: dict[str, Any], task: str, seed: int, n_jobs: int) -> Any:
    """An unfitted SelectorMixin for the recipe's `select` section."""
    import sklearn.feature_selection as fs

    method = section["method"]
    score = _score_func(section.get("score") or "f_test", task, seed)
    if method == "variance":
        return fs.VarianceThreshold(threshold=float(section.get("threshold") or 0.0))
    if method == "kbest":
        return fs.SelectKBest(score_func=score, k=int(section["k"]))
    if method == "percentile":
        return fs.SelectPercentile(score_func=score, percentile=float(section["percentile"]))
    if method == "correlation":
        from mlengine.steps.correlation import CorrelationFilter

        threshold = section.get("threshold")
        return CorrelationFilter(threshold=0.95 if threshold is None else float(threshold),
                                 method=section.get("correlation") or "pearson")
    kind = section.get("estimator") or "tree"
    if method == "from_model":
        est, getter = _estimator(kind, task, seed, n_jobs, section.get("C"), sparse=True)
        threshold = section.get("threshold")
        if threshold is None:
            threshold = 1e-5 if kind == "linear" else "mean"
        return fs.SelectFromModel(est, threshold=threshold, max_features=section.get("max_features"),
                                  importance_getter=getter)
    est, getter = _estimator(kind, task, seed, n_jobs, section.get("C"), sparse=False)
    step = section.get("step") or 1
    if method == "rfe":
        return fs.RFE(est, n_features_to_select=section.get("n_features"), step=step, importance_getter=getter)
    return fs.RFECV(est, min_features_to_select=int(section.get("n_features") or 1), step=step,
                    cv=int(section.get("folds") or 3), importance_getter=getter, n_jobs=1)


# ------------------------------------------------------------------------------------------ recipe checks ---
def check_section(section: Any, task: str, scale: str) -> list[Problem]:
    """Checks without data: parameters of another method, required parameters, chi2 vs task and scaling."""
    method = section.method
    problems = foreign_params(section, "select", "method", {n: s.params for n, s in SELECTORS.items()})
    if method == "kbest" and section.k is None:
        problems.append(Problem("select.k", "method 'kbest' needs k, the number of features to keep."))
    if method == "percentile" and section.percentile is None:
        problems.append(Problem("select.percentile", "method 'percentile' needs percentile, in (0, 100]."))
    if method == "rfe" and section.n_features is None:
        problems.append(Problem("select.n_features", "method 'rfe' needs n_features (a count, or a share in (0, 1))."))
    if method in ("kbest", "percentile") and section.score == "chi2":
        if task == "regression":
            problems.append(Problem("select.score", "'chi2' scores classes; task is regression (use f_test or "
                                                    "mutual_info)."))
        if scale in ("standard", "robust"):
            problems.append(Problem("select.score", f"'chi2' needs non-negative features; preprocess.scale resolves "
                                                    f"to {scale!r}, which makes negatives. Set preprocess.scale: "
                                                    "minmax or none, or use score f_test."))
    threshold = section.threshold
    if threshold is not None and method in ("variance", "correlation") and not isinstance(threshold, int | float):
        problems.append(Problem("select.threshold", f"method {method!r} needs a number; got {threshold!r}."))
    if method == "correlation" and isinstance(threshold, int | float) and not 0 < threshold <= 1:
        problems.append(Problem("select.threshold", f"a correlation threshold must be in (0, 1]; got {threshold!r}."))
    return problems


def check_width(section: dict[str, Any], n_features: int, names: list[str]) -> list[str]:
    """Problems of counts against the number of features after encoding (known once preprocessing is fitted)."""
    method = section["method"]
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    out = []
    if method == "kbest" and section["k"] > n_features:
        out.append(f"select.k: {section['k']} is more than the {n_features} features after encoding ({shown}). "
                   f"Set k to at most {n_features}.")
    for key in ("n_features", "max_features"):
        v = section.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v > n_features:
            out.append(f"select.{key}: {v} is more than the {n_features} features after encoding ({shown}).")
    return out


def selection_record(pipeline: Any) -> dict[str, Any] | None:
    """Selected and dropped feature names of a fitted pipeline's `select` step (None without one)."""
    steps = dict(pipeline.steps)
    if "select" not in steps:
        return None
    names = _names_before(pipeline, "select")
    mask = steps["select"].get_support()
    return {"n_in": len(names), "n_selected": int(mask.sum()),
            "selected": [n for n, m in zip(names, mask, strict=True) if m],
            "dropped": [n for n, m in zip(names, mask, strict=True) if not m]}


def _names_before(pipeline: Any, step: str) -> list[str]:
    """Feature names entering `step` (output names of the preprocessing; samplers keep names)."""
    names: Any = None
    for name, est in pipeline.steps:
        if name == step:
            break
        if hasattr(est, "get_feature_names_out"):
            names = est.get_feature_names_out(names)
    return [str(n) for n in names]
