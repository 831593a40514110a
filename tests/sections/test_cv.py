"""`cv`: one typed option per cv.kind: `auto` resolves by task and data, each option takes only its own keys
(with one clear message for another's), checks what it needs without data and against the training split, and
a dotted `cv.kind=` override drops the keys the new option does not take, as `cv=<option>` does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.api import load_recipe
from mlengine.errors import DataError, RecipeError
from mlengine.plan import compile_recipe
from mlengine.recipe.validate import validate_config
from mlengine.sections.cv import CV, CVSpec

from tests.conftest import DATA, TITANIC

BASE = {"name": "c", "data": {"source": {"kind": "csv", "path": str(DATA / "titanic.csv")}, "target": "survived"}}


def _option(kind: str, **keys):
    return CV[kind].model_validate({"kind": kind, **keys})


def _problems(cv: dict, **data) -> list[str]:
    try:
        validate_config({**BASE, "data": {**BASE["data"], **data}, "cv": cv})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


@pytest.mark.parametrize(("task", "group", "time", "kind"), [
    ("binary", None, None, "stratified_kfold"), ("multiclass", None, None, "stratified_kfold"),
    ("regression", None, None, "kfold"), ("binary", "g", None, "stratified_group_kfold"),
    ("regression", "g", None, "group_kfold"), ("binary", None, "t", "time_series"),
    ("regression", "g", "t", "time_series")])
def test_auto_resolves_by_task_group_and_time(task, group, time, kind):
    resolved = _option("auto", folds=4).resolve(task, group, time)
    assert resolved.kind == kind and resolved.folds == 4
    if kind == "time_series":
        assert resolved.shuffle is False  # auto's shuffle default never reaches time-ordered folds


def test_auto_keeps_repeats_and_gap_where_they_apply():
    assert _option("auto", repeats=3).resolve("binary", None, None).repeats == 3
    assert _option("auto", gap=2).resolve("regression", None, "t").gap == 2
    spec = _option("auto", repeats=2, folds=3).resolve("binary", None, None).spec(seed=7)
    assert spec == CVSpec(kind="stratified_kfold", folds=3, repeats=2, shuffle=True, gap=0, seed=7)
    assert spec.describe() == "stratified_kfold, 3 folds x 2 repeats (seed 7)"


def test_every_option_builds_a_splitter_that_folds_the_rows():
    y = np.array([0, 1] * 30)
    times = np.repeat(np.arange(30), 2)
    groups = np.arange(60) // 3
    for kind in CV:
        if kind in ("auto", "none"):
            continue
        spec = CVSpec.of(kind, folds=3, seed=0)
        arg = times if spec.uses_time else groups if spec.uses_groups else None
        folds = list(spec.splitter().split(np.zeros((60, 1)), y, arg))
        assert len(folds) >= 3, kind
        for tr, va in folds:
            assert not set(tr) & set(va)
    assert CVSpec.of("none").splitter() is None and CVSpec.of("none").describe() == "none (holdout only)"


def test_shuffle_off_gives_the_unshuffled_folds():
    y = np.array([0, 1] * 10)
    first = next(CVSpec.of("kfold", folds=2, shuffle=False).splitter().split(y, y))[1]
    assert first.tolist() == list(range(10))


def test_a_key_of_another_option_names_the_options_that_take_it():
    assert _problems({"kind": "kfold", "gap": 2}) == [
        "cv.gap: does not apply to kind 'kfold'; it is a parameter of auto, time_series."]
    problems = _problems({"kind": "none", "folds": 3})
    assert len(problems) == 1 and problems[0].startswith("cv.folds: does not apply to kind 'none'")
    problems = _problems({"kind": "group_kfold", "repeats": 3}, group="pclass")
    assert len(problems) == 1 and "cv.repeats: does not apply to kind 'group_kfold'" in problems[0]


def test_needs_without_data_are_named():
    assert _problems({"kind": "group_kfold"}) == [
        "cv.kind: 'group_kfold' needs a group column; set data.group (or pick another cv.kind such as "
        "stratified_kfold)."]
    assert _problems({"kind": "time_series"}) == ["cv.kind: 'time_series' needs a time column; set data.time."]
    shuffle = _problems({"kind": "time_series", "shuffle": True}, time="age")
    assert len(shuffle) == 1 and shuffle[0].startswith("cv.shuffle:") and "keep the time order" in shuffle[0]
    gap = _problems({"gap": 2})
    assert len(gap) == 1 and gap[0].startswith("cv.gap: only applies to time_series CV")
    reg = {**BASE, "task": "regression", "data": {**BASE["data"], "target": "fare"},
           "cv": {"kind": "stratified_kfold"}}
    with pytest.raises(RecipeError, match="'stratified_kfold' stratifies on classes; task is regression"):
        validate_config(reg)
    unknown = _problems({"kind": "kfolds"})
    assert len(unknown) == 1 and "kfolds" in unknown[0] and "kfold" in unknown[0].replace("kfolds", "")


def test_check_data_says_the_counts():
    y = pd.Series([0] * 20 + [1] * 2)
    with pytest.raises(DataError, match="class 1 has only 2 rows in the training split; stratified_kfold with 3"):
        CVSpec.of("stratified_kfold", folds=3).check_data("binary", y, None, None)
    CVSpec.of("kfold", folds=3).check_data("binary", y, None, None)  # no class shares kept: no class count
    with pytest.raises(DataError, match="5 folds need at least 10 training rows; the training split has 6"):
        CVSpec.of("kfold").check_data("regression", pd.Series(range(6)), None, None)
    with pytest.raises(DataError, match="needs at least 3 groups; the training split has 2 distinct"):
        CVSpec.of("group_kfold", folds=3).check_data("regression", pd.Series(range(12)),
                                                     pd.Series([1, 2] * 6), None)
    with pytest.raises(DataError, match="time_series with 3 folds needs at least 4 distinct times; the training "
                                        "split has 3"):
        CVSpec.of("time_series", folds=3).check_data("regression", pd.Series(range(12)), None,
                                                     pd.Series([1, 2, 3] * 4))
    CVSpec.of("none").check_data("binary", y, None, None)  # nothing to fold, nothing refused


def test_a_dotted_kind_override_drops_the_keys_the_new_option_does_not_take(write_recipe):
    path = write_recipe(TITANIC.replace("cv: {folds: 3}", "cv: {kind: stratified_kfold, folds: 3, repeats: 2}"))
    loaded = load_recipe(path, ["cv.kind=none"])
    assert loaded.recipe.cv.kind == "none" and "folds" not in type(loaded.recipe.cv).model_fields
    assert any(n.startswith("cv: cv.folds, cv.repeats dropped: the override 'cv.kind=none' picked kind 'none'")
               for n in loaded.notes), loaded.notes
    assert compile_recipe(loaded.recipe).cv.kind == "none"
    kept = load_recipe(path, ["cv.kind=kfold"])  # kfold takes folds and repeats: nothing dropped
    assert (kept.recipe.cv.kind, kept.recipe.cv.folds, kept.recipe.cv.repeats) == ("kfold", 3, 2)
    assert not [n for n in kept.notes if n.startswith("cv:")]
    with pytest.raises(RecipeError, match="cv.folds: does not apply to kind 'none'"):
        load_recipe(path, ["cv.kind=none", "cv.folds=4"])  # a key given on the command line is still checked


def test_a_group_override_still_replaces_the_section(write_recipe):
    path = write_recipe(TITANIC.replace("cv: {folds: 3}", "cv: {kind: stratified_kfold, folds: 3}"))
    loaded = load_recipe(path, ["cv=repeated_kfold"])
    assert (loaded.recipe.cv.kind, loaded.recipe.cv.folds, loaded.recipe.cv.repeats) == ("repeated_kfold", 5, 3)


# the splitters themselves: groups never straddle, time never runs backwards
def _spec(kind, folds=5, **kw):
    return CVSpec.of(kind, folds=folds, **kw)


def test_time_series_folds_never_train_on_later_rows():
    df = pd.read_csv(DATA / "nyc_taxis.csv", parse_dates=["pickup"]).sort_values("pickup")
    times = df["pickup"].to_numpy()
    folds = list(_spec("time_series").splitter().split(df, None, times))
    assert len(folds) == 5
    for tr, va in folds:
        assert times[tr].max() <= times[va].min()
        assert len(np.intersect1d(tr, va)) == 0


def test_time_series_gap_leaves_distinct_times_out():
    times = np.repeat(np.arange(60), 2)
    for tr, va in _spec("time_series", folds=3, gap=4).splitter().split(times, None, times):
        assert times[va].min() - times[tr].max() == 5


def test_group_kfold_keeps_groups_whole():
    df = pd.read_csv(DATA / "wage_panel.csv")
    for kind in ("group_kfold", "stratified_group_kfold"):
        y = (df["lwage"] > df["lwage"].median()).astype(int)
        for tr, va in _spec(kind).splitter().split(df, y, df["nr"].to_numpy()):
            assert not set(df["nr"].iloc[tr]) & set(df["nr"].iloc[va])


def test_repeated_variants_multiply_folds():
    y = np.array([0, 1] * 50)
    assert len(list(_spec("repeated_stratified_kfold", repeats=3).splitter().split(y, y))) == 15
    assert len(list(_spec("kfold", repeats=2).splitter().split(y, y))) == 10
