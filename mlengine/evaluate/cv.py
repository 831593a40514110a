"""Holdout splits and cross-validation strategies, keyed by the names recipes use.

Every splitter is a scikit-learn splitter (or one with the same `split(X, y, groups)` interface), seeded from the
recipe. Time-ordered strategies never put a training row later than a validation row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

CV_KINDS: dict[str, str] = {
    "auto": "stratified_kfold for classification, kfold for regression; group or time variants when data.group or "
            "data.time is set",
    "kfold": "K folds, shuffled",
    "stratified_kfold": "K folds keeping each class's share (classification)",
    "group_kfold": "K folds; all rows of a group (data.group) stay in one fold",
    "stratified_group_kfold": "group folds that also keep class shares as far as groups allow",
    "time_series": "expanding window over data.time: each validation fold is later than all its training rows",
    "repeated_kfold": "kfold repeated `repeats` times with different shuffles",
    "repeated_stratified_kfold": "stratified_kfold repeated `repeats` times",
    "none": "no cross-validation: only the holdout is scored",
}
HOLDOUT_STRATEGIES: dict[str, str] = {
    "auto": "time if data.time is set, else group if data.group is set, else stratified (classification) or random",
    "random": "a random share of rows",
    "stratified": "a random share of rows keeping each class's share",
    "group": "a random share of groups (data.group): no group is on both sides",
    "time": "the latest share of rows by data.time",
}


def resolve_cv_kind(kind: str, task: str, group: str | None, time: str | None) -> str:
    """Concrete CV kind for 'auto' (and the stratified variant only for classification)."""
    if kind != "auto":
        return kind
    if time:
        return "time_series"
    if group:
        return "stratified_group_kfold" if task in ("binary", "multiclass") else "group_kfold"
    return "stratified_kfold" if task in ("binary", "multiclass") else "kfold"


def resolve_holdout(strategy: str, task: str, group: str | None, time: str | None) -> str:
    if strategy != "auto":
        return strategy
    if time:
        return "time"
    if group:
        return "group"
    return "stratified" if task in ("binary", "multiclass") else "random"


class TimeOrderedSplit:
    """Expanding-window folds over a time column: validation rows are all later than (or as late as) training rows.

    Splits on distinct time values, so rows sharing a timestamp never straddle a fold boundary.
    """

    def __init__(self, n_splits: int = 5, gap: int = 0):
        self.n_splits = n_splits
        self.gap = gap

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """`groups` carries the time values (the runner passes data.time here)."""
        times = np.asarray(groups)
        uniq = np.unique(times)
        if len(uniq) < self.n_splits + 1:
            raise ValueError(f"time_series CV needs at least {self.n_splits + 1} distinct times; got {len(uniq)}")
        blocks = np.array_split(np.arange(len(uniq)), self.n_splits + 1)
        for i in range(1, self.n_splits + 1):
            train_end = blocks[i][0] - self.gap  # exclusive index into uniq
            if train_end <= 0:
                continue
            train_t, val_t = uniq[:train_end], uniq[blocks[i]]
            yield np.flatnonzero(np.isin(times, train_t)), np.flatnonzero(np.isin(times, val_t))


@dataclass(frozen=True)
class CVSpec:
    kind: str
    folds: int
    repeats: int
    shuffle: bool
    gap: int
    seed: int

    def splitter(self) -> Any:
        """An unfitted scikit-learn splitter (None for 'none')."""
        import sklearn.model_selection as ms

        k, seed = self.folds, self.seed
        shuffle_seed = seed if self.shuffle else None
        if self.kind == "none":
            return None
        if self.kind == "time_series":
            return TimeOrderedSplit(n_splits=k, gap=self.gap)
        if self.kind == "group_kfold":
            return ms.GroupKFold(n_splits=k, shuffle=self.shuffle, random_state=shuffle_seed)
        if self.kind == "stratified_group_kfold":
            return ms.StratifiedGroupKFold(n_splits=k, shuffle=self.shuffle, random_state=shuffle_seed)
        if self.kind in ("repeated_kfold", "repeated_stratified_kfold") or self.repeats > 1:
            cls = ms.RepeatedStratifiedKFold if "stratified" in self.kind else ms.RepeatedKFold
            return cls(n_splits=k, n_repeats=max(self.repeats, 1), random_state=seed)
        if self.kind == "stratified_kfold":
            return ms.StratifiedKFold(n_splits=k, shuffle=self.shuffle, random_state=shuffle_seed)
        return ms.KFold(n_splits=k, shuffle=self.shuffle, random_state=shuffle_seed)

    @property
    def uses_groups(self) -> bool:
        return self.kind in ("group_kfold", "stratified_group_kfold")

    @property
    def uses_time(self) -> bool:
        return self.kind == "time_series"

    def describe(self) -> str:
        if self.kind == "none":
            return "none (holdout only)"
        rep = f" x {self.repeats} repeats" if self.repeats > 1 or self.kind.startswith("repeated") else ""
        gap = f", gap {self.gap}" if self.gap else ""
        return f"{self.kind}, {self.folds} folds{rep}{gap} (seed {self.seed})"


def holdout_split(strategy: str, n: int, fraction: float, seed: int, y: Any = None, groups: Any = None,
                  times: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of (train, holdout). `fraction` 0 gives an empty holdout."""
    idx = np.arange(n)
    if fraction <= 0:
        return idx, idx[:0]
    if strategy == "time":
        order = np.argsort(np.asarray(times), kind="stable")
        cut = int(round(n * (1 - fraction)))
        cut_time = np.asarray(times)[order][cut]
        # rows at the cut time go to the holdout, so no training row is as late as a holdout row's time
        train = np.flatnonzero(np.asarray(times) < cut_time)
        test = np.flatnonzero(np.asarray(times) >= cut_time)
        return train, test
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    if strategy == "group":
        gss = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        train, test = next(gss.split(idx, groups=groups))
        return np.sort(train), np.sort(test)
    stratify = y if strategy == "stratified" else None
    if stratify is not None:
        from mlengine.errors import DataError

        counts = np.unique(np.asarray(stratify).astype(str), return_counts=True)[1]
        n_test = int(np.ceil(fraction * n))
        if counts.min() < 2 or n_test < len(counts) or n - n_test < len(counts):
            raise DataError(f"split.holdout: a stratified holdout of {fraction:.0%} needs at least 2 rows per class "
                            f"and at least one row per class on each side; the data has {n} rows and class counts "
                            f"{sorted(counts.tolist())}. Use split.strategy: random, a larger split.holdout, or more "
                            "data.")
    train, test = train_test_split(idx, test_size=fraction, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)
