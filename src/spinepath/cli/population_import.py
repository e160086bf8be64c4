"""`spinepath population import` and `spinepath population export-fhir`: population data sets
read from FHIR Bulk Data NDJSON or from spinepath's own database, and written out as FHIR Bulk
Data (the mapping: docs/population-data.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from spinepath.cli.files import EXIT_BAD_INPUT
from spinepath.cli.population_group import population
from spinepath.cli.population_progress import rows_progress


class Origin(StrEnum):
    fhir = "fhir"
    store = "store"


def _fail(err: Console, message: str) -> typer.Exit:
    err.print(f"[red]{message}[/]", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _tables(rows: dict[str, int]) -> str:
    return ", ".join(f"{table} {count:,}" for table, count in rows.items())


def _import_fhir(err: Console, source: Path, out: Path) -> None:
    from spinepath.population.error_log import ERRORS_FILE
    from spinepath.population.fhir_bulk_in import SourceError, import_fhir_bulk, source_files

    try:
        total = sum(path.stat().st_size for path in source_files(source))
        with rows_progress(err, "importing", total or None, "lines") as meter:
            summary = import_fhir_bulk(source, out, progress=meter.advance)
    except SourceError as exc:
        raise _fail(err, f"--source {exc}") from None
    err.print(f"--out {out}: {meter.summary('lines read')}", highlight=False, soft_wrap=True)
    err.print(
        f"--out {out}: rows per table: {_tables(summary.rows)}", highlight=False, soft_wrap=True
    )
    if summary.unknown_types:
        kinds = ", ".join(f"{k} {n:,}" for k, n in summary.unknown_types.most_common())
        err.print(f"--out {out}: resource types not read: {kinds}", highlight=False, soft_wrap=True)
    if summary.errors:
        err.print(
            f"--out {out}: {summary.errors:,} lines or resources not read: see {out / ERRORS_FILE}",
            highlight=False,
            soft_wrap=True,
        )


def _import_store(err: Console, source: str, out: Path, as_of: datetime | None) -> None:
    from spinepath.population.error_log import ERRORS_FILE
    from spinepath.population.from_store import StoreError, count_patients, import_store

    try:
        total = count_patients(source)
    except StoreError as exc:
        raise _fail(err, f"--source {exc}") from None
    with rows_progress(err, "importing", total or None, "patients") as meter:
        try:
            summary = import_store(
                source, out, as_of=as_of.date() if as_of else None, progress=meter
            )
        except StoreError as exc:
            raise _fail(err, f"--source {exc}") from None
    err.print(f"--out {out}: {meter.summary('patients read')}", highlight=False, soft_wrap=True)
    err.print(
        f"--out {out}: rows per table: {_tables(summary.rows)}", highlight=False, soft_wrap=True
    )
    err.print(
        f"--out {out}: alerts {summary.alerts:,} (alerts.parquet)", highlight=False, soft_wrap=True
    )
    if summary.errors:
        err.print(
            f"--out {out}: {summary.errors:,} records not read: see {out / ERRORS_FILE}",
            highlight=False,
            soft_wrap=True,
        )


@population.command("import")
def import_command(
    origin: Annotated[
        Origin,
        typer.Option(
            "--from",
            help="fhir: a FHIR Bulk Data export. store: spinepath's own database.",
        ),
    ],
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="--from fhir: a directory of .ndjson files, or the export's manifest. "
            "--from store: the database URL (as SPINEPATH_DATABASE_URL).",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="The data set directory to write (new or empty), all or nothing."
        ),
    ],
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="--from store: the day follow-ups are due by (default today).",
        ),
    ] = None,
) -> None:
    """Read a population data set (docs/population-data.md) from a FHIR Bulk Data export or
    from spinepath's database. What cannot be read is listed in import-errors.csv."""
    from spinepath.population.output_dir import OutputDirError, check_target

    err = Console(stderr=True)
    try:
        check_target(out)
        if origin is Origin.fhir:
            _import_fhir(err, Path(source), out)
        else:
            _import_store(err, source, out, as_of)
    except OutputDirError as exc:
        raise _fail(err, f"--out {exc}") from None
    except OSError as exc:
        raise _fail(err, f"cannot read or write: {exc.strerror or exc}") from None


@population.command("export-fhir")
def export_fhir_command(
    dataset: Annotated[
        Path, typer.Option("--dataset", help="The population data set directory to read.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="The directory (new or empty) for the NDJSON files and manifest.json.",
        ),
    ],
) -> None:
    """Write a population data set as a FHIR Bulk Data export: one NDJSON file per resource
    type and the export manifest (docs/population-data.md)."""
    from spinepath.population.fhir_bulk_out import OUTCOMES_FILE, check_dataset, write_fhir_bulk
    from spinepath.population.output_dir import OutputDirError, check_target
    from spinepath.population.tables import DatasetError

    err = Console(stderr=True)
    try:
        total = check_dataset(dataset)
        check_target(out)
        with rows_progress(err, "exporting", total or None, "rows") as meter:
            summary = write_fhir_bulk(dataset, out, progress=meter)
    except DatasetError as exc:
        raise _fail(err, f"--dataset {exc}") from None
    except OutputDirError as exc:
        raise _fail(err, f"--out {exc}") from None
    except OSError as exc:
        raise _fail(err, f"cannot read or write: {exc.strerror or exc}") from None
    err.print(f"--out {out}: {meter.summary('rows read')}", highlight=False, soft_wrap=True)
    written = ", ".join(f"{kind} {n:,}" for kind, n in summary.counts.items() if n)
    err.print(f"--out {out}: resources: {written}", highlight=False, soft_wrap=True)
    if summary.errors or summary.warnings:
        err.print(
            f"--out {out}: {summary.errors:,} rows not written, {summary.warnings:,} that would "
            f"read back differently: see {out / OUTCOMES_FILE}",
            highlight=False,
            soft_wrap=True,
        )
