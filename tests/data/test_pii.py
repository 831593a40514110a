"""The PII scan: what it finds, what it must not flag, what it never prints, and what a run does about it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mlengine
from mlengine.data.pii import hash_value, luhn_ok, mask, name_says_personal, scan_column, scan_table

from tests.conftest import DATA, read_json
from tests.data_helpers import FAST, _people, titanic_with

EMAILS = ["john.smith@example.com", "a.b@mail.co.uk", "zoe+news@sub.example.org"]
PHONES = ["+44 20 7946 0958", "(555) 123-4567", "555-123-4567", "0049 30 1234567"]
CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009", "4012888888881881"]
IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "NL91ABNA0417164300"]
IPS = ["192.168.0.1", "10.0.0.254", "2001:db8::1", "8.8.8.8"]
NATIONAL = ["123-45-6789", "078-05-1120", "AB123456C"]


def _kinds(values, name="col"):
    return {f.kind for f in scan_column(name, pd.Series(values * 5), min_share=0.05)}


@pytest.mark.parametrize("values, kind", [(EMAILS, "email"), (PHONES, "phone"), (CARDS, "card"), (IBANS, "iban"),
                                          (IPS, "ip"), (NATIONAL, "national_id")])
def test_each_detector_finds_its_kind_alone(values, kind):
    assert _kinds(values) == {kind}


def test_cards_stored_as_numbers_and_pii_inside_text():
    assert _kinds([4111111111111111, 5500000000000004, 4012888888881881]) == {"card"}
    assert _kinds(["please call +1 415 555 0100 tomorrow", "write to jo@example.com", "fine", "ok"]) >= {
        "phone", "email"}


def test_checksums_reject_lookalikes():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    rng = np.random.default_rng(0)  # random 16-digit identifiers pass Luhn only by chance (~10%)
    ids = [str(v) for v in rng.integers(10**15, 10**16 - 1, 500)]
    assert _kinds(ids) == set()
    assert _kinds(["GB82 WEST 1234 5698 7654 33"]) == set()  # wrong IBAN check digits


@pytest.mark.parametrize("values", [
    ["2019-03-23 20:21:09", "2020-01-01", "12/03/2020", "10:15:00"],  # dates and times
    ["12.345678", "1,234,567.89", "3.14", "100000000"],  # numbers as text
    ["1.2.3", "v2.10.4", "Manhattan", "credit card"],  # versions, words
])
def test_no_false_positives_on_ordinary_values(values):
    assert _kinds(values) == set()


def test_column_names_that_say_personal_data():
    for name in ("email", "E-mail", "customerName", "first_name", "phone_number", "home_address", "ssn", "dob",
                 "name", "ip_address"):
        assert name_says_personal(name), name
    for name in ("product_name", "zone", "pickup_borough", "embark_town", "filename", "species", "island"):
        assert name_says_personal(name) is None, name
    assert _kinds([f"Person {i}" for i in range(20)], "customer_name") == {"name"}
    assert _kinds([0, 1], "is_mobile") == set()  # a flag named like a phone is not a phone number


@pytest.mark.parametrize("csv", sorted(p.name for p in DATA.glob("*.csv")))
def test_bundled_datasets_have_no_findings(csv):
    assert scan_table(pd.read_csv(DATA / csv, low_memory=False)) == []


def test_masks_never_show_the_value():
    for values, kind in [(EMAILS, "email"), (PHONES, "phone"), (CARDS, "card"), (IBANS, "iban"), (IPS, "ip"),
                         (NATIONAL, "national_id")]:
        for v in values:
            m = mask(v, kind)
            assert v not in m and sum(ch.isalnum() for ch in m) <= 5, (v, m)  # e.g. j***@e***.com
    assert mask("john.smith@example.com", "email") == "j***@e***.com"


def test_run_fails_by_default_and_never_prints_the_values(cli, write_recipe, tmp_path, runs_dir):
    df = _people(tmp_path)
    code, out, err = cli("run", write_recipe(titanic_with("", "people.csv"), files=()), "--runs-dir", runs_dir,
                         "--json")
    assert code == 2 and "Traceback" not in err
    assert "data.pii: 2 column(s) look like personal data" in err
    assert "'email' (e-mail addresses in 100%" in err and "'contact' (phone numbers in 100%" in err
    assert "data.pii.action: drop, hash or allow" in err
    assert not any(v in err for v in df["email"]) and not any(v in err for v in df["contact"])
    assert read_json(f"{json.loads(out)['run_dir']}/status.json")["error"]["user_error"]


def test_allow_list_and_drop_columns_do_not_fail(cli, write_recipe, tmp_path, runs_dir):
    _people(tmp_path)
    path = write_recipe(titanic_with("  pii: {allow: [contact]}\n", "people.csv").replace(
        "drop: [alive,", "drop: [email, alive,"), files=())
    code, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", *FAST)
    assert code == 0, err
    pii = read_json(f"{json.loads(out)['run_dir']}/metrics.json")["pii"]
    assert pii["in_dropped_columns"] == ["email"] and [f["column"] for f in pii["findings"]] == ["email"]


def test_drop_removes_the_columns_from_the_model(write_recipe, tmp_path, runs_dir):
    _people(tmp_path)
    result = mlengine.run(write_recipe(titanic_with("  pii: {action: drop}\n", "people.csv"), files=()),
                          overrides=FAST, runs_dir=runs_dir)
    assert result.metrics["pii"]["dropped"] == ["email", "contact"]
    inputs = [c["name"] for c in read_json(result.run_dir / "model.json")["inputs"]]
    assert "email" not in inputs and "contact" not in inputs


def test_hash_keeps_raw_values_out_of_the_artifacts_and_applies_at_predict(write_recipe, tmp_path, runs_dir):
    df = _people(tmp_path)
    df["email"] = [f"user{i % 40}@example.com" for i in range(len(df))]  # a categorical the model can use
    df.to_csv(tmp_path / "data" / "people.csv", index=False)
    result = mlengine.run(write_recipe(titanic_with("  pii: {action: hash}\n", "people.csv"), files=()),
                          overrides=FAST, runs_dir=runs_dir)
    assert result.metrics["pii"]["hashed"] == ["email", "contact"]
    text = (result.run_dir / "model.json").read_text()
    assert "@example.com" not in text and hash_value("user1@example.com") in text
    model = mlengine.load_model(result.run_dir)
    rows = df.head(30)
    hashed = rows.assign(email=rows["email"].map(hash_value), contact=rows["contact"].map(hash_value))
    assert (model.predict_proba(rows) == result.model.predict_proba(hashed)).all()


def test_drop_cannot_remove_a_role_column(cli, write_recipe, tmp_path, runs_dir):
    _people(tmp_path)
    path = write_recipe(titanic_with("  id: email\n  pii: {action: drop}\n", "people.csv"), files=())
    code, _, err = cli("run", path, "--runs-dir", runs_dir)
    assert code == 2 and "data.pii.action: drop cannot apply to 'email' (data.id)" in err
