"""Drift statistics: PSI and JS distance are zero for equal shares and grow with a shift; chi-square tests counts."""

from __future__ import annotations

import math

from mlengine.monitor.stats import chi_square, js_distance, psi, shares


def test_shares_are_smoothed_probabilities():
    s = shares([0, 10])
    assert math.isclose(s.sum(), 1.0) and math.isclose(s[0], 0.5 / 11)  # an empty bin stays finite


def test_psi_and_js_are_zero_for_the_same_shares_and_grow_with_a_shift():
    assert psi([10, 20, 30], [10, 20, 30]) == 0.0
    assert js_distance([10, 20, 30], [20, 40, 60]) < 1e-6
    small, large = psi([50, 50], [45, 55]), psi([50, 50], [10, 90])
    assert 0 < small < large
    assert js_distance([50, 50], [45, 55]) < js_distance([50, 50], [10, 90])


def test_chi_square_rejects_a_shifted_count_table():
    _, p_same = chi_square([100, 100], [100, 100])
    _, p_shift = chi_square([100, 100], [20, 180])
    assert p_same > 0.5 and p_shift < 1e-6
