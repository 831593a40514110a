"""`export`: which artifacts a run writes (joblib, model.onnx) and how model.onnx is checked.

The section class owns its keys with their defaults (stated once, here), its checks without data (`check`:
asking for ONNX with a model or ensemble that cannot be exported is refused before anything runs) and its plan
(`resolve`: the formats and the plan's notes). `export.format: auto` (the default) writes joblib always and
ONNX whenever the recipe's model can be exported; an explicit list writes exactly those formats. Which models and
parameters can be exported is `mlengine.export.support`'s table; the run converts and checks parity in
`mlengine.export.stage`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from mlengine.errors import Problem, unknown_name
from mlengine.sections.registry import Section


class ExportSection(Section):
    """The export section (no options to choose between: one class)."""

    format: Literal["auto"] | list[Literal["onnx", "joblib"]] = Field(
        "auto", description="artifacts to write: onnx, joblib or a list of both; auto = joblib, plus onnx when the "
                            "model can be exported (asking for onnx with a model that cannot be is a recipe error)")
    verify: bool = Field(True, description="check model.onnx against the scikit-learn pipeline on the holdout rows; "
                                           "a failed check fails the run (under auto: drops model.onnx, warns)")
    opset: int = Field(17, ge=13, le=21, description="ONNX opset of the default domain (ai.onnx.ml is 5: float64 TreeEnsemble)")
    tolerance: float = Field(1e-5, gt=0.0, le=0.1, description="parity tolerance: absolute for probabilities, "
                                                               "relative for regression predictions; labels must match "
                                                               "exactly")
    measure_latency: bool = Field(True, description="after writing model.onnx, time single-row predictions of "
                                                    "model.onnx (onnxruntime, 1 thread) and model.joblib on holdout "
                                                    "rows (up to 200 calls or 0.5 s each) and batch throughput; p50/"
                                                    "p95/p99 in metrics.json export.onnx.latency and the report")
    auto_onnx_max_mb: float = Field(200.0, gt=0.0, description="under format auto, model.onnx is skipped (with a "
                                                               "warning) when the fitted forests would make it larger "
                                                               "than this (estimated from their node counts); an "
                                                               "explicit onnx format always writes it")

    @field_validator("format", mode="before")
    @classmethod
    def _check_format(cls, v: Any) -> Any:
        """One clear message (the union's per-branch errors would be noise)."""
        if v == "auto":
            return v
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not items:
            raise ValueError(f"got {v!r}. Allowed: auto, onnx, joblib, or a list of onnx and joblib.")
        for item in items:
            if item not in ("onnx", "joblib"):
                raise ValueError(unknown_name("export format", item, ("onnx", "joblib"))
                                 + (" ('auto' stands alone, not in a list.)" if item == "auto" else ""))
        return list(dict.fromkeys(items))

    @property
    def explicit(self) -> bool:
        """An explicit format list (not auto): a model that cannot be exported is an error, not a note."""
        return self.format != "auto"

    def check(self, recipe: Any, task: str) -> list[Problem]:
        """Asking for ONNX with a model that cannot be exported is refused before anything runs."""
        from mlengine.export.support import onnx_blockers, search_onnx_blockers

        if not self.explicit or "onnx" not in self.format:
            return []
        problems = []
        ensemble = recipe.search.ensemble
        if ensemble.method == "stacking" and (recipe.search.trials or recipe.search.time_budget or ensemble.members):
            # a kept stacking ensemble (a meta-model over inner-CV predictions) has no ONNX converter: refuse before
            # the search rather than fail the run after it; voting and greedy (soft votes) convert
            problems.append(Problem("search.ensemble.method", "'stacking' cannot be combined with export.format "
                                    "including 'onnx': a stacked ensemble has no ONNX converter. Use export.format: "
                                    "auto (ONNX when the single best is kept, joblib otherwise) or joblib, or "
                                    "search.ensemble.method: voting or greedy (soft votes, which convert)."))
        blockers = onnx_blockers(recipe, task) + search_onnx_blockers(recipe)
        if blockers:
            problems.append(Problem("export.format", f"'onnx' is not possible for this recipe: {'; '.join(blockers)}. "
                                    "Use export.format: joblib (or auto, which skips ONNX for such models), or "
                                    "another model."))
        return problems

    def resolve(self, recipe: Any, task: str = "auto") -> tuple[list[str], list[str]]:
        """(formats the run writes, plan notes)."""
        from mlengine.export.support import onnx_blockers

        blockers = onnx_blockers(recipe, task)
        if self.explicit:
            formats = list(dict.fromkeys(self.format))
        else:
            formats = ["joblib"] if blockers else ["joblib", "onnx"]
        notes: list[str] = []
        if "onnx" in formats:
            check = (f"verified against scikit-learn on the holdout rows: labels exact, "
                     f"{'predictions within' if task == 'regression' else 'probabilities within'} {self.tolerance:g} "
                     f"{'relative' if task == 'regression' else 'absolute'}" if self.verify
                     else "NOT verified (export.verify: false)")
            notes.append(f"onnx: model.onnx (opset {self.opset}), {check}"
                         + ("; a failed check fails the run" if self.explicit
                            else "; under format auto a failed check drops model.onnx with a warning"))
        elif blockers:
            notes.append("onnx: this model cannot be exported to ONNX: " + "; ".join(blockers)
                         + ". Writing joblib only.")
        return formats, notes
