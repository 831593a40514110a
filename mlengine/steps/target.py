"""Running the `target` section's binning (its options live in `mlengine.sections.target`).

The table is first labelled with bins from all rows (`prepare_binned_target`: quantile edges from all rows are
used only to stratify the holdout split and for the data checks), then `stage_bin_target` refits the edges on the
training rows and relabels every row with them. The fitted edges and labels go to metrics.json (`target_bins`,
with class counts) and model.json (`target_bins`). The classifier's classes ARE the bin labels, so
`load_model(run).predict` returns bin labels.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mlengine.errors import DataError
from mlengine.stages import stage

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("mlengine")


def _numeric_target(y: pd.Series, recipe: Any) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        raise DataError(f"target.binning: {recipe.target.binning!r} needs a numeric target; {recipe.data.target!r} "
                        f"holds {y.dtype} values such as {y.iloc[0]!r}.")
    return y.astype(float)


def prepare_binned_target(y: pd.Series, recipe: Any, notes: list[str]) -> tuple[pd.Series, str, list[Any], Any]:
    """Label the whole table (quantile edges from all rows, provisional: refitted on the training split later)."""
    import pandas as pd

    section = recipe.target
    raw = _numeric_target(y, recipe)
    bins = section.fit(raw, recipe.data.target)
    bins.check_no_empty_bin(raw, recipe.data.target, "in the data")
    labels = pd.Series(bins.assign(raw), index=y.index, name=y.name)
    task = section.binned_task()
    classes = sorted(bins.labels, key=lambda v: (str(type(v)), v))
    pos_label = None
    if task == "binary":
        pos_label = bins.labels[-1]
        requested = recipe.data.positive_class
        if requested is not None:
            match = [c for c in bins.labels if c == requested or str(c) == str(requested)]
            if not match:
                raise DataError(f"data.positive_class: {requested!r} is not one of the bin labels "
                                f"({', '.join(repr(c) for c in bins.labels)}).")
            pos_label = match[0]
    notes.append(f"target {recipe.data.target!r} binned ({section.binning}) into {len(bins.labels)} classes: "
                 + ", ".join(f"{lab} {span}" for lab, span in zip(bins.labels, bins.intervals(), strict=True)))
    return labels, task, classes, pos_label


@stage(reads=("data", "train_idx", "test_idx"), writes=("y_tr", "y_te"))
def stage_bin_target(ctx: Any) -> None:
    """After the split: fit the bin edges on the training rows only and relabel training and holdout rows."""
    import pandas as pd

    recipe, data = ctx.recipe, ctx.data
    if not recipe.target.binned:
        return
    target = recipe.data.target
    raw_tr = data.y_raw.iloc[ctx.train_idx]
    bins = recipe.target.fit(raw_tr, target)
    bins.check_no_empty_bin(raw_tr, target, "in the training split")
    labelled = pd.Series(bins.assign(data.y_raw), index=data.y.index, name=data.y.name)
    changed = int((labelled != data.y).sum())
    data.y = labelled
    ctx.y_tr, ctx.y_te = labelled.iloc[ctx.train_idx], labelled.iloc[ctx.test_idx]
    record = {**bins.as_dict(), "target": target, "counts": {"train": bins.counts(ctx.y_tr),
                                                              "holdout": bins.counts(ctx.y_te)}}
    if recipe.target.fits:
        record["relabelled_rows"] = changed  # rows whose label moved when the edges were refitted on training rows
    ctx.report["target_bins"] = record
    ctx.bundle["target_bins"] = bins.as_dict()
    log.info("target bins (%s, fitted on the training split): edges %s; training counts %s", bins.method,
             [f"{e:g}" for e in bins.edges], record["counts"]["train"])
