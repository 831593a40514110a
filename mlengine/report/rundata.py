"""What the report reads from a run directory, loaded lazily and tolerant of anything missing."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any


class RunData:
    """A run directory's files as the report needs them; a missing or unreadable file reads as None."""

    def __init__(self, run_dir: str | Path, metrics: dict[str, Any] | None = None,
                 final_dir: str | Path | None = None):
        self.path = Path(run_dir)
        self.final = Path(final_dir) if final_dir else self.path  # where the run will live (shown to people)
        self._metrics = metrics

    def _json(self, name: str) -> dict[str, Any] | None:
        p = self.path / name
        if not p.is_file():
            return None
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def text(self, name: str) -> str | None:
        p = self.path / name
        return p.read_text(encoding="utf-8", errors="replace") if p.is_file() else None

    def frame(self, name: str) -> Any:
        import pandas as pd

        p = self.path / name
        if not p.is_file():
            return None
        return pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)

    @cached_property
    def metrics(self) -> dict[str, Any]:
        return self._metrics if self._metrics is not None else (self._json("metrics.json") or {})

    @cached_property
    def bundle(self) -> dict[str, Any]:
        return self._json("model.json") or {}

    @cached_property
    def status(self) -> dict[str, Any]:
        return self._json("status.json") or {}

    @cached_property
    def manifest(self) -> dict[str, Any] | None:
        return self._json("manifest.json")

    @cached_property
    def recipe(self) -> dict[str, Any]:
        import yaml

        text = self.text("recipe.yaml")
        try:
            return (yaml.safe_load(text) or {}) if text else {}
        except yaml.YAMLError:
            return {}

    @cached_property
    def predictions(self) -> Any:
        return self.frame("predictions.parquet")

    @cached_property
    def leaderboard(self) -> Any:
        return self.frame("leaderboard.csv")

    # ------------------------------------------------------------------------------------- shortcuts ---
    @property
    def task(self) -> str:
        return self.metrics.get("task") or self.bundle.get("task") or "unknown"

    @property
    def primary(self) -> str | None:
        return self.metrics.get("primary_metric")

    @property
    def greater_is_better(self) -> bool:
        gib = self.metrics.get("greater_is_better")
        if gib is None and self.primary:
            from mlengine.evaluate.metrics import METRICS

            return METRICS[self.primary].greater_is_better if self.primary in METRICS else True
        return bool(gib) if gib is not None else True

    @property
    def name(self) -> str:
        return str(self.recipe.get("name") or self.path.parent.name)

    @property
    def classes(self) -> list[Any]:
        return list(self.metrics.get("classes") or self.bundle.get("classes") or [])

    def proba_columns(self) -> dict[Any, str]:
        """class -> its probability column in predictions.parquet (proba_<class>)."""
        preds = self.predictions
        if preds is None:
            return {}
        return {c: f"proba_{c}" for c in self.classes if f"proba_{c}" in preds.columns}
