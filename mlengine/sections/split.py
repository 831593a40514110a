"""`split`: the holdout, one typed option per `split.strategy`.

The holdout rows are set aside before anything is fitted and never used for fitting; they score the saved model.
Each option class owns its keys with their defaults (stated once, here), its checks (without data: `check`),
its builder (`rows`: the training and holdout row positions, seeded from the recipe) and its description. `auto`
resolves, once the task and the data's group and time columns are known, to the concrete strategy the plan records.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from mlengine.errors import DataError, Problem
from mlengine.sections.registry import Option, Registry

SPLIT: Registry[SplitOption] = Registry("split", "strategy", default="auto")


class SplitOption(Option):
    """Base of the split strategies: the holdout share and how its rows are chosen."""

    seeded: ClassVar[bool] = True  # the rows depend on the recipe's seed
    needs: ClassVar[str | None] = None  # the data role the strategy needs: group or time
    holdout: float = Field(0.2, ge=0.0, lt=1.0, description="share of rows kept aside for the final evaluation "
                                                            "(0 = none)")

    def resolve(self, task: str, group: str | None, time: str | None) -> SplitOption:
        """The concrete strategy for this task and data (only `auto` chooses)."""
        return self

    def check(self, task: str, group: str | None, time: str | None) -> list[Problem]:
        """Checks without data: the column the strategy needs."""
        if self.needs == "group" and not group:
            return [Problem("split.strategy", f"{self.strategy!r} needs a group column; set data.group.")]
        if self.needs == "time" and not time:
            return [Problem("split.strategy", f"{self.strategy!r} needs a time column; set data.time.")]
        return []

    def rows(self, n: int, seed: int, y: Any = None, groups: Any = None,
             times: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Row positions of (train, holdout), both sorted. A holdout of 0 gives an empty holdout."""
        idx = np.arange(n)
        if self.holdout <= 0:
            return idx, idx[:0]
        train, test = self.choose(idx, seed, y, groups, times)
        return np.sort(train), np.sort(test)

    def choose(self, idx: np.ndarray, seed: int, y: Any, groups: Any, times: Any) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.model_selection import train_test_split

        train, test = train_test_split(idx, test_size=self.holdout, random_state=seed)
        return train, test

    def describe(self, seed: int) -> str:
        if self.holdout == 0:
            return "none"
        return f"{self.holdout:.0%} of rows, {self.strategy} (seed {seed}); never used for fitting"


@SPLIT.register
class AutoSplit(SplitOption):
    summary: ClassVar[str] = ("time if data.time is set, else group if data.group is set, else stratified "
                              "(classification) or random")
    strategy: Literal["auto"] = Field("auto", description="how holdout rows are chosen")

    def resolve(self, task: str, group: str | None, time: str | None) -> SplitOption:
        name = ("time" if time else "group" if group else
                "stratified" if task in ("binary", "multiclass") else "random")
        return SPLIT[name](strategy=name, holdout=self.holdout)


@SPLIT.register
class RandomSplit(SplitOption):
    summary: ClassVar[str] = "a random share of rows"
    strategy: Literal["random"]


@SPLIT.register
class StratifiedSplit(SplitOption):
    summary: ClassVar[str] = "a random share of rows keeping each class's share"
    strategy: Literal["stratified"]

    def check(self, task: str, group: str | None, time: str | None) -> list[Problem]:
        if task == "regression":
            return [Problem("split.strategy", "'stratified' needs classes; task is regression.")]
        return []

    def choose(self, idx: np.ndarray, seed: int, y: Any, groups: Any, times: Any) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.model_selection import train_test_split

        n = len(idx)
        counts = np.unique(np.asarray(y).astype(str), return_counts=True)[1]
        n_test = int(np.ceil(self.holdout * n))
        if counts.min() < 2 or n_test < len(counts) or n - n_test < len(counts):
            raise DataError(f"split.holdout: a stratified holdout of {self.holdout:.0%} needs at least 2 rows per "
                            f"class and at least one row per class on each side; the data has {n} rows and class "
                            f"counts {sorted(counts.tolist())}. Use split.strategy: random, a larger "
                            "split.holdout, or more data.")
        train, test = train_test_split(idx, test_size=self.holdout, random_state=seed, stratify=y)
        return train, test


@SPLIT.register
class GroupSplit(SplitOption):
    summary: ClassVar[str] = "a random share of groups (data.group): no group is on both sides"
    needs: ClassVar[str | None] = "group"
    strategy: Literal["group"]

    def choose(self, idx: np.ndarray, seed: int, y: Any, groups: Any, times: Any) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.model_selection import GroupShuffleSplit

        splitter = GroupShuffleSplit(n_splits=1, test_size=self.holdout, random_state=seed)
        train, test = next(splitter.split(idx, groups=groups))
        return train, test


@SPLIT.register
class TimeSplit(SplitOption):
    summary: ClassVar[str] = "the latest share of rows by data.time"
    seeded: ClassVar[bool] = False
    needs: ClassVar[str | None] = "time"
    strategy: Literal["time"]

    def choose(self, idx: np.ndarray, seed: int, y: Any, groups: Any, times: Any) -> tuple[np.ndarray, np.ndarray]:
        times = np.asarray(times)
        order = np.argsort(times, kind="stable")
        cut_time = times[order][int(round(len(idx) * (1 - self.holdout)))]
        # rows at the cut time go to the holdout, so no training row is as late as a holdout row's time
        return np.flatnonzero(times < cut_time), np.flatnonzero(times >= cut_time)


SplitConfig, SPLIT_FIELD = SPLIT.field("the holdout split")
