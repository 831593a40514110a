"""`reduce`: one typed option per reduce.method, each builds its reducer with the defaults stated in its class,
bad keys and values give one clear message each, and the record reports what was fitted."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from mlengine.api import load_recipe
from mlengine.data.sources import read_source
from mlengine.data.table import prepare_table
from mlengine.errors import RecipeError
from mlengine.plan import compile_recipe
from mlengine.recipe.validate import validate_config
from mlengine.sections.reduce import REDUCE

from tests.conftest import DATA
from tests.modelling import WINE

BASE = {"name": "r", "data": {"source": {"kind": "csv", "path": str(DATA / "wine_quality_white.csv")},
                              "target": "quality"}}


def _option(method: str, **keys):
    return REDUCE[method].model_validate({"method": method, **keys})


def _problems(reduce: dict) -> list[str]:
    try:
        validate_config({**BASE, "reduce": reduce})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


@pytest.fixture(scope="module")
def wine():
    d = pd.read_csv(DATA / "wine_quality_white.csv").sample(300, random_state=0)
    return d.drop(columns=["quality"]).to_numpy(dtype=float)


def test_every_option_is_registered_and_the_default_is_none():
    assert list(REDUCE) == ["none", "pca", "truncated_svd"]
    recipe = validate_config(BASE)
    assert recipe.reduce.method == "none" and recipe.reduce.settings() == {} and not recipe.reduce.needs_finite


def test_pca_defaults_and_build(wine):
    pca = _option("pca")
    assert pca.settings() == {"n_components": 0.95, "whiten": False} and pca.needs_finite
    built = pca.build(seed=3)
    assert (built.n_components, built.whiten, built.svd_solver, built.random_state) == (0.95, False, "full", 3)
    fitted = built.fit(wine)
    assert fitted.explained_variance_ratio_.sum() >= 0.95
    assert _option("pca", n_components=4.0).n_components == 4  # a whole float is a count
    assert _option("pca", n_components=3, whiten=True).build(0).fit(wine).transform(wine).shape == (300, 3)


def test_truncated_svd_build(wine):
    svd = _option("truncated_svd", n_components=5).build(seed=1)
    assert (svd.n_components, svd.algorithm, svd.random_state) == (5, "randomized", 1)
    assert svd.fit(wine).components_.shape == (5, 11)


# ------------------------------------------------------------------------------------------------ bad input ---
def test_required_foreign_and_unknown_keys():
    assert _problems({"method": "truncated_svd"}) == [
        "reduce.n_components: method 'truncated_svd' needs n_components: the number of components, a count."]
    assert _problems({"method": "truncated_svd", "n_components": 3, "whiten": True}) == [
        "reduce.whiten: does not apply to method 'truncated_svd'; it is a parameter of pca."]
    assert _problems({"method": "none", "n_components": 3}) == [
        "reduce.n_components: does not apply to method 'none'; it is a parameter of pca, truncated_svd."]
    [msg] = _problems({"method": "pcaa"})
    assert msg.startswith("reduce.method:") and "Did you mean 'pca'" in msg and "truncated_svd" in msg
    [msg] = _problems({"method": "pca", "whitten": True})
    assert "unknown key 'whitten'" in msg and "Did you mean 'whiten'" in msg


def test_bad_values_name_the_key_and_what_is_allowed():
    [msg] = _problems({"method": "truncated_svd", "n_components": 0.5})
    assert msg == ("reduce.n_components: truncated_svd needs a whole count; got 0.5 (a share of variance only works "
                   "with pca).")
    [msg] = _problems({"method": "pca", "n_components": -2})
    assert msg.startswith("reduce.n_components:") and "greater than 0" in msg
    [p] = _option("pca", n_components=1.5).check()  # scikit-learn's own constraint
    assert p.path == "reduce.n_components" and "parameter of PCA" in p.message and "Got 1.5 instead" in p.message
    [p] = _option("truncated_svd", n_components=0).check()
    assert p.path == "reduce.n_components" and "TruncatedSVD" in p.message
    assert _option("pca").check() == [] and _option("none").check() == []


def test_width_problems_say_the_limit():
    [msg] = _option("pca", n_components=40).check_width(11, 500)
    assert msg == ("reduce.n_components: 40 is more than pca allows here: min(features, rows) = min(11, 500) after "
                   "encoding and selection. Set n_components to at most 11.")
    [msg] = _option("truncated_svd", n_components=11).check_width(11, 500)
    assert "features - 1 = 10" in msg and "at most 10" in msg
    assert _option("pca").check_width(11, 500) == []  # a share of variance: no count to check
    assert _option("pca", n_components=11).check_width(11, 500) == []


# ------------------------------------------------------------------------------------------------- records ---
def test_the_record_reports_the_searched_value_and_the_fitted_components(write_recipe):
    loaded = load_recipe(write_recipe(WINE + "reduce: {method: pca, n_components: 6}\n",
                                      files=("wine_quality_white.csv",)))
    data = prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)
    plan = compile_recipe(loaded.recipe, task=data.task, classes=data.classes)
    cand = replace(plan.candidates[0], pipeline_params={"reduce.n_components": 3})
    spec = plan.spec("reduce", cand)
    assert spec.n_components == 3 and plan.reduce.n_components == 6
    rows = data.X.index[:600]
    pipe = plan.build_pipeline(cand, data.columns, data.task).fit(data.X.loc[rows], data.y.loc[rows])
    rec = spec.record(pipe)
    pca = dict(pipe.steps)["reduce"]
    assert rec == {"method": "pca", "params": {"n_components": 3, "whiten": False}, "n_in": 11, "n_components": 3,
                   "explained_variance": pytest.approx(float(pca.explained_variance_ratio_.sum()))}
    assert _option("none").record(pipe) is None
