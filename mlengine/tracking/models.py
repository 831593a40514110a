"""Models in MLflow: logging a run's model (pyfunc + ONNX), registering versions, resolving `models:/` refs.

The pyfunc carries the whole run directory as its artifact `run_dir`, so a registered version resolves back to
a run directory that `mlengine.export.loaded.load_model` verifies by sha256 like any other (`models:/NAME@ALIAS`
and `models:/NAME/VERSION` in `mlengine.runs.refs`; downloaded once per version into
`<temp folder>/mlengine-models/`). Signatures and input examples come from the data contract
in model.json (one synthetic row: first seen category, 0 or the schema's lower bound), never from training rows.
Numeric inputs are doubles as at training: MLflow's schema check refuses int64 columns for them (cast first).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from mlengine.errors import UserError

log = logging.getLogger("mlengine")

MODEL_ARTIFACT = "model"
ONNX_ARTIFACT = "onnx_model"
COLSPEC_TYPES = {"bool": "boolean", "boolean": "boolean", "int": "long", "int64": "long", "Int64": "long",
                 "int32": "integer", "float32": "float"}
ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"


def _colspec_type(entry: dict[str, Any]) -> str:
    dtype = str(entry.get("dtype", ""))
    if entry.get("kind") == "categorical" or dtype in ("object", "string", "str", "category"):
        return "string"
    if entry.get("kind") == "boolean":
        return "boolean"
    if dtype.startswith("datetime"):
        return "datetime"
    return COLSPEC_TYPES.get(dtype, "double")


def _example_value(entry: dict[str, Any], contract: dict[str, Any]) -> Any:
    kind, typ = entry.get("kind"), _colspec_type(entry)
    if typ == "string":
        return (entry.get("categories") or ["a"])[0]
    if typ == "boolean":
        return False
    if typ == "datetime":
        import pandas as pd

        return pd.Timestamp("2020-01-01")
    bound = (contract.get(entry["name"]) or {}).get("ge") if isinstance(contract, dict) else None
    value = bound if isinstance(bound, (int, float)) else 0
    return int(value) if typ in ("long", "integer") or kind == "int" else float(value)


def pyfunc_signature(bundle: dict[str, Any]) -> tuple[Any, Any]:
    """(ModelSignature, one-row input example DataFrame) from the bundle's input contract."""
    import pandas as pd
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = bundle["inputs"]
    contract = (bundle.get("data_checks") or {}).get("contract") or {}  # {column: rules}, as the run stores it
    schema_in = Schema([ColSpec(_colspec_type(c), c["name"]) for c in inputs])
    outputs = [ColSpec("double" if bundle["task"] == "regression" else _label_type(bundle), "prediction")]
    outputs += [ColSpec("double", f"proba_{c}") for c in bundle.get("classes") or []]
    example = pd.DataFrame([{c["name"]: _example_value(c, contract) for c in inputs}])
    return ModelSignature(inputs=schema_in, outputs=Schema(outputs)), example


def _label_type(bundle: dict[str, Any]) -> str:
    classes = bundle.get("classes") or []
    if classes and all(isinstance(c, bool) for c in classes):
        return "boolean"
    if classes and all(isinstance(c, int) for c in classes):
        return "long"
    return "string"


def onnx_signature(bundle: dict[str, Any], example: Any) -> tuple[Any, dict[str, Any]]:
    """Tensor signature ([-1, 1] per input, as model.onnx takes them) and a feed-dict example."""
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    specs, feed = [], {}
    for col in bundle["onnx"]["signature"]["inputs"]:
        text = col["dtype"] == "string"
        dtype = np.dtype(object) if text else np.dtype(col["dtype"])
        specs.append(TensorSpec(dtype, (-1, 1), col["name"]))
        source = col.get("source", col["name"])
        value = example[source].iloc[0] if source in example.columns else ("a" if text else 0)
        feed[col["name"]] = np.array([[str(value) if text else value]], dtype=dtype)
    return ModelSignature(inputs=Schema(specs)), feed


def pip_requirements(bundle: dict[str, Any], names: tuple[str, ...] | None = None) -> list[str]:
    """Exact pins from the versions recorded in model.json (no inference: it costs seconds per model)."""
    from importlib.metadata import version

    versions = {k: v for k, v in (bundle.get("versions") or {}).items() if v and k != "python"}
    pins = [f"{k}=={v}" for k, v in versions.items() if names is None or k in names]
    if names is None:
        pins.append(f"mlflow-skinny=={version('mlflow-skinny')}")
    return pins


def log_models(client: Any, run_id: str, run_dir: Path) -> None:
    """Save the pyfunc (and the ONNX model when the run has one) and upload them as run artifacts."""
    import mlflow.pyfunc

    from mlengine.export.joblib_bundle import read_bundle

    bundle = read_bundle(run_dir)
    signature, example = pyfunc_signature(bundle)
    with tempfile.TemporaryDirectory(prefix="mlengine-mlflow-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's advice on type hints and pickling: neither applies here
        from mlengine.tracking import pyfunc_model

        path = Path(tmp) / MODEL_ARTIFACT
        mlflow.pyfunc.save_model(str(path), python_model=pyfunc_model.__file__,
                                 artifacts={"run_dir": str(run_dir)},
                                 signature=signature, input_example=example, pip_requirements=pip_requirements(bundle),
                                 metadata={"mlengine_run_dir": str(run_dir)})
        client.log_artifacts(run_id, str(path), artifact_path=MODEL_ARTIFACT)
        if "model.onnx" in bundle.get("artifacts", {}) and bundle.get("onnx", {}).get("signature"):
            _log_onnx(client, run_id, run_dir, bundle, example, Path(tmp) / ONNX_ARTIFACT)


def _log_onnx(client: Any, run_id: str, run_dir: Path, bundle: dict[str, Any], example: Any, path: Path) -> None:
    import mlflow.onnx
    import onnx

    from mlengine.export.joblib_bundle import verified_path

    model = onnx.load(str(verified_path(run_dir, bundle, "model.onnx")))
    signature, feed = onnx_signature(bundle, example)
    mlflow.onnx.save_model(model, str(path), signature=signature, input_example=feed, save_as_external_data=False,
                           onnx_execution_providers=["CPUExecutionProvider"],
                           pip_requirements=pip_requirements(bundle, ("onnx", "onnxruntime", "numpy")))
    client.log_artifacts(run_id, str(path), artifact_path=ONNX_ARTIFACT)


def register_version(client: Any, run_id: str, name: str, alias: str | None, gate_passed: bool) -> str:
    """A new version of registered model `name` from the run's pyfunc; `alias` moves to it when given."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if "RESOURCE_ALREADY_EXISTS" not in str(exc.error_code):
            raise
    source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{MODEL_ARTIFACT}"
    version = client.create_model_version(name, source, run_id=run_id,
                                          tags={"mlengine.gate": "passed" if gate_passed else "failed"})
    if alias:
        client.set_registered_model_alias(name, alias, version.version)
        log.info("tracking: registered %s version %s, alias %r moved to it", name, version.version, alias)
    else:
        log.info("tracking: registered %s version %s (alias not moved%s)", name, version.version,
                 "" if gate_passed else ": the quality gate failed")
    client.set_tag(run_id, "mlengine.registered", f"{name}/{version.version}")
    return str(version.version)


def parse_models_ref(ref: str) -> tuple[str, str | None, str | None]:
    """models:/NAME@ALIAS or models:/NAME/VERSION -> (name, alias, version)."""
    body = ref.removeprefix("models:/")
    if "@" in body:
        name, _, alias = body.partition("@")
        if name and alias and "/" not in name:
            return name, alias, None
    else:
        name, _, version = body.partition("/")
        if name and version.isdigit():
            return name, None, version
    raise UserError(f"model reference {ref!r}: expected models:/NAME@ALIAS or models:/NAME/VERSION (VERSION a "
                    "number).")


def download_model_ref(ref: str, tracking_uri: str | None = None) -> Path:
    """The run directory behind an MLflow registry reference, downloaded once into the temp folder's cache."""
    uri = tracking_uri or os.environ.get(ENV_TRACKING_URI)
    if not uri:
        raise UserError(f"model reference {ref!r} needs an MLflow tracking URI: set {ENV_TRACKING_URI} (e.g. "
                        "sqlite:///mlruns.db) or pass --tracking-uri.")
    from mlengine.tracking.store import open_client

    key = ENV_TRACKING_URI if not tracking_uri else "--tracking-uri"
    client = open_client(uri, key=key)
    name, alias, version = parse_models_ref(ref)
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
        source = client.get_model_version_download_uri(name, mv.version)
    except MlflowException as exc:
        raise UserError(f"model reference {ref!r} is not in the MLflow registry at {uri!r}: "
                        f"{str(exc).splitlines()[0]}") from None
    cached = cache_dir(uri, name, str(mv.version), mv.run_id or "")
    if (cached / "model.json").is_file():
        return cached
    run_dir = _download_run_dir(ref, source.rstrip("/"), uri, cached.parent, str(mv.version))
    try:
        os.rename(run_dir, cached)  # whole or not at all: a failed download never looks cached
    except OSError:
        if not (cached / "model.json").is_file():  # not a concurrent download of the same version
            raise
    shutil.rmtree(run_dir.parent, ignore_errors=True)
    return cached


def cache_dir(uri: str, name: str, version: str, run_id: str) -> Path:
    """Where a registered version's run directory is kept: the temp folder, keyed by store, version and run id
    (a re-created store reusing version numbers never hits a stale copy; sha256 is still checked on load)."""
    import hashlib

    key = hashlib.sha256(f"{uri}\n{run_id}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "mlengine-models" / f"{name}-v{version}-{key}"


def _download_run_dir(ref: str, source: str, uri: str, parent: Path, version: str) -> Path:
    import mlflow.artifacts
    import yaml

    parent.mkdir(parents=True, exist_ok=True)
    dest = Path(tempfile.mkdtemp(prefix=".download-", dir=parent))
    mlmodel = mlflow.artifacts.download_artifacts(artifact_uri=f"{source}/MLmodel", dst_path=str(dest),
                                                  tracking_uri=uri)
    spec = yaml.safe_load(Path(mlmodel).read_text(encoding="utf-8")) or {}
    inner = ((((spec.get("flavors") or {}).get("python_function") or {}).get("artifacts") or {})
             .get("run_dir") or {}).get("path")
    run_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"{source}/{inner}", dst_path=str(dest),
                                                       tracking_uri=uri)) if inner else dest
    if not (run_dir / "model.json").is_file():
        raise UserError(f"model reference {ref!r} (version {version}) holds no mlengine run directory; it was "
                        "not logged by mlengine.")
    return run_dir
