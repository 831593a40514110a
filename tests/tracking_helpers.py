"""Shared pieces of the tracking tests: a real MLflow sqlite store per test module, small recipes, queries."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.conftest import TITANIC

FAST = TITANIC.replace("cv: {folds: 3}", "cv: {folds: 2}").replace("n_estimators: 30", "n_estimators: 10")


def require_mlflow() -> None:
    """Skip without the [tracking] extra locally; in CI (CI=true) the extra is installed, so fail instead."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the [tracking] extra (requirements-tracking.lock) is not installed in CI")
        pytest.skip("the [tracking] extra is not installed")


def tracked(recipe: str, uri: str, experiment: str, extra: str = "") -> str:
    """`recipe` with a tracking section pointing at `uri`."""
    return recipe + f"tracking:\n  uri: {uri}\n  experiment: {experiment}\n{extra}"


def client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def runs_of(uri: str, experiment: str) -> list:
    c = client(uri)
    exp = c.get_experiment_by_name(experiment)
    assert exp is not None, f"experiment {experiment!r} was not created"
    return c.search_runs([exp.experiment_id], max_results=500)


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def store_uri(folder: Path) -> str:
    return f"sqlite:///{folder / 'mlruns.db'}"
