"""CorrelationFilter (mlengine/steps/correlation.py): one feature of each highly correlated pair is dropped, the
later one; constant and NaN-holding columns are handled; it behaves as a scikit-learn selector."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from mlengine.steps.correlation import CorrelationFilter

from tests.conftest import DATA


def test_the_later_feature_of_a_correlated_pair_is_dropped():
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    X = np.column_stack([a, rng.normal(size=300), 2 * a + rng.normal(scale=0.01, size=300), -a])
    sel = CorrelationFilter(threshold=0.95).fit(X)
    assert sel.get_support().tolist() == [True, True, False, False]  # |corr| counts: -a goes too
    assert sel.transform(X).shape == (300, 2)
    assert CorrelationFilter(threshold=0.9999999).fit(X).get_support().tolist() == [True, True, True, False]


def test_greedy_against_kept_features_only():
    # b correlates with a, c with b but not with a: dropping b keeps c
    rng = np.random.default_rng(1)
    a, n = rng.normal(size=2000), rng.normal(size=2000)
    b = a + n
    X = np.column_stack([a, b, n])  # corr(a, b) ~ 0.71, corr(b, n) ~ 0.71, corr(a, n) ~ 0
    assert CorrelationFilter(threshold=0.6).fit(X).get_support().tolist() == [True, False, True]


def test_constant_and_missing_values():
    X = np.array([[1.0, 5.0, 1.0], [2.0, 5.0, np.nan], [3.0, 5.0, 3.0], [4.0, 5.0, 4.0]])
    sel = CorrelationFilter().fit(X)
    assert sel.get_support().tolist() == [True, True, False]  # constant kept; pairwise-complete corr(a, c) = 1
    assert np.isnan(sel.transform(X)).sum() == 0 and sel.transform(X).shape == (4, 2)


def test_spearman_catches_monotone_pairs_pearson_does_not():
    x = np.linspace(1, 10, 200)
    X = np.column_stack([x, np.exp(x)])
    assert CorrelationFilter(0.95, "spearman").fit(X).get_support().tolist() == [True, False]
    assert CorrelationFilter(0.95, "pearson").fit(X).get_support().tolist() == [True, True]


def test_a_scikit_learn_selector_with_feature_names():
    wine = pd.read_csv(DATA / "wine_quality_white.csv").drop(columns="quality")
    sel = clone(CorrelationFilter(threshold=0.8)).fit(wine)
    names = sel.get_feature_names_out().tolist()
    assert set(names) < set(wine.columns) and "density" not in names  # density ~ residual sugar (0.84)
    assert pickle.loads(pickle.dumps(sel)).get_support().tolist() == sel.get_support().tolist()
    with pytest.raises(ValueError):
        sel.transform(wine.iloc[:, :3])
