"""The public hook API: hooks see every stage in order, can stop a run before it fits, and hear of failures."""

from __future__ import annotations

import pytest

import mlengine
from mlengine.errors import UserError
from mlengine.hooks import Hook, HookManager

from tests.conftest import TITANIC
from tests.hook_helpers import Recorder


@pytest.mark.slow
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


@pytest.mark.parametrize("signame,error", [("SIGTERM", "RunInterrupted"), ("SIGINT", "KeyboardInterrupt")])
def test_a_signal_whose_raise_is_swallowed_still_stops_the_run(write_recipe, runs_dir, signame, error):
    """A library may swallow the interrupt a signal raises (a broad except, or a finalizer where Python drops it):
    the run remembers it and raises it again before the next stage, so the run ends interrupted, not complete."""
    import json
    import os
    import signal
    import time

    from mlengine.errors import RunInterrupted, raise_if_interrupted

    class Swallow(Recorder):
        def before_stage(self, name, state):
            super().before_stage(name, state)
            if name == "split":
                try:
                    os.kill(os.getpid(), getattr(signal, signame))
                    time.sleep(1)  # the handler raises here
                except BaseException:
                    pass

    rec = Swallow()
    # as in a terminal: a background launch (`cmd &`, nohup) starts Python with SIGINT ignored
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises((RunInterrupted, KeyboardInterrupt)) as info:
            mlengine.run(write_recipe(TITANIC), runs_dir=runs_dir, hooks=[rec])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the run's handlers are gone
        raise_if_interrupted()  # and its remembered interrupt: a later fold or trial in this process runs
    finally:
        signal.signal(signal.SIGINT, before)
    assert type(info.value).__name__ == error
    stages = [n for kind, n in rec.calls if kind == "before_stage"]
    assert stages[-1] == "split" and ("on_run_error", error) in rec.calls
    status = json.loads((info.value.run_dir / "status.json").read_text())
    assert status["status"] == "interrupted"


PLUGIN = '''
from mlengine.hooks import Hook


class Audit(Hook):
    def __init__(self, target):
        self.target, self.stages = target, []

    def after_stage(self, name, state):
        self.stages.append(name)


def make_hook(loaded):
    return Audit(loaded.recipe.data.target)


def stay_out(loaded):
    return None
'''


def test_entry_point_plugins_join_every_run_and_a_broken_one_is_one_warning(tmp_path, monkeypatch, caplog,
                                                                             write_recipe, runs_dir):
    """A package installed with `[project.entry-points."mlengine.hooks"]`: its dist-info on sys.path is what
    importlib.metadata finds, as for a pip-installed plugin."""
    (tmp_path / "audit_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "audit_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: audit-plugin\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[mlengine.hooks]\naudit = audit_plugin:make_hook\n"
                                           "quiet = audit_plugin:stay_out\nbroken = audit_plugin:missing\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = mlengine.load_recipe(write_recipe(TITANIC))
    manager = HookManager.for_run(loaded, extra=[Recorder()])
    audits = [h for h in manager.hooks if type(h).__name__ == "Audit"]
    assert len(audits) == 1 and audits[0].target == "survived"  # the factory got the loaded recipe
    assert isinstance(manager.hooks[-1], Recorder)  # hooks=[...] of the call come after the plugins
    assert "hook plugin 'broken' (audit_plugin:missing) could not be loaded" in caplog.text
    manager.after_stage("fit", None)
    assert audits[0].stages == ["fit"]
