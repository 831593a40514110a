"""HTML building blocks for self-contained pages: escaping, tables, tiles, sections and the page shell.

Everything is inline (CSS, PNGs as data URIs, one small script that checks every plot decoded), so a page opens
offline from a file and can be mailed as one attachment.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CSS = """
:root{--ink:#1e293b;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--blue:#2563eb;--good:#15803d;
--bad:#b91c1c;--warn:#b45309}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);
background:var(--bg)}
header{background:#0f172a;color:#f8fafc;padding:22px 32px 18px}
header h1{margin:0;font-size:22px;font-weight:600}
header .sub{color:#cbd5e1;margin-top:4px;font-size:13px}
nav{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);padding:8px 32px;
display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px}
nav a{color:var(--blue);text-decoration:none}
nav a:hover{text-decoration:underline}
main{max-width:1180px;margin:0 auto;padding:20px 32px 60px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:18px 0}
section h2{margin:0 0 4px;font-size:18px}
section .lead{color:var(--muted);margin:0 0 12px}
h3{font-size:15px;margin:16px 0 6px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;margin:4px 0}
.tile{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fff}
.tile .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.tile .v{font-size:22px;font-weight:600;margin-top:2px;overflow-wrap:anywhere}
.tile .n{color:var(--muted);font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;align-items:start}
figure{margin:0}
figure img{max-width:100%;height:auto;display:block;border-radius:6px}
figcaption{color:var(--muted);font-size:12px;margin-top:4px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;background:#f8fafc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;max-height:520px;overflow-y:auto;max-width:100%}
.grid>div{min-width:0}
td.num{white-space:nowrap}
pre{background:#0f172a;color:#e2e8f0;padding:12px 14px;border-radius:8px;overflow-x:auto;font-size:12px;
line-height:1.45}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#dcfce7;color:var(--good)}.fail{background:#fee2e2;color:var(--bad)}
.warn{background:#fef3c7;color:var(--warn)}.info{background:#e0e7ff;color:#3730a3}
.note{color:var(--muted);font-size:13px}
ul.notes{margin:4px 0;padding-left:20px;color:var(--muted)}
details summary{cursor:pointer;color:var(--blue);margin:6px 0}
footer{color:var(--muted);font-size:12px;text-align:center;padding:20px}
"""

CHECK_PLOTS_JS = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img[data-plot]'), ok = 0;
  imgs.forEach(function (im) {
    if (im.complete && im.naturalWidth > 0) { ok += 1; } else { console.error('plot failed to render: ' + im.alt); }
  });
  document.body.setAttribute('data-plots-rendered', ok + '/' + imgs.length);
});
"""


@dataclass
class Block:
    """One section of a page: anchor id, title, one-line lead and the inner HTML."""

    id: str
    title: str
    body: str
    lead: str = ""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


MISSING = "\u2014"  # an em dash: a value that was not recorded or is undefined (never the text "nan")


def num(value: Any, digits: int = 4) -> str:
    """Numbers for people: integers as integers (thousands separators; a whole float, such as a rank read back from
    a CSV column with gaps, too), other values to `digits` significant digits (0.123456 -> '0.1235', 0.5 ->
    '0.5000'), large values rounded to whole numbers, tiny ones in scientific notation, an em dash for missing or
    NaN (never the text 'nan')."""
    import numpy as np

    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return "\u221e" if v > 0 else "\u2212\u221e"
    a = abs(v)
    if v == round(v) and a < 1e15:  # whole: 15.0 -> '15' (a rank or count read back as float), 0.0 -> '0'
        return f"{int(v):,}"
    if 1e-4 <= a < 10 ** digits:  # trailing zeros kept, so a column of scores lines up: 0.5 -> '0.5000'
        return f"{v:#.{digits}g}".rstrip(".")
    if 10 ** digits <= a < 1e15:
        return f"{float(f'{v:.{digits}g}'):,.0f}"
    return f"{v:.{max(digits - 1, 1)}e}"


def is_number(value: Any) -> bool:
    """A real number (int, float or a NumPy scalar), not a bool."""
    import numpy as np

    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def fmt(value: Any, digits: int = 4) -> str:
    """`num` for numbers (and None/NaN as an em dash); other values as text."""
    if value is None or isinstance(value, bool) or is_number(value):
        return num(value, digits)
    return str(value)


def cell(value: Any) -> str:
    """One table cell's text: numbers through `num` wherever they appear, missing values as an em dash."""
    if value is None or is_number(value) or isinstance(value, bool):
        return num(value)
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = (),
          raw: Sequence[int] = ()) -> str:
    """An HTML table in a horizontally scrolling wrapper; columns in `numeric` are right-aligned, every number is
    formatted by `num` (in any column), columns in `raw` are inserted as-is."""
    head = "".join(f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            text = v if i in raw else esc(cell(v))
            title = ' title="not recorded"' if text == MISSING and i not in raw else ""
            cells.append(f'<td class="num"{title}>{text}</td>' if i in numeric else f"<td{title}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def tiles(items: Iterable[tuple[str, str, str]]) -> str:
    """Headline numbers: (label, value, note)."""
    cells = "".join(f'<div class="tile"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div>'
                    f'<div class="n">{esc(n)}</div></div>' for k, v, n in items)
    return f'<div class="tiles">{cells}</div>'


def figure(png_b64: str, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (f'<figure><img data-plot="1" alt="{esc(alt)}" src="data:image/png;base64,{png_b64}">{cap}'
            "</figure>")


def grid(*cells: str) -> str:
    return '<div class="grid">' + "".join(f"<div>{c}</div>" for c in cells if c) + "</div>"


def badge(text: str, kind: str) -> str:
    return f'<span class="badge {kind}">{esc(text)}</span>'


def pre(text: str) -> str:
    return f"<pre><code>{esc(text)}</code></pre>"


def notes(items: Iterable[str]) -> str:
    items = list(items)
    return '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in items) + "</ul>" if items else ""


def page(title: str, subtitle: str, blocks: Sequence[Block], footer: str = "") -> str:
    """The whole document: header, sticky navigation to every section, the sections, footer."""
    nav = "".join(f'<a href="#{esc(b.id)}">{esc(b.title)}</a>' for b in blocks)
    parts = []
    for b in blocks:
        lead = f'<p class="lead">{esc(b.lead)}</p>' if b.lead else ""
        parts.append(f'<section id="{esc(b.id)}"><h2>{esc(b.title)}</h2>{lead}{b.body}</section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><div class=\"sub\">{esc(subtitle)}</div></header>"
            f"<nav>{nav}</nav><main>{''.join(parts)}</main><footer>{esc(footer)}</footer>"
            f"<script>{CHECK_PLOTS_JS}</script></body></html>\n")
