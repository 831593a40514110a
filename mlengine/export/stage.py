"""Runner stage after `stage_save`: write model.onnx, check it against the fitted pipeline, record the result.

The check runs the ONNX model (onnxruntime) and the scikit-learn pipeline on the holdout rows (a sample of the
training rows when there is no holdout) and records max differences and mismatch counts in metrics.json
(`export.onnx`), model.json (`onnx.parity`) and onnx_parity.json. When ONNX was asked for explicitly, a failed
conversion or check raises ExportError naming the rows, and the run is marked failed; under `format: auto`, it
logs a warning, removes model.onnx and the run completes with joblib only. Then (export.measure_latency) the
single-row latency and batch throughput of model.onnx and model.joblib on the same rows go to metrics.json only
(`export.onnx.latency`, export/latency.py): a measurement of this machine, not a property of the model.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from mlengine.errors import ExportError
from mlengine.stages import stage

log = logging.getLogger("mlengine")
NO_HOLDOUT_SAMPLE = 2000


@stage(reads=("data", "plan", "model", "X_tr", "X_te", "y_te", "test_idx", "cv_result"))
def stage_export_onnx(ctx: Any) -> None:
    """Convert, verify and record model.onnx when the plan exports ONNX."""
    from mlengine.records import sha256_file

    if "onnx" not in ctx.plan.export:
        return
    recipe = ctx.recipe
    explicit = recipe.export.explicit
    record: dict[str, Any] = {"file": "model.onnx", "opset": recipe.export.opset, "written": False}
    ctx.report.setdefault("export", {})["onnx"] = record
    if not explicit:
        mb = estimated_onnx_mb(ctx.model)
        if mb > recipe.export.auto_onnx_max_mb:
            record["skipped"] = (f"its trees would make model.onnx about {mb:.0f} MB, over export.auto_onnx_max_mb "
                                 f"({recipe.export.auto_onnx_max_mb:g})")
            _update_bundle(ctx, record)
            log.warning("onnx not exported (export.format auto; joblib only): %s. Set export.format: [onnx, joblib] "
                        "to write it anyway, or raise export.auto_onnx_max_mb.", record["skipped"])
            return
    try:
        _export(ctx, record)
    except Exception as exc:
        record["error"] = str(exc) if isinstance(exc, ExportError) else f"{type(exc).__name__}: {exc}"
        (ctx.rd.path / "model.onnx").unlink(missing_ok=True)
        ctx.artifacts.pop("model.onnx", None)
        _update_bundle(ctx, record)
        if explicit:  # an unexpected exception (a converter bug on an unforeseen structure) keeps its traceback
            raise
        log.warning("onnx not exported (export.format auto; joblib only): %s", record["error"])
        return
    path = ctx.rd.path / "model.onnx"
    ctx.artifacts["model.onnx"] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    record["written"] = True
    _update_bundle(ctx, record)
    log.info("model.onnx written (%d KB)%s", path.stat().st_size // 1024,
             "" if record.get("parity") else " (not verified: export.verify is false)")


def estimated_onnx_mb(model: Any) -> float:
    """Size of model.onnx from the scikit-learn trees inside `model` (forests, boosted trees, calibrated or
    ensembled). Measured with mlengine's converter: about 20 bytes per node plus 15 per leaf value stored (1 for
    binary and regression trees, one per class for multiclass). LightGBM boosters are compact and not counted."""
    total, seen, stack = 0.0, set(), [model]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        seen.add(id(obj))
        tree = getattr(obj, "tree_", None)
        if tree is not None and hasattr(tree, "node_count"):
            values = tree.value.shape[-1] if tree.value.ndim == 3 else 1
            total += tree.node_count * (20 + 15 * (1 if values <= 2 else values))
            continue
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif hasattr(obj, "get_params") or (hasattr(obj, "__dict__") and type(obj).__module__.startswith(
                ("sklearn", "imblearn", "mlengine"))):
            stack.extend(vars(obj).values())
    return total / 1e6


def _export(ctx: Any, record: dict[str, Any]) -> None:
    from mlengine.export.onnx_convert import to_onnx
    from mlengine.export.onnx_runtime import OnnxModel
    from mlengine.export.parity import compare

    recipe, data = ctx.recipe, ctx.data
    try:
        conv = to_onnx(ctx.model, opset=recipe.export.opset, name=recipe.name)
    except ExportError as exc:
        raise ExportError(f"model.onnx could not be written (export.format: {recipe.export.format}): {exc}") from None
    raw = conv.model.SerializeToString()
    (ctx.rd.path / "model.onnx").write_bytes(raw)
    record["signature"] = conv.signature()
    if len(ctx.y_te):
        X, rows, where = ctx.X_te, ctx.test_idx, "holdout"
    else:
        n = min(NO_HOLDOUT_SAMPLE, len(ctx.X_tr))
        X, rows, where = ctx.X_tr.iloc[:n], ctx.train_idx[:n], "training (no holdout)"
    inputs = [s.as_dict() for s in conv.inputs]
    if recipe.export.verify:
        ids = None if data.ids is None else data.ids.iloc[rows].to_numpy()
        onnx_model = OnnxModel(raw, inputs, conv.task, conv.classes)
        report = compare(ctx.model, onnx_model, X, data.task, recipe.export.tolerance, rows=rows, ids=ids)
        record["parity"] = {**report.as_dict(), "rows_from": where}
        ctx.rd.write_json("onnx_parity.json", record["parity"])
        log.info("onnx parity on %s rows: %s -> %s", where, report.summary(), "ok" if report.passed else "FAILED")
        report.raise_if_failed()
    if recipe.export.measure_latency:
        record["latency"] = _latency(ctx, OnnxModel(raw, inputs, conv.task, conv.classes, threads=1), X, where)


def _latency(ctx: Any, onnx_model: Any, X: Any, where: str) -> dict[str, Any]:
    """Single-row latency and batch throughput of model.onnx and model.joblib (export/latency.py); a failure to
    measure is recorded and logged, never fails the export."""
    from mlengine.export.latency import measure

    try:
        lat = measure(onnx_model, ctx.model, X, ctx.data.task, where)
    except Exception as exc:
        log.warning("onnx latency not measured: %s: %s", type(exc).__name__, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    parts = [f"{name} p50 {lat[name]['p50_us']:,.0f} us, p99 {lat[name]['p99_us']:,.0f} us "
             f"({lat[name]['calls']} calls), {lat[name]['batch_rows_per_s']:,.0f} rows/s in batches of "
             f"{lat[name]['batch_rows']}" for name in ("onnx", "joblib") if name in lat]
    log.info("single-row latency on %s rows (onnxruntime 1 thread): %s; measured in %.1f s", where,
             "; ".join(parts), lat["seconds"])
    for name, err in (lat.get("errors") or {}).items():
        log.warning("%s latency not measured: %s", name, err)
    return lat


def _update_bundle(ctx: Any, record: dict[str, Any]) -> None:
    """Add the ONNX artifact, its signature and its parity to model.json."""
    from mlengine.export.joblib_bundle import BUNDLE_FILE, write_bundle

    path = ctx.rd.path / BUNDLE_FILE
    if not path.is_file():
        return
    bundle = json.loads(path.read_text(encoding="utf-8"))
    bundle["artifacts"] = {k: v for k, v in ctx.artifacts.items() if k.startswith("model.")}
    bundle["onnx"] = {k: v for k, v in record.items() if k not in ("file", "latency")}  # latency: this machine
    bundle["formats"] = [f for f in bundle.get("formats", []) if f != "onnx" or record["written"]]
    write_bundle(ctx.rd.path, bundle)
