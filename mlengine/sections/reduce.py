"""`reduce`: dimensionality reduction, one typed option per `reduce.method` (PCA, TruncatedSVD).

The reducer is the pipeline step named `reduce`, after `select`: fitted inside each CV training fold, then on the
training split; seeded from the recipe.

Each option class owns its keys with their defaults (stated once, here), its checks (without data: `check`;
against the width reaching it: `check_width`), its builder (`build`: the unfitted reducer) and its record
(`record`). Parameters are checked with scikit-learn's own `_parameter_constraints` (`mlengine.compat`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from mlengine.compat import check_estimator_params
from mlengine.errors import Problem
from mlengine.lazy import import_path
from mlengine.sections.registry import Option, Registry

REDUCE: Registry[ReduceOption] = Registry("reduce", "method", default="none")


def _whole(v: Any) -> Any:
    """A whole float (YAML `4.0`) is a count."""
    return int(v) if isinstance(v, float) and v.is_integer() and v >= 1 else v


class ReduceOption(Option):
    """Base of the reduce options: what the plan, the checks and the pipeline ask of any of them."""

    path: ClassVar[str | None] = None  # "module:Class" of the reducer (internal, never a recipe's)
    needs_finite: ClassVar[bool] = True  # cannot take missing values (imputation is forced before it)
    fixed: ClassVar[dict[str, Any]] = {}  # constructor arguments mlengine sets (the solver), not recipe keys

    def check(self) -> list[Problem]:
        """Checks without data: the reducer's own parameter constraints."""
        if self.path is None:
            return []
        return check_estimator_params("reduce", import_path(self.path), self.settings())

    def build(self, seed: int) -> Any:
        """The unfitted reducer."""
        return import_path(self.path)(random_state=seed, **self.settings(), **self.fixed)

    def limit(self, n_features: int, n_rows: int) -> tuple[int, str]:
        """The largest count allowed here, and how it is computed (for the message)."""
        return n_features, f"features = {n_features}"

    def check_width(self, n_features: int, n_rows: int) -> list[str]:
        """Counts against the features reaching the reducer and the rows of the smallest training fold."""
        n = getattr(self, "n_components", None)
        if not isinstance(n, int) or isinstance(n, bool):
            return []
        limit, what = self.limit(n_features, n_rows)
        if n > limit:
            return [f"reduce.n_components: {n} is more than {self.method} allows here: {what} after encoding and "
                    f"selection. Set n_components to at most {limit}."]
        return []

    def record(self, model: Any) -> dict[str, Any] | None:
        """What the run did, for metrics.json `reduce`: these (search-applied) values and the fitted reducer's
        components and the share of variance they keep."""
        step = dict(getattr(model, "steps", ())).get("reduce")
        if step is None or self.path is None:
            return None
        return {"method": self.method, "params": self.settings(), "n_in": int(step.n_features_in_),
                "n_components": int(step.components_.shape[0]),
                "explained_variance": float(step.explained_variance_ratio_.sum())}


@REDUCE.register
class NoReduce(ReduceOption):
    summary: ClassVar[str] = "no reduction"
    needs_finite: ClassVar[bool] = False
    method: Literal["none"] = Field("none", description="dimensionality reduction after selection, fitted inside "
                                                        "each training fold")


@REDUCE.register
class Pca(ReduceOption):
    summary: ClassVar[str] = ("principal components: n_components as a count, or as the share of variance to keep "
                              "in (0, 1)")
    path = "sklearn.decomposition:PCA"
    fixed: ClassVar[dict[str, Any]] = {"svd_solver": "full"}
    method: Literal["pca"]
    n_components: int | float = Field(0.95, gt=0, description="a count, or the share of variance to keep in (0, 1)")
    whiten: bool = Field(False, description="scale components to unit variance")

    _count = field_validator("n_components", mode="before")(_whole)

    def limit(self, n_features: int, n_rows: int) -> tuple[int, str]:
        return min(n_features, n_rows), f"min(features, rows) = min({n_features}, {n_rows})"


@REDUCE.register
class TruncatedSvd(ReduceOption):
    summary: ClassVar[str] = "truncated SVD (no centring): n_components as a count"
    path = "sklearn.decomposition:TruncatedSVD"
    fixed: ClassVar[dict[str, Any]] = {"algorithm": "randomized"}
    method: Literal["truncated_svd"]
    n_components: int = Field(description="the number of components, a count")

    @field_validator("n_components", mode="before")
    @classmethod
    def _count(cls, v: Any) -> Any:
        v = _whole(v)
        if isinstance(v, float):
            raise ValueError(f"truncated_svd needs a whole count; got {v!r} (a share of variance only works with "
                             "pca).")
        return v

    def limit(self, n_features: int, n_rows: int) -> tuple[int, str]:
        return n_features - 1, f"features - 1 = {n_features - 1}"


ReduceConfig, REDUCE_FIELD = REDUCE.field("dimensionality reduction after selection, fitted inside each "
                                          "training fold")
