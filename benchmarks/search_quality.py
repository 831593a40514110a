"""Search quality: mlengine's search vs flaml.AutoML, untuned LightGBM and AutoGluon, at the same time budget.

Every system gets the same outer folds of each dataset: it trains on the outer training part (its own inner CV or
validation, its own refit) and is scored on the outer test part. mlengine and FLAML search the same estimators
(LightGBM, random forest, extra trees) for the same seconds; untuned LightGBM (mlengine's defaults, no search) is
the floor; AutoGluon-Tabular `medium_quality` runs in its own throwaway venv (`autogluon.tabular[lightgbm]`,
kept in ~/.cache/mlengine/autogluon-venv), skipped with a message when it will not install.

Prints one table: per dataset and system, the mean outer-test score of the dataset's metric (roc_auc binary,
log_loss multiclass, r2 regression), log loss (classification) and wall time; then each system's mean rank.

    python benchmarks/search_quality.py --quick     # 2 small datasets, 15 s budget, 2 outer folds
    python benchmarks/search_quality.py             # 4 datasets x budgets 60 and 300 s, 3 outer folds (hours)
Options: --budgets 60 300, --datasets NAME ..., --folds N, --no-autogluon, --systems NAME ..., --save CSV, --busy N
(N CPU-bound background processes the whole time),
--report CSV ... (the table of saved rows, e.g. runs split by dataset)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

# Busy-waiting OpenMP threads make LightGBM 2-10x slower on a shared machine (measured: 6 s vs 11-96 s for one fit
# under load); every system here inherits this setting, so the comparison stays fair. An explicit value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = [Path(os.environ.get("MLENGINE_DATASETS", ROOT.parent / "shared" / "datasets")),
          Path("/work/shared/datasets")]
BUNDLED = ROOT / "examples" / "data"
AG_VENV = Path(os.environ.get("MLENGINE_BENCH_CACHE", Path.home() / ".cache" / "mlengine")) / "autogluon-venv"

DATASETS = {  # name: file, target, task, dropped columns
    "credit_default": ("credit_default.csv", "default", "binary", ["id"]),
    "mammography": ("mammography.csv", "malignant", "binary", []),
    "wine_quality": ("wine_quality_white.csv", "quality", "multiclass", []),
    "nyc_taxis_tip": ("nyc_taxis.csv", "tip", "regression", ["total"]),
    "titanic": ("titanic.csv", "survived", "binary", ["alive", "who", "adult_male", "class", "embark_town"]),
}
# recipe keys a dataset needs, as its recipe author would set them: white wine's quality 9 has 5 rows, so an outer
# training part holds 3-4 of them and mlengine refuses 5-fold stratified CV (it names the class and says to lower
# cv.folds); FLAML duplicates rare-class rows instead, AutoGluon drops them.
DATASET_RECIPE = {"wine_quality": {"cv": {"folds": 3}}}
FULL = ["credit_default", "mammography", "wine_quality", "nyc_taxis_tip"]
QUICK = ["titanic", "nyc_taxis_tip"]
METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "r2"}
ESTIMATORS = {"mlengine": ["lightgbm", "random_forest", "extra_trees"], "flaml": ["lgbm", "rf", "extra_tree"]}
# mlengine variants: the levers worth measuring (search.* overrides); a full run measures mlengine, +greedy and
# +greedy+sigmoid (--systems picks any)
VARIANTS = {
    "mlengine": {"warm_start": "defaults"},
    # what a user gets from `search: {time_budget: N}`: mlengine's default estimators (tree families + linear),
    # not the three shared with FLAML, then the greedy ensemble (search.ensemble.method's default since
    # 2026-12-04); issue 15's "default search" claim is measured on this row
    "mlengine-default": {},
    # the default search keeping its single best trial (what mlengine-default was before 2026-12-04)
    "mlengine-default-single": {"ensemble": {"method": "none"}},
    # the same as mlengine-default since greedy is the default (kept: the 60 s tables name it)
    "mlengine-default+greedy": {"ensemble": {"method": "greedy"}},
    "mlengine+zero_shot": {"warm_start": "zero_shot"},
    "mlengine+zero_shot+voting": {"warm_start": "zero_shot", "ensemble": {"method": "voting", "top_k": 3}},
    "mlengine+sigmoid": {"warm_start": "defaults"},
    "mlengine+greedy": {"warm_start": "defaults", "ensemble": {"method": "greedy", "top_k": 10}},
    "mlengine+greedy+sigmoid": {"warm_start": "defaults", "ensemble": {"method": "greedy", "top_k": 10}},
}
# recipe sections a variant adds besides search.* (classification only: the "calibration helps" lever)
VARIANT_SECTIONS = {"mlengine+sigmoid": {"calibration": {"method": "sigmoid"}},
                    "mlengine+greedy+sigmoid": {"calibration": {"method": "sigmoid"}}}


def find_data(name: str) -> Path | None:
    file = DATASETS[name][0]
    for base in SHARED:
        if (base / file).is_file():
            return base / file
    return BUNDLED / file if (BUNDLED / file).is_file() else None


def load(name: str, path: Path) -> tuple[pd.DataFrame, pd.Series, str, object]:
    """Typed features and target through mlengine's own reader (datetimes parsed, target checked)."""
    from mlengine.api import load_recipe  # noqa: F401  (imports the package)
    from mlengine.data.sources import read_source
    from mlengine.data.table import prepare_table
    from mlengine.recipe.load import recipe_from_dict

    _, target, task, drop = DATASETS[name]
    loaded = recipe_from_dict({"name": name, "task": task, "data": {"source": {"kind": "csv", "path": str(path)},
                                                                   "target": target, "drop": drop,
                                                                   "missing_target": "drop"}})
    data = prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)
    return data.X, data.y, task, data.pos_label


def score(task: str, y: pd.Series, pred: np.ndarray, proba: np.ndarray | None, classes: list, pos) -> dict:
    from mlengine.evaluate.metrics import METRICS

    out = {METRIC[task]: METRICS[METRIC[task]].score(y.to_numpy(), pred=pred, proba=proba, classes=classes,
                                                     pos_label=pos)}
    if task != "regression":
        out["log_loss"] = METRICS["log_loss"].score(y.to_numpy(), pred=pred, proba=proba, classes=classes,
                                                    pos_label=pos)
    return out


def run_mlengine(variant: str | None, X_tr, y_tr, X_te, task, budget, seed, tmp: Path, extra: dict) -> tuple:
    import mlengine
    from mlengine.evaluate.crossval import predict_all

    train = X_tr.assign(**{"__y": y_tr.to_numpy()})
    path = tmp / "train.parquet"
    train.to_parquet(path, index=False)
    recipe = {"name": "bench", "seed": seed, "task": task, "split": {"holdout": 0},
              "data": {"source": {"kind": "parquet", "path": str(path)}, "target": "__y"},
              "evaluate": {"metric": METRIC[task]}}
    if variant is None:  # untuned LightGBM: mlengine's defaults, fitted once
        recipe["cv"] = {"kind": "none"}
    else:
        estimators = {} if variant.startswith("mlengine-default") else {"estimators": ESTIMATORS["mlengine"]}
        recipe["search"] = {**estimators, "time_budget": budget, **VARIANTS[variant]}
        recipe.update(VARIANT_SECTIONS.get(variant, {}))
        recipe.update(extra)
    result = mlengine.run(recipe, runs_dir=tmp / "runs")
    pred, proba = predict_all(result.model, X_te, task)
    search = result.metrics.get("search") or {}
    return pred, proba, list(getattr(result.model, "classes_", [])), search.get("seconds", np.nan)


def run_flaml(X_tr, y_tr, X_te, task, budget, seed) -> tuple:
    from flaml import AutoML

    automl = AutoML()
    automl.fit(X_tr, y_tr, task="regression" if task == "regression" else "classification",
               metric=METRIC[task], time_budget=budget, estimator_list=ESTIMATORS["flaml"], seed=seed,
               n_jobs=-1, verbose=0)
    pred = np.asarray(automl.predict(X_te))
    proba = None if task == "regression" else np.asarray(automl.predict_proba(X_te))
    return pred, proba, list(automl.classes_) if task != "regression" else [], np.nan


def autogluon_python(install: bool) -> Path | None:
    """The AutoGluon venv's python, installing it once; None (with a message) if it will not install."""
    py = AG_VENV / "bin" / "python"
    if py.is_file() and subprocess.run([py, "-c", "import autogluon.tabular"], capture_output=True).returncode == 0:
        return py
    if not install:
        return None
    print(f"installing autogluon.tabular[lightgbm] into {AG_VENV} (once) ...", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(AG_VENV)], check=True, timeout=120)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "autogluon.tabular[lightgbm]"], check=True, timeout=1800)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"AutoGluon skipped: it did not install ({exc}).", file=sys.stderr)
        return None
    return py


def run_autogluon(py: Path, X_tr, y_tr, X_te, task, budget, tmp: Path) -> tuple:
    X_tr.assign(__y=y_tr.to_numpy()).to_csv(tmp / "ag_train.csv", index=False)
    X_te.to_csv(tmp / "ag_test.csv", index=False)
    cmd = [str(py), str(ROOT / "benchmarks" / "autogluon_child.py"), str(tmp / "ag_train.csv"),
           str(tmp / "ag_test.csv"), "__y", task, METRIC[task], str(budget), str(tmp / "ag_out.json")]
    subprocess.run(cmd, check=True, capture_output=True, timeout=budget * 4 + 600)
    out = json.loads((tmp / "ag_out.json").read_text())
    proba = None if out["proba"] is None else np.asarray(out["proba"], dtype=float)
    classes = out["classes"]
    if classes and isinstance(y_tr.iloc[0], (int, np.integer)):
        classes = [int(c) for c in classes]
    pred = np.asarray(out["pred"], dtype=float) if task == "regression" else np.asarray(classes, dtype=object)[
        np.argmax(proba, axis=1)]
    return pred, proba, classes, np.nan


def outer_folds(y: pd.Series, task: str, k: int, seed: int):
    from sklearn.model_selection import KFold, StratifiedKFold

    cls = KFold if task == "regression" else StratifiedKFold
    return list(cls(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 small datasets, 15 s budget, 2 outer folds")
    ap.add_argument("--budgets", type=float, nargs="*")
    ap.add_argument("--datasets", nargs="*")
    ap.add_argument("--folds", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--systems", nargs="*", help="subset of: lightgbm_untuned flaml autogluon " + " ".join(VARIANTS))
    ap.add_argument("--busy", type=int, default=0, metavar="N",
                    help="run N CPU-bound background processes the whole time (a busy machine); stopped at the end")
    ap.add_argument("--no-autogluon", action="store_true", help="skip AutoGluon (and its one-time install)")
    ap.add_argument("--save", type=Path, help="also write the result rows to this CSV")
    ap.add_argument("--report", type=Path, nargs="+", metavar="CSV",
                    help="print the table and ranks of rows saved by earlier --save runs (no fitting)")
    args = ap.parse_args()
    if args.report:
        frame = pd.concat([pd.read_csv(p, dtype={"budget": str}) for p in args.report], ignore_index=True)
        order = ["lightgbm_untuned", *VARIANTS, "flaml", "autogluon"]
        frame = frame.assign(_d=frame["dataset"].map({d: i for i, d in enumerate(dict.fromkeys(frame["dataset"]))}),
                             _s=frame["system"].map({s: i for i, s in enumerate(order)}))
        frame = frame.sort_values(["_d", "budget", "_s"], key=lambda c: c if c.name != "budget" else
                                  c.replace("-", "0").astype(float)).drop(columns=["_d", "_s"])
        report(frame, int(frame["folds"].max()))
        return
    budgets = args.budgets or ([15] if args.quick else [60, 300])
    names = args.datasets or (QUICK if args.quick else FULL)
    k = args.folds or (2 if args.quick else 3)
    variants = ["mlengine", "mlengine-default"] if args.quick else ["mlengine", "mlengine-default",
                                                                       "mlengine+greedy", "mlengine+greedy+sigmoid"]
    systems = args.systems or ["lightgbm_untuned", *variants, "flaml", "autogluon"]
    warnings.filterwarnings("ignore")
    import logging

    from mlengine.log import setup_console

    setup_console(quiet=True)
    logging.getLogger("mlengine").handlers[-1].setLevel(logging.ERROR)  # no per-run warnings between rows
    logging.getLogger("flaml").setLevel(logging.ERROR)
    if not any(b.is_dir() for b in SHARED):
        print(f"note: {SHARED[0]} is absent; using the datasets bundled in {BUNDLED} where they exist.")
    ag = None
    if "autogluon" in systems and not args.no_autogluon:
        ag = autogluon_python(install=True)
    if "autogluon" in systems and ag is None:
        print("note: AutoGluon is absent (not installed or --no-autogluon); its rows are skipped.")
        systems = [s for s in systems if s != "autogluon"]
    rows = []
    burners = start_background(args.busy)
    try:
        measure(args, names, budgets, systems, k, ag, rows)
    finally:
        for proc in burners:
            proc.terminate()
            proc.join(5)
    report(pd.DataFrame(rows), k)


def _burn() -> None:  # a CPU-bound background process (as benchmarks/busy_machine.py)
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


def start_background(n: int) -> list:
    import multiprocessing as mp

    procs = [mp.get_context("spawn").Process(target=_burn, daemon=True) for _ in range(n)]
    for proc in procs:
        proc.start()
    if n:
        print(f"busy machine: {n} CPU-bound background process(es) running", file=sys.stderr)
    return procs


def measure(args, names, budgets, systems, k, ag, rows: list) -> None:
    """Fit every system on every dataset's outer folds; rows are appended (and saved) as they finish."""
    for name in names:
        path = find_data(name)
        if path is None:
            print(f"note: dataset {name} ({DATASETS[name][0]}) is absent; skipped.")
            continue
        X, y, task, pos = load(name, path)
        folds = outer_folds(y, task, k, args.seed)
        for budget in budgets:
            for system in systems:
                if system == "lightgbm_untuned" and budget != budgets[0]:
                    continue
                if system in VARIANT_SECTIONS and task == "regression":  # calibration is for classifiers
                    continue
                res = []
                for i, (tr, te) in enumerate(folds):
                    with tempfile.TemporaryDirectory() as d:
                        t = time.perf_counter()
                        Xtr, ytr, Xte = X.iloc[tr], y.iloc[tr], X.iloc[te]
                        try:
                            if system == "flaml":
                                pred, proba, classes, search_s = run_flaml(Xtr, ytr, Xte, task, budget, args.seed)
                            elif system == "autogluon":
                                pred, proba, classes, search_s = run_autogluon(ag, Xtr, ytr, Xte, task, budget, Path(d))
                            else:
                                variant = None if system == "lightgbm_untuned" else system
                                pred, proba, classes, search_s = run_mlengine(variant, Xtr, ytr, Xte, task, budget, args.seed,
                                                                    Path(d), DATASET_RECIPE.get(name, {}))
                        except Exception as exc:
                            print(f"{name} {system} fold {i}: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                            continue
                        sc = score(task, y.iloc[te], pred, proba, classes, pos)
                        res.append({**sc, "seconds": time.perf_counter() - t, "search_seconds": search_s,
                                    "max_seconds": time.perf_counter() - t})
                if res:
                    frame = pd.DataFrame(res).mean()
                    rows.append({"dataset": name, "task": task, "metric": METRIC[task],
                                 "budget": "-" if system == "lightgbm_untuned" else f"{budget:g}",
                                 "system": system, "score": frame[METRIC[task]],
                                 "log_loss": frame.get("log_loss", np.nan), "seconds": frame["seconds"],
                                 "folds": len(res), "search_seconds": frame["search_seconds"],
                                 "max_seconds": pd.DataFrame(res)["max_seconds"].max(), "busy": args.busy})
                    print(f"{name:<14} {system:<26} budget {rows[-1]['budget']:>4}: {METRIC[task]} "
                          f"{rows[-1]['score']:.4f}  ({rows[-1]['seconds']:.0f} s/fold)", file=sys.stderr)
                    if args.save:  # after every row: an interrupted run keeps what it measured
                        pd.DataFrame(rows).to_csv(args.save, index=False)


def report(frame: pd.DataFrame, k: int) -> None:
    if frame.empty:
        print("no results")
        return
    print(f"\nsearch quality: mean over {k} outer folds (score: roc_auc binary, log_loss multiclass, r2 regression); "
          f"{os.cpu_count()} cores, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    if "busy" in frame and frame["busy"].fillna(0).max() > 0:
        print(f"busy machine: {int(frame['busy'].max())} CPU-bound background process(es) the whole time")
    print("s/fold: wall seconds per outer fold (mlengine: the whole run, refit, report and export included); "
          "search s: mlengine's search stage (metrics.json search.seconds), the time the budget bounds; "
          "max s: the slowest fold's wall seconds")
    print(f"{'dataset':<15}{'metric':<9}{'budget':>7}  {'system':<27}{'score':>9}{'log_loss':>10}{'s/fold':>8}"
          f"{'search s':>9}{'max s':>7}")

    def cell(value, width: int) -> str:
        return f"{'-':>{width}}" if value is None or pd.isna(value) else f"{value:>{width}.1f}"

    for _, r in frame.iterrows():
        ll = f"{r['log_loss']:>10.4f}" if not pd.isna(r["log_loss"]) else f"{'-':>10}"
        print(f"{r['dataset']:<15}{r['metric']:<9}{r['budget']:>7}  {r['system']:<27}{r['score']:>9.4f}{ll}"
              f"{r['seconds']:>8.1f}{cell(r.get('search_seconds'), 9)}{cell(r.get('max_seconds'), 7)}")
    lower = frame["metric"].eq("log_loss")
    frame = frame.assign(key=np.where(lower, frame["score"], -frame["score"]))
    ranks = []
    for (_, budget), grp in frame[frame["budget"] != "-"].groupby(["dataset", "budget"]):
        floor = frame[(frame["dataset"] == grp["dataset"].iloc[0]) & (frame["budget"] == "-")]
        grp = pd.concat([grp, floor])
        ranks.append(grp.assign(rank=grp["key"].rank(method="min"), budget=budget))
    if ranks:
        r = pd.concat(ranks).groupby(["budget", "system"])["rank"].mean().unstack(0)
        print("\nmean rank per budget (1 = best; untuned LightGBM counted in every budget)")
        print(r.round(2).to_string())
    mine = [s for s in dict.fromkeys(frame["system"]) if s.startswith("mlengine")]
    others = [s for s in dict.fromkeys(frame["system"]) if not s.startswith("mlengine")]
    if len(mine) > 1 and others:  # mlengine variants take each other's ranks above: each against the others alone
        print("\nhead to head: each mlengine variant ranked against the other systems only (score rank; log-loss "
              "rank, classification)")
        for variant in mine:
            sub = frame[frame["system"].isin([variant, *others])]
            score_r, ll_r = [], []
            for (_, budget), grp in sub[sub["budget"] != "-"].groupby(["dataset", "budget"]):
                floor = sub[(sub["dataset"] == grp["dataset"].iloc[0]) & (sub["budget"] == "-")]
                grp = pd.concat([grp, floor])
                score_r.append(grp.assign(rank=grp["key"].rank(method="min"), budget=budget))
                ll = grp.dropna(subset=["log_loss"])
                if not ll.empty:
                    ll_r.append(ll.assign(rank=ll["log_loss"].rank(method="min"), budget=budget))
            for label, parts in (("score", score_r), ("log loss", ll_r)):
                if parts:
                    table = pd.concat(parts).groupby(["budget", "system"])["rank"].mean().unstack(0)
                    print(f"\n{variant}: mean {label} rank")
                    print(table.round(2).to_string())
    ll_ranks = []
    for (_, budget), grp in frame[frame["budget"] != "-"].dropna(subset=["log_loss"]).groupby(["dataset", "budget"]):
        floor = frame[(frame["dataset"] == grp["dataset"].iloc[0]) & (frame["budget"] == "-")]
        grp = pd.concat([grp, floor]).dropna(subset=["log_loss"])
        ll_ranks.append(grp.assign(rank=grp["log_loss"].rank(method="min"), budget=budget))
    if ll_ranks:
        r = pd.concat(ll_ranks).groupby(["budget", "system"])["rank"].mean().unstack(0)
        print("\nmean log-loss rank per budget, classification datasets (1 = best)")
        print(r.round(2).to_string())


if __name__ == "__main__":
    main()
