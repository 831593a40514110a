"""The sweep summary: one row per job in job order (0, 1, 2, ...): overrides, status, rank by the recipe's metric
(1 = best; CV mean, else holdout), key CV and holdout metrics, time. Labels are tidied (`sweeps.labels`) so jobs
recorded before the rounding fix read as typed too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlengine.sweeps.labels import tidy_override

SUMMARY_FILE = "sweep_summary.csv"


def _job_rows(sweep_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for record_file in sorted((sweep_dir / ".jobs").glob("*/job.json"), key=lambda p: int(p.parent.name)):
        rec = json.loads(record_file.read_text(encoding="utf-8"))
        row: dict[str, Any] = {"job": rec["job"], "overrides": " ".join(tidy_override(o) for o in rec["overrides"]), "status": rec["status"],
                               "seconds": rec.get("seconds")}
        metrics_file = Path(rec["run_dir"]) / "metrics.json" if rec.get("run_dir") else None
        if rec["status"] == "complete" and metrics_file and metrics_file.is_file():
            m = json.loads(metrics_file.read_text(encoding="utf-8"))
            primary = m["primary_metric"]
            row["metric"] = primary
            row["greater_is_better"] = m["greater_is_better"]
            cv = (m.get("cv") or {}).get(primary)
            row["cv_mean"] = cv["mean"] if cv else None
            row["cv_std"] = cv["std"] if cv else None
            row["holdout"] = (m.get("holdout") or {}).get(primary)
            no_skill = (m.get("baselines") or {}).get("no_skill", {})
            row["no_skill"] = no_skill.get(primary)
            for name, value in (m.get("holdout") or {}).items():
                if name != primary:
                    row[f"holdout_{name}"] = value
        row["error"] = rec.get("error")
        row["run_dir"] = rec.get("run_dir")
        rows.append(row)
    return rows


def build_summary(sweep_dir: str | Path) -> Any:
    """Collect the job records into a DataFrame in job order with a `rank` column, write sweep_summary.csv."""
    import pandas as pd

    sweep_dir = Path(sweep_dir)
    frame = pd.DataFrame(_job_rows(sweep_dir))
    if frame.empty:
        frame = pd.DataFrame(columns=["job", "overrides", "status", "seconds", "error", "run_dir"])
    frame = frame.sort_values("job", kind="stable").reset_index(drop=True)
    if "holdout" in frame and frame["holdout"].notna().any():
        higher = bool(frame.loc[frame["holdout"].notna(), "greater_is_better"].iloc[0])
        key = frame["cv_mean"].where(frame["cv_mean"].notna(), frame["holdout"])
        frame["rank"] = key.rank(ascending=not higher, method="min").astype("Int64")
    front = [c for c in ("job", "overrides", "status", "rank", "metric", "cv_mean", "cv_std", "holdout",
                         "no_skill", "seconds") if c in frame]
    frame = frame[front + [c for c in frame.columns if c not in front]].reset_index(drop=True)
    frame.to_csv(sweep_dir / SUMMARY_FILE, index=False)
    return frame


def format_summary(frame: Any) -> str:
    """A readable table for the terminal: jobs in order with their rank, the best job named, failures listed."""
    import pandas as pd

    if frame.empty:
        return "no jobs ran"
    metric = frame["metric"].dropna().iloc[0] if "metric" in frame and frame["metric"].notna().any() else "metric"
    width = min(max(len("overrides"), *(len(str(o)) for o in frame["overrides"])), 60)
    lines = [f"{'#':>3}  {'overrides':<{width}}  {'status':<9}{'rank':>5}{'cv ' + metric:>18}{'holdout':>10}"
             f"{'no_skill':>10}{'seconds':>9}"]

    def num(v: Any, spec: str = ".4f") -> str:
        return format(v, spec) if v is not None and v == v else "-"

    for _, r in frame.iterrows():
        cv = f"{num(r.get('cv_mean'))} +/- {num(r.get('cv_std'), '.3f')}" if r.get("cv_mean") == r.get("cv_mean") \
            and r.get("cv_mean") is not None else "-"
        rank = r.get("rank")
        rank = "-" if rank is None or pd.isna(rank) else str(int(rank))
        lines.append(f"{r['job']:>3}  {str(r['overrides'])[:width]:<{width}}  {r['status']:<9}{rank:>5}{cv:>18}"
                     f"{num(r.get('holdout')):>10}{num(r.get('no_skill')):>10}{num(r.get('seconds'), '.1f'):>9}")
    if "rank" in frame and (frame["rank"] == 1).any():
        best = frame[frame["rank"] == 1].iloc[0]
        lines.append(f"best: job {best['job']} ({best['overrides'] or 'no overrides'})")
    failed = frame[frame["status"] != "complete"]
    for _, r in failed.iterrows():
        lines.append(f"job {r['job']} failed: {r['error']}")
    return "\n".join(lines)
