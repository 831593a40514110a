"""mlengine.evaluate.adversarial: the scoring sample is read with errors naming evaluate.adversarial.data, typed
as training typed it (missing features, too few rows and unreadable values refused), and the training-vs-sample
classifier says "similar" for rows of the same table and "separable" for a shifted column, which it names."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import yaml

from mlengine.data.table import Columns, prepare_table
from mlengine.errors import DataError
from mlengine.evaluate.adversarial import (
    MIN_ROWS,
    adversarial_validation,
    check_sample,
    read_sample,
    typed_sample,
)
from mlengine.recipe.validate import validate_config
from mlengine.sections.evaluate import AdversarialSection

from tests.conftest import DATA
from tests.modelling import TITANIC_M

SECTION = AdversarialSection.model_validate({"data": "sample.csv", "folds": 3, "max_rows": 150})


@pytest.fixture(scope="module")
def titanic():
    """(prepared training rows 0-299, raw rows 300-499 without the target as the scoring sample)."""
    df = pd.read_csv(DATA / "titanic.csv")
    train = prepare_table(df.iloc[:300], validate_config(yaml.safe_load(TITANIC_M)))
    return train, df.iloc[300:500].drop(columns=["survived"]).reset_index(drop=True)


def test_read_sample_errors_name_the_adversarial_key(tmp_path):
    # the recipe loader makes the path absolute (relative to the recipe's folder) before the sample is read
    section = AdversarialSection.model_validate({"data": str(tmp_path / "sample.csv")})
    with pytest.raises(DataError, match=r"^evaluate.adversarial.data.path: file '.*sample.csv' does not exist"):
        read_sample(section, tmp_path)
    pd.DataFrame({"a": range(3)}).to_csv(tmp_path / "sample.csv", index=False)
    assert read_sample(section, tmp_path)["a"].tolist() == [0, 1, 2]
    (tmp_path / "sample.csv").write_text("a\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"^evaluate.adversarial.data: '.*sample.csv' gave an empty table"):
        read_sample(section, tmp_path)


def test_typed_sample_casts_features_as_training_did(titanic):
    train, sample = titanic
    typed = typed_sample(sample, train.columns)
    assert list(typed.columns) == ["pclass", "age", "sibsp", "parch", "fare", "alone", "sex", "embarked", "deck"]
    assert typed["alone"].dtype == "float64" and set(typed["alone"].dropna()) == {0.0, 1.0}
    assert typed["pclass"].dtype == "float64" and pd.api.types.is_string_dtype(typed["sex"])
    assert typed["sex"].iloc[0] == "female" and "survived" not in typed and "who" not in typed


def test_typed_sample_refuses_missing_features_small_samples_and_bad_values(titanic):
    train, sample = titanic
    with pytest.raises(DataError, match=r"the sample lacks 2 training feature\(s\): 'fare', 'deck'\. It must hold "
                                        r"every feature the model is trained on \(9\)"):
        typed_sample(sample.drop(columns=["fare", "deck"]), train.columns)
    with pytest.raises(DataError, match=f"the sample has {MIN_ROWS - 1} rows; adversarial validation needs at "
                                        f"least {MIN_ROWS}"):
        typed_sample(sample.head(MIN_ROWS - 1), train.columns)
    bad = sample.astype({"age": object})
    bad.loc[3, "age"] = "old"
    with pytest.raises(DataError, match=r"^evaluate.adversarial.data: column 'age' should be numeric but 1 "
                                        r"value\(s\) cannot be read as such \(e.g. 'old'\)"):
        typed_sample(bad, train.columns)


def test_check_sample_is_none_without_the_section(titanic):
    recipe = validate_config(yaml.safe_load(TITANIC_M))
    assert check_sample(recipe, DATA, titanic[0].columns) is None


def test_rows_of_the_same_table_are_similar(titanic):
    train, sample = titanic
    out = adversarial_validation(SECTION, train.X, typed_sample(sample, train.columns), train.columns, seed=0)
    assert out["auc"] < 0.6 and out["verdict"] == "similar"
    assert out["rows"] == {"train": 150, "sample": 150, "sample_read": 200, "shared": out["rows"]["shared"]}
    assert out["folds"] == 3 and len(out["auc_folds"]) == 3 and out["source"] == "csv"
    assert sorted(f["feature"] for f in out["features"]) == sorted(train.columns.features)
    assert sum(f["importance"] for f in out["features"]) == pytest.approx(1.0, abs=1e-5)


def test_a_shifted_column_is_separable_and_named_first(titanic):
    train, sample = titanic
    shifted = sample.assign(fare=sample["fare"] * 3 + 50)
    columns = dataclasses.replace(train.columns, datetime=["boarded"])  # datetimes are left out
    out = adversarial_validation(SECTION, train.X, typed_sample(shifted, columns), columns, seed=0)
    assert out["auc"] > 0.8 and out["verdict"] == "separable"
    assert out["top_features"][0] == "fare" and out["features"][0]["psi"] > 1
    assert out["left_out"] == {"boarded": "datetime"}
    assert out["thresholds"] == {"similar_below": 0.6, "separable_from": 0.8}


def test_no_comparable_feature_is_refused():
    only_dates = Columns(datetime=["when"])
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=30)})
    with pytest.raises(DataError, match="the run has no numeric, boolean or categorical feature to compare"):
        adversarial_validation(SECTION, frame, frame, only_dates, seed=0)
