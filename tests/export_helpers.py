"""Helpers for the export tests: mlengine pipelines fitted on the bundled data, and an ONNX-vs-sklearn check."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tests.conftest import RECIPES

_DATA: dict[tuple[str, tuple[str, ...]], Any] = {}


def prepared(recipe: str, overrides: tuple[str, ...] = ()) -> tuple[Any, Any]:
    """(PreparedData, unfitted mlengine pipeline) for a bundled recipe with overrides (cached data)."""
    import mlengine
    from mlengine.data.sources import read_source
    from mlengine.data.table import prepare_table
    from mlengine.plan import compile_recipe

    loaded = mlengine.load_recipe(RECIPES / recipe, list(overrides))
    key = (recipe, tuple(o for o in overrides if o.startswith("task")))
    if key not in _DATA:
        _DATA[key] = prepare_table(read_source(loaded.recipe.data.source, loaded.base_dir), loaded.recipe)
    data = _DATA[key]
    plan = compile_recipe(loaded.recipe, task=data.task)
    return data, plan.build_pipeline(plan.candidates[0], data.columns, data.task)


def onnx_of(model: Any) -> Any:
    from mlengine.export.onnx_convert import to_onnx
    from mlengine.export.onnx_runtime import OnnxModel

    conv = to_onnx(model)
    return OnnxModel(conv.model.SerializeToString(), [s.as_dict() for s in conv.inputs], conv.task, conv.classes)


def parity(model: Any, X: pd.DataFrame, task: str, tolerance: float = 1e-9) -> Any:
    """Convert, run both, and return the parity report (asserting nothing)."""
    from mlengine.export.parity import compare

    return compare(model, onnx_of(model), X, task, tolerance)


def assert_exact(model: Any, X: pd.DataFrame, task: str, tolerance: float = 1e-9) -> Any:
    report = parity(model, X, task, tolerance)
    assert report.passed, report.failing_rows[:5]
    assert report.rows_checked == len(X)
    return report


def raw_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values with None for missing (what a service receives as JSON)."""
    return [{k: (None if (isinstance(v, float) and np.isnan(v)) else v) for k, v in row.items()}
            for row in frame.astype(object).where(frame.notna(), None).to_dict("records")]


FAST = ("model.n_jobs=1", "model.params.n_estimators=10")


def run_folder(root: Any, recipe: str = "titanic.yaml", overrides: tuple[str, ...] = FAST, rows: int = 300,
               onnx: bool = False, **bundle: Any) -> tuple[Any, Any, Any]:
    """(run folder, PreparedData, fitted pipeline): `recipe`'s pipeline fitted on its first `rows` rows and saved
    as a run's model (model.joblib + model.json; with `onnx`, model.onnx too, hashed and listed in model.json);
    `bundle` entries are added to model.json (e.g. id_column="pid")."""
    from pathlib import Path
    from types import SimpleNamespace as NS

    from mlengine.export.joblib_bundle import read_bundle, save_joblib, sha256_file, write_bundle

    data, pipe = prepared(recipe, overrides)
    pipe.fit(data.X.iloc[:rows], data.y.iloc[:rows])
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    plan = NS(export=["onnx", "joblib"] if onnx else ["joblib"], candidates=[NS(model="lightgbm")])
    artifacts = save_joblib(root, pipe, plan, data)
    if onnx:
        from mlengine.export.onnx_convert import to_onnx

        conv = to_onnx(pipe)
        (root / "model.onnx").write_bytes(conv.model.SerializeToString())
        bundle["artifacts"] = {**artifacts, "model.onnx": {"sha256": sha256_file(root / "model.onnx")}}
        bundle["onnx"] = {"signature": conv.signature()}
    if bundle:
        write_bundle(root, {**read_bundle(root), **bundle})
    return root, data, pipe
