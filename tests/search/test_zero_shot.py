"""FLAML's zero-shot start points in mlengine's parameter names; none for a model FLAML has no portfolio for."""

from __future__ import annotations

import pandas as pd

from mlengine.search.zero_shot import zero_shot_params

from tests.conftest import DATA


def test_lightgbm_suggestions_use_lightgbms_own_names():
    df = pd.read_csv(DATA / "titanic.csv")[["age", "fare", "pclass", "sibsp", "survived"]].dropna()
    out = zero_shot_params("lightgbm", "binary", df.drop(columns="survived"), df["survived"], k=2)
    assert 1 <= len(out) <= 2
    for params in out:
        assert "log_max_bin" not in params and "FLAML_sample_size" not in params
        assert "n_estimators" in params and (params.get("max_bin", 255) + 1) & params.get("max_bin", 255) == 0


def test_a_model_without_a_portfolio_gets_none():
    assert zero_shot_params("logistic_regression", "binary", None, None) == []
