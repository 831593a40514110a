"""`select`: one typed option per select.method, each builds its selector with the defaults stated in its class,
bad keys and values give one clear message each, and the record reports the values that were fitted (a search's
chosen ones included)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import SelectorMixin

from mlengine.api import load_recipe
from mlengine.data.sources import read_source
from mlengine.data.table import prepare_table
from mlengine.errors import RecipeError
from mlengine.plan import compile_recipe
from mlengine.recipe.validate import validate_config
from mlengine.sections.select import SELECT, selected_features

from tests.conftest import DATA
from tests.modelling import TITANIC_M, run_json

# the fewest keys each option needs
MINIMAL = {"none": {}, "variance": {}, "kbest": {"k": 4}, "percentile": {"percentile": 50}, "from_model": {},
           "rfe": {"n_features": 4}, "rfecv": {"folds": 2}, "correlation": {}}
BASE = {"name": "s", "data": {"source": {"kind": "csv", "path": str(DATA / "wine_quality_white.csv")},
                              "target": "quality"}}


def _option(method: str, **keys):
    """The option as the recipe's union validates it (cross-section checks are each test's own)."""
    return SELECT[method].model_validate({"method": method, **MINIMAL[method], **keys})


def _problems(select: dict) -> list[str]:
    try:
        validate_config({**BASE, "select": select})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


@pytest.fixture(scope="module")
def wine():
    d = pd.read_csv(DATA / "wine_quality_white.csv").sample(400, random_state=0)
    return d.drop(columns=["quality"]).to_numpy(dtype=float), d["quality"].to_numpy()


def test_every_option_is_registered_with_a_summary():
    assert set(SELECT) == set(MINIMAL)
    assert all(summary for summary in SELECT.names().values())


@pytest.mark.parametrize("method", [m for m in MINIMAL if m != "none"])
def test_every_option_builds_a_selector_that_fits(method, wine):
    X, y = wine
    task = "regression"
    fast = {"estimator": "linear"} if method in ("rfe", "rfecv") else {}  # tree importances: many forests
    option = _option(method, **fast)
    assert option.check(task, "none") == []
    selector = option.build(task, seed=0, n_jobs=1)
    assert isinstance(selector, SelectorMixin)
    mask = selector.fit(X, y).get_support()
    assert mask.shape == (X.shape[1],) and 0 < mask.sum() <= X.shape[1]


def test_defaults_are_the_option_classes_and_reach_the_estimator():
    variance = _option("variance")
    assert variance.settings() == {"threshold": 0.0} and variance.build("binary", 0, 1).threshold == 0.0
    kbest = _option("kbest")
    assert kbest.settings() == {"k": 4, "score": "f_test"}
    assert kbest.build("binary", 0, 1).score_func.__name__ == "f_classif"
    assert kbest.build("regression", 0, 1).score_func.__name__ == "f_regression"
    corr = _option("correlation").build("binary", 0, 1)
    assert (corr.threshold, corr.method) == (0.95, "pearson")
    rfecv = _option("rfecv")
    assert rfecv.settings() == {"estimator": "tree", "step": 1, "n_features": 1, "folds": 2}
    built = rfecv.build("binary", 0, 1)
    assert (built.cv, built.min_features_to_select, built.step) == (2, 1, 1)
    assert type(built.estimator).__name__ == "ExtraTreesClassifier"
    tree = _option("from_model").build("binary", 0, 1)  # no threshold: mean importance for trees
    assert tree.threshold == "mean" and tree.max_features is None
    linear = _option("from_model", estimator="linear").build("binary", 0, 1)  # non-zero L1 coefficients
    assert linear.threshold == 1e-5 and linear.estimator.named_steps["linear"].C == 0.1
    assert _option("from_model", estimator="linear").build("regression", 0, 1).estimator.named_steps[
        "linear"].__class__.__name__ == "LassoCV"
    rfe = _option("rfe", estimator="linear").build("binary", 0, 1)
    assert rfe.n_features_to_select == 4 and rfe.estimator.named_steps["linear"].C == 1.0


def test_needs_finite_inputs_and_width_after_selection():
    assert [m for m in MINIMAL if SELECT[m].needs_finite] == ["kbest", "percentile", "from_model", "rfe", "rfecv"]
    assert _option("kbest").width(11) == 4 and _option("rfe").width(11) == 4
    assert _option("rfe", n_features=0.5).width(11) == 11  # a share: not known before fitting
    assert _option("from_model", max_features=3).width(11) == 3 and _option("variance").width(11) == 11


# ------------------------------------------------------------------------------------------------ bad input ---
def test_required_foreign_unknown_keys_and_unknown_methods():
    assert _problems({"method": "kbest"}) == ["select.k: method 'kbest' needs k: the number of features to keep."]
    assert _problems({"method": "rfe"})[0].startswith("select.n_features: method 'rfe' needs n_features")
    assert _problems({"method": "variance", "k": 3}) == [
        "select.k: does not apply to method 'variance'; it is a parameter of kbest."]
    assert _problems({"method": "kbest", "k": 3, "threshold": 0.1}) == [
        "select.threshold: does not apply to method 'kbest'; it is a parameter of variance, from_model, correlation."]
    [msg] = _problems({"method": "kbest", "k": 3, "scor": "chi2"})
    assert "unknown key 'scor'" in msg and "Did you mean 'score'" in msg
    [msg] = _problems({"method": "kbestt"})
    assert msg.startswith("select.method:") and "Did you mean 'kbest'" in msg and "rfecv" in msg


def test_bad_values_name_the_key_and_what_is_allowed():
    [msg] = _problems({"method": "kbest", "k": 0})
    assert msg.startswith("select.k:") and "greater than or equal to 1" in msg
    [msg] = _problems({"method": "kbest", "k": 3, "score": "chi"})
    assert "select.score" in msg and "Did you mean 'chi2'" in msg
    [msg] = _problems({"method": "from_model", "threshold": "2mean"})
    assert msg.startswith("select.threshold:") and "'1.5*mean'" in msg
    assert _problems({"method": "from_model", "threshold": "1.5*median"}) == []
    [msg] = _problems({"method": "correlation", "threshold": 1.5})
    assert msg.startswith("select.threshold:") and "less than or equal to 1" in msg
    [msg] = _problems({"method": "variance", "threshold": "high"})
    assert msg.startswith("select.threshold:") and "a number" in msg


def test_estimator_constraints_come_from_scikit_learn():
    [p] = _option("rfe", n_features=1.5).check("binary", "none")
    assert p.path == "select.n_features" and "'n_features_to_select' parameter of RFE" in p.message
    assert "Got 1.5 instead" in p.message
    [p] = _option("variance", threshold=-1).check("binary", "none")
    assert p.path == "select.threshold" and "VarianceThreshold" in p.message
    [p] = _option("rfecv", n_features=0).check("binary", "none")
    assert p.path == "select.n_features" and "min_features_to_select" in p.message
    [p] = _option("percentile", percentile=150).check("binary", "none")
    assert p.path == "select.percentile" and "SelectPercentile" in p.message


def test_chi2_needs_classes_and_non_negative_inputs():
    chi2 = _option("kbest", score="chi2")
    assert [p.path for p in chi2.check("regression", "none")] == ["select.score"]
    [p] = chi2.check("binary", "standard")
    assert "non-negative" in p.message and "minmax" in p.message
    assert chi2.check("binary", "minmax") == []


def test_width_problems_name_the_encoded_features():
    names = [f"f{i}" for i in range(5)]
    [msg] = _option("kbest", k=9).check_width(5, names)
    assert msg == "select.k: 9 is more than the 5 features after encoding (f0, f1, f2, f3, f4). Set k to at most 5."
    [msg] = _option("from_model", max_features=6).check_width(5, names)
    assert msg.startswith("select.max_features: 6 is more than the 5 features")
    assert _option("kbest", k=5).check_width(5, names) == []


# ------------------------------------------------------------------------------------------------- records ---
def _titanic_plan(write_recipe, text):
    loaded = load_recipe(write_recipe(text))
    data = prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)
    return data, compile_recipe(loaded.recipe, task=data.task, classes=data.classes)


def test_a_searched_value_is_applied_to_the_spec_the_selector_and_the_record(write_recipe):
    data, plan = _titanic_plan(write_recipe, TITANIC_M + "select: {method: kbest, k: 6}\n")
    cand = replace(plan.candidates[0], pipeline_params={"select.k": 3})
    assert plan.in_spec("select.k") and not plan.in_spec("select.threshold")
    assert plan.spec("select", cand).k == 3 and plan.select.k == 6  # the plan's own spec is unchanged
    pipe = plan.build_pipeline(cand, data.columns, data.task).fit(data.X, data.y)
    assert dict(pipe.steps)["select"].k == 3
    rec = plan.spec("select", cand).record(pipe)
    assert rec["method"] == "kbest" and rec["params"] == {"k": 3, "score": "f_test"}
    assert rec["n_selected"] == 3 and rec["n_in"] == 9 and len(rec["dropped"]) == 6
    assert rec == {**rec, **selected_features(pipe)} and rec["selected_in_folds"] is None


@pytest.mark.slow  # a search and a full run: ~20 s on the shared 2-core machine
def test_a_search_over_select_and_reduce_reports_the_chosen_values(cli, write_recipe, runs_dir):
    text = TITANIC_M.replace("cv: {folds: 3}", "cv: {folds: 2}") + (
        "select: {method: kbest, k: 8}\nreduce: {method: pca, n_components: 5}\n"
        "search:\n  estimators: [lightgbm]\n  trials: 3\n  ensemble: {method: none}\n  pipeline:\n"
        "    select: {k: {domain: choice, values: [3, 4]}}\n"
        "    reduce: {n_components: {domain: choice, values: [2, 3]}}\n")
    metrics, _ = run_json(cli, write_recipe(text), runs_dir)
    best = metrics["search"]["best"]["pipeline_params"]
    assert best["select.k"] in (3, 4) and best["reduce.n_components"] in (2, 3)
    sel, red = metrics["selection"], metrics["reduce"]
    assert sel["params"]["k"] == sel["n_selected"] == best["select.k"]  # not the recipe's 8
    assert red["params"]["n_components"] == red["n_components"] == best["reduce.n_components"]  # not 5
    assert red["n_in"] == sel["n_selected"] and 0 < red["explained_variance"] <= 1


def test_search_pipeline_keys_that_are_recipe_keys_only(write_recipe):
    from types import SimpleNamespace

    from mlengine.search.trial import check_pipeline_params

    data, plan = _titanic_plan(write_recipe, TITANIC_M + "select: {method: rfe, n_features: 4}\n")

    def setup(key):
        return SimpleNamespace(space=SimpleNamespace(pipeline={key: None}), plan=plan,
                               pipeline=lambda c: plan.build_pipeline(c, data.columns, data.task))

    # n_features is select's recipe key (RFE calls it n_features_to_select): a search may set it, through the spec
    check_pipeline_params(setup("select.n_features"))
    check_pipeline_params(setup("select.n_features_to_select"))  # the estimator's own name still works
    with pytest.raises(RecipeError) as exc:
        check_pipeline_params(setup("select.n_feature"))
    [p] = exc.value.problems
    assert p.path == "search.pipeline.select.n_feature" and "Did you mean 'n_features'" in p.message


def test_selector_records_nothing_without_a_select_step():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.arange(12, dtype=float).reshape(6, 2)
    pipe = Pipeline([("preprocess", StandardScaler())]).fit(X)
    assert selected_features(pipe) is None and _option("none").record(pipe) is None
