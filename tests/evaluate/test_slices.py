"""Slice metrics: groups per value (many-valued numbers in quantile bins, rare values as (other), (missing)),
each scored on its own rows; an unknown slice column is a data error naming it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.errors import DataError
from mlengine.evaluate.slices import MAX_GROUPS, check_slices, slice_groups, slice_report


def test_groups_by_value_bin_other_and_missing():
    groups, kind = slice_groups(pd.Series(["a", "b", None, "a"]), bins=4)
    assert kind == "categorical" and list(groups) == ["a", "b", "(missing)", "a"]
    many = pd.Series([f"v{i}" for i in range(MAX_GROUPS + 5)] + ["v0"] * 10)
    assert "(other)" in set(slice_groups(many, bins=4)[0])
    groups, kind = slice_groups(pd.Series(np.arange(100.0)), bins=4)
    assert kind == "numeric, 4 quantile bins" and groups.nunique() == 4


def test_each_slice_is_scored_on_its_own_rows():
    values = pd.Series(["m"] * 40 + ["f"] * 40)
    y = np.array([1] * 40 + [0, 1] * 20)
    pred = np.array([1] * 40 + [1] * 40)
    out = slice_report(values, y, pred, None, ["accuracy"], classes=[0, 1], pos_label=1)
    by = {g["value"]: g for g in out["groups"]}
    assert by["m"]["accuracy"] == 1.0 and by["f"]["accuracy"] == 0.5 and by["f"]["positive_rate"] == 0.5


def test_an_unknown_slice_column_names_itself():
    with pytest.raises(DataError, match=r"evaluate.slices\[0\]: column 'sx'.*Did you mean 'sex'"):
        check_slices(["sx"], pd.DataFrame({"sex": [1]}))
