"""A fixed recipe on a busy machine, with and without mlengine's default OMP_WAIT_POLICY=PASSIVE (issue 15).

Each run is a fresh `mlengine run` process on the bundled mammography data (11,183 rows; LightGBM, 5-fold CV,
refit, ONNX export), once on a quiet machine and once beside CPU-bound background processes (one per core
minus one: the kind of load a laptop has while a browser or a build runs). "before" opts out of the default
(MLENGINE_OMP_PASSIVE=0: LightGBM's OpenMP threads then busy-wait); "after" is the default. Prints a table of
wall seconds; the background processes are stopped when the script ends, also on error.

    python benchmarks/busy_machine.py [--repeats 1] [--background N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "mammography.yaml"


def _burn() -> None:  # a CPU-bound background process
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


def timed_run(folder: Path, passive_default: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["MLENGINE_OMP_PASSIVE"] = "1" if passive_default else "0"
    cmd = [sys.executable, "-m", "mlengine", "run", str(RECIPE), "--runs-dir", str(folder / "runs"), "--quiet"]
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 3):  # 3: the recipe's quality gate; the timing still counts
        raise SystemExit(f"mlengine run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--background", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                    help="CPU-bound background processes (default: cores - 1)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlengine-busy-") as tmp:
        for load in ("quiet", "busy"):
            burners = [mp.Process(target=_burn, daemon=True) for _ in range(args.background if load == "busy" else 0)]
            for b in burners:
                b.start()
            try:
                for label, passive in (("before (busy-wait)", False), ("after (PASSIVE default)", True)):
                    times = [timed_run(Path(tmp), passive) for _ in range(args.repeats)]
                    rows.append((load, label, statistics.median(times)))
            finally:
                for b in burners:
                    b.terminate()
                    b.join()
    print(f"\nmlengine run recipes/mammography.yaml: wall seconds (median of {args.repeats}); {os.cpu_count()} cores, "
          f"busy = {args.background} CPU-bound background process(es)")
    print(f"{'machine':<8} {'variant':<26} {'seconds':>8}")
    for load, label, sec in rows:
        print(f"{load:<8} {label:<26} {sec:>8.1f}")
    busy = {label: sec for load, label, sec in rows if load == "busy"}
    before, after = busy["before (busy-wait)"], busy["after (PASSIVE default)"]
    print(f"busy machine: {before / after:.1f}x faster with the default")


if __name__ == "__main__":
    main()
