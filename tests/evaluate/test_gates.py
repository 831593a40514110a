"""The quality gate: each requirement judged on the report with the figure and what it needed, a failed gate is
one `gate failed:` line and exit 3, and the no-skill check is strict."""

from __future__ import annotations

import types

import pytest

from mlengine.errors import QualityGateError
from mlengine.evaluate.gates import beats_no_skill_check, enforce, judge
from mlengine.runs.metrics_record import Gate, gate_of

REPORT = {"primary_metric": "roc_auc", "holdout": {"roc_auc": 0.8, "log_loss": 0.5}, "cv": {"roc_auc": {"mean": 0.75}},
          "baselines": {"no_skill": {"roc_auc": 0.5, "log_loss": 0.45}}}


def _req(metric, where="holdout", min=None, max=None, beats=None, by=0.0):  # noqa: A002
    return types.SimpleNamespace(metric=metric, where=where, min=min, max=max, beats=beats, by=by)


def test_each_requirement_states_its_figure_and_need():
    gate = judge([_req("roc_auc", min=0.7), _req("roc_auc", where="cv", min=0.9),
                  _req("log_loss", beats="no_skill")], REPORT)
    assert [c["passed"] for c in gate["checks"]] == [True, False, False] and not gate["passed"]
    assert gate["checks"][1]["detail"] == "cv roc_auc 0.7500, needs >= 0.9"
    assert "margin -0.0500" in gate["checks"][2]["detail"]  # lower log loss is better: 0.5 loses to 0.45
    with pytest.raises(QualityGateError, match=r"^gate failed: cv roc_auc 0.7500, needs >= 0.9; holdout log_loss"):
        enforce(Gate.model_validate(gate))  # the gate stage reads the typed record metrics.json is written from
    enforce(gate_of({"gate": judge([_req("roc_auc", min=0.7)], REPORT)}))  # a passed gate raises nothing
    enforce(gate_of({}))  # and so does a run without a gate


def test_the_typed_gate_refuses_a_check_without_its_fields():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="detail"):
        Gate.model_validate({"passed": False, "checks": [{"key": "evaluate.require[0]", "metric": "roc_auc",
                                                          "where": "holdout", "actual": 0.5, "passed": False}]})


def test_a_metric_that_was_not_computed_fails_and_no_skill_is_strict():
    assert judge([_req("f1", min=0.1)], REPORT)["checks"][0]["detail"] == "holdout f1 was not computed"
    assert beats_no_skill_check(REPORT, {"roc_auc": 0.5})["passed"]
    assert not beats_no_skill_check(REPORT, {"roc_auc": 0.8})["passed"]  # a tie does not beat it
    assert beats_no_skill_check({"primary_metric": "roc_auc", "holdout": {}}, {"roc_auc": 0.5}) is None
