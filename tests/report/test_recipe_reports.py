"""The report of every recipe in recipes/, opened in headless Chromium (issue 20 item 5): no section error, no
`nan` in the rendered text, no raw 16-digit float in any table, every image decoded, and the Shipped line.

Each recipe runs with a small budget (2 CV folds, 4 search trials, 2 shuffles per column for permutation
importance) so the whole set stays a few minutes on two cores; what is checked is the page, not the model.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import RECIPES, read_json
from tests.report_helpers import _chromium, chromium  # noqa: F401  (the browser fixture)

SMALL = ["cv.folds=2", "report.importance_repeats=2"]
SMALL_SEARCH = ["search.trials=4"]  # only for recipes that search (elsewhere it would start a search)


def _page_text(dom: str) -> str:
    """The text a reader sees: the DOM without scripts, styles and tags, entities decoded."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


def _cells(dom: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td\b[^>]*>(.*?)</td>", dom, flags=re.S)]


def _run(cli, runs_dir: Path, recipe: str) -> Path:
    spec = yaml.safe_load((RECIPES / recipe).read_text(encoding="utf-8"))
    overrides = SMALL + (SMALL_SEARCH if spec.get("search") else [])
    code, out, err = cli("run", RECIPES / recipe, "--runs-dir", runs_dir, "--json", *overrides)
    assert code in (0, 3), err  # 3: the recipe's quality gate failed on the small budget; the report is written
    return Path(json.loads(out)["run_dir"])


@pytest.mark.slow  # one small run per recipe: about 30-60 s each on two busy cores
@pytest.mark.parametrize("recipe", sorted(p.name for p in RECIPES.glob("*.yaml")))
def test_recipe_report_in_headless_chromium(chromium, cli, runs_dir, tmp_path, recipe):  # noqa: F811
    run = _run(cli, runs_dir, recipe)
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
        assert "search" in m["report"]["sections"] and "Best trials" in text and "chosen by" in shipped \
            or "ensemble" in shipped
    if (m.get("calibration") or {}).get("method") not in (None, "none") and "shap" not in m["explain"]:
        assert "SHAP not computed" in text and "calibration" in m["explain"]["shap_skipped"]
    if (m.get("threshold") or {}).get("threshold") is not None:
        assert "decision threshold" in shipped
