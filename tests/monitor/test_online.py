"""RollingDrift: the rolling-window PSI equals a direct PSI of the last `window` rows, batch by batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.data.table import Columns
from mlengine.monitor.compare import compare_profile
from mlengine.monitor.online import RollingDrift
from mlengine.monitor.reference import build_reference


@pytest.fixture(scope="module")
def reference() -> dict:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(["a", "b", "c"], size=3000, p=[0.5, 0.3, 0.2])})
    X.loc[::20, "x"] = np.nan
    return build_reference(X, Columns(numeric=["x"], categorical=["c"]), task="regression", classes=[],
                           pos_label=None)


def direct_psi(reference: dict, rows: pd.DataFrame) -> dict[str, float]:
    return {c: compare_profile(p, rows[c])["psi"] for c, p in reference["features"].items()}


def test_window_psi_matches_direct_computation(reference):
    rng = np.random.default_rng(2)
    stream = pd.DataFrame({"x": rng.normal(0.5, 1, size=2600), "c": rng.choice(["a", "b", "z"], size=2600)})
    stream.loc[::7, "x"] = np.nan
    roll = RollingDrift(reference, window=1000)
    assert all(np.isnan(v) for v in roll.psi().values())
    start = 0
    for size in [1, 37, 500, 999, 1000, 63]:  # small batches, a wrap, a batch as large as the window
        batch = stream.iloc[start:start + size]
        got = roll.update({c: batch[c].tolist() for c in batch})
        start += size
        window = stream.iloc[max(0, start - 1000):start]
        want = direct_psi(reference, window)
        assert roll.rows == len(window)
        assert got == pytest.approx(want, abs=1e-12)
    assert got["x"] > 0.1 and got["c"] > 0.25  # the stream is shifted


def test_unshifted_stream_stays_low_and_oversized_batch_keeps_the_tail(reference):
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b", "c"], size=5000, p=[0.5, 0.3, 0.2])})
    rows.loc[::20, "x"] = np.nan
    roll = RollingDrift(reference, window=2000)
    got = roll.update({c: rows[c].tolist() for c in rows})
    assert roll.rows == 2000
    assert got == pytest.approx(direct_psi(reference, rows.iloc[-2000:]), abs=1e-12)
    assert max(got.values()) < 0.02
    # an absent column counts as missing
    got = roll.update({"c": ["a"] * 2000})
    assert got["x"] > 1.0
    with pytest.raises(ValueError):
        RollingDrift(reference, window=0)
