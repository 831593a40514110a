"""`mlengine build-docker RUN_DIR OUT_DIR`: a plain Docker build context that serves one run's model.

The context holds the model files (byte-identical copies: model.json with its sha256 record, model.onnx or
model.joblib, manifest.json and reference.json), a fully pinned `requirements.txt` with only what serving that
format needs, the `mlengine` package's Python source (put on PYTHONPATH, never pip-installed: installing the
package would pull the whole training stack through its dependencies), a Dockerfile, a .dockerignore and a README.
The image runs `python -m mlengine.serving.server`, the same server as `mlengine serve`; on the ONNX path that
server imports only numpy, onnxruntime, starlette, uvicorn and prometheus-client (tested in a fresh venv).

Everything is written to a temporary sibling directory and renamed into place, so OUT_DIR is never half-written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlengine.errors import UserError
from mlengine.export.joblib_bundle import BUNDLE_FILE, read_bundle, verified_path

IMAGE = "python:3.11-slim"
PORT = 8080
WORKERS = 2
#: what the ONNX server imports (the app, the checks and the metrics); pandas joins for datetime inputs
SERVE_BASE = ("numpy", "onnxruntime", "starlette", "uvicorn[standard]", "prometheus-client")
#: what a joblib pipeline needs beyond the modules its unpickling imports (the app builds a DataFrame)
JOBLIB_BASE = ("numpy", "pandas", "scikit-learn", "joblib", "starlette", "uvicorn[standard]", "prometheus-client")
RUN_FILES = ("manifest.json", "reference.json")  # copied when present: /metadata's fingerprint, drift's reference
LOCKS = ("requirements.lock", "requirements-serve.lock")
TRAINING_STACK = ("sklearn", "lightgbm", "flaml", "skl2onnx", "onnx", "hydra", "pandas", "imblearn", "xgboost")


@dataclass
class DockerContext:
    """What build_context wrote: the directory, the model format, its pins and the files with their sizes."""

    out_dir: Path
    run_id: str
    format: str
    requirements: list[str]
    copied: list[str] = field(default_factory=list)  # the model files, in model/<run_id>/
    tag: str = "mlengine-model:latest"  # the image tag the README suggests
    files: dict[str, int] = field(default_factory=dict)  # every file of the context -> bytes

    @property
    def bytes(self) -> int:
        return sum(self.files.values())

    @property
    def model_dir(self) -> str:
        return f"model/{self.run_id}"

    def env(self) -> dict[str, str]:
        """The Dockerfile's ENV, for running the context's entrypoint outside Docker (PYTHONPATH = the context)."""
        return {"PYTHONPATH": str(self.out_dir), "MODEL_DIR": str(self.out_dir / self.model_dir),
                "FORMAT": self.format, "HOST": "127.0.0.1", "PORT": str(PORT), "WORKERS": "1"}


def build_context(run_dir: str | Path, out_dir: str | Path, format: str = "auto") -> DockerContext:
    """Write OUT_DIR (which must not exist or be empty) for RUN_DIR's model; raise UserError on bad input."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError(f"OUT_DIR {str(out_dir)!r} already exists and is not empty; build-docker writes a new "
                        "directory (give a new path, or remove the old context first).")
    bundle = read_bundle(run_dir)  # ModelLoadError (exit 2) when RUN_DIR is not a run with a model
    fmt = _pick_format(run_dir, bundle, format)
    model_file = f"model.{fmt}"
    verified_path(run_dir, bundle, model_file)  # refuse a tampered model before copying it
    run_id = run_dir.resolve().name
    requirements = requirements_for(run_dir, bundle, fmt)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        model_dir = tmp / "model" / run_id
        model_dir.mkdir(parents=True)
        copied = [n for n in (BUNDLE_FILE, model_file, *RUN_FILES) if (run_dir / n).is_file()]
        for name in copied:
            shutil.copy2(run_dir / name, model_dir / name)
        _copy_package(tmp / "mlengine")
        ctx = DockerContext(out_dir, run_id, fmt, requirements, copied=copied, tag=image_tag(run_dir, run_id))
        (tmp / "requirements.txt").write_text(requirements_text(requirements, fmt), encoding="utf-8")
        (tmp / "Dockerfile").write_text(dockerfile(run_id, fmt), encoding="utf-8")
        (tmp / ".dockerignore").write_text(DOCKERIGNORE, encoding="utf-8")
        (tmp / "README.md").write_text(readme(ctx, bundle), encoding="utf-8")
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked above)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    ctx.files = {str(p.relative_to(out_dir)): p.stat().st_size for p in sorted(out_dir.rglob("*")) if p.is_file()}
    return ctx


def _pick_format(run_dir: Path, bundle: dict[str, Any], format: str) -> str:
    have = [f for f in ("onnx", "joblib") if f"model.{f}" in (bundle.get("artifacts") or {})]
    if not have:
        raise UserError(f"RUN_DIR {str(run_dir)!r} has no model file (model.json lists neither model.onnx nor "
                        "model.joblib); export.format must include onnx or joblib to build an image.")
    if format == "auto":
        return have[0]  # ONNX preferred: no unpickling, no training stack in the image
    if format not in have:
        raise UserError(f"--format {format}: this run has no model.{format} (it has: "
                        f"{', '.join(f'model.{f}' for f in have)}).")
    return format


def _copy_package(dest: Path) -> None:
    """The mlengine package's .py files (no templates, configs or caches): ~0.8 MB, imported from PYTHONPATH."""
    src = Path(__file__).resolve().parent.parent
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        if "__pycache__" in rel.parts or rel.parts[0] == "configs" or rel.parts[:2] == ("scaffold", "templates"):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


# ------------------------------------------------------------------------------------------ requirements ---
def requirements_for(run_dir: Path, bundle: dict[str, Any], fmt: str) -> list[str]:
    """Pinned `name==version` lines: the direct needs of serving `fmt`, then everything they pull in."""
    if fmt == "onnx":
        roots = list(SERVE_BASE)
        if any(c.get("kind") == "datetime" for c in bundle.get("inputs", [])):
            roots.append("pandas")  # the datetime feed parses with the training rules (mlengine.data.table)
    else:
        roots = [*JOBLIB_BASE, *_unpickle_distributions(run_dir)]
    return pin(roots)


def _unpickle_distributions(run_dir: Path) -> list[str]:
    """Distributions whose modules unpickling model.joblib imports (measured in a subprocess, beyond what the
    interpreter and mlengine's loader import by themselves)."""
    code = ("import json, sys; from mlengine.export.loaded import load_model; before = set(sys.modules); "
            f"load_model({str(run_dir)!r}, format='joblib'); "
            "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        raise UserError(f"model.joblib of {str(run_dir)!r} could not be loaded to list its imports: {last}")
    from importlib.metadata import packages_distributions

    dists = packages_distributions()
    names = {d for top in json.loads(proc.stdout.strip().splitlines()[-1]) for d in dists.get(top, [])}
    return sorted(n for n in names if _canon(n) not in ("mlengine", "pip", "setuptools"))


def pin(roots: list[str]) -> list[str]:
    """Roots and their dependency closure (markers evaluated here: Linux, this Python), pinned from the locks
    (requirements.lock, requirements-serve.lock) when found beside the package, else from installed versions."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    locks = lock_pins()
    seen: dict[str, tuple[str, set[str]]] = {}  # canonical name -> (display name, extras)
    order: list[str] = []
    stack = [(Requirement(r), True) for r in roots]
    while stack:
        req, direct = stack.pop(0)
        key = _canon(req.name)
        if key in seen and req.extras <= seen[key][1]:
            continue
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            raise UserError(f"build-docker needs {req.name} installed to pin it (pip install "
                            "'mlengine[serve]').") from None
        name, extras = dist.metadata["Name"], seen.get(key, ("", set()))[1] | set(req.extras)
        if key not in seen:
            order.append(key)
        seen[key] = (name, extras)
        for dep in dist.requires or []:
            d = Requirement(dep)
            if d.marker is None or any(d.marker.evaluate({"extra": e}) for e in extras | {""}):
                stack.append((d, False))
    direct_keys = {_canon(Requirement(r).name) for r in roots}
    lines = []
    for key in sorted(order, key=lambda k: (k not in direct_keys, k)):
        name, extras = seen[key]
        version = locks.get(key) or distribution(name).version
        lines.append(f"{name}{'[' + ','.join(sorted(extras)) + ']' if extras else ''}=={version}")
    return lines


def lock_pins() -> dict[str, str]:
    """{canonical name: version} from the repository's lock files (empty when mlengine is installed from a wheel)."""
    root = Path(__file__).resolve().parents[2]
    pins: dict[str, str] = {}
    for lock in LOCKS:
        path = root / lock
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;#]+)", line.strip())
                if m:
                    pins[_canon(m.group(1))] = m.group(3)
    return pins


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_text(lines: list[str], fmt: str) -> str:
    scope = ("No training stack: the ONNX server needs none." if fmt == "onnx" else
             "A joblib pipeline needs the libraries its unpickling imports (measured when this was written).")
    return (f"# Serving a model.{fmt}: written by `mlengine build-docker`, pinned from mlengine's tested locks.\n"
            f"# Direct needs first, then what they pull in (closure for Linux, Python 3.11). {scope}\n"
            + "\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------------------ files ---
DOCKERFILE = """\
# Serves one mlengine run's model ({format}); written by `mlengine build-docker` for run {run_id}.
FROM {image}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt /app/requirements.txt
RUN pip install --no-cache-dir -r /app/requirements.txt \\
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mlengine

# The mlengine source on PYTHONPATH (not pip-installed: its dependencies are the training stack) and the model,
# both owned by root and read-only for the server's user.
COPY mlengine/ /app/mlengine/
COPY model/ /app/model/

# The server's settings (python -m mlengine.serving.server reads them). 0.0.0.0 inside the container: the
# published port (docker run -p) decides who can reach it.
ENV PYTHONPATH=/app MODEL_DIR=/app/model/{run_id} FORMAT={format} HOST=0.0.0.0 PORT={port} WORKERS={workers} \\
    ACCESS_LOG=1

USER 10001
EXPOSE {port}
# Liveness with the standard library (python:3.11-slim has no curl).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \\
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '{port}') + '/health', timeout=2)"]
CMD ["python", "-m", "mlengine.serving.server"]
"""

DOCKERIGNORE = """\
# Send the daemon only what the Dockerfile copies.
*
!Dockerfile
!requirements.txt
!mlengine/
!model/
**/__pycache__
**/*.pyc
"""


def dockerfile(run_id: str, fmt: str) -> str:
    return DOCKERFILE.format(image=IMAGE, run_id=run_id, format=fmt, port=PORT, workers=WORKERS)


def readme(ctx: DockerContext, bundle: dict[str, Any]) -> str:
    tag = ctx.tag
    pandas = any(r.lower().startswith("pandas==") for r in ctx.requirements)
    needs = (" (onnxruntime, numpy, starlette, uvicorn[standard], prometheus-client and their dependencies"
             + ("; pandas for the datetime inputs" if pandas else "")
             + "; no scikit-learn, LightGBM, FLAML, skl2onnx or Hydra" + ("" if pandas else " or pandas") + ")"
             if ctx.format == "onnx" else
             " (a joblib pipeline needs the libraries its unpickling imports: scikit-learn, pandas, the model's)")
    copied = "\n".join(f"- `{ctx.model_dir}/{n}`" for n in ctx.copied)
    return f"""# Docker build context: run {ctx.run_id} ({bundle.get('model')}, {bundle['task']}, model.{ctx.format})

Written by `mlengine build-docker`. The image serves this model with the same server as `mlengine serve`:
`POST /predict`, `GET /health`, `/ready`, `/metadata`, `/metrics` (see mlengine's README, "Serving").

```bash
docker build -t {tag} .
docker run --rm -p 8080:{PORT} {tag}    # WORKERS={WORKERS} by default
docker run --rm -p 8080:{PORT} -e WORKERS=4 -e ACCESS_LOG=0 {tag}
curl -s localhost:8080/ready
```

Settings (environment): `WORKERS` (uvicorn worker processes, default {WORKERS}), `PORT` ({PORT}), `HOST`
(0.0.0.0 inside the container; who can reach it is decided by the published port), `ACCESS_LOG` (0 turns off the
JSON line per request), `MODEL_DIR` and `FORMAT` (fixed to the copied model).

Kubernetes probes (autoscale on the Prometheus metrics at `/metrics`, or on CPU):

```yaml
livenessProbe:  {{httpGet: {{path: /health, port: {PORT}}}, periodSeconds: 15}}
readinessProbe: {{httpGet: {{path: /ready, port: {PORT}}}, periodSeconds: 5}}
```

## What is inside and why

- `requirements.txt`: every package pinned from mlengine's tested locks, and only what serving model.{ctx.format}
  needs{needs}.
- `mlengine/`: mlengine's Python source, put on `PYTHONPATH` instead of `pip install mlengine`, because the
  package's declared dependencies are the whole training stack. The serving modules import only the libraries
  above at module level, so nothing else is needed (checked by mlengine's tests in a fresh venv).
- The model files, byte-identical copies from the run (model.json records the model file's sha256; the server
  checks it before loading and refuses a mismatch):
{copied}
- The server runs as an unprivileged user (uid 10001); the files are root-owned and read-only to it.

Without Docker, the same entrypoint runs from this directory with those packages installed:

```bash
python -m venv .venv && .venv/bin/pip install -r requirements.txt
PYTHONPATH=. MODEL_DIR={ctx.model_dir} FORMAT={ctx.format} HOST=127.0.0.1 PORT=8080 WORKERS=1 \\
  .venv/bin/python -m mlengine.serving.server
```
"""


def image_tag(run_dir: Path, run_id: str) -> str:
    """`mlengine-<recipe name>:<run id>`, cleaned to Docker's tag grammar."""
    try:
        name = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["run"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        name = "model"
    name = re.sub(r"[^a-z0-9_.-]+", "-", str(name).lower()).strip("-._") or "model"
    return f"mlengine-{name}:{re.sub(r'[^A-Za-z0-9_.-]+', '-', run_id)[:128]}"


def serve_context(ctx: DockerContext, port: int = PORT, workers: int = 1) -> int:
    """Run the context's entrypoint here (loopback, the current Python) until Ctrl-C or SIGTERM: a smoke check of
    what the image will serve, importing mlengine from the context, not from the installed package."""
    import signal

    env = {**os.environ, **ctx.env(), "PORT": str(port), "WORKERS": str(workers)}
    proc = subprocess.Popen([sys.executable, "-m", "mlengine.serving.server"], cwd=ctx.out_dir, env=env)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signum))  # stop it cleanly
    try:
        return proc.wait()
    except KeyboardInterrupt:  # the server got the terminal's SIGINT too; let it finish
        return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
