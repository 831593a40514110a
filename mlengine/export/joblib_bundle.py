"""The model bundle: `model.joblib` plus `model.json` (input contract, classes, hashes, versions).

Unpickling runs code, so `load_model` checks the artifact's sha256 against the bundle before loading it and
refuses a mismatch.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from mlengine.errors import ModelLoadError

BUNDLE_FILE = "model.json"
STACK = ("mlengine", "scikit-learn", "lightgbm", "imbalanced-learn", "flaml", "pandas", "numpy", "onnx", "skl2onnx",
         "onnxruntime", "onnxmltools", "hydra-core", "omegaconf", "pandera", "pyarrow", "joblib", "pydantic")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in STACK:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = platform.python_version()
    return out


def input_contract(data: Any, max_categories: int = 200) -> list[dict[str, Any]]:
    """Per raw input column: name, kind, training dtype and (categoricals) the categories seen."""
    cols = data.columns
    out = []
    for name in cols.features:
        kind = cols.kind_of(name)
        entry: dict[str, Any] = {"name": name, "kind": kind, "dtype": str(data.X[name].dtype)}
        if kind == "categorical":
            cats = data.X[name].dropna().astype(str).value_counts().index[:max_categories]
            entry["categories"] = sorted(cats.tolist())
        out.append(entry)
    return out


def save_joblib(run_path: Path, model: Any, plan: Any, data: Any, data_checks: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    """Write model.joblib and model.json; return the artifact record.

    `data_checks` (the data contract, `data.on_violation` and the PII-hashed columns) is stored so that
    `load_model(...).predict` checks and transforms new rows exactly as the run did.
    """
    import joblib

    path = run_path / "model.joblib"
    joblib.dump(model, path, compress=3)
    artifacts = {"model.joblib": {"sha256": sha256_file(path), "bytes": path.stat().st_size}}
    bundle = {
        "format_version": 1,
        "task": data.task,
        "target": str(data.y.name),
        "classes": list(data.classes),
        "positive_class": data.pos_label,
        "id_column": None if data.ids is None else str(data.ids.name),
        "inputs": input_contract(data),
        "model": plan.candidates[0].model,
        "data_checks": data_checks or {},
        "artifacts": artifacts,
        "versions": package_versions(),
    }
    (run_path / BUNDLE_FILE).write_text(json.dumps(bundle, indent=2, default=str) + "\n", encoding="utf-8")
    return artifacts


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


def load_verified_joblib(run_dir: str | Path, bundle: dict[str, Any]) -> Any:
    """Unpickle model.joblib only if its sha256 matches the bundle."""
    import joblib

    path = Path(run_dir) / "model.joblib"
    record = bundle.get("artifacts", {}).get("model.joblib")
    if not path.is_file() or record is None:
        raise ModelLoadError(f"{str(path)!r} is missing; this run has no joblib model.")
    digest = sha256_file(path)
    if digest != record.get("sha256"):
        raise ModelLoadError(f"{str(path)!r} does not match the sha256 recorded in {BUNDLE_FILE} (recorded "
                             f"{str(record.get('sha256'))[:12]}..., file {digest[:12]}...). The file was changed after "
                             "the run; refusing to unpickle it.")
    try:
        return joblib.load(path)
    except Exception as exc:
        raise ModelLoadError(f"{str(path)!r} could not be loaded: {exc}.") from None
