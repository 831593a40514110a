"""Sweep launchers: the same 4-job sweep with Hydra's basic launcher (jobs one after another, each using all
cores) and with the joblib launcher (2 jobs at a time, one thread each). Prints wall times and their ratio;
target joblib/basic <= 0.65 on 2 cores.

    python benchmarks/sweep_launchers.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import mlengine

ROOT = Path(__file__).resolve().parent.parent
GRID = {"model": ["lightgbm", "random_forest"], "seed": [1, 2]}


def timed(launcher: str, runs: Path) -> tuple[float, int]:
    t = time.perf_counter()
    frame = mlengine.sweep(ROOT / "recipes" / "nyc_taxis_tip.yaml", GRID, overrides=["cv.folds=3"], runs_dir=runs,
                           launcher=launcher, n_jobs=2 if launcher == "joblib" else None)
    return time.perf_counter() - t, int((frame["status"] == "complete").sum())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        basic, ok_b = timed("basic", Path(tmp) / "basic")
        joblib, ok_j = timed("joblib", Path(tmp) / "joblib")
    print("sweep of 4 jobs (nyc_taxis_tip: model=lightgbm,random_forest x seed=1,2; 3-fold CV each)")
    print(f"{'launcher':<10}{'wall s':>9}{'jobs ok':>9}")
    print(f"{'basic':<10}{basic:>9.1f}{ok_b:>9}")
    print(f"{'joblib':<10}{joblib:>9.1f}{ok_j:>9}")
    ratio = joblib / basic
    print(f"ratio joblib/basic: {ratio:.2f} (target <= 0.65: {'yes' if ratio <= 0.65 else 'NO'})")


if __name__ == "__main__":
    main()
