"""`spinepath assess` and `spinepath schema`: one intake, a batch, or the JSON Schemas."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from pydantic import ValidationError
from rich.console import Console

from spinepath.cli import report
from spinepath.cli.options import OutputFormat
from spinepath.pathway.assessment import Assessment
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.validation import error_lines


class SchemaName(StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"


EXIT_BAD_INPUT = 2


def parse_intake(text: str, *, source: str = "input") -> Intake:
    """Parse intake JSON; raise ``typer.Exit`` after printing a message naming each bad field."""
    err = Console(stderr=True)
    try:
        return Intake.model_validate_json(text)
    except ValidationError as exc:
        messages = error_lines(exc)
        if messages and messages[0].startswith("input: Invalid JSON"):
            err.print(f"[red]{source}: not valid JSON:[/] {messages[0].split(': ', 2)[-1]}")
        else:
            err.print(f"[red]{source}: the intake is not valid:[/]")
            for line in messages:
                err.print(f"  {line}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    file = Path(path)
    if not file.is_file():
        Console(stderr=True).print(f"[red]{path}: no such file[/]")
        raise typer.Exit(EXIT_BAD_INPUT)
    return file.read_text(encoding="utf-8")


def emit(assessment: Assessment, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.JSON:
        sys.stdout.write(assessment.model_dump_json(indent=2) + "\n")
    else:
        report.print_assessment(assessment, Console())


def _ndjson_lines(stream: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def run_batch(source: Path, out: TextIO, *, show_progress: bool = True) -> tuple[int, int]:
    """Stream intakes (one JSON per line) to assessments (one JSON per line).

    A bad line becomes an error record naming the line and fields; the rest still run.
    Returns (assessed, failed).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    err = Console(stderr=True)
    total = _count_lines(source)
    assessed = failed = 0
    started = time.perf_counter()
    progress = Progress(
        TextColumn("assessing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show_progress,
    )
    with progress, source.open(encoding="utf-8") as handle:
        task = progress.add_task("assess", total=total)
        for number, line in _ndjson_lines(handle):
            try:
                intake = Intake.model_validate_json(line)
            except ValidationError as exc:
                failed += 1
                out.write(json.dumps({"line": number, "errors": error_lines(exc)}) + "\n")
            else:
                out.write(assess(intake).model_dump_json() + "\n")
                assessed += 1
            progress.advance(task)
    elapsed = time.perf_counter() - started
    rate = assessed / elapsed if elapsed > 0 else 0.0
    err.print(
        f"assessed {assessed}, failed {failed} in {elapsed:.2f} s ({rate:,.0f} assessments/s)"
    )
    return assessed, failed


app = typer.Typer()
"""The commands of this module, added to `spinepath` as they are."""


@app.command("assess")
def assess_command(
    file: Annotated[
        str | None, typer.Argument(help="Intake JSON file, or - for standard input.")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help="NDJSON file of intakes (one per line) to assess."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --batch: write NDJSON here.")
    ] = None,
) -> None:
    """Assess an intake: urgency, concerns, pattern, care plan, imaging, surgical candidacy."""
    if batch is not None:
        if not batch.is_file():
            Console(stderr=True).print(f"[red]{batch}: no such file[/]")
            raise typer.Exit(EXIT_BAD_INPUT)
        if output is None:
            _, failed = run_batch(batch, sys.stdout, show_progress=sys.stderr.isatty())
        else:
            with output.open("w", encoding="utf-8") as out:
                _, failed = run_batch(batch, out)
        raise typer.Exit(1 if failed else 0)
    if file is None:
        Console(stderr=True).print("[red]give an intake FILE, - for standard input, or --batch[/]")
        raise typer.Exit(EXIT_BAD_INPUT)
    intake = parse_intake(_read_text(file), source=file)
    emit(assess(intake), fmt)


@app.command("schema")
def schema_command(name: SchemaName) -> None:
    """Print the JSON Schema of the intake or the assessment."""
    model = Intake if name is SchemaName.INTAKE else Assessment
    sys.stdout.write(json.dumps(model.model_json_schema(), indent=2) + "\n")
