"""mlengine.data.table: type inference per column, casting with readable refusals, the task and positive class
from the target, and prepare_table's roles, checks and notes on the titanic table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from mlengine.data.table import (
    Columns,
    as_category,
    choose_pos_label,
    coerce_column,
    infer_kind,
    infer_task,
    prepare_table,
)
from mlengine.errors import DataError
from mlengine.recipe.validate import validate_config

from tests.conftest import DATA, TITANIC


def _recipe(**data_keys):
    config = yaml.safe_load(TITANIC)
    config["data"].update(data_keys)
    return validate_config(config)


@pytest.fixture(scope="module")
def titanic():
    return pd.read_csv(DATA / "titanic.csv", nrows=200)


def test_infer_kind_per_column():
    assert infer_kind(pd.Series([True, False])) == "boolean"
    assert infer_kind(pd.Series(["TRUE", "false", None])) == "boolean"
    assert infer_kind(pd.Series([1.5, 2.0])) == "numeric"
    assert infer_kind(pd.Series(["2024-01-02", "2024-02-03 10:00"])) == "datetime"
    assert infer_kind(pd.Series(["3/4/2024", "12/31/2023"])) == "datetime"
    assert infer_kind(pd.Series(["red", "blue"])) == "categorical"


def test_coerce_column_casts_and_refuses_unreadable_values():
    assert coerce_column(pd.Series(["yes", "no", None]), "boolean", "b").tolist()[:2] == [1.0, 0.0]
    assert coerce_column(pd.Series([1, 2]), "numeric", "n").dtype == "float64"
    with pytest.raises(DataError, match=r"column 'n' should be numeric but 2 value\(s\) cannot be read as such "
                                        r"\(e.g. 'x', 'y'\). Fix the data or set data.schema.n.dtype."):
        coerce_column(pd.Series(["1", "x", "y"]), "numeric", "n")
    codes = as_category(pd.Series([1.0, 2.0, np.nan]))  # integral floats print without '.0', missing stays missing
    assert codes.tolist()[:2] == ["1", "2"] and codes.isna().tolist() == [False, False, True]
    assert Columns(numeric=["a"], boolean=["b"]).kind_of("b") == "boolean"


def test_infer_task_and_positive_class():
    assert infer_task(pd.Series([0, 1, 1]))[0] == "binary"
    assert infer_task(pd.Series(["a", "b", "c"])) == ("multiclass", "target has 3 distinct non-numeric values")
    assert infer_task(pd.Series(list(range(5)) * 20))[0] == "multiclass"
    assert infer_task(pd.Series(np.linspace(0, 1, 50)))[0] == "regression"
    assert choose_pos_label(pd.Series(["no", "yes", "no"]), None)[0] == "yes"
    assert choose_pos_label(pd.Series(["a", "b", "a"]), None) == (
        "b", "positive class 'b' (the minority class; set data.positive_class to change)")
    with pytest.raises(DataError, match=r"data.positive_class: 'c' is not among the target's values"):
        choose_pos_label(pd.Series(["a", "b"]), "c")


def test_prepare_table_types_titanic_columns_and_infers_a_binary_task(titanic):
    data = prepare_table(titanic, _recipe())
    assert data.columns.as_dict() == {"numeric": ["pclass", "age", "sibsp", "parch", "fare"],
                                      "categorical": ["sex", "embarked", "deck"], "boolean": ["alone"],
                                      "datetime": []}
    assert (data.task, data.classes, data.pos_label) == ("binary", [0, 1], 1)
    assert data.X.shape == (200, 9) and data.y.dtype == "int64" and data.ids is None
    assert "task binary: target has 2 distinct values" in data.notes
    assert data.warnings == []


def test_prepare_table_warns_about_a_target_copy(titanic):
    data = prepare_table(titanic, _recipe(drop=["who", "adult_male", "class", "embark_town"]))
    assert "alive" in data.columns.categorical
    assert data.warnings == ["column 'alive' determines the target: every value of it goes with one class. A leak "
                             "(a copy or a consequence of the target)? Add it to data.drop unless it is known when "
                             "predicting."]


def test_prepare_table_refuses_missing_targets_names_and_stray_text(titanic):
    holes = titanic.astype({"survived": float})
    holes.loc[:4, "survived"] = np.nan
    with pytest.raises(DataError, match="5 of 200 rows have no value in 'survived'"):
        prepare_table(holes, _recipe())
    kept = prepare_table(holes, _recipe(missing_target="drop"))
    assert len(kept.y) == 195 and kept.notes[0] == "dropped 5 rows with a missing target (data.missing_target: drop)"
    with pytest.raises(DataError, match=r"data.drop\[0\]: column 'aliv' is not in the data. Did you mean 'alive'"):
        prepare_table(titanic, _recipe(drop=["aliv"]))
    stray = titanic.astype({"fare": object})
    stray.loc[:9, "fare"] = "?"
    with pytest.raises(DataError, match=r"column 'fare' is numeric in 95.0% of its rows but holds 10 text value\(s\): "
                                        r"'\?' \(10x\)"):
        prepare_table(stray, _recipe())


def test_prepare_table_reads_infinities_as_missing_only_when_asked(titanic):
    inf = titanic.copy()
    inf.loc[0, "fare"] = np.inf
    with pytest.raises(DataError, match="data.inf: column\\(s\\) 'fare' hold infinite values"):
        prepare_table(inf, _recipe())
    data = prepare_table(inf, _recipe(inf="missing"))
    assert np.isnan(data.X.loc[0, "fare"]) and "infinite values read as missing in fare (data.inf: missing)" in data.notes
