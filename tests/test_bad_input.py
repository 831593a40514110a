"""The bad-input corpus (issue 14): each case is a command a user could type with something wrong in it.

Every case asserts the exit code, that the message names the key, column or flag at fault, that there is no
traceback, and that nothing was written outside the runs folder (a snapshot of the working folder around the
case). Cases run in-process at validate level where they can, so the corpus stays fast.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, TITANIC

BASE = TITANIC


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and skip not in p.parents:
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def case(tmp_path, monkeypatch, cli):
    """Run one bad command in a fresh folder holding the bundled titanic data; check the shared promises."""
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", tmp_path / "data" / "titanic.csv")
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"

    def run(recipe_text: str | None, *args: str, code: int = 2, needle: str | tuple[str, ...] = (),
            command: str = "validate", recipe: str = "recipe.yaml") -> str:
        if recipe_text is not None:
            (tmp_path / recipe).write_text(recipe_text, encoding="utf-8")
        before = _snapshot(tmp_path, runs)
        argv = [command, recipe] if recipe else [command]
        got, out, err = cli(*argv, *args)
        assert got == code, f"exit {got}, expected {code}:\n{err}"
        assert "Traceback" not in err and "Traceback" not in out, err
        for n in (needle,) if isinstance(needle, str) else needle:
            assert n in err, f"{n!r} not in:\n{err}"
        assert _snapshot(tmp_path, runs) == before, "the command wrote outside the runs folder"
        return err

    run.root = tmp_path  # type: ignore[attr-defined]
    return run


def with_(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# ------------------------------------------------------------------------------------------- recipe file ---
RECIPE_CASES = {
    "duplicate top-level key": (BASE + "seed: 2\n", "key 'seed' is given twice"),
    "duplicate nested key": (with_(BASE, "  target: survived\n", "  target: survived\n  target: sex\n"),
                             "key 'target' is given twice"),
    "hydra block in the recipe": (BASE + "hydra: {run: {dir: out}}\n", "hydra: Hydra's settings are not a recipe"),
    "malformed yaml": (BASE + "cv: {folds: 3\n", "malformed YAML at line"),
    "empty file": ("", "the recipe file is empty"),
    "a list, not a mapping": ("- a\n- b\n", "must be a mapping of sections"),
    "unknown top-level key": (BASE + "serch: {trials: 3}\n", ("serch", "Did you mean 'search'")),
    "unknown nested key": (with_(BASE, "cv: {folds: 3}", "cv: {folds: 3, shufle: false}"), "cv.shufle"),
    "seed not an int": (with_(BASE, "seed: 1", "seed: seven"), ("seed", "'seven'")),
    "unknown model": (with_(BASE, "name: lightgbm", "name: lightgbn"), ("model.name", "Did you mean 'lightgbm'")),
    "model param of the wrong type": (with_(BASE, "n_estimators: 30", "n_estimators: many"),
                                      ("model.params.n_estimators", "'many'")),
    "model param that does not exist": (with_(BASE, "n_estimators: 30", "n_estimatorz: 30"),
                                        "model.params.n_estimatorz"),
    "random_state in model params": (with_(BASE, "n_estimators: 30", "random_state: 3"), "model.params.random_state"),
    "cv folds 1": (with_(BASE, "cv: {folds: 3}", "cv: {folds: 1}"), "cv.folds"),
    "holdout of 1.5": (BASE + "split: {holdout: 1.5}\n", "split.holdout"),
    "unknown cv kind": (with_(BASE, "cv: {folds: 3}", "cv: {kind: stratifed_kfold}"),
                        ("cv.kind", "Did you mean 'stratified_kfold'")),
    "time_series cv with shuffle": (with_(BASE, "cv: {folds: 3}", "cv: {kind: time_series, shuffle: true}")
                                    .replace("target: survived", "target: survived\n  time: age"), "cv.shuffle"),
    "time_series cv without a time column": (with_(BASE, "cv: {folds: 3}", "cv: {kind: time_series}"),
                                             ("cv.kind", "data.time")),
    "group cv without a group": (with_(BASE, "cv: {folds: 3}", "cv: {kind: group_kfold}"), ("cv.kind", "data.group")),
    "time split without a time column": (BASE + "split: {strategy: time}\n", ("split.strategy", "data.time")),
    "target also dropped": (with_(BASE, "drop: [alive,", "drop: [survived, alive,"), "data.drop"),
    "target used as id": (with_(BASE, "  target: survived\n", "  target: survived\n  id: survived\n"), "data.id"),
    "unknown metric": (BASE + "evaluate: {metrics: [roc_auc, rmsee]}\n", ("evaluate.metrics[1]", "rmse")),
    "unknown threshold objective": (BASE + "threshold: {objective: f2}\n", "threshold.objective"),
    "threshold param for another objective": (BASE + "threshold: {objective: f1, min_recall: 0.5}\n",
                                              "threshold.min_recall"),
    "f_beta without beta": (BASE + "threshold: {objective: f_beta}\n", "threshold.beta"),
    "unknown calibration": (BASE + "calibration: {method: platt}\n", "calibration.method"),
    "unknown resample method": (BASE + "resample: {method: smot}\n", ("resample.method", "smote")),
    "k_neighbors for random_under": (BASE + "resample: {method: random_under, k_neighbors: 3}\n",
                                     "resample.k_neighbors"),
    "unknown selector": (BASE + "select: {method: kbestt}\n", "select.method"),
    "select.k for variance": (BASE + "select: {method: variance, k: 3}\n", "select.k"),
    "unknown reducer": (BASE + "reduce: {method: pcaa}\n", "reduce.method"),
    "unknown source kind": (with_(BASE, "kind: csv", "kind: cvs"), ("data.source.kind", "csv")),
    "csv without a path": (with_(BASE, "{kind: csv, path: data/titanic.csv}", "{kind: csv}"), "data.source"),
    "search trials negative": (BASE + "search: {trials: -1}\n", "search.trials"),
    "unknown search estimator": (BASE + "search: {trials: 2, estimators: [lightgbm, xgbost]}\n", "search.estimators"),
    "stacking with onnx export": (BASE + "search: {trials: 2, ensemble: {method: stacking}}\nexport: {format: onnx}\n",
                                  "search.ensemble.method"),
    "gate on an unknown metric": (BASE + "evaluate: {require: [{metric: roc_acu, min: 0.5}]}\n",
                                  "evaluate.require"),
    "sql that writes a file": (with_(BASE, "{kind: csv, path: data/titanic.csv}",
                                     "{kind: sql, query: \"COPY (SELECT 1) TO 'out.csv'\"}"),
                               ("data.source.query", "COPY")),
    "sql with two statements": (with_(BASE, "{kind: csv, path: data/titanic.csv}",
                                      "{kind: sql, query: \"SELECT * FROM 'data/titanic.csv'; DROP TABLE t\"}"),
                                ("data.source.query", "2 statements")),
    "sql CTE feeding a delete": (with_(BASE, "{kind: csv, path: data/titanic.csv}",
                                       "{kind: sql, query: \"WITH a AS (SELECT 1) DELETE FROM t\"}"),
                                 ("data.source.query", "DELETE")),
    "sql select into": (with_(BASE, "{kind: csv, path: data/titanic.csv}",
                              "{kind: sql, query: \"SELECT * INTO copy_t FROM t\"}"), ("data.source.query", "INTO")),
    "sql insert": (with_(BASE, "{kind: csv, path: data/titanic.csv}",
                         "{kind: sql, url: 'sqlite:///app.db', query: \"INSERT INTO t VALUES (1)\"}"),
                   ("data.source.query", "INSERT")),
    "sql attach": (with_(BASE, "{kind: csv, path: data/titanic.csv}",
                         "{kind: sql, query: \"ATTACH 'other.db' AS o\"}"), ("data.source.query", "ATTACH")),
    "sql pragma": (with_(BASE, "{kind: csv, path: data/titanic.csv}", "{kind: sql, query: \"PRAGMA version\"}"),
                   ("data.source.query", "PRAGMA")),
}


@pytest.mark.parametrize("name", sorted(RECIPE_CASES))
def test_recipe_problems(case, name):
    text, needle = RECIPE_CASES[name]
    case(text, "--no-data", needle=needle)


def test_recipe_path_that_is_a_directory(case):
    (case.root / "recipes").mkdir()
    case(None, "--no-data", recipe="recipes", needle="is a directory")


def test_recipe_path_that_does_not_exist(case):
    case(None, "--no-data", recipe="nope.yaml", needle="does not exist")


# ---------------------------------------------------------------------------------------------- overrides ---
OVERRIDE_CASES = {
    "unknown key": (["cv.foldz=3"], "cv.foldz"),
    "bad grammar": (["model.params.n_estimators=[1,"], "model.params.n_estimators"),
    "unknown group option": (["model=lightgbn"], ("model", "lightgbm")),
    "unknown group": (["modle=lightgbm"], "modle"),
    "wrong type": (["cv.folds=three"], ("cv.folds", "'three'")),
    "sweep syntax without -m": (["cv.folds=3,5"], "cv.folds"),
}


@pytest.mark.parametrize("name", sorted(OVERRIDE_CASES))
def test_override_problems(case, name):
    overrides, needle = OVERRIDE_CASES[name]
    case(BASE, "--no-data", *overrides, needle=needle)


# ------------------------------------------------------------------------------------------------- data ---
DATA_CASES = {
    "missing data file": (with_(BASE, "data/titanic.csv", "data/titanc.csv"), "data.source.path"),
    "missing target column": (with_(BASE, "target: survived", "target: survivd"), ("data.target", "survived")),
    "missing id column": (with_(BASE, "  target: survived\n", "  target: survived\n  id: passenger\n"), "data.id"),
    "missing drop column": (with_(BASE, "drop: [alive,", "drop: [alivee,"), "data.drop"),
    "sql over a missing table": (with_(BASE, "{kind: csv, path: data/titanic.csv}",
                                       "{kind: sql, query: 'SELECT * FROM nowhere_table'}"), "data.source.query"),
    "sqlite file that does not exist": (with_(BASE, "{kind: csv, path: data/titanic.csv}",
                                              "{kind: sql, url: 'sqlite:///nope.db', query: 'SELECT 1'}"),
                                        "data.source.url"),
    "positive class not in the target": (with_(BASE, "  target: survived\n",
                                               "  target: survived\n  positive_class: 7\n"), "data.positive_class"),
    "stratified cv on a numeric target": (with_(BASE, "target: survived", "target: fare")
                                          .replace("cv: {folds: 3}", "cv: {kind: stratified_kfold}"), "cv.kind"),
}


@pytest.mark.parametrize("name", sorted(DATA_CASES))
def test_data_problems(case, name):
    text, needle = DATA_CASES[name]
    case(text, needle=needle)


# ------------------------------------------------------------------------------------------------ paths ---
def test_runs_dir_that_is_a_file(case):
    (case.root / "afile").write_text("x")
    case(BASE, "--runs-dir", "afile", command="run", needle=("runs directory", "is a file"))


def test_runs_dir_under_a_file(case):
    (case.root / "afile").write_text("x")
    case(BASE, "--runs-dir", "afile/sub", command="run", needle=("runs directory", "is a file"))


def test_predict_from_a_folder_that_is_not_a_run(case):
    (case.root / "empty").mkdir()
    case(None, "empty", "data/titanic.csv", "-o", "p.csv", command="predict", recipe="", needle="empty")


# ---------------------------------------------------------------------------------------------- signals ---
SLOW = BASE + "search: {trials: 400, n_concurrent: 1}\n"


def _trials_started(runs: Path, n: int) -> bool:
    logs = list(runs.glob("t/.*.incomplete/run.log"))
    return bool(logs) and f"trial {n}/" in logs[0].read_text(encoding="utf-8", errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_marks_the_run_interrupted(tmp_path, sig, code):
    """The run directory is renamed and marked interrupted (not left .incomplete); the exit code says why."""
    (tmp_path / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", tmp_path / "data" / "titanic.csv")
    (tmp_path / "recipe.yaml").write_text(SLOW, encoding="utf-8")
    # as from a terminal: SIGINT at its default. A job started in the background of a non-interactive shell (`cmd &`,
    # nohup) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt, which is POSIX's intent
    proc = subprocess.Popen([sys.executable, "-m", "mlengine", "run", "recipe.yaml", "--runs-dir", "runs"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not _trials_started(tmp_path / "runs", 2):
            time.sleep(0.3)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    runs = [p for p in (tmp_path / "runs" / "t").iterdir()]
    assert len(runs) == 1 and not runs[0].name.endswith(".incomplete")
    import json

    status = json.loads((runs[0] / "status.json").read_text())
    assert status["status"] == "interrupted"
    assert "run directory (marked interrupted)" in err


# ------------------------------------------------------------------------------------ data that lies quietly ---
def _titanic_variant(root: Path, edit) -> None:
    import pandas as pd

    frame = pd.read_csv(DATA / "titanic.csv")
    edit(frame).to_csv(root / "data" / "titanic.csv", index=False)


def test_duplicate_column_names_are_refused(case):
    text = (DATA / "titanic.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    header[header.index("fare")] = "age"  # two columns named age
    (case.root / "data" / "titanic.csv").write_text("\n".join([",".join(header), *text[1:]]) + "\n")
    case(BASE, needle=("column name(s) used twice", "'age'"))


def test_infinite_values_are_refused_naming_the_column(case):
    def edit(f):
        f.loc[[3, 7], "fare"] = float("inf")
        return f

    _titanic_variant(case.root, edit)
    case(BASE, needle=("data.inf", "'fare'"))


def test_infinite_values_read_as_missing_when_asked(case):
    def edit(f):
        f.loc[[3, 7], "fare"] = float("-inf")
        return f

    _titanic_variant(case.root, edit)
    case(BASE, "data.inf=missing", code=0)


def test_a_numeric_column_with_stray_text_is_refused_showing_the_values(case):
    def edit(f):
        f["age"] = f["age"].astype(object)
        f.loc[[1, 2, 5], "age"] = "unknown"
        return f

    _titanic_variant(case.root, edit)
    case(BASE, needle=("column 'age' is numeric in", "'unknown' (3x)", "data.schema"))


def test_stray_text_with_a_declared_dtype_is_a_contract_matter(case):
    def edit(f):
        f["age"] = f["age"].astype(object)
        f.loc[[1, 2, 5], "age"] = "unknown"
        return f

    _titanic_variant(case.root, edit)
    text = with_(BASE, "  target: survived\n", "  target: survived\n  schema: {age: {dtype: float}}\n")
    err = case(text, needle=("age",))  # the contract names the column and what failed (data.on_violation: fail)
    assert "numeric in" not in err  # declared: no longer the stray-text refusal


# ------------------------------------------------------------- commands on a run: predict, drift, replay ---
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small titanic run, shared by the commands that take a run directory."""
    import mlengine

    root = tmp_path_factory.mktemp("trained")
    (root / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", root / "data" / "titanic.csv")
    (root / "recipe.yaml").write_text(BASE, encoding="utf-8")
    return Path(mlengine.run(root / "recipe.yaml", runs_dir=root / "runs").run_dir)


def _rows(case, name: str, edit=None, suffix: str = ".csv") -> str:
    import pandas as pd

    frame = pd.read_csv(DATA / "titanic.csv").head(40)
    frame = edit(frame) if edit else frame
    path = case.root / f"{name}{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        path.write_text("not a table")
    return str(path)


RUN_CASES = {
    "predict: DATA missing a column": ("predict", lambda c, r: [r, _rows(c, "rows", lambda f: f.drop(columns="age")),
                                                               "-o", "p.csv"], ("missing", "age")),
    "predict: DATA does not exist": ("predict", lambda c, r: [r, "nope.csv", "-o", "p.csv"], "nope.csv"),
    "predict: DATA of an unknown type": ("predict", lambda c, r: [r, _rows(c, "rows", suffix=".txt"), "-o", "p.csv"],
                                         ".txt"),
    "predict: output of an unknown type": ("predict", lambda c, r: [r, _rows(c, "rows"), "-o", "p.xlsx"],
                                           ("--output", ".xlsx")),
    "predict: run directory that does not exist": ("predict", lambda c, r: ["runs/nope", _rows(c, "rows"), "-o",
                                                                            "p.csv"], "nope"),
    "predict: a value of the wrong type": ("predict", lambda c, r: [r, _rows(c, "rows", lambda f: f.assign(
        age=["old"] * len(f))), "-o", "p.csv"], "age"),
    "drift: NEW_DATA missing a column": ("drift", lambda c, r: [r, _rows(c, "new", lambda f: f.drop(
        columns="fare"))], "fare"),
    "drift: NEW_DATA does not exist": ("drift", lambda c, r: [r, "nope.csv"], "nope.csv"),
    "drift: run directory that does not exist": ("drift", lambda c, r: ["runs/nope", _rows(c, "new")], "nope"),
    "drift: --by without a time column": ("drift", lambda c, r: [r, _rows(c, "new"), "--by", "month"],
                                          ("--by month", "--time-column")),
    "replay: unknown level": ("replay", lambda c, r: [r, "--level", "everything"], ("--level", "everything")),
    "replay: negative tolerance": ("replay", lambda c, r: [r, "--tolerance", "-1"], "--tolerance"),
    "replay: run directory that does not exist": ("replay", lambda c, r: ["runs/nope"], "does not exist"),
    "runs show: unknown run": ("runs", lambda c, r: ["show", "runs/nope"], "nope"),
    "serve: both REF and --model": ("serve", lambda c, r: [r, "--model", f"a={r}"], "either REF or"),
    "serve: --model without a name": ("serve", lambda c, r: ["--model", r], "NAME=REF"),
    "serve: zero workers": ("serve", lambda c, r: [r, "--workers", "0"], "--workers"),
    "build-docker: into a non-empty folder": ("build-docker", lambda c, r: [r, str(_nonempty(c))], "not empty"),
}


def _nonempty(case) -> Path:
    out = case.root / "ctx"
    out.mkdir(exist_ok=True)
    (out / "keep.txt").write_text("x")
    return out


@pytest.mark.parametrize("name", sorted(RUN_CASES))
def test_commands_on_a_run(case, trained, name):
    command, args, needle = RUN_CASES[name]
    case(None, *args(case, str(trained)), command=command, recipe="", needle=needle)


def test_predict_refuses_a_tampered_model(case, trained, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    model = copy / "model.onnx"
    model.write_bytes(model.read_bytes()[:-8] + b"tampered")
    case(None, str(copy), _rows(case, "rows"), "-o", "p.csv", command="predict", recipe="",
         needle=("sha256", "model.onnx"))


OTHER_CASES = {
    "configs: unknown group": (["configs", "modle"], ("modle", "model")),
    "report: not a run directory": (["report", "nowhere"], "nowhere"),
    "registry show: unknown model": (["registry", "show", "nobody", "--runs-dir", "runs"], "nobody"),
    "registry promote: not a run": (["registry", "promote", "nowhere", "--name", "m", "--runs-dir", "runs"],
                                    "nowhere"),
    "predict: registry reference without a registry": (["predict", "registry:/nobody@champion", "x.csv", "-o",
                                                        "p.csv", "--runs-dir", "runs"], "nobody"),
    "predict: models:/ reference without a tracking URI": (["predict", "models:/m@champion", "x.csv", "-o", "p.csv"],
                                                           "tracking"),
    "profile: recipe that does not exist": (["profile", "nope.yaml"], "does not exist"),
    "plan: recipe that does not exist": (["plan", "nope.yaml"], "does not exist"),
    "run: recipe that does not exist": (["run", "nope.yaml"], "does not exist"),
    "init: into a project folder that exists": (["init", "data"], "data"),
}


@pytest.mark.parametrize("name", sorted(OTHER_CASES))
def test_other_commands(case, name):
    args, needle = OTHER_CASES[name]
    case(None, *args[1:], command=args[0], recipe="", needle=needle)


def test_predict_output_that_is_the_input_file(case, trained):
    rows = _rows(case, "rows")
    before = Path(rows).read_bytes()
    case(None, str(trained), rows, "-o", rows, command="predict", recipe="", needle=("--output", "is the input file"))
    assert Path(rows).read_bytes() == before


@pytest.mark.slow
def test_an_id_column_named_like_an_output_keeps_its_values(case, cli):
    import pandas as pd

    frame = pd.read_csv(DATA / "titanic.csv")
    frame.insert(0, "prediction", [f"p{i}" for i in range(len(frame))])
    frame.to_csv(case.root / "data" / "titanic.csv", index=False)
    text = with_(BASE, "  target: survived\n", "  target: survived\n  id: prediction\n")
    (case.root / "recipe.yaml").write_text(text)
    code, out, err = cli("run", "recipe.yaml", "--runs-dir", "runs", "--json")
    assert code == 0, err
    import json

    run = json.loads(out)["run_dir"]
    code, out, err = cli("predict", run, "data/titanic.csv", "-o", "runs/p.csv", "--proba")
    assert code == 0, err
    got = pd.read_csv(case.root / "runs" / "p.csv")
    assert list(got["prediction"][:3]) == ["p0", "p1", "p2"]  # the ids, not the labels
    assert {"mlengine_prediction", "mlengine_proba_0", "mlengine_proba_1"} <= set(got.columns)


MORE_RECIPE_CASES = {
    "no target": (with_(BASE, "  target: survived\n", ""), "data.target"),
    "name of the wrong type": (with_(BASE, "name: t", "name: [a, b]"), "name"),
    "model n_jobs negative": (with_(BASE, "  params: {n_estimators: 30}", "  params: {n_estimators: 30}\n  n_jobs: -2"),
                              "model.n_jobs"),
    "unknown split strategy": (BASE + "split: {strategy: shuffled}\n", "split.strategy"),
    "unknown search algorithm": (BASE + "search: {trials: 2, algorithm: annealing}\n", "search.algorithm"),
    "n_concurrent 0": (BASE + "search: {trials: 2, n_concurrent: 0}\n", "search.n_concurrent"),
    "unknown export format": (BASE + "export: {format: pdf}\n", "export.format"),
    "binning edges without edges": (BASE + "target: {binning: edges}\n", "target.edges"),
    "unknown target transform": (BASE + "target: {transform: cube}\n", "target.transform"),
    "unknown schema dtype": (with_(BASE, "  target: survived\n", "  target: survived\n  schema: {age: {dtype: decimal}}\n"),
                             "data.schema.age.dtype"),
    "schema bounds that cross": (with_(BASE, "  target: survived\n",
                                       "  target: survived\n  schema: {age: {ge: 5, le: 1}}\n"), "data.schema.age"),
    "schema regex that does not compile": (with_(BASE, "  target: survived\n",
                                                 "  target: survived\n  schema: {deck: {regex: '['}}\n"),
                                           "data.schema.deck.regex"),
    "unknown pii action": (with_(BASE, "  target: survived\n", "  target: survived\n  pii: {action: delete}\n"),
                           "data.pii.action"),
    "unknown missing_target": (with_(BASE, "  target: survived\n", "  target: survived\n  missing_target: skip\n"),
                               "data.missing_target"),
    "unknown on_violation": (with_(BASE, "  target: survived\n", "  target: survived\n  on_violation: ignore\n"),
                             "data.on_violation"),
    "unknown data.inf": (with_(BASE, "  target: survived\n", "  target: survived\n  inf: zero\n"), "data.inf"),
    "negative run budget": (BASE + "run: {time_budget: -5}\n", "run.time_budget"),
    "stability with one period": (BASE + "evaluate: {stability: {by: pclass, periods: 1}}\n",
                                  "evaluate.stability.periods"),
    "tracking uri of an unknown scheme": (BASE + "tracking: {uri: 'ftp://host/x'}\n", "tracking.uri"),
    "threshold on regression": (with_(BASE, "target: survived", "target: fare").replace("seed: 1", "seed: 1\ntask: regression")
                                + "threshold: {objective: f1}\n", "threshold.objective"),
}


@pytest.mark.parametrize("name", sorted(MORE_RECIPE_CASES))
def test_more_recipe_problems(case, name):
    text, needle = MORE_RECIPE_CASES[name]
    case(text, "--no-data", needle=needle)
