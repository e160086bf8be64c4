"""Benchmark: POST /api/v1/assessments over loopback against `spinepath serve`.

Run: .venv/bin/python bench/bench_api.py [--requests N] [--concurrency C] [--workers W]
Starts `spinepath serve` (W workers, a throwaway SQLite data dir) on a free loopback port, warms
up, sends N requests from C client threads (keep-alive), and prints requests/s with the median,
p95 and p99 latency. Bounded: it stops after N requests or --max-seconds, whichever comes first.
Target: at least 300 requests/s with p99 under 50 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2

TARGET_PER_SECOND = 300
TARGET_P99_MS = 50.0
SPINEPATH = Path(sys.executable).parent / "spinepath"

INTAKE: dict[str, Any] = {
    "age": 47,
    "sex": "female",
    "regions": [
        {"region": "low_back", "duration_weeks": 8, "intensity": 6, "worse_with_movement": True}
    ],
    "radiation": {"leg": "left", "leg_below_knee": True, "leg_pain_worse_than_back": True},
    "neurology": {"leg_numbness_or_tingling": "left", "leg_weakness": "none", "progressing": False},
    "cauda_equina": {
        "urinary_difficulty": False,
        "bladder_sensation_change": False,
        "urinary_incontinence": False,
        "bowel_incontinence": False,
        "saddle_numbness": False,
        "sexual_dysfunction": False,
    },
    "systemic": {"fever": False, "weight_loss": False, "night_sweats": False},
    "history": {"cancer": False, "trauma": "none", "osteoporosis": False},
    "treatments_tried": [{"type": "physiotherapy", "weeks": 6, "response": "partial"}],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(workers: int, data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "SPINEPATH_DATA_DIR": data_dir, "SPINEPATH_ENVIRONMENT": "development"}
    env.pop("SPINEPATH_DATABASE_URL", None)
    process = subprocess.Popen(
        [str(SPINEPATH), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{url}/docs/docs.css", timeout=1).status_code == 200:
                return process, url
        except httpx2.TransportError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("spinepath serve did not start within 60 s")


def run_load(
    url: str, requests: int, concurrency: int, max_seconds: float
) -> tuple[list[float], float, int]:
    """Returns per-request latencies (s), the wall time (s) and the number of failures."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    remaining = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    body = json.dumps(INTAKE).encode()
    headers = {"Content-Type": "application/json"}
    host, port = url.removeprefix("http://").split(":")

    def worker() -> None:
        # The standard library's client costs far less CPU per request than httpx, and the
        # client shares the machine's cores with the server.
        nonlocal failures
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if next(remaining, None) is None:
                        return
                started = time.perf_counter()
                try:
                    connection.request("POST", "/api/v1/assessments", body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()
                    status = 0
                elapsed = time.perf_counter() - started
                with lock:
                    if status == 200:
                        latencies.append(elapsed)
                    else:
                        failures += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, failures


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=45.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="spinepath-bench-") as data_dir:
        process, url = start_server(args.workers, data_dir)
        try:
            run_load(url, args.warmup, args.concurrency, max_seconds=10)
            latencies, wall, failures = run_load(
                url, args.requests, args.concurrency, args.max_seconds
            )
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)

    if not latencies:
        raise SystemExit("no successful requests")
    rate = len(latencies) / wall
    p99_ms = percentile(latencies, 0.99) * 1000
    print(f"POST /api/v1/assessments, {args.workers} workers, {args.concurrency} client threads")
    print(f"requests: {len(latencies)} ok, {failures} failed, in {wall:.2f} s")
    print(f"throughput: {rate:.0f} requests/s (target >= {TARGET_PER_SECOND})")
    print(
        f"latency: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"p99 {p99_ms:.1f} ms (target < {TARGET_P99_MS:.0f} ms)"
    )
    met = rate >= TARGET_PER_SECOND and p99_ms < TARGET_P99_MS and failures == 0
    print("targets met" if met else "targets NOT met")


if __name__ == "__main__":
    main()
