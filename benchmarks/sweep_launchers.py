"""Sweep launchers: the same 4-job sweep with Hydra's basic launcher (jobs one after another, each using all
cores) and with the joblib launcher (2 jobs at a time, one thread each). Prints wall times and their ratio;
target joblib/basic <= 0.65 on 2 cores.

The sweep is the one the sweep issue names: `resample=none,class_weight model=lightgbm,logistic_regression`, on
credit_default (30,000 rows) read from ../shared/datasets; when that folder is absent (a user's clone) it falls
back to the bundled mammography data and says so.

    python benchmarks/sweep_launchers.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import yaml

import mlengine

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets" / "credit_default.csv"
GRID = {"resample": ["none", "class_weight"], "model": ["lightgbm", "logistic_regression"]}


def recipe(folder: Path) -> tuple[Path, str]:
    if SHARED.is_file():
        data = {"source": {"kind": "csv", "path": str(SHARED)}, "target": "default", "positive_class": "yes",
                "drop": ["id"]}
        label = "credit_default (30,000 rows, ../shared/datasets)"
    else:
        data = {"source": {"kind": "csv", "path": str(ROOT / "examples" / "data" / "mammography.csv")},
                "target": "malignant", "positive_class": 1}
        label = "mammography (11,183 rows, bundled: ../shared/datasets/credit_default.csv is absent)"
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({"name": "launchers", "seed": 3, "data": data,
                                    "evaluate": {"metric": "average_precision"}}, sort_keys=False))
    return path, label


def timed(path: Path, launcher: str, runs: Path) -> tuple[float, int]:
    t = time.perf_counter()
    frame = mlengine.sweep(path, GRID, runs_dir=runs, launcher=launcher, n_jobs=2 if launcher == "joblib" else None)
    return time.perf_counter() - t, int((frame["status"] == "complete").sum())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, label = recipe(Path(tmp))
        basic, ok_b = timed(path, "basic", Path(tmp) / "basic")
        joblib, ok_j = timed(path, "joblib", Path(tmp) / "joblib")
    print(f"sweep of 4 jobs on {label}: resample=none,class_weight x model=lightgbm,logistic_regression, 5-fold CV")
    print(f"{'launcher':<10}{'wall s':>9}{'jobs ok':>9}")
    print(f"{'basic':<10}{basic:>9.1f}{ok_b:>9}")
    print(f"{'joblib':<10}{joblib:>9.1f}{ok_j:>9}")
    ratio = joblib / basic
    print(f"ratio joblib/basic: {ratio:.2f} (target <= 0.65: {'yes' if ratio <= 0.65 else 'NO'})")


if __name__ == "__main__":
    main()
