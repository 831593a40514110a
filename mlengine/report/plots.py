"""Matplotlib figures for the run report, each returned as a base64 PNG ready for a data URI.

One consistent look (Agg backend, no external fonts, muted grid, a small palette). Every function takes plain
arrays and lists so the tests can draw each plot from small synthetic inputs.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

BLUE, ORANGE, GREEN, RED, GRAY, PURPLE = "#2563eb", "#ea580c", "#16a34a", "#dc2626", "#94a3b8", "#7c3aed"
PALETTE = [BLUE, ORANGE, GREEN, PURPLE, RED, "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 130, "font.size": 9, "axes.titlesize": 10, "axes.titleweight": "bold",
        "axes.labelsize": 9, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.color": "#e2e8f0", "grid.linewidth": 0.8, "axes.edgecolor": "#94a3b8", "axes.axisbelow": True,
        "legend.frameon": False, "legend.fontsize": 8, "xtick.color": "#475569", "ytick.color": "#475569",
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    })
    return plt


def figure(w: float = 5.4, h: float = 3.6, ncols: int = 1, nrows: int = 1) -> tuple[Any, Any]:
    plt = _plt()
    return plt.subplots(nrows, ncols, figsize=(w, h), squeeze=True)


def png(fig: Any) -> str:
    """Render, close and encode a figure."""
    plt = _plt()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", facecolor="white")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _short(label: Any, n: int = 28) -> str:
    s = str(label)
    return s if len(s) <= n else s[: n - 1] + "…"


# ----------------------------------------------------------------------------------------- metrics ---
def metric_summary(metric: str, folds: Sequence[float], holdout: float | None, baselines: dict[str, float],
                   greater_is_better: bool) -> str:
    """CV fold scores, their mean, the holdout score and each baseline on one axis."""
    fig, ax = figure(5.4, 2.6)
    y = 0
    if len(folds):
        ax.scatter(folds, np.full(len(folds), 2.0) + np.linspace(-0.08, 0.08, len(folds)), color=BLUE, s=22,
                   label="CV folds", zorder=3)
        ax.plot([np.mean(folds)] * 2, [1.75, 2.25], color=BLUE, lw=2.5, label="CV mean")
    if holdout is not None:
        ax.scatter([holdout], [1.0], marker="D", s=55, color=ORANGE, label="holdout", zorder=3)
    for i, (name, v) in enumerate(baselines.items()):
        ax.axvline(v, color=GRAY if i == 0 else PALETTE[(i + 3) % len(PALETTE)], ls="--", lw=1.2,
                   label=f"baseline: {name}")
        y += 1
    ax.set_yticks([1, 2], ["holdout", "CV"])
    ax.set_ylim(0.5, 2.6)
    ax.set_xlabel(f"{metric} ({'higher' if greater_is_better else 'lower'} is better)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=4)
    return png(fig)


def confusion(labels: Sequence[Any], matrix: Sequence[Sequence[int]]) -> str:
    m = np.asarray(matrix, dtype=float)
    k = len(labels)
    size = min(7.0, 2.6 + 0.45 * k)
    fig, ax = figure(size + 0.8, size)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.grid(False)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{int(m[i, j])}\n{share[i, j]:.0%}", ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.55 else "#1e293b")
    ax.set_xticks(range(k), [_short(c, 12) for c in labels], rotation=30 if k > 4 else 0)
    ax.set_yticks(range(k), [_short(c, 12) for c in labels])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix (count, share of the true class)")
    return png(fig)


def roc_curves(curves: dict[str, tuple[np.ndarray, np.ndarray, float]]) -> str:
    """curves: label -> (false positive rate, true positive rate, AUC)."""
    fig, ax = figure(4.6, 4.2)
    for label, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, lw=1.8, label=f"{_short(label, 18)} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color=GRAY, ls="--", lw=1, label="no skill")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right")
    return png(fig)


def pr_curves(curves: dict[str, tuple[np.ndarray, np.ndarray, float, float]]) -> str:
    """curves: label -> (recall, precision, average precision, prevalence)."""
    fig, ax = figure(4.6, 4.2)
    for i, (label, (rec, prec, ap, prev)) in enumerate(curves.items()):
        color = PALETTE[i % len(PALETTE)]
        ax.plot(rec, prec, lw=1.8, color=color, label=f"{_short(label, 18)} (AP {ap:.3f})")
        ax.axhline(prev, color=color, ls=":", lw=1)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall curve (dotted: no-skill precision)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper right" if len(curves) > 2 else "lower left")
    return png(fig)


def reliability(curves: dict[str, tuple[Sequence[float], Sequence[float]]], proba: Sequence[float] | None = None
                ) -> str:
    """curves: label -> (mean predicted probability per bin, observed frequency per bin); optional histogram."""
    plt = _plt()
    fig = plt.figure(figsize=(4.8, 4.6))
    grid = fig.add_gridspec(4 if proba is not None else 3, 1)
    ax = fig.add_subplot(grid[:3, 0])
    ax.plot([0, 1], [0, 1], color=GRAY, ls="--", lw=1, label="perfectly calibrated")
    for i, (label, (mp, fp)) in enumerate(curves.items()):
        ax.plot(mp, fp, marker="o", ms=4, lw=1.8, color=PALETTE[i % len(PALETTE)], label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("observed frequency")
    ax.set_title("Reliability (calibration) curve")
    ax.legend(loc="upper left")
    if proba is not None:
        ax.tick_params(labelbottom=False)
        h = fig.add_subplot(grid[3, 0], sharex=ax)
        h.hist(proba, bins=20, range=(0, 1), color=BLUE, alpha=0.7)
        h.set_ylabel("rows")
        h.set_xlabel("predicted probability")
    else:
        ax.set_xlabel("predicted probability")
    return png(fig)


UNIT_RANGE = (-0.05, 1.05)  # what counts as a 0..1 quantity (precision, recall, F1, rates)


def _in_unit_range(vals: Sequence[float]) -> bool:
    v = np.asarray([x for x in vals if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    return bool(len(v)) and UNIT_RANGE[0] <= v.min() and v.max() <= UNIT_RANGE[1]


def threshold_curve(thresholds: Sequence[float], scores: dict[str, Sequence[float]], chosen: float | None,
                    ylabel: str) -> str:
    """Each series against the decision threshold. Series on a 0..1 scale (precision, recall, F1) share the left
    axis; any other (a cost or value objective, e.g. -100..0) gets its own right-hand axis, so neither flattens
    the other."""
    fig, ax = figure(5.6, 3.8)
    unit = {k: v for k, v in scores.items() if _in_unit_range(v)}
    other = {k: v for k, v in scores.items() if k not in unit}
    if not unit:  # nothing on a 0..1 scale: the other series are the left axis
        unit, other = other, {}
    handles = []
    for i, (name, vals) in enumerate(unit.items()):
        handles += ax.plot(thresholds, vals, lw=1.8, color=PALETTE[i % len(PALETTE)], label=name)
    ax.set_ylabel(ylabel)
    if other:
        tx = ax.twinx()
        tx.spines["right"].set_visible(True)
        tx.grid(False)
        for j, (name, vals) in enumerate(other.items()):
            color = PALETTE[(len(unit) + j) % len(PALETTE)]
            handles += tx.plot(thresholds, vals, lw=2.0, ls="-.", color=color, label=f"{name} (right axis)")
        names = list(other)
        tx.set_ylabel(_short(names[0], 40) if len(names) == 1 else "value (right axis)")
        ax.set_ylabel("precision, recall, ... (0..1)")
    if chosen is not None:
        handles.append(ax.axvline(chosen, color=RED, lw=1.4, ls="--", label=f"chosen {chosen:.3g}"))
    ax.set_xlabel("decision threshold")
    ax.set_title("Metric vs decision threshold")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=min(len(handles), 3))
    return png(fig)


def bars(labels: Sequence[Any], values: Sequence[float], title: str, xlabel: str,
         errors: Sequence[float] | None = None, highlight: int | None = None, annotate: Sequence[str] = (),
         log: bool = False) -> str:
    """Horizontal bars, first label on top (log: a log-scaled axis for positive values spanning decades)."""
    n = len(labels)
    fig, ax = figure(5.4, max(1.8, 0.6 + 0.28 * n))
    pos = np.arange(n)[::-1]
    colors = [ORANGE if i == highlight else BLUE for i in range(n)]
    ax.barh(pos, values, xerr=errors, color=colors, alpha=0.85, height=0.65,
            error_kw={"ecolor": "#475569", "elinewidth": 1, "capsize": 2})
    ax.set_yticks(pos, [_short(label, 30) for label in labels])
    if log and min(values) > 0:
        ax.set_xscale("log")
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.axvline(0, color="#475569", lw=0.8)
    for p, text in zip(pos, annotate, strict=False):
        ax.text(ax.get_xlim()[1], p, f" {text}", va="center", fontsize=7.5, color="#475569")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return png(fig)


def stacked_bars(labels: Sequence[str], parts: dict[str, Sequence[float]], title: str, xlabel: str) -> str:
    n = len(labels)
    fig, ax = figure(5.4, max(1.8, 0.8 + 0.28 * n))
    pos = np.arange(n)[::-1]
    left = np.zeros(n)
    for name, vals in parts.items():
        ax.barh(pos, vals, left=left, height=0.65, label=_short(name, 14))
        left += np.asarray(vals, dtype=float)
    ax.set_yticks(pos, [_short(label, 30) for label in labels])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="lower right", title="class")
    ax.grid(axis="y", visible=False)
    return png(fig)


def shap_summary(features: Sequence[str], shap: np.ndarray, values: np.ndarray, units: str) -> str:
    """One row per feature: each dot a row, x = SHAP value, colour = the feature's value (low blue, high red)."""
    n = len(features)
    fig, ax = figure(5.6, max(2.0, 0.7 + 0.32 * n))
    rng = np.random.default_rng(0)
    for i in range(n):
        y = n - 1 - i
        v = values[:, i].astype(float)
        finite = np.isfinite(v)
        lo, hi = (np.nanpercentile(v, 5), np.nanpercentile(v, 95)) if finite.any() else (0.0, 1.0)
        c = np.clip((v - lo) / (hi - lo), 0, 1) if hi > lo else np.full(len(v), 0.5)
        c = np.where(finite, c, np.nan)
        jitter = rng.uniform(-0.28, 0.28, len(v))
        ax.scatter(shap[:, i], y + jitter, c=c, cmap="coolwarm", vmin=0, vmax=1, s=7, alpha=0.75,
                   linewidths=0, plotnonfinite=True)
    ax.set_yticks(range(n)[::-1], [_short(f, 30) for f in features])
    ax.axvline(0, color="#475569", lw=0.8)
    ax.set_xlabel(f"SHAP value ({units})")
    ax.set_title("SHAP values (colour: feature value, blue low, red high)", fontsize=9)
    ax.grid(axis="y", visible=False)
    return png(fig)


def residuals(y_true: np.ndarray, y_pred: np.ndarray, target: str) -> str:
    fig, axes = figure(11.0, 3.6, ncols=3)
    res = y_true - y_pred
    lo, hi = float(np.nanmin([y_true.min(), y_pred.min()])), float(np.nanmax([y_true.max(), y_pred.max()]))
    alpha = 0.5 if len(y_true) < 2000 else 0.25
    dots = np.arange(len(y_true))
    if len(dots) > 5000:  # the scatter shows a seeded sample; the histogram uses every row
        dots = np.sort(np.random.default_rng(0).choice(len(dots), 5000, replace=False))
    axes[0].scatter(y_true[dots], y_pred[dots], s=8, alpha=alpha, color=BLUE, linewidths=0)
    axes[0].plot([lo, hi], [lo, hi], color=RED, lw=1, ls="--")
    axes[0].set_xlabel(f"actual {target}")
    axes[0].set_ylabel("predicted")
    axes[0].set_title("Predicted vs actual")
    axes[1].scatter(y_pred[dots], res[dots], s=8, alpha=alpha, color=BLUE, linewidths=0)
    axes[1].axhline(0, color=RED, lw=1, ls="--")
    axes[1].set_xlabel("predicted")
    axes[1].set_ylabel("residual (actual - predicted)")
    axes[1].set_title("Residuals vs predicted")
    axes[2].hist(res, bins=40, color=BLUE, alpha=0.8)
    axes[2].axvline(0, color=RED, lw=1, ls="--")
    axes[2].set_xlabel("residual")
    axes[2].set_ylabel("rows")
    axes[2].set_title("Residual distribution")
    return png(fig)


def trials(trial: np.ndarray, score: np.ndarray, groups: Sequence[str], best: np.ndarray, metric: str) -> str:
    """Each trial's score coloured by estimator, with the best-so-far line."""
    fig, ax = figure(6.0, 3.4)
    for i, g in enumerate(dict.fromkeys(groups)):
        sel = np.asarray([x == g for x in groups])
        ax.scatter(trial[sel], score[sel], s=18, color=PALETTE[i % len(PALETTE)], label=_short(g, 20), zorder=3)
    ax.step(trial, best, where="post", color="#0f172a", lw=1.4, label="best so far")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # trials are counted: no tick at 1.5
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title("Search: score of every trial")
    ax.legend(loc="best", ncol=2)
    return png(fig)


def grouped_values(labels: Sequence[str], series: dict[str, Sequence[float]], title: str, ylabel: str) -> str:
    """Vertical grouped bars: one group per label, one bar per series (e.g. model vs baselines)."""
    n, k = len(labels), len(series)
    fig, ax = figure(max(4.0, 1.2 + 0.9 * n * k / 2), 3.4)
    width = 0.8 / max(k, 1)
    x = np.arange(n)
    for i, (name, vals) in enumerate(series.items()):
        ax.bar(x + (i - (k - 1) / 2) * width, vals, width=width * 0.95, label=_short(name, 20),
               color=PALETTE[i % len(PALETTE)])
    ax.set_xticks(x, [_short(label, 16) for label in labels], rotation=20 if n > 5 else 0)
    ax.axhline(0, color="#475569", lw=0.8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if k > 1:
        ax.legend(loc="best")
    ax.grid(axis="x", visible=False)
    return png(fig)
