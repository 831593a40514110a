"""mlengine.evaluate.stability: which column makes the periods (and the errors for a bad one), equal-count and
per-value periods, the checks of an explicit request, and the report: metric per period on out-of-fold
predictions and PSI of each feature against the first period."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from mlengine.data.table import prepare_table
from mlengine.errors import DataError
from mlengine.evaluate.crossval import cross_validate
from mlengine.evaluate.stability import (
    ByColumn,
    assign_periods,
    check_stability,
    explicit,
    resolve_by,
    stability_report,
)
from mlengine.plan import compile_recipe
from mlengine.recipe.validate import validate_config

from tests.conftest import DATA
from tests.modelling import TITANIC_M

ROWS = np.arange(300)


def _recipe(**sections):
    config = yaml.safe_load(TITANIC_M)
    config.update(sections)
    return validate_config(config)


@pytest.fixture(scope="module")
def titanic():
    return prepare_table(pd.read_csv(DATA / "titanic.csv", nrows=300), _recipe())


def test_the_by_column_is_explicit_or_the_time_column_else_none(titanic):
    r = _recipe(evaluate={"stability": {"by": "pclass"}})
    assert explicit(r) and not explicit(_recipe())
    by = resolve_by(r, titanic, ROWS)
    assert (by.name, by.kind, by.chosen, len(by.values)) == ("pclass", "numeric", "evaluate.stability.by", 300)
    assert resolve_by(_recipe(), titanic, ROWS) is None  # no time column, no `by`: no report
    assert resolve_by(_recipe(evaluate={"stability": {"by": "pclass", "enabled": False}}), titanic, ROWS) is None
    raw = resolve_by(_recipe(evaluate={"stability": {"by": "who"}}),
                     type(titanic)(**{**titanic.__dict__, "raw": pd.read_csv(DATA / "titanic.csv", nrows=300)}),
                     ROWS)  # a data.drop column, read from the raw table
    assert raw.kind == "categorical" and set(raw.values) == {"man", "woman", "child"}


def test_a_bad_by_column_is_refused(titanic):
    with pytest.raises(DataError, match="'survived' is the target; periods must come from a column known before"):
        resolve_by(_recipe(evaluate={"stability": {"by": "survived"}}), titanic, ROWS)
    with pytest.raises(DataError, match=r"column 'farez' is not in the data. Did you mean 'fare'\?"):
        resolve_by(_recipe(evaluate={"stability": {"by": "farez"}}), titanic, ROWS)


def test_numeric_periods_are_equal_count_and_few_values_are_one_period_each(titanic):
    codes, info = assign_periods(ByColumn("fare", "numeric", titanic.X["fare"], "x"), 4)
    assert np.bincount(codes).tolist() == [71, 78, 75, 76]
    assert info[0] == {"label": "0 .. 7.8958", "start": 0.0, "end": 7.8958}
    assert info[-1]["end"] == titanic.X["fare"].max()
    codes, info = assign_periods(ByColumn("pclass", "numeric", titanic.X["pclass"], "x"), 4)
    assert [p["label"] for p in info] == ["1", "2", "3"] and np.bincount(codes).tolist() == [64, 60, 176]


def test_datetime_and_categorical_periods_keep_missing_values_out():
    days = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-03-05", "2024-03-06"]))
    codes, info = assign_periods(ByColumn("d", "datetime", days, "data.time"), 2)
    assert codes.tolist() == [0, 0, -1, 1, 1]
    assert info == [{"label": "2024-01-01 .. 2024-01-02", "start": "2024-01-01T00:00:00",
                     "end": "2024-01-02T00:00:00"},
                    {"label": "2024-03-05 .. 2024-03-06", "start": "2024-03-05T00:00:00",
                     "end": "2024-03-06T00:00:00"}]
    codes, info = assign_periods(ByColumn("r", "categorical", pd.Series(["b", "a", None, "b"]), "x"), 4)
    assert codes.tolist() == [1, 0, -1, 1] and [p["label"] for p in info] == ["a", "b"]
    with pytest.raises(DataError, match="has 51 distinct values on the training rows; .* at most 50"):
        assign_periods(ByColumn("id", "categorical", pd.Series([str(i) for i in range(51)]), "x"), 4)


def test_an_explicit_request_that_cannot_be_reported_fails_before_fitting(titanic):
    with pytest.raises(DataError, match="the data has no time column to make periods of"):
        check_stability(_recipe(evaluate={"stability": {"enabled": True}}), titanic, ROWS)
    with pytest.raises(DataError, match="period 'G' of column 'deck' has 3 training rows; each period needs at "
                                        "least 30"):
        check_stability(_recipe(evaluate={"stability": {"by": "deck"}}), titanic, ROWS)
    with pytest.raises(DataError, match="cv.kind is 'none'"):
        check_stability(_recipe(evaluate={"stability": {"by": "pclass"}}, cv={"kind": "none"}), titanic, ROWS)
    check_stability(_recipe(evaluate={"stability": {"by": "pclass"}}), titanic, ROWS)
    check_stability(_recipe(), titanic, ROWS)  # not asked for: nothing to refuse


def test_report_scores_each_period_out_of_fold_and_measures_feature_shift(titanic):
    r = _recipe(evaluate={"stability": {"by": "pclass"}})
    plan = compile_recipe(r, task=titanic.task, classes=titanic.classes)
    pipe = plan.build_pipeline(plan.candidates[0], titanic.columns, titanic.task)
    cv = cross_validate(pipe, titanic.X, titanic.y, plan.cv, task=titanic.task, metrics=plan.metrics,
                        primary=plan.primary_metric, classes=titanic.classes, pos_label=titanic.pos_label)
    ctx = SimpleNamespace(recipe=r, data=titanic, cv_result=cv, train_idx=ROWS, plan=plan, y_tr=titanic.y,
                          X_tr=titanic.X)
    out = stability_report(ctx)
    assert (out["by"], out["kind"], out["primary_metric"], out["score_of"]) == ("pclass", "numeric", "roc_auc",
                                                                                 "P(1)")
    periods = out["periods"]
    assert [(p["label"], p["rows"], p["validated"]) for p in periods] == [("1", 64, 64), ("2", 60, 60),
                                                                          ("3", 176, 176)]
    y, pclass = titanic.y.to_numpy(), titanic.X["pclass"].to_numpy()
    for p, cls in zip(periods, (1, 2, 3), strict=True):
        rows = pclass == cls
        assert p["target_rate"] == pytest.approx(y[rows].mean())
        assert p["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y[rows], cv.oof_proba[rows, 1]))
    assert periods[0]["psi"] == {} and periods[0]["score_reference"] is True
    assert "pclass" not in periods[1]["psi"] and periods[2]["psi"]["fare"] > 1  # third class pays less
    assert out["max_psi"]["fare"] == max(periods[1]["psi"]["fare"], periods[2]["psi"]["fare"])
    assert "fare" in out["drifting"] and out["metric_range"] == [min(p["metrics"]["roc_auc"] for p in periods),
                                                                 max(p["metrics"]["roc_auc"] for p in periods)]
    assert stability_report(SimpleNamespace(**{**ctx.__dict__, "cv_result": None}))["skipped"] == (
        "no out-of-fold predictions (cv.kind none)")
