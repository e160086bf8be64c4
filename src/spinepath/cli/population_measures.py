"""`spinepath population measures`: quality measures of back-pain care over a population data set.

Reads a data set directory (docs/population.md, ``spinepath.population.tables``) and the pathway's
decisions, and writes the results directory all or nothing: it is built beside ``--out`` under a
temporary name and renamed into place only once every file is written. DuckDB's spill files, if
it needs any, are made inside that directory too and removed before the rename.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from spinepath.cli.files import fail
from spinepath.cli.population_group import population

DATE_FORMATS = ["%Y-%m-%d"]


def _cannot_write(out: Path, error: Exception) -> typer.Exit:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return fail(f"--out {out}: cannot write ({reason.lower()})")


@population.command("measures")
def measures_command(
    dataset: Annotated[Path, typer.Option("--dataset", help="The data set directory (Parquet).")],
    pathway: Annotated[
        Path, typer.Option("--pathway", help="The pathway's decisions (pathway.parquet).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="The results directory to create, all or nothing.")
    ],
    period_start: Annotated[
        datetime | None,
        typer.Option("--period-start", formats=DATE_FORMATS, help="First day of the period."),
    ] = None,
    period_end: Annotated[
        datetime | None,
        typer.Option("--period-end", formats=DATE_FORMATS, help="Last day of the period."),
    ] = None,
    memory_limit: Annotated[
        float | None,
        typer.Option(
            "--memory-limit",
            help="GiB DuckDB may hold before it spills to disk inside --out "
            "(default: a quarter of the machine's memory, at most 4).",
        ),
    ] = None,
) -> None:
    """Compute the back-pain quality measures per clinic (definitions: docs/measures/), with
    FHIR MeasureReports and gaps-in-care lists."""
    import duckdb
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from spinepath.population.measures import MEASURES, Measure, compute_measures, write_measures
    from spinepath.population.measures.memory import limit_from_gib, out_of_memory
    from spinepath.population.output_dir import OutputDirError, check_target, new_directory
    from spinepath.population.tables import DatasetError

    err = Console(stderr=True)
    if period_start and period_end and period_start > period_end:
        raise fail(
            f"--period-start {period_start:%Y-%m-%d} is after --period-end {period_end:%Y-%m-%d}"
        )
    try:
        limit = limit_from_gib(memory_limit)
    except ValueError as error:
        raise fail(f"--memory-limit {error}") from None
    try:
        check_target(out)
    except OutputDirError as error:
        raise fail(f"--out {error}") from None
    progress = Progress(
        TextColumn("measures"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[measure]}"),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    started = time.perf_counter()
    rows = 0

    def advance(measure: Measure, count: int) -> None:
        nonlocal rows
        rows += count
        elapsed = time.perf_counter() - started
        rate = f"{rows / elapsed:,.0f}" if elapsed else "0"
        progress.update(task, advance=1, measure=measure.id, rate=rate)

    try:
        # Computed straight into the directory that becomes --out, so the per-person table and
        # the gaps lists, which grow with the people, are written once and never copied.
        with new_directory(out) as temp, progress:
            task = progress.add_task("measures", total=len(MEASURES), measure="", rate="0")
            try:
                found = compute_measures(
                    dataset,
                    pathway,
                    temp,
                    start=period_start.date() if period_start else None,
                    end=period_end.date() if period_end else None,
                    progress=advance,
                    memory_limit=limit,
                )
            except DatasetError as error:
                raise fail(f"error: {error}") from None
            except duckdb.OutOfMemoryException:
                raise fail(f"error: {out_of_memory(limit)}") from None
            except duckdb.Error as error:
                if str(temp) in str(error):  # DuckDB names the file it could not write
                    raise _cannot_write(out, error) from None
                raise fail(f"error: --dataset {dataset}: cannot be read ({error})") from None
            write_measures(found, temp, memory_limit=limit)
    except OutputDirError as error:
        raise fail(f"--out {error}") from None
    except duckdb.OutOfMemoryException:
        raise fail(f"error: {out_of_memory(limit)}") from None
    except (OSError, duckdb.Error) as error:
        raise _cannot_write(out, error) from None
    elapsed = time.perf_counter() - started
    rate = rows / elapsed if elapsed > 0 else 0.0
    err.print(
        f"--out {out}: {len(MEASURES)} measures, {rows:,} person rows in {elapsed:.2f} s "
        f"({rate:,.0f} rows/s), period {found.period.start} to {found.period.end}",
        highlight=False,
        soft_wrap=True,  # one line, however long the path: scripts read it
    )
