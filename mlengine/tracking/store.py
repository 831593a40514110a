"""Opening an MLflow store: the extra installed, the store reachable, telemetry off, an MlflowClient bound to it.

Every MLflow call in mlengine goes through an explicit `MlflowClient(uri)` and explicit run ids, never the fluent
global API, so no run the user has active (or another library started) is ever logged into.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mlengine.errors import UserError

CONNECT_TIMEOUT_SECONDS = 3.0
INSTALL_HINT = "pip install 'mlengine[tracking]' (or -r requirements-tracking.lock)"


def quiet_mlflow_env() -> None:
    """Telemetry off unless the user set it; MLflow's own logging at warning level."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def check_extra(uri: str, key: str = "tracking.uri") -> None:
    """UserError naming `key` when mlflow (the [tracking] extra) is not installed."""
    try:
        import mlflow  # noqa: F401  (a broken install counts as missing too)
    except ImportError:
        raise UserError(f"{key} is {uri!r} but MLflow is not installed: the [tracking] extra is missing. Install it "
                        f"with {INSTALL_HINT}, or remove {key} to run without tracking.") from None


def check_reachable(uri: str, key: str = "tracking.uri") -> None:
    """Fail fast, before any MLflow call, on an http(s) server that does not answer or a sqlite folder that does
    not exist (MLflow itself retries for minutes or writes a traceback)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https"):
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname or "localhost", port), timeout=CONNECT_TIMEOUT_SECONDS):
                pass
        except OSError as exc:
            raise UserError(f"{key}: the tracking server {uri!r} is not reachable ({exc.strerror or exc}; waited at "
                            f"most {CONNECT_TIMEOUT_SECONDS:g} s). Start it, fix {key}, or set "
                            "tracking.required: false to run untracked.") from None
    elif parsed.scheme.startswith("sqlite"):
        db = sqlite_path(uri)
        if db is not None and not db.parent.is_dir():
            raise UserError(f"{key}: the folder of the sqlite database {uri!r} does not exist ({db.parent}). Create "
                            f"it or fix {key}.")


def sqlite_path(uri: str) -> Path | None:
    """The database file of a sqlite:/// URI (None for in-memory)."""
    rest = uri.split(":///", 1)[1] if ":///" in uri else ""
    return Path(rest) if rest and rest != ":memory:" else None


def artifact_location(uri: str) -> str | None:
    """Where a new experiment keeps artifacts: beside a sqlite database (`<db>-artifacts/`), not in the working
    directory as MLflow's default `./mlruns` would; None lets the store decide (file stores, servers)."""
    db = sqlite_path(uri) if uri.startswith("sqlite") else None
    if db is None:
        return None
    return (db.resolve().parent / f"{db.stem}-artifacts").as_uri()


def open_client(uri: str, key: str = "tracking.uri") -> Any:
    """An MlflowClient bound to `uri`, after the extra and reachability checks (UserError naming `key`)."""
    quiet_mlflow_env()
    if uri.startswith("file:"):  # MLflow 3 refuses its file store unless asked; naming a file: URI is asking
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    check_reachable(uri, key)
    check_extra(uri, key)
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(client: Any, name: str, uri: str) -> str:
    """The id of experiment `name`, created (artifacts beside a sqlite store) when missing; safe when parallel
    sweep jobs create it at once."""
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location(uri))
    except Exception:
        exp = client.get_experiment_by_name(name)  # another process created it meanwhile
        if exp is None:
            raise
        return exp.experiment_id
