"""Drift monitoring end to end on titanic: reference.json in the run record, `mlengine drift` verdicts and exit codes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlengine.cli import main
from mlengine.monitor.compare import Thresholds, compare_frame
from mlengine.monitor.reference import build_reference
from mlengine.monitor.stats import chi_square, ks_from_sketch, psi

from tests.conftest import DATA, TITANIC, read_json
from tests.report_helpers import _rendered, chromium  # noqa: F401  (the browser fixture and page check of the run report)

TITANIC_FAST = TITANIC.replace("n_estimators: 30", "n_estimators: 20")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    base = tmp_path_factory.mktemp("drift")
    (base / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", base / "data" / "titanic.csv")
    (base / "r.yaml").write_text(TITANIC_FAST)
    assert main(["run", str(base / "r.yaml"), "--runs-dir", str(base / "runs"), "-q"]) == 0
    return next((base / "runs" / "t").iterdir())


@pytest.fixture(scope="module")
def shifted(tmp_path_factory) -> Path:
    """Titanic with age shifted +15 years, a new deck 'Z' on 200 rows, and fare missing on a third of rows."""
    d = pd.read_csv(DATA / "titanic.csv")
    d["age"] = d["age"] + 15
    d.loc[:199, "deck"] = "Z"
    d.loc[:299, "fare"] = np.nan
    path = tmp_path_factory.mktemp("shift") / "shifted.csv"
    d.to_csv(path, index=False)
    return path


def drift(capsys, *args) -> tuple[int, str, str]:
    code = main(["drift", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------------------ statistics ---
def test_psi_pinned_to_hand_computed_values():
    # shares (c + 0.5) / (100 + 1.5): (10.5, 30.5, 60.5) vs (20.5, 30.5, 50.5) over 101.5
    # PSI = 10/101.5 * ln(20.5/10.5) + 0 + (-10/101.5) * ln(50.5/60.5) = 0.098522 * (0.669050 + 0.180668)
    assert psi([10, 30, 60], [20, 30, 50]) == pytest.approx(0.083716, abs=1e-6)
    assert psi([50, 50], [50, 50]) == 0.0
    # an empty bin is smoothed, not infinite: (0.5/101, 100.5/101) vs (0.5, 0.5)
    # PSI = 0.49505 * ln(0.5 / 0.0049505) + 0.49505 * ln(0.99505 / 0.5) = 0.49505 * (4.61512 + 0.68820)
    assert psi([0, 100], [50, 50]) == pytest.approx(2.625398, abs=1e-6)


def test_ks_and_chi_square_detect_shift_and_not_sameness():
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    prof = build_reference(pd.DataFrame({"x": x}), type("C", (), {"numeric": ["x"], "boolean": [], "categorical": [],
                                                                  "datetime": []})(),
                           task="regression", classes=[], pos_label=None)["features"]["x"]
    same = np.sort(rng.normal(size=2000))
    moved = np.sort(rng.normal(0.3, 1, size=2000))
    d_same, p_same = ks_from_sketch(prof["sketch"], prof["sketch_cdf"], 5000, same)
    d_moved, p_moved = ks_from_sketch(prof["sketch"], prof["sketch_cdf"], 5000, moved)
    assert p_same > 0.01 and d_same < 0.05
    assert p_moved < 1e-10 and 0.09 < d_moved < 0.15  # true D of N(0,1) vs N(0.3,1) is 0.119
    assert chi_square([100, 100], [100, 100])[1] == pytest.approx(1.0)
    assert chi_square([100, 100], [150, 50])[1] < 1e-4


# ---------------------------------------------------------------------------------------- run record ---
@pytest.mark.slow
def test_reference_is_recorded_hashed_small_and_deterministic(run_dir):
    ref = read_json(run_dir / "reference.json")
    assert (run_dir / "reference.json").stat().st_size < 30_000
    assert "reference.json" in json.dumps(read_json(run_dir / "manifest.json"))
    assert ref["rows"] == 712 and set(ref["features"]) >= {"age", "fare", "deck", "sex", "pclass"}
    age = ref["features"]["age"]
    assert sum(age["counts"]) + age["missing"] == 712 and len(age["counts"]) <= 10
    assert ref["features"]["sex"]["levels"] == {"male": 464, "female": 248}
    score = ref["prediction"]["score"]
    assert sum(score["counts"]) == 712 and 0 <= score["min"] <= score["max"] <= 1
    # no raw rows: far fewer numbers stored than training cells
    assert sum(len(p.get("sketch", [])) for p in ref["features"].values()) < 712


# -------------------------------------------------------------------------------------------- verdicts ---
def test_shifted_columns_and_only_those_alert(run_dir, shifted, capsys, tmp_path):
    code, out, _ = drift(capsys, run_dir, shifted, "-o", tmp_path / "drift.html")
    assert code == 3
    result = read_json(tmp_path / "drift.json")
    flagged = {c for c, e in result["columns"].items() if e["status"] != "ok"}
    assert flagged == {"age", "deck", "fare"}
    table_order = [line.split()[0] for line in out.splitlines()[3:6]]
    assert set(table_order) == flagged  # drifting columns first
    deck = pd.read_csv(shifted)["deck"]
    assert result["columns"]["deck"]["unseen"] == pytest.approx(200 / deck.notna().sum())
    assert result["columns"]["fare"]["missing_new"] == pytest.approx(300 / 891)
    assert result["columns"]["age"]["out_of_range"] > 0
    assert result["columns"]["age"]["p_value"] < 1e-10


def test_unshifted_samples_do_not_alert_false_alarm_rate(run_dir, capsys):
    from mlengine.monitor.commands import load_run

    reference, monitor = load_run(run_dir)
    full = pd.read_csv(DATA / "titanic.csv")
    alerts = warns = 0
    for seed in range(20):
        sample = full.sample(400, random_state=seed)
        result = compare_frame(reference, sample, Thresholds.from_recipe(monitor))
        alerts += sum(e["status"] == "alert" for e in result["columns"].values())
        warns += sum(e["status"] == "warn" for e in result["columns"].values())
    n = 20 * len(reference["features"])
    print(f"false alarms on 20 unshifted 400-row samples: {alerts}/{n} alerts, {warns}/{n} warnings")
    assert alerts == 0
    assert warns / n <= 0.05


def test_exit_0_on_same_data_and_json(run_dir, capsys):
    code, out, _ = drift(capsys, run_dir, DATA / "titanic.csv", "--json", "--labels")
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "ok" and result["rows"] == 891
    assert result["prediction"]["score"]["status"] == "ok"
    assert set(result["labels"]["new"]) == set(result["labels"]["holdout"])


def test_bad_input_exits_2_naming_the_column(run_dir, capsys, tmp_path):
    d = pd.read_csv(DATA / "titanic.csv")
    d.drop(columns=["sex"]).to_csv(tmp_path / "nosex.csv", index=False)
    code, _, err = drift(capsys, run_dir, tmp_path / "nosex.csv")
    assert code == 2 and "'sex'" in err and "Traceback" not in err
    d["age"] = d["age"].astype(str).where(d.index > 5, "old")
    d.to_csv(tmp_path / "textage.csv", index=False)
    code, _, err = drift(capsys, run_dir, tmp_path / "textage.csv")
    assert code == 2 and "'age'" in err and "non-numeric" in err
    code, _, err = drift(capsys, run_dir, tmp_path / "missing.csv")
    assert code == 2 and "not a file" in err
    (tmp_path / "x.txt").write_text("a")
    code, _, err = drift(capsys, run_dir, tmp_path / "x.txt")
    assert code == 2 and ".parquet" in err


def test_monitor_section_overrides_thresholds(run_dir, shifted, tmp_path):
    import yaml

    from mlengine.monitor.commands import run_drift

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    recipe = yaml.safe_load((run / "recipe.yaml").read_text())
    recipe["monitor"] = {"psi_alert": 5.0, "columns": {"deck": {"ignore": True}}}
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    result = run_drift(run, pd.read_csv(shifted), with_model=False)
    assert result["status"] == "warn"
    assert result["columns"]["deck"]["status"] == "ok" and result["columns"]["age"]["status"] == "warn"


def test_drift_page_renders_in_headless_chromium(chromium, run_dir, shifted, capsys, tmp_path):  # noqa: F811
    page = tmp_path / "drift.html"
    assert drift(capsys, run_dir, shifted, "-o", page)[0] == 3
    html = page.read_text()
    assert "http://" not in html and "https://" not in html
    rendered, console = _rendered(tmp_path, page)
    assert rendered == "4/4" and console == []  # age, deck, fare and the prediction score


def test_by_month_shows_when_drift_started(run_dir, capsys, tmp_path):
    d = pd.read_csv(DATA / "titanic.csv")
    late = d.index >= 450
    d.loc[late, "age"] = d.loc[late, "age"] + 20
    d["when"] = np.where(late, "2024-02-10", "2024-01-15")
    d.to_csv(tmp_path / "months.csv", index=False)
    code, out, _ = drift(capsys, run_dir, tmp_path / "months.csv", "--by", "month", "--time-column", "when", "--json")
    assert code == 3
    chunks = json.loads(out)["chunks"]
    assert list(chunks) == ["2024-01", "2024-02"]
    assert chunks["2024-01"]["status"] == "ok" and chunks["2024-01"]["rows"] == 450
    assert chunks["2024-02"]["columns"]["age"]["status"] == "alert"
    code, out, _ = drift(capsys, run_dir, tmp_path / "months.csv", "--by", "when")  # a column naming the chunks
    assert code == 3 and "2024-02-10" in out
    code, _, err = drift(capsys, run_dir, tmp_path / "months.csv", "--by", "month")
    assert code == 2 and "--time-column" in err
