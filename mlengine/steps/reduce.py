"""Dimensionality reduction: the pipeline step named `reduce` (PCA or TruncatedSVD), after `select`.

Fitted inside each CV training fold, then on the training split; seeded from the recipe.
"""

from __future__ import annotations

from typing import Any

from mlengine.errors import Problem
from mlengine.steps.options import foreign_params

REDUCE_METHODS = {
    "none": "no reduction",
    "pca": "principal components: n_components as a count, or as the share of variance to keep in (0, 1) "
           "(default 0.95)",
    "truncated_svd": "truncated SVD (no centring): n_components as a count (required)",
}
_PARAMS = {"none": (), "pca": ("n_components", "whiten"), "truncated_svd": ("n_components",)}


def build_reducer(section: dict[str, Any], seed: int) -> Any:
    method = section["method"]
    n = section.get("n_components")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=0.95 if n is None else n, whiten=bool(section.get("whiten")),
                   svd_solver="full", random_state=seed)
    from sklearn.decomposition import TruncatedSVD

    return TruncatedSVD(n_components=int(n), algorithm="randomized", random_state=seed)


def check_section(section: Any) -> list[Problem]:
    method = section.method
    problems = foreign_params(section, "reduce", "method", _PARAMS, unset=(None, False))
    n = section.n_components
    if method == "truncated_svd":
        if n is None:
            problems.append(Problem("reduce.n_components", "method 'truncated_svd' needs n_components, a count."))
        elif isinstance(n, float) and not float(n).is_integer():
            problems.append(Problem("reduce.n_components", f"truncated_svd needs a whole count; got {n!r} (a share "
                                                           "of variance only works with pca)."))
    if isinstance(n, float) and not float(n).is_integer() and not 0 < n < 1:
        problems.append(Problem("reduce.n_components", f"a share of variance must be in (0, 1); got {n!r}."))
    if isinstance(n, int | float) and n <= 0:
        problems.append(Problem("reduce.n_components", f"must be positive; got {n!r}."))
    return problems


def check_width(section: dict[str, Any], n_features: int, n_rows: int) -> list[str]:
    """Counts against the features reaching the reducer and the rows of the smallest training fold."""
    n = section.get("n_components")
    method = section["method"]
    if n is None or (isinstance(n, float) and not float(n).is_integer()):
        return []
    n = int(n)
    limit = min(n_features, n_rows) if method == "pca" else n_features - 1
    if n > limit:
        what = (f"min(features, rows) = min({n_features}, {n_rows})" if method == "pca"
                else f"features - 1 = {n_features - 1}")
        return [f"reduce.n_components: {n} is more than {method} allows here: {what} after encoding and "
                f"selection. Set n_components to at most {limit}."]
    return []
