"""Core commands: assess, schema, kb and interview."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from pydantic import ValidationError
from rich.console import Console

from spinepath import knowledge as kb
from spinepath.cli import report
from spinepath.pathway.assessment import Assessment, Level
from spinepath.pathway.engine import assess
from spinepath.pathway.intake import Intake
from spinepath.validation import error_lines


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class SchemaName(StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"


EXIT_BAD_INPUT = 2


def validation_messages(exc: ValidationError) -> list[str]:
    """One line per problem: the field path, then what is wrong with it."""
    return error_lines(exc)


def parse_intake(text: str, *, source: str = "input") -> Intake:
    """Parse intake JSON; raise ``typer.Exit`` after printing a message naming each bad field."""
    err = Console(stderr=True)
    try:
        return Intake.model_validate_json(text)
    except ValidationError as exc:
        messages = validation_messages(exc)
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


def _emit(assessment: Assessment, fmt: OutputFormat) -> None:
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
                out.write(json.dumps({"line": number, "errors": validation_messages(exc)}) + "\n")
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


def register(app: typer.Typer) -> None:
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
            Console(stderr=True).print(
                "[red]give an intake FILE, - for standard input, or --batch[/]"
            )
            raise typer.Exit(EXIT_BAD_INPUT)
        intake = parse_intake(_read_text(file), source=file)
        _emit(assess(intake), fmt)

    @app.command("schema")
    def schema_command(name: SchemaName) -> None:
        """Print the JSON Schema of the intake or the assessment."""
        model = Intake if name is SchemaName.INTAKE else Assessment
        sys.stdout.write(json.dumps(model.model_json_schema(), indent=2) + "\n")

    kb_app = typer.Typer(help="The clinical knowledge base.", no_args_is_help=True)
    app.add_typer(kb_app, name="kb")

    @kb_app.command("check")
    def kb_check(
        directory: Annotated[
            Path | None, typer.Option(help="Check this knowledge directory instead.")
        ] = None,
    ) -> None:
        """Validate the knowledge base: unique ids, every rule sourced, references resolve."""
        console = Console()
        try:
            knowledge = kb.load(directory)
        except kb.KnowledgeError as exc:
            err = Console(stderr=True)
            err.print("[red]knowledge base could not be loaded:[/]", end=" ")
            err.print(str(exc), markup=False, highlight=False)
            raise typer.Exit(1) from None
        problems = kb.check(knowledge)
        if problems:
            err = Console(stderr=True)
            err.print(f"[red]{len(problems)} problem(s) in the knowledge base:[/]")
            for problem in problems:
                err.print(f"  {problem}", markup=False, highlight=False)
            raise typer.Exit(1)
        counts: dict[str, int] = {}
        for kind, _key, _entry in knowledge.entries():
            counts[kind] = counts.get(kind, 0) + 1
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        console.print(f"[green]knowledge base {knowledge.version} is valid[/]: {summary}")

    @kb_app.command("show")
    def kb_show(
        entry_id: Annotated[
            str | None, typer.Argument(help="An entry id, e.g. RF-CES-NEW.")
        ] = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
    ) -> None:
        """Show one entry, or list every entry with its kind."""
        knowledge = kb.default()
        if entry_id is None:
            rows = [(kind, key) for kind, key, _ in knowledge.entries()]
            if fmt is OutputFormat.JSON:
                sys.stdout.write(json.dumps([{"kind": k, "id": i} for k, i in rows]) + "\n")
            else:
                report.print_entry_list(rows, Console())
            return
        found = knowledge.find(entry_id)
        if found is None:
            Console(stderr=True).print(f"[red]no knowledge-base entry with id {entry_id!r}[/]")
            raise typer.Exit(1)
        kind, entry = found
        data: dict[str, Any] = json.loads(entry.model_dump_json(exclude={"when", "ask_if"}))
        for name in ("when", "ask_if"):
            condition = getattr(entry, name, None)
            if condition is not None:
                data[name] = report.describe_condition(condition)
        data["kind"] = kind
        if fmt is OutputFormat.JSON:
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
        else:
            report.print_entry(entry_id, data, knowledge, Console())

    @app.command("interview")
    def interview_command(
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TEXT,
        save: Annotated[
            Path | None, typer.Option(help="Also save the answers as intake JSON here.")
        ] = None,
    ) -> None:
        """Ask the questions in clinical order (emergency screen first), then assess."""
        from spinepath.cli.interview import EmergencyStop, run_interview

        console = Console()
        try:
            intake = run_interview(console, kb.default())
        except EmergencyStop as stop:
            report.print_emergency_stop(stop.findings, kb.default(), console)
            raise typer.Exit(3) from None
        except EOFError:
            Console(stderr=True).print("[red]The interview ended before it was finished.[/]")
            raise typer.Exit(2) from None
        if save is not None:
            save.write_text(intake.model_dump_json(indent=2, exclude_defaults=True) + "\n")
        assessment = assess(intake)
        _emit(assessment, fmt)
        if assessment.triage.level is Level.EMERGENCY:
            raise typer.Exit(3)
