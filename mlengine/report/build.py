"""Assemble report.html from a run directory: every section that has data, in reading order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlengine.report import diagnostics, drift_risk, evaluation, overview
from mlengine.report.html import Block, badge, esc, page
from mlengine.report.rundata import RunData

log = logging.getLogger("mlengine")

REPORT_FILE = "report.html"

SECTIONS: list[Callable[[RunData], Block | None]] = [
    overview.overview, overview.recipe_section, overview.data_section, overview.plan_section,
    overview.search_section, evaluation.metrics_section, evaluation.confusion_section, evaluation.curves_section,
    evaluation.calibration_section, evaluation.threshold_section, evaluation.business_section,
    evaluation.slices_section, evaluation.regression_section, evaluation.importance_section,
    *diagnostics.SECTIONS,  # lift/KS, score distribution, calibration by class, partial dependence
    drift_risk.stability_section, drift_risk.adversarial_section,
    overview.export_section, overview.replay_section,
]


@dataclass
class ReportResult:
    path: Path
    sections: list[str]
    errors: dict[str, str] = field(default_factory=dict)  # section function -> error (the rest still render)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.path.name, "sections": self.sections, "section_errors": self.errors,
                "seconds": round(self.seconds, 3)}


def render_report(run_dir: str | Path, metrics: dict[str, Any] | None = None, out: str | Path | None = None,
                  final_dir: str | Path | None = None) -> ReportResult:
    """Write the report of `run_dir` (metrics from `metrics`, else its metrics.json) to `out` (default: in the run).

    A section whose drawing fails is replaced by a short notice naming the error, so one bad input never costs
    the whole report.
    """
    t = time.perf_counter()
    run = RunData(run_dir, metrics, final_dir)
    blocks: list[Block] = []
    errors: dict[str, str] = {}
    for section in SECTIONS:
        name = section.__name__.removesuffix("_section")
        try:
            block = section(run)
        except Exception as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
            log.warning("report: section %s could not be drawn: %s", name, errors[name])
            block = Block(name, name.replace("_", " ").capitalize(),
                          f"<p>{badge('not drawn', 'fail')} {esc(errors[name])}</p>")
        if block is not None:
            blocks.append(block)
    m = run.metrics
    primary, hold = m.get("primary_metric"), (m.get("holdout") or {}).get(m.get("primary_metric"))
    subtitle = f"{run.task} · {run.bundle.get('model') or ''} · " + (f"holdout {primary} {hold:.4f} · " if hold
                                                                     is not None else "") + run.final.name
    html_text = page(f"mlengine run report: {run.name}", subtitle, blocks, overview.versions_footer(run))
    path = Path(out) if out else run.path / REPORT_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html_text, encoding="utf-8")
    tmp.replace(path)
    return ReportResult(path, [b.id for b in blocks], errors, time.perf_counter() - t)
