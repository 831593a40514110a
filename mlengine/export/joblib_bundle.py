"""The model bundle: `model.json` beside `model.joblib` and/or `model.onnx`.

model.json holds the input contract (columns, kinds, dtypes, categories seen), classes, the decision rule
(threshold), the recipe's sha256, package versions and the sha256 of every artifact. Unpickling runs code, so
loading checks an artifact's sha256 against the bundle before touching it and refuses a mismatch (model.onnx
is checked the same way, although loading it runs no code).
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from mlengine.errors import ModelLoadError
from mlengine.records import plain, sha256_file

BUNDLE_FILE = "model.json"
STACK = ("mlengine", "scikit-learn", "lightgbm", "xgboost-cpu", "catboost", "imbalanced-learn", "flaml", "pandas",
         "numpy", "onnx", "skl2onnx", "onnxruntime", "onnxmltools", "hydra-core", "omegaconf", "pandera", "pyarrow", "joblib", "pydantic")


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in STACK:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = platform.python_version()
    return out


def input_contract(data: Any, max_categories: int = 1000) -> list[dict[str, Any]]:
    """Per raw input column: name, kind, training dtype, whether it had missing values and (categoricals) every
    category seen in training (unseen ones are encoded as at training: ordinal -1, one-hot infrequent/zeros)."""
    cols = data.columns
    out = []
    for name in cols.features:
        kind = cols.kind_of(name)
        s = data.X[name]
        entry: dict[str, Any] = {"name": name, "kind": kind, "dtype": str(s.dtype), "missing_seen": bool(s.isna().any())}
        if kind == "categorical":
            cats = sorted(s.dropna().astype(str).unique().tolist())
            entry["categories"] = cats[:max_categories]
            if len(cats) > max_categories:
                entry["categories_truncated"] = len(cats)
        out.append(entry)
    return out


def decision_rule(model: Any, task: str, classes: list[Any]) -> dict[str, Any]:
    """How the model turns scores into labels: a fixed/tuned threshold on the positive class, or the argmax."""
    if task == "regression":
        return {"rule": "value"}
    est = _find(model, ("FixedThresholdClassifier", "TunedThresholdClassifierCV"))
    if est is not None:
        from mlengine.export.onnx_models import threshold_of

        threshold, pos, method = threshold_of(est)
        return {"rule": "threshold", "threshold": threshold, "positive_class": plain(pos), "score": method,
                "description": f"predict {plain(pos)!r} when its {method} score >= {threshold:g}"}
    text = "the class with the highest probability"
    if len(classes) == 2:
        text += f" ({classes[1]!r} when its probability > 0.5)"
    return {"rule": "argmax", "threshold": 0.5 if len(classes) == 2 else None, "description": text}


def _find(model: Any, names: tuple[str, ...]) -> Any:
    stack = [model]
    while stack:
        cur = stack.pop()
        if type(cur).__name__ in names:
            return cur
        if hasattr(cur, "steps"):
            stack += [s for _, s in cur.steps]
        for attr in ("estimator_", "estimator", "regressor_"):
            if attr in vars(cur):
                stack.append(vars(cur)[attr])
    return None


def save_joblib(run_path: Path, model: Any, plan: Any, data: Any, model_name: str | None = None,
                extra: dict[str, Any] | None = None, data_checks: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write model.joblib (when the plan exports joblib) and model.json (plus `extra` entries, e.g. target bins,
    threshold, calibration); return the artifact record.

    `data_checks` (the data contract, `data.on_violation` and the PII-hashed columns) is stored so that
    `load_model(...).predict` checks and transforms new rows exactly as the run did.
    """
    import joblib

    artifacts: dict[str, Any] = {}
    if "joblib" in plan.export:
        path = run_path / "model.joblib"
        joblib.dump(model, path, compress=3)
        artifacts["model.joblib"] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    recipe = run_path / "recipe.yaml"
    bundle = {
        "format_version": 2,
        "task": data.task,
        "target": str(data.y.name),
        "classes": list(data.classes),
        "positive_class": data.pos_label,
        "decision": decision_rule(model, data.task, list(data.classes)),
        "id_column": None if data.ids is None else str(data.ids.name),
        "inputs": input_contract(data),
        "model": model_name or plan.candidates[0].model,
        "formats": list(plan.export),
        "recipe_sha256": sha256_file(recipe) if recipe.is_file() else None,
        "data_checks": data_checks or {},
        "artifacts": artifacts,
        "versions": package_versions(),
        **(extra or {}),
    }
    write_bundle(run_path, bundle)
    return artifacts


def write_bundle(run_path: Path, bundle: dict[str, Any]) -> None:
    tmp = run_path / (BUNDLE_FILE + ".tmp")
    tmp.write_text(json.dumps(bundle, indent=2, default=_json_default) + "\n", encoding="utf-8")
    tmp.replace(run_path / BUNDLE_FILE)


def _json_default(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else str(v)


def read_bundle(run_dir: str | Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    path = run_dir / BUNDLE_FILE
    if not run_dir.is_dir():
        raise ModelLoadError(f"run directory {str(run_dir)!r} does not exist.")
    if not path.is_file():
        raise ModelLoadError(f"{str(run_dir)!r} holds no {BUNDLE_FILE}: not a complete mlengine run (see its "
                             "status.json).")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON ({exc}); the bundle is damaged.") from None


def verified_path(run_dir: str | Path, bundle: dict[str, Any], name: str) -> Path:
    """The artifact's path, after checking it exists and its sha256 matches the bundle."""
    path = Path(run_dir) / name
    record = bundle.get("artifacts", {}).get(name)
    if record is None:
        have = ", ".join(sorted(bundle.get("artifacts", {}))) or "none"
        raise ModelLoadError(f"this run has no {name} (its artifacts: {have}).")
    if not path.is_file():
        raise ModelLoadError(f"{str(path)!r} is missing although {BUNDLE_FILE} lists it; the run directory was "
                             "changed after the run.")
    digest = sha256_file(path)
    if digest != record.get("sha256"):
        raise ModelLoadError(f"{str(path)!r} does not match the sha256 recorded in {BUNDLE_FILE} (recorded "
                             f"{str(record.get('sha256'))[:12]}..., file {digest[:12]}...). The file was changed after "
                             "the run (tampered, truncated or corrupt); refusing to load it.")
    return path


def load_verified_joblib(run_dir: str | Path, bundle: dict[str, Any]) -> Any:
    """Unpickle model.joblib only if its sha256 matches the bundle."""
    import joblib

    path = verified_path(run_dir, bundle, "model.joblib")
    try:
        return joblib.load(path)
    except Exception as exc:
        raise ModelLoadError(f"{str(path)!r} could not be loaded: {exc}.") from None
