"""Report sections for metrics.json["diagnostics"] (mlengine.evaluate.diagnostics): lift/gains and KS, score
distribution by class, calibration by class (one vs rest) and partial dependence of the top features.

Each section reads only its own record; a view the run did not compute is a one-line note saying why (from
`diagnostics.skipped`), and a run from before diagnostics existed shows none of them. Numbers: integers as integers,
other values to 4 significant digits, never `nan`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.report import plots
from mlengine.report.html import Block, esc, figure, grid, num, table, tiles
from mlengine.report.rundata import RunData


def _table(headers: list[str], rows: list[list[Any]], first_text: bool = True) -> str:
    """A table whose numeric columns are pre-formatted with `num` (right-aligned)."""
    start = 1 if first_text else 0
    cells = [[r[0], *[num(v) for v in r[1:]]] if first_text else [num(v) for v in r] for r in rows]
    return table(headers, cells, numeric=tuple(range(start, len(headers))))


def _diag(run: RunData) -> dict[str, Any] | None:
    d = run.metrics.get("diagnostics")
    return d if isinstance(d, dict) else None


def _at(curve: dict[str, list[float]], share: float) -> float | None:
    """The gains curve's share of positives at a share of rows (None when that point is not on the curve)."""
    hit = [g for r, g in zip(curve["share_of_rows"], curve["share_of_positives"], strict=True) if abs(r - share) < 1e-9]
    return hit[0] if hit else None


def _note(block_id: str, title: str, why: str) -> Block:
    return Block(block_id, title, f'<p class="note">Not shown: {esc(why)}.</p>')


# ------------------------------------------------------------------------------------------- plots ---
def gains_plot(share_rows: list[float], share_pos: list[float], base_rate: float, lift: list[float]) -> str:
    """Cumulative gains (model, random, perfect) beside lift by decile."""
    fig, (ax, bx) = plots.figure(10.0, 3.8, ncols=2)
    x = np.asarray(share_rows, dtype=float)
    ax.plot(x, share_pos, marker="o", ms=3, lw=1.8, color=plots.BLUE, label="model")
    ax.plot([0, 1], [0, 1], color=plots.GRAY, ls="--", lw=1, label="random")
    ax.plot(x, np.minimum(x / base_rate, 1.0) if base_rate > 0 else x, color=plots.GREEN, ls=":", lw=1.4,
            label="perfect ranking")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("share of rows (highest scores first)")
    ax.set_ylabel("share of positives captured")
    ax.set_title("Cumulative gains")
    ax.legend(loc="lower right")
    d = np.arange(1, len(lift) + 1)
    bx.bar(d, lift, color=plots.BLUE, alpha=0.85)
    bx.axhline(1.0, color=plots.GRAY, ls="--", lw=1, label="random (lift 1)")
    bx.set_xticks(d)
    bx.set_xlabel("decile (1 = highest scores)")
    bx.set_ylabel("lift (response rate / base rate)")
    bx.set_title("Lift by decile")
    bx.legend(loc="upper right")
    bx.grid(axis="x", visible=False)
    return plots.png(fig)


def histograms(edges: list[float], series: dict[str, list[int]], xlabel: str, title: str,
               extra: tuple[list[float], list[int], str] | None = None, mark: tuple[float, str] | None = None
               ) -> str:
    """Overlaid step histograms (share of each series' rows per bin); `extra`: a second panel (edges, counts, x);
    `mark`: a dashed vertical line (x, label)."""
    fig, axes = plots.figure(10.0 if extra else 5.4, 3.6, ncols=2 if extra else 1)
    ax = axes[0] if extra else axes
    e = np.asarray(edges, dtype=float)
    for i, (name, counts) in enumerate(list(series.items())[:10]):
        c = np.asarray(counts, dtype=float)
        share = c / c.sum() if c.sum() else c
        color = plots.PALETTE[i % len(plots.PALETTE)]
        ax.stairs(share, e, fill=True, alpha=0.18, color=color)
        ax.stairs(share, e, lw=1.6, color=color, label=f"{plots._short(name, 18)} (n={int(c.sum()):,})")
    if mark is not None:
        ax.axvline(mark[0], color=plots.RED, ls="--", lw=1.2, label=mark[1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of the series' rows")
    ax.set_title(title)
    ax.legend(loc="best")
    if extra:
        r_edges, r_counts, r_label = extra
        axes[1].stairs(np.asarray(r_counts, dtype=float), np.asarray(r_edges, dtype=float), fill=True,
                       color=plots.BLUE, alpha=0.7)
        axes[1].axvline(0, color=plots.RED, lw=1, ls="--")
        axes[1].set_xlabel(r_label)
        axes[1].set_ylabel("rows")
        axes[1].set_title("Residual distribution")
    return plots.png(fig)


def class_reliability(curves: dict[str, tuple[list[float], list[float]]]) -> str:
    fig, ax = plots.figure(4.8, 4.4)
    ax.plot([0, 1], [0, 1], color=plots.GRAY, ls="--", lw=1, label="perfectly calibrated")
    for i, (label, (mp, ob)) in enumerate(list(curves.items())[:10]):
        ax.plot(mp, ob, marker="o", ms=3.5, lw=1.6, color=plots.PALETTE[i % len(plots.PALETTE)],
                label=plots._short(label, 18))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted P(class)")
    ax.set_ylabel("observed share of the class")
    ax.set_title("Reliability, one class vs the rest")
    ax.legend(loc="upper left", ncol=2 if len(curves) > 5 else 1)
    return plots.png(fig)


def pd_plot(curves: list[dict[str, Any]], response: str) -> str:
    """One panel per feature: a line over a numeric grid, markers over categories."""
    n = len(curves)
    fig, axes = plots.figure(3.6 * n + 0.6, 3.4, ncols=n)
    axes = np.atleast_1d(axes)
    for ax, c in zip(axes, curves, strict=True):
        for i, (name, vals) in enumerate(list(c["average"].items())[:10]):
            color = plots.PALETTE[i % len(plots.PALETTE)]
            label = plots._short(name, 16)
            if c["kind"] == "categorical":
                ax.plot(range(len(vals)), vals, marker="o", ms=6, ls="none", color=color, label=label)
            else:
                ax.plot(c["grid"], vals, lw=1.8, color=color, label=label)
        if c["kind"] == "categorical":
            ax.set_xticks(range(len(c["grid"])), [plots._short(g, 10) for g in c["grid"]],
                          rotation=30 if len(c["grid"]) > 4 else 0)
            ax.set_xlim(-0.5, len(c["grid"]) - 0.5)
        ax.set_xlabel(plots._short(c["feature"], 30))
        ax.set_title(f"Partial dependence: {plots._short(c['feature'], 20)}")
        if len(c["average"]) > 1:
            ax.legend(loc="best")
    axes[0].set_ylabel(f"average {response}")
    return plots.png(fig)


# ---------------------------------------------------------------------------------------- sections ---
def lift_section(run: RunData) -> Block | None:
    d = _diag(run)
    if d is None:
        return None
    lift, ks = d.get("lift"), d.get("ks")
    if not lift:
        return _note("lift", "Lift, gains and KS", (d.get("skipped") or {}).get("lift", "not computed"))
    dec = lift["deciles"]
    items = [("base rate", num(lift["base_rate"]), f"{num(lift['positives'])} of {num(lift['rows'])} rows"),
             ("top-decile lift", num(dec[0]["lift"]), f"{num(dec[0]['positives'])} of {num(dec[0]['rows'])} rows"),
             ("top 30% of rows capture", num(_at(lift["curve"], 0.3)), "of all positives")]
    if ks:
        items.append(("KS statistic", num(ks["statistic"]), f"at P = {num(ks['threshold'])} (TPR {num(ks['tpr'])}, "
                                                            f"FPR {num(ks['fpr'])})"))
    rows = [[str(r["decile"]), r["rows"], r["positives"], r["min_score"], r["max_score"], r["response_rate"],
             r["lift"], r["cumulative_gain"], r["cumulative_lift"]] for r in dec]
    tab = _table(["decile", "rows", "positives", "min score", "max score", "response rate", "lift",
                  "cumulative gain", "cumulative lift"], rows)
    fig = figure(gains_plot(lift["curve"]["share_of_rows"], lift["curve"]["share_of_positives"], lift["base_rate"],
                            [r["lift"] for r in dec]), "cumulative gains and lift by decile",
                 "Holdout rows ranked by the predicted probability of the positive class.")
    pos = run.metrics.get("positive_class")
    return Block("lift", "Lift, gains and KS", tiles(items) + fig + tab,
                 f"How well P({pos}) ranks the holdout: the share of positives found in the top-scored rows, lift "
                 "over a random pick, and the Kolmogorov-Smirnov gap between the two classes' score distributions.")


def score_distribution_section(run: RunData) -> Block | None:
    d = _diag(run)
    if d is None:
        return None
    sd = d.get("score_distribution")
    if not sd:
        return _note("score_distribution", "Score distribution",
                     (d.get("skipped") or {}).get("score_distribution", "not computed"))
    res = sd.get("residuals")
    if sd["kind"] == "regression":
        fig = figure(histograms(sd["edges"], sd["counts"], "value", "Predicted vs actual values",
                                (res["edges"], res["counts"], "residual (actual - predicted)") if res else None),
                     "predicted and actual distributions")
        rows = [[k, s["rows"], s["mean"], s["median"]] for k, s in sd["summary"].items()]
        tab = _table(["series", "rows", "mean", "median"], rows)
        if res:
            tab += _table(["residual quantile", "value"], [[k, v] for k, v in res["quantiles"].items()])
        lead = ("Regression has no classes: the analogue is the spread of the predictions against the actual "
                "values, and the residuals, on the holdout.")
        return Block("score_distribution", "Score distribution", fig + tab, lead)
    xlabel = sd["what"].split(" by ")[0]
    ks = d.get("ks") if sd["kind"] == "binary" else None
    mark = (ks["threshold"], f"KS {num(ks['statistic'])} at {num(ks['threshold'])}") if ks else None
    fig = figure(histograms(sd["edges"], sd["counts"], xlabel, f"{xlabel} by true class", mark=mark),
                 "score distribution", f"{len(sd['edges']) - 1} equal-width bins; each class's histogram sums to 1"
                 + ("; dashed: where the classes' score distributions are furthest apart (KS)." if ks else "."))
    rows = [[f"true class {k}", s["rows"], s["mean"], s["median"]] for k, s in sd["summary"].items()]
    tab = _table(["rows of", "rows", f"mean {xlabel}", f"median {xlabel}"], rows)
    lead = ("Holdout: how the predicted probability of the positive class spreads for each true class (well "
            "separated humps rank well)." if sd["kind"] == "binary" else
            "Holdout: each row's predicted probability of its own true class, per class (mass near 1 is "
            "confident and right; near 0, confidently wrong).")
    return Block("score_distribution", "Score distribution by class", grid(fig, tab), lead)


def class_calibration_section(run: RunData) -> Block | None:
    d = _diag(run)
    if d is None:
        return None
    cal = d.get("calibration_by_class")
    if not cal:
        return _note("class_calibration", "Calibration by class",
                     (d.get("skipped") or {}).get("calibration_by_class", "not computed"))
    curves = {c["class"]: ([p["mean_predicted"] for p in c["points"]], [p["observed"] for p in c["points"]])
              for c in cal["classes"]}
    items = [("classwise ECE", num(cal["classwise_ece"]), "mean over classes"),
             ("top-label ECE", num(cal["top_label_ece"]), "confidence vs accuracy"),
             ("Brier (multiclass)", num(cal["brier"]), "summed over classes")]
    tab = _table(["class", "rows", "ECE", "Brier (one vs rest)"],
                 [[c["class"], c["rows"], c["ece"], c["brier"]] for c in cal["classes"]])
    fig = figure(class_reliability(curves), "reliability per class",
                 f"{cal['bins']} equal-width bins of P(class); points on the diagonal can be read as frequencies.")
    return Block("class_calibration", "Calibration by class", tiles(items) + grid(fig, tab),
                 f"Each class against the rest on {num(cal['rows'])} holdout rows: expected calibration error "
                 "(ECE, row-weighted |predicted - observed| over bins) and Brier score.")


def partial_dependence_section(run: RunData) -> Block | None:
    d = _diag(run)
    title = "Partial dependence"
    if d is None:
        return None
    p = d.get("partial_dependence")
    if not p:
        why = (d.get("skipped") or {}).get("partial_dependence")
        if why is None and (run.recipe.get("report") or {}).get("explain") is False:
            why = "report.explain is off (partial dependence follows the importance ranking)"
        return _note("partial_dependence", title, why or "not computed")
    if not p["features"]:
        return _note("partial_dependence", title, "no feature could be varied")
    body = figure(pd_plot(p["features"], p["response"]), "partial dependence",
                  f"Average {p['response']} over {num(p['rows'])} rows ({p['source']}) with the feature set to each "
                  f"grid value (up to {num(p['grid_resolution'])} points; 5th-95th percentile for numeric columns).")
    for s in p.get("skipped_features") or []:
        body += f'<p class="note">{esc(s["feature"])} skipped: {esc(s["reason"])}.</p>'
    ranked = ("the run's permutation importance" if p["ranked_by"] == "explain.permutation" else p["ranked_by"])
    return Block("partial_dependence", title, body,
                 f"The top {len(p['features'])} features by {ranked}: how the model's response moves with one "
                 "input while the others keep their values (scikit-learn's partial_dependence on the saved "
                 "pipeline, raw input columns).")


SECTIONS = [lift_section, score_distribution_section, class_calibration_section, partial_dependence_section]
