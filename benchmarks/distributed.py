"""Distributed search: what a trial costs on Ray versus this machine's executors, and what 2 concurrent trials buy.

Two tables, the same recipe for every backend, pruning off:
1. per-trial cost: logistic regression, 2-fold CV on titanic (a trial is tens of ms of work). The marginal cost per
   trial is (wall of 20 trials - wall of 4 trials) / 16 after a warm-up run, so executor start-up (process spawn,
   Ray connect, ray.put of the table) is left out; the start-up is (wall of 4) - 4 x marginal.
2. wall time of 16 lightgbm trials (300 trees each, 3-fold CV) on the bundled mammography data (11,183 rows), 1 and
   2 at a time.
Backends: local n_concurrent 1 = trials in this process; local 2 = two spawned worker processes; ray = Ray tasks
on RAY_ADDRESS (a cluster you started) or, when unset, a local Ray started for each run.

    RAY_ADDRESS=127.0.0.1:6379 python benchmarks/distributed.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml

import mlengine

ROOT = Path(__file__).resolve().parent.parent
REPEAT = int(os.environ.get("REPEAT", "3"))  # medians of this many runs


def recipe(folder: Path, model: str, folds: int, data: str) -> Path:
    source = {"kind": "csv", "path": str(ROOT / "examples" / "data" / f"{data}.csv")}
    data_keys = ({"source": source, "target": "survived", "drop": ["alive", "who", "adult_male", "class",
                                                                  "embark_town"]} if data == "titanic"
                 else {"source": source, "target": "malignant", "positive_class": 1})
    path = folder / f"{model}-{data}.yaml"
    path.write_text(yaml.safe_dump({
        "name": "distributed", "seed": 3, "task": "binary", "data": data_keys,
        "model": {"name": model, "n_jobs": 1}, "cv": {"folds": folds},
        "search": {"estimators": [model], "metric": "roc_auc", "prune": False, "warm_start": "none",
                   # lightgbm: 300 trees pinned, so every trial is real work (CFO starts from 4 trees otherwise)
                   "space": {"lightgbm": {"n_estimators": 300}} if model == "lightgbm" else {}},
        "export": {"format": ["joblib"]}, "report": {"html": False, "explain": False},
    }, sort_keys=False))
    return path


def search_seconds(path: Path, runs: Path, backend: str, n: int, trials: int) -> tuple[float, int]:
    result = mlengine.run(path, [f"search.backend={backend}", f"search.n_concurrent={n}", f"search.trials={trials}"],
                          runs_dir=runs)
    s = json.loads((Path(result.run_dir) / "metrics.json").read_text())["search"]
    return s["seconds"], s["trials_run"]


def main() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    where = os.environ.get("RAY_ADDRESS") or "a local Ray started per run"
    cases = [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]
    with tempfile.TemporaryDirectory() as tmp:
        lr = recipe(Path(tmp), "logistic_regression", 2, "titanic")
        lgbm = recipe(Path(tmp), "lightgbm", 3, "mammography")
        rows = []
        for backend, n in cases:
            search_seconds(lr, Path(tmp) / "r", backend, n, 2)  # warm-up: this process's imports, Ray workers
            marginals, starts = [], []
            for _ in range(REPEAT):  # the median of REPEAT pairs: a shared machine is noisy
                w4, _ = search_seconds(lr, Path(tmp) / "r", backend, n, 4)
                w20, k = search_seconds(lr, Path(tmp) / "r", backend, n, 20)
                marginals.append((w20 - w4) / 16)
                starts.append(w4 - 4 * marginals[-1])
            rows.append((backend, n, 1000 * statistics.median(marginals), statistics.median(starts), k))
        walls = []
        for backend, n in cases:
            runs = [search_seconds(lgbm, Path(tmp) / "r", backend, n, 16) for _ in range(REPEAT)]
            walls.append((backend, n, statistics.median(w for w, _ in runs), runs[0][1]))
    cores = os.cpu_count()
    print(f"{cores} cores, Ray: {where}; wall = metrics.json search.seconds (executor start-up included); "
          f"medians of {REPEAT} runs")
    print("\n1. per-trial cost: titanic (712 training rows), logistic_regression, 2-fold CV; (wall 20 - wall 4) / 16")
    print(f"{'backend':<8}{'n_conc':>7}{'ms/trial':>10}{'start-up s':>12}{'trials':>8}")
    for backend, n, ms, start, k in rows:
        print(f"{backend:<8}{n:>7}{ms:>10.0f}{start:>12.2f}{k:>8}")
    ms = {(b, n): v for b, n, v, _, _ in rows}
    print(f"  Ray overhead per trial: {ms['ray', 1] - ms['local', 1]:+.0f} ms vs in-process (1 at a time), "
          f"{ms['ray', 2] - ms['local', 2]:+.0f} ms vs the local process executor (2 at a time)")
    print("\n2. 16 lightgbm trials (300 trees, other parameters searched): mammography (8,946 training rows), 3-fold CV")
    print(f"{'backend':<8}{'n_conc':>7}{'wall s':>9}{'trials':>8}")
    for backend, n, wall, k in walls:
        print(f"{backend:<8}{n:>7}{wall:>9.1f}{k:>8}")
    for backend in ("local", "ray"):
        one, two = (w for b, _, w, _ in walls if b == backend)
        print(f"  {backend}: 2 concurrent / 1 = {two / one:.2f}")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - t:.0f} s)")
