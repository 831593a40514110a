"""The profile page (`profile.html`): data dictionary, target balance, associations, distributions, seasonality.

Plots are drawn from the raw table and the profile dict of `mlengine.data.profile.profile_table`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlengine.report import plots
from mlengine.report.html import Block, badge, esc, figure, fmt, grid, pre, table, tiles

MAX_DIST = 24


def _target_plot(df: pd.DataFrame, profile: dict[str, Any]) -> str:
    bal, target = profile["target_balance"], profile["target"]
    if "classes" in bal:
        classes = list(bal["classes"])[:20]
        counts = [bal["classes"][c] for c in classes]
        total = max(sum(bal["classes"].values()), 1)
        return figure(plots.bars(classes, counts, f"Target balance: {target}", "rows",
                                 annotate=[f"{n / total:.1%}" for n in counts]), "target balance")
    fig, ax = plots.figure(5.2, 3.2)
    v = df[target].dropna().astype(float)
    lo, hi = np.percentile(v, [0, 99.5])
    ax.hist(v.clip(lo, hi), bins=40, color=plots.BLUE, alpha=0.85)
    ax.set_xlabel(target)
    ax.set_ylabel("rows")
    ax.set_title(f"Target distribution: {target}")
    return figure(plots.png(fig), "target distribution")


def _missing_plot(profile: dict[str, Any]) -> str:
    cols = sorted((c for c in profile["columns"] if c["missing"]), key=lambda c: -c["missing_pct"])[:25]
    if not cols:
        return '<p class="note">No missing values in any column.</p>'
    return figure(plots.bars([c["name"] for c in cols], [c["missing_pct"] for c in cols], "Missing values",
                             "% of rows"), "missing values")


def _association_plot(profile: dict[str, Any]) -> str:
    cols = [c for c in profile["columns"] if "association" in c and c["role"] in ("feature", "dropped")]
    cols = sorted(cols, key=lambda c: -abs(c["association"]))[:25]
    if not cols:
        return ""
    leaks = set(profile["possible_leaks"])
    labels = [f"{c['name']} ({c['association_measure']})" + (" [dropped]" if c["role"] == "dropped" else "")
              for c in cols]
    hi = next((i for i, c in enumerate(cols) if c["name"] in leaks), None)
    return figure(plots.bars(labels, [c["association"] for c in cols], f"Association with {profile['target']}",
                             "eta / Cramér's V (0..1), Spearman's rho (-1..1)", highlight=hi),
                  "association with the target", "eta: correlation ratio; orange: a possible leak (>= 0.95).")


def _correlation_plot(df: pd.DataFrame, profile: dict[str, Any]) -> str:
    names = [c["name"] for c in profile["columns"] if c["kind"] == "numeric" and c["distinct"] > 1][:25]
    if len(names) < 2:
        return ""
    corr = df[names].apply(pd.to_numeric, errors="coerce").corr(method="spearman").to_numpy()
    k = len(names)
    size = min(8.0, 2.5 + 0.32 * k)
    fig, ax = plots.figure(size + 1.0, size)
    im = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.grid(False)
    ax.set_xticks(range(k), [plots._short(n, 16) for n in names], rotation=60, ha="right")
    ax.set_yticks(range(k), [plots._short(n, 16) for n in names])
    if k <= 12:
        for i in range(k):
            for j in range(k):
                if np.isfinite(corr[i, j]):
                    ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(corr[i, j]) > 0.6 else "#1e293b")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title("Spearman correlation between numeric columns")
    return figure(plots.png(fig), "correlations")


def _distributions(df: pd.DataFrame, profile: dict[str, Any]) -> str:
    plt = plots._plt()
    target, task = profile["target"], profile["task"]
    cols = [c for c in profile["columns"] if c["name"] != target and c["kind"] in ("numeric", "categorical",
                                                                                     "boolean")
            and c["distinct"] > 0][:MAX_DIST]
    if not cols:
        return ""
    classes = list(profile["target_balance"].get("classes", {}))[:6] if task != "regression" else []
    ncols = 4
    nrows = int(np.ceil(len(cols) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, 2.4 * nrows), squeeze=False)
    y = df[target].astype(str).where(df[target].notna())
    for ax, c in zip(axes.flat, cols, strict=False):
        s = df[c["name"]]
        if c["kind"] == "numeric" and c["distinct"] > 12 and not c.get("personal"):
            v = pd.to_numeric(s, errors="coerce")
            lo, hi = np.nanpercentile(v, [0.5, 99.5]) if v.notna().any() else (0, 1)
            bins = np.linspace(lo, hi if hi > lo else lo + 1, 31)
            if classes:
                for i, k in enumerate(classes):
                    ax.hist(v[y == k].dropna().clip(lo, hi), bins=bins, histtype="step", lw=1.4, density=True,
                            color=plots.PALETTE[i], label=plots._short(k, 10))
            else:
                ax.hist(v.dropna().clip(lo, hi), bins=bins, color=plots.BLUE, alpha=0.85)
        else:
            counts = s.astype(str).where(s.notna()).value_counts().head(10)
            labels = [plots._short(k, 14) for k in counts.index]
            if c.get("personal"):
                from mlengine.data.pii import mask

                labels = [mask(k, c["personal"]) for k in counts.index]
            ax.barh(range(len(counts))[::-1], counts.to_numpy(), color=plots.BLUE, alpha=0.85)
            ax.set_yticks(range(len(counts))[::-1], labels)
            ax.grid(axis="y", visible=False)
        ax.set_title(plots._short(c["name"], 30), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(cols):]:
        ax.axis("off")
    if classes:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        if not handles:
            handles = [plt.Line2D([], [], color=plots.PALETTE[i]) for i in range(len(classes))]
            labels = classes
        fig.legend(handles, labels, loc="upper right", title=target, fontsize=8)
    return figure(plots.png(fig), "distributions", "Numeric columns as histograms (by target class, as densities, "
                                                   "when classes exist); others as their 10 most frequent values.")


def _seasonality(df: pd.DataFrame, profile: dict[str, Any]) -> str:
    """Per datetime column (the time column first): the target over time, then per month and per weekday (from
    the profile's `seasonality`, bars annotated with row counts), and per hour when times of day vary."""
    cols = sorted((c for c in profile["columns"] if c.get("seasonality")),
                  key=lambda c: c["name"] != profile["time_column"])
    return "".join(_calendar_view(df, c, profile, first=i == 0) for i, c in enumerate(cols[:6]))


def _calendar_view(df: pd.DataFrame, col: dict[str, Any], profile: dict[str, Any], first: bool) -> str:
    from mlengine.data.profile import target_measure
    from mlengine.data.table import to_datetime

    season, name = col["seasonality"], col["name"]
    label = season["measure"]
    task = profile["task"]
    t = to_datetime(df[name])
    y = df[profile["target"]]
    if task == "binary":  # the profile's positive class (data.positive_class; its measure names it)
        value = (y.astype(str) == label.rsplit(" = ", 1)[-1]).astype(float).where(y.notna())
    else:
        value = target_measure(y, task)[0]
    frame = pd.DataFrame({"t": t, "v": value}).dropna(subset=["t"])
    hours = frame["t"].dt.hour
    panels = ["time", "month", "weekday"] + (["hour"] if hours.nunique() > 1 else [])
    plt = plots._plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0), squeeze=False)
    span_days = (frame["t"].max() - frame["t"].min()).days
    freq = "D" if span_days <= 120 else ("W" if span_days <= 3 * 365 else "MS")
    agg = frame.set_index("t")["v"].resample(freq).mean()
    ax = axes[0, 0]
    ax.plot(agg.index, agg.to_numpy(), color=plots.BLUE, lw=1.3)
    ax.set_title(f"over time ({ {'D': 'daily', 'W': 'weekly', 'MS': 'monthly'}[freq] })")
    ax.set_ylabel(label)
    ax.tick_params(axis="x", rotation=30, labelsize=7)
    for ax, key in zip(axes[0, 1:], ("by_month", "by_weekday"), strict=False):
        cells = season[key]
        x = np.arange(len(cells))
        ax.bar(x, [np.nan if v["rate"] is None else v["rate"] for v in cells], color=plots.BLUE, alpha=0.85)
        ax.set_xticks(x, [v["name"][:3] if len(cells) <= 7 else v["name"][0] for v in cells], fontsize=7)
        if len(cells) <= 12:
            for xi, v in zip(x, cells, strict=True):
                ax.annotate(f"n={v['rows']:,}", (xi, 0), textcoords="offset points", xytext=(0, 2), ha="center",
                            fontsize=6, rotation=90, va="bottom", color="white")
        ax.set_title("by month" if key == "by_month" else "by weekday")
    if "hour" in panels:
        g = frame.groupby(hours)["v"].mean()
        axes[0, 3].bar(g.index, g.to_numpy(), color=plots.BLUE, alpha=0.85)
        axes[0, 3].set_title("by hour of day")
    head = f"<h3>{esc(name)}</h3>"
    rows = [[v["name"], v["rows"], v["rate"]] for v in season["by_month"]]
    rows += [[v["name"], v["rows"], v["rate"]] for v in season["by_weekday"]]
    tab = table(["month / weekday", "rows", label], rows, numeric=(1, 2))
    return head + grid(figure(plots.png(fig), "seasonality" if first else f"seasonality of {name}",
                              f"{label} by the calendar of {name!r}."), tab)


def profile_html(df: pd.DataFrame, profile: dict[str, Any], schema_block: str) -> str:
    """The whole profile page."""
    from mlengine.report.html import page

    cols = profile["columns"]
    n_missing = sum(c["missing"] for c in cols)
    items = [("rows", fmt(profile["rows"]), ""), ("columns", fmt(len(cols)), ", ".join(
        f"{sum(c['kind'] == k for c in cols)} {k}" for k in ("numeric", "categorical", "boolean", "datetime")
        if any(c["kind"] == k for c in cols))),
        ("target", profile["target"], profile["task"]),
        ("missing cells", f"{n_missing / max(profile['rows'] * len(cols), 1):.1%}", f"{n_missing:,} cells"),
        ("personal data", "none found" if not profile["pii"] else f"{len(profile['pii'])} finding(s)", "PII scan")]
    warnings = ""
    if profile["pii"]:
        warnings += "<p>" + badge("personal data", "warn") + " " + "; ".join(
            esc(f"{f['column']}: {f['evidence']}" + (f" (e.g. {', '.join(f['examples'])})" if f["examples"] else ""))
            for f in profile["pii"]) + ". A run fails until the recipe decides (data.pii).</p>"
    if profile["possible_leaks"]:
        warnings += "<p>" + badge("possible leak", "fail") + " " + esc(", ".join(profile["possible_leaks"])) + \
                    " predict the target almost perfectly: are they known only after the fact?</p>"
    blocks = [Block("summary", "Summary", tiles(items) + warnings)]
    rows = []
    for c in cols:
        span = f"{c['min']} .. {c['max']}" if "min" in c else ", ".join(f"{v} ({n})" for v, n in c.get("top", [])[:3])
        rows.append([c["name"], c["role"], c["kind"], f"{c['missing_pct']:.1f}", c["distinct"], span,
                     c.get("association"), c["description"]])
    blocks.append(Block("dictionary", "Data dictionary", table(
        ["column", "role", "type", "missing %", "distinct", "min .. max / top values", "association", "description"],
        rows, numeric=(3, 4, 6)), "Types as a run infers them (data.schema dtype wins); descriptions from "
                                  "data.schema."))
    blocks.append(Block("target", "Target", grid(_target_plot(df, profile), _association_plot(profile))))
    blocks.append(Block("quality", "Missing values and correlations", grid(_missing_plot(profile),
                                                                           _correlation_plot(df, profile))))
    dist = _distributions(df, profile)
    if dist:
        blocks.append(Block("distributions", "Distributions", dist))
    season = _seasonality(df, profile)
    if season:
        blocks.append(Block("seasonality", "Seasonality", season, "The target per month and weekday of each "
                                                                  f"datetime column (time column: "
                                                                  f"{profile['time_column'] or 'none'})."))
    if profile["contract"]:
        c = profile["contract"]
        body = (f"<p>{badge('passed', 'ok')} {c['checks']} checks.</p>" if c["passed"] else table(
            ["rule", "rows", "examples"], [(f"data.schema.{v['column']}.{v['rule']}", v["count"],
                                            ", ".join(v["examples"])) for v in c["violations"]], numeric=(1,)))
        blocks.append(Block("contract", "Data contract", body, "The recipe's data.schema on this table."))
    blocks.append(Block("schema", "Inferred schema", pre(schema_block), "A contract this data passes; review it and "
                                                                        "paste it under data: in the recipe "
                                                                        "(`--write-schema` writes schema.yaml)."))
    return page(f"mlengine data profile: {profile['name']}", f"{profile['rows']:,} rows · target "
                                                             f"{profile['target']} · {profile['task']}", blocks,
                "Generated by mlengine profile")
