"""The `decision-aid` command: a personalised back-surgery decision aid as JSON, HTML or PDF."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from spinepath.cli.files import fail, input_name, read_text_input, write_output_atomically
from spinepath.validation import error_lines

if TYPE_CHECKING:
    from spinepath.decision_aid import ValuesAnswers
    from spinepath.decision_aid.models import DecisionAid


class AidFormat(StrEnum):
    JSON = "json"
    HTML = "html"
    PDF = "pdf"


def _print_checklist(aid: DecisionAid) -> None:
    from rich.markup import escape
    from rich.table import Table

    from spinepath.decision_aid import render_html, run_checklist
    from spinepath.decision_aid.readability import (
        GRADE_TARGET,
        overall_readability,
        section_readability,
    )

    results = run_checklist(aid, render_html(aid))
    console = Console()

    checked = Table(title="IPDAS checklist: checked by machine")
    for column in ("code", "category", "criterion", "result"):
        checked.add_column(column)
    for r in results:
        if r.checked_by_machine:
            outcome = "[green]met[/]" if r.passed else f"[red]not met:[/] {escape(r.detail)}"
            checked.add_row(r.code, r.category, escape(r.title), outcome)
    console.print(checked)

    review = Table(title="IPDAS checklist: needs human review (a program cannot check these)")
    for column in ("code", "criterion", "why"):
        review.add_column(column)
    for r in results:
        if not r.checked_by_machine:
            review.add_row(r.code, escape(r.title), escape(r.detail))
    console.print(review)

    readability = Table(
        title=f"Readability by section (target: Flesch-Kincaid grade {GRADE_TARGET:g} or below)"
    )
    for column in ("section", "words", "reading ease", "grade", ""):
        readability.add_column(column, justify="left" if column == "section" else "right")
    for s in section_readability(aid):
        flag = "[yellow]above target[/]" if s.above_target else ""
        readability.add_row(
            escape(s.title), str(s.words), f"{s.reading_ease:.0f}", f"{s.grade:.1f}", flag
        )
    readability.add_section()
    overall = overall_readability(aid)
    flag = "[red]above target[/]" if overall.above_target else "[green]within target[/]"
    readability.add_row(
        overall.title,
        str(overall.words),
        f"{overall.reading_ease:.0f}",
        f"{overall.grade:.1f}",
        flag,
    )
    console.print(readability)

    # Only a machine criterion that is not met fails the run: human review is still to be done,
    # not failed.
    if any(r.status == "not met" for r in results):
        raise typer.Exit(1)


app = typer.Typer()


@app.command("decision-aid")
def decision_aid_command(
    file: Annotated[
        str | None, typer.Argument(help="Intake JSON file, or - for standard input.")
    ] = None,
    fmt: Annotated[AidFormat, typer.Option("--format", "-f", help="Output format.")] = (
        AidFormat.HTML
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    values: Annotated[
        Path | None,
        typer.Option(
            "--values",
            help="JSON file with the values exercise: "
            '{"importance": {"fast_relief": 3}, "leaning": "unsure"}.',
        ),
    ] = None,
    fragment: Annotated[
        bool, typer.Option("--fragment", help="HTML: a fragment to embed, without <head>.")
    ] = False,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="The one-page 'my decision' summary (options, values, leaning, questions) "
            "instead of the whole aid; HTML or PDF.",
        ),
    ] = False,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON Schema of the decision aid.")
    ] = False,
    checklist: Annotated[
        bool,
        typer.Option(
            "--checklist", help="Print the IPDAS checklist for this aid; exit 1 if any fail."
        ),
    ] = False,
) -> None:
    """Build a personalised back-surgery decision aid (IPDAS-structured) from an intake."""
    from spinepath.cli.assess import parse_intake
    from spinepath.decision_aid import build_decision_aid, with_values
    from spinepath.decision_aid.models import DecisionAid
    from spinepath.pathway.engine import assess

    if schema:
        sys.stdout.write(json.dumps(DecisionAid.model_json_schema(), indent=2) + "\n")
        return
    if file is None:
        raise fail("give an intake FILE, or - for standard input (or --schema)")
    # The values file is checked before the intake, so a bad --values fails fast.
    answers = _read_values(values) if values is not None else None
    intake = parse_intake(read_text_input(file, "intake"), source=input_name(file))
    aid = build_decision_aid(intake, assess(intake))
    if answers is not None:
        try:
            aid = with_values(aid, answers)
        except ValueError as exc:
            raise fail(f"--values {values}: {exc}") from None

    if checklist:
        _print_checklist(aid)
        return

    inputs: list[str | Path] = [file] if values is None else [file, values]
    if summary:
        _emit(_render_summary(aid, fmt, fragment=fragment, output=output), output, inputs)
        return
    _emit(_render(aid, fmt, fragment=fragment, output=output), output, inputs)


def _read_values(values: Path) -> ValuesAnswers:
    from spinepath.decision_aid import ValuesAnswers

    text = read_text_input(str(values), "values file")
    try:
        return ValuesAnswers.model_validate_json(text)
    except ValidationError as exc:
        raise fail(f"--values {values}: {error_lines(exc)[0]}") from None


def _render(aid: DecisionAid, fmt: AidFormat, *, fragment: bool, output: Path | None) -> bytes:
    from spinepath.decision_aid import render_html, render_pdf

    if fmt is AidFormat.JSON:
        return (aid.model_dump_json(indent=2) + "\n").encode()
    if fmt is AidFormat.HTML:
        return render_html(aid, standalone=not fragment).encode()
    if output is None and sys.stdout.isatty():
        raise fail("a PDF is binary: give -o FILE.pdf or redirect standard output")
    return render_pdf(aid)


def _render_summary(
    aid: DecisionAid, fmt: AidFormat, *, fragment: bool, output: Path | None
) -> bytes:
    from spinepath.decision_aid import render_summary_html, render_summary_pdf

    if fmt is AidFormat.JSON or fragment:
        raise fail("--summary is a page to print: use --format html or --format pdf")
    if fmt is AidFormat.HTML:
        return render_summary_html(aid).encode()
    if output is None and sys.stdout.isatty():
        raise fail("a PDF is binary: give -o FILE.pdf or redirect standard output")
    return render_summary_pdf(aid)


def _emit(data: bytes, output: Path | None, inputs: list[str | Path]) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_output_atomically(output, data, inputs=inputs)
        Console(stderr=True).print(f"wrote {output} ({len(data):,} bytes)")
