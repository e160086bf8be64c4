"""Benchmark: a clinician's worklist while 50 patients download their result PDFs at once.

Run: .venv/bin/python bench/bench_pdf_load.py [--downloads 50] [--workers 1]
Sets up a throwaway SQLite data dir (a clinic, a clinician, patients with results), starts
`spinepath serve`, signs the clinician in, then starts N concurrent PDF downloads and, until they
have all finished, loads the worklist every 50 ms. Prints the worklist's median and p99 latency
and how long the PDFs took. Target: worklist p99 under 500 ms.
"""

from __future__ import annotations

import argparse
import http.client
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

import httpx2

TARGET_P99_MS = 500.0
SPINEPATH = Path(sys.executable).parent / "spinepath"
PASSWORD = "a long benchmark passphrase 42"  # noqa: S105 - a throwaway test account
INTAKE = {
    "age": 47,
    "sex": "female",
    "regions": [{"region": "low_back", "duration_weeks": 20, "intensity": 7}],
    "radiation": {"leg": "left", "leg_below_knee": True, "leg_pain_worse_than_back": True},
    "treatments_tried": [{"type": "physiotherapy", "weeks": 8, "response": "none"}],
}


def _set_up(data_dir: str, patients: int) -> list[str]:
    os.environ.update({"SPINEPATH_DATA_DIR": data_dir, "SPINEPATH_ENVIRONMENT": "development"})
    os.environ.pop("SPINEPATH_DATABASE_URL", None)
    from spinepath.pathway.engine import assess
    from spinepath.pathway.intake import Intake
    from spinepath.settings import Settings
    from spinepath.store import migrate, repository
    from spinepath.store.db import Database

    database = Database.from_settings(Settings())
    migrate.upgrade(database)
    links: list[str] = []
    intake = Intake.model_validate(INTAKE)
    with database.session() as session:
        clinic = repository.create_clinic(session, "Bench Clinic")
        repository.create_user(
            session, email="dr@bench.example", password=PASSWORD, clinic_id=clinic.id
        )
        for number in range(patients):
            patient, link = repository.create_patient(session, clinic.id, reference=f"B{number}")
            repository.save_assessment(session, patient, intake, assess(intake))
            links.append(link)
    database.dispose()
    return links


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(workers: int, data_dir: str) -> tuple[subprocess.Popen[bytes], str, int]:
    port = _free_port()
    env = {**os.environ, "SPINEPATH_DATA_DIR": data_dir, "SPINEPATH_ENVIRONMENT": "development"}
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
            if httpx2.get(f"{url}/login", timeout=1).status_code == 200:
                return process, url, port
        except httpx2.TransportError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("spinepath serve did not start within 60 s")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--downloads", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="spinepath-bench-") as data_dir:
        print("setting up patients ...", file=sys.stderr)
        links = _set_up(data_dir, args.downloads)
        process, url, port = _start(args.workers, data_dir)
        try:
            with httpx2.Client(base_url=url, timeout=30) as browser:
                signed_in = browser.post(
                    "/login", data={"email": "dr@bench.example", "password": PASSWORD}
                )
                if signed_in.status_code != 303:
                    raise SystemExit(f"sign-in answered {signed_in.status_code}")
                cookies = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
            done = threading.Event()
            pdf_times: list[float] = []
            failures: list[int] = []
            lock = threading.Lock()

            def download(link: str) -> None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=args.max_seconds)
                started = time.perf_counter()
                try:
                    connection.request("GET", f"/p/{link}/result.pdf")
                    response = connection.getresponse()
                    body = response.read()
                    ok = response.status == 200 and body.startswith(b"%PDF")
                finally:
                    connection.close()
                with lock:
                    if ok:
                        pdf_times.append(time.perf_counter() - started)
                    else:
                        failures.append(response.status)

            worklist: list[float] = []

            def probe() -> None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                while not done.is_set():
                    started = time.perf_counter()
                    connection.request("GET", "/clinic", headers={"Cookie": cookies})
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        raise SystemExit(f"worklist answered {response.status}")
                    worklist.append(time.perf_counter() - started)
                    time.sleep(0.05)
                connection.close()

            prober = threading.Thread(target=probe)
            downloads = [threading.Thread(target=download, args=(link,)) for link in links]
            started = time.perf_counter()
            prober.start()
            for thread in downloads:
                thread.start()
            for index, thread in enumerate(downloads, start=1):
                thread.join()
                print(f"\rPDFs finished: {index}/{len(downloads)}", end="", file=sys.stderr)
            print(file=sys.stderr)
            done.set()
            prober.join()
            wall = time.perf_counter() - started
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)

    p99 = _percentile(worklist, 0.99) * 1000
    print(f"{args.downloads} concurrent result PDFs, {args.workers} worker(s), SQLite")
    print(f"PDFs: {len(pdf_times)} ok, {len(failures)} failed, all done in {wall:.1f} s")
    print(
        f"worklist while they render: {len(worklist)} loads, median "
        f"{statistics.median(worklist) * 1000:.0f} ms, p99 {p99:.0f} ms "
        f"(target < {TARGET_P99_MS:.0f} ms)"
    )
    print("target met" if p99 < TARGET_P99_MS and not failures else "target NOT met")


if __name__ == "__main__":
    main()
