"""`select`: feature selection, one typed option per `select.method` (scikit-learn selectors, mlengine's
correlation filter).

The selector is the pipeline step named `select`, after `preprocess` (and after a sampler, if any). Every selector
is a scikit-learn `SelectorMixin` (so `get_support()` and `get_feature_names_out()` work and the export can keep
just the selected columns), fitted inside each CV training fold and then on the training split. The correlation
filter is mlengine's own `CorrelationFilter` (mlengine.steps.correlation), a SelectorMixin too.

Each option class owns its keys with their defaults (stated once, here), its checks (without data: `check`; against
the width after encoding: `check_width`), its builder (`build`: the unfitted selector) and its record (`record`).
Counts and cut-offs are checked with scikit-learn's own `_parameter_constraints` (`mlengine.compat`), not copied
here; a bound is written here only where mlengine is stricter (k >= 1: keeping no feature leaves nothing to fit).
scikit-learn is imported only when a selector is checked or built.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from mlengine.compat import check_estimator_params
from mlengine.errors import Problem
from mlengine.lazy import import_path
from mlengine.sections.registry import Option, Registry

SELECT: Registry[SelectOption] = Registry("select", "method", default="none")
Score = Literal["f_test", "chi2", "mutual_info"]
Importance = Literal["linear", "tree"]
_CUTOFF = re.compile(r"^\s*(?:(?:\d+(?:\.\d*)?|\.\d+)\s*\*\s*)?(?:mean|median)\s*$")  # scikit-learn's forms


class SelectOption(Option):
    """Base of the select options: what the plan, the checks and the pipeline ask of any of them."""

    path: ClassVar[str | None] = None  # "module:Class" of the selector (internal, never a recipe's)
    needs_finite: ClassVar[bool] = True  # cannot take missing values (imputation is forced before it)
    # recipe key -> the selector's parameter, checked by the selector's own _parameter_constraints
    constrained: ClassVar[dict[str, str]] = {}

    def check(self, task: str, scale: str) -> list[Problem]:
        """Checks without data: the selector's own parameter constraints (and, per option, task and scaling)."""
        if self.path is None or not self.constrained:
            return []
        values = {k: getattr(self, k) for k in self.constrained if getattr(self, k) is not None}
        return check_estimator_params("select", import_path(self.path), values, self.constrained)

    def build(self, task: str, seed: int, n_jobs: int) -> Any:
        """The unfitted SelectorMixin. Every method that adds a step overrides it; `none` adds no step, so the
        pipeline builder never asks it for one."""
        raise NotImplementedError(f"select.method {self.method!r} builds no step")

    def width(self, n_features: int) -> int:
        """At most how many features leave this selector, given `n_features` entering it."""
        return n_features

    def check_width(self, n_features: int, names: list[str]) -> list[str]:
        """Problems of counts against the number of features after encoding (known once preprocessing is fitted)."""
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        out = []
        for key in ("k", "n_features", "max_features"):
            v = getattr(self, key, None)
            if isinstance(v, int) and not isinstance(v, bool) and v > n_features:
                hint = f" Set {key} to at most {n_features}." if key == "k" else ""
                out.append(f"select.{key}: {v} is more than the {n_features} features after encoding ({shown}).{hint}")
        return out

    def record(self, model: Any, cv_result: Any = None) -> dict[str, Any] | None:
        """What the run did, for metrics.json `selection`: these (search-applied) values, the features kept and
        dropped by the fitted selector, and the share of CV folds whose selector kept each feature."""
        kept = selected_features(model)
        if kept is None:
            return None
        return {"method": self.method, "params": self.settings(), **kept,
                "selected_in_folds": _stability(cv_result)}


class _Scored(SelectOption):
    """A univariate score (kbest, percentile)."""

    score: Score = Field("f_test", description="univariate score: f_test, chi2 (non-negative inputs only) or "
                                               "mutual_info")

    def check(self, task: str, scale: str) -> list[Problem]:
        problems = super().check(task, scale)
        if self.score == "chi2":
            if task == "regression":
                problems.append(Problem("select.score", "'chi2' scores classes; task is regression (use f_test or "
                                                        "mutual_info)."))
            if scale in ("standard", "robust"):
                problems.append(Problem("select.score", f"'chi2' needs non-negative features; preprocess.scale "
                                                        f"resolves to {scale!r}, which makes negatives. Set "
                                                        "preprocess.scale: minmax or none, or use score f_test."))
        return problems

    def score_func(self, task: str, seed: int) -> Any:
        from functools import partial

        import sklearn.feature_selection as fs

        classify = task != "regression"
        if self.score == "chi2":
            return fs.chi2
        if self.score == "mutual_info":
            return partial(fs.mutual_info_classif if classify else fs.mutual_info_regression, random_state=seed)
        return fs.f_classif if classify else fs.f_regression


class _ByImportance(SelectOption):
    """Importances of a linear model or extra trees (from_model, rfe, rfecv)."""

    estimator: Importance = Field("tree", description="importances from extra trees (tree) or a linear model on "
                                                      "standardized inputs (linear)")
    sparse: ClassVar[bool] = False  # an L1-penalised linear model (from_model) rather than a ridge-like one

    def importance_model(self, task: str, seed: int, n_jobs: int, C: float | None = None) -> tuple[Any, str]:
        """(estimator, importance_getter) of the selector."""
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        classify = task != "regression"
        if self.estimator == "tree":
            from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

            cls = ExtraTreesClassifier if classify else ExtraTreesRegressor
            return cls(n_estimators=100, random_state=seed, n_jobs=n_jobs), "auto"
        sparse = self.sparse
        c = C if C is not None else (0.1 if sparse else 1.0)
        if classify:
            from sklearn.linear_model import LogisticRegression

            model = (LogisticRegression(l1_ratio=1.0, solver="liblinear", C=c, random_state=seed) if sparse
                     else LogisticRegression(C=c, max_iter=2000))
        else:
            from sklearn.linear_model import Lasso, LassoCV, Ridge

            if sparse:  # Lasso's alpha is on the target's scale: choose it by an inner CV unless C pins it (1/C)
                model = (LassoCV(cv=3, random_state=seed, max_iter=5000) if C is None
                         else Lasso(alpha=1.0 / C, random_state=seed, max_iter=5000))
            else:
                model = Ridge(alpha=1.0 / c)
        # linear importances are only comparable on a common scale: standardize inside the selector's own model
        return Pipeline([("scale", StandardScaler()), ("linear", model)]), "named_steps.linear.coef_"


# ------------------------------------------------------------------------------------------------ options ---
@SELECT.register
class NoSelect(SelectOption):
    summary: ClassVar[str] = "keep every feature"
    needs_finite: ClassVar[bool] = False
    method: Literal["none"] = Field("none", description="feature selection after preprocessing, fitted inside "
                                                        "each training fold")


@SELECT.register
class Variance(SelectOption):
    summary: ClassVar[str] = "drop features whose variance is at most `threshold` (0: constant features)"
    path, needs_finite = "sklearn.feature_selection:VarianceThreshold", False
    constrained: ClassVar[dict[str, str]] = {"threshold": "threshold"}
    method: Literal["variance"]
    threshold: float = Field(0.0, description="minimum variance a feature needs to be kept")

    def build(self, task: str, seed: int, n_jobs: int) -> Any:
        return import_path(self.path)(threshold=self.threshold)


@SELECT.register
class KBest(_Scored):
    summary: ClassVar[str] = "keep the `k` best features by a univariate `score` (f_test, chi2, mutual_info)"
    path = "sklearn.feature_selection:SelectKBest"
    method: Literal["kbest"]
    k: int = Field(ge=1, description="the number of features to keep")

    def build(self, task: str, seed: int, n_jobs: int) -> Any:
        return import_path(self.path)(score_func=self.score_func(task, seed), k=self.k)

    def width(self, n_features: int) -> int:
        return min(n_features, self.k)


@SELECT.register
class Percentile(_Scored):
    summary: ClassVar[str] = "keep the best `percentile` % of features by a univariate `score`"
    path = "sklearn.feature_selection:SelectPercentile"
    constrained: ClassVar[dict[str, str]] = {"percentile": "percentile"}
    method: Literal["percentile"]
    percentile: float = Field(gt=0, description="share of features to keep, in % (0, 100]")

    def build(self, task: str, seed: int, n_jobs: int) -> Any:
        return import_path(self.path)(score_func=self.score_func(task, seed), percentile=self.percentile)


@SELECT.register
class FromModel(_ByImportance):
    summary: ClassVar[str] = ("keep features a model finds important: `estimator` linear (L1-penalised) or tree "
                              "(extra trees), above `threshold`, at most `max_features`")
    path, sparse = "sklearn.feature_selection:SelectFromModel", True
    constrained: ClassVar[dict[str, str]] = {"threshold": "threshold", "max_features": "max_features"}
    method: Literal["from_model"]
    threshold: float | str | None = Field(
        None, description="importance cut-off: a number, 'mean', 'median' or e.g. '1.5*mean' (none: mean for "
                          "trees, non-zero (1e-5) for linear)")
    max_features: int | None = Field(None, ge=1, description="keep at most this many features")
    C: float | None = Field(None, gt=0, description="linear: inverse regularisation strength, smaller keeps fewer "
                                                    "(none: 0.1; regression: Lasso alpha = 1/C, none chooses it by "
                                                    "an inner CV)")

    @field_validator("threshold")
    @classmethod
    def _cutoff(cls, v: Any) -> Any:
        if isinstance(v, str) and not _CUTOFF.match(v):
            raise ValueError(f"got {v!r}; allowed: a number, 'mean', 'median', or a scaled one such as "
                             "'1.5*mean' or '0.5*median'.")
        return v

    def build(self, task: str, seed: int, n_jobs: int) -> Any:
        est, getter = self.importance_model(task, seed, n_jobs, self.C)
        threshold = self.threshold
        if threshold is None:
            threshold = 1e-5 if self.estimator == "linear" else "mean"
        return import_path(self.path)(est, threshold=threshold, max_features=self.max_features,
                                      importance_getter=getter)

    def width(self, n_features: int) -> int:
        return min(n_features, self.max_features) if self.max_features else n_features


class _Recursive(_ByImportance):
    step: int | float = Field(1, description="features removed per round: a count, or a share in (0, 1)")


@SELECT.register
class Rfe(_Recursive):
    summary: ClassVar[str] = "recursive feature elimination down to `n_features` with a linear or tree `estimator`"
    path = "sklearn.feature_selection:RFE"
    constrained: ClassVar[dict[str, str]] = {"n_features": "n_features_to_select", "step": "step"}
    method: Literal["rfe"]
    n_features: int | float = Field(description="features to keep: a count, or a share in (0, 1]")

    def build(self, task: str, seed: int, n_jobs: int) -> Any:
        est, getter = self.importance_model(task, seed, n_jobs)
        return import_path(self.path)(est, n_features_to_select=self.n_features, step=self.step,
                                      importance_getter=getter)

    def width(self, n_features: int) -> int:
        n = self.n_features
        return min(n_features, n) if isinstance(n, int) and not isinstance(n, bool) else n_features


@SELECT.register
class Rfecv(_Recursive):
    summary: ClassVar[str] = ("recursive feature elimination, the count chosen by an inner CV (`folds`) inside each "
                              "training fold")
    path = "sklearn.feature_selection:RFECV"
    constrained: ClassVar[dict[str, str]] = {"n_features": "min_features_to_select", "step": "step"}
    method: Literal["rfecv"]
    n_features: int = Field(1, description="the fewest features to keep")
    folds: int = Field(3, ge=2, description="inner CV folds inside each training fold")

    def build(self, task: str, seed: int, n_jobs: int) -> Any:
        est, getter = self.importance_model(task, seed, n_jobs)
        return import_path(self.path)(est, min_features_to_select=self.n_features, step=self.step, cv=self.folds,
                                      importance_getter=getter, n_jobs=1)


@SELECT.register
class Correlation(SelectOption):
    summary: ClassVar[str] = "of each pair of features correlated above `threshold`, drop the later one"
    path, needs_finite = "mlengine.steps.correlation:CorrelationFilter", False
    method: Literal["correlation"]
    threshold: float = Field(0.95, gt=0, le=1, description="absolute correlation above which the later feature "
                                                           "of a pair is dropped, in (0, 1]")
    correlation: Literal["pearson", "spearman"] = Field("pearson", description="the correlation coefficient")

    def build(self, task: str, seed: int, n_jobs: int) -> Any:
        return import_path(self.path)(threshold=self.threshold, method=self.correlation)


SelectConfig, SELECT_FIELD = SELECT.field("feature selection after preprocessing, fitted inside each training fold")


# ------------------------------------------------------------------------------------------------ helpers ---
def selected_features(pipeline: Any) -> dict[str, Any] | None:
    """Selected and dropped feature names of a fitted pipeline's `select` step (None without one)."""
    steps = dict(getattr(pipeline, "steps", ()))
    if "select" not in steps:
        return None
    names = _names_before(pipeline, "select")
    mask = steps["select"].get_support()
    return {"n_in": len(names), "n_selected": int(mask.sum()),
            "selected": [n for n, m in zip(names, mask, strict=True) if m],
            "dropped": [n for n, m in zip(names, mask, strict=True) if not m]}


def _stability(cv_result: Any) -> dict[str, float] | None:
    """Feature -> share of the fitted CV fold pipelines whose selector kept it (None without fold models)."""
    if not cv_result or not cv_result.models:
        return None
    picks: dict[str, int] = {}
    for est in cv_result.models:
        rec = selected_features(est)
        for name in rec["selected"] if rec else []:
            picks[name] = picks.get(name, 0) + 1
    n = len(cv_result.models)
    return {k: v / n for k, v in sorted(picks.items(), key=lambda kv: -kv[1])}


def _names_before(pipeline: Any, step: str) -> list[str]:
    """Feature names entering `step` (output names of the preprocessing; samplers keep names)."""
    names: Any = None
    for name, est in pipeline.steps:
        if name == step:
            break
        if hasattr(est, "get_feature_names_out"):
            names = est.get_feature_names_out(names)
    return [str(n) for n in names]
