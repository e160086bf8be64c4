"""`spinepath assess` and `spinepath schema`: one intake, a batch, or the JSON Schemas.

An intake file may also be a FHIR QuestionnaireResponse to the intake Questionnaire (`spinepath
questionnaire --fhir`), told apart by its ``resourceType``; `--format fhir` writes the
assessment as a FHIR Bundle. The FHIR models are imported only when one of these is used.

`--record RECORD.json` (a FHIR Bundle of the patient's record) fills the questions the intake
leaves unanswered and never changes an answer given; every output says which answers came from
the record (to confirm with the patient) and where the record differs from an answer.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer
from pydantic import ValidationError
from rich.console import Console

from spinepath import clock
from spinepath.cli import report
from spinepath.cli.files import (
    EXIT_BAD_INPUT,
    STDIN,
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

if TYPE_CHECKING:
    from spinepath.interop.record import RecordFact
    from spinepath.interop.record_prefill import Prefilled


class SchemaName(StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"


class AssessFormat(StrEnum):
    """``assess --format``: a report, JSON, or a FHIR R4 Bundle."""

    TEXT = "text"
    JSON = "json"
    FHIR = "fhir"


def _fhir_resource(text: str) -> bool:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False  # reported below, as for any intake
    return isinstance(data, dict) and "resourceType" in data


def _parse_response(text: str, source: str) -> Intake:
    from spinepath.interop.intake_response import ResponseError, parse

    try:
        return parse(text)
    except ResponseError as exc:
        err = Console(stderr=True)
        err.print(f"[red]{source}: the FHIR QuestionnaireResponse cannot be assessed:[/]")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _validated(text: str, source: str, prefilled: Prefilled | None = None) -> Intake:
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
            if prefilled is not None and prefilled.applied:
                err.print("  answers taken from the record:", markup=False, highlight=False)
                for line in prefilled.applied_lines():
                    err.print(f"    {line}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def parse_intake(text: str, *, source: str = "input") -> Intake:
    """Parse intake JSON, or a FHIR QuestionnaireResponse to the intake Questionnaire; raise
    ``typer.Exit`` after printing a message naming each bad field (or linkId)."""
    if _fhir_resource(text):
        return _parse_response(text, source)
    return _validated(text, source)


def _record_problems(source: str, problems: list[Any]) -> typer.Exit:
    err = Console(stderr=True)
    err.print(f"[red]{source}: the record cannot be used:[/]")
    for problem in problems:
        err.print(f"  {problem}", markup=False, highlight=False)
    return typer.Exit(EXIT_BAD_INPUT)


def read_record_facts(file: str) -> list[RecordFact]:
    """The facts of the patient's record in ``file`` (a FHIR Bundle) as of today; exits 2 naming
    the problem when it is not a searchset or collection Bundle whose resources have ids."""
    from spinepath.interop.record import record_facts
    from spinepath.interop.record_prefill import RecordError, parse_record

    source = input_name(file)
    try:
        record = parse_record(read_text_input(file, "record"))
    except RecordError as exc:
        raise _record_problems(source, exc.problems) from None
    return record_facts(record, clock.today())


def parse_intake_with_record(
    text: str, facts: list[RecordFact], *, source: str = "input"
) -> tuple[Intake, Prefilled]:
    """:func:`parse_intake`, with the record's facts filling the questions left unanswered."""
    from spinepath.interop.record_prefill import (
        Prefilled,
        RecordError,
        apply_record,
        intake_with_record,
    )

    if _fhir_resource(text):
        try:
            return intake_with_record(_parse_response(text, source), facts)
        except RecordError as exc:
            err = Console(stderr=True)
            err.print(f"[red]{source}: the intake with the record's answers is not valid:[/]")
            for problem in exc.problems:
                err.print(f"  {problem}", markup=False, highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
    answers: object = None
    with contextlib.suppress(ValueError, RecursionError):
        answers = json.loads(text)
    if not isinstance(answers, dict):
        # Nothing to fill in, and the intake's own check says what is wrong with it.
        return _validated(text, source), Prefilled()
    filled, prefilled = apply_record(answers, facts)
    return _validated(json.dumps(filled), source, prefilled), prefilled


def _print_record(prefilled: Prefilled, console: Console) -> None:
    from spinepath.interop.record_prefill import TO_CONFIRM, words

    console.print()
    console.print(f"[bold]From the patient's record[/] ({TO_CONFIRM})")
    if not prefilled.applied:
        console.print("  nothing: the record answers no question the patient left unanswered")
    for fact in prefilled.applied:
        console.print(
            f"  {fact.field}: {words(fact.value)} — {fact.source} ({fact.display})",
            markup=False,
            highlight=False,
        )
    if prefilled.differs:
        console.print()
        console.print("[bold]Record differs[/] (the patient's answers were kept and assessed)")
        for difference in prefilled.differs:
            console.print(f"  {difference}", markup=False, highlight=False)
    if prefilled.not_applied:
        console.print()
        console.print("[bold]In the record, not used[/]")
        for item in prefilled.not_applied:
            console.print(f"  {item}", markup=False, highlight=False)


def emit(assessment: Assessment, fmt: OutputFormat, prefilled: Prefilled | None = None) -> None:
    """Write the assessment; with ``prefilled``, what the record added and where it differs."""
    if fmt is OutputFormat.JSON:
        if prefilled is None:
            sys.stdout.write(assessment.model_dump_json(indent=2) + "\n")
        else:
            data = {**assessment.model_dump(mode="json"), **prefilled.as_json()}
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        console = Console()
        report.print_assessment(assessment, console)
        if prefilled is not None:
            _print_record(prefilled, console)


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
    fmt: Annotated[AssessFormat, typer.Option("--format", "-f")] = AssessFormat.TEXT,
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
    record: Annotated[
        str | None,
        typer.Option(
            "--record",
            help="The patient's record, a FHIR Bundle (searchset or collection): fills the "
            "unanswered questions, to confirm with the patient; never changes an answer.",
        ),
    ] = None,
) -> None:
    """Assess an intake (or a FHIR QuestionnaireResponse to the intake Questionnaire): urgency,
    concerns, pattern, care plan, imaging, surgical candidacy."""
    if batch is not None:
        if record is not None:
            Console(stderr=True).print("[red]--record goes with one FILE, not a --batch[/]")
            raise typer.Exit(EXIT_BAD_INPUT)
        if fmt is AssessFormat.FHIR:
            Console(stderr=True).print("[red]--format fhir assesses one FILE, not a --batch[/]")
            raise typer.Exit(EXIT_BAD_INPUT)
        raise typer.Exit(1 if _batch(batch, output) else 0)
    if file is None:
        Console(stderr=True).print("[red]give an intake FILE, - for standard input, or --batch[/]")
        raise typer.Exit(EXIT_BAD_INPUT)
    if record is not None and record == file == STDIN:
        Console(stderr=True).print("[red]the intake and the --record cannot both be stdin[/]")
        raise typer.Exit(EXIT_BAD_INPUT)
    prefilled: Prefilled | None = None
    if record is None:
        intake = parse_intake(read_text_input(file, "intake"), source=input_name(file))
    else:
        facts = read_record_facts(record)
        intake, prefilled = parse_intake_with_record(
            read_text_input(file, "intake"), facts, source=input_name(file)
        )
    assessment = assess(intake)
    if fmt is AssessFormat.FHIR:
        from spinepath.interop.assessment_bundle import assessment_bundle

        bundle = assessment_bundle(intake, assessment, recorded=datetime.now(UTC), record=prefilled)
        sys.stdout.write(bundle.model_dump_json(indent=2, exclude_none=True) + "\n")
    else:
        emit(assessment, OutputFormat(fmt.value), prefilled)


@app.command("schema")
def schema_command(name: SchemaName) -> None:
    """Print the JSON Schema of the intake or the assessment."""
    model = Intake if name is SchemaName.INTAKE else Assessment
    sys.stdout.write(json.dumps(model.model_json_schema(), indent=2) + "\n")
