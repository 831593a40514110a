"""`mlengine registry promote|list|show`: the local model registry (`<runs_dir>/registry.json`).

Imports nothing heavy: the registry module is loaded when a command runs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

EPILOG = "Exit codes: 0 ok, 1 internal error, 2 user error (unknown run, name, alias or version)."


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("registry", help="local model registry: promote a run, list and show models",
                       description="A registry of named models in the runs folder (registry.json): each "
                                   "promoted run is a numbered version; aliases (e.g. champion) point at one. "
                                   "Load with registry:/NAME@ALIAS or registry:/NAME/VERSION in predict, "
                                   "load_model and serve.", epilog=EPILOG)
    rs = p.add_subparsers(dest="registry_command", metavar="ACTION", required=True, parser_class=type(p))
    q = rs.add_parser("promote", help="register a complete run as a version and move an alias to it")
    q.add_argument("run", help="a run directory, or <name>/<run id> under --runs-dir")
    q.add_argument("--name", required=True, help="registered model name (letters, digits, _ . -)")
    q.add_argument("--alias", help="alias to point at this version (e.g. champion)")
    _common(q)
    q = rs.add_parser("list", help="every registered model version with its aliases")
    _common(q)
    q = rs.add_parser("show", help="one version: NAME (latest), NAME@ALIAS or NAME/VERSION")
    q.add_argument("ref", help="NAME, NAME@ALIAS or NAME/VERSION (registry:/ prefix optional)")
    _common(q)


def _common(q: argparse.ArgumentParser) -> None:
    q.add_argument("--runs-dir", default="runs", help="runs folder holding registry.json (default: runs)")
    q.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


def cmd_registry(args: argparse.Namespace) -> int:
    from mlengine.tracking import registry

    if args.registry_command == "promote":
        from mlengine.runs.listing import resolve_run

        entry = registry.promote(args.runs_dir, resolve_run(args.run, args.runs_dir), args.name, args.alias)
        if args.json:
            print(json.dumps(entry, default=str))
        else:
            where = f", alias {entry['alias']!r} -> it" if entry["alias"] else ""
            print(f"{entry['name']} version {entry['version']}{where}: {entry['path']}")
        return 0
    if args.registry_command == "list":
        rows = registry.list_models(args.runs_dir)
        if args.json:
            print(json.dumps(rows, default=str))
        elif not rows:
            print(f"no registered models in {registry.registry_path(args.runs_dir)}")
        else:
            print(f"{'name':<20}{'version':>8}  {'aliases':<20}{'metric':<20}{'holdout':>9}  run")
            for r in rows:
                hold = f"{r['holdout']:.4f}" if isinstance(r["holdout"], (int, float)) else "-"
                print(f"{r['name']:<20}{r['version']:>8}  {','.join(r['aliases']) or '-':<20}"
                      f"{r['metric'] or '-':<20}{hold:>9}  {r['run_dir']}")
        return 0
    entry = registry.lookup(args.runs_dir, args.ref)
    if args.json:
        print(json.dumps(entry, default=str))
    else:
        for key in ("name", "version", "aliases", "path", "registered", "task", "model", "metric", "cv", "holdout",
                    "recipe_sha256"):
            value = entry.get(key)
            print(f"{key:<14}{', '.join(value) if isinstance(value, list) else value}")
    return 0


HANDLERS = {"registry": cmd_registry}
