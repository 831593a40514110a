"""`target`: one typed option per target.binning (none, edges, threshold, quantiles), each with its labels,
its bins, its checks, and the regression transforms; keys of another binning get one clear message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlengine.errors import DataError, RecipeError
from mlengine.recipe.validate import validate_config
from mlengine.sections.target import TARGET, TargetBins

from tests.conftest import DATA

BASE = {"name": "t", "data": {"source": {"kind": "csv", "path": str(DATA / "wine_quality_white.csv")},
                              "target": "quality"}}


def _option(binning: str, **keys):
    return TARGET[binning].model_validate({"binning": binning, **keys})


def _problems(target: dict, task: str = "auto") -> list[str]:
    try:
        validate_config({**BASE, "task": task, "target": target})
    except RecipeError as exc:
        return [f"{p.path}: {p.message}" for p in exc.problems]
    return []


def test_labels_and_tasks_known_without_data():
    assert _option("edges", edges=[5.5, 6.5]).bin_labels() == ["< 5.5", "[5.5, 6.5)", ">= 6.5"]
    assert _option("edges", edges=[5.5, 6.5]).binned_task() == "multiclass"
    assert _option("threshold", threshold=6).bin_labels() == ["< 6", ">= 6"]
    assert _option("threshold", threshold=6).binned_task() == "binary"
    assert _option("quantiles", quantiles=4).bin_labels() == ["q1", "q2", "q3", "q4"]
    assert _option("quantiles", quantiles=[0.5]).n_bins() == 2
    assert _option("edges", edges=[5], labels=["low", "high"]).bin_labels() == ["low", "high"]
    assert not _option("none").binned and _option("quantiles", quantiles=3).fits
    assert not _option("edges", edges=[1]).fits


def test_bins_are_left_closed_and_quantiles_fit_on_the_rows_given():
    bins = _option("edges", edges=[5.5, 6.5]).fit(pd.Series([5.0]), "quality")
    assert bins.assign([5.0, 5.5, 6.4, 6.5, 9]).tolist() == ["< 5.5", "[5.5, 6.5)", "[5.5, 6.5)", ">= 6.5",
                                                              ">= 6.5"]
    y = pd.Series(np.arange(100, dtype=float))
    fitted = _option("quantiles", quantiles=4).fit(y, "y")
    assert fitted.edges == pytest.approx([24.75, 49.5, 74.25])
    assert fitted.counts(fitted.assign(y)) == {"q1": 25, "q2": 25, "q3": 25, "q4": 25}
    assert _option("quantiles", quantiles=4).fit(y[:50], "y").edges == pytest.approx([12.25, 24.5, 36.75])
    record = fitted.as_dict()
    assert record["closed"] == "left" and record["intervals"][0] == "[-inf, 24.75)"


def test_data_problems_name_the_key_and_the_counts():
    wine = pd.read_csv(DATA / "wine_quality_white.csv")["quality"].astype(float)
    with pytest.raises(DataError, match="target.quantiles: 5 quantile bins of 'quality' give repeated edges"):
        _option("quantiles", quantiles=5).fit(wine, "quality")
    bins = _option("edges", edges=[5.5, 9.5]).fit(wine, "quality")
    with pytest.raises(DataError, match=r"target.edges: the bin\(s\) '>= 9.5' \[9.5, inf\) get no rows in the data: "
                                        "'quality' ranges from 3 to 9"):
        bins.check_no_empty_bin(wine, "quality", "in the data")
    TargetBins("edges", [5.5], ["a", "b"]).check_no_empty_bin(wine, "quality", "in the data")


def test_recipe_checks_say_what_is_allowed():
    assert _problems({"binning": "edges", "edges": [6.5, 5.5]}) == [
        "target.edges: cut points must increase strictly; got [6.5, 5.5]."]
    assert _problems({"binning": "edges"}) == [
        "target.edges: binning 'edges' needs at least one cut point, e.g. [5.5, 6.5]."]
    assert _problems({"binning": "threshold"}, task="multiclass") == [
        "target.threshold: binning 'threshold' needs threshold, the value where the upper class starts.",
        "task: 'multiclass', but target.binning makes 2 classes (binary); set task: auto or binary."]
    assert _problems({"binning": "quantiles", "quantiles": [0.5, 0.2]}) == [
        "target.quantiles: cut probabilities must increase strictly within (0, 1); got [0.5, 0.2]."]
    assert _problems({"binning": "quantiles", "quantiles": 1}) == ["target.quantiles: needs at least 2 bins; got 1."]
    assert _problems({"binning": "edges", "edges": [5.5], "labels": ["a", "b", "c"]}) == [
        "target.labels: 3 labels for 2 bins; give one label per bin, lowest bin first."]
    assert _problems({"binning": "edges", "edges": [5.5], "labels": ["a", "a"]}) == [
        "target.labels: labels must be distinct; got ['a', 'a']."]
    assert _problems({"binning": "edges", "edges": [5.5], "labels": ["a", 1]}) == [
        "target.labels: labels must all be text or all be integers; got ['a', 1]."]
    assert _problems({"binning": "edges", "edges": [6], "transform": "log"}) == [
        "target.transform: applies to regression targets; target.binning makes classes. Use one or the other."]
    assert _problems({"transform": "log"}, task="binary") == [
        "target.transform: 'log' transforms a regression target; task is 'binary'."]
    assert _problems({"binning": "quantiles", "quantiles": 3, "edges": [1]}) == [
        "target.edges: does not apply to binning 'quantiles'; it is a parameter of edges."]
    assert _problems({"binning": "edges", "edges": [5.5], "labels": ["lo", "hi"]}) == []


@pytest.mark.parametrize("transform", ["log", "log1p", "sqrt", "box_cox", "yeo_johnson"])
def test_transforms_fit_on_the_transformed_target_and_predict_on_the_original_scale(transform):
    from sklearn.linear_model import LinearRegression

    X = np.arange(1, 41, dtype=float).reshape(-1, 1)
    y = np.exp(X[:, 0] / 10)
    model = _option("none", transform=transform).wrap(LinearRegression()).fit(X, y)
    assert type(model).__name__ == "TransformedTargetRegressor"
    pred = model.predict(X)
    assert pred.min() > 0 and abs(np.median(pred / y) - 1) < 0.5  # dollars, not log dollars
    assert _option("none").wrap(LinearRegression()).__class__.__name__ == "LinearRegression"


def test_transform_domain_is_checked_on_the_data():
    y = pd.Series([0.0, 1.0, 2.0])
    with pytest.raises(DataError, match=r"target.transform: 'log' needs targets > 0; 1 row\(s\) of 'tip' are not "
                                        r"\(minimum 0\). Use log1p or yeo_johnson."):
        _option("none", transform="log").check_transform_data(y, "tip")
    _option("none", transform="sqrt").check_transform_data(y, "tip")  # sqrt takes 0
    _option("none", transform="yeo_johnson").check_transform_data(y - 5, "tip")  # any real value


def test_a_dotted_binning_override_drops_the_other_binnings_keys(tmp_path):
    from mlengine.api import load_recipe

    (tmp_path / "r.yaml").write_text(
        f"name: t\ndata:\n  source: {{kind: csv, path: {DATA / 'wine_quality_white.csv'}}}\n  target: quality\n"
        "target: {binning: quantiles, quantiles: 3}\n", encoding="utf-8")
    loaded = load_recipe(tmp_path / "r.yaml", ["target.binning=edges", "target.edges=[5.5]"])
    assert loaded.recipe.target.bin_labels() == ["< 5.5", ">= 5.5"]
    assert any(n.startswith("target: target.quantiles dropped") for n in loaded.notes), loaded.notes
