"""ONNX for whole fitted estimators: pipelines, the registered models, calibration, thresholds, target transforms.

`predictor(g, estimator, data)` returns a `Pred`: the graph tensors for what the estimator's `predict_proba`,
`decision_function`, `predict` (when it is not the argmax of the probabilities) and regression `predict` would
return. Wrappers call it on what they wrap and combine the tensors exactly as scikit-learn does:
- CalibratedClassifierCV: per fold `decision_function` if the estimator has one, else `predict_proba`; sigmoid
  `expit(-(a*f + b))`; isotonic as numpy's linear interpolation (not the nearest threshold); normalisation and
  the mean over folds as in `_CalibratedClassifier`.
- FixedThresholdClassifier / TunedThresholdClassifierCV: `score >= threshold` picks the positive class.
- TransformedTargetRegressor: the inverse function applied to the inner prediction.
Samplers (anything with `fit_resample`) act only while fitting and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph
from mlengine.export.onnx_neural import mlp_classifier, mlp_regressor
from mlengine.export.onnx_preprocess import Columns, column_transformer, transform_step
from mlengine.export.onnx_trees import (
    XGB_CLASSIFICATION,
    XGB_EXP,
    forest_sums,
    hist_gradient_boosting_raw,
    lightgbm_raw,
    xgboost_raw,
)


@dataclass
class Pred:
    """Graph tensors of a fitted estimator's outputs (float64 unless said otherwise)."""

    classes: np.ndarray | None = None  # None for regressors
    proba: str | None = None  # [N, k]
    decision: str | None = None  # binary: [N] margin of classes[1]; multiclass: [N, k]
    label: str | None = None  # [N] class labels, when not the argmax of proba
    value: str | None = None  # regression: [N]


def predictor(g: Graph, est: Any, data: Any) -> Pred:
    """Convert a fitted final estimator (possibly a pipeline or a wrapper) applied to `data`."""
    name = type(est).__name__
    if hasattr(est, "steps"):  # scikit-learn or imbalanced-learn Pipeline
        steps = [s for _, s in est.steps if s not in (None, "passthrough")]
        for step in steps[:-1]:
            if hasattr(step, "fit_resample"):  # samplers only act while fitting
                continue
            data = transform(g, step, data)
        return predictor(g, steps[-1], data)
    if name == "FrozenEstimator":
        return predictor(g, est.estimator, data)
    if name in ("FixedThresholdClassifier", "TunedThresholdClassifierCV"):
        return _thresholded(g, est, data)
    if name == "CalibratedClassifierCV":
        return _calibrated(g, est, data)
    if name == "TransformedTargetRegressor":
        return _target_transformed(g, est, data)
    if name in ("VotingClassifier", "VotingRegressor"):
        return _voting(g, est, data)
    handler = LEAVES.get(name)
    if handler is None:
        raise ExportError(f"model {name} has no ONNX converter in mlengine; supported: {', '.join(sorted(LEAVES))}, "
                          "wrapped in CalibratedClassifierCV, FixedThresholdClassifier, TunedThresholdClassifierCV "
                          "or TransformedTargetRegressor, or combined in a soft VotingClassifier or VotingRegressor.")
    if isinstance(data, Columns):
        raise ExportError(f"model {name} receives raw columns; a ColumnTransformer must come before it.")
    return handler(g, est, data)


def transform(g: Graph, step: Any, data: Any) -> Any:
    """A non-final pipeline step."""
    name = type(step).__name__
    if name == "FrameAdapter":
        if not isinstance(data, Columns):
            raise ExportError("FrameAdapter must be the first step of the pipeline.")
        missing = [c for c in step.get_feature_names_out() if c not in data.tensors]
        if missing:
            raise ExportError(f"the pipeline's adapter needs inputs the model does not declare: {missing}.")
        return data
    if name == "ColumnTransformer":
        if not isinstance(data, Columns):
            raise ExportError("ColumnTransformer must come right after the FrameAdapter.")
        return column_transformer(g, step, data)
    if hasattr(step, "steps"):
        for inner in [s for _, s in step.steps if s not in (None, "passthrough")]:
            data = transform(g, inner, data)
        return data
    if isinstance(data, Columns):
        raise ExportError(f"step {name} receives raw columns; a ColumnTransformer must come before it.")
    return transform_step(g, step, data)


# ------------------------------------------------------------------------------------------ probabilities ---
def binary_proba(g: Graph, p1: str) -> str:
    """[N] probability of classes[1] -> [N, 2] as [1 - p, p]."""
    p1 = g.unsqueeze1(p1)
    return g.op("Concat", [g.op("Sub", [g.const(np.float64(1.0)), p1]), p1], axis=1)


def argmax_label(g: Graph, proba: str, classes: np.ndarray) -> str:
    """classes[argmax(proba, axis=1)] (first maximum, as numpy)."""
    idx = g.op("ArgMax", [proba], axis=1, keepdims=0)
    return g.op("Gather", [class_constant(g, classes), idx], axis=0)


def class_constant(g: Graph, classes: np.ndarray) -> str:
    return g.const(classes_array(classes), hint="classes")


def classes_array(classes: Any) -> np.ndarray:
    """Class labels as an ONNX-friendly array: strings, int64, bool or float64."""
    arr = np.asarray(classes)
    if arr.dtype.kind in ("U", "O", "S", "T"):
        if not all(isinstance(c, str) for c in arr.tolist()):
            raise ExportError(f"class labels must all be strings or all numbers; got {arr.tolist()[:5]!r}.")
        return np.asarray([str(c) for c in arr.tolist()], dtype=object)
    if arr.dtype.kind == "b":
        return arr.astype(np.bool_)
    if arr.dtype.kind in ("i", "u"):
        return arr.astype(np.int64)
    return arr.astype(np.float64)


# ------------------------------------------------------------------------------------------------ leaves ---
def _linear_classifier(g: Graph, m: Any, x: str) -> Pred:
    coef_t = np.ascontiguousarray(np.asarray(m.coef_, dtype=np.float64).T)
    dec = g.op("Add", [g.op("MatMul", [x, g.const(coef_t, hint="coef")]),
                       g.const(np.asarray(m.intercept_, dtype=np.float64).reshape(1, -1), hint="intercept")])
    if len(m.classes_) == 2:
        dec = g.squeeze1(dec)
        return Pred(m.classes_, proba=binary_proba(g, g.op("Sigmoid", [dec])), decision=dec)
    return Pred(m.classes_, proba=g.op("Softmax", [dec], axis=1), decision=dec)


def _linear_regressor(g: Graph, m: Any, x: str) -> Pred:
    coef = np.asarray(m.coef_, dtype=np.float64)
    if coef.ndim != 1:
        raise ExportError(f"{type(m).__name__} with several targets cannot be exported to ONNX.")
    value = g.op("MatMul", [x, g.const(coef, hint="coef")])
    return Pred(value=g.op("Add", [value, g.const(np.float64(m.intercept_), hint="intercept")]))


def _dummy_classifier(g: Graph, m: Any, x: str) -> Pred:
    prior = np.asarray(m.class_prior_, dtype=np.float64)
    if m.strategy == "prior":
        row = prior
    elif m.strategy == "most_frequent":
        row = np.eye(len(prior))[int(np.argmax(prior))]
    elif m.strategy == "constant":
        row = (np.asarray(m.classes_) == m.constant).astype(np.float64)
    else:
        raise ExportError(f"DummyClassifier(strategy={m.strategy!r}) predicts at random and cannot be exported to "
                          "ONNX; use strategy 'prior' or 'most_frequent'.")
    return Pred(m.classes_, proba=g.rows_like(x, row))


def _dummy_regressor(g: Graph, m: Any, x: str) -> Pred:
    return Pred(value=g.squeeze1(g.rows_like(x, np.asarray(m.constant_, dtype=np.float64).reshape(-1)[:1])))


def _forest_classifier(g: Graph, m: Any, x: str) -> Pred:
    return Pred(m.classes_, proba=forest_sums(g, x, m, classifier=True))


def _forest_regressor(g: Graph, m: Any, x: str) -> Pred:
    return Pred(value=g.squeeze1(forest_sums(g, x, m, classifier=False)))


def _link_proba(g: Graph, raw: str, n_classes: int, scale: float = 1.0) -> tuple[str, str]:
    """Raw margins [N, k] -> (probabilities [N, n_classes], decision): sigmoid for 2 classes, softmax above."""
    if n_classes == 2:
        dec = g.squeeze1(raw)
        z = dec if scale == 1.0 else g.op("Mul", [dec, g.const(np.float64(scale))])
        return binary_proba(g, g.op("Sigmoid", [z])), dec
    return g.op("Softmax", [raw], axis=1), raw


def _hgb_classifier(g: Graph, m: Any, x: str) -> Pred:
    proba, dec = _link_proba(g, hist_gradient_boosting_raw(g, x, m), len(m.classes_))
    return Pred(m.classes_, proba=proba, decision=dec)


def _hgb_regressor(g: Graph, m: Any, x: str) -> Pred:
    raw = g.squeeze1(hist_gradient_boosting_raw(g, x, m))
    link = type(m._loss.link).__name__
    if link == "IdentityLink":
        return Pred(value=raw)
    if link == "LogLink":
        return Pred(value=g.op("Exp", [raw]))
    raise ExportError(f"HistGradientBoostingRegressor(loss={m.loss!r}) cannot be exported to ONNX.")


def _lgbm_classifier(g: Graph, m: Any, x: str) -> Pred:
    raw, objective, sigmoid = lightgbm_raw(g, x, m)
    if objective not in ("binary", "multiclass", "softmax", "cross_entropy", "xentropy"):
        raise ExportError(f"LGBMClassifier objective {objective!r} cannot be exported to ONNX.")
    proba, dec = _link_proba(g, raw, len(m.classes_), sigmoid if objective == "binary" else 1.0)
    return Pred(m.classes_, proba=proba, decision=dec)


def _lgbm_regressor(g: Graph, m: Any, x: str) -> Pred:
    raw, objective, _ = lightgbm_raw(g, x, m)
    raw = g.squeeze1(raw)
    if objective in ("poisson", "gamma", "tweedie"):
        return Pred(value=g.op("Exp", [raw]))
    return Pred(value=raw)


def _xgb_classifier(g: Graph, m: Any, x: str) -> Pred:
    raw, objective = xgboost_raw(g, x, m)
    if objective not in XGB_CLASSIFICATION:
        raise ExportError(f"XGBClassifier objective {objective!r} cannot be exported to ONNX.")
    proba, _ = _link_proba(g, raw, len(m.classes_))
    return Pred(m.classes_, proba=proba)


def _xgb_regressor(g: Graph, m: Any, x: str) -> Pred:
    raw, objective = xgboost_raw(g, x, m)
    raw = g.squeeze1(raw)
    return Pred(value=g.op("Exp", [raw]) if objective in XGB_EXP else raw)


LEAVES = {
    "LogisticRegression": _linear_classifier,
    "Ridge": _linear_regressor, "LinearRegression": _linear_regressor, "Lasso": _linear_regressor,
    "ElasticNet": _linear_regressor,
    "DummyClassifier": _dummy_classifier, "DummyRegressor": _dummy_regressor,
    "RandomForestClassifier": _forest_classifier, "ExtraTreesClassifier": _forest_classifier,
    "RandomForestRegressor": _forest_regressor, "ExtraTreesRegressor": _forest_regressor,
    "HistGradientBoostingClassifier": _hgb_classifier, "HistGradientBoostingRegressor": _hgb_regressor,
    "LGBMClassifier": _lgbm_classifier, "LGBMRegressor": _lgbm_regressor,
    "XGBLabelClassifier": _xgb_classifier, "XGBRegressor": _xgb_regressor,
    "MLPClassifier": mlp_classifier, "MLPRegressor": mlp_regressor,
}


# ---------------------------------------------------------------------------------------------- wrappers ---
def _response(g: Graph, inner: Any, pred: Pred, method: str, classes: np.ndarray) -> str:
    """What scikit-learn's `_get_response_values` returns (binary: [N, 1] score of classes[-1])."""
    if method == "decision_function":
        if pred.decision is None:
            raise ExportError(f"{type(inner).__name__}.decision_function has no ONNX equivalent in mlengine.")
        return g.unsqueeze1(pred.decision) if len(classes) == 2 else pred.decision
    if len(classes) == 2:
        return g.columns(pred.proba, [1])
    return pred.proba


def _voting(g: Graph, est: Any, data: Any) -> Pred:
    """Soft voting (mlengine's voting and greedy ensembles): each member pipeline converted on the same input
    columns, then scikit-learn's `np.average(..., weights=...)` of their probabilities or predictions."""
    classify = type(est).__name__ == "VotingClassifier"
    if classify and est.voting != "soft":
        raise ExportError("a VotingClassifier with voting='hard' (majority of labels) cannot be exported; "
                          "mlengine's ensembles vote softly.")
    weights = est._weights_not_none or [1.0] * len(est.estimators_)
    total = None
    for member, w in zip(est.estimators_, weights, strict=True):
        pred = predictor(g, member, data)
        out = pred.proba if classify else pred.value
        if out is None:
            raise ExportError(f"ensemble member {type(member).__name__} gives no "
                              f"{'probabilities' if classify else 'prediction'} in ONNX.")
        term = g.op("Mul", [out, g.const(np.float64(w))])
        total = term if total is None else g.op("Add", [total, term])
    avg = g.op("Div", [total, g.const(np.float64(sum(weights)))])
    return Pred(np.asarray(est.classes_), proba=avg) if classify else Pred(value=avg)


def _calibrated(g: Graph, cal: Any, data: Any) -> Pred:
    classes = np.asarray(cal.classes_)
    n = len(classes)
    total = None
    for cc in cal.calibrated_classifiers_:
        if cc.method not in ("sigmoid", "isotonic"):
            raise ExportError(f"calibration method {cc.method!r} cannot be exported to ONNX: its logit conversion "
                              "depends on the whole batch; use sigmoid or isotonic.")
        inner = cc.estimator
        method = "decision_function" if hasattr(inner, "decision_function") else "predict_proba"
        pred = predictor(g, inner, data)
        resp = _response(g, inner, pred, method, np.asarray(inner.classes_))
        positions = np.searchsorted(classes, np.asarray(inner.classes_)) if n > 2 else [1]
        cols: dict[int, str] = {}
        for j, (pos, calibrator) in enumerate(zip(positions, cc.calibrators, strict=False)):
            cols[int(pos)] = calibrate(g, calibrator, g.column(resp, j))
        if n == 2:
            proba = binary_proba(g, cols[1])
        else:
            zero = g.op("Mul", [cols[next(iter(cols))], g.const(np.float64(0.0))])
            stacked = g.op("Concat", [g.unsqueeze1(cols.get(k, zero)) for k in range(n)], axis=1)
            denom = g.sum_rows(stacked)
            is_zero = g.op("Equal", [denom, g.const(np.float64(0.0))])
            safe = g.op("Where", [is_zero, g.const(np.float64(1.0)), denom])
            proba = g.op("Where", [is_zero, g.const(np.full((1, n), 1.0 / n)), g.op("Div", [stacked, safe])])
        # scikit-learn: probabilities that minimally exceed 1.0 become 1.0
        over = g.op("And", [g.op("Greater", [proba, g.const(np.float64(1.0))]),
                            g.op("LessOrEqual", [proba, g.const(np.float64(1.0 + 1e-5))])])
        proba = g.op("Where", [over, g.const(np.float64(1.0)), proba])
        total = proba if total is None else g.op("Add", [total, proba])
    mean = g.op("Div", [total, g.const(np.float64(len(cal.calibrated_classifiers_)))])
    return Pred(classes, proba=mean)


def calibrate(g: Graph, calibrator: Any, f: str) -> str:
    """One fitted calibrator applied to a [N] score -> [N] probability."""
    name = type(calibrator).__name__
    if name == "_SigmoidCalibration":
        z = g.op("Add", [g.op("Mul", [f, g.const(np.float64(calibrator.a_))]), g.const(np.float64(calibrator.b_))])
        return g.op("Sigmoid", [g.op("Neg", [z])])
    if name == "IsotonicRegression":
        return isotonic(g, calibrator, f)
    raise ExportError(f"calibrator {name} cannot be exported to ONNX.")


def isotonic(g: Graph, iso: Any, f: str) -> str:
    """IsotonicRegression.predict: clip, then numpy.interp's formula `slope[j] * (x - xp[j]) + fp[j]`."""
    xp = np.asarray(iso.X_thresholds_, dtype=np.float64)
    fp = np.asarray(iso.y_thresholds_, dtype=np.float64)
    if iso.out_of_bounds == "raise":
        raise ExportError("IsotonicRegression(out_of_bounds='raise') cannot be exported to ONNX.")
    x = f
    if iso.out_of_bounds == "clip":
        x = g.op("Max", [g.op("Min", [x, g.const(np.float64(iso.X_max_))]), g.const(np.float64(iso.X_min_))])
    if len(fp) == 1:
        out = g.op("Add", [g.op("Mul", [x, g.const(np.float64(0.0))]), g.const(fp[0])])
    else:
        slopes = (fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1])
        below = g.op("LessOrEqual", [g.const(xp.reshape(1, -1), hint="xp"), g.unsqueeze1(x)])
        count = g.op("ReduceSum", [g.cast(below, np.int64), g.const(np.array([1], dtype=np.int64))], keepdims=0)
        j = g.op("Clip", [g.op("Sub", [count, g.const(np.int64(1))]), g.const(np.int64(0)),
                          g.const(np.int64(len(xp) - 2))])
        gather = lambda arr, hint: g.op("Gather", [g.const(arr, hint=hint), j], axis=0)  # noqa: E731
        out = g.op("Add", [g.op("Mul", [gather(slopes, "slopes"), g.op("Sub", [x, gather(xp[:-1], "xlo")])]),
                           gather(fp[:-1], "ylo")])
        out = g.op("Where", [g.op("GreaterOrEqual", [x, g.const(xp[-1])]), g.const(fp[-1]), out])
    if iso.out_of_bounds == "nan":
        outside = g.op("Or", [g.op("Less", [x, g.const(xp[0])]), g.op("Greater", [x, g.const(xp[-1])])])
        out = g.op("Where", [outside, g.const(np.float64(np.nan)), out])
    return out


def threshold_of(est: Any) -> tuple[float, Any, str]:
    """(threshold, positive class, response method) a thresholding wrapper applies."""
    inner = getattr(est, "estimator_", est.estimator)
    classes = np.asarray(est.classes_)
    methods = ["predict_proba", "decision_function"] if est.response_method == "auto" else [est.response_method]
    method = next((m for m in methods if hasattr(inner, m)), None)
    if method is None:
        raise ExportError(f"{type(inner).__name__} has none of {methods}.")
    if type(est).__name__ == "TunedThresholdClassifierCV":
        threshold = float(est.best_threshold_)
        pos_label = est._curve_scorer._get_pos_label()
    else:
        pos_label = est.pos_label
        threshold = (0.5 if method == "predict_proba" else 0.0) if est.threshold == "auto" else float(est.threshold)
    if pos_label is None:
        pos_label = classes[-1]
    return threshold, pos_label, method


def _thresholded(g: Graph, est: Any, data: Any) -> Pred:
    inner = getattr(est, "estimator_", est.estimator)
    classes = np.asarray(est.classes_)
    if len(classes) != 2:
        raise ExportError(f"{type(est).__name__} needs a binary classifier; got {len(classes)} classes.")
    threshold, pos_label, method = threshold_of(est)
    pred = predictor(g, inner, data)
    pos = int(np.flatnonzero(classes == pos_label)[0])
    neg = int(np.flatnonzero(classes != pos_label)[0])
    if method == "predict_proba":
        score = g.column(pred.proba, pos)
    else:
        if pred.decision is None:
            raise ExportError(f"{type(inner).__name__}.decision_function has no ONNX equivalent in mlengine.")
        score = pred.decision if pos == 1 else g.op("Neg", [pred.decision])
    hit = g.op("GreaterOrEqual", [score, g.const(np.float64(threshold), hint="threshold")])
    idx = g.op("Where", [hit, g.const(np.int64(pos)), g.const(np.int64(neg))])
    label = g.op("Gather", [class_constant(g, classes), idx], axis=0)
    return Pred(classes, proba=pred.proba, decision=pred.decision, label=label)


def _target_transformed(g: Graph, est: Any, data: Any) -> Pred:
    pred = predictor(g, est.regressor_, data)
    tr = est.transformer_
    name = type(tr).__name__
    v = pred.value
    if name == "FunctionTransformer":
        if tr.inv_kw_args:
            raise ExportError("TransformedTargetRegressor: inverse_func keyword arguments cannot be exported.")
        fn = tr.inverse_func
        if fn is None:
            return pred
        ops = {np.exp: lambda: g.op("Exp", [v]),
               np.expm1: lambda: g.op("Sub", [g.op("Exp", [v]), g.const(np.float64(1.0))]),
               np.log: lambda: g.op("Log", [v]),
               np.log1p: lambda: g.op("Log", [g.op("Add", [v, g.const(np.float64(1.0))])]),
               np.sqrt: lambda: g.op("Sqrt", [v]), np.square: lambda: g.op("Mul", [v, v])}
        make = next((f for k, f in ops.items() if fn is k), None)
        if make is None:
            raise ExportError(f"TransformedTargetRegressor inverse_func {getattr(fn, '__name__', fn)!r} cannot be "
                              "exported to ONNX; supported: exp, expm1, log, log1p, sqrt, square.")
        return Pred(value=make())
    if name == "StandardScaler":
        if tr.with_std:
            v = g.op("Mul", [v, g.const(np.float64(np.ravel(tr.scale_)[0]))])
        if tr.with_mean:
            v = g.op("Add", [v, g.const(np.float64(np.ravel(tr.mean_)[0]))])
        return Pred(value=v)
    raise ExportError(f"TransformedTargetRegressor with transformer {name} cannot be exported to ONNX.")
