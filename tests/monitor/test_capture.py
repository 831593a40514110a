"""The reference hook (mlengine/monitor/capture.py): it writes reference.json once, after the last stage before the
manifest (so the manifest hashes it), from the training rows and the out-of-fold predictions."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd

from mlengine.data.table import Columns
from mlengine.monitor.capture import CAPTURE_AFTER, ReferenceHook, make_hook
from mlengine.runner import STAGES
from mlengine.runs.rundir import RunDir
from mlengine.stages import stage_name


def test_the_capture_stage_comes_right_before_the_manifest():
    names = [stage_name(fn) for fn in STAGES]
    assert names[names.index(CAPTURE_AFTER) + 1] == "manifest"


def _state(tmp_path, cv_result):
    X = pd.DataFrame({"age": np.arange(40.0), "deck": list("AB") * 20})
    data = SimpleNamespace(columns=Columns(numeric=["age"], categorical=["deck"]), task="binary",
                           classes=["no", "yes"], pos_label="yes")
    return SimpleNamespace(X_tr=X, data=data, cv_result=cv_result, rd=RunDir(tmp_path, "r"))


def test_the_hook_writes_the_reference_after_the_capture_stage_only(tmp_path):
    proba = np.column_stack([np.linspace(0, 1, 40)[::-1], np.linspace(0, 1, 40)])
    cv = SimpleNamespace(oof_pred=np.where(proba[:, 1] > 0.5, "yes", "no"), oof_proba=proba,
                         validated=np.ones(40, dtype=bool))
    state = _state(tmp_path, cv)
    hook = ReferenceHook(bins=4)
    hook.after_stage("save", state)
    assert not (state.rd.path / "reference.json").exists()
    hook.after_stage(CAPTURE_AFTER, state)
    ref = json.loads((state.rd.path / "reference.json").read_text())
    assert ref["rows"] == 40 and ref["bins"] == 4 and set(ref["features"]) == {"age", "deck"}
    assert len(ref["features"]["age"]["counts"]) == 4 and ref["prediction"]["score_of"] == "P(yes)"


def test_without_cv_the_reference_has_no_prediction_and_without_a_fit_no_file(tmp_path):
    state = _state(tmp_path, None)
    ReferenceHook().after_stage(CAPTURE_AFTER, state)
    assert json.loads((state.rd.path / "reference.json").read_text())["prediction"] is None
    state = _state(tmp_path / "other", None)
    state.X_tr = None  # the run stopped before fitting (e.g. `validate`)
    ReferenceHook().after_stage(CAPTURE_AFTER, state)
    assert not (state.rd.path / "reference.json").exists()


def test_monitor_bins_sets_the_bin_count():
    assert make_hook(SimpleNamespace(recipe=SimpleNamespace(monitor=SimpleNamespace(bins=7)))).bins == 7
    assert make_hook(SimpleNamespace(recipe=SimpleNamespace())).bins == 10
