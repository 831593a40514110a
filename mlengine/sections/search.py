"""`search`: the hyperparameter and pipeline search (FLAML), its budget, spaces, backend and ensemble.

The section's keys with their defaults (stated once, here): one class, as the search has no options to choose
between. `mlengine.search` plans it (`config.py`, `checks.py`) and runs it (`driver.py`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from mlengine.errors import unknown_name
from mlengine.sections.evaluate import MetricName
from mlengine.sections.model import MODELS
from mlengine.sections.registry import Section


def _model_name(v: str) -> str:
    if v not in MODELS:
        raise ValueError(unknown_name("model", v, MODELS))
    return v


class ParamSpace(Section):
    """One parameter of a search space; a bare value (`num_leaves: 31`) pins it."""

    domain: Literal["uniform", "loguniform", "quniform", "randint", "lograndint", "choice"] | None = Field(
        None, description="uniform, loguniform, quniform, randint, lograndint or choice; unset keeps the model's "
                          "default domain (so low/high alone narrow or widen it)")
    low: float | None = Field(None, description="lower bound (inclusive)")
    high: float | None = Field(None, description="upper bound (inclusive, integers too)")
    q: float | None = Field(None, gt=0, description="quniform: step between values")
    values: list[Any] | None = Field(None, description="choice: the values to choose from")
    init: Any = Field(None, description="where the search starts (FLAML's init_value)")
    low_cost: Any = Field(None, description="the cheapest value, for cost-related parameters such as tree counts "
                                            "(FLAML's low_cost_init_value)")
    value: Any = Field(None, description="pin the parameter to this value: it is not searched")

    @model_validator(mode="before")
    @classmethod
    def _bare_value_pins(cls, v: Any) -> Any:
        return v if isinstance(v, dict) else {"value": v}


class EnsembleMember(Section):
    model: Annotated[str, AfterValidator(_model_name)] = Field(description="registered model name")
    params: dict[str, Any] = Field(default_factory=dict, description="the member's hyperparameters")
    pipeline_params: dict[str, Any] = Field(default_factory=dict,
                                            description="the member's pipeline parameters (<step>.<param>: value)")
    weight: float = Field(1.0, gt=0.0, description="the member's weight in the soft vote of voting and greedy "
                                                   "ensembles (greedy records how often selection picked it; "
                                                   "stacking learns its own)")


class EnsembleSection(Section):
    method: Literal["none", "voting", "stacking", "greedy"] = Field(
        "greedy", description="combine the best distinct trials: greedy (the default: Caruana ensemble selection, a "
                              "weighted soft vote chosen on the trials' own out-of-fold predictions, no extra "
                              "fits), voting (soft, averaged probabilities or values) or stacking (a linear model "
                              "over their out-of-fold predictions); kept only if its CV score beats the single "
                              "best; none = always the single best trial")
    top_k: int | None = Field(None, ge=2, description="how many distinct configurations to combine (greedy: the "
                                                      "pool it selects from): the best of each model first, then "
                                                      "the next best; default 3, greedy 10")

    @property
    def size(self) -> int:
        """top_k, or its default for the method (greedy selects from a wider pool: it weighs members itself)."""
        return self.top_k if self.top_k is not None else (10 if self.method == "greedy" else 3)
    members: list[EnsembleMember] = Field(
        default_factory=list, description="pinned members (recorded by a search that kept its ensemble): with "
                                          "search.trials 0 this ensemble is fitted as it is, without a search "
                                          "(how `mlengine replay` rebuilds an ensemble)")


class RaySection(Section):
    address: str | None = Field(None, description="Ray cluster to send trials to (host:port of a `ray start --head` "
                                                  "node, or ray://host:port); default: the RAY_ADDRESS environment "
                                                  "variable, else a local Ray started for the run and stopped after")
    num_cpus_per_trial: float | None = Field(None, gt=0, description="CPUs Ray reserves per trial (default: the "
                                                                     "trial's estimator threads)")
    runtime_env: dict[str, Any] | None = Field(None, description="Ray runtime_env of the trial tasks (e.g. "
                                                                 "env_vars, pip, working_dir), passed to Ray as is")
    connect_timeout: float = Field(10.0, gt=0, le=300, description="seconds to wait for the cluster before the run "
                                                                    "fails with a message (Ray itself retries for "
                                                                    "minutes)")


class SearchSection(Section):
    estimators: list[Annotated[str, AfterValidator(_model_name)]] = Field(
        default_factory=list, description="models to search over (see `mlengine models`); empty = model.name plus "
                                          "lightgbm, xgboost, random_forest, extra_trees, hist_gradient_boosting and "
                                          "logistic_regression (classification) or ridge (regression)")
    metric: MetricName | None = Field(None, description="metric the search optimises (its direction is known); "
                                                        "default: evaluate.metric or the task default")
    trials: int | None = Field(None, ge=0, description="number of trials, the reproducible budget; 0 = no search "
                                                       "(fit model.name with model.params); unset = until "
                                                       "time_budget")
    time_budget: float | None = Field(None, gt=0, description="seconds: a cap on the search (trials are stopped "
                                                              "inside a fold at it); runs are reproducible only "
                                                              "with trials")
    algorithm: Literal["cfo", "blendsearch"] = Field(
        "cfo", description="FLAML search algorithm: cfo (local search from cheap configs) or blendsearch (adds "
                           "global search)")
    seed: int | None = Field(None, description="seed of the search algorithm (default: the recipe's seed)")
    early_stop: int | None = Field(None, ge=1, description="stop after this many trials without improvement")
    prune: bool = Field(True, description="race each trial against the best so far: stop its CV after a fold "
                                          "when its mean on the folds done is behind the best trial's on the same "
                                          "folds by more than the best's fold std / sqrt(folds done); logged as "
                                          "pruned, never chosen")
    n_concurrent: int = Field(1, ge=1, description="trials run at once; estimator threads are divided so that "
                                                   "threads x trials <= cores")
    backend: Literal["local", "ray"] = Field(
        "local", description="where trials run: local processes, or a Ray cluster (`pip install mlengine[ray]`; "
                             "search.ray.address or RAY_ADDRESS selects the cluster, else a local Ray)")
    ray: RaySection = Field(default_factory=RaySection, description="the Ray cluster (search.backend: ray)")
    warm_start: Literal["none", "defaults", "zero_shot"] = Field(
        "defaults", description="start points besides each model's cheapest config: defaults (the recipe's own "
                                "model first, model.name with model.params, then each model's untuned defaults), "
                                "zero_shot (also FLAML's zero-shot configurations for this data), none")
    space: dict[str, dict[str, ParamSpace]] = Field(
        default_factory=dict, json_schema_extra={"keys": ["model", "param"]},
        description="per model: narrow, widen, pin or add parameters of its default search space")
    pipeline: dict[str, dict[str, ParamSpace]] = Field(
        default_factory=dict, json_schema_extra={"keys": ["step", "param"]},
        description="pipeline parameters to search, per pipeline step (e.g. resample: {k_neighbors: ...}); "
                    "the step must be in the recipe's pipeline")
    ensemble: EnsembleSection = Field(default_factory=EnsembleSection, description="ensemble of the best trials")

    @property
    def active(self) -> bool:
        """The search runs when trials > 0, or when a time budget is set and trials is not 0."""
        return self.trials != 0 and bool(self.trials or self.time_budget)
