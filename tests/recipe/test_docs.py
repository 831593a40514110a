"""The README documents every recipe key (generated from the schema) and is current."""

from __future__ import annotations

from mlengine.recipe.docs import END, START, render, rows
from mlengine.recipe.schema import Recipe

from tests.conftest import ROOT


def test_readme_key_reference_is_current():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(START): text.index(END) + len(END)]
    assert section == render(), "run: python -m mlengine.recipe.docs --write README.md"


def test_every_key_has_a_description():
    missing = [key for key, _, _, desc in rows(Recipe) if not desc.strip()]
    assert not missing, missing


def test_readme_puts_the_two_setup_commands_first():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_code = text[text.index("```"):]
    assert first_code.index("make demo") < first_code.index("make test") < 300
