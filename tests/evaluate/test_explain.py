"""Explainability on small fitted pipelines: SHAP through a decision threshold, and a reason whenever SHAP is not
computed (the report prints it instead of silently leaving the plot out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.evaluate.explain import lightgbm_shap, permutation_importance, shap_skipped

from tests.conftest import DATA


@pytest.fixture(scope="module")
def xy() -> tuple[pd.DataFrame, pd.Series]:
    d = pd.read_csv(DATA / "titanic.csv")
    X = d[["pclass", "age", "sibsp", "parch", "fare"]].astype(float)
    return X, d["survived"]


def _pipe(model):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    return Pipeline([("impute", SimpleImputer()), ("model", model)])


def _lgbm():
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1, random_state=0)


def test_a_threshold_keeps_shap_values_of_the_model_inside(xy):
    from sklearn.model_selection import FixedThresholdClassifier

    X, y = xy
    pipe = _pipe(_lgbm()).fit(X, y)
    wrapped = FixedThresholdClassifier(pipe, threshold=0.3, response_method="predict_proba")
    wrapped.estimator_ = pipe  # as mlengine.evaluate.threshold.wrap_threshold saves it (prefit)
    plain, inputs = lightgbm_shap(pipe, X.head(50), "binary", [0, 1], 1)
    through, _ = lightgbm_shap(wrapped, X.head(50), "binary", [0, 1], 1)
    assert through.shape == (50, 5) and np.allclose(plain, through) and list(inputs.columns)[0] == "pclass"


def test_calibrated_lightgbm_says_why_it_has_no_shap(xy):
    from sklearn.calibration import CalibratedClassifierCV

    X, y = xy
    pipe = _pipe(CalibratedClassifierCV(_lgbm(), method="sigmoid", cv=2, ensemble=False)).fit(X, y)
    assert lightgbm_shap(pipe, X.head(20), "binary", [0, 1], 1) is None
    why = shap_skipped(pipe)
    assert "sigmoid calibration" in why and "raw score, not the calibrated probability" in why


def test_other_models_say_permutation_importance_covers_them(xy):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression

    X, y = xy
    assert "LogisticRegression" in shap_skipped(_pipe(LogisticRegression())) and "permutation importance only" in \
        shap_skipped(_pipe(LogisticRegression()))
    assert "ensemble (VotingClassifier)" in shap_skipped(_pipe(VotingClassifier([("a", LogisticRegression())])))
    ttr = _pipe(TransformedTargetRegressor(LinearRegression(), func=np.log1p, inverse_func=np.expm1)).fit(X, X["fare"])
    assert "transformed target" in shap_skipped(ttr)
    assert "not a pipeline" in shap_skipped(LogisticRegression())


def test_permutation_importance_finds_the_column_the_model_uses(xy):
    X, y = xy
    rng = np.random.default_rng(0)
    X = X[["pclass", "fare"]].assign(noise=rng.normal(size=len(X)))
    model = _pipe(_lgbm()).fit(X, y)
    feats = permutation_importance(model, X.iloc[:300], y.iloc[:300], task="binary",
                                   metric="roc_auc", classes=[0, 1], pos_label=1, repeats=3, seed=0)
    by = {f["feature"]: f["mean"] for f in feats}
    assert feats[0]["feature"] in ("pclass", "fare") and by["pclass"] > 0.01 and by["fare"] > by["noise"]
