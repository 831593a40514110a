"""Rich display of a RunResult in a notebook: the same table the CLI prints, as HTML, with the gate and the report."""

from __future__ import annotations

from html import escape
from typing import Any

from mlengine.report.html import num
from mlengine.runs.metrics_record import gate_of


def _cell(value: Any) -> str:
    """The report's number format (integers as integers, 4 significant digits, an em dash for missing or NaN)."""
    return escape(num(value)) if value is None or isinstance(value, (int, float)) else escape(str(value))


def run_result_html(result: Any) -> str:
    m = result.metrics or {}
    primary = m.get("primary_metric")
    baselines = list((m.get("baselines") or {}).keys())
    names = list((m.get("holdout") or {}).keys()) or list((m.get("cv") or {}).keys())
    before = m.get("cv_uncalibrated") or {}  # cv: the saved (calibrated/thresholded) model; this: before those steps
    head = "".join(f"<th>{escape(h)}</th>" for h in ["metric", "cv mean", "cv std",
                                                       *(["cv before calibration/threshold"] if before else []),
                                                       "holdout", *baselines])
    rows = []
    for name in names:
        cv = (m.get("cv") or {}).get(name) or {}
        cells = [name, cv.get("mean"), cv.get("std"), *([(before.get(name) or {}).get("mean")] if before else []),
                 (m.get("holdout") or {}).get(name),
                 *[(m["baselines"][b] or {}).get(name) for b in baselines]]
        style = ' style="font-weight:bold"' if name == primary else ""
        rows.append(f"<tr{style}>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    gate = ""
    typed_gate = gate_of(m)
    if typed_gate is not None:
        checks, failed = typed_gate.checks, typed_gate.failed()
        gate = (f"<p>gate: {'<b>failed</b>: ' + escape('; '.join(c.detail for c in failed)) if failed else 'passed'}"
                f" ({len(checks) - len(failed)}/{len(checks)} requirements met)</p>")
    gate += "".join(f"<p>warning: {escape(w)}</p>" for w in m.get("warnings") or [])
    report = result.run_dir / "report.html"
    link = f'<a href="{escape(report.as_uri())}" target="_blank">report.html</a>' if report.is_file() else ""
    return (f"<div><b>mlengine run</b> {escape(result.status)} &middot; task {escape(str(result.task))} &middot; "
            f"judged by {escape(str(primary))}<table>{'<tr>' + head + '</tr>'}{''.join(rows)}</table>{gate}"
            f"<p><code>{escape(str(result.run_dir))}</code> {link}</p></div>")
