"""Rule baselines: a pandas condition over raw columns, missing as false; a rule naming the target, an unknown
column, bad syntax or a non-boolean result is a data error naming the recipe key."""

from __future__ import annotations

import pandas as pd
import pytest

from mlengine.errors import DataError
from mlengine.evaluate.rules import evaluate_rule

FRAME = pd.DataFrame({"sex": ["female", "male", "female", None], "pclass": [1, 3, 3, 1], "survived": [1, 0, 0, 1]})
KEY = "evaluate.baselines[0].rule"


def test_a_rule_is_true_per_row_and_missing_is_false():
    hit = evaluate_rule("sex == 'female' and pclass < 3", FRAME, KEY, "survived")
    assert hit.tolist() == [True, False, False, False]


@pytest.mark.parametrize(("rule", "needle"), [
    ("survived == 1", "reads the target 'survived'"),
    ("sx == 'female'", "names 'sx', which is not a column. Did you mean 'sex'?"),
    ("pclass >>> 2", "is not a valid pandas expression"),
    ("pclass + 1", "not true/false"),
])
def test_bad_rules_name_the_key_and_the_fault(rule, needle):
    with pytest.raises(DataError) as err:
        evaluate_rule(rule, FRAME, KEY, "survived")
    assert str(err.value).startswith(KEY) and needle in str(err.value)
