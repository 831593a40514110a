"""profile_html (mlengine.report.profile_page): the sections of the profile page drawn from real tables (titanic,
NYC taxis) and their profile dict, the summary tiles, the data dictionary and the leak, PII and contract notices."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from mlengine.api import load_recipe
from mlengine.data.profile import profile_table, schema_yaml
from mlengine.report.profile_page import profile_html

from tests.conftest import DATA


def _profile(df: pd.DataFrame, target: str, **data) -> dict:
    recipe = load_recipe({"name": "p", "data": {"source": {"kind": "csv", "path": "x.csv"}, "target": target,
                                                **data}}).recipe
    return profile_table(df, recipe)


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', html)


def _section(html: str, sid: str) -> str:
    return re.search(rf'<section id="{sid}">(.*?)</section>', html, re.S).group(1)


@pytest.fixture(scope="module")
def titanic():
    df = pd.read_csv(DATA / "titanic.csv").head(200)[["survived", "sex", "age", "deck", "alive"]]
    profile = _profile(df, "survived")
    return df, profile, profile_html(df, profile, schema_yaml(profile["inferred_schema"], profile))


def test_a_classification_table_has_every_section_but_seasonality_and_contract(titanic):
    _, _, html = titanic
    assert _sections(html) == ["summary", "dictionary", "target", "quality", "distributions", "schema"]
    assert "<title>mlengine data profile: p</title>" in html
    assert '<div class="sub">200 rows · target survived · binary</div>' in html


def test_summary_tiles_count_columns_by_kind_and_missing_cells(titanic):
    _, _, html = titanic
    tiles = dict(re.findall(r'<div class="k">([^<]+)</div><div class="v">([^<]+)</div>', _section(html, "summary")))
    # age misses 41 of 200 rows, deck 160: 201 of 1000 cells
    assert tiles == {"rows": "200", "columns": "5", "target": "survived", "missing cells": "20.1%",
                     "personal data": "none found"}
    assert "2 numeric, 3 categorical" in html and "201 cells" in html


def test_the_leaky_column_is_flagged_and_the_dictionary_has_one_row_per_column(titanic):
    _, profile, html = titanic
    assert profile["possible_leaks"] == ["alive"]
    assert 'badge fail">possible leak</span> alive predict the target almost perfectly' in html
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", _section(html, "dictionary"))
    assert rows == [("survived", "target", "numeric"), ("sex", "feature", "categorical"),
                    ("age", "feature", "numeric"), ("deck", "feature", "categorical"),
                    ("alive", "feature", "categorical")]
    assert "male (129), female (71)" in html


def test_personal_data_and_a_failed_contract_are_shown(titanic):
    df, profile, _ = titanic
    found = {"column": "sex", "evidence": "looks like names", "examples": ["m***"]}
    failed = {"passed": False, "checks": 3, "violations": [{"column": "age", "rule": "min", "count": 4,
                                                             "examples": ["0.42", "0.83"]}]}
    html = profile_html(df, {**profile, "pii": [found], "contract": failed}, "data: {}\n")
    assert "1 finding(s)" in html
    assert "sex: looks like names (e.g. m***). A run fails until the recipe decides (data.pii)." in html
    assert _sections(html)[-2:] == ["contract", "schema"]
    assert "<td>data.schema.age.min</td><td class=\"num\">4</td><td>0.42, 0.83</td>" in _section(html, "contract")


def test_a_regression_table_with_a_time_column_gets_seasonality_and_no_missing_values_note():
    df = pd.read_csv(DATA / "nyc_taxis.csv").head(300)[["pickup", "distance", "fare"]]
    profile = _profile(df, "fare", time="pickup")
    html = profile_html(df, profile, schema_yaml(profile["inferred_schema"], profile))
    assert _sections(html) == ["summary", "dictionary", "target", "quality", "distributions", "seasonality",
                               "schema"]
    assert 'alt="target distribution"' in _section(html, "target")
    assert "No missing values in any column." in _section(html, "quality")
    assert "(time column: pickup)" in _section(html, "seasonality")
