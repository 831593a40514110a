"""`mlengine drift` statistics at scale: 1,000,000 x 20 new rows (15 numeric, 5 categorical) against a reference.

Prints a table: seconds and peak extra memory (tracemalloc: numpy/Python buffers; and the growth of the process's
peak RSS, which also counts Arrow string buffers) as a multiple of the
new table's own memory. Targets (issue 18): <= 3 s and <= 1.5x. The model's scoring is not included (that is the
model's predict speed, benchmarks/inference.py); the reference is built from 50,000 training rows.

    .venv/bin/python benchmarks/drift.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from mlengine.data.table import Columns
from mlengine.monitor.compare import Thresholds, compare_frame
from mlengine.monitor.reference import build_reference


def table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {f"num{i}": rng.normal(shift * (i % 3 == 0), 1 + i / 10, size=n) for i in range(15)}
    levels = np.array([f"level{j}" for j in range(30)])
    for i in range(5):
        cols[f"cat{i}"] = pd.array(levels[rng.integers(0, 30 - 5 * i, size=n)], dtype="str")
    frame = pd.DataFrame(cols)
    frame.loc[frame.index[::50], "num1"] = np.nan
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    train = table(50_000, 0)
    columns = Columns(numeric=[f"num{i}" for i in range(15)], categorical=[f"cat{i}" for i in range(5)])
    reference = build_reference(train, columns, task="regression", classes=[], pos_label=None)
    new = table(args.rows, 1, shift=0.6)  # num0, num3, ... shifted
    table_bytes = int(new.memory_usage(deep=True).sum())
    compare_frame(reference, new.iloc[:1000], Thresholds())  # warm imports (scipy)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    t = time.perf_counter()
    result = compare_frame(reference, new, Thresholds())
    seconds = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before  # untraced (Arrow) buffers too
    drifting = sum(e["status"] != "ok" for e in result["columns"].values())
    print(f"{'rows':>10} {'cols':>5} {'table MB':>9} {'seconds':>8} {'peak MB':>8} {'peak/table':>10} {'drifting':>9} {'RSS peak +MB':>12}")
    print(f"{args.rows:>10} {new.shape[1]:>5} {table_bytes / 1e6:>9.1f} {seconds:>8.2f} {peak / 1e6:>8.1f} "
          f"{peak / table_bytes:>10.2f} {drifting:>9} {rss_growth / 1e6:>12.1f}")
    print("targets: <= 3 s, <= 1.5x the table's memory")


if __name__ == "__main__":
    main()
