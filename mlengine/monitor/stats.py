"""Drift statistics on binned distributions: PSI, KS from the reference CDF sketch, chi-square, Jensen-Shannon.

PSI smoothing: each bin's share is (count + 0.5) / (n + 0.5 * k), so an empty bin on either side gives a finite
value. KS: the reference keeps its exact CDF at 51 quantile points (no raw rows), so D is the largest CDF gap at
those points (a lower bound of the full-sample D, tight to within ~2% of the mass), and its p-value is the
asymptotic two-sample Kolmogorov distribution with n*m/(n+m).
"""

from __future__ import annotations

from typing import Any

import numpy as np

SMOOTHING = 0.5


def shares(counts: Any) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    return (c + SMOOTHING) / (c.sum() + SMOOTHING * len(c))


def psi(ref_counts: Any, new_counts: Any) -> float:
    """Population stability index of two count vectors over the same bins."""
    p, q = shares(ref_counts), shares(new_counts)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(ref_counts: Any, new_counts: Any) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) of the two binned distributions."""
    from scipy.spatial.distance import jensenshannon

    p = np.asarray(ref_counts, dtype=float)
    q = np.asarray(new_counts, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2))


def ks_from_sketch(sketch: list[float], sketch_cdf: list[float], n_ref: int, new_sorted: np.ndarray
                   ) -> tuple[float, float]:
    """(D, p-value) of new values (sorted, no NaN) against the reference CDF sketch."""
    from scipy.stats import kstwobign

    m = len(new_sorted)
    if m == 0 or not sketch or n_ref == 0:
        return float("nan"), float("nan")
    new_cdf = np.searchsorted(new_sorted, np.asarray(sketch), side="right") / m
    d = float(np.max(np.abs(new_cdf - np.asarray(sketch_cdf))))
    en = np.sqrt(n_ref * m / (n_ref + m))
    return d, float(kstwobign.sf(d * en))


def chi_square(ref_counts: Any, new_counts: Any) -> tuple[float, float]:
    """(statistic, p-value) of the 2 x k contingency table (bins empty on both sides dropped)."""
    from scipy.stats import chi2_contingency

    table = np.vstack([np.asarray(ref_counts, dtype=float), np.asarray(new_counts, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    stat, p, _, _ = chi2_contingency(table, correction=False)
    return float(stat), float(p)
