"""One MLflow parent run per multirun: each job's run nests under it, and trials under the job.

Jobs may run in other processes (Hydra's joblib launcher), so the parent run is passed explicitly through the
environment (`ENV_PARENT_RUN` = "<tracking uri> <run id>", read by the tracking hook), never through MLflow's
active-run state. The parent run is always ended: FINISHED when every job completed, FAILED otherwise, KILLED on
an interrupt.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mlengine.errors import UserError
from mlengine.tracking.hook import ENV_PARENT_RUN

log = logging.getLogger("mlengine")


class SweepRun:
    """The started parent run of a sweep."""

    def __init__(self, client: Any, uri: str, run_id: str):
        self.client, self.uri, self.run_id = client, uri, run_id

    @property
    def env(self) -> dict[str, str]:
        return {ENV_PARENT_RUN: f"{self.uri} {self.run_id}"}

    def finish(self, summary: Any = None, error: BaseException | None = None) -> None:
        """Log the sweep summary (jobs, failures, the CSV) and end the run."""
        from mlengine.tracking.mlflow_log import log_batch

        status = "FINISHED"
        try:
            if summary is not None:
                failed = int((summary["status"] != "complete").sum())
                log_batch(self.client, self.run_id, metrics=[("jobs", len(summary), 0), ("failed_jobs", failed, 0)])
                csv = Path(summary.attrs.get("sweep_dir", "")) / "sweep_summary.csv"
                if csv.is_file():
                    self.client.log_artifact(self.run_id, str(csv))
                status = "FINISHED" if failed == 0 else "FAILED"
            else:
                status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
                if error is not None:
                    self.client.set_tag(self.run_id, "mlengine.error", f"{type(error).__name__}: {error}"[:5000])
        except Exception as exc:
            status = "FAILED"
            log.warning("tracking: logging the sweep to MLflow run %s failed: %s", self.run_id, exc)
        finally:
            try:
                self.client.set_terminated(self.run_id, status)
            except Exception as exc:
                log.warning("tracking: ending MLflow run %s failed: %s", self.run_id, exc)


def start_sweep_run(loaded: Any, sweep_dir: Path, overrides: list[str], jobs: int) -> SweepRun | None:
    """The sweep's parent run when the (first job's) recipe sets tracking.uri; None otherwise."""
    tracking = loaded.recipe.tracking
    if not tracking.uri:
        return None
    from mlengine.tracking.store import experiment_id, open_client

    try:
        client = open_client(tracking.uri)
        exp_id = experiment_id(client, tracking.experiment or loaded.recipe.name, tracking.uri)
        run = client.create_run(exp_id, run_name=f"sweep-{sweep_dir.name}",
                                tags={"mlengine.sweep_dir": str(sweep_dir), "mlengine.kind": "sweep",
                                      **tracking.tags})
    except Exception as exc:
        message = str(exc) if isinstance(exc, UserError) else (
            f"tracking.uri: the tracking store {tracking.uri!r} could not be used ({type(exc).__name__}: {exc}).")
        if tracking.required:
            raise UserError(message) from None
        log.warning("%s tracking.required is false: the sweep goes on untracked.", message)
        return None
    from mlengine.tracking.mlflow_log import log_batch

    log_batch(client, run.info.run_id, params={"sweep.overrides": " ".join(overrides)[:6000], "sweep.jobs": str(jobs)})
    log.info("tracking: sweep parent run %s in %s", run.info.run_id, tracking.uri)
    return SweepRun(client, tracking.uri, run.info.run_id)
