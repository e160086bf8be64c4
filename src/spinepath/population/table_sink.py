"""Writing tables to Parquet a chunk at a time, so a table of any size is never held whole.

Rows are buffered as dicts and written as one row group per chunk; a table of the data set is
checked against its schema (``tables.conform``) chunk by chunk, and a table that gets no rows is
still written, with its columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import polars as pl
import pyarrow.parquet as pq

from spinepath.population import tables
from spinepath.population.tables import Schema

CHUNK_ROWS = 20_000
"""Rows buffered per table before they are written: the intakes of 20,000 assessments take a few
tens of megabytes."""


class TableSink:
    """One Parquet file, written a row group at a time."""

    def __init__(
        self, path: Path, schema: Schema, *, table: str | None = None, chunk_rows: int = CHUNK_ROWS
    ) -> None:
        self.path = path
        self.schema = dict(schema)
        self.table = table
        self.chunk_rows = max(1, chunk_rows)
        self.rows = 0
        self._buffer: list[Mapping[str, object]] = []
        self._writer: pq.ParquetWriter | None = None
        self._closed = False

    def add(self, row: Mapping[str, object]) -> None:
        self._buffer.append(row)
        if len(self._buffer) >= self.chunk_rows:
            self.flush()

    def add_frame(self, frame: pl.DataFrame) -> None:
        """Writes ``frame`` (the sink's columns) as it is, after what is buffered."""
        self.flush()
        self._write(tables.conform(self.table, frame) if self.table else frame)

    def _write(self, frame: pl.DataFrame) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: written to after it was closed")
        data = frame.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, data.schema)
        self._writer.write_table(data)
        self.rows += frame.height

    def flush(self) -> None:
        """Writes the buffered rows (at the first call, even none: the file then has columns)."""
        if not self._buffer and (self._writer is not None or self._closed):
            return
        if self._buffer:
            frame = pl.DataFrame(self._buffer, schema=self.schema, orient="row")
        else:
            frame = pl.DataFrame(schema=self.schema)
        self._write(tables.conform(self.table, frame) if self.table else frame)
        self._buffer = []

    def close(self) -> int:
        """Writes what is buffered and closes the file; the number of rows written."""
        self.flush()
        self.abort()
        return self.rows

    def abort(self) -> None:
        """Closes the file as it is (after an error: the directory is thrown away)."""
        self._closed = True
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class DatasetWriter:
    """Every table of a data set in ``directory``, each written in chunks."""

    def __init__(self, directory: Path, *, chunk_rows: int = CHUNK_ROWS) -> None:
        self.sinks = {
            name: TableSink(
                tables.table_path(directory, name), schema, table=name, chunk_rows=chunk_rows
            )
            for name, schema in tables.TABLES.items()
        }

    def add(self, table: str, row: Mapping[str, object]) -> None:
        self.sinks[table].add(row)

    def close(self) -> dict[str, int]:
        return {name: sink.close() for name, sink in self.sinks.items()}

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:
            for sink in self.sinks.values():
                sink.abort()
