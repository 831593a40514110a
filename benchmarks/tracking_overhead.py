"""Tracking overhead: wall time of `mlengine run recipes/titanic_search.yaml` with and without `tracking.uri`.

Each run is a fresh `mlengine run` process (imports included) in a temporary folder. Variants: untracked;
tracked into a new sqlite store (the first run creates the MLflow schema: a one-time cost per store); tracked
into an existing store (the everyday case). Tracking logs the parent run, one child per trial, the artifacts and
the model as pyfunc + ONNX. Prints a table; target: tracked (existing store) <= untracked x 1.05 + 2 s.

The machine is shared: wall-time differences of a few seconds are load noise, so the table also shows the time
the hook itself reports (its log lines), which is the tracking cost proper.

    python benchmarks/tracking_overhead.py [--repeats 1] [--trials 12]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "titanic_search.yaml"


def timed_run(folder: Path, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, seconds the tracking hook reports for itself: starting the run + logging it)."""
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "mlengine", "run", str(RECIPE), "--runs-dir", str(folder / "runs"), *extra]
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    wall = time.perf_counter() - t
    own = sum(float(x) for x in re.findall(r"tracking: MLflow run .*\((?:started|logged) in ([0-9.]+) s\)",
                                            out.stderr))
    return wall, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per variant (median reported)")
    parser.add_argument("--trials", type=int, default=None, help="search.trials override (default: the recipe's)")
    args = parser.parse_args()
    base = [f"search.trials={args.trials}"] if args.trials else []
    times: dict[str, list[tuple[float, float]]] = {"untracked": [], "tracked (new store)": [],
                                                   "tracked (existing store)": []}
    with tempfile.TemporaryDirectory(prefix="mlengine-bench-tracking-") as tmp:
        for i in range(args.repeats):
            folder = Path(tmp) / f"r{i}"
            folder.mkdir()
            uri = f"tracking.uri=sqlite:///{folder / 'mlruns.db'}"
            times["untracked"].append(timed_run(folder, base))
            times["tracked (new store)"].append(timed_run(folder, [*base, uri]))
            times["tracked (existing store)"].append(timed_run(folder, [*base, uri]))
    plain = statistics.median(w for w, _ in times["untracked"])
    target = plain * 1.05 + 2.0
    print(f"tracking overhead: {RECIPE.name}, {args.repeats} repeat(s), median wall time per `mlengine run`; "
          "'hook' = the time the tracking hook reports for itself (start the run + log it; immune to load)")
    print(f"{'variant':<28}{'seconds':>9}{'overhead':>10}{'hook':>7}{'target':>9}  verdict")
    for name, values in times.items():
        wall = statistics.median(w for w, _ in values)
        hook = statistics.median(h for _, h in values)
        tracked = name != "untracked"
        verdict = ("ok" if wall <= target else "over") if tracked else "-"
        over = f"{wall - plain:+.1f}s" if tracked else "-"
        own = f"{hook:.1f}s" if tracked else "-"
        print(f"{name:<28}{wall:>9.1f}{over:>10}{own:>7}{target:>8.1f}s  {verdict}")

if __name__ == "__main__":
    main()
