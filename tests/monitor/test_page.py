"""The offline drift page (mlengine/monitor/page.py): one table row per column and per prediction, and a bar plot
for each drifting column only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlengine.data.table import Columns
from mlengine.monitor.compare import Thresholds, compare_frame
from mlengine.monitor.page import write_page
from mlengine.monitor.reference import build_reference


def test_the_page_lists_every_column_and_plots_the_drifting_ones(tmp_path):
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"age": rng.normal(40, 10, 500), "fare": rng.normal(30, 5, 500),
                          "deck": rng.choice(list("ABC"), 500)})
    ref = build_reference(train, Columns(numeric=["age", "fare"], categorical=["deck"]), task="regression",
                          classes=[], pos_label=None, oof_pred=train["fare"].to_numpy())
    new = train.copy()
    new["age"] += 30
    result = compare_frame(ref, new, Thresholds(), scores={"score": train["fare"].to_numpy()})
    page = write_page(result, tmp_path / "out" / "drift.html", title="Drift <new>")
    html = page.read_text(encoding="utf-8")
    assert page.parent.is_dir() and html.startswith("<!doctype html>")
    assert "<title>Drift &lt;new&gt;</title>" in html  # escaped
    assert "500 new rows vs 500 reference rows: <b>alert</b>" in html
    for name in ("age", "fare", "deck", "prediction score"):
        assert f">{name}<" in html, name
    assert html.count("data:image/png;base64,") == 1 and 'alt="age"' in html  # only age drifts


def test_no_drift_says_none(tmp_path):
    train = pd.DataFrame({"x": np.arange(200.0)})
    ref = build_reference(train, Columns(numeric=["x"]), task="regression", classes=[], pos_label=None)
    html = write_page(compare_frame(ref, train, Thresholds()), tmp_path / "p.html").read_text(encoding="utf-8")
    assert "<h2>Drifting columns</h2><p>none</p>" in html and "base64" not in html
