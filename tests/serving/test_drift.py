"""serving/drift.py: reading a run's reference.json (with its sha256 check) and the online drift window that
bins queued request rows every `flush_rows` rows and sets the mlengine_drift_psi / window-rows gauges."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from mlengine.serving.drift import FLUSH_ROWS, DriftWindow, load_reference


def reference(prefix: str) -> dict:
    """A hand-made reference profile: a numeric, a categorical and a boolean feature, names unique per test (the
    gauges are process-wide)."""
    return {"version": 1, "features": {
        f"{prefix}_x": {"kind": "numeric", "edges": [1.0, 2.0], "counts": [10, 10, 10], "missing": 0},
        f"{prefix}_c": {"kind": "categorical", "levels": {"a": 20, "b": 10}, "other": 0, "missing": 0},
        f"{prefix}_b": {"kind": "categorical", "type": "boolean", "levels": {"1.0": 30, "0.0": 10},
                        "other": 0, "missing": 0},
    }}


def hand_psi(ref: list[int], new: list[int]) -> float:
    """PSI with the documented smoothing: share = (count + 0.5) / (n + 0.5 k)."""
    p = [(c + 0.5) / (sum(ref) + 0.5 * len(ref)) for c in ref]
    q = [(c + 0.5) / (sum(new) + 0.5 * len(new)) for c in new]
    return sum((b - a) * math.log(b / a) for a, b in zip(p, q, strict=True))


def gauge(feature: str) -> float | None:
    return REGISTRY.get_sample_value("mlengine_drift_psi", {"feature": feature})


def window_rows() -> float | None:
    return REGISTRY.get_sample_value("mlengine_drift_window_rows")


# ----------------------------------------------------------------------------------------- DriftWindow ---
def test_rows_wait_in_the_buffer_until_flush_rows_then_gauges_hold_the_psi():
    drift = DriftWindow(reference("buf"), window=100, flush_rows=4)
    drift.add({"buf_x": [0.5, 1.5], "buf_c": ["a", "b"], "buf_b": [1.0, 0.0]}, 2)
    assert drift.count == 2 and drift.roll.seen == 0  # queued only, nothing binned yet
    assert drift.pending["buf_x"] == [0.5, 1.5] and drift.pending["buf_c"] == ["a", "b"]
    assert gauge("buf_x") is None  # no gauge before the first flush
    drift.add({"buf_x": [2.5, None], "buf_c": ["", "zz"], "buf_b": [1.0, None]}, 2)  # 4 rows: flushed
    assert drift.count == 0 and drift.roll.seen == 4 and drift.pending == {c: [] for c in drift.pending}
    # x bins: <1, [1,2), >=2, missing; c: a, b, other ("zz"), missing (the typed missing category "");
    # b: 1.0, 0.0, other, missing
    want = {"buf_x": hand_psi([10, 10, 10, 0], [1, 1, 1, 1]),
            "buf_c": hand_psi([20, 10, 0, 0], [1, 1, 1, 1]),
            "buf_b": hand_psi([30, 10, 0, 0], [2, 1, 0, 1])}
    for feature, value in want.items():
        assert gauge(feature) == pytest.approx(value, abs=1e-12), feature
    assert window_rows() == 4
    assert drift.flush() == pytest.approx(want, abs=1e-12)  # nothing pending: the same PSI again


def test_flush_before_any_row_is_nan_and_sets_no_gauge():
    drift = DriftWindow(reference("empty"), window=10)
    psi = drift.flush()
    assert set(psi) == {"empty_x", "empty_c", "empty_b"} and all(math.isnan(v) for v in psi.values())
    assert gauge("empty_x") is None and gauge("empty_c") is None


def test_a_scrape_flushes_a_partial_buffer_and_absent_columns_count_as_missing():
    drift = DriftWindow(reference("part"), window=50)  # flush_rows = min(1000, 50)
    drift.add({"part_x": [1.5] * 3, "part_b": [0.0] * 3}, 3)  # no part_c in this request
    assert drift.roll.seen == 0
    psi = drift.flush()
    assert psi["part_c"] == pytest.approx(hand_psi([20, 10, 0, 0], [0, 0, 0, 3]), abs=1e-12)
    assert psi["part_x"] == pytest.approx(hand_psi([10, 10, 10, 0], [0, 3, 0, 0]), abs=1e-12)
    assert gauge("part_c") == pytest.approx(psi["part_c"], abs=1e-12) and window_rows() == 3


def test_flush_rows_is_clamped_to_the_window_and_the_window_keeps_its_last_rows():
    ref = reference("clamp")
    assert DriftWindow(ref, window=10_000).flush_rows == FLUSH_ROWS == 1000
    assert DriftWindow(ref, window=3).flush_rows == 3
    assert DriftWindow(ref, window=3, flush_rows=0).flush_rows == 1
    drift = DriftWindow(ref, window=3)
    drift.add({"clamp_x": [0.1, 0.2, 0.3], "clamp_c": ["a"] * 3, "clamp_b": [1.0] * 3}, 3)  # flushed at 3
    assert drift.roll.seen == 3
    drift.add({"clamp_x": [5.0, 6.0], "clamp_c": ["b", "b"], "clamp_b": [0.0, 0.0]}, 2)  # queued
    assert drift.roll.seen == 3 and drift.count == 2
    psi = drift.flush()
    assert window_rows() == 3 and drift.roll.seen == 5  # 5 rows seen, the window holds the last 3
    assert psi["clamp_x"] == pytest.approx(hand_psi([10, 10, 10, 0], [1, 0, 2, 0]), abs=1e-12)
    assert psi["clamp_c"] == pytest.approx(hand_psi([20, 10, 0, 0], [1, 2, 0, 0]), abs=1e-12)
    with pytest.raises(ValueError, match="at least 1 row"):
        DriftWindow(ref, window=0)


def test_matching_rows_give_a_psi_near_zero_and_a_shift_a_large_one():
    drift = DriftWindow(reference("same"), window=200, flush_rows=200)
    rows = {"same_x": [0.5] * 10 + [1.5] * 10 + [2.5] * 10, "same_c": ["a"] * 20 + ["b"] * 10,
            "same_b": [1.0] * 30}
    drift.add(rows, 30)
    assert drift.flush()["same_x"] == pytest.approx(0.0, abs=1e-12)
    assert drift.flush()["same_c"] == pytest.approx(0.0, abs=1e-12)
    shifted = DriftWindow(reference("shift"), window=200)
    shifted.add({"shift_x": [9.0] * 30, "shift_c": ["a"] * 30, "shift_b": [1.0] * 30}, 30)
    assert shifted.flush()["shift_x"] > 2.0


# -------------------------------------------------------------------------------------- load_reference ---
def write_run(root: Path, ref: dict | str | None, recorded: str | None = "match") -> Path:
    """A run directory with reference.json (dict -> JSON, str -> raw text) and a manifest recording its sha256
    ("match"), another sha256 ("other"), no record (None), or no manifest at all ("no-manifest")."""
    root.mkdir()
    if ref is not None:
        (root / "reference.json").write_text(ref if isinstance(ref, str) else json.dumps(ref), encoding="utf-8")
    if recorded == "no-manifest":
        return root
    artifacts = {}
    if recorded == "match":
        artifacts["reference.json"] = {"sha256": hashlib.sha256((root / "reference.json").read_bytes()).hexdigest()}
    elif recorded == "other":
        artifacts["reference.json"] = {"sha256": "0" * 64}
    (root / "manifest.json").write_text(json.dumps({"artifacts": artifacts}), encoding="utf-8")
    return root


def warnings(err: str) -> list[str]:
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert all(line["warning"] == "drift" for line in lines), lines
    return [line["message"] for line in lines]


def test_a_verified_reference_is_returned_as_written(tmp_path, capsys):
    ref = reference("ok")
    assert load_reference(write_run(tmp_path / "ok", ref)) == ref
    assert load_reference(str(write_run(tmp_path / "unrecorded", ref, recorded=None))) == ref  # no sha to check
    assert capsys.readouterr().err == ""


def test_missing_changed_or_damaged_references_give_none_with_one_warning(tmp_path, capsys):
    ref = reference("bad")
    cases = [(write_run(tmp_path / "absent", None, recorded=None), "does not exist"),
             (write_run(tmp_path / "changed", ref, recorded="other"), "does not match its sha256 in manifest.json"),
             (write_run(tmp_path / "damaged", "{not json", recorded=None), "could not be read"),
             (write_run(tmp_path / "nomanifest", ref, recorded="no-manifest"), "could not be read")]
    for run_dir, message in cases:
        assert load_reference(run_dir) is None, run_dir.name
        got = warnings(capsys.readouterr().err)
        assert len(got) == 1 and message in got[0] and str(run_dir / "reference.json") in got[0], got


def test_a_reference_without_features_gives_none_silently(tmp_path, capsys):
    assert load_reference(write_run(tmp_path / "nofeat", {"version": 1, "features": {}})) is None
    assert capsys.readouterr().err == ""
