"""Report plots drawn from small inputs and inspected before encoding: a cost objective gets its own axis beside
precision and recall, and the trial axis counts in whole trials."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from mlengine.report import plots


@pytest.fixture
def figures(monkeypatch):
    """Keep the matplotlib figure each plot would encode."""
    kept = []

    def keep(fig):
        fig.canvas.draw()
        kept.append(fig)
        return "png"

    monkeypatch.setattr(plots, "png", keep)
    yield kept
    plots._plt().close("all")


def test_a_cost_objective_gets_its_own_axis(figures):
    ts = np.linspace(0.01, 0.99, 30)
    plots.threshold_curve(ts, {"precision": 0.3 + 0.7 * ts, "recall": 1 - ts ** 2,
                               "objective: cost, value per row": -100 + 90 * np.sin(ts * 3)}, 0.08, "value")
    left, right = figures[0].axes
    assert [ln.get_label() for ln in left.get_lines()][:2] == ["precision", "recall"]
    assert [ln.get_label() for ln in right.get_lines()] == ["objective: cost, value per row (right axis)"]
    assert left.get_ylim()[0] > -0.2 and left.get_ylim()[1] < 1.2  # precision and recall keep the 0..1 scale
    assert right.get_ylim()[0] < -90 and right.get_ylabel() == "objective: cost, value per row"


def test_unit_range_series_share_one_axis(figures):
    ts = np.linspace(0.05, 0.95, 19)
    plots.threshold_curve(ts, {"precision": 0.4 + ts / 2, "objective: f1": 0.8 - (ts - 0.41) ** 2}, 0.41, "value")
    assert len(figures[0].axes) == 1
    plots.threshold_curve(ts, {"objective: cost": -50 * ts}, 0.41, "value")  # nothing on 0..1: one axis
    assert len(figures[1].axes) == 1 and figures[1].axes[0].get_ylabel() == "value"


def test_trial_ticks_are_whole_numbers(figures):
    trial = np.array([1, 2, 3])
    score = np.array([0.80, 0.82, 0.81])
    plots.trials(trial, score, ["lightgbm", "random_forest", "lightgbm"], np.maximum.accumulate(score), "roc_auc")
    ax = figures[0].axes[0]
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)


def test_plots_encode_as_png():
    png = base64.b64decode(plots.threshold_curve([0.1, 0.5, 0.9], {"recall": [1, 0.5, 0.1], "objective: cost":
                                                                   [-90, -20, -60]}, 0.5, "value"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
