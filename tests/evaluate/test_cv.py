"""Holdout splits and CV strategies: groups never straddle, time never runs backwards."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlengine.evaluate.cv import CVSpec, holdout_split

from tests.conftest import DATA


def _spec(kind, folds=5, **kw):
    return CVSpec(kind=kind, folds=folds, repeats=kw.get("repeats", 1), shuffle=kw.get("shuffle", True),
                  gap=kw.get("gap", 0), seed=0)


def test_time_series_folds_never_train_on_later_rows():
    df = pd.read_csv(DATA / "nyc_taxis.csv", parse_dates=["pickup"]).sort_values("pickup")
    times = df["pickup"].to_numpy()
    folds = list(_spec("time_series").splitter().split(df, None, times))
    assert len(folds) == 5
    for tr, va in folds:
        assert times[tr].max() <= times[va].min()
        assert len(np.intersect1d(tr, va)) == 0


def test_time_series_gap_leaves_distinct_times_out():
    times = np.repeat(np.arange(60), 2)
    for tr, va in _spec("time_series", folds=3, gap=4).splitter().split(times, None, times):
        assert times[va].min() - times[tr].max() == 5


def test_group_kfold_keeps_groups_whole():
    df = pd.read_csv(DATA / "wage_panel.csv")
    for kind in ("group_kfold", "stratified_group_kfold"):
        y = (df["lwage"] > df["lwage"].median()).astype(int)
        for tr, va in _spec(kind).splitter().split(df, y, df["nr"].to_numpy()):
            assert not set(df["nr"].iloc[tr]) & set(df["nr"].iloc[va])


def test_repeated_variants_multiply_folds():
    y = np.array([0, 1] * 50)
    assert len(list(_spec("repeated_stratified_kfold", repeats=3).splitter().split(y, y))) == 15
    assert len(list(_spec("kfold", repeats=2).splitter().split(y, y))) == 10


def test_holdout_strategies():
    df = pd.read_csv(DATA / "wage_panel.csv")
    tr, te = holdout_split("group", len(df), 0.2, 0, groups=df["nr"])
    assert not set(df["nr"].iloc[tr]) & set(df["nr"].iloc[te])
    years = df["year"]
    tr, te = holdout_split("time", len(df), 0.25, 0, times=years)
    assert years.iloc[tr].max() < years.iloc[te].min()
    y = np.array([0] * 90 + [1] * 10)
    tr, te = holdout_split("stratified", 100, 0.2, 0, y=y)
    assert y[te].sum() == 2 and len(te) == 20
