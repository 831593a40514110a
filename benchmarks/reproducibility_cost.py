"""What the run record costs: data fingerprint, predictions hash and artifact hashes, by table size.

The manifest stage and the fingerprint in stage_load add this to every run; the engine-overhead benchmark
(engine_overhead.py) measures it inside a whole run. Generated table: 16 numeric and 4 string columns.

    python benchmarks/reproducibility_cost.py [--rows 100000 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mlengine.runs.determinism import predictions_sha256
from mlengine.runs.fingerprint import fingerprint_frame
from mlengine.runs.record import artifact_hashes


def table(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(rows, 16)), columns=[f"x{i}" for i in range(16)])
    for j in range(4):
        df[f"c{j}"] = rng.choice([f"level_{k}" for k in range(20)], size=rows)
    return df


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print("reproducibility cost (best of 3, seconds)")
    print(f"{'rows':>10}{'fingerprint':>14}{'pred hash':>12}{'artifacts':>12}{'MB hashed':>11}")
    for rows in args.rows:
        df = table(rows)
        holdout = rows // 5
        pred = np.random.default_rng(1).integers(0, 2, holdout)
        proba = np.random.default_rng(2).random((holdout, 2))
        with tempfile.TemporaryDirectory() as tmp:
            df.iloc[:holdout].to_parquet(Path(tmp) / "predictions.parquet")
            (Path(tmp) / "model.joblib").write_bytes(np.random.default_rng(3).bytes(20 * 2**20))
            mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
            t_art = best_of(lambda tmp=tmp: artifact_hashes(Path(tmp)))
        t_fp = best_of(lambda df=df: fingerprint_frame(df))
        t_pred = best_of(lambda h=holdout, p=pred, q=proba: predictions_sha256(np.arange(h), p, q))
        print(f"{rows:>10,}{t_fp:>14.3f}{t_pred:>12.3f}{t_art:>12.3f}{mb:>11.1f}")


if __name__ == "__main__":
    main()
