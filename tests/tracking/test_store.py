"""`mlengine.tracking.store`: the quiet MLflow environment, the extra and reachability checks (their messages),
sqlite paths and artifact locations, and the client and experiments opened on a real sqlite store."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from mlengine.errors import UserError
from mlengine.tracking import store

from tests.tracking_helpers import closed_port, require_mlflow, store_uri


@pytest.fixture(scope="module")
def uri(tmp_path_factory) -> str:
    require_mlflow()
    return store_uri(tmp_path_factory.mktemp("store"))


def test_quiet_mlflow_env_sets_defaults_only_where_unset(monkeypatch):
    for name in ("MLFLOW_DISABLE_TELEMETRY", "MLFLOW_LOGGING_LEVEL", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "DEBUG")
    store.quiet_mlflow_env()
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "false"
    assert os.environ["MLFLOW_LOGGING_LEVEL"] == "DEBUG"  # the user's choice is kept


def test_check_extra_passes_with_mlflow_installed():
    require_mlflow()
    assert store.check_extra("sqlite:///x.db") is None


def test_check_extra_names_the_key_and_the_install_hint_without_mlflow(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what an absent extra looks like to `import mlflow`
    with pytest.raises(UserError) as err:
        store.check_extra("sqlite:///x.db", key="--tracking-uri")
    text = str(err.value)
    assert text.startswith("--tracking-uri is 'sqlite:///x.db' but MLflow is not installed")
    assert "[tracking] extra is missing" in text and store.INSTALL_HINT in text
    assert "remove --tracking-uri to run without tracking" in text


def test_unreachable_http_server_is_a_user_error_naming_the_key_and_uri():
    server = f"http://127.0.0.1:{closed_port()}"
    t = time.perf_counter()
    with pytest.raises(UserError) as err:
        store.check_reachable(server)
    assert time.perf_counter() - t < store.CONNECT_TIMEOUT_SECONDS + 1
    text = str(err.value)
    assert text.startswith(f"tracking.uri: the tracking server {server!r} is not reachable (")
    assert "waited at most 3 s" in text and "tracking.required: false to run untracked" in text


def test_unreachable_server_message_uses_the_given_key():
    server = f"http://127.0.0.1:{closed_port()}/api"
    with pytest.raises(UserError, match=r"^MLFLOW_TRACKING_URI: the tracking server .* fix MLFLOW_TRACKING_URI"):
        store.check_reachable(server, key="MLFLOW_TRACKING_URI")


def test_a_listening_http_server_is_reachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        assert store.check_reachable(f"http://127.0.0.1:{s.getsockname()[1]}") is None


def test_sqlite_in_a_missing_folder_is_a_user_error(tmp_path):
    missing = tmp_path / "nope"
    uri = f"sqlite:///{missing / 'mlruns.db'}"
    with pytest.raises(UserError) as err:
        store.check_reachable(uri)
    assert str(err.value) == (f"tracking.uri: the folder of the sqlite database {uri!r} does not exist ({missing}). "
                              "Create it or fix tracking.uri.")
    assert not missing.exists()  # checking creates nothing


def test_sqlite_in_an_existing_folder_in_memory_and_other_schemes_pass(tmp_path):
    assert store.check_reachable(f"sqlite:///{tmp_path / 'mlruns.db'}") is None
    assert store.check_reachable("sqlite:///:memory:") is None
    assert store.check_reachable((tmp_path / "nowhere").as_uri()) is None  # file stores are created by MLflow


def test_sqlite_path_of_absolute_relative_and_memory_uris(tmp_path):
    assert store.sqlite_path(f"sqlite:///{tmp_path / 'a.db'}") == tmp_path / "a.db"
    assert store.sqlite_path("sqlite:///runs/mlruns.db") == Path("runs/mlruns.db")
    assert store.sqlite_path("sqlite:///:memory:") is None
    assert store.sqlite_path("sqlite://") is None


def test_artifact_location_is_beside_the_sqlite_database(tmp_path, monkeypatch):
    assert store.artifact_location(f"sqlite:///{tmp_path / 'mlruns.db'}") == (tmp_path / "mlruns-artifacts").as_uri()
    monkeypatch.chdir(tmp_path)
    assert store.artifact_location("sqlite:///sub/track.db") == (tmp_path / "sub" / "track-artifacts").as_uri()
    assert store.artifact_location("sqlite:///:memory:") is None
    assert store.artifact_location("http://127.0.0.1:5000") is None
    assert store.artifact_location(tmp_path.as_uri()) is None


def test_open_client_binds_tracking_and_registry_to_the_uri(uri, monkeypatch):
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    client = store.open_client(uri)
    assert client.tracking_uri == uri and client._registry_uri == uri
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_open_client_allows_an_explicit_file_store(tmp_path, monkeypatch):
    require_mlflow()
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    uri = (tmp_path / "files").as_uri()
    client = store.open_client(uri)
    assert os.environ["MLFLOW_ALLOW_FILE_STORE"] == "true"
    exp = client.create_experiment("files")
    assert client.get_experiment(exp).name == "files"


def test_open_client_checks_reachability_before_anything(tmp_path):
    uri = f"sqlite:///{tmp_path / 'missing' / 'mlruns.db'}"
    with pytest.raises(UserError, match="--tracking-uri: the folder of the sqlite database"):
        store.open_client(uri, key="--tracking-uri")
    assert not (tmp_path / "missing").exists()


def test_experiment_id_creates_once_with_artifacts_beside_the_database(uri):
    client = store.open_client(uri)
    first = store.experiment_id(client, "exp-created", uri)
    assert store.experiment_id(client, "exp-created", uri) == first
    exp = client.get_experiment(first)
    assert exp.name == "exp-created"
    assert exp.artifact_location.startswith(store.artifact_location(uri))
    assert [e.name for e in client.search_experiments() if e.name == "exp-created"] == ["exp-created"]


def test_experiment_id_takes_the_experiment_another_process_just_created(uri):
    from mlflow import MlflowClient

    other = MlflowClient(tracking_uri=uri)

    class Racing(MlflowClient):
        """A real client on the store; another client creates the experiment between its lookup and its create."""

        seen = 0

        def get_experiment_by_name(self, name):
            self.seen += 1
            if self.seen == 1:
                other.create_experiment(name)
                return None
            return super().get_experiment_by_name(name)

    racing = Racing(tracking_uri=uri, registry_uri=uri)
    exp_id = store.experiment_id(racing, "exp-raced", uri)
    assert exp_id == other.get_experiment_by_name("exp-raced").experiment_id and racing.seen == 2
