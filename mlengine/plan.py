"""The compile step: recipe -> plan. Pure: reads no data, fits nothing.

A plan lists the steps in order and where each is fitted (`stateless`, `per_fold` inside each CV training fold and
then on the whole training split, `fit_only` for samplers that act while fitting and never on validation or holdout
rows, `after_search` for calibration and threshold), the candidate estimators, CV, metrics and export. Column names
are bound at run time: `Plan.build_pipeline(candidate, columns)` returns the unfitted scikit-learn pipeline.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from mlengine.plan_types import PLACEMENTS, Candidate, PlanStep
from mlengine.sections.cv import CVSpec
from mlengine.sections.model import MODELS, estimator_summary
from mlengine.sections.split import SPLIT, SplitOption
from mlengine.steps.assemble import (
    MODELLING_SECTIONS,
    SPEC_STEPS,
    adjust_preprocess,
    modelling_steps,
    native_categoricals,
)
from mlengine.steps.preprocess import resolve_preprocess


@dataclass(frozen=True)
class Plan:
    name: str
    task: str  # may be "auto" before data is read
    seed: int
    n_jobs: int
    data: str
    holdout: str
    holdout_strategy: str
    holdout_fraction: float
    cv: CVSpec
    candidates: list[Candidate]
    steps: list[PlanStep]
    metrics: list[str]
    primary_metric: str | None
    baselines: list[str]
    export: list[str]
    datetime_features: list[str]
    search: str = "none: the model is fitted with its fixed params"
    search_space: dict[str, dict[str, str]] = field(default_factory=dict)  # model or "pipeline" -> param -> domain
    notes: list[str] = field(default_factory=list)
    classes: list[Any] = field(default_factory=list)  # the target's classes, once data is read
    # model.early_stopping as it applies: {"models": [early-stopped models], "validation_fraction", "patience"}
    early_stopping: dict[str, Any] | None = None
    # the modelling steps' typed specs (the recipe's validated sections; one option class per resample.method):
    # the pipeline builder, the checks and the records read these, never a dict copy
    target: Any = None
    resample: Any = None
    select: Any = None
    reduce: Any = None
    calibration: Any = None
    threshold: Any = None

    @property
    def split(self) -> SplitOption:
        """The resolved holdout strategy (its builder gives the rows)."""
        return SPLIT[self.holdout_strategy](strategy=self.holdout_strategy, holdout=self.holdout_fraction)

    @property
    def keeps_fold_models(self) -> bool:
        """Calibration, a tuned threshold and selection records need the CV fold models."""
        from mlengine.evaluate.finish import needs_fold_models

        return needs_fold_models(self)

    # ------------------------------------------------------------------------------------------- building ---
    def build_pipeline(self, candidate: Candidate, columns: Any, task: str, n_jobs: int | None = None,
                       early_stopping: bool = True) -> Any:
        """The unfitted pipeline for `candidate` over the given column roles (n_jobs: threads, default the plan's).

        A booster the plan early-stops gets `EarlyStoppingPipeline`'s fit (mlengine.steps.early_stopping) unless
        `early_stopping` is False (a refit, or an ensemble member refit with its chosen tree count)."""
        from sklearn.pipeline import Pipeline

        from mlengine.steps.adapter import FrameAdapter
        from mlengine.steps.preprocess import build_preprocessor

        adapter = FrameAdapter(numeric=list(columns.numeric), categorical=list(columns.categorical),
                               boolean=list(columns.boolean), datetime=list(columns.datetime),
                               datetime_features=list(self.datetime_features))
        pre = build_preprocessor(candidate.preprocess, adapter.numeric_outputs(), list(columns.categorical))
        model = MODELS[candidate.model].build(task, candidate.params, self.seed, n_jobs or self.n_jobs)
        model = native_categoricals(model, candidate.preprocess, len(adapter.numeric_outputs()),
                                    len(columns.categorical))
        if self.resample is not None:
            from mlengine.steps.assemble import assemble

            specs = {step: self.spec(step, candidate) for step in SPEC_STEPS}
            pipe = assemble(self, specs, adapter, pre, model, columns, task)
        else:
            pipe = Pipeline([("adapt", adapter), ("preprocess", pre), ("model", model)])
        rest = {k: v for k, v in candidate.pipeline_params.items() if not self.in_spec(k)}
        if rest:  # parameters without a recipe key (e.g. preprocess.cat__min_frequency) are set on the step
            pipe.set_params(**{k.replace(".", "__", 1): v for k, v in rest.items()})
        es = self.early_stopping
        if early_stopping and es and candidate.model in es["models"]:
            from mlengine.steps.early_stopping import early_stopped

            pipe = early_stopped(pipe, validation_fraction=es["validation_fraction"], patience=es["patience"],
                                 seed=self.seed, task=task, ordered=self.cv.uses_time)
        return pipe

    def spec(self, step: str, candidate: Candidate | None = None) -> Any:
        """The typed spec of a modelling step, with the candidate's pipeline parameters for it applied (a
        search's chosen `resample.k_neighbors` is validated like the recipe's and is what the record reports)."""
        section = getattr(self, step)
        if candidate is None or section is None:
            return section
        updates = {k.partition(".")[2]: v for k, v in candidate.pipeline_params.items()
                   if k.partition(".")[0] == step and self.in_spec(k)}
        if not updates:
            return section
        return type(section).model_validate({**section.model_dump(exclude_unset=True), **updates})

    def in_spec(self, key: str) -> bool:
        """A searched `<step>.<key>` that is a recipe key of the step's typed spec (applied by `spec`, validated
        like the recipe), rather than a parameter set on the built step."""
        step, _, param = key.partition(".")
        section = getattr(self, step, None) if step in SPEC_STEPS else None
        return section is not None and param in type(section).model_fields and param != "method"

    # ------------------------------------------------------------------------------------------- printing ---
    def to_dict(self) -> dict[str, Any]:
        sections = {s: getattr(self, s) for s in MODELLING_SECTIONS}
        out = asdict(replace(self, **dict.fromkeys(MODELLING_SECTIONS)))
        for s in MODELLING_SECTIONS:
            del out[s]
        out["modelling"] = {s: v.model_dump(mode="json") for s, v in sections.items() if v is not None}
        out["cv"] = {**asdict(self.cv), "description": self.cv.describe()}
        out["candidates"] = [{"model": c.model, "params": c.params, "preprocess": asdict(c.preprocess),
                              "pipeline_params": c.pipeline_params} for c in self.candidates]
        return out

    def to_text(self) -> str:
        lines = [f"Plan for recipe {self.name!r}",
                 f"  task      {self.task}" + (" (inferred from the target when data is read)" if self.task == "auto"
                                               else ""),
                 f"  data      {self.data}",
                 f"  holdout   {self.holdout}",
                 f"  cv        {self.cv.describe()}",
                 f"  search    {self.search}",
                 "  candidates"]
        task = self.task if self.task != "auto" else "binary"
        for c in self.candidates:
            lines.append(f"    - {c.model}: {estimator_summary(c.model, task, c.params)}")
            lines.append(f"      preprocess {c.preprocess.describe()}")
            if c.pipeline_params:
                lines.append(f"      pipeline params {c.pipeline_params}")
        if self.early_stopping:
            es = self.early_stopping
            lines.append(f"  early stopping  {', '.join(es['models'])}: {es['validation_fraction']:g} of each CV "
                         f"training fold held out (after the steps before the model are fitted on the rest), "
                         f"patience {es['patience']} rounds; n_estimators is the cap, and the refit on the "
                         "whole training split uses the fold-mean best iteration as n_estimators")
        if self.search_space:
            lines.append("  search space (bounds inclusive; 'rows' = training rows)")
            for owner, params in self.search_space.items():
                lines.append(f"    {owner}:" + ("" if params else " (no parameters)"))
                lines += [f"      {k:<20} {v}" for k, v in params.items()]
        lines.append("  pipeline (in order; where each step is fitted)")
        width = max(len(s.name) for s in self.steps)
        for i, s in enumerate(self.steps, 1):
            lines.append(f"    {i}. {s.name:<{width}}  [{s.placement}] {s.component}")
            if s.detail:
                lines.append(f"       {' ' * width}  {s.detail}")
        lines.append("  placements")
        for p in dict.fromkeys(s.placement for s in self.steps):
            lines.append(f"    {p:<12} {PLACEMENTS[p]}")
        metrics = ", ".join(self.metrics) if self.metrics else "task defaults"
        lines.append(f"  metrics   {metrics}; judged by {self.primary_metric or 'the task default'}")
        lines.append(f"  baselines {', '.join(self.baselines) or 'none'} (scored on the same holdout)")
        lines.append(f"  export    {', '.join(self.export)}")
        lines += [f"  note      {n}" for n in self.notes]
        return "\n".join(lines)


def _describe_source(recipe: Any) -> str:
    src = recipe.data.source
    where = {"csv": lambda: f"csv {src.path}", "parquet": lambda: f"parquet {src.path}",
             "sql": lambda: f"sql ({'DuckDB over local files' if not src.url else src.url.split(':')[0]}): "
                            f"{' '.join(src.query.split())[:80]}",
             "builtin": lambda: f"builtin {src.name}",
             "frame": lambda: "an in-memory DataFrame (mlengine.run(..., data=df))"}[src.kind]()
    d = recipe.data
    roles = [f"target {d.target!r}"]
    roles += [f"{k} {v!r}" for k, v in (("id", d.id), ("group", d.group), ("time", d.time)) if v]
    if d.drop:
        roles.append(f"drop {d.drop}")
    return f"{where}; {', '.join(roles)}"


def compile_recipe(recipe: Any, task: str | None = None, classes: list[Any] | None = None) -> Plan:
    """Recipe -> plan. `task` is the resolved task once data is read (else the recipe's, possibly 'auto')."""
    from mlengine.evaluate.metrics import DEFAULT_METRICS, DEFAULT_PRIMARY, METRICS

    task = task or recipe.task
    r = recipe
    if task == "auto" and r.target.binned:
        task = r.target.binned_task()
    split = r.split.resolve(task, r.data.group, r.data.time)
    cv = r.cv.resolve(task, r.data.group, r.data.time).spec(r.seed)
    cv_kind = cv.kind
    holdout_text = split.describe(r.seed)
    from mlengine.search.config import pipeline_pins, plan_search

    preprocess, notes = adjust_preprocess(r, resolve_preprocess(r.preprocess, r.model.name))
    candidates = [Candidate(r.model.name, dict(r.model.params), preprocess, pipeline_params=pipeline_pins(r))]
    search = plan_search(r, task) if r.search.active else None
    if search:  # each searched model gets the same adjustments (e.g. imputation before a kNN sampler)
        search.candidates = [replace(c, preprocess=adjust_preprocess(r, c.preprocess)[0]) for c in search.candidates]
        candidates = search.candidates
    steps = [
        PlanStep("adapt", "FrameAdapter", "stateless",
                 "checks required columns, casts types, expands datetimes "
                 f"({', '.join(r.preprocess.datetime_features)}), missing categories -> ''"),
        PlanStep("preprocess", "ColumnTransformer", "per_fold", candidates[0].preprocess.describe()),
        PlanStep("model", r.model.name, "per_fold", MODELS[r.model.name].description),
    ]
    steps = modelling_steps(r, task, steps, PlanStep)
    if search:
        steps = [search.restep(s) for s in steps]
    searched = [c.model for c in candidates]
    es_models = [m for m in dict.fromkeys(searched) if r.model.early_stopping.active_for(m, r.search.active)]
    early_stopping = ({"models": es_models, "validation_fraction": r.model.early_stopping.validation_fraction,
                       "patience": r.model.early_stopping.patience} if es_models and cv_kind != "none" else None)
    metrics = list(r.evaluate.metrics) or (DEFAULT_METRICS[task] if task != "auto" else [])
    primary = r.evaluate.metric or (DEFAULT_PRIMARY[task] if task != "auto" else None)
    if primary and metrics and primary not in metrics:
        metrics = [primary, *metrics]
    if search and search.metric and metrics and search.metric not in metrics:
        metrics = [*metrics, search.metric]  # trials are scored on the search metric too
    if metrics:  # metrics a quality gate needs are reported too
        metrics = list(dict.fromkeys([*metrics, *(q.metric for q in r.evaluate.require if q.metric in METRICS)]))
    baselines = [b if isinstance(b, str) else f"{b.name or f'rule_{i}'} (rule: {b.rule})"
                 for i, b in enumerate(r.evaluate.baselines)]
    n_jobs = r.model.n_jobs or os.cpu_count() or 1
    export, export_notes = r.export.resolve(r, task)
    return Plan(
        name=r.name, task=task, seed=r.seed, n_jobs=n_jobs, data=_describe_source(r), holdout=holdout_text,
        holdout_strategy=split.strategy, holdout_fraction=split.holdout, cv=cv, candidates=candidates, steps=steps, metrics=metrics,
        primary_metric=primary, baselines=baselines, export=export,
        datetime_features=list(r.preprocess.datetime_features), notes=[*notes, *export_notes],
        classes=list(classes or []), early_stopping=early_stopping, **{s: getattr(r, s) for s in MODELLING_SECTIONS},
        **({"search": search.text, "search_space": search.space_text} if search else {}),
    )
