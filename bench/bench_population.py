"""The population pathway over a million generated people, against the per-person engine.

Run: .venv/bin/python bench/bench_population.py [--people 1000000] [--dataset DIR]
     [--naive 10000] [--sample 2000] [--duckdb N] [--spark N] [--memory-limit GIB]

Generates a seeded population data set (or uses --dataset), then times, as separate processes
so each has its own peak memory:
- `spinepath population assess` (Polars, one worker process per CPU) over every person:
  the target is 10 s for a million people on a 2-core machine;
- `spinepath population measures` and `spinepath population report` over the result (with
  `--memory-limit GIB` passed on to both: how much DuckDB may hold before it spills);
- the naive per-person loop (``Intake`` then ``assess``) over --naive people, as the ratio;
- DuckDB and Spark (local[2]) over the first --duckdb / --spark people, when asked.
Checks --sample random rows of the million against the per-person engine.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.population import tables
from spinepath.population.generate_dataset import write_dataset
from support.stages import decided_rows, engine_stages, without_nulls

SPINEPATH = str(Path(sys.executable).parent / "spinepath")
TARGET_S = 10.0


def _command(label: str, rows: int, *args: str) -> float:
    """Runs a spinepath command; prints its time, rows/s and peak memory (GNU time's maximum
    resident set size: the largest of the command's processes)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "peak %M", SPINEPATH, *args],
        check=True,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - start
    peak = int(done.stderr.strip().splitlines()[-1].split()[-1]) / 1024
    print(f"{label}: {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s), peak RSS {peak:,.0f} MiB")
    return elapsed


def _intakes(dataset: Path, count: int) -> list[dict[str, object]]:
    frame = tables.scan(dataset, "assessments").head(count).select("intake").collect()
    return [without_nulls(i) for i in frame["intake"].to_list()]


def _naive(dataset: Path, count: int) -> float:
    intakes = _intakes(dataset, count)
    start = time.perf_counter()
    for intake in intakes:
        assess(Intake.model_validate(intake))
    elapsed = time.perf_counter() - start
    print(f"naive per-person loop ({count:,}): {elapsed:.2f} s ({count / elapsed:,.0f} rows/s)")
    return count / elapsed


def _check_sample(dataset: Path, pathway: Path, count: int) -> None:
    decided = pl.read_parquet(pathway)
    rows = random.Random(7).sample(range(decided.height), min(count, decided.height))
    source = tables.scan(dataset, "assessments").select("intake").collect()
    wrong = 0
    for index in rows:
        intake = without_nulls(source["intake"][index])
        expected = engine_stages(assess(Intake.model_validate(intake)))
        if decided_rows(decided[index]) != [expected]:
            wrong += 1
    print(f"sample of {len(rows):,} rows checked against the per-person engine: {wrong} differ")


def _subset(dataset: Path, count: int, directory: Path) -> Path:
    target = directory / f"first-{count}-{time.monotonic_ns()}"
    target.mkdir()
    tables.scan(dataset, "assessments").head(count).sink_parquet(
        tables.table_path(target, "assessments")
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--naive", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--duckdb", type=int, default=0)
    parser.add_argument("--spark", type=int, default=0)
    parser.add_argument("--memory-limit", type=float)
    args = parser.parse_args()
    limit = [] if args.memory_limit is None else ["--memory-limit", str(args.memory_limit)]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        dataset = args.dataset
        if dataset is None:
            dataset = work / "dataset"
            dataset.mkdir()
            start = time.perf_counter()
            write_dataset(dataset, args.people, 1)
            print(f"generated {args.people:,} people in {time.perf_counter() - start:.1f} s")
        people = tables.scan(dataset, "assessments").select(pl.len()).collect().item()
        pathway = work / "pathway.parquet"
        whole = _command(
            "population assess (Polars)", people,
            "population", "assess", "--dataset", str(dataset), "--out", str(pathway),
        )  # fmt: skip
        verdict = "met" if whole <= TARGET_S else "NOT met"
        print(f"target: {people:,} people in {TARGET_S:.0f} s: {verdict}")
        rate = _naive(dataset, args.naive)
        print(f"columnar pathway / naive loop: {people / whole / rate:,.0f} times as fast")
        _check_sample(dataset, pathway, args.sample)
        measures = work / "measures"
        _command(
            "population measures", people,
            "population", "measures", "--dataset", str(dataset), "--pathway", str(pathway),
            "--out", str(measures), *limit,
        )  # fmt: skip
        _command(
            "population report", people,
            "population", "report", "--pathway", str(pathway), "--measures", str(measures),
            "--dataset", str(dataset), "--out", str(work / "report.html"), *limit,
        )  # fmt: skip
        for engine, count in (("duckdb", args.duckdb), ("spark", args.spark)):
            if count:
                subset = _subset(dataset, min(count, people), work)
                _command(
                    f"population assess ({engine}, first {count:,})", count,
                    "population", "assess", "--dataset", str(subset), "--engine", engine,
                    "--out", str(work / f"{engine}.parquet"),
                )  # fmt: skip


if __name__ == "__main__":
    main()
