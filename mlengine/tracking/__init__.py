"""Experiment tracking (MLflow, the optional `[tracking]` extra) and model registries.

- `store`: opening a store (extra installed, server reachable, telemetry off) through an explicit MlflowClient.
- `hook`: the built-in `tracking` hook (`tracking.uri` turns it on): checks the store before training, then logs
  one parent run per mlengine run (and child runs per search trial) from the driver process.
- `mlflow_log`: what is logged (params, tags, metrics, artifacts, trials, the model as ONNX and pyfunc).
- `pyfunc_model`: the MLflow pyfunc wrapping the verified joblib bundle.
- `registry`: the local registry (`<runs_dir>/registry.json`), used by `mlengine registry ...` and `registry:/` refs.
- `models`: `models:/NAME@ALIAS` and `models:/NAME/VERSION` from an MLflow registry, downloaded to a temp folder.
- `sweeps`: one parent MLflow run per multirun; jobs nest under it through `ENV_PARENT_RUN`.
- `commands`: the `mlengine registry` CLI.

Nothing here imports mlflow at import time.
"""
