"""The built-in `tracking` hook: one MLflow parent run per mlengine run, logged from the driver.

`before_run` opens the store (extra installed, server reachable: else exit 2 naming `tracking.uri`, or a warning
and no tracking with `tracking.required: false`) and starts the parent run, so it shows as RUNNING while the run
trains. `after_run` / `on_run_error` log everything the run directory holds and always end the run: FINISHED,
FAILED (errors and quality-gate failures: everything is logged, the alias is not moved) or KILLED (interrupts).
A tracking failure after training is a warning: the run directory is final by then and never touched.

Sweep jobs nest under the multirun's parent run when `ENV_PARENT_RUN` (set by `mlengine.tracking.sweeps`) names
one in the same store.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlengine.errors import QualityGateError, UserError

log = logging.getLogger("mlengine")

ENV_PARENT_RUN = "MLENGINE_TRACKING_PARENT_RUN"  # "<tracking uri> <run id>" of a sweep's parent run
ENV_DISABLED = "MLENGINE_TRACKING_DISABLED"  # "1": no tracking whatever the recipe says (replays set it)


def make_hook(loaded: Any) -> TrackingHook | None:
    """The hook when `tracking.uri` is set; None otherwise (mlflow is not imported)."""
    tracking = loaded.recipe.tracking
    if not tracking.uri:
        return None
    if os.environ.get(ENV_DISABLED) == "1":
        log.info("tracking: off (%s=1), tracking.uri %s not used", ENV_DISABLED, tracking.uri)
        return None
    return TrackingHook(loaded)


@contextmanager
def tracking_disabled() -> Iterator[None]:
    """No tracking hook inside (a replay re-runs a recorded recipe: it must not log a new run nor move an alias)."""
    saved = os.environ.get(ENV_DISABLED)
    os.environ[ENV_DISABLED] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(ENV_DISABLED, None)
        else:
            os.environ[ENV_DISABLED] = saved


def parent_from_env(uri: str) -> str | None:
    """The sweep parent run id for `uri`, when this process runs a sweep job tracked in the same store."""
    value = os.environ.get(ENV_PARENT_RUN, "")
    parent_uri, _, run_id = value.rpartition(" ")
    return run_id if run_id and parent_uri == uri else None


class TrackingHook:
    """Logs one mlengine run to MLflow (see the module docstring)."""

    def __init__(self, loaded: Any):
        self.loaded = loaded
        self.tracking = loaded.recipe.tracking
        self.uri: str = self.tracking.uri
        self.client: Any = None
        self.run_id: str | None = None

    # ------------------------------------------------------------------------------------------------ hooks ---
    def before_run(self, state: Any) -> None:
        from mlengine.tracking.store import experiment_id, open_client

        t = time.perf_counter()
        try:
            self.client = open_client(self.uri)
            parent = parent_from_env(self.uri)
            if parent:
                exp_id = self.client.get_run(parent).info.experiment_id
            else:
                exp_id = experiment_id(self.client, self.tracking.experiment or self.loaded.recipe.name, self.uri)
            tags = {"mlengine.run_id": state.rd.run_id, "mlengine.status": "running"}
            if parent:
                tags["mlflow.parentRunId"] = parent
            run = self.client.create_run(exp_id, run_name=self.tracking.run_name or state.rd.run_id, tags=tags)
        except Exception as exc:
            self.client = None
            if isinstance(exc, UserError):
                message = str(exc)
            else:
                message = (f"tracking.uri: the tracking store {self.uri!r} could not be used "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}).")
            if self.tracking.required:
                raise UserError(message) from None
            log.warning("%s tracking.required is false: the run goes on untracked.", message)
            return
        self.run_id = run.info.run_id
        log.info("tracking: MLflow run %s in %s (started in %.1f s)", self.run_id, self.uri, time.perf_counter() - t)

    def after_run(self, state: Any, result: Any) -> None:
        self._finish(state, None)

    def on_run_error(self, state: Any, error: BaseException) -> None:
        self._finish(state, error)

    # -------------------------------------------------------------------------------------------- internals ---
    def _finish(self, state: Any, error: BaseException | None) -> None:
        """Log what the run directory holds, then end the run whatever happens."""
        if self.run_id is None:
            return
        from mlengine.tracking.mlflow_log import log_run

        run_id, self.run_id = self.run_id, None
        if error is None:
            status = "FINISHED"
        elif isinstance(error, (KeyboardInterrupt, SystemExit)):
            status = "KILLED"
        else:
            status = "FAILED"
        gate_failed = isinstance(error, QualityGateError)
        t = time.perf_counter()
        try:
            log_run(self.client, run_id, self.loaded, state, error=error, uri=self.uri,
                    log_trials=self.tracking.log_trials, register=self.tracking.register_,
                    promote=error is None)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # interrupted while logging: end the run KILLED, then stop
                status = "KILLED"
                raise
            status = "FAILED"
            log.warning("tracking: logging to MLflow run %s failed (%s: %s); the run directory %s is unaffected.",
                        run_id, type(exc).__name__, exc, state.rd.path)
            _safe(self.client.set_tag, run_id, "mlengine.tracking_error", f"{type(exc).__name__}: {exc}"[:5000])
        finally:
            _safe(self.client.set_tag, run_id, "mlengine.status",
                  "complete" if error is None else ("gate_failed" if gate_failed else "failed"))
            _safe(self.client.set_terminated, run_id, status)
            log.info("tracking: MLflow run %s %s (logged in %.1f s)", run_id, status, time.perf_counter() - t)


def _safe(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception as exc:
        log.warning("tracking: %s failed: %s", getattr(fn, "__name__", "call"), exc)
