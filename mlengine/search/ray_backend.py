"""Search trials as Ray tasks: connect (with our own timeouts and clear errors), ship the data once, run trials.

Ray's own connection logic retries for minutes and prints C++ warnings: a wrong RAY_ADDRESS looks like a hang. So
before `ray.init` the address is checked in steps that each fail fast with one message naming
`search.ray.address`: a TCP connect to the GCS port; for a loopback address, the address Ray will really dial
(Ray rewrites 127.0.0.1 to this machine's IP); a GCS handshake (token auth mismatches, `InvalidAuthToken`, surface
here); the head node's advertised IP and port; then `ray.init` itself in a thread with a deadline.

The training data travels once (`ray.put` of the TrialSetup); each task carries only its config. A task that fails
or whose worker dies (no retries) becomes a failed trial on the driver, which alone writes the run directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
import time
from concurrent.futures import Future
from typing import Any

from mlengine.errors import UserError
from mlengine.search.trial import TrialOutcome, TrialSetup, run_trial

log = logging.getLogger("mlengine")
KEY = "search.ray.address"
MIN_SHM = 256 * 2**20  # below this a local object store is refused (Ray would fall back to slow /tmp)
ENV_TEST_KILL = "MLENGINE_TEST_KILL_TRIAL"  # test hook: the worker running this trial label kills itself


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError("search.backend: 'ray' needs Ray; install it with `pip install 'mlengine[ray]'` (Ray core), "
                        "or use search.backend: local.") from None
    return ray


def _split(address: str, source: str) -> tuple[str, int]:
    bare = address.removeprefix("ray://")
    host, _, port = bare.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"{KEY}: {address!r} ({source}) is not host:port. Use the address `ray start --head` "
                        "prints (e.g. 127.0.0.1:6379 or ray://head:10001), or leave it unset to start a local "
                        "Ray for the run.")
    return host.strip("[]"), int(port)


def _tcp(host: str, port: int, timeout: float) -> str | None:
    """None if something accepts a TCP connection at host:port, else why not."""
    try:
        with socket.create_connection((host, port), timeout=max(0.2, timeout)):
            return None
    except TimeoutError:
        return f"no answer within {timeout:.0f} s"
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _in_thread(fn: Any, timeout: float) -> tuple[bool, Any, BaseException | None]:
    """(finished, result, error) of fn() run in a daemon thread for at most `timeout` seconds."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="mlengine-ray-connect")
    thread.start()
    thread.join(max(0.1, timeout))
    return not thread.is_alive(), box.get("result"), box.get("error")


@contextlib.contextmanager
def _native_stderr_muted() -> Any:
    """File descriptor 2 to /dev/null for a moment (native code writes there, bypassing sys.stderr)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _auth_message(address: str, source: str) -> str:
    mode = os.environ.get("RAY_AUTH_MODE", "unset")
    return (f"{KEY}: the Ray cluster at {address} ({source}) rejected this client's authentication token "
            f"(InvalidAuthToken; RAY_AUTH_MODE is {mode} here). Since Ray 2.52 a cluster can require token auth "
            "(and a local `ray.init` turns it on by default). Either give the client the cluster's token "
            "(RAY_AUTH_MODE=token plus RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token; `ray get-auth-token` "
            "on the head prints it), or start the head with RAY_AUTH_MODE=disabled (loopback / trusted network "
            "only).")


def check_address(address: str, source: str, timeout: float) -> None:
    """Fail fast, with one message, when Ray could not connect to `address` (see the module docstring)."""
    from ray._private.services import get_node_ip_address

    t_end = time.monotonic() + timeout
    host, port = _split(address, source)
    why = _tcp(host, port, min(3.0, timeout))
    if why:
        raise UserError(f"{KEY}: nothing answers at {address} ({source}): {why}. Start a head node with "
                        "`ray start --head --port <port>` and use the address it prints, fix the address, or "
                        "unset it (and RAY_ADDRESS) to start a local Ray for the run.")
    if address.startswith("ray://"):
        return  # Ray Client: a different protocol, checked by ray.init below
    if host in ("127.0.0.1", "localhost", "::1"):
        dialled = get_node_ip_address()  # what Ray turns a loopback address into
        why = _tcp(dialled, port, max(0.2, min(3.0, t_end - time.monotonic())))
        if why:
            raise UserError(f"{KEY}: {address} ({source}) answers, but Ray rewrites a loopback address to this "
                            f"machine's IP and dials {dialled}:{port}, where {why}. A GCS reachable on loopback only "
                            "(an SSH tunnel, a port forward, a server bound to 127.0.0.1) cannot be used this way: "
                            "run the driver where it can reach the head's own IP, or use Ray Client "
                            "(ray://host:10001).")
    from ray._raylet import GcsClient

    with _native_stderr_muted():  # Ray's C++ client logs each failed handshake; the message below says it once
        done, client, error = _in_thread(lambda: GcsClient(address=f"{host}:{port}"), t_end - time.monotonic())
    if not done:
        raise UserError(f"{KEY}: {address} ({source}) accepts connections but gave no Ray GCS handshake within "
                        f"{timeout:g} s: is it a Ray head's GCS port (6379 by default)?")
    if error is not None:
        if "InvalidAuthToken" in str(error) or type(error).__name__ == "AuthenticationError":
            raise UserError(_auth_message(address, source))
        raise UserError(f"{KEY}: {address} ({source}) is not a Ray cluster this client can use: "
                        f"{type(error).__name__}: {str(error).splitlines()[0][:200]}")
    try:
        nodes = list(client.get_all_node_info(timeout=max(1, int(t_end - time.monotonic()))).values())
    except Exception:
        return  # older Ray: ray.init's own deadline below still applies
    heads = [n for n in nodes if n.is_head_node and n.state == 0] or nodes  # 0 = ALIVE
    for node in heads[:1]:
        ip, nm_port = node.node_manager_address, node.node_manager_port
        why = _tcp(ip, nm_port, max(0.2, min(3.0, t_end - time.monotonic())))
        if why:
            raise UserError(f"{KEY}: the Ray head at {address} ({source}) advertises its node at {ip}:{nm_port}, "
                            f"which this machine cannot reach ({why}). Ray advertises the host's IP even when the "
                            "head was started with --node-ip-address=127.0.0.1; start the head with a "
                            "--node-ip-address the driver can reach, or run the driver inside the cluster's network.")


def check_shm(needed: int) -> None:
    """A local object store needs /dev/shm; with too little Ray falls back to /tmp (slow) or fails to start."""
    try:
        free = shutil.disk_usage("/dev/shm").free
    except OSError:
        return  # not Linux: Ray uses its own store location
    if free < max(MIN_SHM, needed):
        raise UserError(f"search.backend ray: /dev/shm has {free / 2**20:.0f} MB free; the local Ray object store "
                        f"needs at least {max(MIN_SHM, needed) / 2**20:.0f} MB of shared memory for this data. "
                        "Give the container more (docker run --shm-size=2g; Kubernetes: an emptyDir with medium "
                        f"Memory at /dev/shm), set {KEY} to a cluster, or use search.backend: local.")


class _DropSigtermNote(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "SIGTERM handler is not set" not in record.getMessage()


_PRIVATE_TOKEN = "RAY_AUTH_TOKEN"  # set by `_private_token` for a run's own local Ray, removed when it stops
_TOKEN_SET_HERE = False
_PROCESS_TOKEN: list[str] = []  # the private token, drawn once per process (see `_private_token`)


def _private_token() -> bool:
    """Give a run's own local Ray a token held in this process's environment (its processes inherit it) when
    Ray's token auth is on (the default since Ray 2.59) and no token exists: without one the local GCS aborts
    ("Token authentication is enabled but Ray couldn't find an authentication token") and the run waits out
    Ray's start-up timeout. Nothing is written to ~/.ray. True when the token was set here.

    The token is drawn once per process and reused by every later run in it: Ray's driver caches the token it
    first read (its AuthenticationTokenLoader), so a second run with a fresh token started a GCS the driver
    could not talk to ("Failed to start GCS"), seen when one pytest worker ran two local-Ray tests."""
    import secrets
    from pathlib import Path

    if os.environ.get("RAY_AUTH_MODE", "").lower() == "disabled" or os.environ.get(_PRIVATE_TOKEN) \
            or os.environ.get("RAY_AUTH_TOKEN_PATH") or (Path.home() / ".ray" / "auth_token").is_file():
        return False
    if not _PROCESS_TOKEN:
        _PROCESS_TOKEN.append(secrets.token_hex(32))
    os.environ[_PRIVATE_TOKEN] = _PROCESS_TOKEN[0]
    return True


def _reread_token() -> None:
    """Make Ray's driver read the auth token again before a `ray.init`. It caches the first one it read (its
    AuthenticationTokenLoader), so a process that had talked to one cluster (a token-auth head, an earlier local
    Ray) then started a GCS with one token and greeted it with another ("Failed to start GCS"). This is Ray's
    own cache reset (what `ray start` calls after it writes a token); an older Ray without it is left as is."""
    with contextlib.suppress(ImportError, AttributeError):
        from ray._raylet import AuthenticationTokenLoader

        AuthenticationTokenLoader.instance().reset_cache()


def _forget_private_token() -> None:
    """Remove the token `_private_token` set (once the run's local Ray is stopped); a user's own is left alone."""
    global _TOKEN_SET_HERE
    if _TOKEN_SET_HERE:
        os.environ.pop(_PRIVATE_TOKEN, None)
    _TOKEN_SET_HERE = False


def connect(settings: Any, table_bytes: int) -> tuple[Any, bool]:
    """(ray, owned): connect to settings.address / RAY_ADDRESS, or start a local Ray; owned = this call ran
    ray.init, so the run disconnects (and a local Ray stops) when the search ends."""
    ray = _import_ray()
    if ray.is_initialized():
        return ray, False  # the caller's own Ray session (library use)
    address = settings.address or os.environ.get("RAY_ADDRESS") or None
    source = "search.ray.address" if settings.address else "from RAY_ADDRESS"
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address in (None, "local"):
        check_shm(3 * table_bytes)
        t = time.perf_counter()
        # Ray waits 30 s for its GCS to write its port; on a loaded 2-core machine (seen under a parallel test
        # run) that elapsed before the GCS was up. 120 s is Ray's own figure for its slower rocksdb backend.
        os.environ.setdefault("RAY_gcs_server_port_wait_time_s", "120")
        global _TOKEN_SET_HERE
        _TOKEN_SET_HERE = _private_token()
        _reread_token()
        try:
            ray.init(address="local", num_cpus=os.cpu_count() or 1, _node_ip_address="127.0.0.1", **kw)
        except Exception as exc:  # Ray's start-up timeouts (a machine too loaded to start its processes in time)
            with contextlib.suppress(Exception):
                ray.shutdown()
            _forget_private_token()
            raise UserError(f"search.backend ray: a local Ray could not start for this run "
                            f"({str(exc).splitlines()[0][:200]}). On a busy or small machine start one first "
                            f"(ray start --head) and set {KEY} (or RAY_ADDRESS), or use search.backend: local."
                            ) from None
        log.info("started a local Ray for this run (%.1f s)", time.perf_counter() - t)
        return ray, True
    timeout = settings.connect_timeout
    t_end = time.monotonic() + timeout
    check_address(address, source, timeout)
    # ray.init runs in a thread so that it can be given a deadline; there Ray leaves SIGTERM's default (the run
    # ends at once, instead of Ray's sys.exit handler) and warns about it: that warning is noise here
    quiet = _DropSigtermNote()
    logging.getLogger("ray._private.worker").addFilter(quiet)
    _reread_token()
    try:
        done, _, error = _in_thread(lambda: ray.init(address=address, **kw), t_end - time.monotonic())
    finally:
        logging.getLogger("ray._private.worker").removeFilter(quiet)
    if not done:
        raise UserError(f"{KEY}: Ray did not finish connecting to {address} ({source}) within {timeout:g} s "
                        "(search.ray.connect_timeout). The GCS answered, so a worker node or the head's raylet is "
                        "unreachable or overloaded: check `ray status` on the head.")
    if error is not None:
        text = str(error)
        if "InvalidAuthToken" in text or type(error).__name__ == "AuthenticationError":
            raise UserError(_auth_message(address, source)) from None
        first = (text.strip().splitlines() or [""])[0][:300]
        raise UserError(f"{KEY}: could not connect to the Ray cluster at {address} ({source}): "
                        f"{type(error).__name__}: {first}") from None
    log.info("connected to the Ray cluster at %s (%s CPUs)", address, ray.cluster_resources().get("CPU", "?"))
    return ray, True


def _ray_trial(setup: TrialSetup, config: dict[str, Any], label: str, bar: list[float] | None) -> TrialOutcome:
    if os.environ.get(ENV_TEST_KILL) and os.environ[ENV_TEST_KILL] == label.strip():
        import signal

        os.kill(os.getpid(), signal.SIGKILL)  # a lost worker, for the tests
    return run_trial(setup, config, label, bar)


def _check_fits(ray: Any, num_cpus: float, key: str) -> None:
    """A task asking for more CPUs than any node has would wait forever (Ray only warns it is infeasible)."""
    largest = max((n.get("Resources", {}).get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")), default=0.0)
    if num_cpus > largest:
        raise UserError(f"{key}: each trial would ask Ray for {num_cpus:g} CPUs, but the largest node of the "
                        f"cluster has {largest:g}, so no trial could ever start. Set search.ray.num_cpus_per_trial "
                        f"(or model.n_jobs) to at most {largest:g}, or add larger nodes.")


class RayTasks:
    """Trials as Ray tasks, each reserving num_cpus_per_trial (default setup.n_jobs) CPUs on the cluster."""

    def __init__(self, setup: TrialSetup, settings: Any = None):
        if settings is None:
            from mlengine.sections.search import RaySection

            settings = RaySection()
        table_bytes = int(getattr(setup.X, "memory_usage", lambda **_: [0])(deep=True).sum()) \
            if hasattr(setup.X, "memory_usage") else 0
        self.ray, self.owned = connect(settings, table_bytes)
        self.setup = setup
        # Ray prints raylet errors (a worker died...) to the driver's stdout even with log_to_driver off, which
        # would corrupt `--json` output: a lost task is logged as a failed trial instead (the switch rpdb uses)
        self._worker_logs = getattr(self.ray._private.worker, "_worker_logs_enabled", None)
        self.ray._private.worker._worker_logs_enabled = False
        try:
            num_cpus = settings.num_cpus_per_trial or setup.n_jobs
            _check_fits(self.ray, num_cpus, "search.ray.num_cpus_per_trial" if settings.num_cpus_per_trial
                        else "model.n_jobs")
            self.setup_ref = self.ray.put(setup)  # the table goes to the object store once, not per trial
            options: dict[str, Any] = {"num_cpus": num_cpus, "max_retries": 0}
            if settings.runtime_env:
                options["runtime_env"] = settings.runtime_env
            self.remote = self.ray.remote(_ray_trial).options(**options)
            address = (settings.address or os.environ.get("RAY_ADDRESS") or "local") if self.owned \
                else "the caller's ray.init session"
            self.where = {"address": address, "cluster_cpus": self.ray.cluster_resources().get("CPU"),
                          "num_cpus_per_trial": num_cpus, "ray_version": self.ray.__version__}
        except BaseException:
            self.close()
            raise

    def submit(self, config: dict[str, Any], label: str = "", bar: list[float] | None = None) -> Future:
        """A Future of the TrialOutcome; a task error or a lost worker resolves to a failed trial."""
        out: Future = Future()
        try:
            inner = self.remote.remote(self.setup_ref, config, label, bar).future()
        except Exception as exc:
            out.set_result(self._failed(config, exc, 0.0))
            return out
        t = time.perf_counter()

        def done(f: Future) -> None:
            try:
                out.set_result(f.result())
            except BaseException as exc:  # RayTaskError, WorkerCrashedError, NodeDiedError, ...
                out.set_result(self._failed(config, exc, time.perf_counter() - t))

        inner.add_done_callback(done)
        return out

    def _failed(self, config: dict[str, Any], exc: BaseException, seconds: float) -> TrialOutcome:
        model, params, pipeline_params = self.setup.space.decode(config)
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        log.warning("a Ray task failed (%s): the trial is recorded as failed", type(exc).__name__)
        return TrialOutcome("failed", model, params, pipeline_params, seconds,
                            error=f"lost on Ray: {type(exc).__name__}: {first}")

    def close(self) -> None:
        if self._worker_logs is not None:
            self.ray._private.worker._worker_logs_enabled = self._worker_logs
        if self.owned:
            self.ray.shutdown()
            _forget_private_token()
