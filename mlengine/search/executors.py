"""Where trials run: in this process, in local worker processes, or on a Ray cluster (`ray_backend`).

Each executor takes a trial's config (and the pruning bar, the best trial's fold scores) and returns a `concurrent.futures.Future` of its TrialOutcome. The trial data
(`TrialSetup`) travels once per worker (process initializer, or Ray's object store), not once per trial. Worker
processes are spawned, not forked: forking a process whose OpenMP runtime (LightGBM) already started threads can
hang the child.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from mlengine.search.trial import TrialSetup, run_trial

_SETUP: TrialSetup | None = None  # the worker process's copy


def _init_worker(setup: TrialSetup) -> None:
    global _SETUP
    _SETUP = setup


def _worker_trial(config: dict[str, Any], label: str, bar: list[float] | None) -> Any:
    assert _SETUP is not None, "worker not initialised"
    return run_trial(_SETUP, config, label, bar)


class InProcess:
    """Trials one after another in this process (n_concurrent 1)."""

    def __init__(self, setup: TrialSetup):
        self.setup = setup

    def submit(self, config: dict[str, Any], label: str = "", bar: list[float] | None = None) -> Future:
        fut: Future = Future()
        fut.set_result(run_trial(self.setup, config, label, bar))
        return fut

    def close(self) -> None:
        pass


class LocalProcesses:
    """n worker processes on this machine, each with setup.n_jobs estimator threads."""

    def __init__(self, setup: TrialSetup, n: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker, initargs=(setup,))

    def submit(self, config: dict[str, Any], label: str = "", bar: list[float] | None = None) -> Future:
        return self.pool.submit(_worker_trial, config, label, bar)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def make_executor(backend: str, setup: TrialSetup, n_concurrent: int, ray_settings: Any = None) -> Any:
    if backend == "ray":
        from mlengine.search.ray_backend import RayTasks

        return RayTasks(setup, ray_settings)
    if n_concurrent > 1:
        return LocalProcesses(setup, n_concurrent)
    return InProcess(setup)
