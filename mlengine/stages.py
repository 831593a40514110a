"""The run state and the stage contract: each stage declares the fields it reads and the fields it sets.

A stage is a function of one `RunContext`, marked with `@stage(reads=..., writes=...)`. The runner checks the
order of its stage list before anything runs (`check_order`: a stage reads only what the run starts with or an
earlier stage writes) and, while running, that a stage sets no field it did not declare (`run_stage`). So the
ordering rules live in the declarations, not in a comment, and a new stage (tracking, drift, a plugin) says
where it may go. The containers every stage may add to (`report`, `bundle`, `artifacts`, `data_checks`,
`timings`) exist from the start and are not reassigned.

This module is a leaf: it imports no stage, so stage modules can import it without a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only; the runner builds these
    import numpy as np
    import pandas as pd

    from mlengine.plan import Plan
    from mlengine.runs.metrics_record import RunMetrics
    from mlengine.runs.rundir import RunDir


@dataclass(eq=False)
class RunContext:
    """The state of one run. Each field is set by the stage that declares it in `writes` (see `STAGE_FIELDS`)."""

    loaded: Any  # LoadedRecipe
    rd: RunDir
    raw: Any = None  # the table as read, before roles and types (data checks look at it; may drop rows)
    data_checks: dict[str, Any] = field(default_factory=dict)  # contract + PII decisions, stored in model.json
    plan: Plan | None = None
    data: Any = None  # PreparedData
    train_idx: np.ndarray | None = None
    test_idx: np.ndarray | None = None
    X_tr: pd.DataFrame | None = None
    y_tr: pd.Series | None = None
    X_te: pd.DataFrame | None = None
    y_te: pd.Series | None = None
    groups_tr: pd.Series | None = None
    times_tr: pd.Series | None = None
    candidate: Any = None  # the Candidate that was fitted
    pipeline: Any = None  # unfitted pipeline of the candidate
    cv_result: Any = None  # CVResult of the candidate (out-of-fold predictions included)
    model_name: str | None = None  # what was fitted when it is not plan.candidates[0] (a search's best, an ensemble)
    model: Any = None  # the fitted model that is saved and evaluated
    pred: np.ndarray | None = None  # holdout labels / values
    proba: np.ndarray | None = None  # holdout probabilities (classification)
    report: dict[str, Any] = field(default_factory=dict)  # becomes metrics.json
    metrics: RunMetrics | None = None  # the report as typed and written to metrics.json (set by finalize)
    bundle: dict[str, Any] = field(default_factory=dict)  # extra entries for model.json (bins, threshold, ...)
    artifacts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    data_fingerprint: dict[str, Any] | None = None  # the table as read (mlengine.runs.fingerprint)
    search: dict[str, Any] | None = None  # set by the search stage; its shape: mlengine.runs.manifest docstring
    resume: Any = None  # a run directory whose search leaderboard this run continues (`run --resume`)

    @property
    def recipe(self) -> Any:
        return self.loaded.recipe


# what every run starts with: the recipe, the run directory and the containers stages add entries to
INITIAL = frozenset({"loaded", "rd", "report", "bundle", "artifacts", "timings", "data_checks", "resume"})
STAGE_FIELDS = frozenset(f.name for f in fields(RunContext))


@dataclass(frozen=True)
class StageSpec:
    """What a stage reads and sets, checked by `check_order` and `run_stage`."""

    name: str
    reads: frozenset[str]
    writes: frozenset[str]


class StageOrderError(RuntimeError):
    """A stage list or a stage broke its declarations: a bug in mlengine or a plugin, not in the recipe."""


def stage(*, reads: Iterable[str] = (), writes: Iterable[str] = ()) -> Callable[[Callable], Callable]:
    """Mark a function of a RunContext as a stage that reads and sets the named fields."""
    r, w = frozenset(reads), frozenset(writes)
    unknown = (r | w) - STAGE_FIELDS
    if unknown:
        raise StageOrderError(f"stage declares unknown RunContext fields {sorted(unknown)}")

    def mark(fn: Callable) -> Callable:
        fn.__stage__ = StageSpec(stage_name(fn), r, w)  # type: ignore[attr-defined]
        return fn

    return mark


def stage_name(fn: Callable) -> str:
    """The name hooks and timings use: the function name without its `stage_` prefix."""
    return fn.__name__.removeprefix("stage_")


def spec_of(fn: Callable) -> StageSpec | None:
    """The declaration of a stage, or None for a plain function (tests may insert one; it is not checked)."""
    return getattr(fn, "__stage__", None)


def check_order(stages: Iterable[Callable]) -> None:
    """Refuse a stage list in which a stage reads a field that no earlier stage writes."""
    available = set(INITIAL)
    for fn in stages:
        spec = spec_of(fn)
        if spec is None:
            continue
        missing = spec.reads - available
        if missing:
            raise StageOrderError(f"stage {spec.name!r} reads {sorted(missing)}, which no earlier stage writes; "
                                  "move it after the stage that sets them")
        available |= spec.writes


def run_stage(fn: Callable, ctx: RunContext) -> None:
    """Run one stage; a declared stage that sets a field outside its `writes` is refused (a bug, not bad input)."""
    spec = spec_of(fn)
    if spec is None:
        fn(ctx)
        return
    before = dict(vars(ctx))  # references, so a replaced value cannot pass for the old one
    fn(ctx)
    changed = {name for name, value in vars(ctx).items() if name not in before or before[name] is not value}
    undeclared = changed - spec.writes
    if undeclared:
        raise StageOrderError(f"stage {spec.name!r} set {sorted(undeclared)} without declaring them in writes")


def stages_until(stages: list[Callable], until: str | None) -> list[Callable]:
    """The stages up to and including the one named `until` (all of them for None)."""
    if until is None:
        return list(stages)
    names = [stage_name(fn) for fn in stages]
    if until not in names:
        raise StageOrderError(f"no stage {until!r}; the stages are {names}")
    return list(stages[: names.index(until) + 1])


def stage_table(stages: Iterable[Callable]) -> str:
    """The stages as a Markdown table (docs/architecture.md holds it; a test keeps the two equal)."""
    rows = ["| # | stage | reads | writes |", "|---|---|---|---|"]
    for i, fn in enumerate(stages, 1):
        spec = spec_of(fn)
        if spec is None:
            continue
        rows.append(f"| {i} | `{spec.name}` ({fn.__module__}) | {', '.join(sorted(spec.reads)) or '-'} | "
                    f"{', '.join(sorted(spec.writes)) or '-'} |")
    return "\n".join(rows)
