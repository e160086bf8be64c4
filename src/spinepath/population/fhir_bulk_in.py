"""A FHIR Bulk Data export (NDJSON files, or their manifest) read into a population data set.

The files are read a line at a time and each resource becomes rows at once (``fhir_to_rows``),
buffered per table and written in chunks (``table_sink``), so memory does not grow with the
export: no resource is kept once it is read. What has to wait for other files (an episode's
Encounter, an assessment's episode) is written to staging tables and joined at the end; those
hold short columns only, and assessments are joined a chunk at a time.

Nothing stops the import: a line that is not JSON, a resource that cannot be mapped and a
resource type the data set does not hold each become a row of ``import-errors.csv`` (file,
line, field, message), and the types are counted in ``import-summary.json``. The data set is
written all or nothing (``output_dir``).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import polars as pl
import pyarrow.parquet as pq

from spinepath.population import tables
from spinepath.population.error_log import ERRORS_FILE, ErrorLog
from spinepath.population.fhir_elements import FieldError
from spinepath.population.fhir_to_rows import (
    EPISODE_CONDITIONS,
    EPISODE_ENCOUNTERS,
    READERS,
    SKIPPED,
    STAGED_ASSESSMENTS,
)
from spinepath.population.output_dir import new_directory
from spinepath.population.table_sink import CHUNK_ROWS, TableSink

Json = dict[str, Any]
Progress = Callable[[int, int], None]
"""Called with the lines and the bytes read since the last call."""

SUMMARY_FILE = "import-summary.json"
MAX_LINE_BYTES = 16 * 1024 * 1024
"""The longest line read; a longer one is an error row, read past without holding it."""
_PROGRESS_EVERY = 5_000

_POSITION: tables.Schema = {"file": pl.String, "line": pl.Int64}
STAGING: dict[str, tables.Schema] = {
    EPISODE_CONDITIONS: {
        **{k: v for k, v in tables.EPISODES.items() if k != "setting"},
        "encounter_id": pl.String,
        **_POSITION,
    },
    EPISODE_ENCOUNTERS: {"encounter_id": pl.String, "setting": pl.String, **_POSITION},
    STAGED_ASSESSMENTS: {
        **{k: v for k, v in tables.ASSESSMENTS.items() if k != "episode_id"},
        "encounter_id": pl.String,
    },
}
"""The parts joined at the end, with where each row came from for error rows."""

DIRECT = ("people", "conditions", "imaging", "medications", "procedures", "referrals", "proms")


class SourceError(ValueError):
    """The export cannot be read: no such file, no NDJSON files, a manifest that is not one."""


@dataclass
class ImportSummary:
    """What an import read and wrote."""

    files: list[str] = field(default_factory=list)
    lines: int = 0
    resources: Counter[str] = field(default_factory=Counter)
    """Resources read, by type (unknown types included)."""
    unknown_types: Counter[str] = field(default_factory=Counter)
    """Resource types the data set does not hold, each line of them also an error row."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Resources that give no rows and are not errors (an export's OperationOutcomes)."""
    rows: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def as_json(self) -> Json:
        return {
            "files": self.files,
            "lines": self.lines,
            "resources": dict(self.resources),
            "unknown_types": dict(self.unknown_types),
            "skipped": dict(self.skipped),
            "rows": self.rows,
            "errors": self.errors,
        }


# --- Where the files are -------------------------------------------------------------------------


def _from_manifest(manifest: Path) -> list[Path]:
    try:
        data = json.loads(manifest.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise SourceError(
            f"{manifest}: not a Bulk Data manifest (unreadable JSON: {exc})"
        ) from None
    output = data.get("output") if isinstance(data, dict) else None
    if not isinstance(output, list):
        raise SourceError(f"{manifest}: not a Bulk Data manifest (no output list)")
    files = []
    for number, item in enumerate(output, 1):
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str):
            raise SourceError(f"{manifest}: output item {number} has no url")
        files.append(_local_file(manifest, url))
    return files


def _local_file(manifest: Path, url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file"):
        raise SourceError(f"{manifest}: {url} is not a local file; download the export first")
    path = Path(unquote(parsed.path))
    if not path.is_absolute():
        path = manifest.parent / path
    if not path.is_file() and (manifest.parent / path.name).is_file():
        # The export was moved: its files are beside the manifest, under their own names.
        path = manifest.parent / path.name
    if not path.is_file():
        raise SourceError(f"{manifest}: no file {path} (output item {url})")
    return path


def source_files(source: Path) -> list[Path]:
    """The NDJSON files of an export: every ``*.ndjson`` of a directory (by name), or the
    ``output`` files of a manifest (in its order)."""
    if source.is_dir():
        found = sorted(p for p in source.glob("*.ndjson") if p.is_file())
        if not found:
            raise SourceError(f"{source}: no .ndjson files in this directory")
        return found
    if source.is_file():
        return _from_manifest(source)
    raise SourceError(f"{source}: no such file or directory")


# --- Reading -------------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, bytes | None, int]]:
    """Each line's number, its bytes (None when too long) and its length in bytes."""
    with path.open("rb") as handle:
        number = 0
        while line := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            size = len(line)
            if size > MAX_LINE_BYTES and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):
                    line = handle.readline(1024 * 1024)
                    size += len(line)
                yield number, None, size
                continue
            yield number, line, size


class _Reader:
    def __init__(self, sinks: dict[str, TableSink], errors: ErrorLog) -> None:
        self.sinks = sinks
        self.errors = errors
        self.summary = ImportSummary()

    def resource(self, name: str, number: int, raw: bytes) -> None:
        try:
            resource = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            self.errors.add(name, number, None, f"not a JSON object: {exc}")
            return
        if not isinstance(resource, dict):
            self.errors.add(name, number, None, "not a JSON object")
            return
        kind = resource.get("resourceType")
        if not isinstance(kind, str):
            self.errors.add(name, number, "resourceType", "missing: not a FHIR resource")
            return
        self.summary.resources[kind] += 1
        reader = READERS.get(kind)
        if reader is None:
            if kind in SKIPPED:
                self.summary.skipped[kind] += 1
            else:
                self.summary.unknown_types[kind] += 1
                self.errors.add(name, number, "resourceType", f"{kind}: not read into a data set")
            return
        try:
            rows = reader(resource)
        except FieldError as error:
            self.errors.add(name, number, error.field, f"{kind}: {error.message}")
            return
        except (TypeError, AttributeError, KeyError, IndexError) as exc:
            # A shape no reader foresaw is still one resource's problem, not the import's.
            self.errors.add(name, number, None, f"{kind}: cannot be read ({exc!r})")
            return
        for part, row in rows:
            if part in (EPISODE_CONDITIONS, EPISODE_ENCOUNTERS):
                row = {**row, "file": name, "line": number}
            self.sinks[part].add(row)

    def file(self, path: Path, name: str, progress: Progress | None) -> None:
        lines = done = 0
        for number, raw, size in _lines(path):
            self.summary.lines += 1
            lines += 1
            done += size
            if raw is None:
                self.errors.add(name, number, None, f"longer than {MAX_LINE_BYTES:,} bytes")
            elif raw.strip():
                self.resource(name, number, raw)
            if progress is not None and lines == _PROGRESS_EVERY:
                progress(lines, done)
                lines = done = 0
        if progress is not None and (lines or done):
            progress(lines, done)


# --- Joining what waited -------------------------------------------------------------------------


def _episodes(staging: Path, out: TableSink, errors: ErrorLog) -> pl.DataFrame:
    """Writes the episodes; returns each diagnosis visit's episode (encounter_id, episode_id)."""
    conditions = pl.read_parquet(staging / f"{EPISODE_CONDITIONS}.parquet")
    encounters = pl.read_parquet(staging / f"{EPISODE_ENCOUNTERS}.parquet")
    repeated = encounters.filter(pl.col("encounter_id").is_duplicated()).filter(
        pl.int_range(pl.len()).over("encounter_id") > 0
    )
    for row in repeated.iter_rows(named=True):
        errors.add(row["file"], row["line"], "id", f"Encounter {row['encounter_id']}: repeated")
    encounters = encounters.unique("encounter_id", keep="first", maintain_order=True)
    visits = conditions.select("encounter_id", "episode_id").drop_nulls()
    alone = encounters.join(visits, on="encounter_id", how="anti", maintain_order="left")
    for row in alone.iter_rows(named=True):
        errors.add(
            row["file"],
            row["line"],
            None,
            f"Encounter {row['encounter_id']}: not the diagnosis visit of an episode "
            "(no episode's Condition refers to it)",
        )
    joined = conditions.join(
        encounters.select("encounter_id", "setting"),
        on="encounter_id",
        how="left",
        maintain_order="left",
    )
    out.add_frame(joined.select(list(tables.EPISODES)))
    return visits.unique("encounter_id", keep="first", maintain_order=True)


def _assessments(staging: Path, out: TableSink, visits: pl.DataFrame, chunk_rows: int) -> None:
    staged = pq.ParquetFile(staging / f"{STAGED_ASSESSMENTS}.parquet")
    for batch in staged.iter_batches(batch_size=chunk_rows):
        chunk = pl.from_arrow(batch)
        if not isinstance(chunk, pl.DataFrame):  # a batch is always a table
            raise TypeError("expected a table")
        joined = chunk.join(visits, on="encounter_id", how="left", maintain_order="left")
        out.add_frame(joined.select(list(tables.ASSESSMENTS)))


def _assemble(work: Path, staging: Path, chunk_rows: int, errors: ErrorLog) -> dict[str, int]:
    episodes = TableSink(tables.table_path(work, "episodes"), tables.EPISODES, table="episodes")
    visits = _episodes(staging, episodes, errors)
    assessments = TableSink(
        tables.table_path(work, "assessments"), tables.ASSESSMENTS, table="assessments"
    )
    _assessments(staging, assessments, visits, chunk_rows)
    return {"episodes": episodes.close(), "assessments": assessments.close()}


# --- The import ------------------------------------------------------------------------------


def import_fhir_bulk(
    source: Path,
    out_dir: Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> ImportSummary:
    """Reads the export at ``source`` (a directory of NDJSON files, or a manifest) into a new
    data set in ``out_dir``, with ``import-errors.csv`` and ``import-summary.json`` beside its
    tables. SourceError when the export cannot be read at all, OutputDirError when ``out_dir``
    cannot be written; anything wrong inside the files is an error row."""
    files = source_files(source)
    base = source if source.is_dir() else source.parent
    with new_directory(out_dir) as work:
        staging = work / ".staging"
        staging.mkdir()
        sinks = {
            name: TableSink(
                tables.table_path(work, name),
                tables.TABLES[name],
                table=name,
                chunk_rows=chunk_rows,
            )
            for name in DIRECT
        }
        sinks |= {
            name: TableSink(staging / f"{name}.parquet", schema, chunk_rows=chunk_rows)
            for name, schema in STAGING.items()
        }
        errors = ErrorLog(work / ERRORS_FILE)
        try:
            reader = _Reader(sinks, errors)
            for path in files:
                name = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
                reader.summary.files.append(name)
                reader.file(path, name, progress)
            rows = {name: sinks[name].close() for name in DIRECT}
            for name in STAGING:
                sinks[name].close()
            rows |= _assemble(work, staging, chunk_rows, errors)
        finally:
            errors.close()
            for sink in sinks.values():
                sink.abort()
        shutil.rmtree(staging)
        summary = reader.summary
        summary.rows = {name: rows[name] for name in tables.TABLES}
        summary.errors = errors.count
        (work / SUMMARY_FILE).write_text(
            json.dumps(summary.as_json(), indent=2) + "\n", encoding="utf-8"
        )
    return summary
