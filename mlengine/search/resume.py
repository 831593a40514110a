"""`mlengine run RECIPE --resume RUN_DIR`: continue a search from the leaderboard of an earlier run.

The leaderboard (`leaderboard.csv`, written by every search, also when it is interrupted) holds each finished
trial's configuration, status, per-fold scores of the search metric, other metrics' means, seconds and error: all
the searcher was told. `replay_outcomes` turns its trials 1..N back into TrialOutcomes; the driver replays them
(checking each against what the searcher proposes) and runs the trials after them. Only a search counted in trials
can be resumed: a time budget cannot be replayed (how far a search got depends on the machine's speed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from mlengine.errors import UserError


def check_resume(path: Any, recipe: Any) -> Path:
    """The run directory to resume from, or a UserError saying what is missing."""
    run_dir = Path(path)
    s = recipe.search
    if not s.active:
        raise UserError(f"--resume {str(path)!r}: this recipe does not search (search.trials is "
                        f"{s.trials!r}, search.time_budget {s.time_budget!r}), so there is nothing to resume. Give a "
                        "recipe with search.trials > 0, or run without --resume.")
    if not s.trials:
        raise UserError(f"--resume {str(path)!r}: the search is bounded by search.time_budget only "
                        f"({s.time_budget:g} s), which cannot be replayed (how many trials fit depends on the "
                        "machine). Set search.trials (the trial count of the interrupted run or more) to resume.")
    if not run_dir.is_dir():
        raise UserError(f"--resume {str(path)!r}: no such run directory. Give the directory of the interrupted "
                        "run (printed as 'run directory (marked interrupted)', or listed by `mlengine runs`).")
    if not (run_dir / "leaderboard.csv").is_file():
        raise UserError(f"--resume {str(path)!r}: the run directory has no leaderboard.csv, so no search trial "
                        "finished there (it was interrupted before its search, or it did not search). Run again "
                        "without --resume.")
    return run_dir.resolve()


def replay_outcomes(run_dir: Path, metric: str) -> list[Any]:
    """Trials 1..N of the run's leaderboard (in trial order, up to the first missing number) as TrialOutcomes."""
    import pandas as pd

    from mlengine.search.trial import TrialOutcome

    frame = pd.read_csv(run_dir / "leaderboard.csv")
    folds_col = f"{metric}_folds"
    if len(frame) and folds_col not in frame.columns:
        written = sorted(c.removesuffix("_folds") for c in frame.columns if c.endswith("_folds"))
        raise UserError(f"--resume {str(run_dir)!r}: its search optimised {', '.join(written) or 'another metric'}, "
                        f"this recipe's search optimises {metric!r}. Resume with the same search.metric.")
    others = [c.removesuffix("_mean") for c in frame.columns if c.endswith("_mean") and c != f"{metric}_mean"]
    out = []
    for row in frame.sort_values("trial").to_dict("records"):
        if int(row["trial"]) != len(out) + 1:
            break
        config = json.loads(row["config"])
        scores: dict[str, list[float]] = {}
        if isinstance(row.get(folds_col), str):
            scores[metric] = [float(v) for v in json.loads(row[folds_col])]
            scores.update({m: [float(row[f"{m}_mean"])] for m in others if _present(row.get(f"{m}_mean"))})
        out.append(TrialOutcome(str(row["status"]), config["model"], config["params"], config["pipeline_params"],
                                float(row["seconds"]), scores=scores,
                                error=row["error"] if _present(row.get("error")) else None,
                                best_iterations=json.loads(row["best_iterations"])
                                if isinstance(row.get("best_iterations"), str) else []))
    return out


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))
