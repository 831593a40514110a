"""ONNX converters against scikit-learn on real data: every registered model, calibration, thresholds, target
transforms, selectors, reducers, string labels, samplers, unseen categories and values sitting on split thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_selection import (
    RFE,
    SelectFromModel,
    SelectKBest,
    SelectorMixin,
    SelectPercentile,
    VarianceThreshold,
    f_classif,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlengine.errors import ExportError

from tests.export_helpers import assert_exact, onnx_of, parity, prepared, raw_rows

SMALL = {"lightgbm": "n_estimators=25", "random_forest": "n_estimators=25", "extra_trees": "n_estimators=25",
         "hist_gradient_boosting": "max_iter=25"}


def _model(recipe: str, model: str, *extra: str):
    over = [f"model={model}", "model.n_jobs=1", *extra]
    if model in SMALL:
        over.append(f"++model.params.{SMALL[model]}")
    return prepared(recipe, tuple(over))


@pytest.mark.parametrize("model", ["lightgbm", "random_forest", "extra_trees", "hist_gradient_boosting",
                                   "logistic_regression", "dummy"])
def test_binary_models_match_sklearn(model):
    data, pipe = _model("titanic.yaml", model)
    pipe.fit(data.X, data.y)
    report = assert_exact(pipe, data.X, "binary")
    assert report.max_abs_diff < 1e-12


@pytest.mark.parametrize("model", ["lightgbm", "random_forest", "logistic_regression", "hist_gradient_boosting"])
def test_multiclass_string_labels_are_preserved(model):
    data, pipe = _model("penguins.yaml", model)
    pipe.fit(data.X, data.y)
    assert_exact(pipe, data.X, "multiclass")
    labels = onnx_of(pipe).predict(data.X.head(5))
    assert set(labels) <= {"Adelie", "Chinstrap", "Gentoo"}


@pytest.mark.parametrize("model", ["lightgbm", "ridge", "random_forest", "extra_trees", "hist_gradient_boosting",
                                   "dummy"])
def test_regression_models_match_sklearn_with_datetime_features(model):
    data, pipe = _model("nyc_taxis_tip.yaml", model)
    X, y = data.X.iloc[:1500], data.y.iloc[:1500]
    pipe.fit(X, y)
    assert any("__" in s["name"] for s in onnx_of(pipe).inputs)  # datetime parts are inputs
    report = assert_exact(pipe, data.X.iloc[1500:2500], "regression")
    assert report.max_rel_diff < 1e-9


# ------------------------------------------------------------------------------ calibration + threshold ---
@pytest.fixture(scope="module")
def titanic_lgbm():
    data, pipe = _model("titanic.yaml", "lightgbm")
    half = len(data.X) // 2
    pipe.fit(data.X.iloc[:half], data.y.iloc[:half])
    return data, pipe, half


def _structures(data, pipe, half, method):
    """The fitted structures mlengine's calibration and threshold steps produce (calibrators fitted on rows the
    model did not see)."""
    X, y = data.X, data.y
    head = Pipeline(pipe.steps[:-1])
    cal = CalibratedClassifierCV(FrozenEstimator(pipe.steps[-1][1]), method=method).fit(
        head.transform(X.iloc[half:]), y.iloc[half:])
    last = Pipeline(pipe.steps[:-1] + [("model", cal)])
    return {
        "calibrated last step": last,
        "threshold around calibrated pipeline": FixedThresholdClassifier(FrozenEstimator(last), threshold=0.3),
        "threshold last step, pos_label=0": Pipeline(pipe.steps[:-1] + [("model", FixedThresholdClassifier(
            FrozenEstimator(cal), threshold=0.37, pos_label=0))]).fit(X.iloc[:half], y.iloc[:half]),
        "calibration ensemble cv=3": CalibratedClassifierCV(clone(pipe), method=method, cv=3).fit(X, y),
        "calibrated frozen pipeline": CalibratedClassifierCV(FrozenEstimator(pipe), method=method).fit(
            X.iloc[half:], y.iloc[half:]),
    }


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_and_thresholded_structures(titanic_lgbm, method):
    data, pipe, half = titanic_lgbm
    for name, model in _structures(data, pipe, half, method).items():
        report = parity(model, data.X, "binary", 1e-9)
        assert report.passed, (name, report.failing_rows[:3])


def test_threshold_changes_labels_inside_the_graph(titanic_lgbm):
    data, pipe, _ = titanic_lgbm
    low = FixedThresholdClassifier(FrozenEstimator(pipe), threshold=0.1)
    onnx_low, onnx_default = onnx_of(low).predict(data.X), onnx_of(pipe).predict(data.X)
    assert (onnx_low == low.predict(data.X)).all()
    assert (onnx_low == 1).sum() > (onnx_default == 1).sum() + 50
    on_margin = FixedThresholdClassifier(FrozenEstimator(pipe), threshold=-0.5, response_method="decision_function")
    assert_exact(on_margin, data.X, "binary")
    tuned = TunedThresholdClassifierCV(clone(pipe), cv=3).fit(data.X, data.y)
    assert_exact(tuned, data.X, "binary")


def test_isotonic_is_linear_interpolation_not_nearest_threshold():
    from sklearn.isotonic import IsotonicRegression

    from mlengine.export.onnx_graph import Graph
    from mlengine.export.onnx_models import isotonic

    rng = np.random.default_rng(0)
    f = np.sort(rng.normal(size=300))
    iso = IsotonicRegression(out_of_bounds="clip").fit(f, (f + rng.normal(size=300) > 0).astype(float))
    grid = np.concatenate([iso.X_thresholds_, (iso.X_thresholds_[1:] + iso.X_thresholds_[:-1]) / 2, [-9.0, 9.0]])
    g = Graph()
    x = g.input("f", np.float64)
    g.output(isotonic(g, iso, g.squeeze1(x)), "p", np.float64, [None])
    import onnxruntime as ort

    got = ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"f": grid.reshape(-1, 1)})[0]
    np.testing.assert_array_equal(got, iso.predict(grid))


def test_multiclass_isotonic_on_binned_string_labels():
    data, pipe = _model("nyc_taxis_tip.yaml", "lightgbm", "task=multiclass", "evaluate.metrics=[accuracy]")
    X = data.X.iloc[:2000]
    labels = pd.cut(data.y.iloc[:2000], [-1, 0.5, 2, 4, 1e9], labels=["none", "low", "mid", "high"]).astype(str)
    pipe.fit(X.iloc[:1200], labels.iloc[:1200])
    head = Pipeline(pipe.steps[:-1])
    cal = CalibratedClassifierCV(FrozenEstimator(pipe.steps[-1][1]), method="isotonic").fit(
        head.transform(X.iloc[1200:]), labels.iloc[1200:])
    model = Pipeline(pipe.steps[:-1] + [("model", cal)])
    assert_exact(model, X, "multiclass")
    assert set(onnx_of(model).predict(X)) <= {"none", "low", "mid", "high"}


# ---------------------------------------------------------------------------- selectors, reducers, target ---
class CorrelationFilter(SelectorMixin, BaseEstimator):
    """A custom selector: drops a feature highly correlated with an earlier one."""

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold

    def fit(self, X, y=None):
        c = np.abs(np.nan_to_num(np.corrcoef(X, rowvar=False)))
        keep = np.ones(c.shape[0], dtype=bool)
        for i in range(c.shape[0]):
            keep[i + 1:] &= ~(keep[i] & (c[i, i + 1:] > self.threshold))
        self.support_, self.n_features_in_ = keep, c.shape[0]
        return self

    def _get_support_mask(self):
        return self.support_


SELECTORS = [SelectKBest(f_classif, k=5), VarianceThreshold(0.1), SelectFromModel(LogisticRegression(max_iter=500)),
             RFE(LogisticRegression(max_iter=500), n_features_to_select=4, step=4),
             SelectPercentile(f_classif, percentile=50), CorrelationFilter(0.5)]
REDUCERS = [PCA(4), PCA(3, whiten=True), TruncatedSVD(3)]


@pytest.mark.parametrize("select,reduce", [(s, None) for s in SELECTORS] + [(SELECTORS[0], r) for r in REDUCERS],
                         ids=lambda o: "none" if o is None else type(o).__name__ + ("-whiten" if getattr(o, "whiten", 0)
                                                                                     else ""))
def test_selectors_and_reducers(select, reduce):
    data, pipe = _model("titanic.yaml", "logistic_regression")
    steps = pipe.steps[:-1] + [("select", clone(select))]
    if reduce is not None:
        steps.append(("reduce", clone(reduce)))
    model = Pipeline(steps + [("model", LogisticRegression(max_iter=2000))]).fit(data.X, data.y)
    assert_exact(model, data.X, "binary")


@pytest.mark.parametrize("func,inverse", [(np.log1p, np.expm1), (np.log, np.exp), (np.sqrt, np.square),
                                          (None, None)])
def test_target_transforms(func, inverse):
    data, pipe = _model("nyc_taxis_tip.yaml", "lightgbm")
    X, y = data.X.iloc[:1500], data.y.iloc[:1500] + (1.0 if func is np.log else 0.0)
    ttr = TransformedTargetRegressor(clone(pipe.steps[-1][1]), func=func, inverse_func=inverse,
                                     transformer=None if func else StandardScaler())
    model = Pipeline(pipe.steps[:-1] + [("model", ttr)]).fit(X, y)
    assert_exact(model, X, "regression")
    outer = TransformedTargetRegressor(clone(pipe), func=np.log1p, inverse_func=np.expm1).fit(X, data.y.iloc[:1500])
    assert_exact(outer, X, "regression")


def test_samplers_are_stripped():
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline as ImbPipeline

    data, pipe = _model("titanic.yaml", "logistic_regression")
    model = ImbPipeline(pipe.steps[:-1] + [("resample", SMOTE(random_state=0)),
                                            ("model", LogisticRegression(max_iter=2000))]).fit(data.X, data.y)
    assert_exact(model, data.X, "binary")


# ---------------------------------------------------------------------------------------- hard inputs ---
@pytest.mark.parametrize("model", ["logistic_regression", "lightgbm"])
def test_unseen_categories_and_missing_values_as_at_training(model):
    data, pipe = _model("titanic.yaml", model)
    pipe.fit(data.X, data.y)
    odd = data.X.head(40).copy()
    odd["embarked"] = ["Z", None, "S", "q"] * 10  # unseen, missing, known, unseen by case
    odd["deck"] = ["A", "M", None, "G"] * 10
    odd.loc[odd.index[::3], "age"] = np.nan
    odd.loc[odd.index[::5], "fare"] = np.nan
    assert_exact(pipe, odd, "binary")


def test_values_on_lightgbm_thresholds_take_the_same_branch():
    """Float32 thresholds would send these rows the other way; the float64 TreeEnsemble does not."""
    data, pipe = _model("wine_quality.yaml", "lightgbm")
    pipe.fit(data.X, data.y)
    booster = pipe.steps[-1][1].booster_
    trees = booster.trees_to_dataframe()
    splits = trees[trees["threshold"].notna()].head(200)
    names = pipe.steps[1][1].get_feature_names_out()
    rows = []
    for _, s in splits.iterrows():
        col = names[int(s["split_feature"].split("_")[-1])] if s["split_feature"].startswith("Column_") \
            else s["split_feature"]
        for v in (s["threshold"], np.nextafter(s["threshold"], np.inf)):
            row = data.X.iloc[len(rows) % len(data.X)].copy()
            row[col] = v
            rows.append(row)
    assert_exact(pipe, pd.DataFrame(rows).reset_index(drop=True), "multiclass", 1e-9)


def test_row_fast_path_feeds_the_same_arrays_as_the_frame_path():
    for recipe in ("titanic.yaml", "nyc_taxis_tip.yaml"):
        data, pipe = _model(recipe, "lightgbm")
        pipe.fit(data.X.iloc[:500], data.y.iloc[:500])
        m = onnx_of(pipe)
        frame = data.X.iloc[:300]
        batch = m.feed_frame(frame)
        for i, row in enumerate(raw_rows(frame)):
            one = m.feed_row(row)
            for name, arr in one.items():
                a, b = arr[0, 0], batch[name][i, 0]
                assert (a == b) or (a != a and b != b), (recipe, i, name, a, b)


def test_unconvertible_structures_raise_clear_errors():
    from sklearn.neighbors import KNeighborsClassifier

    from mlengine.export.onnx_convert import to_onnx

    data, pipe = _model("titanic.yaml", "dummy", "+model.params.strategy=uniform", "export.format=joblib")
    pipe.fit(data.X, data.y)
    with pytest.raises(ExportError, match="strategy='uniform'"):
        to_onnx(pipe)
    lr_data, lr = _model("titanic.yaml", "logistic_regression")
    knn = Pipeline(lr.steps[:-1] + [("model", KNeighborsClassifier())]).fit(lr_data.X, lr_data.y)
    with pytest.raises(ExportError, match="KNeighborsClassifier has no ONNX converter"):
        to_onnx(knn)
    with pytest.raises(ExportError, match="FrameAdapter"):
        to_onnx(LogisticRegression().fit(np.eye(4), [0, 1, 0, 1]))
