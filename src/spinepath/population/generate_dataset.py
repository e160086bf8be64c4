"""A synthetic population data set: the cohort's intakes and their care events, written as the
Parquet tables of :mod:`spinepath.population.tables`, chunk by chunk.

Memory stays bounded by the chunk: each chunk of people becomes one row group of every table,
appended to the table's file, and then is dropped. The same seed gives the same tables whatever
the chunk size (only the row groups differ): the intakes come from the cohort's one stream, the
care events from streams of fixed blocks of people.

A large cohort is drawn by two kinds of process at once: this one draws the intakes, in order,
since they come from one stream, and writes the tables; worker processes draw the care events of
whole blocks of people and build their tables. The rows are the same as drawn in one process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from multiprocessing.pool import AsyncResult
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from spinepath.population.care_plan import CareSettings
from spinepath.population.events_base import Row, Rows
from spinepath.population.generate import COHORT_FILE, encode_intake, labelled_people
from spinepath.population.generate_events import EVENT_BLOCK, CareEvents
from spinepath.population.tables import TABLES, conform, empty, table_path

DEFAULT_CHUNK = 5 * EVENT_BLOCK
"""People per chunk: large enough for fast columnar writes, small enough to keep memory low, and
whole events blocks so that a worker can draw a chunk on its own."""

PARALLEL_FROM = 50_000
"""Cohorts of at least this many people use worker processes (when there is more than one CPU):
below it, starting the workers costs more than they save."""

Tables = dict[str, pl.DataFrame]


def _frame(table: str, rows: list[Row]) -> pl.DataFrame:
    """The rows of one table as a frame with exactly the table's columns and types."""
    schema = TABLES[table]
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    series = []
    for (name, dtype), values in zip(schema.items(), columns, strict=True):
        if dtype == pl.Date:
            # Dates are drawn as days since 1970-01-01, which is how a Date is stored.
            series.append(pl.Series(name, values, dtype=pl.Int32).cast(pl.Date))
        elif isinstance(dtype, pl.Struct):
            # The intake is kept as its JSON text until here (a few tens of megabytes a chunk,
            # where the nested dicts would take ten times more) and decoded into the column's
            # nested type in one go.
            series.append(pl.Series(name, values, dtype=pl.String).str.json_decode(dtype))
        else:
            series.append(pl.Series(name, values, dtype=dtype))
    return conform(table, pl.DataFrame(series))


def _empty_rows() -> Rows:
    return {table: [] for table in TABLES}


def _tables(rows: Rows) -> Tables:
    return {table: _frame(table, table_rows) for table, table_rows in rows.items()}


def _serial_chunks(
    count: int, seed: int, settings: CareSettings | None, chunk: int, path: Path
) -> Iterator[tuple[int, Tables]]:
    events = CareEvents(seed, settings, path=path)
    rows = _empty_rows()
    people = 0
    for index, (subgroup, intake) in enumerate(labelled_people(count, seed, path=path)):
        events.add(index, subgroup, intake, encode_intake(intake), rows)
        people += 1
        if people == chunk:
            yield people, _tables(rows)
            rows = _empty_rows()
            people = 0
    if people:
        yield people, _tables(rows)


# --- worker processes ---------------------------------------------------------------------------

_worker_events: CareEvents | None = None


def _start_worker(seed: int, settings: CareSettings | None, path: Path) -> None:
    # One generator per worker process, built once when the worker starts.
    global _worker_events
    _worker_events = CareEvents(seed, settings, path=path)


def _draw_chunk(start: int, people: list[tuple[str, str]]) -> tuple[int, Tables]:
    """The tables of the people from ``start`` on, given each one's subgroup and intake text."""
    events = _worker_events
    if events is None:
        raise RuntimeError("the worker was not started")
    events.start_at(start)
    rows = _empty_rows()
    for offset, (subgroup, text) in enumerate(people):
        events.add(start + offset, subgroup, json.loads(text), text, rows)
    return len(people), _tables(rows)


def _intake_batches(
    count: int, seed: int, chunk: int, path: Path
) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    batch: list[tuple[str, str]] = []
    start = 0
    for index, (subgroup, intake) in enumerate(labelled_people(count, seed, path=path)):
        batch.append((subgroup, encode_intake(intake)))
        if len(batch) == chunk:
            yield start, batch
            start, batch = index + 1, []
    if batch:
        yield start, batch


def _parallel_chunks(
    count: int, seed: int, settings: CareSettings | None, chunk: int, path: Path, workers: int
) -> Iterator[tuple[int, Tables]]:
    # spawn, not fork: Polars runs a thread pool, which a forked child would inherit broken.
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _start_worker, (seed, settings, path)) as pool:
        pending: deque[AsyncResult[tuple[int, Tables]]] = deque()
        for start, batch in _intake_batches(count, seed, chunk, path):
            pending.append(pool.apply_async(_draw_chunk, (start, batch)))
            # One chunk more than the workers keeps each busy; more would only hold memory.
            if len(pending) > workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def default_workers(count: int) -> int:
    """Worker processes for a cohort of ``count`` people: none below ``PARALLEL_FROM``."""
    cpus = os.cpu_count() or 1
    if count < PARALLEL_FROM or cpus < 2:
        return 0
    # Two workers even on two CPUs: the intakes take this process about half as long as the care
    # events take one worker, so two workers and this process keep both CPUs busy.
    return 2


def dataset_chunks(
    count: int,
    seed: int,
    *,
    settings: CareSettings | None = None,
    chunk: int = DEFAULT_CHUNK,
    path: Path = COHORT_FILE,
    workers: int = 0,
) -> Iterator[tuple[int, Tables]]:
    """The data set of ``count`` people in chunks of up to ``chunk`` people: (people, tables).

    With ``workers`` above 0, the care events are drawn in that many worker processes; the chunk
    is then rounded up to whole events blocks. The rows are the same either way."""
    if chunk < 1:
        raise ValueError(f"chunk must be 1 or more, not {chunk}")
    if workers < 1:
        yield from _serial_chunks(count, seed, settings, chunk, path)
        return
    blocks = -(-chunk // EVENT_BLOCK)
    yield from _parallel_chunks(count, seed, settings, blocks * EVENT_BLOCK, path, workers)


ROW_GROUP = 50_000
"""Rows per Parquet row group at most. Readers pay per row group and column (a footer entry to
decode, pages to start), so groups of a few thousand rows made reading the intakes a fifth
slower; ``population assess`` reads 250,000 people a chunk, five whole groups."""


class ParquetTables:
    """Appends chunks of tables to ``<table>.parquet`` files in ``directory``, in row groups of
    ``row_group`` rows (the last of a table may be smaller).

    Each table's file is opened at its first non-empty chunk; on closing, a table that never had
    a row is written empty, with its columns, so every table of the data set exists."""

    def __init__(self, directory: Path, row_group: int = ROW_GROUP) -> None:
        self.directory = directory
        self.row_group = row_group
        self.rows: Counter[str] = Counter()
        self._writers: dict[str, Any] = {}
        self._waiting: dict[str, list[pl.DataFrame]] = {}

    def write(self, tables: Mapping[str, pl.DataFrame]) -> None:
        for table, frame in tables.items():
            if frame.height == 0:
                continue
            waiting = self._waiting.setdefault(table, [])
            waiting.append(frame)
            self.rows[table] += frame.height
            if sum(part.height for part in waiting) >= self.row_group:
                self._write(table, whole_groups=True)

    def _write(self, table: str, *, whole_groups: bool) -> None:
        """Writes the table's waiting rows: with ``whole_groups``, as many whole row groups as
        they fill, the rest left waiting."""
        rows = pl.concat(self._waiting.pop(table), rechunk=True)
        if whole_groups:
            ready = rows.height - rows.height % self.row_group
            rows, rest = rows.head(ready), rows.slice(ready)
            if rest.height:
                self._waiting[table] = [rest]
        arrow = rows.to_arrow(compat_level=pl.CompatLevel.oldest())
        writer = self._writers.get(table)
        if writer is None:
            target = table_path(self.directory, table)
            writer = pq.ParquetWriter(target, arrow.schema, compression="zstd")
            self._writers[table] = writer
        writer.write_table(arrow, row_group_size=self.row_group)

    def close(self) -> None:
        for table in list(self._waiting):
            self._write(table, whole_groups=False)
        for writer in self._writers.values():
            writer.close()
        for table in TABLES:
            if table not in self._writers:
                empty(table).write_parquet(table_path(self.directory, table))
                self.rows[table] += 0

    def __enter__(self) -> ParquetTables:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is None:
            self.close()
            return
        for writer in self._writers.values():
            writer.close()


def write_dataset(
    directory: Path,
    count: int,
    seed: int,
    *,
    settings: CareSettings | None = None,
    chunk: int = DEFAULT_CHUNK,
    path: Path = COHORT_FILE,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> dict[str, int]:
    """Write the data set of ``count`` people into the existing directory ``directory``; the rows
    written per table. ``progress`` is called with the people of each chunk once written;
    ``workers`` defaults to :func:`default_workers`."""
    if workers is None:
        workers = default_workers(count)
    chunks = dataset_chunks(count, seed, settings=settings, chunk=chunk, path=path, workers=workers)
    with ParquetTables(directory) as writer:
        for people, tables in chunks:
            writer.write(tables)
            if progress is not None:
                progress(people)
    return {table: writer.rows[table] for table in TABLES}
