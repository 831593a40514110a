"""CLI: `mlengine build-docker RUN_DIR OUT_DIR [--serve]` (registered through COMMAND_MODULES; nothing heavy here)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("build-docker", help="write a Docker build context that serves a run's model",
                       description="Write OUT_DIR: the model files (ONNX preferred) with their sha256 record, a "
                                   "pinned requirements.txt with only what serving needs, mlengine's source, a "
                                   "Dockerfile (python:3.11-slim, non-root, HEALTHCHECK on /health), .dockerignore "
                                   "and a README with the build/run commands. OUT_DIR must be new or empty.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (or a registry reference)")
    p.add_argument("out_dir", metavar="OUT_DIR", help="the build context to write (must not exist or be empty)")
    p.add_argument("--format", choices=["auto", "onnx", "joblib"], default="auto",
                   help="model file to ship (default: onnx when the run has one, else joblib)")
    p.add_argument("--serve", action="store_true",
                   help="then run the context's entrypoint here on 127.0.0.1 (the current Python, mlengine "
                        "imported from OUT_DIR) until Ctrl-C: a smoke check without Docker")
    p.add_argument("--port", type=int, default=8080, help="port for --serve (default 8080)")
    p.add_argument("--runs-dir", help="runs folder for registry:/ references (default: runs)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")


def cmd_build_docker(args: argparse.Namespace) -> int:
    import json

    from mlengine.runs.refs import resolve_model_ref
    from mlengine.serving.docker import build_context, serve_context

    ctx = build_context(resolve_model_ref(args.run_dir, args.runs_dir), args.out_dir, format=args.format)
    if args.json:
        print(json.dumps({"out_dir": str(ctx.out_dir), "run_id": ctx.run_id, "format": ctx.format,
                          "requirements": ctx.requirements, "bytes": ctx.bytes, "files": ctx.files}))
    else:
        print(f"build context for run {ctx.run_id} (model.{ctx.format}, {len(ctx.files)} files, "
              f"{ctx.bytes / 1e6:.2f} MB) -> {ctx.out_dir}")
        print(f"  docker build -t {ctx.tag} {ctx.out_dir}")
        print(f"  docker run --rm -p 8080:8080 {ctx.tag}")
    if args.serve:
        print(f"serving the context's entrypoint on http://127.0.0.1:{args.port} (Ctrl-C stops)", flush=True)
        return serve_context(ctx, port=args.port)
    return 0


HANDLERS = {"build-docker": cmd_build_docker}
