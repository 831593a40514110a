"""onnx_preprocess: the adapter's ONNX inputs and their docs, ColumnTransformer / scaler / encoder / reducer graphs
matching scikit-learn's transform on real titanic and wine rows, and the refusals of steps it cannot convert."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, RobustScaler, StandardScaler

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph
from mlengine.export.onnx_preprocess import (
    Columns,
    InputSpec,
    adapter_inputs,
    column_transformer,
    input_doc,
    transform_step,
)
from mlengine.steps.adapter import FrameAdapter

from tests.conftest import DATA


def _run(g: Graph, out: str, width: int, feed: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime as ort

    g.output(out, "y", np.float64, [None, width])
    sess = ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feed)[0]


@pytest.fixture(scope="module")
def wine() -> np.ndarray:
    df = pd.read_csv(DATA / "wine_quality_white.csv").head(200)
    X = df.drop(columns="quality").to_numpy(np.float64, copy=True)
    X[::7, 2] = np.nan  # some missing citric acid for the imputer
    return X


@pytest.fixture(scope="module")
def titanic() -> pd.DataFrame:
    return pd.read_csv(DATA / "titanic.csv").head(200)


def test_adapter_inputs_follow_the_adapter_order_and_rename_output_names():
    adapter = FrameAdapter(numeric=["fare", "prediction"], boolean=["alone"], datetime=["pickup"],
                           categorical=["sex", "label"], datetime_features=("month", "hour"))
    specs = adapter_inputs(adapter)
    assert [s.name for s in specs] == ["fare", "prediction__input", "alone", "pickup__month", "pickup__hour",
                                       "sex", "label__input"]
    assert [s.dtype for s in specs] == ["float64"] * 5 + ["string"] * 2
    assert specs[3] == InputSpec("pickup__month", "float64", "pickup", "datetime", "month")
    assert specs[3].as_dict() == {"name": "pickup__month", "dtype": "float64", "source": "pickup",
                                  "kind": "datetime", "part": "month"}
    assert "part" not in specs[0].as_dict()
    assert input_doc(specs[3]) == ("calendar part of a datetime column, as float64 (NaN = missing); month of raw "
                                   "column 'pickup'")
    assert input_doc(specs[5]) == "category as a string ('' = missing)"


@pytest.mark.parametrize("step", [SimpleImputer(strategy="median"), StandardScaler(), RobustScaler(),
                                  MinMaxScaler(clip=True), VarianceThreshold(0.01), PCA(4, whiten=True),
                                  TruncatedSVD(3, random_state=0)], ids=lambda s: type(s).__name__)
def test_numeric_steps_match_sklearn_transform_on_wine_rows(wine, step):
    X = wine if isinstance(step, SimpleImputer) else np.nan_to_num(wine, nan=0.3)
    fit = step.fit(X[:150])
    expected = fit.transform(X[150:] * 1.05)  # scaled rows: MinMaxScaler's clip is exercised
    g = Graph()
    out = transform_step(g, fit, g.input("x", np.float64, width=X.shape[1]))
    got = _run(g, out, expected.shape[1], {"x": X[150:] * 1.05})
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_column_transformer_with_text_pipelines_matches_sklearn_including_unseen_categories(titanic):
    df = titanic[["age", "fare", "sex", "embarked"]].copy()
    df[["sex", "embarked"]] = df[["sex", "embarked"]].fillna("")
    cat = Pipeline([("imp", SimpleImputer(missing_values="", strategy="constant", fill_value="missing")),
                    ("oh", OneHotEncoder(handle_unknown="ignore", sparse_output=False))])
    ct = ColumnTransformer([("num", SimpleImputer(), ["age", "fare"]), ("cat", cat, ["sex"]),
                            ("ord", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                             ["embarked"])]).fit(df)
    test = df.tail(20).copy()
    test.iloc[0, test.columns.get_loc("embarked")] = "X"  # unseen by both encoders
    test.iloc[1, test.columns.get_loc("sex")] = "unknown"
    g = Graph(19)  # a SimpleImputer on text compares strings: Equal on strings needs opset 19
    tensors = {c: g.input(c, object if c in ("sex", "embarked") else np.float64) for c in df.columns}
    out = column_transformer(g, ct, Columns(tensors, {"sex", "embarked"}))
    expected = ct.transform(test)
    feed = {c: test[[c]].to_numpy(object if c in ("sex", "embarked") else np.float64) for c in df.columns}
    got = _run(g, out, expected.shape[1], feed)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert got.shape == (20, 5) and got[0, -1] == -1.0 and got[1, 2:4].tolist() == [0.0, 0.0]


def test_infrequent_categories_share_one_column_and_unseen_ones_go_there(titanic):
    X = titanic[["embarked"]].fillna("").astype(str)
    enc = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=30, sparse_output=False).fit(X)
    test = pd.DataFrame({"embarked": ["S", "Q", "C", "", "Z"]})
    g = Graph()
    out = transform_step(g, enc, [g.input("embarked", object)])
    expected = enc.transform(test)
    got = _run(g, out, expected.shape[1], {"embarked": test.to_numpy(object)})
    np.testing.assert_array_equal(got, expected)
    assert got[-1].tolist() == expected[-1].tolist() and got[-1, -1] == 1.0


def test_unconvertible_steps_are_refused_with_the_step_named(titanic):
    from sklearn.preprocessing import PolynomialFeatures

    X = titanic[["age", "fare"]].fillna(0).to_numpy()
    g = Graph()
    x = g.input("x", np.float64, width=2)
    with pytest.raises(ExportError, match="step num: PolynomialFeatures has no ONNX converter"):
        transform_step(g, PolynomialFeatures().fit(X), x, "num")
    with pytest.raises(ExportError, match=r"SimpleImputer\(add_indicator=True\)"):
        transform_step(g, SimpleImputer(add_indicator=True).fit(np.where(X == 0, np.nan, X)), x)
    sex = titanic[["sex"]]
    with pytest.raises(ExportError, match="handle_unknown='error'"):
        transform_step(g, OneHotEncoder().fit(sex), [g.input("sex", object)])
    with pytest.raises(ExportError, match="StandardScaler needs numeric input but receives text columns"):
        transform_step(g, StandardScaler().fit(X), ["sex"])
    with pytest.raises(ExportError, match="OneHotEncoder on numeric columns"):
        transform_step(g, OneHotEncoder(handle_unknown="ignore").fit(X), x)


def test_column_transformer_refuses_columns_the_inputs_lack_and_mixed_blocks(titanic):
    df = titanic[["age", "sex"]].fillna({"age": 0})
    g = Graph()
    age, sex = g.input("age", np.float64), g.input("sex", object)
    ct = ColumnTransformer([("num", StandardScaler(), ["age"])]).fit(df)
    with pytest.raises(ExportError, match="step 'num' uses columns the model inputs do not provide: age"):
        column_transformer(g, ct, Columns({"sex": sex}, {"sex"}))
    mixed = ColumnTransformer([("both", "passthrough", ["age", "sex"])]).fit(df)
    with pytest.raises(ExportError, match="step 'both' mixes text and numeric columns"):
        column_transformer(g, mixed, Columns({"age": age, "sex": sex}, {"sex"}))
    dropped = ColumnTransformer([("num", "drop", ["age"])]).fit(df)
    with pytest.raises(ExportError, match="produces no columns"):
        column_transformer(g, dropped, Columns({"age": age, "sex": sex}, {"sex"}))


def test_text_imputer_graph_is_valid_at_the_default_opset(titanic):
    import onnxruntime as ort

    X = titanic[["embarked"]].fillna("")
    imp = SimpleImputer(missing_values="", strategy="most_frequent").fit(X)
    g = Graph(17)
    (out,) = transform_step(g, imp, [g.input("embarked", object)])
    g.output(out, "y", object, [None, 1])
    sess = ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"embarked": np.array([[""], ["C"]], dtype=object)})[0]
    assert got[:, 0].tolist() == ["S", "C"]
