"""`spinepath assess` and `spinepath schema`: one intake, a batch, or the JSON Schemas."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from pydantic import ValidationError
from rich.console import Console

from spinepath.cli import report
from spinepath.cli.files import (
    EXIT_BAD_INPUT,
    InputError,
    atomic_output,
    count_lines,
    input_name,
    lines,
    open_input,
    read_text_input,
)
from spinepath.cli.options import OutputFormat
from spinepath.pathway.assessment import Assessment
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.validation import error_lines


class SchemaName(StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"


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


def emit(assessment: Assessment, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.JSON:
        sys.stdout.write(assessment.model_dump_json(indent=2) + "\n")
    else:
        report.print_assessment(assessment, Console())


def _record(line: str | InputError) -> str | list[str]:
    """The assessment of one line as JSON, or the messages saying why it cannot be assessed."""
    if isinstance(line, InputError):
        return [f"input: {line}"]
    try:
        intake = Intake.model_validate_json(line)
    except ValidationError as exc:
        return error_lines(exc)
    return assess(intake).model_dump_json()


def run_batch(
    source: BinaryIO, write: Callable[[str], object], *, show_progress: bool = True
) -> tuple[int, int]:
    """Stream intakes (one JSON per line) to assessments (one JSON per line), via ``write``.

    A bad line (not UTF-8, too long, not JSON, not a valid intake) becomes an error record naming
    the line and what is wrong; the rest still run. Returns (assessed, failed).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    err = Console(stderr=True)
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
    with progress:
        task = progress.add_task("assess", total=count_lines(source))
        for number, line in lines(source):
            progress.advance(task)
            if isinstance(line, str) and not line.strip():
                continue
            record = _record(line)
            if isinstance(record, str):
                write(record + "\n")
                assessed += 1
            else:
                write(json.dumps({"line": number, "errors": record}) + "\n")
                failed += 1
    elapsed = time.perf_counter() - started
    rate = assessed / elapsed if elapsed > 0 else 0.0
    err.print(
        f"assessed {assessed}, failed {failed} in {elapsed:.2f} s ({rate:,.0f} assessments/s)"
    )
    return assessed, failed


def _batch(source: Path, output: Path | None) -> int:
    """Run a batch to standard output or, all or nothing, to ``output``; the number failed."""
    with open_input(source) as handle:
        if output is None:
            _, failed = run_batch(handle, sys.stdout.write, show_progress=sys.stderr.isatty())
            return failed
        with atomic_output(output, inputs=[source]) as out:
            _, failed = run_batch(handle, lambda text: out.write(text.encode()))
        return failed


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
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="With --batch: write the NDJSON here, all or nothing; never over the input.",
        ),
    ] = None,
) -> None:
    """Assess an intake: urgency, concerns, pattern, care plan, imaging, surgical candidacy."""
    if batch is not None:
        raise typer.Exit(1 if _batch(batch, output) else 0)
    if file is None:
        Console(stderr=True).print("[red]give an intake FILE, - for standard input, or --batch[/]")
        raise typer.Exit(EXIT_BAD_INPUT)
    intake = parse_intake(read_text_input(file, "intake"), source=input_name(file))
    emit(assess(intake), fmt)


@app.command("schema")
def schema_command(name: SchemaName) -> None:
    """Print the JSON Schema of the intake or the assessment."""
    model = Intake if name is SchemaName.INTAKE else Assessment
    sys.stdout.write(json.dumps(model.model_json_schema(), indent=2) + "\n")
