"""The public hook API: code that acts at defined points of a run without editing the runner.

A hook is any object with some of these methods (all optional; `Hook` is a base class with no-op defaults):

- `before_run(state)`: after the run directory exists, before the first stage. Raising here stops the run before
  anything is fitted (a tracking hook refuses an unreachable server this way; raise `UserError` for exit 2).
- `before_stage(name, state)` / `after_stage(name, state)`: around every stage (`name` as in `mlengine.stages`).
- `after_run(state, result)`: the run directory is complete and renamed (`result.run_dir`).
- `on_run_error(state, error)`: the run failed, was interrupted (KeyboardInterrupt) or did not meet its quality
  gate (`mlengine.errors.QualityGateError`: every artifact is written by then); the directory is final and marked
  failed already (`state.rd.path` is its final path).

`state` is the run's typed state (`mlengine.stages.RunContext`): `state.recipe`, `state.rd` (the run directory
being written; `state.rd.path`), `state.plan`, `state.data`, `state.report` (what becomes metrics.json),
`state.metrics` (the typed record, from `finalize` on), `state.search` (the leaderboard), `state.artifacts`,
`state.data_fingerprint`, `state.model`.

Hooks come from three places, in this order: built-in hooks the recipe turns on (e.g. `tracking.uri`), plugins
declared under the entry-point group `mlengine.hooks` (each entry point is a callable taking the loaded recipe and
returning a hook or None), and `hooks=[...]` given to `mlengine.run`. Errors raised by `after_run` and
`on_run_error` are logged as warnings and never change the run's outcome: the run directory is already final.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from mlengine.lazy import import_path

log = logging.getLogger("mlengine")

ENTRY_POINT_GROUP = "mlengine.hooks"
HOOK_METHODS = ("before_run", "before_stage", "after_stage", "after_run", "on_run_error")


class Hook:
    """A base class with no-op methods; subclass it and override what you need."""

    def before_run(self, state: Any) -> None:
        """The run directory exists; no stage has run."""

    def before_stage(self, name: str, state: Any) -> None:
        """Stage `name` is about to run."""

    def after_stage(self, name: str, state: Any) -> None:
        """Stage `name` finished."""

    def after_run(self, state: Any, result: Any) -> None:
        """The run directory is complete and final."""

    def on_run_error(self, state: Any, error: BaseException) -> None:
        """The run failed or was interrupted (the directory is marked failed)."""


HookFactory = Callable[[Any], Any]
# Built-in hooks the recipe may turn on: name -> factory(loaded recipe) -> hook or None. Modules that own a
# built-in hook register it here at import (see `builtin_factories`), so the runner never names them.
BUILTIN: dict[str, str] = {
    # name: "module:function" imported lazily only when the run starts
    "tracking": "mlengine.tracking.hook:make_hook",  # tracking.uri: MLflow runs (the [tracking] extra)
    "reference": "mlengine.monitor.capture:make_hook",
}


def register_builtin(name: str, target: str) -> None:
    """Declare a built-in hook factory by import path ("package.module:function")."""
    BUILTIN[name] = target


def entry_point_factories() -> list[tuple[str, HookFactory]]:
    """Plugins installed under the `mlengine.hooks` entry-point group."""
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            out.append((ep.name, ep.load()))
        except Exception as exc:  # a broken plugin is named, not a traceback in every run
            log.warning("hook plugin %r (%s) could not be loaded: %s", ep.name, ep.value, exc)
    return out


class HookManager:
    """Calls every hook's method in order; see the module docstring for which errors propagate."""

    def __init__(self, hooks: Iterable[Any] = ()):
        self.hooks = [h for h in hooks if h is not None]

    @classmethod
    def for_run(cls, loaded: Any, extra: Iterable[Any] = ()) -> HookManager:
        """Built-in hooks the recipe turns on, then entry-point plugins, then `extra`."""
        hooks: list[Any] = []
        for _name, target in BUILTIN.items():
            hooks.append(import_path(target)(loaded))
        for _name, factory in entry_point_factories():
            hooks.append(factory(loaded))
        hooks.extend(extra)
        return cls(hooks)

    def _call(self, method: str, *args: Any, swallow: bool = False) -> None:
        for hook in self.hooks:
            fn = getattr(hook, method, None)
            if fn is None:
                continue
            if not swallow:
                fn(*args)
                continue
            try:
                fn(*args)
            except Exception as exc:
                log.warning("hook %s.%s failed: %s", type(hook).__name__, method, exc)

    def before_run(self, state: Any) -> None:
        self._call("before_run", state)

    def before_stage(self, name: str, state: Any) -> None:
        self._call("before_stage", name, state)

    def after_stage(self, name: str, state: Any) -> None:
        self._call("after_stage", name, state)

    def after_run(self, state: Any, result: Any) -> None:
        self._call("after_run", state, result, swallow=True)

    def on_run_error(self, state: Any, error: BaseException) -> None:
        self._call("on_run_error", state, error, swallow=True)
