"""The report of every recipe in recipes/, opened in headless Chromium (issue 20 item 5): no section error, no
`nan` in the rendered text, no raw 16-digit float in any table, every image decoded, and the Shipped line.

The runs are the ones tests/test_recipes.py checks (tests.recipe_helpers: made once per test process, 3 CV folds,
each recipe's own search budget), so in the full suite this adds only the browser; alone it builds them (about
5-8 minutes on two cores). What is checked is the page, not the model.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import read_json
from tests.recipe_helpers import recipe_params, recipe_run
from tests.report_helpers import _chromium, chromium  # noqa: F401  (the browser fixture)


def _page_text(dom: str) -> str:
    """The text a reader sees: the DOM without scripts, styles and tags, entities decoded."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


def _cells(dom: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td\b[^>]*>(.*?)</td>", dom, flags=re.S)]


@pytest.mark.slow  # a run per recipe unless tests/test_recipes.py made it in this process
@pytest.mark.parametrize("recipe", recipe_params())
def test_recipe_report_in_headless_chromium(chromium, tmp_path_factory, tmp_path, recipe):  # noqa: F811
    made = recipe_run(recipe, tmp_path_factory)
    assert made.code in (0, 3), made.stderr  # 3: a quality gate failed; the report is written all the same
    run = made.run_dir
    m = read_json(run / "metrics.json")
    assert m["report"]["section_errors"] == {}
    page = run / "report.html"
    proc = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", page.as_uri())
    dom = proc.stdout
    assert "</main>" in dom, proc.stderr[-2000:]
    text = _page_text(dom)
    assert "not drawn" not in text  # a section whose drawing failed
    assert not re.search(r"\bnan\b", text, flags=re.I), re.findall(r".{60}\bnan\b.{60}", text, flags=re.I)[:3]
    raw = [c for c in _cells(dom) if re.search(r"\d\.\d{8,}", c)]
    assert raw == [], f"raw floats in tables: {raw[:5]}"
    # every image decoded: the page's own check (complete and naturalWidth > 0) counts them after load
    images = len(re.findall(r"<img\b", dom))
    plots = re.search(r'data-plots-rendered="(\d+)/(\d+)"', dom)
    assert plots and int(plots.group(2)) == images > 0 and plots.group(1) == plots.group(2)
    assert [ln for ln in proc.stderr.splitlines() if "plot failed to render" in ln] == []
    shipped = re.search(r'<p class="shipped">(.*?)</p>', dom, flags=re.S)
    assert shipped, "no Shipped line in the overview"
    shipped = _page_text(shipped.group(1))
    # what each kind of run must say rather than leave out
    if m.get("search"):
        assert "search" in m["report"]["sections"] and "Best trials" in text
        assert "chosen by the search" in shipped or "ensemble of" in shipped
    if (m.get("calibration") or {}).get("method") not in (None, "none") and "shap" not in m["explain"]:
        assert "SHAP not computed" in text and "calibration" in m["explain"]["shap_skipped"]
    if (m.get("threshold") or {}).get("threshold") is not None:
        assert "decision threshold" in shipped
