"""CLI: `mlengine serve` (registered through COMMAND_MODULES in mlengine/cli.py; nothing heavy imported here)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve a run's model over HTTP (needs the [serve] extra)",
                       description="Serve REF's model: POST /predict, GET /health, /ready, /metadata, /metrics. "
                                   "Stops cleanly on SIGTERM.")
    p.add_argument("ref", nargs="?", help="a run directory, a run id from `runs list` (under runs/), or registry:/, models:/")
    p.add_argument("--model", action="append", default=[], metavar="NAME=REF", help="an A/B arm (repeatable)")
    p.add_argument("--split", metavar="a=90,b=10", help="traffic share per --model arm")
    p.add_argument("--shadow", metavar="NAME", help="this arm scores every request but never answers")
    p.add_argument("--route-key", metavar="COL", help="column whose value (first row) picks the arm; "
                   "or send an X-Route-Key header")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--format", choices=["onnx", "joblib"], default="onnx")
    p.add_argument("--max-rows", type=int, default=10_000)
    p.add_argument("--max-bytes", type=int, default=10_000_000)
    p.add_argument("--drift-window", type=int, default=10_000, metavar="N",
                   help="per-feature PSI gauges on /metrics over the last N accepted rows against the run's "
                        "reference.json (default 10000; 0 = off)")
    p.add_argument("--no-access-log", action="store_true", help="no JSON line per request on stderr")


def cmd_serve(args: argparse.Namespace) -> int:
    from mlengine.errors import UserError
    from mlengine.runs.refs import resolve_model_ref

    if bool(args.ref) == bool(args.model):
        raise UserError("serve: give either REF or one --model NAME=REF per arm (not both, not neither).")
    models: dict[str, str] = {}
    for item in args.model:
        name, sep, ref = item.partition("=")
        if not sep or not name or not ref or name in models:
            raise UserError(f"--model {item!r}: expected NAME=REF with a name used once (e.g. a=runs/t/1).")
        models[name] = str(resolve_model_ref(ref))
    run_dir = models or str(resolve_model_ref(args.ref))
    if args.workers < 1 or args.max_rows < 1 or args.max_bytes < 1:
        raise UserError("--workers, --max-rows and --max-bytes must be at least 1.")
    if args.drift_window < 0:
        raise UserError(f"--drift-window {args.drift_window}: must be 0 (off) or a number of rows.")
    try:
        from mlengine.serving.server import serve
    except ImportError as exc:
        raise UserError(f"mlengine serve needs the [serve] extra ({exc.name} is not installed): "
                        "pip install 'mlengine[serve]'.") from None
    serve(run_dir, args.host, args.port, args.workers, args.format, args.max_rows, args.max_bytes,
          not args.no_access_log, args.split, args.shadow, args.route_key, args.drift_window)
    return 0


HANDLERS = {"serve": cmd_serve}
