"""Online drift for `mlengine serve --drift-window N`: per-feature PSI of the last N accepted rows on /metrics.

Each worker keeps a `RollingDrift` (mlengine/monitor/online.py) over the run's `reference.json`. A request only
appends its typed columns to a pending buffer; the buffer is binned into the window every `flush_rows` rows and
on each /metrics scrape, and the gauges are set then, so a request pays nothing but list appends (one request in
`flush_rows` pays the binning, about a millisecond for 1,000 rows of 9 features).

With several workers each keeps its own window over the rows it served (a random share of the same traffic);
the gauges use prometheus_client's `livemostrecent` mode, so /metrics shows the freshest worker's value.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mlengine.export.joblib_bundle import sha256_file

FLUSH_ROWS = 1000


def load_reference(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's reference profile after its sha256 check against the manifest; None (with a warning on stderr)
    when it is absent, damaged or changed, so serving goes on without drift gauges."""
    path = Path(run_dir) / "reference.json"
    if not path.is_file():
        _warn(f"{path} does not exist (a run from before reference profiles?): no drift gauges.")
        return None
    try:
        manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
        recorded = (manifest.get("artifacts") or {}).get("reference.json", {}).get("sha256")
        if recorded and recorded != sha256_file(path):
            _warn(f"{path} does not match its sha256 in manifest.json (changed after the run): no drift gauges.")
            return None
        reference = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _warn(f"{path} could not be read ({exc}): no drift gauges.")
        return None
    return reference if reference.get("features") else None


def _warn(text: str) -> None:
    sys.stderr.write(json.dumps({"warning": "drift", "message": text}) + "\n")


class DriftWindow:
    """Pending rows -> RollingDrift -> the mlengine_drift_psi{feature} and mlengine_drift_window_rows gauges."""

    def __init__(self, reference: dict[str, Any], window: int, flush_rows: int = FLUSH_ROWS):
        from mlengine.monitor.online import RollingDrift
        from mlengine.serving import metrics

        self.metrics = metrics
        self.roll = RollingDrift(reference, window)
        self.roll.missing_marker("")  # the checks type a missing category as ""
        self.pending: dict[str, list[Any]] = {c: [] for c in reference["features"]}
        self.count = 0
        self.flush_rows = max(1, min(flush_rows, window))

    def add(self, typed: dict[str, list[Any]], n: int) -> None:
        """Queue one request's accepted rows (typed as the checks returned them)."""
        for c, buf in self.pending.items():
            values = typed.get(c)
            buf.extend(values if values is not None else [None] * n)
        self.count += n
        if self.count >= self.flush_rows:
            self.flush()

    def flush(self) -> dict[str, float]:
        """Bin the pending rows into the window and set the gauges; the current PSI per feature."""
        if self.count:
            batch, self.pending = self.pending, {c: [] for c in self.pending}
            self.count = 0
            psi = self.roll.update(batch)
        else:
            psi = self.roll.psi()
        if self.roll.seen:
            for c, v in psi.items():
                self.metrics.DRIFT_PSI.labels(c).set(v)
            self.metrics.DRIFT_ROWS.set(self.roll.rows)
        return psi
