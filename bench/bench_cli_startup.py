"""Start-up time of the command line: `spinepath assess FILE` from a cold process.

Run: .venv/bin/python bench/bench_cli_startup.py [--runs 15] [--top 15] [--target 0.3]
Runs `.venv/bin/spinepath assess examples/low-back-acute-self-care.json` (text report) RUNS
times after one warm-up run, and prints the min and median wall time in seconds; then runs the
same command once under `python -X importtime` and lists the imports with the largest
cumulative time. Exits 1 when the median is above TARGET.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXAMPLE = "examples/low-back-acute-self-care.json"


def command(args: list[str]) -> list[str]:
    spinepath = BIN / "spinepath"
    if not spinepath.exists():
        sys.exit(f"{spinepath} not found: run scripts/install first")
    return [str(spinepath), *args]


def wall_times(args: list[str], runs: int) -> list[float]:
    """Seconds each run of the command took, after one warm-up run (which also fills caches)."""
    times: list[float] = []
    env = {**os.environ, "COLUMNS": "100"}
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        if i:
            times.append(time.perf_counter() - started)
    return times


def import_times(args: list[str]) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) for every import of one run of the command."""
    code = (
        f"import sys; from spinepath.cli import main; sys.argv = ['spinepath', *{args!r}]; main()"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(own), int(cumulative), name.rstrip()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--top", type=int, default=15, help="import offenders to list")
    parser.add_argument("--target", type=float, default=0.3, help="median seconds to stay under")
    parser.add_argument("--file", default=EXAMPLE, help="intake to assess")
    options = parser.parse_args()

    args = ["assess", options.file]
    argv = command(args)
    times = wall_times(argv, options.runs)
    shown = Path(argv[0])
    if shown.is_relative_to(ROOT):
        shown = shown.relative_to(ROOT)
    print(f"$ {shown} {' '.join(args)}   ({options.runs} runs after a warm-up)")
    print(f"  min {min(times):.3f} s   median {statistics.median(times):.3f} s")

    rows = import_times(args)
    total = sum(own for own, _, _ in rows)
    print(f"\npython -X importtime: {len(rows)} modules, {total / 1e6:.3f} s in imports")
    print(f"  {'cumulative':>10}  {'self':>8}  module")
    for own, cumulative, name in sorted(rows, key=lambda r: r[1], reverse=True)[: options.top]:
        print(f"  {cumulative / 1e3:8.1f}ms  {own / 1e3:6.1f}ms  {name}")
    if statistics.median(times) > options.target:
        print(f"\nmedian above the {options.target} s target")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
