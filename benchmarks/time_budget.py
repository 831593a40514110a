"""Does `search.time_budget` hold? Budget against measured search and run wall time, on bundled data.

Each row runs `mlengine run` in-process on a bundled table with a search over LightGBM, random forest and logistic
regression under a time budget (and one row, starting from logistic regression, whose LightGBM trials take far
longer than the budget per fold), then prints the budget, the search's seconds, the search stage's seconds, the whole run's wall
time, the overrun beyond the budget and the promise max(5 s, 10%). Usage:

    OMP_WAIT_POLICY=PASSIVE python benchmarks/time_budget.py [--budgets 5 10] [--datasets titanic mammography]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = {
    "titanic": ("titanic.csv", "survived", "[alive, who, adult_male, class, embark_town]"),
    "mammography": ("mammography.csv", "malignant", "[]"),
}
RECIPE = """
name: {name}
seed: 0
task: binary
data:
  source: {{kind: csv, path: {file}}}
  target: {target}
  drop: {drop}
model: {{name: {model}, n_jobs: 2}}
cv: {{folds: 5}}
search:
  estimators: [lightgbm, random_forest, logistic_regression]
  time_budget: {budget}
  metric: roc_auc
{space}
"""
SLOW = "  space: {lightgbm: {n_estimators: 20000, num_leaves: 64, min_child_samples: 2, learning_rate: 0.01}}"


def main() -> None:
    import mlengine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[5.0, 10.0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    args = parser.parse_args()
    head = ("data", "case", "budget", "search s", "stage s", "wall s", "overrun", "promise", "trials", "fallback")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            file, target, drop = DATASETS[name]
            shutil.copy(ROOT / "examples" / "data" / file, Path(tmp) / file)
            for budget in args.budgets:
                for label, model, space in (("search", "lightgbm", ""), ("slow lightgbm", "logistic_regression",
                                                                         SLOW)):
                    path = Path(tmp) / f"{name}.yaml"
                    path.write_text(RECIPE.format(name=name, file=file, target=target, drop=drop, budget=budget,
                                                  space=space, model=model), encoding="utf-8")
                    result = mlengine.run(str(path), runs_dir=Path(tmp) / "runs")
                    m = result.metrics
                    s = m["search"]
                    fallback = (s.get("fallback") or {}).get("kind", "-")
                    row = (name, label, budget, s["seconds"], m["timings_seconds"]["search"], m["wall_seconds"],
                           s["overrun_seconds"], max(5.0, 0.1 * budget), s["trials_run"], fallback)
                    print(" | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row), flush=True)


if __name__ == "__main__":
    main()
