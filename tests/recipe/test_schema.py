"""`mlengine.recipe.schema`: the typed `Recipe` itself. A minimal recipe gets every section with its stated default
option, OPTION_REGISTRIES maps each modelling section to the registry of its options, and the non-modelling
sections (data roles and contract, run, report, tracking, monitor) check their own values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mlengine.recipe.schema import (
    OPTION_REGISTRIES,
    ColumnSchema,
    DataSection,
    MonitorSection,
    Recipe,
    RegisterSection,
    ReportSection,
    RunSection,
    TrackingSection,
)
from mlengine.sections.cv import CV
from mlengine.sections.model import MODEL

from tests.conftest import DATA

MINIMAL = {"name": "t", "data": {"source": {"kind": "csv", "path": str(DATA / "titanic.csv")},
                                 "target": "survived"}}


def _recipe(**sections) -> Recipe:
    return Recipe.model_validate({**MINIMAL, **sections})


def _errors(model, value: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as exc:
        model.model_validate(value)
    return [(e["loc"], e["msg"]) for e in exc.value.errors()]


def test_a_minimal_recipe_gets_every_section_with_its_default():
    r = _recipe()
    assert list(Recipe.model_fields) == ["name", "seed", "task", "data", "target", "split", "cv", "preprocess",
                                         "resample", "select", "reduce", "model", "search", "run", "calibration",
                                         "threshold", "evaluate", "export", "report", "tracking", "monitor"]
    assert r.seed == 0 and r.task == "auto"
    chosen = {name: getattr(r, name).option_name() for name in OPTION_REGISTRIES}
    assert chosen == {"target": "none", "split": "auto", "cv": "auto", "resample": "none", "select": "none",
                      "reduce": "none", "model": "lightgbm", "calibration": "none", "threshold": "none"}
    assert r.cv.settings() == {"folds": 5, "shuffle": True, "repeats": 1, "gap": 0}
    assert r.split.settings() == {"holdout": 0.2}
    assert r.run.time_budget is None and r.report.html and r.report.top_features == 15
    assert r.tracking.runs_dir == "runs" and r.tracking.uri is None and r.tracking.required is True
    assert (r.monitor.bins, r.monitor.psi_warn, r.monitor.psi_alert, r.monitor.min_rows) == (10, 0.1, 0.25, 100)


def test_option_registries_cover_the_modelling_sections_by_their_key():
    assert {s: r.key for s, r in OPTION_REGISTRIES.items()} == {
        "target": "binning", "split": "strategy", "cv": "kind", "resample": "method", "select": "method",
        "reduce": "method", "model": "name", "calibration": "method", "threshold": "objective"}
    assert OPTION_REGISTRIES["cv"] is CV and OPTION_REGISTRIES["model"] is MODEL
    assert all(r.section == s for s, r in OPTION_REGISTRIES.items())
    for section, registry in OPTION_REGISTRIES.items():  # each recipe field defaults to its registry's default
        assert registry.tag(getattr(_recipe(), section)) == registry.default


def test_a_section_picks_its_option_by_the_registry_key():
    r = _recipe(cv={"kind": "kfold", "folds": 3}, model={"name": "random_forest"})
    assert type(r.cv) is CV["kfold"] and r.cv.folds == 3
    assert type(r.model) is MODEL["random_forest"]


def test_required_keys_and_unknown_keys_are_refused():
    assert {loc for loc, _ in _errors(Recipe, {"name": "t"})} == {("data",)}
    assert _errors(Recipe, {**MINIMAL, "colour": "red"}) == [(("colour",), "Extra inputs are not permitted")]
    assert [loc for loc, _ in _errors(Recipe, {**MINIMAL, "task": "ranking"})] == [("task",)]
    assert [loc for loc, _ in _errors(DataSection, {"source": MINIMAL["data"]["source"]})] == [("target",)]


def test_recipe_sections_validate_on_assignment():
    r = _recipe()
    with pytest.raises(ValidationError):
        r.seed = "not a number"
    r.seed = 7
    assert r.seed == 7


def test_data_section_reads_schema_and_register_under_their_aliases():
    d = DataSection.model_validate({**MINIMAL["data"], "schema": {"age": {"dtype": "float", "ge": 0}}})
    assert d.schema_["age"].ge == 0.0 and d.schema_["age"].nullable is True and d.pii.action == "fail"
    t = TrackingSection.model_validate({"register": {"name": "titanic.model-1"}})
    assert t.register_.name == "titanic.model-1" and t.register_.alias == "champion"


def test_column_schema_checks_its_rules():
    assert _errors(ColumnSchema, {"ge": 5, "le": 1}) == [
        ((), "Value error, ge (5) is greater than le (1); no value could pass.")]
    assert _errors(ColumnSchema, {"dtype": "str", "ge": 0}) == [
        ((), "Value error, ge/le apply to numbers and dates; dtype is 'str'.")]
    [(loc, msg)] = _errors(ColumnSchema, {"regex": "[a-"})
    assert loc == ("regex",) and msg.startswith("Value error, '[a-' is not a valid regular expression (")
    assert ColumnSchema(regex=r"\d+", ge=None).regex == r"\d+"
    assert ColumnSchema(dtype="datetime", ge=0).ge == 0.0  # dates take bounds


def test_tracking_uri_must_use_a_known_scheme():
    for uri in ("sqlite:///mlruns.db", "file:./mlruns", "http://127.0.0.1:5000", "postgresql+psycopg2://h/db"):
        assert TrackingSection(uri=uri).uri == uri
    [(loc, msg)] = _errors(TrackingSection, {"uri": "mlruns"})
    assert loc == ("uri",) and msg == ("Value error, 'mlruns' is not a tracking URI; allowed schemes: sqlite, file, "
                                       "http, https, postgresql, mysql, mssql (e.g. sqlite:///mlruns.db, "
                                       "file:./mlruns, http://127.0.0.1:5000).")
    assert [loc for loc, _ in _errors(TrackingSection, {"uri": "s3://bucket/x"})] == [("uri",)]
    assert [loc for loc, _ in _errors(TrackingSection, {"experiment": ""})] == [("experiment",)]


def test_registered_model_names_and_aliases_follow_the_registry_pattern():
    assert RegisterSection(name="m", alias=None).alias is None
    assert [loc for loc, _ in _errors(RegisterSection, {"name": "bad name"})] == [("name",)]
    assert [loc for loc, _ in _errors(RegisterSection, {"name": "m", "alias": "-x"})] == [("alias",)]


def test_monitor_run_and_report_bounds():
    assert [loc for loc, _ in _errors(MonitorSection, {"bins": 1})] == [("bins",)]
    assert [loc for loc, _ in _errors(MonitorSection, {"bins": 101})] == [("bins",)]
    assert [loc for loc, _ in _errors(MonitorSection, {"psi_warn": 0})] == [("psi_warn",)]
    m = MonitorSection.model_validate({"columns": {"fare": {"psi_alert": 0.5, "ignore": True}}})
    assert m.columns["fare"].psi_alert == 0.5 and m.columns["fare"].psi_warn is None and m.columns["fare"].ignore
    assert [loc for loc, _ in _errors(MonitorSection, {"columns": {"fare": {"psi_warn": -1}}})] == [
        ("columns", "fare", "psi_warn")]
    assert [loc for loc, _ in _errors(RunSection, {"time_budget": 0})] == [("time_budget",)]
    assert RunSection(time_budget=30).time_budget == 30.0
    assert [loc for loc, _ in _errors(ReportSection, {"importance_rows": 49})] == [("importance_rows",)]
    assert [loc for loc, _ in _errors(ReportSection, {"importance_repeats": 0})] == [("importance_repeats",)]
