"""Rolling-window PSI for a serving process: `RollingDrift(reference, window)` over the last `window` rows.

Each batch is binned once (the reference's bins plus a missing bin; categorical levels by a dict lookup) and its
bin indices go into a ring buffer per feature; running counts are kept by adding the new rows' bins and taking
away the evicted ones, so `psi()` costs O(features x bins) whatever the window. numpy only (pandas just for
numeric values given as text), so a serving process can keep it.
"""

from __future__ import annotations

from itertools import repeat
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
            self.lookup: dict[Any, int] = {**self.index, None: len(self.ref) - 1}
            if prof.get("type") == "boolean":  # typed as 1.0 / 0.0 (True == 1 == 1.0 as dict keys)
                self.lookup.update({float(lv): i for lv, i in self.index.items() if lv in ("1.0", "0.0")})
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
        values = values if isinstance(values, list) else list(values)
        try:  # one C-level dict lookup per value; only values it does not know take the slow path below
            out = np.fromiter(map(self.lookup.get, values, repeat(-1, len(values))), dtype=np.int64,
                              count=len(values))
        except TypeError:  # an unhashable value
            out = np.full(len(values), -1, dtype=np.int64)
        for i in np.flatnonzero(out < 0).tolist():
            out[i] = self._slow(values[i])
        return out

    def _slow(self, v: Any) -> int:
        if v is None or (isinstance(v, float) and v != v):  # NaN
            return self.k - 1
        key = str(float(v)) if self.prof.get("type") == "boolean" and isinstance(v, bool) else str(v)
        return self.index.get(key, self.k - 2)


class RollingDrift:
    """Per-feature PSI of the last `window` request rows against a run's reference profile."""

    def __init__(self, reference: dict[str, Any], window: int = 10_000):
        if window < 1:
            raise ValueError("window must be at least 1 row")
        self.window = window
        self.features = {c: _Feature(p, window) for c, p in reference["features"].items()}
        self.seen = 0  # rows ever added
        self.pos = 0  # next ring slot

    def missing_marker(self, value: Any) -> None:
        """Count `value` as missing in categorical/boolean features (the server's typed missing category, "")."""
        for feat in self.features.values():
            if feat.prof["kind"] != "numeric":
                feat.lookup[value] = feat.k - 1

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
                feat.counts -= np.bincount(feat.ring[slots[evicted_mask]], minlength=feat.k)
            feat.ring[slots] = b
            feat.counts += np.bincount(b, minlength=feat.k)
        self.pos = int((self.pos + n) % self.window)
        self.seen += n
        return self.psi()

    def psi(self) -> dict[str, float]:
        """Per-feature PSI of the current window (NaN before the first row)."""
        if self.seen == 0:
            return {c: float("nan") for c in self.features}
        return {c: stats.psi(f.ref, f.counts) for c, f in self.features.items()}
