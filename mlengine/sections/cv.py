"""`cv`: cross-validation inside the training split, one typed option per `cv.kind`.

Each option class owns its keys with their defaults (stated once, here), its checks (without data: `check`,
against the training split: `check_data`), its builder (`splitter`: an unfitted scikit-learn splitter, seeded
from the recipe; `TimeOrderedSplit` for time_series) and its description. `auto` resolves, once the task and the data's group and time columns are
known, to the concrete option the plan records (`CVSpec`). Time-ordered folds never train on a row later than a
validation row; group folds never split a group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from mlengine.errors import DataError, Problem
from mlengine.sections.registry import Option, Registry

CV: Registry[CVOption] = Registry("cv", "kind", default="auto")
CLASSIFICATION = ("binary", "multiclass")


class CVOption(Option):
    """Base of the cv options: what the plan, the checks and the folds ask of any of them."""

    stratifies: ClassVar[bool] = False  # keeps class shares: classification only
    uses_groups: ClassVar[bool] = False  # folds over data.group
    uses_time: ClassVar[bool] = False  # folds over data.time

    def resolve(self, task: str, group: str | None, time: str | None) -> CVOption:
        """The concrete option for this task and data (only `auto` chooses)."""
        return self

    def check(self, task: str, group: str | None, time: str | None) -> list[Problem]:
        """Checks without data: the columns and the task the option needs."""
        problems = []
        if self.uses_groups and not group:
            problems.append(Problem("cv.kind", f"{self.kind!r} needs a group column; set data.group (or pick "
                                               "another cv.kind such as stratified_kfold)."))
        if self.uses_time and not time:
            problems.append(Problem("cv.kind", f"{self.kind!r} needs a time column; set data.time."))
        if self.stratifies and task == "regression":
            problems.append(Problem("cv.kind", f"{self.kind!r} stratifies on classes; task is regression (use "
                                               "kfold, group_kfold or time_series)."))
        return problems

    def check_data(self, task: str, y: Any, groups: Any, times: Any) -> None:
        """Refuse what the training split cannot support, saying the counts (DataError)."""

    def splitter(self, seed: int) -> Any:
        """The unfitted splitter (None: no cross-validation)."""
        return None

    def describe(self, seed: int) -> str:
        return "none (holdout only)"

    def spec(self, seed: int) -> CVSpec:
        """The plan's record of this (resolved) option."""
        return CVSpec(kind=self.kind, folds=getattr(self, "folds", 0), repeats=getattr(self, "repeats", 1),
                      shuffle=getattr(self, "shuffle", False), gap=getattr(self, "gap", 0), seed=seed)


class NoCV(CVOption):
    summary: ClassVar[str] = "no cross-validation: only the holdout is scored"
    kind: Literal["none"]


class _Folds(CVOption):
    """Options that cut the training split into K folds."""

    folds: int = Field(5, ge=2, description="number of folds")

    def check_data(self, task: str, y: Any, groups: Any, times: Any) -> None:
        k, n = self.folds, len(y)
        if n < 2 * k:
            raise DataError(f"cv.folds: {k} folds need at least {2 * k} training rows; the training split has "
                            f"{n}. Lower cv.folds or split.holdout.")
        if self.stratifies and task in CLASSIFICATION:
            counts = y.value_counts()
            if counts.min() < k:
                rare = counts.idxmin()
                rare = rare.item() if hasattr(rare, "item") else rare  # 1, not np.int64(1)
                raise DataError(f"cv.folds: class {rare!r} has only {int(counts.min())} rows in the "
                                f"training split; {self.kind} with {k} folds needs at least {k} per class. Lower "
                                "cv.folds, or merge or drop rare classes.")
        if self.uses_groups:
            n_groups = groups.nunique() if groups is not None else 0
            if n_groups < k:
                raise DataError(f"cv.folds: {self.kind} with {k} folds needs at least {k} groups; the training "
                                f"split has {n_groups} distinct values of the group column. Lower cv.folds.")

    def describe(self, seed: int) -> str:
        repeats = getattr(self, "repeats", 1)
        rep = f" x {repeats} repeats" if repeats > 1 or self.kind.startswith("repeated") else ""
        gap = f", gap {self.gap}" if getattr(self, "gap", 0) else ""
        return f"{self.kind}, {self.folds} folds{rep}{gap} (seed {seed})"


class TimeSeries(_Folds):
    summary: ClassVar[str] = ("expanding window over data.time: each validation fold is later than all its "
                              "training rows")
    uses_time: ClassVar[bool] = True
    kind: Literal["time_series"]
    gap: int = Field(0, ge=0, description="distinct time steps left out between train and validation")
    shuffle: bool = Field(False, description="always false: the folds keep the time order")

    @field_validator("shuffle")
    @classmethod
    def _ordered(cls, v: bool) -> bool:
        if v:
            raise ValueError("true is not allowed with cv.kind 'time_series': its folds keep the time order "
                             "(validation always after training). Remove cv.shuffle.")
        return v

    def check_data(self, task: str, y: Any, groups: Any, times: Any) -> None:
        super().check_data(task, y, groups, times)
        n_times = times.nunique() if times is not None else 0
        if n_times < self.folds + 1:
            raise DataError(f"cv.folds: time_series with {self.folds} folds needs at least {self.folds + 1} "
                            f"distinct times; the training split has {n_times}.")

    def splitter(self, seed: int) -> Any:
        return TimeOrderedSplit(n_splits=self.folds, gap=self.gap)


class _Shuffled(_Folds):
    shuffle: bool = Field(True, description="shuffle rows before folding (seeded from the recipe)")


class GroupKFold(_Shuffled):
    summary: ClassVar[str] = "K folds; all rows of a group (data.group) stay in one fold"
    uses_groups: ClassVar[bool] = True
    kind: Literal["group_kfold"]

    def splitter(self, seed: int) -> Any:
        from sklearn.model_selection import GroupKFold as Splitter

        return Splitter(n_splits=self.folds, shuffle=self.shuffle, random_state=seed if self.shuffle else None)


class StratifiedGroupKFold(_Shuffled):
    summary: ClassVar[str] = "group folds that also keep class shares as far as groups allow"
    uses_groups: ClassVar[bool] = True
    stratifies: ClassVar[bool] = True
    kind: Literal["stratified_group_kfold"]

    def splitter(self, seed: int) -> Any:
        from sklearn.model_selection import StratifiedGroupKFold as Splitter

        return Splitter(n_splits=self.folds, shuffle=self.shuffle, random_state=seed if self.shuffle else None)


class _Repeatable(_Shuffled):
    repeats: int = Field(1, ge=1, description="repeat the K-fold this many times with new shuffles")

    def splitter(self, seed: int) -> Any:
        import sklearn.model_selection as ms

        if self.repeats > 1 or self.kind.startswith("repeated"):
            cls = ms.RepeatedStratifiedKFold if self.stratifies else ms.RepeatedKFold
            return cls(n_splits=self.folds, n_repeats=self.repeats, random_state=seed)
        cls = ms.StratifiedKFold if self.stratifies else ms.KFold
        return cls(n_splits=self.folds, shuffle=self.shuffle, random_state=seed if self.shuffle else None)


class KFold(_Repeatable):
    summary: ClassVar[str] = "K folds, shuffled"
    kind: Literal["kfold"]


class StratifiedKFold(_Repeatable):
    summary: ClassVar[str] = "K folds keeping each class's share (classification)"
    stratifies: ClassVar[bool] = True
    kind: Literal["stratified_kfold"]


class RepeatedKFold(_Repeatable):
    summary: ClassVar[str] = "kfold repeated `repeats` times with different shuffles"
    kind: Literal["repeated_kfold"]


class RepeatedStratifiedKFold(_Repeatable):
    summary: ClassVar[str] = "stratified_kfold repeated `repeats` times"
    stratifies: ClassVar[bool] = True
    kind: Literal["repeated_stratified_kfold"]


class AutoCV(_Repeatable):
    summary: ClassVar[str] = ("stratified_kfold for classification, kfold for regression; group or time variants "
                              "when data.group or data.time is set")
    kind: Literal["auto"] = Field("auto", description="cross-validation strategy inside the training split")
    gap: int = Field(0, ge=0, description="time_series only (data.time set): distinct time steps left out "
                                          "between train and validation")

    def resolve(self, task: str, group: str | None, time: str | None) -> CVOption:
        classify = task in CLASSIFICATION
        if time:
            kind = "time_series"
        elif group:
            kind = "stratified_group_kfold" if classify else "group_kfold"
        else:
            kind = "stratified_kfold" if classify else "kfold"
        cls = CV[kind]
        mine = self.model_dump(exclude={"kind"})
        if kind == "time_series":
            mine["shuffle"] = False  # auto's shuffle default does not apply to time order
        return cls.model_validate({"kind": kind, **{k: v for k, v in mine.items() if k in cls.model_fields}})

    def check(self, task: str, group: str | None, time: str | None) -> list[Problem]:
        if self.gap and not time:
            return [Problem("cv.gap", "only applies to time_series CV (data.time set); cv.kind is 'auto' and the "
                                      "recipe has no data.time.")]
        return []


for _option in (AutoCV, KFold, StratifiedKFold, GroupKFold, StratifiedGroupKFold, TimeSeries, RepeatedKFold,
                RepeatedStratifiedKFold, NoCV):  # registered in the order the docs list them
    CV.register(_option)

CVConfig, CV_FIELD = CV.field("cross-validation inside the training split")


@dataclass(frozen=True)
class CVSpec:
    """The plan's cross-validation: the resolved option's values and the seed (what `mlengine plan` prints)."""

    kind: str
    folds: int
    repeats: int
    shuffle: bool
    gap: int
    seed: int

    @classmethod
    def of(cls, kind: str, seed: int = 0, **keys: Any) -> CVSpec:
        """The spec of option `kind` with these keys (its defaults for the rest)."""
        return CV[kind].model_validate({"kind": kind, **keys}).spec(seed)

    @property
    def option(self) -> CVOption:
        option_cls = CV[self.kind]
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name in option_cls.model_fields}
        return option_cls.model_validate(values)

    def splitter(self) -> Any:
        """An unfitted scikit-learn splitter (None for 'none')."""
        return self.option.splitter(self.seed)

    @property
    def uses_groups(self) -> bool:
        return CV[self.kind].uses_groups

    @property
    def uses_time(self) -> bool:
        return CV[self.kind].uses_time

    def check_data(self, task: str, y: Any, groups: Any, times: Any) -> None:
        self.option.check_data(task, y, groups, times)

    def describe(self) -> str:
        return self.option.describe(self.seed)


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
