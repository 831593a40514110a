"""The public hook API: hooks see every stage in order, can stop a run before it fits, and hear of failures."""

from __future__ import annotations

import pytest

import mlengine
from mlengine.errors import UserError
from mlengine.hooks import Hook, HookManager

from tests.conftest import TITANIC


class Recorder(Hook):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def before_run(self, state):
        self.calls.append(("before_run", state.rd.path.name))

    def before_stage(self, name, state):
        self.calls.append(("before_stage", name))

    def after_stage(self, name, state):
        self.calls.append(("after_stage", name))

    def after_run(self, state, result):
        self.calls.append(("after_run", result.status))

    def on_run_error(self, state, error):
        self.calls.append(("on_run_error", type(error).__name__))


def test_hooks_see_each_stage_in_order(write_recipe, runs_dir):
    rec = Recorder()
    result = mlengine.run(write_recipe(TITANIC), runs_dir=runs_dir, hooks=[rec])
    names = [n for kind, n in rec.calls if kind == "before_stage"]
    assert names[0] == "read" and "fit" in names and names.index("fit") < names.index("evaluate")
    assert names == [n for kind, n in rec.calls if kind == "after_stage"]
    assert rec.calls[0][0] == "before_run" and rec.calls[0][1].endswith(".incomplete")
    assert rec.calls[-1] == ("after_run", "complete")
    assert result.run_dir.is_dir()


def test_before_run_error_stops_the_run_before_any_stage(write_recipe, runs_dir):
    class Refuse(Recorder):
        def before_run(self, state):
            raise UserError("tracking.uri: refused by the hook")

    rec = Refuse()
    with pytest.raises(UserError, match="tracking.uri"):
        mlengine.run(write_recipe(TITANIC), runs_dir=runs_dir, hooks=[rec])
    assert not [c for c in rec.calls if c[0] == "before_stage"]
    assert rec.calls == [("on_run_error", "UserError")]


def test_errors_in_after_run_are_warnings_not_failures(caplog):
    class Broken(Hook):
        def after_run(self, state, result):
            raise RuntimeError("server went away")

    manager = HookManager([Broken(), None])
    manager.after_run(object(), object())  # logged, not raised
    assert "server went away" in caplog.text

    class Stop(Hook):
        def before_stage(self, name, state):
            raise RuntimeError(f"stop at {name}")

    with pytest.raises(RuntimeError, match="stop at fit"):  # before/after stage errors do stop the run
        HookManager([Stop()]).before_stage("fit", None)
