"""Where trials run: in this process, in local worker processes, or on a Ray cluster.

Each executor takes a trial's config (and the pruning bar, the best trial's fold scores) and returns a `concurrent.futures.Future` of its TrialOutcome. The trial data
(`TrialSetup`) travels once per worker (process initializer, or Ray's object store), not once per trial. Worker
processes are spawned, not forked: forking a process whose OpenMP runtime (LightGBM) already started threads can
hang the child.
"""

from __future__ import annotations

import os
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


class RayTasks:
    """Trials as Ray tasks, each asking Ray for setup.n_jobs CPUs (RAY_ADDRESS picks the cluster)."""

    def __init__(self, setup: TrialSetup):
        try:
            import ray
        except ImportError:
            from mlengine.errors import UserError

            raise UserError("search.backend: 'ray' needs Ray; install it with `pip install 'mlengine[ray]'` "
                            "(or `pip install 'ray[tune]'`), or use search.backend: local.") from None
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        self.setup_ref = ray.put(setup)
        self.remote = ray.remote(num_cpus=setup.n_jobs)(_ray_trial)

    def submit(self, config: dict[str, Any], label: str = "", bar: list[float] | None = None) -> Future:
        return self.remote.remote(self.setup_ref, config, label, bar).future()

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def _ray_trial(setup: TrialSetup, config: dict[str, Any], label: str, bar: list[float] | None) -> Any:
    return run_trial(setup, config, label, bar)


def make_executor(backend: str, setup: TrialSetup, n_concurrent: int) -> Any:
    if backend == "ray":
        return RayTasks(setup)
    if n_concurrent > 1:
        return LocalProcesses(setup, n_concurrent)
    return InProcess(setup)
