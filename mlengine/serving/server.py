"""Run the app under uvicorn, one or several workers; also the entrypoint of `python -m mlengine.serving`.

Workers are separate processes, so the settings travel in the MLENGINE_SERVE environment variable (JSON) and each
worker builds its app with `app_from_env` (uvicorn's factory mode). Metrics go to a temporary
PROMETHEUS_MULTIPROC_DIR created here and removed on exit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from typing import Any

ENV = "MLENGINE_SERVE"


def app_from_env() -> Any:
    from mlengine.serving.app import create_app

    cfg = json.loads(os.environ[ENV])
    return create_app(cfg["run_dir"], cfg.get("format", "onnx"), cfg.get("max_rows", 10_000),
                      cfg.get("max_bytes", 10_000_000), cfg.get("access_log", True), cfg.get("split"),
                      cfg.get("shadow"), cfg.get("route_key"), cfg.get("drift_window", 10_000))


def serve(run_dir: str | dict[str, str], host: str = "127.0.0.1", port: int = 8080, workers: int = 1,
          format: str = "onnx", max_rows: int = 10_000, max_bytes: int = 10_000_000, access_log: bool = True,
          split: str | None = None, shadow: str | None = None, route_key: str | None = None,
          drift_window: int = 10_000) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn answers in-flight requests before it stops); SIGTERM returns normally.

    uvicorn re-raises a captured SIGTERM after its graceful shutdown, which with the default handler would end the
    process with -15 although everything was answered: a handler here turns it into a plain return (exit 0), and
    a SIGTERM during the model check before uvicorn starts stops without serving.
    """
    stopped: list[int] = []
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopped.append(signum)) if main_thread else None
    metrics_dir = tempfile.mkdtemp(prefix="mlengine-metrics-")
    saved = {k: os.environ.get(k) for k in ("PROMETHEUS_MULTIPROC_DIR", ENV)}
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ[ENV] = json.dumps({"run_dir": run_dir if isinstance(run_dir, dict) else str(run_dir),
                                  "format": format, "max_rows": max_rows, "max_bytes": max_bytes,
                                  "access_log": access_log, "split": split, "shadow": shadow,
                                  "route_key": route_key, "drift_window": drift_window})
    try:
        from mlengine.serving.app import ServedModel, check_same_inputs
        from mlengine.serving.routing import parse_split

        arms = run_dir if isinstance(run_dir, dict) else {"default": run_dir}
        check_same_inputs({n: ServedModel(p, format) for n, p in arms.items()})  # fail fast (exit 2)
        parse_split(split, list(arms))
        import uvicorn

        if stopped:
            return
        uvicorn.run("mlengine.serving.server:app_from_env", factory=True, host=host, port=port, workers=workers,
                    access_log=False, log_level="warning", http="httptools", loop="uvloop")
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(metrics_dir, ignore_errors=True)
        for k, v in saved.items():  # a caller's process (a notebook, a test) keeps its environment
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main() -> None:
    """Container entrypoint: MODEL_DIR, HOST, PORT, WORKERS and FORMAT from the environment."""
    serve(os.environ.get("MODEL_DIR", "/app/model"), os.environ.get("HOST", "0.0.0.0"),
          int(os.environ.get("PORT", "8080")), int(os.environ.get("WORKERS", "2")), os.environ.get("FORMAT", "onnx"),
          access_log=os.environ.get("ACCESS_LOG", "1") != "0")


if __name__ == "__main__":
    main()
