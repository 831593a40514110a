"""Rolling-window PSI for a serving process: `RollingDrift(reference, window)` over the last `window` rows.

Each batch is binned once (the reference's bins plus a missing bin; categorical levels by a dict lookup) and its
bin indices go into a ring buffer per feature; running counts are kept by adding the new rows' bins and taking
away the evicted ones, so `psi()` costs O(features x bins) whatever the window. numpy only (pandas just for
numeric values given as text), so a serving process can keep it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.monitor import stats


class _Feature:
    def __init__(self, prof: dict[str, Any], window: int):
        self.prof = prof
        if prof["kind"] == "numeric":
            self.edges = np.asarray(prof["edges"], dtype=float)
            self.ref = np.append(np.asarray(prof["counts"]), prof["missing"])
        else:
            self.index = {lv: i for i, lv in enumerate(prof["levels"])}
            self.ref = np.array([*prof["levels"].values(), prof["other"], prof["missing"]])
        self.k = len(self.ref)
        self.ring = np.zeros(window, dtype=np.int16)
        self.counts = np.zeros(self.k, dtype=np.int64)

    def bins(self, values: Any) -> np.ndarray:
        if self.prof["kind"] == "numeric":
            try:  # numbers and None (the server's typed columns): no pandas on the request path
                x = np.asarray(values, dtype=float).reshape(-1)
            except (TypeError, ValueError):
                import pandas as pd

                x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
            out = np.searchsorted(self.edges, x, side="right")
            out[np.isnan(x)] = self.k - 1
            return out
        other, miss, boolean = self.k - 2, self.k - 1, self.prof.get("type") == "boolean"
        out = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(values):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                out[i] = miss
            else:
                key = str(float(bool(v))) if boolean and isinstance(v, bool) else str(v)
                out[i] = self.index.get(key, other)
        return out


class RollingDrift:
    """Per-feature PSI of the last `window` request rows against a run's reference profile."""

    def __init__(self, reference: dict[str, Any], window: int = 10_000):
        if window < 1:
            raise ValueError("window must be at least 1 row")
        self.window = window
        self.features = {c: _Feature(p, window) for c, p in reference["features"].items()}
        self.seen = 0  # rows ever added
        self.pos = 0  # next ring slot

    @property
    def rows(self) -> int:
        """Rows currently in the window."""
        return min(self.seen, self.window)

    def update(self, batch: dict[str, Any]) -> dict[str, float]:
        """Add a batch (column name -> list of values; absent columns count as missing); return `psi()`."""
        n = len(next(iter(batch.values()))) if batch else 0
        if n == 0:
            return self.psi()
        if n > self.window:  # only the last `window` rows can stay
            batch = {c: list(v)[-self.window:] for c, v in batch.items()}
            n = self.window
        slots = (self.pos + np.arange(n)) % self.window
        full = self.seen >= self.window
        evicted_mask = full | (slots < self.seen)  # slots already holding a row
        for col, feat in self.features.items():
            b = feat.bins(batch.get(col, [None] * n))
            if evicted_mask.any():
                np.subtract.at(feat.counts, feat.ring[slots[evicted_mask]], 1)
            feat.ring[slots] = b
            np.add.at(feat.counts, b, 1)
        self.pos = int((self.pos + n) % self.window)
        self.seen += n
        return self.psi()

    def psi(self) -> dict[str, float]:
        """Per-feature PSI of the current window (NaN before the first row)."""
        if self.seen == 0:
            return {c: float("nan") for c in self.features}
        return {c: stats.psi(f.ref, f.counts) for c, f in self.features.items()}
