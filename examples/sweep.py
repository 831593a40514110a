"""Sweeps from Python: compare models and CV strategies on one recipe, read the summary as a DataFrame.

The same as `mlengine run recipes/penguins.yaml -m model=logistic_regression,random_forest cv.folds=3,5`.

    python examples/sweep.py [RUNS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import mlengine
from mlengine.sweeps.summary import format_summary

HERE = Path(__file__).resolve().parent


def main(runs_dir: str = "runs") -> object:
    frame = mlengine.sweep(HERE.parent / "recipes" / "penguins.yaml",
                           {"model": ["logistic_regression", "random_forest"], "cv.folds": [3, 5]},
                           runs_dir=runs_dir)
    print(format_summary(frame))
    print("sweep directory:", frame.attrs["sweep_dir"])
    best = frame[frame["rank"] == 1].iloc[0]  # rows are in job order; rank 1 is the best by the recipe's metric
    print(f"best: {best['overrides']} ({best['metric']} {best['cv_mean']:.4f} in CV)")
    return frame


if __name__ == "__main__":
    main(*sys.argv[1:])
