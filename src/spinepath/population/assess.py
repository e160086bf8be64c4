"""The whole pathway over a population: each assessment in, one decision row out.

Intakes are read column by column, in chunks, from a data set's ``assessments.parquet`` (or from
intake NDJSON), checked by the intake model's rules as expressions, turned into facts and run
through the pathway's column plan (``spinepath.pathway.population_plan``): the same decisions,
row for row, as the per-person engine. Memory is bounded by the chunk size, not the number of
people, so ten million people need no more memory than one million.

Polars runs the plan by default: on this plan it is several times faster than DuckDB (see
docs/population.md). DuckDB and Spark run the same plan compiled to SQL
(``spinepath.population.engines``) over the fact table, which is then written to a Parquet file
first.
"""

from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from spinepath import knowledge as kb
from spinepath.knowledge import KnowledgeBase
from spinepath.pathway.bulk_validation import ERRORS, with_errors
from spinepath.pathway.columnar import evaluate_lazy
from spinepath.pathway.fact_columns import fact_frame, intake_schema
from spinepath.population import tables
from spinepath.population.workers import Workers

KEYS = ("person_id", "assessment_id", "assessed_on")
"""The columns that say whose assessment a decision row is."""

REJECTED: tables.Schema = {
    "person_id": pl.String,
    "assessment_id": pl.String,
    ERRORS: pl.List(pl.String),
}
"""Assessments the intake model refuses, with the reasons (each naming the field)."""

CHUNK = 250_000
"""People per chunk: large enough that the per-chunk cost of planning is small."""


@dataclass(frozen=True)
class Chunk:
    """Intakes of some people, as columns, with the columns of ``KEYS``."""

    intakes: pl.LazyFrame
    rows: int


def count_rows(source: Path, *, ndjson: bool) -> int:
    """How many assessments the input holds (lines of NDJSON, rows of the data set)."""
    if ndjson:
        with source.open("rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))
    frame = tables.scan(source, "assessments")
    return int(frame.select(pl.len()).collect().item())


def facts_and_rejected(chunk: Chunk, knowledge: KnowledgeBase) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The facts of the chunk's valid intakes (after ``KEYS``) and its refused rows."""
    checked = with_errors(chunk.intakes)
    valid = checked.filter(pl.col(ERRORS).list.len() == 0)
    facts = fact_frame(valid, knowledge.fact_terms, keep=KEYS)
    rejected = checked.filter(pl.col(ERRORS).list.len() > 0).select(list(REJECTED))
    return facts, rejected


def decide(chunk: Chunk, knowledge: KnowledgeBase) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chunk's decision rows (``tables.PATHWAY``) and refused rows, computed by Polars."""
    facts, rejected = facts_and_rejected(chunk, knowledge)
    decisions = evaluate_lazy(facts, knowledge, keep=KEYS).select(list(tables.PATHWAY))
    done, refused = pl.collect_all([decisions, rejected], engine="in-memory")
    return done, refused


@dataclass(frozen=True)
class Job:
    """One chunk to assess, as a worker process can find it: rows of a data set, or NDJSON
    lines (their bytes and the number of the first)."""

    dataset: Path | None = None
    start: int = 0
    size: int = 0
    lines: bytes = b""
    first_line: int = 1


def dataset_jobs(directory: Path, size: int = CHUNK) -> Iterator[Job]:
    total = count_rows(directory, ndjson=False)
    for start in range(0, total, size):
        yield Job(dataset=directory, start=start, size=min(size, total - start))


def ndjson_jobs(path: Path, size: int = CHUNK) -> Iterator[Job]:
    first = 1
    with path.open("rb") as handle:
        while True:
            lines = [line for _, line in zip(range(size), handle, strict=False)]
            if not lines:
                return
            yield Job(lines=b"".join(lines), first_line=first, size=len(lines))
            first += len(lines)


def chunk_of(job: Job) -> Chunk:
    """The job's intakes, read."""
    if job.dataset is not None:
        assessments = tables.scan(job.dataset, "assessments").slice(job.start, job.size)
        return Chunk(assessments.select(*KEYS, pl.col("intake").struct.unnest()), job.size)
    frame = pl.read_ndjson(io.BytesIO(job.lines), schema=intake_schema())
    person = pl.format("line-{}", pl.int_range(job.first_line, job.first_line + frame.height))
    intakes = frame.lazy().select(
        person.alias("person_id"),
        person.alias("assessment_id"),
        pl.lit(None, dtype=pl.Date).alias("assessed_on"),
        pl.all(),
    )
    return Chunk(intakes, frame.height)


def run_job(job: Job, handoff: Path | None = None) -> tuple[pl.DataFrame | Path, pl.DataFrame, int]:
    """A worker's part: the job's decisions, refused rows and size (default knowledge base).

    With a ``handoff`` directory, the decisions are written there as an uncompressed Arrow IPC
    file and its path returned instead: :func:`run_jobs` maps the file rather than receiving a
    pickled copy through a pipe, which at 250,000 rows cost the worker and the main process
    about 1 s of CPU a chunk between them."""
    chunk = chunk_of(job)
    done, refused = decide(chunk, kb.default())
    if handoff is None:
        return done, refused, chunk.rows
    path = handoff / f"{os.getpid()}-{job.start}-{job.first_line}.arrow"
    done.write_ipc(path, compression="uncompressed", compat_level=pl.CompatLevel.newest())
    return path, refused, chunk.rows


def _received(done: pl.DataFrame | Path) -> pl.DataFrame:
    """A worker's decisions: mapped from its hand-off file, which is removed at once (the
    mapping keeps the pages until the frame is let go)."""
    if isinstance(done, pl.DataFrame):
        return done
    try:
        with pa.memory_map(str(done)) as mapped:
            table = pa.ipc.open_file(mapped).read_all()
        found = pl.from_arrow(table)
    finally:
        done.unlink()
    assert isinstance(found, pl.DataFrame)  # noqa: S101 - a table gives a frame
    return found


def warm() -> None:
    """A worker's start: the knowledge base loaded and the plan built before any chunk arrives."""
    knowledge = kb.default()
    evaluate_lazy(fact_frame(pl.LazyFrame(schema=intake_schema()), knowledge.fact_terms), knowledge)


def run_jobs(
    jobs: Iterable[Job], workers: Workers
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, int]]:
    """Every job's result, in order. At most one job per worker waits ahead, so memory stays
    bounded by the chunk size. A frame yielded is valid until the next is asked for."""
    pool = workers.pool
    if pool is None:
        for job in jobs:
            done, refused, rows = run_job(job)
            yield _received(done), refused, rows
        return
    pending: deque[Future[tuple[pl.DataFrame | Path, pl.DataFrame, int]]] = deque()

    def first() -> tuple[pl.DataFrame, pl.DataFrame, int]:
        done, refused, rows = pending.popleft().result()
        return _received(done), refused, rows

    for job in jobs:
        pending.append(pool.submit(run_job, job, workers.handoff))
        if len(pending) > workers.count:
            yield first()
    while pending:
        yield first()
