"""The plan's value types: a step of the printed plan and a candidate estimator. A leaf (no stage, no compiler),
so the compiler (`mlengine.plan`) and the search planner (`mlengine.search.config`) both import it without a
circle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlengine.steps.preprocess import PreprocessChoice

PLACEMENTS = {
    "stateless": "learns nothing from data",
    "per_fold": "fitted inside each CV training fold, then on the whole training split",
    "fit_only": "acts only while fitting, inside each training fold; never on validation or holdout rows",
    "after_search": "fitted on out-of-fold predictions of the training split, after the search",
    "training_split": "fitted once on the training split before CV (never on holdout rows)",
}


@dataclass(frozen=True)
class PlanStep:
    name: str
    component: str
    placement: str
    detail: str = ""


@dataclass(frozen=True)
class Candidate:
    """One estimator the run may fit, with its fixed params and resolved preprocessing.

    `pipeline_params` set parameters of other pipeline steps by `<step>.<param>` (e.g. resample.k_neighbors).
    """

    model: str
    params: dict[str, Any]
    preprocess: PreprocessChoice
    pipeline_params: dict[str, Any] = field(default_factory=dict)
