"""Cost of the evaluation diagnostics (lift/gains/KS, score distribution, calibration by class, partial
dependence) added to every run: compute seconds (as each run records them in metrics.json diagnostics.seconds)
and the seconds to draw their four report sections, beside the run's own wall time.

    python benchmarks/diagnostics_cost.py [--recipes titanic.yaml wine_quality.yaml nyc_taxis_tip.yaml] [--repeats 3]

Each recipe runs once in this process (`mlengine.run`, recipe as written); the sections are then drawn `--repeats`
times from the run directory and the median is reported. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipes", nargs="+", default=["titanic.yaml", "wine_quality.yaml", "nyc_taxis_tip.yaml"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import mlengine
    from mlengine.report import diagnostics as sections
    from mlengine.report.rundata import RunData

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.recipes:
            result = mlengine.run(ROOT / "recipes" / name, runs_dir=tmp)
            m = result.metrics
            d = m.get("diagnostics") or {}
            secs = d.get("seconds") or {}
            draws = []
            for _ in range(args.repeats):
                run = RunData(result.run_dir)
                t = time.perf_counter()
                for fn in sections.SECTIONS:
                    fn(run)
                draws.append(time.perf_counter() - t)
            compute = sum(secs.values())
            draw = statistics.median(draws)
            pd_rec = d.get("partial_dependence") or {}
            rows.append((name, m["task"], m["rows"]["holdout"], pd_rec.get("rows", 0),
                         ", ".join(f["feature"] for f in pd_rec.get("features", [])),
                         secs.get("partial_dependence", 0.0), compute - secs.get("partial_dependence", 0.0), draw,
                         compute + draw, m.get("wall_seconds") or 0.0))
    print("| recipe | task | holdout rows | PD rows | PD features | PD s | other views s | report sections s "
          "| added s | run wall s | added % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:,} | {r[3]:,} | {r[4]} | {r[5]:.3f} | {r[6]:.4f} | {r[7]:.3f} | "
              f"{r[8]:.3f} | {r[9]:.1f} | {100 * r[8] / r[9]:.1f} |")


if __name__ == "__main__":
    main()
