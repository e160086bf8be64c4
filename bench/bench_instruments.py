"""Benchmark: score 1,000,000 ODI responses with the vectorised path; compare per-response.

Run: .venv/bin/python bench/bench_instruments.py [--rows N] [--repeat R]
Prints the median wall time and throughput (target: at least 200,000 responses/s).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import polars as pl

from spinepath.instruments import catalogue
from spinepath.instruments.scoring import score
from spinepath.population.scores import MISSING, score_frame

TARGET_PER_SECOND = 200_000


def synthetic_odi(rows: int, seed: int = 2026) -> pl.DataFrame:
    """Deterministic synthetic responses: values 0-5 uniform, 1 in 25 sections missing (-1)."""
    codes = catalogue.get("odi").item_codes
    index = pl.int_range(0, rows, dtype=pl.UInt64)
    columns = []
    for position, code in enumerate(codes):
        raw = ((index + position * 1_000_003).hash(seed) % 25).cast(pl.Int8)
        value = pl.when(raw == 24).then(pl.lit(MISSING, dtype=pl.Int8)).otherwise(raw % 6)
        columns.append(value.alias(code))
    return pl.select(columns)


def _median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--per-response-rows", type=int, default=20_000)
    args = parser.parse_args()

    frame = synthetic_odi(args.rows)
    scored = score_frame("odi", frame)
    valid = int(scored.get_column("valid").sum())
    vectorised = _median_seconds(lambda: score_frame("odi", frame), args.repeat)

    sample = frame.head(args.per_response_rows).to_dicts()
    answers = [{c: (None if v == MISSING else v) for c, v in row.items()} for row in sample]
    definition = catalogue.get("odi")
    per_response = _median_seconds(
        lambda: [score(definition, a) for a in answers], max(1, args.repeat // 2)
    )

    vec_rate = args.rows / vectorised
    one_rate = len(answers) / per_response
    print(f"ODI responses: {args.rows:,} ({valid:,} valid, {args.rows - valid:,} invalid)")
    print(f"vectorised (polars): median {vectorised:.3f} s -> {vec_rate:,.0f} responses/s")
    print(f"per-response (pydantic): {len(answers):,} in {per_response:.3f} s -> {one_rate:,.0f}/s")
    print(f"speed-up: {vec_rate / one_rate:,.0f}x")
    verdict = "meets" if vec_rate >= TARGET_PER_SECOND else "MISSES"
    print(f"target {TARGET_PER_SECOND:,}/s: {verdict}")


if __name__ == "__main__":
    main()
