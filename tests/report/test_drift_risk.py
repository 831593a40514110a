"""Drift risk before deployment on titanic with a synthetic date column: stability per period on out-of-fold
predictions, adversarial validation against shifted and unshifted samples, seasonality in the profile, bad keys."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlengine.cli import main
from mlengine.evaluate.stability import ByColumn, assign_periods

from tests.conftest import DATA, read_json
from tests.report_helpers import _rendered, chromium  # noqa: F401  (the browser fixture and page check of the run report)

TIME_RECIPE = """
name: dated
seed: 3
data:
  source: {kind: csv, path: data/dated.csv}
  target: survived
  time: date
  drop: [alive, who, adult_male, class, embark_town]
model:
  name: lightgbm
  params: {n_estimators: 20}
cv: {folds: 3}
evaluate:
  adversarial: {data: data/shifted.csv, folds: 3}
"""

SEARCH_RECIPE = """
name: searched
seed: 3
data:
  source: {kind: csv, path: data/dated.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town, date]
search: {estimators: [lightgbm], trials: 2}
cv: {folds: 3}
evaluate:
  stability: {by: embark_town}
  adversarial: {data: data/unshifted.csv, folds: 3}
"""


def dated_titanic() -> pd.DataFrame:
    """Titanic in a seeded random order with one distinct timestamp per row, 12 hours apart."""
    d = pd.read_csv(DATA / "titanic.csv").sample(frac=1.0, random_state=0).reset_index(drop=True)
    d["date"] = (pd.Timestamp("2021-01-01") + pd.to_timedelta(np.arange(len(d)) * 12, unit="h")).astype(str)
    return d


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    base = tmp_path_factory.mktemp("risk")
    (base / "data").mkdir()
    d = dated_titanic()
    d.to_csv(base / "data" / "dated.csv", index=False)
    shifted = d.sample(300, random_state=1).copy()
    shifted["age"] = shifted["age"] + 15  # one column shifted, every other column as in training
    shifted.drop(columns=["survived"]).to_csv(base / "data" / "shifted.csv", index=False)
    d.sample(300, random_state=2).to_csv(base / "data" / "unshifted.csv", index=False)
    return base


def _run(base: Path, text: str, name: str) -> Path:
    (base / f"{name}.yaml").write_text(text)
    assert main(["run", str(base / f"{name}.yaml"), "--runs-dir", str(base / "runs"), "-q"]) == 0
    return next((base / "runs" / name).iterdir())


@pytest.fixture(scope="module")
def time_run(base) -> Path:
    return _run(base, TIME_RECIPE, "dated")


@pytest.fixture(scope="module")
def search_run(base) -> Path:
    return _run(base, SEARCH_RECIPE, "searched")


@pytest.mark.slow
def test_stability_is_on_by_the_time_column_and_scores_out_of_fold(time_run):
    m = read_json(time_run / "metrics.json")
    st = m["stability"]
    assert st["by"] == "date" and st["chosen"] == "data.time" and st["kind"] == "datetime"
    periods = st["periods"]
    # 713 training rows (the last 178 by time are the holdout) in 4 equal-count periods, in time order
    assert [p["rows"] for p in periods] == [179, 178, 178, 178]
    assert all(a["end"] < b["start"] for a, b in zip(periods, periods[1:], strict=False))
    # time_series CV with 3 folds validates exactly periods 2-4 (one block of distinct times each) and never
    # the first: so each later period's metric IS that fold's out-of-fold score, and period 1 has none
    assert [p["validated"] for p in periods] == [0, 178, 178, 178]
    assert periods[0]["metrics"]["roc_auc"] is None
    folds = m["cv"]["roc_auc"]["folds"]
    assert [p["metrics"]["roc_auc"] for p in periods[1:]] == pytest.approx(folds, abs=1e-12)
    # PSI of every profiled feature in each later period, against the first; the datetime column is not profiled
    features = set(m["features"]["numeric"] + m["features"]["categorical"] + m["features"]["boolean"])
    assert all(set(p["psi"]) == features for p in periods[1:]) and periods[0]["psi"] == {}
    assert "date" not in st["max_psi"] and list(st["max_psi"].values()) == sorted(st["max_psi"].values(),
                                                                                  reverse=True)
    # the score's reference is the first period with out-of-fold scores (period 2); later ones get a PSI
    assert periods[1].get("score_reference") and [p["score_psi"] is not None for p in periods] == [False, False,
                                                                                                   True, True]
    html = (time_run / "report.html").read_text()
    assert '<section id="stability">' in html and 'alt="PSI per period"' in html and 'alt="roc_auc per period"' in html


@pytest.mark.slow
def test_stability_by_a_column_after_a_search(search_run):
    m = read_json(search_run / "metrics.json")
    assert (search_run / "leaderboard.csv").is_file()
    st = m["stability"]
    assert st["by"] == "embark_town" and st["chosen"] == "evaluate.stability.by"  # a dropped column, read raw
    assert [p["label"] for p in st["periods"]] == ["Cherbourg", "Queenstown", "Southampton"]
    # k-fold validates every training row once: the periods' out-of-fold rows add up to the training split
    assert sum(p["validated"] for p in st["periods"]) == m["rows"]["train"] - st["rows_without_period"]
    assert all(0.5 < p["metrics"]["roc_auc"] <= 1.0 for p in st["periods"])


def test_adversarial_names_the_shifted_column(time_run):
    adv = read_json(time_run / "metrics.json")["adversarial"]
    assert adv["auc"] > 0.7 and adv["verdict"] in ("partly separable", "separable")
    assert adv["features"][0]["feature"] == "age" and adv["top_features"][0] == "age"
    assert {k: adv["rows"][k] for k in ("train", "sample", "sample_read")} == {"train": 713, "sample": 300,
                                                                               "sample_read": 300}  # no holdout
    assert adv["left_out"] == {"date": "datetime"}
    assert max(adv["features"], key=lambda f: f["psi"])["feature"] == "age"
    html = (time_run / "report.html").read_text()
    assert '<section id="adversarial">' in html and 'alt="adversarial importance"' in html


def test_adversarial_on_an_unshifted_sample_is_near_one_half(search_run):
    adv = read_json(search_run / "metrics.json")["adversarial"]
    assert abs(adv["auc"] - 0.5) < 0.1, adv["auc"]
    assert adv["verdict"] == "similar"


def test_equal_count_periods_keep_equal_values_together():
    values = pd.Series([1.0] * 5 + [2.0] * 5 + list(np.arange(3.0, 13.0)))
    codes, info = assign_periods(ByColumn("x", "numeric", values, "evaluate.stability.by"), 4)
    for v in values.unique():
        assert len(set(codes[values.to_numpy() == v])) == 1
    assert np.bincount(codes).tolist() == [5, 5, 5, 5] and info[0]["label"] == "1"
    few = pd.Series([1980.0, 1981.0, 1982.0] * 4)  # at most `periods` distinct values: one period each
    codes, info = assign_periods(ByColumn("year", "numeric", few, "evaluate.stability.by"), 4)
    assert [p["label"] for p in info] == ["1980", "1981", "1982"]


def test_profile_shows_the_target_rate_per_month_and_weekday(base, cli, tmp_path):
    recipe = base / "profile.yaml"
    recipe.write_text(TIME_RECIPE.replace("name: dated", "name: prof"))
    code, out, err = cli("profile", recipe, "-o", tmp_path / "p")
    assert code == 0, err
    prof = read_json(tmp_path / "p" / "profile.json")
    season = next(c for c in prof["columns"] if c["name"] == "date")["seasonality"]
    d = dated_titanic()
    t = pd.to_datetime(d["date"])
    assert season["measure"] == "share of survived = 1"
    expect = d.groupby(t.dt.day_of_week)["survived"].mean()
    assert [c["name"] for c in season["by_weekday"]] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert [c["rate"] for c in season["by_weekday"]] == pytest.approx(expect.to_list(), abs=1e-6)
    assert [c["rows"] for c in season["by_month"]] == t.dt.month.value_counts().sort_index().to_list()
    html = (tmp_path / "p" / "profile.html").read_text()
    assert 'alt="seasonality"' in html and "by the calendar of &#x27;date&#x27;" in html
    assert "## Seasonality: `date`" in (tmp_path / "p" / "data_dictionary.md").read_text()


@pytest.mark.parametrize(("change", "key", "detail"), [
    ({"evaluate:": "evaluate:\n  stability: {by: nope}"}, "evaluate.stability.by", "'nope' is not in the data"),
    ({"evaluate:": "evaluate:\n  stability: {by: survived}"}, "evaluate.stability.by", "is the target"),
    ({"evaluate:": "evaluate:\n  stability: {periods: 1}"}, "evaluate.stability.periods", "greater than or equal"),
    ({"evaluate:": "evaluate:\n  stability: {periods: 50}"}, "evaluate.stability.by", "each period needs"),
    ({"cv: {folds: 3}": "cv: {kind: none}", "evaluate:": "evaluate:\n  stability: {by: date}",
      "  time: date\n": ""}, "evaluate.stability", "cv.kind is 'none'"),
    ({"data/shifted.csv": "data/missing.csv"}, "evaluate.adversarial.data", "does not exist"),
    ({"data/shifted.csv": "data/sample.txt"}, "evaluate.adversarial.data", "neither a .csv nor a .parquet"),
    ({"data/shifted.csv": "data/no_age.csv"}, "evaluate.adversarial.data", "lacks 1 training feature(s): 'age'"),
])
def test_bad_keys_exit_2_naming_the_key(base, cli, tmp_path, change, key, detail):
    data = tmp_path / "data"
    shutil.copytree(base / "data", data)
    pd.read_csv(data / "shifted.csv").drop(columns=["age"]).to_csv(data / "no_age.csv", index=False)
    text = TIME_RECIPE
    for old, new in change.items():
        text = text.replace(old, new, 1)
    (tmp_path / "bad.yaml").write_text(text)
    code, out, err = cli("run", tmp_path / "bad.yaml", "--runs-dir", tmp_path / "runs", "-q")
    assert code == 2, err
    assert key in err and detail in err and "Traceback" not in err
    runs = list((tmp_path / "runs").glob("*/*/status.json"))
    assert all(read_json(s)["status"] == "failed" for s in runs)
    assert not list((tmp_path / "runs").glob("*/*/model.joblib"))  # refused before anything was fitted


def test_adversarial_auc_on_disjoint_random_splits_stays_near_one_half():
    """Five seeded disjoint random splits of titanic (training side 600 rows, sample the other 291): the AUCs
    are printed (run with -s) and every one stays near 0.5; a shift of one column on the same split does not."""
    from types import SimpleNamespace

    from mlengine.data.table import Columns, coerce_column
    from mlengine.evaluate.adversarial import adversarial_validation

    d = pd.read_csv(DATA / "titanic.csv")
    cols = Columns(numeric=["pclass", "age", "sibsp", "parch", "fare"], categorical=["sex", "embarked", "deck"],
                   boolean=["alone"])
    typed = pd.DataFrame({c: coerce_column(d[c], cols.kind_of(c), c) for c in cols.features})
    section = SimpleNamespace(max_rows=20000, folds=3, data=SimpleNamespace(kind="csv"))
    aucs = []
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(len(d))
        train, sample = typed.iloc[order[:600]], typed.iloc[order[600:]]
        aucs.append(adversarial_validation(section, train, sample, cols, seed=seed, n_jobs=1)["auc"])
    print("adversarial AUC on 5 disjoint random splits:", [round(a, 3) for a in aucs])
    assert all(abs(a - 0.5) < 0.1 for a in aucs), aucs
    moved = sample.assign(fare=sample["fare"] * 1.5)
    out = adversarial_validation(section, train, moved, cols, seed=0, n_jobs=1)
    assert out["auc"] > 0.7 and out["features"][0]["feature"] == "fare"


def test_report_with_drift_risk_renders_in_headless_chromium(chromium, time_run, tmp_path):  # noqa: F811
    page = time_run / "report.html"
    n = page.read_text().count('<img data-plot="1"')
    rendered, console = _rendered(tmp_path, page)
    assert rendered == f"{n}/{n}" and console == []
