"""What each imbalance option buys: resampling x calibration on imbalanced binary data, through mlengine itself.

For each dataset, an outer stratified K-fold (default 5) over all rows. In every outer fold, `mlengine.run` fits a
recipe on the outer-training rows only (no holdout; inner stratified 5-fold CV whose out-of-fold predictions fit
the calibrator and the F1-tuned decision threshold), and the saved model is scored on the outer-test rows, which it
never saw: average precision (ranking), recall and precision at the tuned threshold (decisions), Brier score
(probabilities). Configurations: resample none / class_weight / smote (smotenc where there are categorical
columns) / random_under, each without and with sigmoid calibration; LightGBM with fixed parameters throughout.

Datasets: mammography (bundled: examples/data/mammography.csv, 11,183 rows, 2.3% positive) and credit_default
(30,000 rows, 22% positive) read from ../shared/datasets/credit_default.csv or --credit PATH; skipped with a
message when absent.

    python benchmarks/imbalance.py [--outer 5] [--inner 5] [--datasets mammography credit_default]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
# ../shared/datasets beside the repository (or one level further up for a git worktree); --credit overrides
SHARED = next((p for p in (ROOT.parent / "shared" / "datasets", ROOT.parent.parent / "shared" / "datasets")
               if p.is_dir()), ROOT.parent / "shared" / "datasets")
DATASETS = {
    "mammography": {"path": ROOT / "examples" / "data" / "mammography.csv", "target": "malignant", "positive": 1,
                    "drop": []},
    # sex, education and marriage are categorical: mlengine refuses plain SMOTE there, so "smote" runs as smotenc
    "credit_default": {"path": SHARED / "credit_default.csv", "target": "default", "positive": "yes", "drop": ["id"],
                       "smote": "smotenc"},
}
RESAMPLE = ["none", "class_weight", "smote", "random_under"]
CALIBRATION = ["none", "sigmoid"]
PARAMS = {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31}


def recipe(train_path: Path, spec: dict, resample: str, calibration: str, inner: int, seed: int,
           n_jobs: int) -> dict:
    return {
        "name": f"bench-{resample}-{calibration}", "seed": seed, "task": "binary",
        "data": {"source": {"kind": "parquet", "path": str(train_path)}, "target": spec["target"],
                 "positive_class": spec["positive"], "drop": spec["drop"]},
        "split": {"holdout": 0.0},
        "cv": {"kind": "stratified_kfold", "folds": inner},
        "model": {"name": "lightgbm", "params": PARAMS, "n_jobs": n_jobs},
        "resample": {"method": resample},
        "calibration": {"method": calibration},
        "threshold": {"objective": "f1"},
        "evaluate": {"metrics": ["average_precision", "brier"]},
    }


def score(model, X: pd.DataFrame, y: pd.Series, positive) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, precision_score, recall_score

    proba = model.predict_proba(X)[:, list(model.classes_).index(positive)]
    pred = model.predict(X)
    yb = (y == positive).to_numpy().astype(int)
    pb = (np.asarray(pred) == positive).astype(int)
    return {"ap": average_precision_score(yb, proba), "recall": recall_score(yb, pb, zero_division=0),
            "precision": precision_score(yb, pb, zero_division=0), "brier": float(np.mean((proba - yb) ** 2)),
            "threshold": float(model.threshold)}


def bench(name: str, spec: dict, outer: int, inner: int, seed: int, n_jobs: int) -> list[dict]:
    from sklearn.model_selection import StratifiedKFold

    import mlengine

    df = pd.read_csv(spec["path"])
    y = df[spec["target"]]
    if isinstance(spec["positive"], str):
        y = y.astype(str)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folds = list(StratifiedKFold(outer, shuffle=True, random_state=seed).split(df, y))
        for resample in [spec.get(m, m) for m in RESAMPLE]:
            for calibration in CALIBRATION:
                per_fold, seconds = [], 0.0
                for k, (tr, te) in enumerate(folds):
                    train_path = Path(tmp) / f"{name}-{k}.parquet"
                    if not train_path.exists():
                        df.iloc[tr].to_parquet(train_path, index=False)
                    t = time.perf_counter()
                    res = mlengine.run(recipe(train_path, spec, resample, calibration, inner, seed, n_jobs),
                                       runs_dir=Path(tmp) / "runs")
                    seconds += time.perf_counter() - t
                    test = df.iloc[te]
                    per_fold.append(score(res.model, test.drop(columns=[spec["target"]]), y.iloc[te],
                                          spec["positive"]))
                mean = {m: float(np.mean([f[m] for f in per_fold])) for m in per_fold[0]}
                std = {m: float(np.std([f[m] for f in per_fold])) for m in per_fold[0]}
                rows.append({"dataset": name, "resample": resample, "calibration": calibration, **mean,
                             "ap_std": std["ap"], "seconds": seconds / outer})
                print(f"  {name:<15}{resample:<14}{calibration:<9} AP {mean['ap']:.4f}  recall {mean['recall']:.4f}  "
                      f"brier {mean['brier']:.5f}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outer", type=int, default=5, help="outer folds (scored)")
    ap.add_argument("--inner", type=int, default=5, help="inner CV folds (calibration and threshold fitting)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--credit", type=Path, help="path to credit_default.csv (default ../shared/datasets)")
    ap.add_argument("--n-jobs", type=int, default=1, help="LightGBM threads (1 avoids oversubscribing a shared "
                                                          "machine; 0 = all cores)")
    args = ap.parse_args()
    if args.credit:
        DATASETS["credit_default"]["path"] = args.credit
    import logging

    logging.getLogger("mlengine").setLevel(logging.WARNING)
    rows: list[dict] = []
    for name in args.datasets:
        spec = DATASETS[name]
        if not Path(spec["path"]).is_file():
            print(f"skipping {name}: {spec['path']} not found (pass --credit PATH)")
            continue
        t = time.perf_counter()
        rows += bench(name, spec, args.outer, args.inner, args.seed, args.n_jobs)
        print(f"  {name}: {time.perf_counter() - t:.0f} s")
    print(f"\nimbalance: outer {args.outer}-fold (scored on unseen rows), inner {args.inner}-fold out-of-fold "
          f"calibration + F1 threshold; LightGBM {PARAMS}, {args.n_jobs or 'all'} thread(s)")
    head = f"{'dataset':<15}{'resample':<14}{'calibration':<12}{'AP':>14}{'recall@thr':>11}{'prec@thr':>10}" \
           f"{'Brier':>9}{'thr':>7}{'s/run':>7}"
    print(head)
    for r in rows:
        print(f"{r['dataset']:<15}{r['resample']:<14}{r['calibration']:<12}{r['ap']:>7.4f} ±{r['ap_std']:.3f}"
              f"{r['recall']:>11.4f}{r['precision']:>10.4f}{r['brier']:>9.5f}{r['threshold']:>7.3f}"
              f"{r['seconds']:>7.1f}")


if __name__ == "__main__":
    main()
