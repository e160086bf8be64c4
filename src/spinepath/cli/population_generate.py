"""`spinepath population generate`: a synthetic cohort of adults with back pain, as intake NDJSON
or as a whole population data set (the intakes and their care events, as Parquet tables)."""

from __future__ import annotations

import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from spinepath.cli.files import EXIT_BAD_INPUT, atomic_output
from spinepath.cli.population_group import population
from spinepath.cli.population_progress import rows_progress


class OutputFormat(StrEnum):
    ndjson = "ndjson"
    dataset = "dataset"
    fhir = "fhir"


def _fail(err: Console, message: str) -> typer.Exit:
    err.print(f"[red]{message}[/]", highlight=False)
    return typer.Exit(EXIT_BAD_INPUT)


def _write_ndjson(err: Console, people: int, seed: int, out: Path) -> None:
    from spinepath.population.generate import ndjson_chunks

    target = out.resolve()
    if target.is_dir() or not target.parent.is_dir():
        where = "it is a directory" if target.is_dir() else f"no directory {target.parent}"
        raise _fail(err, f"--out {out}: cannot write there ({where})")
    # atomic_output exits 2 naming the file when --out cannot be written.
    with atomic_output(out) as handle, rows_progress(err, "generating", people) as meter:
        for count, text in ndjson_chunks(people, seed):
            handle.write(text.encode())
            meter(count)
    err.print(f"--out {out}: {meter.summary('people')}", highlight=False)


def _write_dataset(
    err: Console, people: int, seed: int, out: Path, clinics: int, year: int, *, fhir: bool
) -> None:
    from spinepath.population.care_plan import CareSettings
    from spinepath.population.fhir_bulk_out import write_fhir_bulk
    from spinepath.population.generate_dataset import write_dataset
    from spinepath.population.output_dir import OutputDirError, new_directory

    settings = CareSettings(clinics=clinics, year=year)
    try:
        # The tables are written into a new directory beside --out, renamed to it when complete.
        with new_directory(out) as work, rows_progress(err, "generating", people) as meter:
            if fhir:
                with tempfile.TemporaryDirectory(prefix="spinepath-dataset-") as tables:
                    rows = write_dataset(
                        Path(tables), people, seed, settings=settings, progress=meter
                    )
                    write_fhir_bulk(Path(tables), work)
            else:
                rows = write_dataset(work, people, seed, settings=settings, progress=meter)
    except OutputDirError as exc:
        raise _fail(err, f"--out {exc}") from None
    except OSError as exc:
        raise _fail(err, f"--out {out}: cannot write ({exc.strerror or exc})") from None
    err.print(f"--out {out}: {meter.summary('people')}", highlight=False)
    tables = ", ".join(f"{table} {count:,}" for table, count in rows.items())
    err.print(f"--out {out}: rows per table: {tables}", highlight=False)


@population.command("generate")
def generate_command(
    people: Annotated[int, typer.Option("--people", help="How many people (1 or more).")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="The NDJSON file, or for --format dataset the directory (new or empty) to write, "
            "all or nothing.",
        ),
    ],
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same output.")] = 0,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="ndjson: one intake per line. dataset: a population data set, one Parquet file "
            "per table (people, episodes, assessments, conditions, imaging, medications, "
            "procedures, referrals, proms). fhir: the same data set as FHIR Bulk Data NDJSON "
            "(docs/population-data.md).",
        ),
    ] = OutputFormat.ndjson,
    clinics: Annotated[
        int, typer.Option("--clinics", help="How many clinics (--format dataset; 1 or more).")
    ] = 40,
    year: Annotated[
        int,
        typer.Option("--year", help="The measurement year of the diagnoses (--format dataset)."),
    ] = 2025,
) -> None:
    """Write a synthetic cohort of adults with back pain: one intake per line, or a population
    data set of the same intakes with their care events (figures and their sources:
    docs/population.md)."""
    err = Console(stderr=True)
    if people < 1:
        raise _fail(err, f"--people must be 1 or more, not {people}")
    if output_format is OutputFormat.ndjson:
        _write_ndjson(err, people, seed, out)
        return
    if clinics < 1:
        raise _fail(err, f"--clinics must be 1 or more, not {clinics}")
    if not 1900 <= year <= 2200:
        raise _fail(err, f"--year must be from 1900 to 2200, not {year}")
    _write_dataset(err, people, seed, out, clinics, year, fhir=output_format is OutputFormat.fhir)
