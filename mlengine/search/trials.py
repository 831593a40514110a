"""The trial log: one record per trial, the leaderboard files, and the best config as recipe overrides.

`leaderboard.csv` / `leaderboard.parquet` hold every trial (best first; pruned, failed and timed-out trials last,
without a rank; a pruned or timed-out trial's scores are those of the folds it finished): its rank, number, status,
model, the search metric's mean, std and per-fold scores, seconds, error, `best_iteration` (an early-stopped
booster's fold-mean best iteration: the n_estimators its refit uses) with `best_iterations` (per fold, JSON), the
full config as JSON and one `param.<name>` column per searched parameter (for a booster under early stopping,
`param.n_estimators` is the cap). `best_overrides` states the best config as recipe keys, so that
re-running the recipe with them and `search.trials=0` fits exactly the best trial's pipeline.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class TrialRecord:
    number: int  # 1-based, in the order trials were started
    status: str  # ok | failed | timeout | pruned
    model: str
    params: dict[str, Any]
    pipeline_params: dict[str, Any]
    seconds: float
    folds: list[float] = field(default_factory=list)  # the search metric per fold
    mean: float | None = None
    std: float | None = None
    error: str | None = None
    other: dict[str, float] = field(default_factory=dict)  # other metrics' CV means
    best_iterations: list[int] = field(default_factory=list)  # per fold, when the booster was early-stopped

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def best_iteration(self) -> int | None:
        """The tree count early stopping chose for this config (the fold-mean best iteration), else None."""
        if not self.best_iterations:
            return None
        return max(1, int(round(sum(self.best_iterations) / len(self.best_iterations))))

    @property
    def refit_params(self) -> dict[str, Any]:
        """The params a refit of this config uses: early stopping's tree count replaces the searched cap."""
        n = self.best_iteration
        return self.params if n is None else {**self.params, "n_estimators": n}

    def key(self) -> str:
        """Identity of the configuration (two trials with equal keys fit the same pipeline)."""
        return json.dumps([self.model, self.params, self.pipeline_params], sort_keys=True, default=str)

    def to_dict(self) -> dict[str, Any]:
        return {"trial": self.number, "status": self.status, "model": self.model, "params": self.params,
                "pipeline_params": self.pipeline_params, "folds": self.folds, "mean": self.mean, "std": self.std,
                "seconds": round(self.seconds, 3), "error": self.error, "other_metrics": self.other,
                **({"best_iteration": self.best_iteration, "best_iterations": self.best_iterations}
                   if self.best_iterations else {})}


def record_of(number: int, outcome: Any, metric: str) -> TrialRecord:
    rec = TrialRecord(number, outcome.status, outcome.model, outcome.params, outcome.pipeline_params,
                      outcome.seconds, error=outcome.error)
    if outcome.status in ("ok", "pruned", "timeout") and outcome.scores.get(metric):  # the folds it finished
        folds = [float(v) for v in outcome.scores[metric]]
        rec.folds = folds
        rec.mean = sum(folds) / len(folds)
        rec.std = math.sqrt(sum((v - rec.mean) ** 2 for v in folds) / len(folds))
        rec.other = {m: float(sum(v) / len(v)) for m, v in outcome.scores.items() if m != metric}
        rec.best_iterations = [int(i) for i in outcome.best_iterations]
    return rec


def ranked(records: list[TrialRecord], greater_is_better: bool) -> list[TrialRecord]:
    """Best first (ties: the earlier trial), failures last in trial order."""
    ok = sorted((r for r in records if r.ok), key=lambda r: ((-r.mean if greater_is_better else r.mean), r.number))
    return ok + [r for r in records if not r.ok]


def leaderboard(records: list[TrialRecord], metric: str, greater_is_better: bool) -> Any:
    import pandas as pd

    rows = []
    ordered = ranked(records, greater_is_better)
    names = list(dict.fromkeys(k for r in records for k in r.params))
    pipe_names = list(dict.fromkeys(k for r in records for k in r.pipeline_params))
    for rank, r in enumerate(ordered, 1):
        row: dict[str, Any] = {
            "rank": rank if r.ok else None, "trial": r.number, "status": r.status, "model": r.model,
            f"{metric}_mean": r.mean, f"{metric}_std": r.std,
            f"{metric}_folds": json.dumps(r.folds) if r.folds else None,
            "seconds": round(r.seconds, 3), "error": r.error,
            "best_iteration": r.best_iteration,
            "best_iterations": json.dumps(r.best_iterations) if r.best_iterations else None,
            "config": json.dumps({"model": r.model, "params": r.params, "pipeline_params": r.pipeline_params},
                                 sort_keys=True, default=str),
        }
        row.update({f"param.{k}": r.params.get(k) for k in names})
        row.update({f"pipeline.{k}": r.pipeline_params.get(k) for k in pipe_names})
        row.update({f"{m}_mean": v for m, v in r.other.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    for col in ["rank", "best_iteration", *(c for c in frame.columns if c.startswith(("param.", "pipeline.")))]:
        # the rows' own values: the frame has turned an int column with a missing value into floats already
        values = [v for v in (row.get(col) for row in rows)
                  if v is not None and not (isinstance(v, float) and math.isnan(v))]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values) or col in ("rank", "best_iteration"):
            frame[col] = frame[col].astype("Int64")  # integer parameters stay integers beside missing values
    return frame


def write_leaderboard(frame: Any, run_path: Path) -> dict[str, Any]:
    """leaderboard.csv and leaderboard.parquet; mixed-type parameter columns are stored as text in Parquet."""
    csv, parquet = run_path / "leaderboard.csv", run_path / "leaderboard.parquet"
    frame.to_csv(csv, index=False)
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            kinds = {type(v) for v in out[col] if v is not None and not (isinstance(v, float) and math.isnan(v))}
            if len(kinds) > 1 or (kinds and not kinds <= {str, int, float, bool}):
                out[col] = out[col].map(lambda v: None if v is None else str(v))
    out.to_parquet(parquet, index=False)
    return {"leaderboard.csv": {"rows": len(frame)}, "leaderboard.parquet": {"rows": len(frame)}}


def best_overrides(recipe: Any, best: TrialRecord) -> dict[str, Any]:
    """The best config as recipe keys: model.name, model.params.<p>, and each pipeline parameter as its step's
    recipe key when the step's section has one (e.g. resample.k_neighbors), else as a pin under search.pipeline.
    An early-stopped best keeps its searched n_estimators (the cap) and pins model.early_stopping.enabled: the
    same folds stop at the same iterations, so the refit gets the same fold-mean n_estimators."""
    out: dict[str, Any] = {"model.name": best.model}
    out.update({f"model.params.{k}": v for k, v in best.params.items()})
    if best.best_iterations:  # early-stopped: a search-less run early-stops the same folds, so it refits the same
        out["model.early_stopping.enabled"] = True
    for key, value in best.pipeline_params.items():
        step, _, param = key.partition(".")
        section = getattr(recipe, step, None)
        fields = type(section).model_fields if section is not None else {}
        out[key if param in fields else f"search.pipeline.{step}.{param}"] = value
    return out


def replay_overrides(recipe: Any, resolved: dict[str, Any], best: TrialRecord) -> list[str]:
    """Hydra overrides that re-run the best trial without a search. The recipe's own model.params (written for
    its model) are removed first, so none of them leaks into the best config."""
    overrides = ["search.trials=0", f"model.name={_value(best.model)}"]
    has_params = bool((resolved.get("model") or {}).get("params"))
    params = "{" + ", ".join(f"{k}: {_value(v)}" for k, v in best.params.items()) + "}"
    overrides += ["~model.params", f"+model.params={params}"] if has_params else [f"model.params={params}"]
    if best.best_iterations:  # early-stopped: the same folds stop at the same iterations (see best_overrides)
        overrides.append("++model.early_stopping.enabled=true")
    for key, value in best_overrides(recipe, best).items():
        if not key.startswith("model."):
            overrides.append(f"{key}={_value(value)}")
    return overrides


def _value(v: Any) -> str:
    """A value in Hydra's override grammar (floats keep every digit)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    text = str(v)
    plain = text.replace("_", "").isalnum() and not text[0].isdigit()
    if plain and text.lower() not in ("true", "false", "null", "none", "inf", "nan"):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
