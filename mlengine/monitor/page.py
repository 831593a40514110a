"""The offline drift page: a table of every column and a reference-vs-new bar plot per drifting column."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _plot(col: str, entry: dict[str, Any]) -> str:
    import numpy as np

    from mlengine.report.plots import figure, png

    ref = np.asarray(entry["ref_counts"], dtype=float)
    new = np.asarray(entry["new_counts"], dtype=float)
    ref, new = ref / max(ref.sum(), 1), new / max(new.sum(), 1)
    fig, ax = figure(6.4, 3.4)
    x = np.arange(len(ref))
    ax.bar(x - 0.2, ref, 0.4, label="reference")
    ax.bar(x + 0.2, new, 0.4, label="new")
    ax.set_xticks(x, [str(b)[:14] for b in entry["bins"]], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("share of rows")
    ax.set_title(f"{col}: PSI {entry['psi']:.3f}")
    ax.legend()
    return png(fig)


def write_page(result: dict[str, Any], path: Path, title: str = "Drift") -> Path:
    from mlengine.report.html import CHECK_PLOTS_JS, CSS, esc, table

    rows = [(c, e["status"], e["psi"], e["js"], e["test"], e["p_value"], e["missing_ref"], e["missing_new"],
             e["unseen"], e["out_of_range"]) for c, e in result["columns"].items()]
    rows += [(f"prediction {k}", e["status"], e["psi"], e["js"], e["test"], e["p_value"], e["missing_ref"],
              e["missing_new"], e["unseen"], e["out_of_range"]) for k, e in result["prediction"].items()]
    tbl = table(["column", "status", "PSI", "JS", "test", "p-value", "missing ref", "missing new", "unseen",
                 "out of range"], rows, numeric=range(2, 10))
    plots = [f'<figure><img data-plot alt="{esc(c)}" src="data:image/png;base64,{_plot(c, e)}"></figure>'
             for c, e in [*result["columns"].items(), *result["prediction"].items()] if e["status"] != "ok"]
    body = (f"<h1>{esc(title)}</h1><p id='verdict'>{result['rows']} new rows vs {result['reference_rows']} "
            f"reference rows: <b>{esc(result['status'])}</b> (PSI warn {result['thresholds']['psi_warn']}, "
            f"alert {result['thresholds']['psi_alert']})</p>{tbl}<h2>Drifting columns</h2>"
            + ("".join(plots) or "<p>none</p>"))
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{CSS}</style>"
            f"<script>{CHECK_PLOTS_JS}</script></head><body><main>{body}</main></body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
