"""onnx_runtime.OnnxModel: feeds built from DataFrames, dicts and lists of dicts (typed as the FrameAdapter types
them), predictions equal to scikit-learn's on real titanic / taxi rows, and the refusals of bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from mlengine.errors import DataError, UserError
from mlengine.export.onnx_runtime import OnnxModel
from mlengine.steps.adapter import FrameAdapter

from tests.conftest import DATA
from tests.export_helpers import onnx_of, raw_rows


@pytest.fixture(scope="module")
def titanic() -> tuple[pd.DataFrame, Pipeline, OnnxModel]:
    df = pd.read_csv(DATA / "titanic.csv").head(200)
    X = df[["age", "fare", "alone", "sex", "embarked"]]
    num, cat = ["age", "fare", "alone"], ["sex", "embarked"]
    pre = ColumnTransformer([("num", SimpleImputer(strategy="median"), num),
                             ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat)],
                            verbose_feature_names_out=False)
    pipe = Pipeline([("adapt", FrameAdapter(numeric=["age", "fare"], boolean=["alone"], categorical=cat)),
                     ("pre", pre), ("model", LogisticRegression(max_iter=500))]).fit(X, df["survived"])
    return X, pipe, onnx_of(pipe)


@pytest.fixture(scope="module")
def taxis() -> tuple[pd.DataFrame, Pipeline, OnnxModel]:
    df = pd.read_csv(DATA / "nyc_taxis.csv", nrows=150)
    X = df[["pickup", "distance"]]
    adapter = FrameAdapter(numeric=["distance"], datetime=["pickup"], datetime_features=("month", "dayofweek", "hour"))
    pipe = Pipeline([("adapt", adapter),
                     ("pre", ColumnTransformer([("num", SimpleImputer(), adapter.numeric_outputs())])),
                     ("model", Ridge())]).fit(X, df["tip"])
    return X, pipe, onnx_of(pipe)


def test_frame_feed_types_each_input_as_the_adapter_does(titanic):
    X, _, m = titanic
    feed = m.feed_frame(X.head(6))
    assert list(feed) == ["age", "fare", "alone", "sex", "embarked"]
    assert all(a.shape == (6, 1) for a in feed.values())
    assert feed["alone"].dtype == np.float64 and feed["alone"][:, 0].tolist() == [0.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    assert np.isnan(feed["age"][5, 0])  # row 5 of titanic has no age
    assert feed["sex"].dtype == object and feed["sex"][:2, 0].tolist() == ["male", "female"]


def test_dicts_lists_and_frames_predict_what_sklearn_predicts(titanic):
    X, pipe, m = titanic
    assert m.task == "classification" and m.classes == [0, 1]
    np.testing.assert_array_equal(m.predict(X), pipe.predict(X))
    np.testing.assert_array_equal(m.predict(raw_rows(X.head(20))), pipe.predict(X.head(20)))
    np.testing.assert_allclose(m.predict_proba(X), pipe.predict_proba(X), rtol=0, atol=1e-12)
    one = raw_rows(X.iloc[[5]])[0]
    np.testing.assert_allclose(m.predict_proba(one), pipe.predict_proba(X.iloc[[5]]), rtol=0, atol=1e-12)


def test_row_fast_path_reads_strings_missing_values_and_numbers_like_the_frame(titanic):
    _, _, m = titanic
    row = {"age": "31.5", "fare": None, "alone": "Yes", "sex": None, "embarked": 2.0}
    feed = m.feed_row(row)
    assert feed["age"][0, 0] == 31.5 and np.isnan(feed["fare"][0, 0])
    assert feed["alone"][0, 0] == 1.0
    assert feed["sex"][0, 0] == "" and feed["embarked"][0, 0] == "2"
    assert m.feed_row({**row, "alone": float("nan")})["alone"].dtype == np.float64
    assert np.isnan(m.feed_row({**row, "alone": float("nan")})["alone"][0, 0])


def test_datetime_parts_from_a_dict_match_the_frame_path_and_sklearn(taxis):
    X, pipe, m = taxis
    assert [s["name"] for s in m.inputs] == ["distance", "pickup__month", "pickup__dayofweek", "pickup__hour"]
    feed = m.feed_row({"pickup": dt.datetime(2019, 3, 23, 20, 21, 9), "distance": 1.6})
    assert [feed[k][0, 0] for k in ("pickup__month", "pickup__dayofweek", "pickup__hour")] == [3.0, 5.0, 20.0]
    assert m.feed_row({"pickup": "2019-03-23 20:21:09", "distance": 1})["pickup__dayofweek"][0, 0] == 5.0
    assert np.isnan(m.feed_row({"pickup": None, "distance": 1.0})["pickup__hour"][0, 0])
    np.testing.assert_allclose(m.predict(X), pipe.predict(X), rtol=1e-12)
    with pytest.raises(UserError, match="predict_proba is for classification"):
        m.predict_proba(X)


def test_bad_inputs_are_refused_with_clear_messages(titanic):
    X, _, m = titanic
    with pytest.raises(UserError, match="predict got no rows"):
        m.predict([])
    with pytest.raises(UserError, match="predict got no rows"):
        m.predict(X.head(0))
    with pytest.raises(UserError, match="got ndarray"):
        m.predict(X.to_numpy())
    with pytest.raises(DataError, match=r"missing 1 required column\(s\): embarked\. Did you mean 'embark'"):
        m.predict(X.rename(columns={"embarked": "embark"}))
    with pytest.raises(DataError, match="alone"):
        m.predict({**raw_rows(X.head(1))[0], "alone": "perhaps"})
