"""Population assessment from intake JSON: the columnar path against the per-intake path.

Run: .venv/bin/python bench/bench_population.py [--people 1000000] [--compare 100000]
Writes N seeded intakes (bench_engine's generator) as NDJSON to a temporary directory, then
times ``assess_ndjson`` stage by stage (read, read + validate, read + facts) and whole (the
rules are the difference), and the
old path (pydantic ``Intake`` per line, then ``assess_frame``) over the first --compare lines.
Reports rows per second and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import generate
from spinepath import knowledge as kb
from spinepath.pathway.bulk_validation import ERRORS, with_errors
from spinepath.pathway.columnar import assess_frame, assess_ndjson
from spinepath.pathway.compiled import compiled
from spinepath.pathway.fact_columns import fact_frame, intake_schema
from spinepath.pathway.intake import Intake

T = TypeVar("T")


def _peak_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(label: str, rows: int, run: Callable[[], T]) -> T:
    start = time.perf_counter()
    out = run()
    elapsed = time.perf_counter() - start
    print(
        f"{label}: {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s), peak RSS {_peak_mib():,.0f} MiB"
    )
    return out


def _write(path: Path, people: int) -> None:
    rng = random.Random(20261121)
    with path.open("w", encoding="utf-8") as out:
        for _ in range(people):
            out.write(json.dumps(generate(rng)) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, default=100_000)
    args = parser.parse_args()
    knowledge = kb.default()
    terms = knowledge.fact_terms

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "intakes.ndjson"
        start = time.perf_counter()
        _write(path, args.people)
        size = path.stat().st_size / 2**20
        print(
            f"wrote {args.people:,} intakes ({size:,.0f} MiB) in "
            f"{time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        compiled(knowledge)  # compile the knowledge base outside the timings
        raw = pl.scan_ndjson(path, schema=intake_schema())
        people = args.people

        # Each stage runs from the file again: a lazy plan has no intermediate to time alone.
        _timed("read (parse every column)", people, lambda: raw.collect())
        _timed("read + validate", people, lambda: with_errors(raw).select(ERRORS).collect())
        _timed("read + facts", people, lambda: fact_frame(raw, terms).collect())
        result = _timed("assess_ndjson (all stages)", people, lambda: assess_ndjson(path))
        print(f"assessed {result.assessed.height:,}, rejected {result.rejected.height:,}")

        compare = min(args.compare, people)
        with path.open(encoding="utf-8") as lines:
            head = [next(lines) for _ in range(compare)]
        intakes = _timed(
            f"old path, pydantic per line ({compare:,})",
            compare,
            lambda: [Intake.model_validate_json(line) for line in head],
        )
        _timed(f"old path, assess_frame ({compare:,})", compare, lambda: assess_frame(intakes))


if __name__ == "__main__":
    main()
