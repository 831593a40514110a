"""`mlengine profile`: data dictionary, inferred schema, PII warnings and plots for every recipe in recipes/."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.conftest import RECIPES, TITANIC, read_json
from tests.data_helpers import _people, titanic_with


@pytest.mark.slow
@pytest.mark.parametrize("recipe", sorted(p.name for p in RECIPES.glob("*.yaml")))
def test_profile_every_recipe(cli, tmp_path, recipe):
    code, out, err = cli("profile", RECIPES / recipe, "-o", tmp_path / "p")
    assert code == 0, err
    files = {p.name for p in (tmp_path / "p").iterdir()}
    assert files == {"profile.html", "data_dictionary.md", "profile.json"}
    html = (tmp_path / "p" / "profile.html").read_text()
    assert html.count('<img data-plot="1"') >= 4 and "http://" not in html and "https://" not in html
    prof = read_json(tmp_path / "p" / "profile.json")
    assert prof["pii"] == [] and prof["possible_leaks"] == []
    md = (tmp_path / "p" / "data_dictionary.md").read_text()
    assert all(f"`{c['name']}`" in md for c in prof["columns"])


def test_dictionary_content_and_seasonality(cli, tmp_path):
    code, out, err = cli("profile", RECIPES / "nyc_taxis_tip.yaml", "-o", tmp_path, "--json")
    assert code == 0, err
    prof = json.loads(out)
    cols = {c["name"]: c for c in prof["columns"]}
    assert prof["rows"] == 6433 and prof["task"] == "regression" and prof["time_column"] == "pickup"
    assert cols["pickup"]["kind"] == "datetime" and cols["pickup"]["description"] == "pickup date and time"
    assert cols["total"]["role"] == "dropped" and cols["tip"]["role"] == "target"
    assert cols["payment"]["kind"] == "categorical" and cols["payment"]["distinct"] == 2
    assert cols["payment"]["top"][0] == ["credit card", 4577]
    assert cols["fare"]["association_measure"] == "spearman" and cols["fare"]["association"] > 0.2
    html = (tmp_path / "profile.html").read_text()
    assert 'id="seasonality"' in html and 'alt="seasonality"' in html


def test_titanic_dictionary_and_leak(cli, write_recipe, tmp_path):
    path = write_recipe(TITANIC.replace("drop: [alive, who, adult_male, class, embark_town]", "drop: []"))
    code, out, err = cli("profile", path, "-o", tmp_path / "p", "--json")
    assert code == 0, err
    prof = json.loads(out)
    cols = {c["name"]: c for c in prof["columns"]}
    assert cols["age"]["missing"] == 177 and cols["age"]["missing_pct"] == 19.87
    assert cols["deck"]["distinct"] == 7 and cols["alone"]["kind"] == "boolean"
    assert prof["target_balance"]["classes"] == {"0": 549, "1": 342}
    assert "alive" in prof["possible_leaks"]  # the target in words
    assert cols["sex"]["association_measure"] == "cramers_v" and cols["sex"]["association"] > 0.5


def test_inferred_schema_round_trips_into_a_passing_contract(cli, write_recipe, tmp_path):
    code, out, err = cli("profile", write_recipe(TITANIC), "-o", tmp_path / "p", "--write-schema")
    assert code == 0, err
    block = (tmp_path / "p" / "schema.yaml").read_text()
    assert block in out and block.startswith("# data.schema inferred")
    schema = yaml.safe_load(block)["schema"]
    assert schema["sex"] == {"dtype": "category", "nullable": False, "isin": ["female", "male"], "description": ""}
    assert schema["age"] == {"dtype": "float", "ge": 0, "description": ""}
    assert schema["pclass"] == {"dtype": "int", "nullable": False, "ge": 0, "description": ""}
    indented = "".join("  " + line + "\n" for line in block.splitlines() if not line.startswith("#"))
    code, out, err = cli("validate", write_recipe(titanic_with(indented), name="with_schema.yaml"))
    assert code == 0, err
    assert re.search(r"data contract: \d+ checks, all passed", out)


def test_profile_warns_about_personal_data_and_succeeds(cli, write_recipe, tmp_path):
    df = _people(tmp_path)
    code, out, err = cli("profile", write_recipe(titanic_with("", "people.csv"), files=()), "-o", tmp_path / "p")
    assert code == 0, err
    assert "personal data? email" in err and "personal data? contact" in err
    html = (tmp_path / "p" / "profile.html").read_text()
    assert "A run fails until the recipe decides" in html
    assert not any(v in html for v in df["email"].head(50))


def test_profile_of_an_empty_table(cli, write_recipe, tmp_path):
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "empty.csv").write_text("survived,age,sex\n")
    code, _, err = cli("profile", write_recipe(TITANIC.replace("titanic.csv", "empty.csv").replace(
        "drop: [alive, who, adult_male, class, embark_town]", "drop: []"), files=()), "-o", tmp_path / "p")
    assert code == 2 and "empty table (0 rows, 3 columns)" in err and "Traceback" not in err
