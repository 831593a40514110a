"""The report stage: writes report.html near the end of a run; a failure is recorded, never fatal."""

from __future__ import annotations

import logging
from typing import Any

from mlengine.stages import stage

log = logging.getLogger("mlengine")


@stage(reads=("data", "plan"))
def stage_report(ctx: Any) -> None:
    """Render report.html from the run directory and the metrics gathered so far.

    Runs after the model is saved. Any error is logged and stored in metrics.json["report"]["error"]: the run
    stays complete and the trained model is kept (`mlengine report RUN_DIR` can draw it again later).
    """
    if not ctx.recipe.report.html:
        return
    try:
        import json

        from mlengine.report.build import render_report
        from mlengine.runs.rundir import _jsonable

        # the report sees exactly what metrics.json will hold (plain JSON types)
        metrics = json.loads(json.dumps({**ctx.report, "artifacts": ctx.artifacts}, default=_jsonable))
        result = render_report(ctx.rd.path, metrics=metrics, final_dir=ctx.rd.final)
    except Exception as exc:
        log.warning("report: report.html could not be written: %s: %s", type(exc).__name__, exc)
        ctx.report["report"] = {"file": None, "error": f"{type(exc).__name__}: {exc}"}
        return
    ctx.report["report"] = result.to_dict()
    log.info("report: %s (%d sections, %.1fs)", result.path.name, len(result.sections), result.seconds)
