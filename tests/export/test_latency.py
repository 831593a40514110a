"""ONNX latency at export: percentiles from a known timing list, the call-count and time bounds, and the record of a
real run in metrics.json (not in model.json) shown in the report's export section."""

from __future__ import annotations

import random
import shutil
import time

import pytest

import mlengine
from mlengine.export.latency import percentiles_us, throughput, time_calls
from mlengine.report.overview import latency_block
from mlengine.runs.metrics_record import read_metrics

from tests.conftest import DATA, TITANIC, read_json


class FakeClock:
    """A nanosecond clock that moves only when a timed call spends `cost_ns`."""

    def __init__(self, cost_ns: int):
        self.now = 0
        self.cost_ns = cost_ns
        self.calls = 0

    def __call__(self) -> int:
        return self.now

    def work(self, _x: object) -> None:
        self.calls += 1
        self.now += self.cost_ns


def test_percentiles_of_a_known_timing_list():
    durations = [i * 1000 for i in range(101)]  # 0, 1, ..., 100 us in ns
    random.Random(0).shuffle(durations)
    stats = percentiles_us(durations)
    assert stats == {"p50_us": 50.0, "p95_us": 95.0, "p99_us": 99.0, "mean_us": 50.0, "min_us": 0.0,
                     "max_us": 100.0}
    assert percentiles_us([1500, 2500])["p50_us"] == 2.0  # linear interpolation between the two calls
    with pytest.raises(ValueError):
        percentiles_us([])


def test_the_call_count_bound_stops_fast_calls():
    clock = FakeClock(cost_ns=1_000)  # 1 us per call: the 1 s cap is never reached
    durations, warmed = time_calls(clock.work, ["a", "b"], max_calls=200, max_seconds=1.0, warmup=3, clock=clock)
    assert len(durations) == 200 and warmed == 3 and clock.calls == 203 and set(durations) == {1_000}


def test_the_time_bound_stops_slow_calls_and_the_warm_up():
    clock = FakeClock(cost_ns=30_000_000)  # 30 ms per call, 0.2 s cap: warm-up stops past 0.1 s (4 calls)
    durations, warmed = time_calls(clock.work, [1], max_calls=200, max_seconds=0.2, warmup=10, clock=clock)
    assert warmed == 4 and durations == [30_000_000] * 3 and clock.calls == 7  # the call that passes 0.2 s is last
    slow = FakeClock(cost_ns=5_000_000_000)  # a call longer than the cap: one warm-up call, one timed call
    assert time_calls(slow.work, [1], max_calls=200, max_seconds=0.1, warmup=3, clock=slow) == ([5_000_000_000], 1)
    batch = FakeClock(cost_ns=10_000_000)  # 1,000 rows in 10 ms
    assert throughput(batch.work, None, 1000, repeats=3, max_seconds=1.0, clock=batch) == 100_000.0
    assert batch.calls == 3


def test_the_real_clock_obeys_the_time_bound():
    start = time.perf_counter()
    durations, warmed = time_calls(lambda _: time.sleep(0.01), [0], max_calls=200, max_seconds=0.1, warmup=0)
    elapsed = time.perf_counter() - start
    assert warmed == 0 and len(durations) <= 11 and min(durations) >= 10_000_000  # each call sleeps 10 ms
    assert sum(durations) >= 0.09e9  # stopped by the 0.1 s cap, not before it (a loaded machine oversleeps)
    assert elapsed < 0.1 + max(durations) / 1e9 + 0.2  # and right after the call that passed it


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("latency")
    (root / "data").mkdir()
    shutil.copy(DATA / "titanic.csv", root / "data")
    (root / "recipe.yaml").write_text(TITANIC + "export: {format: [onnx, joblib]}\n", encoding="utf-8")
    return mlengine.run(root / "recipe.yaml", overrides=["cv.folds=2", "model.n_jobs=1"], runs_dir=root / "runs").run_dir


def test_a_real_run_records_latency_in_metrics_and_the_report_shows_p50(run_dir):
    lat = read_json(run_dir / "metrics.json")["export"]["onnx"]["latency"]
    assert lat["rows_from"] == "holdout" and lat["max_calls"] == 200 and lat["max_seconds"] == 0.5
    assert set(lat) >= {"onnx", "joblib"} and "errors" not in lat
    for name in ("onnx", "joblib"):
        s = lat[name]
        assert 0 < s["min_us"] <= s["p50_us"] <= s["p95_us"] <= s["p99_us"] <= s["max_us"]
        assert 1 <= s["calls"] <= 200 and s["seconds"] <= 0.5 + s["max_us"] / 1e6 and 1 <= s["warmup_calls"] <= 3
        assert s["batch_rows"] == 1000 and s["batch_rows_per_s"] > 0
    assert lat["onnx"]["threads"] == 1 and "intra_op_num_threads=1" in lat["onnx"]["setting"]
    assert lat["onnx"]["calls"] == 200  # microseconds per row: the count bound, not the time bound, stops it
    typed = read_metrics(run_dir).export.onnx.latency
    assert typed.onnx.p50_us == lat["onnx"]["p50_us"]
    assert "latency" not in read_json(run_dir / "model.json")["onnx"]  # a measurement of this machine, not hashed
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    p50 = lat["onnx"]["p50_us"]
    assert f"Single-row latency, p50: onnx {p50:,.1f} µs" in html or f"onnx {p50:,.0f} µs" in html
    assert "p95 µs" in html and "batch rows/s" in html and 'alt="latency"' in html


def test_latency_off_and_a_runtime_that_failed(write_recipe, runs_dir):
    recipe = write_recipe(TITANIC + "export: {format: [onnx, joblib], measure_latency: false}\n")
    run = mlengine.run(recipe, overrides=["cv.folds=2", "model.params.n_estimators=5"], runs_dir=runs_dir).run_dir
    onnx = read_json(run / "metrics.json")["export"]["onnx"]
    assert onnx["written"] and "latency" not in onnx and "Latency" not in (run / "report.html").read_text()
    block = latency_block({"onnx": {"p50_us": 80.0, "calls": 200, "threads": 1, "setting": "1 thread"},
                           "errors": {"joblib": "ValueError: no"}, "rows_from": "holdout"})
    assert "onnx 80.0 µs" in block and "joblib not measured: ValueError: no" in block and "<img" not in block
    assert "not measured" in latency_block({"error": "RuntimeError: session"})
    both = latency_block({"onnx": {"p50_us": 80.0}, "joblib": {"p50_us": 4000.0}})
    assert "onnx 80.0 µs, joblib 4,000 µs (ONNX 50x faster)" in both and 'alt="latency"' in both
    assert "(joblib 2.0x faster)" in latency_block({"onnx": {"p50_us": 80.0}, "joblib": {"p50_us": 40.0}})
