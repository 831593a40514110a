"""Engine overhead: `mlengine run` of a fixed LightGBM recipe vs the equivalent hand-written script.

Both do the same work on the same generated table (default 1,000,000 rows x 20 columns: 16 numeric, 4 string
categoricals, binary target): read Parquet, 20% stratified holdout, 3-fold stratified CV, refit, score the holdout,
save the model (mlengine also writes its run record: manifest, fingerprint, predictions). Each side runs in a
fresh process; wall time and peak RSS are measured there. Also times
`mlengine --help`. Prints a table; targets: time ratio <= 1.15, memory ratio <= 1.5, --help < 0.3 s.

    python benchmarks/engine_overhead.py [--rows 1000000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PARAMS = {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31}

HAND = textwrap.dedent("""
    import json, resource, sys, time
    t0 = time.perf_counter()
    import joblib, numpy as np, pandas as pd
    from lightgbm import LGBMClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from sklearn.preprocessing import OrdinalEncoder
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    path, out, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    df = pd.read_parquet(path)
    X, y = df.drop(columns=["y"]), df["y"]
    cats = [c for c in X.columns if c.startswith("cat")]
    def model():
        pre = ColumnTransformer([("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats)],
                                remainder="passthrough")
        return Pipeline([("pre", pre), ("m", LGBMClassifier(**params, random_state=0, verbose=-1, n_jobs=2,
                                                              deterministic=True, force_col_wise=True))])
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    scores = []
    for tr, va in StratifiedKFold(3, shuffle=True, random_state=0).split(X_tr, y_tr):
        m = model().fit(X_tr.iloc[tr], y_tr.iloc[tr])
        scores.append(roc_auc_score(y_tr.iloc[va], m.predict_proba(X_tr.iloc[va])[:, 1]))
    m = model().fit(X_tr, y_tr)
    auc = roc_auc_score(y_te, m.predict_proba(X_te)[:, 1])
    joblib.dump(m, out + "/hand.joblib")
    print(json.dumps({"seconds": time.perf_counter() - t0, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "auc": auc}))
""")

ENGINE = textwrap.dedent("""
    import json, resource, sys, time
    t0 = time.perf_counter()
    import mlengine
    recipe, runs = sys.argv[1], sys.argv[2]
    res = mlengine.run(recipe, runs_dir=runs)
    print(json.dumps({"seconds": time.perf_counter() - t0, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "auc": res.metrics["holdout"]["roc_auc"]}))
""")


def make_data(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    num = rng.normal(size=(rows, 16))
    cats = {f"cat{i}": rng.choice([f"v{j}" for j in range(5 + 5 * i)], size=rows) for i in range(4)}
    logit = num[:, 0] - 0.5 * num[:, 1] + 0.3 * num[:, 2] * num[:, 3] + (cats["cat0"] == "v1") * 0.8
    y = (logit + rng.logistic(size=rows) > 1.0).astype(int)
    df = pd.DataFrame(num, columns=[f"x{i}" for i in range(16)]).assign(**cats, y=y)
    df.to_parquet(path)


def recipe_text(data: Path, extras: bool = False) -> str:
    """The like-for-like recipe does what the hand-written script does (and writes its run record); with
    `extras`, mlengine's defaults too: ONNX export + parity check, feature importance, the HTML report."""
    import yaml

    recipe = {
        "name": "overhead", "seed": 0,
        "data": {"source": {"kind": "parquet", "path": str(data)}, "target": "y"},
        "split": {"holdout": 0.2, "strategy": "stratified"},
        "cv": {"kind": "stratified_kfold", "folds": 3},
        "model": {"name": "lightgbm", "n_jobs": 2, "params": PARAMS},
        "evaluate": {"metrics": ["roc_auc"]},
    }
    if not extras:
        recipe |= {"export": {"format": ["joblib"]}, "report": {"html": False, "explain": False}}
    return yaml.safe_dump(recipe, sort_keys=False)


def measure(script: str, *args: str) -> dict:
    res = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data.parquet"
        make_data(data, args.rows)
        (tmp / "recipe.yaml").write_text(recipe_text(data))
        (tmp / "full.yaml").write_text(recipe_text(data, extras=True))
        hand, eng, full = [], [], []
        for _ in range(args.repeats):
            hand.append(measure(HAND, str(data), str(tmp), json.dumps(PARAMS)))
            eng.append(measure(ENGINE, str(tmp / "recipe.yaml"), str(tmp / "runs")))
        full.append(measure(ENGINE, str(tmp / "full.yaml"), str(tmp / "runs")))
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlengine", "--help"], capture_output=True, check=True)
        help_s = time.perf_counter() - t
    best = lambda rs, k: min(r[k] for r in rs)  # noqa: E731
    rows = [
        ("wall time (s)", best(hand, "seconds"), best(eng, "seconds"), 1.15),
        ("peak RSS (MB)", best(hand, "rss_mb"), best(eng, "rss_mb"), 1.5),
    ]
    print(f"engine overhead: {args.rows:,} rows x 20 columns, LightGBM {PARAMS}, 3-fold CV + refit + holdout")
    print(f"{'measure':<16}{'hand-written':>14}{'mlengine':>12}{'ratio':>8}{'target':>9}  ok")
    for name, h, e, target in rows:
        ratio = e / h
        print(f"{name:<16}{h:>14.2f}{e:>12.2f}{ratio:>8.2f}{'<= ' + str(target):>9}  {'yes' if ratio <= target else 'NO'}")
    print(f"{'holdout AUC':<16}{hand[0]['auc']:>14.4f}{eng[0]['auc']:>12.4f}")
    print(f"mlengine with its defaults on top (ONNX export + parity, feature importance, HTML report): "
          f"{full[0]['seconds']:.2f} s, {full[0]['rss_mb']:.0f} MB (ratio {full[0]['seconds'] / best(hand, 'seconds'):.2f}"
          " to the hand-written script, which does none of these)")
    print(f"{'--help (s)':<16}{'':>14}{help_s:>12.3f}{'':>8}{'< 0.3':>9}  {'yes' if help_s < 0.3 else 'NO'}")


if __name__ == "__main__":
    main()
