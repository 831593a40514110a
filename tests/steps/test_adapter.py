"""FrameAdapter (mlengine/steps/adapter.py): the raw table typed as at training, datetimes expanded, missing
categories as "", required columns checked; stateless, so it learns nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.errors import DataError
from mlengine.steps.adapter import MISSING_CATEGORY, FrameAdapter

RAW = pd.DataFrame({"age": ["22", "38", None], "alone": ["yes", "no", "true"], "deck": ["C", None, "E"],
                    "when": ["2024-01-31", "2024-02-29 10:00", None], "extra": [1, 2, 3]})


def _adapter():
    return FrameAdapter(numeric=["age"], categorical=["deck"], boolean=["alone"], datetime=["when"],
                        datetime_features=("year", "month", "dayofweek"))


def test_columns_are_typed_expanded_and_ordered():
    out = _adapter().fit(RAW).transform(RAW)
    assert list(out.columns) == ["age", "alone", "when__year", "when__month", "when__dayofweek", "deck"]
    assert out["age"].tolist()[:2] == [22.0, 38.0] and np.isnan(out["age"].iloc[2])
    assert out["alone"].tolist() == [1.0, 0.0, 1.0]
    assert out["when__month"].tolist()[:2] == [1.0, 2.0] and out["when__dayofweek"].iloc[0] == 2.0  # a Wednesday
    assert out["deck"].tolist() == ["C", MISSING_CATEGORY, "E"]
    assert "extra" not in out.columns and (out.index == RAW.index).all()
    assert _adapter().get_feature_names_out().tolist() == list(out.columns)


def test_fit_learns_nothing():
    a, b = _adapter().fit(RAW), _adapter().fit(RAW.iloc[:1])
    pd.testing.assert_frame_equal(a.transform(RAW), b.transform(RAW))
    assert a.feature_names_in_.tolist() == ["age", "alone", "when", "deck"] and a.n_features_in_ == 4


def test_bad_input_names_what_is_wrong():
    adapter = _adapter().fit(RAW)
    with pytest.raises(DataError, match=r"missing 2 required column\(s\): age, deck"):
        adapter.transform(RAW.drop(columns=["age", "deck"]))
    with pytest.raises(DataError, match=r"\(a pandas DataFrame\); got ndarray"):
        adapter.transform(RAW.to_numpy())
    with pytest.raises(DataError, match="column 'age' should be numeric.*'old'"):
        adapter.transform(RAW.assign(age=["old", "1", "2"]))
