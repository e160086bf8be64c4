"""A population data set as a FHIR Bulk Data export: NDJSON files and the export manifest.

The output is what a server's ``$export`` leaves for a client (HL7 Bulk Data Access IG, "Bulk
Data Output File Request" and "Response - Complete Status"): one file per resource type
(``Patient.ndjson``, ...), one FHIR R4 resource per line, and ``manifest.json``, the body of the
complete-status response, with ``transactionTime``, ``request``, ``requiresAccessToken``,
``output`` (``type``, ``url``, ``count`` of each file) and ``error``. A row that cannot be
written, or whose kind would read back differently, is an OperationOutcome in
``OperationOutcome.ndjson``, listed under ``error`` as the IG asks; the export goes on.

The tables are read in batches and every resource is written as it is made, so memory does not
grow with the data set. The directory is written all or nothing (``output_dir``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import TextIOWrapper
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from spinepath.population import rows_to_fhir as make
from spinepath.population import tables
from spinepath.population.fhir_elements import FieldError
from spinepath.population.output_dir import new_directory

Json = dict[str, Any]
Progress = Callable[[int], None]
Maker = Callable[[dict[str, Any], int, make.Warn], list[Json]]

RESOURCE_TYPES = (
    "Patient",
    "Organization",
    "Condition",
    "Encounter",
    "Procedure",
    "ServiceRequest",
    "ImagingStudy",
    "MedicationRequest",
    "Observation",
    "QuestionnaireResponse",
)
"""The resource types an export holds, in the order of its manifest."""

MANIFEST_FILE = "manifest.json"
OUTCOMES_FILE = "OperationOutcome.ndjson"
BATCH_ROWS = 10_000
_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
"""Compact JSON, one encoder for every line (``json.dumps`` with options builds one a call)."""

_PLAN: tuple[tuple[str, Maker], ...] = (
    ("people", lambda row, _position, _warn: [make.patient(row)]),
    (
        "episodes",
        lambda row, _position, warn: [
            make.episode_condition(row, warn),
            make.episode_encounter(row),
        ],
    ),
    ("conditions", lambda row, position, warn: [make.condition(row, position, warn)]),
    ("procedures", lambda row, position, warn: [make.procedure(row, position, warn)]),
    ("referrals", lambda row, position, warn: [make.service_request(row, position, warn)]),
    ("imaging", lambda row, position, warn: [make.imaging_study(row, position, warn)]),
    ("medications", lambda row, position, warn: [make.medication_request(row, position, warn)]),
    ("proms", lambda row, position, warn: [make.prom(row, position, warn)]),
    ("assessments", lambda row, _position, _warn: [make.assessment(row)]),
)
"""Each table and how one of its rows becomes resources."""


@dataclass
class ExportSummary:
    """What an export wrote."""

    counts: dict[str, int] = field(default_factory=dict)
    """Resources written, by type."""
    errors: int = 0
    """Rows not written."""
    warnings: int = 0
    """Rows written whose kind or category would read back differently."""
    manifest: Json = field(default_factory=dict)


def check_dataset(dataset_dir: Path) -> int:
    """The number of rows of the data set; DatasetError naming a missing or malformed table."""
    if not dataset_dir.is_dir():
        raise tables.DatasetError(f"{dataset_dir}: no such data set directory")
    total = 0
    for table in tables.TABLES:
        tables.scan(dataset_dir, table)
        total += pq.ParquetFile(tables.table_path(dataset_dir, table)).metadata.num_rows
    return total


def _rows(dataset_dir: Path, table: str, batch_rows: int) -> Iterator[list[dict[str, Any]]]:
    source = pq.ParquetFile(tables.table_path(dataset_dir, table))
    for batch in source.iter_batches(batch_size=batch_rows, columns=list(tables.TABLES[table])):
        yield batch.to_pylist()


def _clinics(dataset_dir: Path) -> list[str]:
    """Every clinic a person is registered with, in order of first appearance."""
    found = (
        pl.scan_parquet(tables.table_path(dataset_dir, "people"))
        .select("clinic_id")
        .drop_nulls()
        .unique(maintain_order=True)
        .collect()
    )
    return [str(value) for value in found["clinic_id"]]


class _Files:
    """The open output files, and the problems written as OperationOutcomes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.handles: dict[str, TextIOWrapper] = {}
        self.summary = ExportSummary(counts=dict.fromkeys(RESOURCE_TYPES, 0))
        self._outcomes = 0

    def _handle(self, resource_type: str) -> TextIOWrapper:
        handle = self.handles.get(resource_type)
        if handle is None:
            path = self.directory / f"{resource_type}.ndjson"
            handle = self.handles[resource_type] = path.open("w", encoding="utf-8", newline="\n")
        return handle

    def write(self, resource: Json) -> None:
        resource_type = resource["resourceType"]
        self._handle(resource_type).write(_encode(resource) + "\n")
        self.summary.counts[resource_type] += 1

    def problem(self, table: str, position: int, error: FieldError, *, warning: bool) -> None:
        column = f", {error.field}" if error.field else ""
        self._outcomes += 1
        outcome = {
            "resourceType": "OperationOutcome",
            "id": f"row-problem-{self._outcomes}",
            "issue": [
                {
                    "severity": "warning" if warning else "error",
                    "code": "value" if warning else "invalid",
                    "diagnostics": f"{table} row {position + 1}{column}: {error.message}",
                }
            ],
        }
        self._handle("OperationOutcome").write(_encode(outcome) + "\n")
        if warning:
            self.summary.warnings += 1
        else:
            self.summary.errors += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _write_table(
    dataset_dir: Path,
    files: _Files,
    table: str,
    maker: Maker,
    batch_rows: int,
    progress: Progress | None,
) -> None:
    position = 0
    for batch in _rows(dataset_dir, table, batch_rows):
        for row in batch:
            warnings: list[FieldError] = []
            try:
                resources = maker(row, position, warnings.append)
            except FieldError as error:
                files.problem(table, position, error, warning=False)
            else:
                for resource in resources:
                    files.write(resource)
                for warning in warnings:
                    files.problem(table, position, warning, warning=True)
            position += 1
        if progress is not None:
            progress(len(batch))


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _manifest(
    dataset_dir: Path, final_dir: Path, files: _Files, transaction_time: datetime
) -> Json:
    def item(resource_type: str, count: int | None) -> Json:
        entry: Json = {
            "type": resource_type,
            "url": (final_dir / f"{resource_type}.ndjson").as_uri(),
        }
        if count is not None:
            entry["count"] = count
        return entry

    counts = files.summary.counts
    return {
        "transactionTime": instant(transaction_time),
        # No FHIR server was asked: the request names the data set the export was made from.
        "request": f"{dataset_dir.resolve().as_uri()}/$export",
        "requiresAccessToken": False,
        "output": [item(t, counts[t]) for t in RESOURCE_TYPES if counts[t]],
        "error": [item("OperationOutcome", None)] if "OperationOutcome" in files.handles else [],
    }


def write_fhir_bulk(
    dataset_dir: Path,
    out_dir: Path,
    *,
    transaction_time: datetime | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> ExportSummary:
    """Writes the data set in ``dataset_dir`` as a FHIR Bulk Data export into ``out_dir``.

    ``out_dir`` must not exist or be empty; it is written all or nothing. ``progress`` is called
    with the number of rows of each batch read. DatasetError when a table is missing or
    malformed, OutputDirError when ``out_dir`` cannot be written.
    """
    check_dataset(dataset_dir)
    moment = transaction_time or datetime.now(tz=UTC)
    final_dir = out_dir.resolve()
    with new_directory(out_dir) as work:
        files = _Files(work)
        try:
            for clinic in _clinics(dataset_dir):
                try:
                    files.write(make.organization(clinic))
                except FieldError:
                    continue  # the person's row reports the clinic id that cannot be an id
            for table, maker in _PLAN:
                _write_table(dataset_dir, files, table, maker, batch_rows, progress)
        finally:
            files.close()
        manifest = _manifest(dataset_dir, final_dir, files, moment)
        (work / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    files.summary.manifest = manifest
    return files.summary
