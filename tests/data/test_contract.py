"""The data contract (data.schema): every kind of violation counted, acted on at load, stored and checked at predict."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import mlengine
from mlengine.data.contract import check_frame
from mlengine.errors import DataError

from tests.conftest import DATA, read_json
from tests.data_helpers import FAST, SCHEMA, titanic_with


@pytest.fixture
def broken_titanic():
    """The bundled Titanic table with known faults: one of each kind the contract can catch."""
    df = pd.read_csv(DATA / "titanic.csv")
    df.loc[3, "age"] = -2.0  # ge
    df.loc[[5, 6], "fare"] = [600.0, 9000.0]  # le
    df.loc[7, "sex"] = "X"  # isin
    df.loc[[8, 9, 10], "embarked"] = None  # nullable (2 already missing in the data)
    df.loc[11, "deck"] = "Z9"  # regex
    df["pclass"] = df["pclass"].astype(object)
    df.loc[12, "pclass"] = "first"  # dtype int
    df["passenger"] = range(len(df))
    df.loc[[13, 14], "passenger"] = 0  # unique: row 0 has it first
    return df


SPEC = {"age": {"ge": 0, "le": 100}, "fare": {"le": 520}, "sex": {"isin": ["male", "female"]},
        "embarked": {"nullable": False, "isin": ["S", "C", "Q"]}, "deck": {"regex": "[A-G]"},
        "pclass": {"dtype": "int", "isin": [1, 2, 3]}, "passenger": {"unique": True}, "alone": {"dtype": "bool"}}


def test_every_violation_kind_is_counted_with_examples(broken_titanic):
    result = check_frame(broken_titanic, SPEC)
    found = {(v.column, v.rule): v for v in result.violations}
    assert set(found) == {("age", "ge"), ("fare", "le"), ("sex", "isin"), ("embarked", "nullable"),
                          ("deck", "regex"), ("pclass", "dtype"), ("pclass", "isin"), ("passenger", "unique")}
    assert found["age", "ge"].count == 1 and found["age", "ge"].examples == ["-2"]
    assert found["fare", "le"].count == 2 and found["fare", "le"].examples == ["600", "9000"]
    assert found["sex", "isin"].examples == ["'X'"]
    assert found["embarked", "nullable"].count == 5 and found["embarked", "nullable"].examples == []
    assert found["deck", "regex"].examples == ["'Z9'"]
    assert found["pclass", "dtype"].count == 1 and found["pclass", "dtype"].examples == ["'first'"]
    assert found["passenger", "unique"].count == 2  # repeats after the first occurrence
    assert set(result.bad_rows) == {3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 61, 829}  # 61, 829: embarked missing
    text = result.summary()
    assert "data.schema.fare.le=520: 2 row(s) fail, e.g. 600, 9000" in text
    assert "data.schema.embarked.nullable=False: 5 missing value(s)" in text


def test_examples_are_capped_at_five(broken_titanic):
    result = check_frame(broken_titanic, {"fare": {"le": 10}})
    (v,) = result.violations
    assert v.count == int((broken_titanic["fare"] > 10).sum()) and len(v.examples) == 5


def test_clean_data_passes_every_rule():
    df = pd.read_csv(DATA / "titanic.csv")
    spec = {k: v for k, v in SPEC.items() if k != "passenger"} | {"embarked": {"isin": ["S", "C", "Q"]}}
    assert check_frame(df, spec).ok


def _recipe(write_recipe, tmp_path, df: pd.DataFrame, data_keys: str):
    (tmp_path / "data").mkdir(exist_ok=True)
    df.to_csv(tmp_path / "data" / "t.csv", index=False)
    return write_recipe(titanic_with(data_keys, "t.csv"), files=())


def test_run_fails_listing_every_violation(cli, write_recipe, tmp_path, runs_dir, broken_titanic):
    path = _recipe(write_recipe, tmp_path, broken_titanic.drop(columns="passenger"), SCHEMA)
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json")
    assert code == 2 and "Traceback" not in err
    for key in ("data.schema.age.ge=0: 1 row", "data.schema.fare.le=520: 2 row", "data.schema.sex.isin",
                "data.schema.pclass.dtype='int': 1 row", "data.on_violation"):
        assert key in err
    status = read_json(f"{json.loads(out)['run_dir']}/status.json")
    assert status["status"] == "failed" and status["error"]["user_error"]


def test_drop_rows_removes_offending_rows_before_the_split(cli, write_recipe, tmp_path, runs_dir, broken_titanic):
    path = _recipe(write_recipe, tmp_path, broken_titanic.drop(columns="passenger"),
                   SCHEMA + "  on_violation: drop_rows\n")
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", *FAST)
    assert code == 0, err
    m = read_json(f"{json.loads(out)['run_dir']}/metrics.json")
    assert m["contract"]["rows_dropped"] == 5 and m["contract"]["on_violation"] == "drop_rows"
    assert m["rows"]["train"] + m["rows"]["holdout"] == 891 - 5


def test_warn_keeps_rows_and_records_violations(cli, write_recipe, tmp_path, runs_dir, broken_titanic):
    df = broken_titanic.drop(columns="passenger")
    df.loc[12, "pclass"] = 3  # leave only violations a model can still read
    path = _recipe(write_recipe, tmp_path, df, SCHEMA + "  on_violation: warn\n")
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", *FAST)
    assert code == 0, err
    m = read_json(f"{json.loads(out)['run_dir']}/metrics.json")
    assert m["contract"]["rows_dropped"] == 0 and not m["contract"]["passed"]
    assert {(v["column"], v["rule"]) for v in m["contract"]["violations"]} == {("age", "ge"), ("fare", "le"),
                                                                               ("sex", "isin")}
    assert m["rows"]["train"] + m["rows"]["holdout"] == 891


def test_schema_naming_a_missing_column(cli, write_recipe):
    path = write_recipe(titanic_with("  schema:\n    fares: {ge: 0}\n"))
    code, _, err = cli("run", path, "--runs-dir", str(path.parent / "runs"))
    assert code == 2
    assert "data.schema.fares: column 'fares' is not in the data. Did you mean 'fare'?" in err


@pytest.mark.parametrize("rule, message", [
    ("{ge: 5, le: 1}", "ge (5) is greater than le (1)"),
    ("{regex: '[a-'}", "is not a valid regular expression"),
    ("{dtype: category, ge: 0}", "ge/le apply to numbers"),
    ("{nullable: maybe}", "data.schema.age.nullable"),
])
def test_bad_rules_are_recipe_errors(cli, write_recipe, rule, message):
    code, _, err = cli("validate", write_recipe(titanic_with(f"  schema:\n    age: {rule}\n")), "--no-data")
    assert code == 2 and message in err and "Traceback" not in err


def test_contract_is_stored_and_checked_at_predict(write_recipe, runs_dir):
    path = write_recipe(titanic_with(SCHEMA))
    result = mlengine.run(path, overrides=FAST, runs_dir=runs_dir)
    bundle = read_json(result.run_dir / "model.json")
    assert bundle["data_checks"]["contract"]["age"] == {"ge": 0.0, "le": 100.0}
    assert bundle["data_checks"]["on_violation"] == "fail"
    model = mlengine.load_model(result.run_dir)
    rows = pd.read_csv(DATA / "titanic.csv").head(10)
    assert len(model.predict(rows)) == 10
    bad = rows.copy()
    bad.loc[2, "age"] = 150
    bad.loc[4, "sex"] = "unknown"
    with pytest.raises(DataError, match=r"predict input: 2 contract check\(s\) failed.*data.schema.age.le=100"):
        model.predict(bad)
    assert {v.rule for v in model.check(bad).violations} == {"le", "isin"}
    # the target is not an input: its rules are not applied to prediction rows
    assert model.check(rows.drop(columns="survived")).ok


def test_warn_at_predict_predicts_every_row(write_recipe, runs_dir):
    path = write_recipe(titanic_with("  on_violation: drop_rows\n" + SCHEMA))
    result = mlengine.run(path, overrides=FAST, runs_dir=runs_dir)
    model = mlengine.load_model(result.run_dir)
    bad = pd.read_csv(DATA / "titanic.csv").head(10)
    bad.loc[2, "age"] = -1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(model.predict_proba(bad)) == 10
    assert any("data.schema.age.ge=0" in str(w.message) for w in caught)


def test_examples_from_personal_columns_are_masked():
    df = pd.DataFrame({"email": [f"user{i}@example.com" for i in range(30)] + ["not-an-email"],
                       "age": list(range(31))})
    result = check_frame(df, {"email": {"regex": r"[^@]+@[^@]+\.com"}, "age": {"le": 29}})
    found = {v.column: v for v in result.violations}
    assert found["email"].examples == ["n******l"] and found["age"].examples == ["30"]
