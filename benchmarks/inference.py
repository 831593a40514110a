"""Inference speed: ONNX (onnxruntime) vs the joblib scikit-learn pipeline, calibrated and thresholded.

    python benchmarks/inference.py [--calls 2000] [--batch 100000]

For a LightGBM and a logistic-regression model on the titanic recipe (fitted on half the rows, calibrated on the
other half: isotonic for LightGBM, sigmoid for logistic regression, then a FixedThresholdClassifier at 0.35),
it measures:
- single-row latency, p50 and p99, from a dict of raw column values to a predicted label: ONNX builds its feed
  from the values directly (one thread); joblib runs the pipeline on a one-row DataFrame built from the dict
  (what `LoadedModel.predict(dict)` does);
- batch throughput on 100,000 raw rows (a DataFrame), ONNX with 1 and 2 onnxruntime threads against the
  pipeline (LightGBM itself runs with 1 thread, as model.n_jobs=1).
Labels are checked to be identical on the whole batch. Targets: ONNX p50 <= 200 us and >= 50x faster than
joblib's; ONNX batch throughput >= joblib's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(model: str):
    """The calibrated, thresholded titanic pipeline for `model`, and the raw rows."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.pipeline import Pipeline

    import mlengine
    from mlengine.data.sources import read_source
    from mlengine.data.table import prepare_table
    from mlengine.plan import compile_recipe

    loaded = mlengine.load_recipe(ROOT / "recipes" / "titanic.yaml", [f"model={model}", "model.n_jobs=1"])
    data = prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)
    plan = compile_recipe(loaded.recipe, task=data.task)
    pipe = plan.build_pipeline(plan.candidates[0], data.columns, data.task)
    half = len(data.X) // 2
    pipe.fit(data.X.iloc[:half], data.y.iloc[:half])
    head = Pipeline(pipe.steps[:-1])
    method = "isotonic" if model == "lightgbm" else "sigmoid"
    cal = CalibratedClassifierCV(FrozenEstimator(pipe.steps[-1][1]), method=method).fit(
        head.transform(data.X.iloc[half:]), data.y.iloc[half:])
    calibrated = Pipeline(pipe.steps[:-1] + [("model", cal)])
    final = FixedThresholdClassifier(FrozenEstimator(calibrated), threshold=0.35).fit(data.X, data.y)
    raw = pd.read_csv(ROOT / "examples" / "data" / "titanic.csv")
    return final, raw, method


def onnx_model(model, threads: int):
    from mlengine.export.onnx_convert import to_onnx
    from mlengine.export.onnx_runtime import OnnxModel

    conv = to_onnx(model)
    return OnnxModel(conv.model.SerializeToString(), [s.as_dict() for s in conv.inputs], conv.task, conv.classes,
                     threads=threads)


def rows_of(raw: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in raw.astype(object).to_dict("records")]


def latency(fn, rows: list[dict], calls: int) -> np.ndarray:
    times = np.empty(calls)
    for i in range(calls):
        row = rows[i % len(rows)]
        t = time.perf_counter()
        fn(row)
        times[i] = time.perf_counter() - t
    return times * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="single-row calls for ONNX (joblib: a tenth)")
    parser.add_argument("--batch", type=int, default=100_000, help="rows in the batch measure")
    args = parser.parse_args(argv)

    print(f"inference: titanic recipe, calibrated + FixedThresholdClassifier(0.35); single row from a dict "
          f"({args.calls} ONNX / {args.calls // 10} joblib calls), batch of {args.batch:,} raw rows")
    header = f"{'model':<30}{'path':<9}{'p50 us':>10}{'p99 us':>10}{'batch s':>10}{'rows/s':>12}"
    print(header)
    checks = []
    for model in ("lightgbm", "logistic_regression"):
        final, raw, method = build(model)
        single, multi = onnx_model(final, threads=1), onnx_model(final, threads=2)
        rows = rows_of(raw)
        for r in rows[:20]:  # same label on the single-row path
            assert single.predict(r)[0] == final.predict(pd.DataFrame([r]))[0]
        onnx_lat = latency(single.predict, rows, args.calls)
        skl_lat = latency(lambda r, f=final: f.predict(pd.DataFrame([r])), rows, max(50, args.calls // 10))
        batch = raw.sample(args.batch, replace=True, random_state=0).reset_index(drop=True)
        secs, labels = {}, {}
        for path, fn in (("onnx 1t", single.predict), ("onnx 2t", multi.predict), ("joblib", final.predict)):
            t = time.perf_counter()
            labels[path] = np.asarray(fn(batch))
            secs[path] = time.perf_counter() - t
        same = all((labels[p] == labels["joblib"]).all() for p in ("onnx 1t", "onnx 2t"))
        name = f"{model} ({method})"
        for path, lat in (("onnx 1t", onnx_lat), ("onnx 2t", None), ("joblib", skl_lat)):
            p50 = f"{np.percentile(lat, 50):>10.0f}{np.percentile(lat, 99):>10.0f}" if lat is not None else " " * 20
            print(f"{name:<30}{path:<9}{p50}{secs[path]:>10.3f}{args.batch / secs[path]:>12,.0f}")
        speedup = np.percentile(skl_lat, 50) / np.percentile(onnx_lat, 50)
        best = min(secs["onnx 1t"], secs["onnx 2t"])
        checks.append((name, np.percentile(onnx_lat, 50), speedup, secs["joblib"] / best, same))
    print()
    print(f"{'model':<30}{'onnx p50 <= 200 us':>20}{'speed-up >= 50x':>18}{'batch >= joblib':>18}"
          f"{'labels equal':>14}")
    ok = True
    for name, p50, speedup, batch_ratio, same in checks:
        good = (p50 <= 200, speedup >= 50, batch_ratio >= 1, same)
        ok &= all(good)
        print(f"{name:<30}{f'{p50:.0f} us':>14}{'yes' if good[0] else 'NO':>6}{f'{speedup:.0f}x':>12}"
              f"{'yes' if good[1] else 'NO':>6}{f'{batch_ratio:.1f}x':>12}{'yes' if good[2] else 'NO':>6}"
              f"{'yes' if same else 'NO':>14}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
