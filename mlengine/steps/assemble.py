"""Where the modelling sections enter the plan and the pipeline.

Pipeline steps, in order (names are the public parameter prefixes, e.g. `resample__k_neighbors`, `select__k`,
`reduce__n_components`, `model__<param>`; with a target transform, `model__regressor__<param>`):

    adapt -> preprocess -> [resample] -> [select] -> [reduce] -> model

With a sampler the pipeline is an imbalanced-learn Pipeline (samplers act in fit only); otherwise a scikit-learn
Pipeline. After the fit, calibration and the threshold wrap the refitted model (mlengine.evaluate.finish).

SAVED model.joblib (the contract the ONNX export converts), a plain scikit-learn estimator tree, no samplers:

    [FixedThresholdClassifier(estimator=                      # binary, threshold.objective != none; outermost
        Pipeline([("adapt", FrameAdapter),
                  ("preprocess", ColumnTransformer),          # imputers, scalers, one-hot / ordinal encoders
                  ("select", <SelectorMixin>),                # optional: VarianceThreshold, SelectKBest,
                                                              #   SelectPercentile, SelectFromModel, RFE, RFECV,
                                                              #   mlengine.steps.correlation.CorrelationFilter
                                                              #   (mlengine.sections.select)
                  ("reduce", PCA | TruncatedSVD),             # optional (mlengine.sections.reduce)
                  ("model", <estimator>                       # the registered estimator, or
                            | CalibratedClassifierCV(estimator=<estimator>, ensemble=False)   # calibration
                            | TransformedTargetRegressor(regressor=<estimator>))]),           # target.transform
        threshold=t, pos_label=<positive class>, response_method="predict_proba")]
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

MODELLING_SECTIONS = ("target", "resample", "select", "reduce", "calibration", "threshold")
SPEC_STEPS = ("resample", "select", "reduce")  # pipeline steps built from a typed spec (search values applied)


def needs_finite(recipe: Any) -> list[str]:
    """Recipe keys whose steps cannot take missing values."""
    keys = []
    if recipe.resample.needs_finite:
        keys.append(f"resample.method: {recipe.resample.method}")
    if recipe.select.needs_finite:
        keys.append(f"select.method: {recipe.select.method}")
    if recipe.reduce.needs_finite:
        keys.append(f"reduce.method: {recipe.reduce.method}")
    return keys


def adjust_preprocess(recipe: Any, choice: Any) -> tuple[Any, list[str]]:
    """Resolve `auto` preprocessing for the modelling steps: median imputation when a later step cannot take
    missing values, ordinal codes (one column per categorical) for SMOTENC."""
    notes = []
    finite = needs_finite(recipe)
    if finite and choice.impute == "none" and recipe.preprocess.numeric_impute == "auto":
        choice = replace(choice, impute="median")
        notes.append(f"numeric missing values are median-imputed because {finite[0]} cannot take them")
    if recipe.resample.method == "smotenc" and recipe.preprocess.categorical == "auto" and choice.categorical != "ordinal":
        choice = replace(choice, categorical="ordinal")
        notes.append("categoricals are ordinal codes: smotenc needs one code column per categorical")
    if choice.native and (recipe.select.method != "none" or recipe.reduce.method != "none"):
        step = "select" if recipe.select.method != "none" else "reduce"
        notes.append(f"categorical codes reach the model as numbers, not as {choice.native}: the {step} step "
                     f"changes which columns the model sees")
        choice = replace(choice, native=None)
    return choice, notes


def native_categoricals(model: Any, choice: Any, n_numeric: int, n_categorical: int) -> Any:
    """Tell a model with native categorical handling (CatBoost) which of its input columns are category codes:
    the preprocessor puts the numeric outputs first, then one ordinal code column per categorical."""
    if choice.native and n_categorical:
        model.set_params(**{choice.native: list(range(n_numeric, n_numeric + n_categorical))})
    return model


def modelling_steps(recipe: Any, task: str, steps: list[Any], step_cls: type) -> list[Any]:
    """The plan's steps with the modelling sections inserted."""
    r = recipe
    head, model_step = steps[:-1], steps[-1]
    before: list[Any] = []
    if r.target.binned:
        where = ("quantile edges fitted on the training split only" if r.target.fits
                 else "fixed edges, nothing fitted")
        before.append(step_cls("target", f"bin target ({r.target.binning})", "training_split",
                               f"classes {r.target.bin_labels()}; {where}"))
    middle: list[Any] = []
    if r.resample.sampler:
        params = r.resample.settings()
        middle.append(step_cls("resample", r.resample.component, "fit_only",
                               f"{r.resample.method} {params or ''}".strip()))
    if r.select.method != "none":
        params = r.select.settings()
        middle.append(step_cls("select", f"select {r.select.method}", "per_fold", f"{params or ''}".strip()))
    if r.reduce.method != "none":
        params = r.reduce.settings()
        middle.append(step_cls("reduce", r.reduce.method, "per_fold", f"{params or ''}".strip()))
    extra = []
    if r.resample.method == "class_weight":
        extra.append(f"class_weight={r.resample.weights}")
    if r.target.transform != "none":
        extra.append(f"inside TransformedTargetRegressor({r.target.transform}); metrics on the original scale")
    if extra:
        model_step = replace(model_step, detail="; ".join([model_step.detail, *extra]))
    after: list[Any] = []
    if r.calibration.method != "none":
        after.append(step_cls("calibration", f"CalibratedClassifierCV({r.calibration.method})", "after_search",
                              "around the model step; fitted on out-of-fold scores of the training split"))
    if r.threshold.objective != "none":
        after.append(step_cls("threshold", "FixedThresholdClassifier", "after_search", r.threshold.plan_detail()))
    return [*before, *head, *middle, model_step, *after]


def assemble(plan: Any, specs: dict[str, Any], adapter: Any, pre: Any, model: Any, columns: Any, task: str) -> Any:
    """The unfitted pipeline: adapt, preprocess, [resample], [select], [reduce], model; `specs` are the plan's
    typed step specs with the candidate's values applied (`Plan.spec`)."""
    steps: list[tuple[str, Any]] = [("adapt", adapter), ("preprocess", pre)]
    resample = specs["resample"]
    if resample.sampler:
        n_num = len(adapter.numeric_outputs())
        cat_idx = list(range(n_num, n_num + len(columns.categorical)))
        steps.append(("resample", resample.build(plan.seed, list(plan.classes), cat_idx)))
    select = specs["select"]
    if select.method != "none":
        steps.append(("select", select.build(task, plan.seed, plan.n_jobs)))
    reduce = specs["reduce"]
    if reduce.method != "none":
        steps.append(("reduce", reduce.build(plan.seed)))
    if resample.method == "class_weight":
        model.set_params(class_weight=resample.class_weights(list(plan.classes)))
    if task == "regression":
        model = plan.target.wrap(model)
    steps.append(("model", model))
    if resample.sampler:
        from imblearn.pipeline import Pipeline as ImbPipeline

        return ImbPipeline(steps)
    from sklearn.pipeline import Pipeline

    return Pipeline(steps)


def model_param_prefix(plan: Any, task: str) -> str:
    """Where the estimator's own parameters are addressed in the pipeline (for a search over the pipeline)."""
    transform = plan.target.transform if plan.target is not None else "none"
    return "model__regressor__" if task == "regression" and transform != "none" else "model__"
