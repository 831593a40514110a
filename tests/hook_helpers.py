"""A hook that records every call it gets, for the tests of the hook API and the runner."""

from __future__ import annotations

from mlengine.hooks import Hook


class Recorder(Hook):
    """Records (method, stage name / status / error type); raises `error` before stage `fail_at` when given."""

    def __init__(self, fail_at: str | None = None, error: BaseException | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_at, self.error = fail_at, error

    def before_run(self, state):
        self.calls.append(("before_run", state.rd.path.name))

    def before_stage(self, name, state):
        self.calls.append(("before_stage", name))
        if name == self.fail_at:
            raise self.error

    def after_stage(self, name, state):
        self.calls.append(("after_stage", name))

    def after_run(self, state, result):
        self.calls.append(("after_run", result.status))

    def on_run_error(self, state, error):
        self.calls.append(("on_run_error", type(error).__name__))
