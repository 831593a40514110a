"""Serving load: `mlengine serve` under bounded load on 127.0.0.1, with a pure-Python load generator.

    python benchmarks/serving.py [--run RUN_DIR] [--duration 8] [--soak 60] [--only NAME,...]

Without --run it trains the titanic recipe with a 100-tree LightGBM (examples/data, a temporary folder) and serves
its model.onnx. Each scenario starts `python -m mlengine serve RUN --workers W --no-access-log` on an ephemeral
port, waits for /ready, warms up for 1 s, then a separate client process drives C keep-alive connections for
--duration seconds and stops by itself; the server is stopped with SIGTERM. Scenarios:
- single-row requests at 1 and 16 connections with 1 and 2 workers (and 16/2 with the access log on);
- 1,000-row batches at 1 and 4 connections (2 workers);
- 10% bad requests mixed in (half 422 contract violations, half 400 malformed JSON) at 16 connections and
  2 workers: the good requests' p99 against the all-good run;
- a soak (--soak seconds, default 60) at 16 connections and 2 workers: RSS of the server's processes
  (supervisor + workers) after warm-up and at the end;
- --drift-window 0 against 10000 (the default, on in every other scenario) for single rows and batches.

The client is asyncio (uvloop when installed) over raw sockets with pre-built requests: one process, far cheaper
per request than an HTTP library, but it shares the machine's cores with the server, so on 2 cores the numbers are
a floor for what the server does with the cores to itself. Goals (issue 17): >= 8,000 req/s at 16 connections with
2 workers and p99 <= 5 ms; soak RSS growth < 10%; bad requests leave the good p99 within 20%.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROW = {"pclass": 3, "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25, "alone": False, "sex": "male",
       "embarked": "S", "deck": None}


# ------------------------------------------------------------------------------------------- the client ---
def request_bytes(body: bytes) -> bytes:
    return (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


async def _connection(port: int, requests: list[tuple[bytes, bool]], offset: int, until: float,
                      out: list[tuple[float, int, bool]]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i, clock = offset, time.perf_counter
    try:
        while clock() < until:
            payload, good = requests[i % len(requests)]
            i += 1
            start = clock()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            out.append((clock() - start, int(head[9:12]), good))
    finally:
        writer.close()


def run_client(port: int, conns: int, duration: float, requests: list[tuple[bytes, bool]]) -> dict:
    """Drive `conns` keep-alive connections for `duration` s; latencies by good/bad and status counts."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out: list[tuple[float, int, bool]] = []

    async def main() -> None:
        until = time.perf_counter() + duration
        await asyncio.gather(*[_connection(port, requests, k * 7, until, out) for k in range(conns)])

    start = time.perf_counter()
    asyncio.run(main())
    wall = time.perf_counter() - start
    good = sorted(lat for lat, _, ok in out if ok)
    statuses: dict[str, int] = {}
    for _, status, _ in out:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {"requests": len(out), "wall": wall, "statuses": statuses, "good": len(good),
            "p50": _pct(good, 50), "p99": _pct(good, 99)}


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q / 100))]


# ------------------------------------------------------------------------------------------- the server ---
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run: Path, workers: int, *extra: str) -> tuple[subprocess.Popen, int]:
    import http.client

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mlengine", "serve", str(run), "--port", str(port),
                             "--workers", str(workers), *extra], stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/ready")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not become ready in 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def tree_rss_kb(pid: int) -> int:
    """RSS of `pid` and its descendants (from /proc)."""
    return _tree_sum(pid, "rss")


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and its descendants: a per-request cost that other
    processes on the machine do not inflate the way they inflate latency."""
    return _tree_sum(pid, "cpu")


def _tree_sum(pid: int, what: str) -> float:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = {pid}, [pid]
    while frontier:
        cur = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == cur and p not in family]
        family.update(kids)
        frontier += kids
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for p in family:
        try:
            if what == "cpu":
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
                continue
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total


def client_process(port: int, conns: int, duration: float, kind: str) -> dict:
    """The client in its own process (so it does not share the benchmark's interpreter)."""
    cmd = [sys.executable, __file__, "--client", json.dumps({"port": port, "conns": conns, "duration": duration,
                                                              "kind": kind})]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_requests(kind: str) -> list[tuple[bytes, bool]]:
    import pandas as pd

    raw = pd.read_csv(ROOT / "examples" / "data" / "titanic.csv")
    rows = raw[list(ROW)].astype(object).where(raw[list(ROW)].notna(), None).to_dict("records")
    if kind == "batch":
        return [(request_bytes(json.dumps((rows * 2)[k:k + 1000]).encode()), True) for k in range(0, 800, 100)]
    good = [(request_bytes(json.dumps([r]).encode()), True) for r in rows[:200]]
    if kind == "single":
        return good
    bad: list[tuple[bytes, bool]] = []  # 10%: 422 contract violations and 400 malformed JSON
    for k, r in enumerate(rows[:22]):
        body = json.dumps([{**r, "age": -5, "sex": "x"}]) if k % 2 else json.dumps([r])[:-7]
        bad.append((request_bytes(body.encode()), False))
    mixed = []
    for k, g in enumerate(good):
        mixed.append(g)
        if k % 9 == 8:
            mixed.append(bad[(k // 9) % len(bad)])
    return mixed


def train_run(root: Path) -> Path:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from mlengine.api import load_recipe
    from mlengine.runner import run_recipe

    data = (ROOT / "examples" / "data" / "titanic.csv").resolve()
    text = (f"name: bench\nseed: 1\ndata:\n  source: {{kind: csv, path: {data}}}\n  target: survived\n"
            "  drop: [alive, who, adult_male, class, embark_town]\n"
            "model:\n  name: lightgbm\n  n_jobs: 1\n  params: {n_estimators: 100}\ncv: {folds: 2}\n"
            "export: {format: [onnx]}\n")
    (root / "r.yaml").write_text(text, encoding="utf-8")
    return Path(run_recipe(load_recipe(root / "r.yaml"), runs_dir=root / "runs").run_dir)


# ---------------------------------------------------------------------------------------------- scenarios ---
def scenario(run: Path, name: str, workers: int, conns: int, kind: str, duration: float, *extra: str,
             rows: int = 1, rss: bool = False, access_log: bool = False) -> dict:
    proc, port = start_server(run, workers, *([] if access_log else ["--no-access-log"]), *extra)
    try:
        client_process(port, min(conns, 4), 1.0, kind)  # warm-up
        rss_start = tree_rss_kb(proc.pid) if rss else 0
        cpu_start = tree_cpu_s(proc.pid)
        res = client_process(port, conns, duration, kind)
        cpu = tree_cpu_s(proc.pid) - cpu_start
        rss_end = tree_rss_kb(proc.pid) if rss else 0
    finally:
        stop_server(proc)
    rps = res["requests"] / res["wall"]
    out = {"scenario": name, "workers": workers, "conns": conns, "rows": rows, "req_s": rps,
           "p50_ms": res["p50"] * 1000, "p99_ms": res["p99"] * 1000, "rows_s": rps * rows * res["good"] /
           max(res["requests"], 1), "statuses": res["statuses"],
           "cpu_us": 1e6 * cpu / max(res["requests"], 1)}
    if rss:
        out.update(rss_start_mb=rss_start / 1024, rss_end_mb=rss_end / 1024,
                   rss_growth_pct=100 * (rss_end - rss_start) / max(rss_start, 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--run", type=Path, help="a run directory with model.onnx (default: train a 100-tree LightGBM)")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds of load per scenario (default 8)")
    ap.add_argument("--soak", type=float, default=60.0, help="soak seconds (default 60; 0 skips it)")
    ap.add_argument("--only", help="comma-separated scenario groups: single,batch,bad,soak,drift,log")
    args = ap.parse_args()
    if args.client:
        cfg = json.loads(args.client)
        print(json.dumps(run_client(cfg["port"], cfg["conns"], cfg["duration"], build_requests(cfg["kind"]))))
        return
    groups = set((args.only or "single,batch,bad,soak,drift,log").split(","))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mlengine-bench-serve-") as tmp:
        run = args.run or train_run(Path(tmp))
        d, results = args.duration, []
        if "single" in groups:
            for workers in (1, 2):
                for conns in (1, 16):
                    results.append(scenario(run, "single row", workers, conns, "single", d))
        if "log" in groups:
            results.append(scenario(run, "single row, access log on", 2, 16, "single", d, access_log=True))
        if "batch" in groups:
            for conns in (1, 4):
                results.append(scenario(run, "1,000-row batch", 2, conns, "batch", d, rows=1000))
        if "bad" in groups:
            base = next((r for r in results if r["scenario"] == "single row" and r["workers"] == 2
                         and r["conns"] == 16), None) or scenario(run, "single row", 2, 16, "single", d)
            mixed = scenario(run, "10% bad requests", 2, 16, "mixed", d)
            mixed["note"] = f"good p99 {100 * (mixed['p99_ms'] / base['p99_ms'] - 1):+.0f}% vs all good"
            results.append(mixed)
        if "drift" in groups:
            for window in ("0", "10000"):
                results.append(scenario(run, f"single row, --drift-window {window}", 2, 16, "single", d,
                                        "--drift-window", window))
            for window in ("0", "10000"):
                results.append(scenario(run, f"1,000-row batch, --drift-window {window}", 2, 1, "batch", d,
                                        "--drift-window", window, rows=1000))
        if "soak" in groups and args.soak > 0:
            soak = scenario(run, f"soak {args.soak:g} s", 2, 16, "single", args.soak, rss=True)
            soak["note"] = (f"RSS {soak['rss_start_mb']:.0f} -> {soak['rss_end_mb']:.0f} MB "
                            f"({soak['rss_growth_pct']:+.1f}%)")
            results.append(soak)
    print(f"\n{os.cpu_count()} cores (shared with the client), {d:g} s per scenario, model {run.name}; "
          f"1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
          "(other processes on the machine take cores too)\n")
    print(f"| {'scenario':<37} | workers | conns | req/s  | p50 ms | p99 ms | rows/s    | server CPU/req | note")
    print(f"|{'-' * 39}|---------|-------|--------|--------|--------|-----------|----------------|-----")
    for r in results:
        note = r.get("note") or ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
        print(f"| {r['scenario']:<37} | {r['workers']:>7} | {r['conns']:>5} | {r['req_s']:>6.0f} | "
              f"{r['p50_ms']:>6.2f} | {r['p99_ms']:>6.2f} | {r['rows_s']:>9,.0f} | {r['cpu_us']:>11,.0f} us | {note}")


if __name__ == "__main__":
    main()
