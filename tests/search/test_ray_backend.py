"""search.backend: ray on a real Ray cluster: same answers as local, lost workers, clear connection errors, sweeps.

The cluster is RAY_ADDRESS when set (CI starts a loopback head with token auth); otherwise this module starts its
own head (`ray start --head --block`, stopped by its process id). With MLENGINE_REQUIRE_RAY=1 a missing Ray fails
these tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, read_json

# One pytest-xdist worker runs this whole module (make test uses --dist loadgroup): one Ray head per run, and two
# workers never race their trials (or the killed-worker case) on the same 2-CPU cluster.
pytestmark = pytest.mark.xdist_group("ray")

RECIPE = """
name: s
seed: 3
task: binary
data:
  source: {kind: csv, path: data/titanic.csv}
  target: survived
  drop: [alive, who, adult_male, class, embark_town]
model: {name: lightgbm, params: {n_estimators: 20}, n_jobs: 1}
cv: {folds: 3}
search:
  estimators: [lightgbm, logistic_regression]
  trials: 4
  metric: roc_auc
  n_concurrent: 2
"""
KEEP = ["trial", "model", "status", "roc_auc_mean", "roc_auc_folds", "config"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing(message: str) -> None:
    if os.environ.get("MLENGINE_REQUIRE_RAY") == "1":
        pytest.fail(message + " but MLENGINE_REQUIRE_RAY=1")
    pytest.skip(message)


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """The cluster address; starts (and stops, by pid) a token-auth head on loopback when RAY_ADDRESS is unset."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:  # not imported yet: Ray reads its auth settings when it loads
        _missing("Ray is not installed (pip install 'mlengine[ray]')")
    if os.environ.get("RAY_ADDRESS"):
        yield os.environ["RAY_ADDRESS"]
        return
    home = tmp_path_factory.mktemp("ray")
    token = home / "auth_token"
    token.write_text(secrets.token_hex(32))
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    ray_bin = Path(sys.executable).with_name("ray")
    head = subprocess.Popen([str(ray_bin), "start", "--head", "--block", "--num-cpus", "2", "--port", str(port),
                             "--node-ip-address=127.0.0.1", "--disable-usage-stats", "--include-dashboard=false"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=home)
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token), RAY_ADDRESS=f"127.0.0.1:{port}")
    if "ray._raylet" in sys.modules:  # Ray already loaded in this process: make it re-read the auth settings
        from ray._raylet import AuthenticationTokenLoader, Config

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        yield os.environ["RAY_ADDRESS"]
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        head.terminate()  # `ray start --block` stops the processes it started
        head.wait(60)


def _run(cli, path, runs_dir, *overrides, code=0):
    got, out, err = cli("run", path, "--runs-dir", runs_dir, "--json", *overrides)
    assert got == code, err
    return json.loads(out)["run_dir"] if code == 0 else err


def _board(run_dir) -> pd.DataFrame:
    return pd.read_csv(f"{run_dir}/leaderboard.csv")[KEEP].sort_values("trial").reset_index(drop=True)


@pytest.mark.slow
def test_ray_search_gives_the_same_trials_as_local(ray_cluster, cli, write_recipe, runs_dir, monkeypatch):
    import ray

    puts = []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: puts.append(type(value).__name__) or real_put(value, **kw))
    path = write_recipe(RECIPE)
    local = _run(cli, path, runs_dir / "local")
    on_ray = _run(cli, path, runs_dir / "ray", "search.backend=ray")
    assert puts == ["TrialSetup"]  # the table went to the cluster once; the 4 tasks carried only their configs
    assert sorted(p.name for p in Path(local).iterdir()) == sorted(p.name for p in Path(on_ray).iterdir())
    pd.testing.assert_frame_equal(_board(local), _board(on_ray))  # trial sequence, configs, per-fold scores
    m_local, m_ray = read_json(f"{local}/metrics.json"), read_json(f"{on_ray}/metrics.json")
    assert m_ray["search"]["backend"] == "ray" and m_ray["search"]["trials_run"] == 4
    assert m_ray["search"]["ray"]["address"] == ray_cluster and m_ray["search"]["ray"]["num_cpus_per_trial"] == 1
    best_local, best_ray = ({k: v for k, v in m["search"]["best"].items() if k != "seconds"} for m in (m_local, m_ray))
    assert best_local == best_ray  # trial, model, params, fold scores
    assert {k: v["folds"] for k, v in m_local["cv"].items() if isinstance(v, dict) and "folds" in v} == \
        {k: v["folds"] for k, v in m_ray["cv"].items() if isinstance(v, dict) and "folds" in v}
    log = Path(f"{on_ray}/run.log").read_text(encoding="utf-8")
    assert "connected to the Ray cluster at" in log


@pytest.mark.slow
def test_a_worker_killed_mid_trial_is_a_failed_trial(ray_cluster, cli, write_recipe, runs_dir):
    text = RECIPE + "  backend: ray\n  ray: {runtime_env: {env_vars: {MLENGINE_TEST_KILL_TRIAL: trial 2}}}\n"
    run_dir = _run(cli, write_recipe(text), runs_dir)
    board = pd.read_csv(f"{run_dir}/leaderboard.csv").set_index("trial")
    assert len(board) == 4  # the search went on after the lost worker
    assert board.loc[2, "status"] == "failed" and "lost on Ray" in board.loc[2, "error"]
    assert "WorkerCrashedError" in board.loc[2, "error"] or "died" in board.loc[2, "error"]
    assert set(board.drop(index=2)["status"]) <= {"ok", "pruned"}
    m = read_json(f"{run_dir}/metrics.json")
    assert m["search"]["best"]["trial"] != 2
    assert "recorded as failed" in Path(f"{run_dir}/run.log").read_text(encoding="utf-8")


def test_refused_or_malformed_address_fails_fast_naming_the_key(ray_cluster, cli, write_recipe, runs_dir):
    path = write_recipe(RECIPE)
    with socket.socket() as s:  # a port that surely has no listener: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        err = _run(cli, path, runs_dir, "search.backend=ray", f"search.ray.address=127.0.0.1:{port}", code=2)
    assert f"search.ray.address: nothing answers at 127.0.0.1:{port} (search.ray.address)" in err
    assert "Traceback" not in err
    err = _run(cli, path, runs_dir, "search.backend=ray", "search.ray.address=headnode", code=2)
    assert "'headnode'" in err and "is not host:port" in err


def test_a_trial_larger_than_any_node_is_refused(ray_cluster, cli, write_recipe, runs_dir):
    err = _run(cli, write_recipe(RECIPE), runs_dir, "search.backend=ray", "search.ray.num_cpus_per_trial=64", code=2)
    assert "search.ray.num_cpus_per_trial: each trial would ask Ray for 64 CPUs" in err and "no trial" in err


def test_loopback_only_listener_explains_rays_address_rewrite(ray_cluster, cli, write_recipe, runs_dir):
    from ray._private.services import get_node_ip_address

    if get_node_ip_address() in ("127.0.0.1", "::1"):
        pytest.skip("this machine has no non-loopback IP, so Ray does not rewrite loopback addresses")
    with socket.socket() as srv:  # e.g. an SSH tunnel's local end: loopback only
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        err = _run(cli, write_recipe(RECIPE), runs_dir, "search.backend=ray", f"search.ray.address=127.0.0.1:{port}",
                   code=2)
    assert "Ray rewrites a loopback address" in err and f"{get_node_ip_address()}:{port}" in err


@pytest.mark.slow
def test_token_mismatch_exits_2_without_hanging(ray_cluster, write_recipe, tmp_path):
    """A client whose auth mode differs from the cluster's gets one message; Ray alone would retry for minutes."""
    path = write_recipe(RECIPE + "  backend: ray\n")
    cluster_mode = os.environ.get("RAY_AUTH_MODE", "disabled")
    if cluster_mode != "token":
        pytest.skip("the cluster at RAY_ADDRESS does not use token auth (RAY_AUTH_MODE is not token)")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "OMP_WAIT_POLICY": "PASSIVE"}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mlengine", "run", str(path), "--runs-dir", str(tmp_path / "r"),
                           "--quiet"], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    seconds = time.perf_counter() - t
    assert proc.returncode == 2, proc.stderr
    assert "search.ray.address" in proc.stderr and "InvalidAuthToken" in proc.stderr
    assert "RAY_AUTH_MODE is disabled here" in proc.stderr and "Traceback" not in proc.stderr
    assert "gcs_client.cc" not in proc.stderr  # Ray's native retry warnings are muted: one message
    assert seconds < 30, f"took {seconds:.0f} s"  # hang guard (Ray's own retries take 20-80 s), not a speed target


def test_small_dev_shm_is_refused_before_ray_starts(monkeypatch, cli, write_recipe, runs_dir):
    pytest.importorskip("ray") if os.environ.get("MLENGINE_REQUIRE_RAY") != "1" else None
    import shutil

    from mlengine.search import ray_backend

    real = shutil.disk_usage
    monkeypatch.setattr(ray_backend.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=64 * 2**20) if p == "/dev/shm" else real(p))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    err = _run(cli, write_recipe(RECIPE), runs_dir, "search.backend=ray", code=2)
    assert "/dev/shm has 64 MB free" in err and "--shm-size" in err and "search.ray.address" in err


@pytest.mark.slow
def test_sweep_jobs_send_their_trials_to_the_cluster(ray_cluster, cli, write_recipe, runs_dir):
    path = write_recipe(RECIPE.replace("trials: 4", "trials: 2"))
    code, out, err = cli("run", path, "-m", "search.seed=1,2", "search.backend=ray", "--runs-dir", runs_dir,
                         "--quiet")
    assert code == 0, err
    summary = pd.read_csv(next(runs_dir.glob("s/sweeps/*")) / "sweep_summary.csv")
    assert list(summary["status"]) == ["complete", "complete"]
    for run_dir in summary["run_dir"]:
        m = read_json(f"{run_dir}/metrics.json")
        assert m["search"]["backend"] == "ray" and m["search"]["trials_run"] == 2
        assert "connected to the Ray cluster" in Path(f"{run_dir}/run.log").read_text(encoding="utf-8")


@pytest.mark.slow
def test_submitit_local_launcher_runs_the_sweep(cli, write_recipe, runs_dir):
    try:
        import hydra_plugins.hydra_submitit_launcher  # noqa: F401
    except ImportError:
        if os.environ.get("MLENGINE_REQUIRE_RAY") == "1":
            pytest.fail("hydra-submitit-launcher is missing (requirements-slurm.lock) but MLENGINE_REQUIRE_RAY=1")
        pytest.skip("hydra-submitit-launcher is not installed (pip install 'mlengine[slurm]')")
    path = write_recipe(RECIPE.split("search:")[0])
    code, out, err = cli("run", path, "-m", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5",
                         "model.params.n_estimators=10,20", "--runs-dir", runs_dir, "--quiet")
    assert code == 0, err
    sweep = next(runs_dir.glob("s/sweeps/*"))
    summary = pd.read_csv(sweep / "sweep_summary.csv")
    assert list(summary["status"]) == ["complete", "complete"]
    assert any((sweep / ".submitit").iterdir())  # the jobs ran as submitit jobs (their logs are kept there)
    trees = sorted(read_json(f"{d}/plan.json")["candidates"][0]["params"]["n_estimators"] for d in summary["run_dir"])
    assert trees == [10, 20]


def test_a_runs_own_local_ray_gets_a_private_token_only_when_none_exists(monkeypatch, tmp_path):
    """Ray >= 2.59 turns token auth on for a local cluster and its GCS aborts without a token: the run's own
    local Ray gets one in this process's environment (nothing written to ~/.ray), removed afterwards; a user's
    own token, token file or disabled auth is left as it is."""
    from mlengine.search import ray_backend as rb

    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ray/auth_token
    for name in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(rb, "_TOKEN_SET_HERE", False)
    assert rb._private_token() and len(os.environ["RAY_AUTH_TOKEN"]) == 64
    first = os.environ["RAY_AUTH_TOKEN"]
    monkeypatch.setattr(rb, "_TOKEN_SET_HERE", True)
    rb._forget_private_token()
    assert "RAY_AUTH_TOKEN" not in os.environ
    # a later run in this process gets the same token: Ray's driver keeps the one it read first
    assert rb._private_token() and os.environ["RAY_AUTH_TOKEN"] == first
    monkeypatch.setattr(rb, "_TOKEN_SET_HERE", True)
    rb._forget_private_token()
    monkeypatch.setenv("RAY_AUTH_TOKEN", "users-own")
    assert not rb._private_token()
    rb._forget_private_token()  # nothing set here: the user's token stays
    assert os.environ["RAY_AUTH_TOKEN"] == "users-own"
    monkeypatch.delenv("RAY_AUTH_TOKEN")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert not rb._private_token()
    monkeypatch.delenv("RAY_AUTH_MODE")
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("t", encoding="utf-8")
    assert not rb._private_token()


_TWO_RAYS = """
import os, sys, mlengine
data, runs, first = sys.argv[1], sys.argv[2], sys.argv[3]
for i, address in enumerate([first, "local"]):
    if address == "local":  # the second run: a local Ray of its own, none of the cluster's auth settings left
        for name in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
            os.environ.pop(name, None)
    ray = {} if address == "local" else {"ray": {"address": address}}
    r = mlengine.run({"name": f"t{i}", "seed": 0, "cv": {"folds": 2},
                      "data": {"source": {"kind": "csv", "path": data}, "target": "survived"},
                      "search": {"estimators": ["logistic_regression"], "trials": 2, "backend": "ray", **ray}},
                     runs_dir=runs)
    print(r.status)
"""


def _two_rays(tmp_path, first: str, env: dict) -> None:
    pytest.importorskip("ray") if os.environ.get("MLENGINE_REQUIRE_RAY") != "1" else None
    home = tmp_path / "home"
    home.mkdir()  # no ~/.ray/auth_token: the local run draws the private token
    done = subprocess.run([sys.executable, "-c", _TWO_RAYS, str(ROOT / "examples" / "data" / "titanic.csv"),
                           str(tmp_path / "runs"), first], env={**env, "HOME": str(home), "OMP_WAIT_POLICY": "PASSIVE"},
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["complete", "complete"]


@pytest.mark.slow
def test_two_runs_in_one_process_each_start_their_own_local_ray(tmp_path):
    """A notebook (or a pytest worker) running two searches on a local Ray: the second run's GCS used to get a new
    token that the driver, which caches the first, could not use ("Failed to start GCS"). Both runs complete."""
    _two_rays(tmp_path, "local", {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN")})


@pytest.mark.slow
def test_a_local_ray_after_a_token_cluster_in_one_process(ray_cluster, tmp_path):
    """The same cache after a run on a token-auth cluster (what failed plain `make test`: a cluster test, then the
    local-Ray test, on one xdist worker): the driver kept the cluster's token for the local GCS."""
    _two_rays(tmp_path, ray_cluster, dict(os.environ))
