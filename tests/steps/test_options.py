"""foreign_params: a key set for another option than the chosen one is a problem naming the options that take it."""

from __future__ import annotations

from pydantic import BaseModel

from mlengine.steps.options import foreign_params

PARAMS = {"smote": ("k_neighbors",), "random_under": ("replacement",), "none": ()}


class Section(BaseModel):
    method: str = "none"
    k_neighbors: int | None = None
    replacement: bool | None = None


def test_a_key_of_another_option_is_named_with_its_owner():
    problems = foreign_params(Section(method="random_under", k_neighbors=3), "resample", "method", PARAMS)
    assert [(p.path, p.message) for p in problems] == [
        ("resample.k_neighbors", "does not apply to method 'random_under'; it is a parameter of smote.")]


def test_keys_of_the_chosen_option_and_unset_keys_pass():
    assert foreign_params(Section(method="smote", k_neighbors=3), "resample", "method", PARAMS) == []
    assert foreign_params(Section(method="none", k_neighbors=None), "resample", "method", PARAMS) == []
